/*
 * hvvfork — fills the tracer's pending table (issue 15 item 6, docs/TRACER.md):
 * WORKERS processes each block in vfork() at once (their children sleep 3 s
 * before _exit), so more than 16 fork results are in flight together and the
 * tracer must report the ones it cannot complete as trace_lost events.
 * Static (the initramfs has only busybox); prints one HVMON-GUEST line.
 *
 * `hvvfork wait MODULE MS` (issue 15, a return at a suspended probe site): one
 * parent blocks in vfork while its child creates /tmp/hvvfork.ready, waits
 * until /sys/module/MODULE/initstate reads "coming" (the module's init is
 * running: hvtamper holds the guest's int3 on kernel_clone then), sleeps MS and
 * _exits; the parent's kernel_clone returns while that int3 is there. The
 * parent prints its pid and the child's.
 *
 * `hvvfork silent N` (issue 15, docs/PROBES.md "A private kernel half"): names
 * itself "hvsilent", asks hvtamper.ko for a private kernel half (a write to
 * /proc/hvtamper_silent: its fork and exec entries then run on unprobed copies),
 * spins 300 ms in user mode (hvmon's 100 ms check samples it there: it finds the
 * private half from the user-mode CR3, KPTI's pair, and puts the kernel's back),
 * then forks N children, one every ~200 ms; each child spins 150 ms in user mode
 * and _exits; between forks the parent reads /dev/zero (kernel work). It prints its pid, the
 * children's pids and how many ended well, then execs `true hvsilent-exec` (an
 * exec of the process that had the private half).
 *
 * `hvvfork hold N` (issue 15, docs/PROBES.md "Tampering", silent): names itself
 * "hvhold", has hvtamper.ko hold the guest's int3 on kernel_clone's entry
 * (/proc/hvtamper_hold), stays quiet 2.2 s (no fork, no exec: two of hvmon's 1 s
 * windows with no fork/exec probe hit), then forks N children at once; 500 ms
 * later child i spins alone in user mode in its own 200 ms slot (i * 200 ms on),
 * so hvmon's 100 ms tick samples each of them, and all stay alive until the last
 * slot is over (distinct page-table roots); the parent then spins 1.2 s itself
 * (the check that ends the window runs in it), waits for them and has the int3
 * taken away.
 */
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define WORKERS 20

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int module_coming(const char *path)
{
	char b[16] = { 0 };
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 && !strncmp(b, "coming", 6);
}

static int wait_mode(const char *mod, long ms)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/module/%s/initstate", mod);
	pid_t c = vfork();
	if (c == 0) {
		int fd = open("/tmp/hvvfork.ready", O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		/* bounded: 30 s at most */
		for (int i = 0; i < 1500 && !module_coming(path); i++)
			sleep_ms(20);
		sleep_ms(ms);
		_exit(0);
	}
	int st;
	int ok = c > 0 && waitpid(c, &st, 0) == c;
	printf("HVMON-GUEST: hvvfork wait parent=%d child=%d ok=%d\n", (int)getpid(), (int)c, ok);
	fflush(stdout);
	return ok ? 0 : 1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int silent_mode(int n)
{
	static char zero[65536];
	char pids[512] = "";
	int ok = 0, started = 0;
	prctl(PR_SET_NAME, "hvsilent", 0, 0, 0);
	int fd = open("/proc/hvtamper_silent", O_WRONLY);
	int rc = fd >= 0 && write(fd, "1", 1) == 1;
	if (fd >= 0)
		close(fd);
	int zfd = open("/dev/zero", O_RDONLY);
	long t1 = now_ms();
	volatile unsigned long y = 0;
	while (now_ms() - t1 < 300)
		y++;
	for (int i = 0; i < n && i < 32; i++) {
		pid_t c = fork();
		if (c == 0) {
			long t0 = now_ms();
			volatile unsigned long x = 0;
			while (now_ms() - t0 < 150)
				x++;
			_exit(0);
		}
		if (c > 0) {
			started++;
			snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), "%s%d", i ? "," : "", (int)c);
		}
		long t0 = now_ms();
		while (zfd >= 0 && now_ms() - t0 < 200)
			if (read(zfd, zero, sizeof(zero)) <= 0)
				break;
	}
	for (int i = 0; i < started; i++) {
		int st;
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("HVMON-GUEST: hvvfork silent pid=%d private=%d children=%s ok=%d\n", (int)getpid(), rc, pids, ok);
	fflush(stdout);
	if (!rc || ok != n)
		return 1;
	/* its own exec: the entry runs on the copy too (what the tracer misses) */
	execl("/bin/busybox", "true", "hvsilent-exec", (char *)NULL);
	return 1;
}

/* sleep until / spin in user mode until CLOCK_MONOTONIC reaches @t ms */
static void until_ms(long t)
{
	long d = t - now_ms();
	if (d > 0)
		sleep_ms(d);
}

static void spin_until_ms(long t)
{
	volatile unsigned long x = 0;
	while (now_ms() < t)
		x++;
}

static int hold_mode(int n)
{
	char pids[512] = "";
	int ok = 0, started = 0;
	prctl(PR_SET_NAME, "hvhold", 0, 0, 0);
	int fd = open("/proc/hvtamper_hold", O_WRONLY);
	int held = fd >= 0 && write(fd, "1", 1) == 1;
	sleep_ms(2200);
	long t0 = now_ms(), slots = 500 + 200L * (n < 32 ? n : 32);
	for (int i = 0; i < n && i < 32; i++) {
		pid_t c = fork();
		if (c == 0) {
			until_ms(t0 + 500 + 200L * i);
			spin_until_ms(t0 + 500 + 200L * (i + 1));
			until_ms(t0 + slots + 100);
			_exit(0);
		}
		if (c > 0) {
			started++;
			snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), "%s%d", i ? "," : "", (int)c);
		}
	}
	until_ms(t0 + slots + 100);
	spin_until_ms(t0 + slots + 1300);
	for (int i = 0; i < started; i++) {
		int st;
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	int released = fd >= 0 && write(fd, "0", 1) == 1;
	if (fd >= 0)
		close(fd);
	printf("HVMON-GUEST: hvvfork hold pid=%d held=%d children=%s ok=%d released=%d\n", (int)getpid(), held, pids,
	       ok, released);
	fflush(stdout);
	return held && released && ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold_mode(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "silent"))
		return silent_mode(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "wait"))
		return wait_mode(argv[2], atol(argv[3]));
	int started = 0, ok = 0;
	for (int i = 0; i < WORKERS; i++) {
		pid_t w = fork();
		if (w == 0) {
			pid_t c = vfork();
			if (c == 0) {
				/* the parent stays blocked in vfork until this child ends */
				struct timespec ts = { 3, 0 };
				nanosleep(&ts, NULL);
				_exit(0);
			}
			int st;
			_exit(c > 0 && waitpid(c, &st, 0) == c ? 0 : 1);
		}
		started += w > 0;
	}
	for (int i = 0; i < started; i++) {
		int st;
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("HVMON-GUEST: hvvfork done workers=%d ok=%d\n", started, ok);
	fflush(stdout);
	return ok == WORKERS ? 0 : 1;
}
