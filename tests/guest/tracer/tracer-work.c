/*
 * tracer-work — the guest workload of tests/integration/tracer_bochs.sh (docs/TRACER.md).
 * Runs a known script of process operations and prints ITS OWN record of each
 * one, as JSON after "HVMON-GUEST: REC ", in the shape of the tracer's events
 * (docs/EVENTS.md): the test requires hvmon's events for this process tree to
 * match these records one to one. The record comes from what the system
 * returned (fork/clone results, gettid, a close-on-exec pipe that reports exec
 * failures, waitpid statuses), not from expectations.
 * Also prints the first bytes of a probed kernel function as the guest reads
 * them through /proc/kcore ("HVMON-GUEST: KTEXT ...").
 * Built static (gcc -static -pthread) by monitors/tracer.mk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void out(const char *fmt, ...)
{
	char b[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 1)
		n = sizeof(b) - 1;
	if (write(1, b, n) < 0)
		_exit(99);
}

/* JSON string (the workload only uses printable ASCII) */
static void js(char *dst, size_t n, const char *s)
{
	size_t o = 0;
	dst[o++] = '"';
	for (; *s && o + 3 < n; s++) {
		if (*s == '"' || *s == '\\')
			dst[o++] = '\\';
		dst[o++] = *s;
	}
	dst[o++] = '"';
	dst[o] = 0;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void rec_fork(pid_t parent, pid_t child, const char *kind)
{
	out("HVMON-GUEST: REC {\"event\":\"fork\",\"parent_pid\":%d,\"child_pid\":%d,\"kind\":\"%s\"}\n",
	    parent, child, kind);
}

/* exit of task pid (thread group tgid): code = exit code, sig = the killing
 * signal (0 for a normal exit), core = the kernel dumped core */
static void rec_exit_sig(pid_t pid, pid_t tgid, int code, int sig, int core)
{
	out("HVMON-GUEST: REC {\"event\":\"exit\",\"pid\":%d,\"tgid\":%d,\"code\":%d,\"signal\":%d%s}\n",
	    pid, tgid, code, sig, core ? ",\"core_dumped\":true" : "");
}

static void rec_exit(pid_t pid, pid_t tgid, int code)
{
	rec_exit_sig(pid, tgid, code, 0, 0);
}

/* the record of task pid's end from a waitpid status */
static void rec_exit_status(pid_t pid, pid_t tgid, int st)
{
	if (WIFEXITED(st))
		rec_exit_sig(pid, tgid, WEXITSTATUS(st), 0, 0);
	else
		rec_exit_sig(pid, tgid, 0, WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
}

static void rec_exec(pid_t pid, pid_t ppid, const char *file, char *const argv[], int err,
		     const char *comm_if_fail)
{
	static char buf[16384], s[4096];
	size_t o = 0;
	js(s, sizeof(s), file);
	o += snprintf(buf + o, sizeof(buf) - o, "{\"event\":\"exec\",\"pid\":%d,\"ppid\":%d,\"uid\":%d,"
		      "\"filename\":%s,\"argv\":[", pid, ppid, (int)getuid(), s);
	for (int i = 0; argv[i]; i++) {
		js(s, sizeof(s), argv[i]);
		o += snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "", s);
	}
	char comm[16];
	snprintf(comm, sizeof(comm), "%s", err ? comm_if_fail : base(file));
	js(s, sizeof(s), comm);
	o += snprintf(buf + o, sizeof(buf) - o, "],\"ok\":%s,\"err\":%d,\"comm\":%s}", err ? "false" : "true",
		      err ? -err : 0, s);
	out("HVMON-GUEST: REC %s\n", buf);
}

/* fork + exec @file with @argv; stdin/stdout redirected when >= 0. The child
 * reports an exec failure's errno through a close-on-exec pipe. Records fork,
 * exec and exit; returns the exit code. */
static int spawn(const char *file, char *const argv[], int in, int outfd, int closefd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		_exit(98);
	pid_t c = fork();
	if (c < 0)
		_exit(97);
	if (c == 0) {
		if (in >= 0)
			dup2(in, 0);
		if (outfd >= 0)
			dup2(outfd, 1);
		if (closefd >= 0)
			close(closefd);
		execv(file, argv);
		int e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(96);
		_exit(127);
	}
	close(p[1]);
	int err = 0;
	if (read(p[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	close(p[0]);
	rec_fork(getpid(), c, "process");
	rec_exec(c, getpid(), file, argv, err, "tracer-work");
	return c;
}

static int reap(pid_t c)
{
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st)) {
		out("HVMON-GUEST: tracer-work: child %d did not exit normally (status %#x)\n", c, st);
		exit(2);
	}
	rec_exit(c, c, WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

static void *thread_fn(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	rec_fork(getpid(), tid, "thread");
	rec_exit(tid, getpid(), 0);      /* glibc ends a thread with exit(0) */
	return arg;
}

/* a thread that ends itself with the raw exit syscall (code 7), not glibc's exit(0) */
static void *thread_sys_exit(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	rec_fork(getpid(), tid, "thread");
	rec_exit(tid, getpid(), 7);      /* the code passed to SYS_exit just below */
	syscall(SYS_exit, 7);
	return arg;
}

/* threads of the group-exit child: report the tid, then block or spin until
 * the main thread's exit_group kills them */
static int grp_pipe[2];
static volatile int spin_forever = 1;
static void *thread_wait(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	if (write(grp_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		_exit(95);
	if (arg)
		while (spin_forever)
			;                        /* running in user mode when zapped */
	for (;;)
		pause();                     /* blocked in the kernel when zapped */
	return NULL;
}

/* fork a child that starts 3 threads (2 blocked in pause(), 1 spinning) and then
 * calls exit_group(5) from its main thread: the kernel ends all 4 tasks. The
 * child sends the tids to us; the record uses the status waitpid reports for
 * the group (the code every task of the group exits with). */
static void group_exit_case(void)
{
	int up[2];
	if (pipe(up) || pipe(grp_pipe))
		_exit(94);
	pid_t c = fork();
	if (c < 0)
		_exit(93);
	if (c == 0) {
		pthread_t t;
		pid_t tids[3];
		for (int i = 0; i < 3; i++)
			if (pthread_create(&t, NULL, thread_wait, i == 2 ? (void *)1 : NULL))
				_exit(92);
		for (int i = 0; i < 3; i++)
			if (read(grp_pipe[0], &tids[i], sizeof(tids[i])) != sizeof(tids[i]))
				_exit(91);
		if (write(up[1], tids, sizeof(tids)) != sizeof(tids))
			_exit(90);
		syscall(SYS_exit_group, 5);
		_exit(89);
	}
	close(up[1]);
	rec_fork(getpid(), c, "process");
	pid_t tids[3];
	size_t got = 0;
	while (got < sizeof(tids)) {
		ssize_t n = read(up[0], (char *)tids + got, sizeof(tids) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(up[0]);
	close(grp_pipe[0]);
	close(grp_pipe[1]);
	int st;
	if (waitpid(c, &st, 0) != c) {
		out("HVMON-GUEST: tracer-work: waitpid(%d) failed\n", c);
		exit(2);
	}
	if (got != sizeof(tids) || !WIFEXITED(st) || WEXITSTATUS(st) != 5) {
		out("HVMON-GUEST: tracer-work: group-exit child: %zu tid bytes, status %#x\n", got, st);
		exit(2);
	}
	for (int i = 0; i < 3; i++) {
		rec_fork(c, tids[i], "thread");
		rec_exit_status(tids[i], c, st);
	}
	rec_exit_status(c, c, st);
}

/* fork a child that we kill (SIGKILL) or that faults (SIGSEGV, a null
 * dereference through a pointer the compiler cannot see is NULL, so that gcc
 * does not turn it into a trap instruction) */
static int *volatile null_ptr;
static void signal_case(int how)
{
	pid_t c = fork();
	if (c < 0)
		_exit(88);
	if (c == 0) {
		if (how == SIGSEGV)
			*null_ptr = 1;               /* null dereference */
		for (;;)
			pause();
	}
	rec_fork(getpid(), c, "process");
	if (how == SIGKILL)
		kill(c, SIGKILL);
	int st;
	if (waitpid(c, &st, 0) != c || !WIFSIGNALED(st) || WTERMSIG(st) != how) {
		out("HVMON-GUEST: tracer-work: child %d: want signal %d, status %#x\n", c, how, st);
		exit(2);
	}
	rec_exit_status(c, c, st);
}

/* first bytes of kernel function @sym as the guest reads them through /proc/kcore */
static void ktext(const char *sym)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	unsigned long long addr = 0, a;
	char t, name[256];
	size_t sl = strlen(sym);
	/* a static function may carry GCC's clone suffix (do_execveat_common.isra.0);
	 * NAME.cold is a split-off part, not the entry */
	while (f && fscanf(f, "%llx %c %255s%*[^\n]", &a, &t, name) == 3)
		if (!strcmp(name, sym) ||
		    (!strncmp(name, sym, sl) && name[sl] == '.' && !strstr(name, ".cold"))) {
			addr = a;
			break;
		}
	if (f)
		fclose(f);
	int fd = open("/proc/kcore", O_RDONLY);
	Elf64_Ehdr eh;
	unsigned char b[8];
	int ok = 0;
	if (addr && fd >= 0 && pread(fd, &eh, sizeof(eh), 0) == sizeof(eh)) {
		for (int i = 0; i < eh.e_phnum && !ok; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * sizeof(ph)) != sizeof(ph))
				break;
			if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr + 8 <= ph.p_vaddr + ph.p_memsz &&
			    pread(fd, b, 8, ph.p_offset + (addr - ph.p_vaddr)) == 8)
				ok = 1;
		}
	}
	if (fd >= 0)
		close(fd);
	if (ok)
		out("HVMON-GUEST: KTEXT %s %llx %02x%02x%02x%02x%02x%02x%02x%02x\n", sym, addr, b[0], b[1],
		    b[2], b[3], b[4], b[5], b[6], b[7]);
	else
		out("HVMON-GUEST: KTEXT %s unreadable (addr %llx, errno %d)\n", sym, addr, errno);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--child"))
		return 3;                                /* the re-exec'd copy: exit code 3 */
	if (argc > 2 && !strcmp(argv[1], "--bench-syscall")) {
		/* a syscall loop: getppid() (never probed) */
		long n = atol(argv[2]);
		unsigned long long t0 = __builtin_ia32_rdtsc();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		unsigned long long t1 = __builtin_ia32_rdtsc();
		out("HVMON-GUEST: BENCH syscall n=%ld tsc_per_op=%llu\n", n, (t1 - t0) / (n ? n : 1));
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--bench-forkexec")) {
		/* fork + exec /bin/true + wait */
		long n = atol(argv[2]);
		char *a[] = { "true", NULL };
		unsigned long long t0 = __builtin_ia32_rdtsc();
		for (long i = 0; i < n; i++) {
			pid_t c = fork();
			if (c == 0) {
				execv("/bin/true", a);
				_exit(127);
			}
			int st;
			waitpid(c, &st, 0);
		}
		unsigned long long t1 = __builtin_ia32_rdtsc();
		out("HVMON-GUEST: BENCH forkexec n=%ld tsc_per_op=%llu\n", n, (t1 - t0) / (n ? n : 1));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--ktext")) {
		for (int i = 2; i < argc; i++)
			ktext(argv[i]);
		return 0;
	}
	pid_t me = getpid();
	/* our own fork (by the shell) and exec: from the kernel's point of view */
	rec_fork(getppid(), me, "process");
	rec_exec(me, getppid(), "/modules/tracer-work", argv, 0, "");

	/* 1. N distinct programs */
	char *a_true[] = { "true", NULL }, *a_false[] = { "false", NULL };
	char *a_echo[] = { "echo", "hello", "tracer", NULL }, *a_uname[] = { "uname", "-r", NULL };
	char *a_ls[] = { "ls", "/", NULL }, *a_cat[] = { "cat", "/proc/version", NULL };
	reap(spawn("/bin/true", a_true, -1, -1, -1));
	reap(spawn("/bin/false", a_false, -1, -1, -1));
	reap(spawn("/bin/echo", a_echo, -1, -1, -1));
	reap(spawn("/bin/uname", a_uname, -1, -1, -1));
	reap(spawn("/bin/ls", a_ls, -1, -1, -1));
	reap(spawn("/bin/cat", a_cat, -1, -1, -1));

	/* 2. a pipeline: echo | wc -c */
	int pp[2];
	if (pipe(pp))
		return 2;
	char *a_e2[] = { "echo", "through", "a", "pipe", NULL }, *a_wc[] = { "wc", "-c", NULL };
	pid_t p1 = spawn("/bin/echo", a_e2, -1, pp[1], pp[0]);
	pid_t p2 = spawn("/usr/bin/wc", a_wc, pp[0], -1, pp[1]);
	close(pp[0]);
	close(pp[1]);
	reap(p1);
	reap(p2);

	/* 3. a path with spaces and long arguments (more than the tracer keeps) */
	mkdir("/tmp/dir with spaces", 0755);
	unlink("/tmp/dir with spaces/tw child");
	if (symlink("/modules/tracer-work", "/tmp/dir with spaces/tw child"))
		return 2;
	static char longs[20][200];
	char *a_long[24];
	a_long[0] = "tw child";
	a_long[1] = "--child";
	for (int i = 0; i < 20; i++) {
		memset(longs[i], 'a' + i, 150);
		longs[i][150] = 0;
		a_long[2 + i] = longs[i];
	}
	a_long[22] = NULL;
	reap(spawn("/tmp/dir with spaces/tw child", a_long, -1, -1, -1));

	/* 4. a failing exec (ENOENT): the child exits 127 */
	char *a_bad[] = { "prog", "x", NULL };
	reap(spawn("/nonexistent/prog", a_bad, -1, -1, -1));

	/* 5. a process exiting with a chosen code */
	char *a_sh[] = { "sh", "-c", "exit 42", NULL };
	reap(spawn("/bin/sh", a_sh, -1, -1, -1));

	/* 6. threads (clone with CLONE_THREAD) */
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, thread_fn, NULL))
			return 2;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	/* 7. a bounded fork burst, each child exits with its own code */
	pid_t kids[8];
	for (int i = 0; i < 8; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			return 2;
		if (kids[i] == 0)
			_exit(10 + i);
		rec_fork(me, kids[i], "process");
	}
	for (int i = 0; i < 8; i++)
		reap(kids[i]);

	/* 8. tasks that end without calling exit/exit_group themselves (our record
	 * lines reach the console before any kernel message about the fault) */
	tcdrain(1);
	signal_case(SIGKILL);                    /* killed by another process */
	signal_case(SIGSEGV);                    /* killed by its own fault */
	group_exit_case();                       /* 3 threads zapped by exit_group */
	pthread_t ts;                            /* a thread ending with SYS_exit(7) */
	if (pthread_create(&ts, NULL, thread_sys_exit, NULL) || pthread_join(ts, NULL))
		return 2;

	rec_exit(me, me, 0);                     /* what we are about to do */
	out("HVMON-GUEST: tracer-work done\n");
	return 0;
}
