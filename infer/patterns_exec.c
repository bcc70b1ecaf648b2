/*
 * infer/patterns_exec.c — where every fork and exec path meets (issue 15,
 * docs/INFER-PATTERNS.md "kernel_clone, do_execveat_common, kernel_execve"):
 *
 *  - kernel_clone: fork(2) and vfork(2) are "struct kernel_clone_args args =
 *    {...}; return kernel_clone(&args);": the first direct call after the
 *    handler's prologue, the same function in both handlers.
 *  - kernel_clone_args.exit_signal: both handlers store SIGCHLD (17) into the
 *    args on their stack ("movl $0x11, D(%rsp)") and pass "lea X(%rsp)" (or
 *    the stack pointer itself) in %rdi: the offset is D - X; kernel_clone itself compares it with
 *    SIGCHLD ("cmpl $0x11, D'(%reg)", %reg a copy of %rdi) — the cross-check.
 *  - do_execveat_common: execve(2) and execveat(2) end in "return
 *    do_execveat_common(...)" after getname*(): the last direct call of both
 *    handlers, one function.
 *  - kernel_execve: the first of the functions that follow do_execveat_common
 *    (the same source file) sharing >= 4 direct callees with it (both build a
 *    linux_binprm: alloc_bprm, bprm_execve, copy_string_kernel, free_bprm ...).
 * Runs after pt_find_dispatch (needs the handlers).
 */
#include "infer/patterns.h"
#include <Zydis/Zydis.h>

#ifdef PT_DEBUG
#include <stdio.h>
#define DBG(...) fprintf(stderr, __VA_ARGS__)
#else
#define DBG(...) do { } while (0)
#endif

#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define SIGCHLD_NR 0x11

/* First direct call after the prologue of fn; with rdi_off and sig_off: the
 * %rsp displacement loaded into %rdi last before it and of the last 32-bit
 * "mov $SIGCHLD, D(%rsp)" (P_UNKNOWN when absent). */
static uint64_t first_call(struct pctx *c, uint64_t fn, int64_t *rdi_off, int64_t *sig_off)
{
	uint64_t start = pt_skip_prologue(c, fn);
	size_t n = pt_func(c, start, 64);
	int64_t rdi = P_UNKNOWN, sig = P_UNKNOWN;
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (pi->flags & PI_CALL) {
			if (rdi_off)
				*rdi_off = rdi;
			if (sig_off)
				*sig_off = sig;
			return pt_is_text(c, pi->target) ? pi->target : 0;
		}
		if (pi->nops >= 2 && pi->op[0].kind == PO_REG && pi->op[0].reg == PR_RDI) {
			if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[1].kind == PO_REG &&
			    pi->op[1].reg == PR_RSP)
				rdi = 0;
			else if (pi->mnem == ZYDIS_MNEMONIC_LEA && pi->op[1].kind == PO_MEM &&
				 pi->op[1].base == PR_RSP && pi->op[1].index == PR_NONE)
				rdi = pi->op[1].disp;
			else
				rdi = P_UNKNOWN;
		} else if (pt_writes_reg(pi, PR_RDI)) {
			rdi = P_UNKNOWN;
		}
		if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->nops >= 2 && pi->op[0].kind == PO_MEM &&
		    pi->op[0].base == PR_RSP && pi->op[0].index == PR_NONE && pi->op[0].size == 32 &&
		    pi->op[1].kind == PO_IMM && pi->op[1].imm == SIGCHLD_NR)
			sig = pi->op[0].disp;
	}
	return 0;
}

/* In kernel_clone: "cmp $SIGCHLD, D(%reg)" with %reg holding the argument
 * (%rdi or a register copied from it before any other write). */
static int64_t exit_signal_cmp(struct pctx *c, uint64_t kc)
{
	uint64_t start = pt_skip_prologue(c, kc);
	size_t n = pt_func(c, start, 80);
	uint32_t arg = 1u << PR_RDI;
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (pi->flags & (PI_CALL | PI_END))
			return P_UNKNOWN;
		if (pi->mnem == ZYDIS_MNEMONIC_CMP && pi->nops >= 2 && pi->op[0].kind == PO_MEM &&
		    pi->op[0].base < 16 && (arg >> pi->op[0].base & 1) && pi->op[0].index == PR_NONE &&
		    pi->op[1].kind == PO_IMM && pi->op[1].imm == SIGCHLD_NR)
			return pi->op[0].disp;
		if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->nops >= 2 && pi->op[0].kind == PO_REG &&
		    pi->op[0].reg < 16 && pi->op[1].kind == PO_REG && pi->op[1].reg < 16 &&
		    pi->op[0].size == 64) {
			if (arg >> pi->op[1].reg & 1)
				arg |= 1u << pi->op[0].reg;
			else
				arg &= ~(1u << pi->op[0].reg);
			continue;
		}
		for (uint8_t r = 0; r < 16; r++)
			if ((arg >> r & 1) && pt_writes_reg(pi, r))
				arg &= ~(1u << r);
		if (!arg)
			return P_UNKNOWN;
	}
	return P_UNKNOWN;
}

static void find_kernel_clone(struct pctx *c)
{
	struct infer_profile *out = c->out;
	uint64_t hf = c->handler[NR_FORK], hv = c->handler[NR_VFORK], hc = c->handler[NR_CLONE];
	if (!hf || !hv || !hc) {
		infer_set_missing(out, INFER_P_KERNEL_CLONE, "fork/vfork/clone handlers unknown");
		infer_set_missing(out, INFER_P_KCA_EXIT_SIGNAL, "fork/vfork handlers unknown");
		return;
	}
	int64_t rf, sf, rv, sv;
	uint64_t f = first_call(c, hf, &rf, &sf);
	uint64_t v = first_call(c, hv, &rv, &sv);
	if (!f || f != v) {
		infer_set_missing(out, INFER_P_KERNEL_CLONE, "fork and vfork call no common first function");
		infer_set_missing(out, INFER_P_KCA_EXIT_SIGNAL, "kernel_clone not found");
		return;
	}
	/* clone(2) reaches it too (directly or one wrapper below) */
	uint64_t start = pt_skip_prologue(c, hc);
	size_t n = pt_func(c, start, 200);
	bool seen = false;
	for (size_t i = 0; i < n && !seen; i++)
		seen = (c->fn[i].flags & (PI_CALL | PI_JMP)) && c->fn[i].target == f;
	/* else one wrapper below (clone's handler tail-jumps to __do_sys_clone) */
	uint64_t wr[8];
	size_t nw = 0;
	for (size_t i = 0; i < n && !seen && nw < 8; i++)
		if ((c->fn[i].flags & (PI_CALL | PI_JMP)) && pt_is_text(c, c->fn[i].target) &&
		    (c->fn[i].target < start || c->fn[i].target > c->fn[n - 1].va))
			wr[nw++] = c->fn[i].target;
	for (size_t k = 0; k < nw && !seen; k++) {
		size_t m = pt_func(c, pt_skip_prologue(c, wr[k]), 200);
		for (size_t i = 0; i < m && !seen; i++)
			seen = (c->fn[i].flags & (PI_CALL | PI_JMP)) && c->fn[i].target == f;
	}
	if (!seen) {
		infer_set_missing(out, INFER_P_KERNEL_CLONE, "clone does not reach fork's callee");
		infer_set_missing(out, INFER_P_KCA_EXIT_SIGNAL, "kernel_clone not found");
		return;
	}
	infer_set_found(out, INFER_P_KERNEL_CLONE, f);
	int64_t cmp = exit_signal_cmp(c, f);
	DBG("exit_signal: fork %lld-%lld vfork %lld-%lld cmp %lld\n", (long long)sf, (long long)rf,
	    (long long)sv, (long long)rv, (long long)cmp);
	if (rf == P_UNKNOWN || sf == P_UNKNOWN || rv == P_UNKNOWN || sv == P_UNKNOWN ||
	    sf - rf != sv - rv || sf - rf < 8 || sf - rf > 256) {
		infer_set_missing(out, INFER_P_KCA_EXIT_SIGNAL, "no SIGCHLD store into fork's args");
		return;
	}
	if (cmp != sf - rf) {
		infer_set_missing(out, INFER_P_KCA_EXIT_SIGNAL,
				  "fork stores SIGCHLD at +%lld, kernel_clone compares +%lld",
				  (long long)(sf - rf), (long long)cmp);
		return;
	}
	infer_set_found(out, INFER_P_KCA_EXIT_SIGNAL, (uint64_t)cmp);
}

/* Last direct call of fn (wrappers end in "call X; ...; ret/jmp thunk"). */
static uint64_t last_call(struct pctx *c, uint64_t fn)
{
	size_t n = pt_func(c, pt_skip_prologue(c, fn), 120);
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++)
		if ((c->fn[i].flags & PI_CALL) && pt_is_text(c, c->fn[i].target))
			t = c->fn[i].target;
	return t;
}

/* Distinct direct call targets of fn (at most max) below @end: a function that
 * ends in a noreturn call (__fortify_panic) lets the linear decode run on into
 * the next one. */
static size_t callees(struct pctx *c, uint64_t fn, uint64_t end, uint64_t *t, size_t max)
{
	size_t n = pt_func(c, pt_skip_prologue(c, fn), 600), k = 0;
	for (size_t i = 0; i < n && k < max && c->fn[i].va < end; i++) {
		if (!(c->fn[i].flags & PI_CALL) || !pt_is_text(c, c->fn[i].target))
			continue;
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = t[j] == c->fn[i].target;
		if (!dup)
			t[k++] = c->fn[i].target;
	}
	return k;
}

/* Function starts in the 16 KiB after fn: 16-byte aligned addresses that hold
 * fn's own first call (call __fentry__, after an optional endbr64) or the
 * 5-byte NOP ftrace turns it into. */
struct fstarts {
	uint64_t fentry;
	uint64_t at[16];
	unsigned n;
};

static bool start_chunk(struct pctx *c, void *ctx, uint64_t va, const uint8_t *buf, size_t len)
{
	struct fstarts *f = ctx;
	static const uint8_t endbr[4] = { 0xf3, 0x0f, 0x1e, 0xfa }, nop5[5] = { 0x0f, 0x1f, 0x44, 0, 0 };
	for (size_t o = (16 - (va & 15)) & 15; o + 9 <= len && f->n < 16; o += 16) {
		size_t p = infer_memcmp(buf + o, endbr, 4) ? o : o + 4;
		bool call = buf[p] == 0xe8 &&
			    va + p + 5 + (uint64_t)(int64_t)(int32_t)((uint32_t)buf[p + 1] |
				(uint32_t)buf[p + 2] << 8 | (uint32_t)buf[p + 3] << 16 |
				(uint32_t)buf[p + 4] << 24) == f->fentry;
		if (call || !infer_memcmp(buf + p, nop5, 5))
			f->at[f->n++] = va + o;
	}
	return f->n < 16;
}

/* kernel_execve is defined right after do_execveat_common in fs/exec.c (5.10
 * to 6.12: path_noexec, uselib and __set_task_comm lie between): the first of
 * the next functions that shares >= 4 direct callees with it (both build a
 * linux_binprm: alloc_bprm, bprm_execve, copy_string_kernel, free_bprm,
 * putname); the others share at most one. */
static void find_kernel_execve(struct pctx *c, uint64_t dec)
{
	struct infer_profile *out = c->out;
	struct pinsn pi;
	struct fstarts f = { 0 };
	uint64_t va = dec;
	for (int i = 0; i < 2 && pt_decode(c, va, &pi); i++, va += pi.len) {
		if (pi.flags & PI_CALL) {
			f.fentry = pi.target;
			break;
		}
		if (pi.mnem != ZYDIS_MNEMONIC_ENDBR64)
			break;
	}
	if (!f.fentry) {
		infer_set_missing(out, INFER_P_KERNEL_EXECVE, "do_execveat_common has no entry call");
		return;
	}
	pt_chunks(c, dec + 16, dec + 0x4000, 16, start_chunk, &f);
	uint64_t a[48], b[48];
	size_t na = callees(c, dec, f.n ? f.at[0] : dec + 0x4000, a, 48);
	for (unsigned k = 0; k < f.n; k++) {
		size_t nb = callees(c, f.at[k], k + 1 < f.n ? f.at[k + 1] : dec + 0x4000, b, 48), common = 0;
		for (size_t i = 0; i < na; i++)
			for (size_t j = 0; j < nb; j++)
				common += a[i] == b[j];
		DBG("kernel_execve: candidate %llx shares %zu callees\n", (unsigned long long)f.at[k], common);
		if (common >= 4) {
			infer_set_found(out, INFER_P_KERNEL_EXECVE, f.at[k]);
			return;
		}
	}
	infer_set_missing(out, INFER_P_KERNEL_EXECVE,
			  "none of the %u functions after do_execveat_common shares 4 callees with it", f.n);
}

void pt_find_exec_fork(struct pctx *c)
{
	struct infer_profile *out = c->out;
	find_kernel_clone(c);
	uint64_t he = c->handler[NR_EXECVE], ha = c->handler[NR_EXECVEAT];
	if (!he || !ha) {
		infer_set_missing(out, INFER_P_DO_EXECVEAT_COMMON, "execve/execveat handlers unknown");
		infer_set_missing(out, INFER_P_KERNEL_EXECVE, "do_execveat_common unknown");
		return;
	}
	uint64_t e = last_call(c, he), a = last_call(c, ha);
	if (!e || e != a) {
		infer_set_missing(out, INFER_P_DO_EXECVEAT_COMMON,
				  "execve and execveat end in no common call");
		infer_set_missing(out, INFER_P_KERNEL_EXECVE, "do_execveat_common unknown");
		return;
	}
	infer_set_found(out, INFER_P_DO_EXECVEAT_COMMON, e);
	find_kernel_execve(c, e);
}
