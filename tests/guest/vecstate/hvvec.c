/*
 * hvvec — the guest's vector registers across hvmon's SSE2 seal (issue 16,
 * arch/x86/fpu.h). A static x86-64 program without libc (glibc's string
 * functions use the vector registers themselves), built -mgeneral-regs-only
 * so that the compiler never touches them either: only the asm below does.
 *   hvvec STOPFILE     fill YMM0-15 (XMM0-15 without AVX) and MXCSR with a
 *                      pattern, then check them over and over (store all,
 *                      compare with integer code) until STOPFILE exists
 *                      (checked by a raw access() every 4,096 rounds); a new
 *                      pattern every 64 rounds. Meanwhile hvmon seals datagrams
 *                      with SSE2 on its timer exits, whichever guest code they
 *                      interrupt. Prints
 *                      "HVMON-GUEST: vecstate ymm|xmm rounds R gaps G bad B"
 *                      (G: rounds during which the TSC jumped >= 20,000 ticks,
 *                      i.e. an interruption long enough to hold a seal) and
 *                      exits 0, or 1 on any mismatch (the first one printed).
 * Run by tests/guest/scenarios/net.sh next to its process workload
 * (tests/integration/net_vmx.sh checks the line).
 */
#define NR_write 1
#define NR_access 21
#define NR_exit 60

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static void out(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys3(NR_write, 1, (long)s, n);
}

static char *dec(char *p, u64 v)
{
	char t[24];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static int have_avx(void)
{
	u32 r[4], lo, hi;
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)))     /* OSXSAVE, AVX */
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;                                   /* XCR0: SSE | AVX */
}

static u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

#define MXCSR_PATTERN 0x7f80u   /* all exceptions masked, round toward zero */

static u8 want[512] __attribute__((aligned(32))), got[512] __attribute__((aligned(32)));

#define LOAD16(op) \
	op " 0(%0), %%" R "0\n\t" op " 32(%0), %%" R "1\n\t" op " 64(%0), %%" R "2\n\t" op " 96(%0), %%" R "3\n\t" \
	op " 128(%0), %%" R "4\n\t" op " 160(%0), %%" R "5\n\t" op " 192(%0), %%" R "6\n\t" op " 224(%0), %%" R "7\n\t" \
	op " 256(%0), %%" R "8\n\t" op " 288(%0), %%" R "9\n\t" op " 320(%0), %%" R "10\n\t" op " 352(%0), %%" R "11\n\t" \
	op " 384(%0), %%" R "12\n\t" op " 416(%0), %%" R "13\n\t" op " 448(%0), %%" R "14\n\t" op " 480(%0), %%" R "15\n\t"
#define STORE16(op) \
	op " %%" R "0, 0(%0)\n\t" op " %%" R "1, 32(%0)\n\t" op " %%" R "2, 64(%0)\n\t" op " %%" R "3, 96(%0)\n\t" \
	op " %%" R "4, 128(%0)\n\t" op " %%" R "5, 160(%0)\n\t" op " %%" R "6, 192(%0)\n\t" op " %%" R "7, 224(%0)\n\t" \
	op " %%" R "8, 256(%0)\n\t" op " %%" R "9, 288(%0)\n\t" op " %%" R "10, 320(%0)\n\t" op " %%" R "11, 352(%0)\n\t" \
	op " %%" R "12, 384(%0)\n\t" op " %%" R "13, 416(%0)\n\t" op " %%" R "14, 448(%0)\n\t" op " %%" R "15, 480(%0)\n\t"

/* The registers are not declared as clobbers on purpose: nothing in this
 * program (built -mgeneral-regs-only) uses them between the asm blocks. */
static void load(int avx)
{
	u32 m = MXCSR_PATTERN;
	if (avx) {
#define R "ymm"
		__asm__ volatile(LOAD16("vmovdqa") : : "r"(want) : "memory");
#undef R
	} else {
#define R "xmm"
		__asm__ volatile(LOAD16("movdqa") : : "r"(want) : "memory");
#undef R
	}
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

static u32 store(int avx)
{
	u32 m;
	if (avx) {
#define R "ymm"
		__asm__ volatile(STORE16("vmovdqa") : : "r"(got) : "memory");
#undef R
	} else {
#define R "xmm"
		__asm__ volatile(STORE16("movdqa") : : "r"(got) : "memory");
#undef R
	}
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static int run(const char *stop)
{
	int avx = have_avx();
	u64 rounds = 0, gaps = 0, seed = rdtsc() | 1;
	char line[160], *p;

	for (;;) {
		if (rounds % 64 == 0) {
			for (unsigned i = 0; i < sizeof(want); i++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				want[i] = (u8)(seed >> 56);
			}
			if (!avx)                       /* bytes 16-31 of each slot unused */
				for (unsigned r = 0; r < 16; r++)
					for (unsigned i = 16; i < 32; i++)
						want[r * 32 + i] = got[r * 32 + i] = 0;
			load(avx);
		}
		u64 t0 = rdtsc();
		for (volatile int spin = 0; spin < 200; spin++)
			;
		u32 m = store(avx);
		if (rdtsc() - t0 >= 20000)
			gaps++;
		for (unsigned i = 0; i < sizeof(want); i++) {
			if (got[i] != want[i] || m != MXCSR_PATTERN) {
				p = str(line, "HVMON-GUEST: vecstate MISMATCH round ");
				p = dec(p, rounds);
				p = str(p, m != MXCSR_PATTERN ? " mxcsr " : " byte ");
				p = dec(p, m != MXCSR_PATTERN ? m : i);
				p = str(p, "\n");
				*p = 0;
				out(line);
				return 1;
			}
		}
		rounds++;
		if (rounds % 4096 == 0 && sys3(NR_access, (long)stop, 0, 0) == 0)
			break;
	}
	p = str(line, "HVMON-GUEST: vecstate ");
	p = str(p, avx ? "ymm" : "xmm");
	p = str(p, " rounds ");
	p = dec(p, rounds);
	p = str(p, " gaps ");
	p = dec(p, gaps);
	p = str(p, " bad 0\n");
	*p = 0;
	out(line);
	return 0;
}

__attribute__((used)) static void start_c(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	int rc;
	if (argc < 2) {
		out("usage: hvvec STOPFILE\n");
		rc = 2;
	} else {
		rc = run(argv[1]);
	}
	sys3(NR_exit, rc, 0, 0);
	for (;;)
		;
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall start_c\n\thlt\n");
