/*
 * hvkeylog — the test keylogger for hvmon's keylogger detector (docs/MONITORS.md,
 * tests/integration/keylogger_bochs.sh). A user-space program that does what a
 * process-based keylogger does: it opens the keyboard's evdev node
 * (/dev/input/event*, the one whose name says "keyboard") and reads
 * `struct input_event` records with read(2). It prints every key press it read on
 * stdout (the scenario sends stdout to the guest's serial console):
 *   HVMON-GUEST: KEYLOG ready pid=P comm=C dev=/dev/input/eventN name="..."
 *   HVMON-GUEST: KEYLOG key pid=P code=C cpu=X
 *   HVMON-GUEST: KEYLOG done pid=P comm=C presses=N codes=c1,c2,...
 * Usage: hvkeylog N [alt]  — stop after N key presses (EV_KEY value 1).
 * alt (several CPUs, issue 11): after each read that returned a key press, move to the next
 * online CPU (sched_setaffinity to that one CPU), so the reads alternate between the CPUs;
 * cpu=X is the CPU the read ran on (the affinity is one CPU, so sched_getcpu() after it is that CPU).
 * There is no timeout on purpose: with Bochs's `clock: sync=none` idle guest time
 * runs far faster than the host types; the host's harness bounds the run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* alt mode: pin the caller to the online CPU after @cpu (wrapping); returns it */
static int move_to_next_cpu(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int next = n > 1 ? (int)((cpu + 1) % n) : 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(next, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		printf("HVMON-GUEST: KEYLOG error: sched_setaffinity(%d): %s\n", next, strerror(errno));
	return next;
}

static int open_keyboard(char *path, size_t plen, char *name, size_t nlen)
{
	DIR *d = opendir("/dev/input");
	struct dirent *e;
	int fd = -1;
	if (!d)
		return -1;
	while ((e = readdir(d)) && fd < 0) {
		if (strncmp(e->d_name, "event", 5))
			continue;
		snprintf(path, plen, "/dev/input/%s", e->d_name);
		int f = open(path, O_RDONLY);
		if (f < 0)
			continue;
		memset(name, 0, nlen);
		if (ioctl(f, EVIOCGNAME(nlen - 1), name) >= 0 && strstr(name, "eyboard"))
			fd = f;
		else
			close(f);
	}
	closedir(d);
	return fd;
}

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 16;
	int alt = argc > 2 && !strcmp(argv[2], "alt");
	char path[300], name[128], comm[17] = "";
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_GET_NAME, comm);
	int fd = open_keyboard(path, sizeof(path), name, sizeof(name));
	if (fd < 0) {
		printf("HVMON-GUEST: KEYLOG error: no keyboard evdev node (%s)\n", strerror(errno));
		return 2;
	}
	printf("HVMON-GUEST: KEYLOG ready pid=%d comm=%s dev=%s name=\"%s\"\n", getpid(), comm, path, name);
	struct input_event ev[64];
	char codes[4096] = "";
	size_t cl = 0;
	int presses = 0;
	if (alt)
		move_to_next_cpu(-1);         /* start on CPU 0 */
	while (presses < want) {
		ssize_t n = read(fd, ev, sizeof(ev));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			printf("HVMON-GUEST: KEYLOG error: read: %s\n", strerror(errno));
			return 3;
		}
		int cpu = sched_getcpu(), pressed = 0;
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			if (ev[i].type != EV_KEY || ev[i].value != 1)
				continue;
			presses++;
			pressed = 1;
			printf("HVMON-GUEST: KEYLOG key pid=%d code=%u cpu=%d\n", getpid(), ev[i].code, cpu);
			if (cl < sizeof(codes) - 8)
				cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%u", cl ? "," : "",
						       ev[i].code);
		}
		if (alt && pressed)
			move_to_next_cpu(cpu);
	}
	printf("HVMON-GUEST: KEYLOG done pid=%d comm=%s presses=%d codes=%s\n", getpid(), comm, presses,
	       codes);
	return 0;
}
