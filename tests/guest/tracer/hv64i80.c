/*
 * hv64i80 — a static x86-64 program that forks, execs and exits through
 * `int $0x80` from 64-bit code: the i386 system-call table, with CS 0x33 saved
 * in its registers (issue 15, docs/TRACER.md "ABI"). Freestanding (gcc -static
 * -nostdlib -no-pie): every pointer the i386 calls take lies in .data/.bss,
 * below 4 GiB (that path reads 32-bit registers).
 *   hv64i80   fork (int $0x80, 2); the child execs /bin/busybox true hv64i80-child
 *             (execve, int $0x80, 11, argv an array of 32-bit pointers: the
 *             compat execve); the parent waits (waitpid, 7), prints
 *             "HVMON-GUEST: I80X64 parent=P child=C status=0xS" and exits with
 *             code 6 (exit, int $0x80, 1).
 * The tracer must report: fork P->C "abi":"i386" 2 and exec C "i386" 11 (told
 * from the kernel's state: the fork-family number, the compat argv); the exits
 * C "x64" 231 (busybox's exit_group) and P "i386" 1 (the kernel's TS_COMPAT mark
 * in thread_info.status, an inferred parameter: docs/TRACER.md).
 */
#define NR_exit 1
#define NR_fork 2
#define NR_write 4
#define NR_waitpid 7
#define NR_execve 11
#define NR_getpid 20

static long int80(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return r;
}

static char path[] = "/bin/busybox", a1[] = "true", a2[] = "hv64i80-child";
static unsigned int argv32[4], envp32[1];
static int status = -1;
static char buf[128];

static char *put(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, unsigned v, unsigned base)
{
	char t[12];
	int n = 0;
	do {
		t[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

void cmain(void)
{
	long parent = int80(NR_getpid, 0, 0, 0);
	long child = int80(NR_fork, 0, 0, 0);
	if (child == 0) {
		argv32[0] = (unsigned int)(unsigned long)path;
		argv32[1] = (unsigned int)(unsigned long)a1;
		argv32[2] = (unsigned int)(unsigned long)a2;
		argv32[3] = 0;
		envp32[0] = 0;
		int80(NR_execve, (long)path, (long)argv32, (long)envp32);
		int80(NR_exit, 99, 0, 0);
	}
	int80(NR_waitpid, child, (long)&status, 0);
	char *p = buf;
	p = put(p, "HVMON-GUEST: I80X64 parent=");
	p = put_num(p, (unsigned)parent, 10);
	p = put(p, " child=");
	p = put_num(p, (unsigned)child, 10);
	p = put(p, " status=0x");
	p = put_num(p, (unsigned)status, 16);
	p = put(p, "\n");
	int80(NR_write, 1, (long)buf, (long)(p - buf));
	int80(NR_exit, 6, 0, 0);
}

__asm__(".globl _start\n"
	"_start:\n"
	"	and $-16, %rsp\n"
	"	call cmain\n"
	"	hlt\n");
