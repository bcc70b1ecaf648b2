/*
 * rtspin — user-space scheduler starvation for hvmon's hang detector, kind `no_switch`
 * (docs/MONITORS.md; run by tests/guest/scenarios/hang.sh, trigger `rtspin`).
 *
 * Usage: rtspin SECS TSC_KHZ
 *   Makes itself SCHED_FIFO 99, announces the start on the kernel log through
 *   /proc/faultinj ("log rtspin SECS start" -> "FAULTINJ: rtspin SECS start pid=P comm=rtspin
 *   tsc=T", the same clock as hvmon's tsc=), then spins SECS seconds of TSC time in user mode
 *   (TSC_KHZ = the guest kernel's tsc_khz, printed by faultinj as "FAULTINJ: ready tsc_khz=").
 *   The loop makes no system call (RDTSC + PAUSE only), so the vCPU stays at CPL 3 except
 *   for interrupts. With RT throttling off (sched_rt_runtime_us = -1, set by the scenario)
 *   no other task of the normal or RT classes runs on a single vCPU for SECS seconds.
 * Prints "HVMON-GUEST: rtspin done pid=P loops=N" afterwards; exit 0, or 1 with a message.
 * Built static by `make build/tests/guest/rtspin` (monitors/hang.mk).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

static int fi_write(const char *cmd)
{
	int fd = open("/proc/faultinj", O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n == (ssize_t)strlen(cmd) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char *e1, *e2;
	if (argc != 3) {
		fprintf(stderr, "usage: rtspin SECS TSC_KHZ\n");
		return 1;
	}
	unsigned long secs = strtoul(argv[1], &e1, 10), khz = strtoul(argv[2], &e2, 10);
	if (*e1 || *e2 || !secs || secs > 3600 || !khz || khz > 100000000UL) {
		fprintf(stderr, "rtspin: bad SECS or TSC_KHZ\n");
		return 1;
	}
	struct sched_param sp = { .sched_priority = 99 };
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		printf("HVMON-GUEST: rtspin sched_setscheduler failed: %s\n", strerror(errno));
		return 1;
	}
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "log rtspin %lu start", secs);
	fflush(stdout);
	if (fi_write(cmd)) {
		printf("HVMON-GUEST: rtspin cannot write /proc/faultinj: %s\n", strerror(errno));
		return 1;
	}
	uint64_t end = __rdtsc() + (uint64_t)secs * khz * 1000ULL, loops = 0;
	while (__rdtsc() < end) {       /* no system call in here */
		_mm_pause();
		loops++;
	}
	snprintf(cmd, sizeof(cmd), "log rtspin %lu end", secs);
	fi_write(cmd);
	printf("HVMON-GUEST: rtspin done pid=%d loops=%llu\n", (int)getpid(), (unsigned long long)loops);
	return 0;
}
