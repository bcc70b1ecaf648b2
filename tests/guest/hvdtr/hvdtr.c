/*
 * hvdtr — user-mode descriptor-table instructions under hvmon's descriptor-table
 * exiting (docs/ARCHITECTURE.md "Descriptor-table exiting"; issue 15). Bochs's
 * broadwell_ult has no UMIP, so SGDT/SIDT/SLDT/STR at CPL 3 exit and hvmon
 * emulates them: the values must be the kernel's, and a bad operand must fault
 * exactly as on the processor — #PF with the address (CR2 = si_addr) and the
 * error code (REG_ERR) of SDM Vol. 3A 4.7, #GP for a non-canonical address — and a
 * store split over a mapped and an unmapped page writes nothing. LGDT at CPL 3
 * is the processor's own #GP, before any exit (SDM 26.1.1).
 * Output: "HVDTR: ..." lines, checked by tests/integration/core_hvtest.sh, written
 * to /dev/kmsg when it opens (one kernel log record each: whole lines on the
 * console even while the kernel prints), else to stdout.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static int out = 1;

static void say(const char *fmt, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(out, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

static sigjmp_buf jb;
static volatile long trapno, err;
static volatile uintptr_t addr;

static void on_segv(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	(void)sig;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	err = uc->uc_mcontext.gregs[REG_ERR];
	addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

/* SGDT to @p: 0 if it completed, else 1 with trapno/err/addr set */
static int try_sgdt(void *p)
{
	trapno = err = -1;
	addr = 0;
	if (sigsetjmp(jb, 1))
		return 1;
	asm volatile("sgdt (%0)" : : "r"(p) : "memory");
	return 0;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	int k = open("/dev/kmsg", O_WRONLY);
	if (k >= 0)
		out = k;

	uint8_t g[10], i[10];
	uint16_t tr_m = 0xffff, ldt_m = 0xffff;
	unsigned long tr_r = ~0UL, ldt_r = ~0UL;
	uint64_t gb, ib;
	asm volatile("sgdt %0" : "=m"(g));
	asm volatile("sidt %0" : "=m"(i));
	asm volatile("str %0" : "=m"(tr_m));
	asm volatile("str %k0" : "=r"(tr_r));
	asm volatile("sldt %0" : "=m"(ldt_m));
	asm volatile("sldt %k0" : "=r"(ldt_r));
	memcpy(&gb, g + 2, 8);
	memcpy(&ib, i + 2, 8);
	say("HVDTR: sgdt base=%#lx limit=%#x sidt base=%#lx limit=%#x str_m=%#x str_r=%#lx sldt_m=%#x sldt_r=%#lx\n",
	       (unsigned long)gb, g[0] | g[1] << 8, (unsigned long)ib, i[0] | i[1] << 8, tr_m, tr_r, ldt_m, ldt_r);

	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		say("HVDTR: mmap failed\n");
		return 1;
	}
	munmap(m + pg, pg);                      /* the second page: unmapped */
	int f = try_sgdt(m + pg + 16);
	say("HVDTR: unmapped faulted=%d trap=%ld err=%ld addr_ok=%d\n", f, trapno, err, addr == (uintptr_t)(m + pg + 16));
	memset(m + pg - 4, 0xaa, 4);
	f = try_sgdt(m + pg - 4);                /* 4 bytes on the mapped page, 6 on the unmapped one */
	int untouched = m[pg - 4] == 0xaa && m[pg - 3] == 0xaa && m[pg - 2] == 0xaa && m[pg - 1] == 0xaa;
	say("HVDTR: split faulted=%d trap=%ld err=%ld addr_ok=%d first_untouched=%d\n", f, trapno, err,
	       addr == (uintptr_t)(m + pg), untouched);
	mprotect(m, pg, PROT_READ);
	f = try_sgdt(m + 8);
	say("HVDTR: readonly faulted=%d trap=%ld err=%ld addr_ok=%d\n", f, trapno, err, addr == (uintptr_t)(m + 8));
	f = try_sgdt((void *)0x0000800000000000UL);   /* non-canonical: #GP(0) */
	say("HVDTR: noncanonical faulted=%d trap=%ld err=%ld\n", f, trapno, err);
	trapno = err = -1;
	if (!sigsetjmp(jb, 1)) {
		asm volatile("lgdt %0" : : "m"(g));   /* CPL 3: the processor's #GP */
		say("HVDTR: lgdt faulted=0\n");
	} else {
		say("HVDTR: lgdt faulted=1 trap=%ld err=%ld\n", trapno, err);
	}
	say("HVDTR: done\n");
	return 0;
}
