/*
 * hvvfork — fills the tracer's pending table (issue 15 item 6, docs/TRACER.md):
 * WORKERS processes each block in vfork() at once (their children sleep 3 s
 * before _exit), so more than 16 fork results are in flight together and the
 * tracer must report the ones it cannot complete as trace_lost events.
 * Static (the initramfs has only busybox); prints one HVMON-GUEST line.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define WORKERS 20

int main(void)
{
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
