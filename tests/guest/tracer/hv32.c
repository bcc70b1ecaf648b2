/*
 * hv32 — a static i386 program for the process tracer's ABI proof (issue 15,
 * docs/TRACER.md "ABI"). Built freestanding with gcc -m32 -nostdlib (no 32-bit
 * libc needed); every system call is made by hand:
 *   hv32          fork (int $0x80), the child execs "/modules/hv32 child"
 *                 (execve, int $0x80), the parent waits (waitpid, int $0x80),
 *                 prints "HVMON-GUEST: I386 parent=P child=C status=0xS
 *                 sysinfo=0|1" and exits with code 3 (exit, int $0x80);
 *   hv32 child    exits with code 4 through the vDSO's __kernel_vsyscall
 *                 (AT_SYSINFO: sysenter on Intel CPUs), or int $0x80 without it.
 * The tracer must report exactly: fork P->C, exec C, exit C (4), exit P (3), each
 * with "abi":"i386" and the i386 syscall number (2, 11, 1, 1).
 */
#define NR_exit 1
#define NR_fork 2
#define NR_write 4
#define NR_waitpid 7
#define NR_execve 11
#define NR_getpid 20
#define AT_SYSINFO 32

static unsigned long vsyscall;

static long int80(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static long vsys1(long n, long a)
{
	long r;
	__asm__ volatile("call *%[f]" : "=a"(r) : "a"(n), "b"(a), [f] "m"(vsyscall)
			 : "memory", "ecx", "edx");
	return r;
}

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

void cmain(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	char **e = envp;
	while (*e)
		e++;
	for (unsigned long *aux = (unsigned long *)(e + 1); aux[0]; aux += 2)
		if (aux[0] == AT_SYSINFO)
			vsyscall = aux[1];
	if (argc >= 2 && argv[1][0] == 'c') {          /* "child": after the exec */
		if (vsyscall)
			vsys1(NR_exit, 4);
		int80(NR_exit, 4, 0, 0);
	}
	long parent = int80(NR_getpid, 0, 0, 0);
	long child = int80(NR_fork, 0, 0, 0);
	if (child == 0) {
		static char path[] = "/modules/hv32", a0[] = "hv32", a1[] = "child";
		char *av[] = { a0, a1, 0 };
		int80(NR_execve, (long)path, (long)av, (long)envp);
		int80(NR_exit, 99, 0, 0);
	}
	int st = -1;
	int80(NR_waitpid, child, (long)&st, 0);
	char buf[128], *p = buf;
	p = put(p, "HVMON-GUEST: I386 parent=");
	p = put_num(p, (unsigned)parent, 10);
	p = put(p, " child=");
	p = put_num(p, (unsigned)child, 10);
	p = put(p, " status=0x");
	p = put_num(p, (unsigned)st, 16);
	p = put(p, vsyscall ? " sysinfo=1\n" : " sysinfo=0\n");
	int80(NR_write, 1, (long)buf, (long)(p - buf));
	int80(NR_exit, 3, 0, 0);
}

__asm__(".globl _start\n"
	"_start:\n"
	"	mov %esp, %eax\n"
	"	and $-16, %esp\n"
	"	sub $12, %esp\n"
	"	push %eax\n"
	"	call cmain\n"
	"	hlt\n");
