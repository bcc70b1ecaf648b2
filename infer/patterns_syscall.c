/*
 * infer/patterns_syscall.c — syscall path by design patterns:
 *   "the OS must program IA32_LSTAR"  -> entry_SYSCALL_64
 *   entry: swapgs; save user rsp to %gs:; mov %gs:X,%rsp -> top-of-stack slot;
 *          mov %rsp,%rdi; call do_syscall_64
 *   do_syscall_64: bound check against NR_syscalls, then either
 *          call *sys_call_table(,%rax,8)      (table dispatch)
 *          call x64_sys_call                   (switch dispatch, 6.9+/6.1.192+)
 *   switch kernels: the compare tree is emulated for every nr, and
 *          sys_call_table is the one array of text pointers equal to it.
 */
#include <Zydis/Zydis.h>
#include "infer/patterns.h"
#ifdef PT_DEBUG
#include <stdio.h>
#define DBG(...) fprintf(stderr, __VA_ARGS__)
#else
#define DBG(...) do { } while (0)
#endif

#define MSR_LSTAR 0xc0000082u

struct hits { uint64_t va[64]; size_t n; };
static bool hit_cb(void *ctx, uint64_t va)
{
	struct hits *h = ctx;
	if (h->n < 64)
		h->va[h->n++] = va;
	return h->n < 64;
}

/* Entry shape: [endbr64] swapgs; within 4 insns "mov %rsp,%gs:S". */
static bool entry_shape(struct pctx *c, uint64_t va, uint64_t *top_slot)
{
	struct pinsn pi;
	int i = 0;
	bool swapgs = false, save = false;
	for (; i < 40; i++) {
		if (!pt_decode(c, va, &pi))
			return false;
		if (!swapgs) {
			if (pi.mnem == ZYDIS_MNEMONIC_SWAPGS)
				swapgs = true;
			else if (pi.mnem != ZYDIS_MNEMONIC_ENDBR64 && pi.mnem != ZYDIS_MNEMONIC_NOP)
				return false;
		} else if (!save) {
			if (pi.mnem == ZYDIS_MNEMONIC_MOV && pi.op[0].kind == PO_MEM && pi.op[0].gs &&
			    pi.op[1].kind == PO_REG && pi.op[1].reg == PR_RSP)
				save = true;
			else if (i > 4)
				return false;
		} else {
			/* mov %gs:X,%rsp: the kernel stack top */
			if (pi.mnem == ZYDIS_MNEMONIC_MOV && pi.op[0].kind == PO_REG &&
			    pi.op[0].reg == PR_RSP && pi.op[1].kind == PO_MEM && pi.op[1].gs &&
			    pi.op[1].index == PR_NONE) {
				*top_slot = pi.op[1].ea;
				return true;
			}
		}
		va += pi.len;
	}
	return false;
}

/* Around a "mov $0xc0000082,%ecx|%edi": the kernel-text immediate loaded
 * between the previous call/wrmsr and the next one. */
static uint64_t lstar_value_near(struct pctx *c, uint64_t msr_insn)
{
	size_t n = pt_window_before(c, msr_insn, 48);
	uint64_t val = 0;
	for (size_t i = n; i-- > 0;) {
		struct pinsn *pi = &c->fn[i];
		if ((pi->flags & PI_CALL) || pi->mnem == ZYDIS_MNEMONIC_WRMSR || (pi->flags & PI_END))
			break;
		if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_REG && pi->op[0].size == 64 &&
		    pi->op[1].kind == PO_IMM && pt_is_text(c, pi->op[1].imm))
			return pi->op[1].imm;
		if (pi->mnem == ZYDIS_MNEMONIC_LEA && pi->op[1].kind == PO_MEM &&
		    pi->op[1].base == PR_RIP && pt_is_text(c, pi->op[1].ea))
			return pi->op[1].ea;
	}
	/* native wrmsr: the value split in %eax (low) / %edx (high) immediates */
	bool have_lo = false, have_hi = false; uint32_t lo = 0, hi = 0;
	for (size_t i = n; i-- > 0;) {
		struct pinsn *pi = &c->fn[i];
		if ((pi->flags & PI_CALL) || pi->mnem == ZYDIS_MNEMONIC_WRMSR || (pi->flags & PI_END))
			break;
		if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_REG && pi->op[0].size == 32 &&
		    pi->op[1].kind == PO_IMM) {
			if (pi->op[0].reg == PR_RAX && !have_lo) { lo = (uint32_t)pi->op[1].imm; have_lo = true; }
			if (pi->op[0].reg == PR_RDX && !have_hi) { hi = (uint32_t)pi->op[1].imm; have_hi = true; }
		}
	}
	struct pinsn pi;
	uint64_t va = msr_insn;
	for (int i = 0; i < 10; i++) {
		if (!pt_decode(c, va, &pi))
			break;
		if (i && ((pi.flags & PI_CALL) || pi.mnem == ZYDIS_MNEMONIC_WRMSR || (pi.flags & PI_END)))
			break;
		if (pi.mnem == ZYDIS_MNEMONIC_MOV && pi.op[0].kind == PO_REG && pi.op[0].size == 64 &&
		    pi.op[1].kind == PO_IMM && pt_is_text(c, pi.op[1].imm))
			val = pi.op[1].imm;
		if (pi.mnem == ZYDIS_MNEMONIC_LEA && pi.op[1].kind == PO_MEM &&
		    pi.op[1].base == PR_RIP && pt_is_text(c, pi.op[1].ea))
			val = pi.op[1].ea;
		if (val)
			return val;
		if (pi.mnem == ZYDIS_MNEMONIC_MOV && pi.op[0].kind == PO_REG && pi.op[0].size == 32 &&
		    pi.op[1].kind == PO_IMM) {
			if (pi.op[0].reg == PR_RAX) { lo = (uint32_t)pi.op[1].imm; have_lo = true; }
			if (pi.op[0].reg == PR_RDX) { hi = (uint32_t)pi.op[1].imm; have_hi = true; }
		}
		if (pi.mnem == ZYDIS_MNEMONIC_WRMSR && have_lo && have_hi &&
		    pt_is_text(c, (uint64_t)hi << 32 | lo))
			return (uint64_t)hi << 32 | lo;
		va += pi.len;
	}
	if (have_lo && have_hi && pt_is_text(c, (uint64_t)hi << 32 | lo))
		return (uint64_t)hi << 32 | lo;
	return 0;
}

void pt_find_entry(struct pctx *c)
{
	struct infer_profile *out = c->out;
	uint64_t top = 0;
	if (c->h->have_lstar) {
		if (entry_shape(c, c->h->lstar, &top)) {
			c->entry = c->h->lstar;
		} else {
			infer_set_missing(out, INFER_P_ENTRY_SYSCALL_64,
					  "LSTAR target lacks the swapgs/stack-switch shape");
			return;
		}
	} else {
		if (!c->text_lo) {
			infer_set_missing(out, INFER_P_ENTRY_SYSCALL_64, "no LSTAR hint and no text range");
			return;
		}
		static const uint8_t needle[4] = { 0x82, 0x00, 0x00, 0xc0 };
		struct hits *hs = infer_alloc(c->a, sizeof(*hs));
		if (!hs)
			return;
		infer_scan(c->rd, c->text_lo, c->text_hi, needle, 4, 64, hit_cb, hs);
		uint64_t cand = 0; unsigned ncand = 0;
		for (size_t i = 0; i < hs->n; i++) {
			struct pinsn pi;
			uint64_t at = hs->va[i] - 1;
			if (!pt_decode(c, at, &pi) || pi.mnem != ZYDIS_MNEMONIC_MOV ||
			    pi.op[0].kind != PO_REG || pi.op[1].kind != PO_IMM ||
			    (uint32_t)pi.op[1].imm != MSR_LSTAR ||
			    (pi.op[0].reg != PR_RCX && pi.op[0].reg != PR_RDI))
				continue;
			uint64_t v = lstar_value_near(c, at);
			uint64_t t;
			if (!v || !entry_shape(c, v, &t))
				continue;
			if (cand != v) { ncand++; cand = v; top = t; }
		}
		if (ncand != 1) {
			infer_set_missing(out, INFER_P_ENTRY_SYSCALL_64,
					  "%u distinct LSTAR writes with an entry shape (need 1)", ncand);
			return;
		}
		c->entry = cand;
	}
	infer_set_found(out, INFER_P_ENTRY_SYSCALL_64, c->entry);
	if (top)
		infer_set_found(out, INFER_P_PCPU_TOP_OF_STACK, top);
	else
		infer_set_missing(out, INFER_P_PCPU_TOP_OF_STACK, "no mov %%gs:X,%%rsp in entry");
}

/* ---- switch emulation ---------------------------------------------------- */

static bool cond_taken(int m, uint64_t a, uint64_t b, unsigned bits)
{
	if (bits == 32) { a = (uint32_t)a; b = (uint32_t)b; }
	int64_t sa = bits == 32 ? (int64_t)(int32_t)a : (int64_t)a;
	int64_t sb = bits == 32 ? (int64_t)(int32_t)b : (int64_t)b;
	switch (m) {
	case ZYDIS_MNEMONIC_JZ:   return a == b;
	case ZYDIS_MNEMONIC_JNZ:  return a != b;
	case ZYDIS_MNEMONIC_JNBE: return a > b;
	case ZYDIS_MNEMONIC_JNB:  return a >= b;
	case ZYDIS_MNEMONIC_JB:   return a < b;
	case ZYDIS_MNEMONIC_JBE:  return a <= b;
	case ZYDIS_MNEMONIC_JNLE: return sa > sb;
	case ZYDIS_MNEMONIC_JNL:  return sa >= sb;
	case ZYDIS_MNEMONIC_JL:   return sa < sb;
	case ZYDIS_MNEMONIC_JLE:  return sa <= sb;
	default: return false;
	}
}

/* Run the dispatcher's compare tree with the syscall number nr in the
 * second argument register; returns the handler it reaches (0 = failed). */
static uint64_t emulate_switch(struct pctx *c, uint64_t fn, uint64_t nr)
{
	uint64_t val[16]; uint32_t known = 1u << PR_RSI;
	val[PR_RSI] = nr;
	uint64_t pc = pt_skip_prologue(c, fn);
	/* the instrumentation call every function starts with (__fentry__) */
	uint64_t fentry = 0;
	for (uint64_t va = fn; va < pc;) {
		struct pinsn q;
		if (!pt_decode(c, va, &q)) break;
		if (q.flags & PI_CALL) fentry = q.target;
		va += q.len;
	}
	bool cmp_valid = false; uint64_t ca = 0, cb = 0; unsigned cbits = 64;
	int decisions = 0;
	for (int step = 0; step < 200; step++) {
		struct pinsn pi;
		if (!pt_decode(c, pc, &pi))
			return 0;
		uint64_t next = pc + pi.len;
		const struct pop *o0 = &pi.op[0], *o1 = &pi.op[1];
		if (pi.mnem == ZYDIS_MNEMONIC_CMP && o0->kind == PO_REG && o0->reg < 16 &&
		    (known & (1u << o0->reg)) && o1->kind == PO_IMM) {
			ca = val[o0->reg]; cb = o1->imm; cbits = o0->size; cmp_valid = true;
			pc = next; continue;
		}
		if (pi.mnem == ZYDIS_MNEMONIC_TEST && o0->kind == PO_REG && o1->kind == PO_REG &&
		    o0->reg == o1->reg && o0->reg < 16 && (known & (1u << o0->reg))) {
			ca = val[o0->reg]; cb = 0; cbits = o0->size; cmp_valid = true;
			pc = next; continue;
		}
		if (pi.flags & PI_JCC) {
			if (!cmp_valid)
				return decisions ? pc : 0;
			pc = cond_taken(pi.mnem, ca, cb, cbits) ? pi.target : next;
			decisions++;
			continue;
		}
		if (pi.flags & PI_JMP) { pc = pi.target; continue; }
		if (pi.mnem == ZYDIS_MNEMONIC_MOV && o0->kind == PO_REG && o1->kind == PO_REG &&
		    o0->reg < 16 && o1->reg < 16 && (known & (1u << o1->reg)) && decisions == 0) {
			val[o0->reg] = o0->size == 32 ? (uint32_t)val[o1->reg] : val[o1->reg];
			known |= 1u << o0->reg; pc = next; continue;
		}
		if ((pi.mnem == ZYDIS_MNEMONIC_SUB || pi.mnem == ZYDIS_MNEMONIC_ADD) &&
		    o0->kind == PO_REG && o0->reg < 16 && (known & (1u << o0->reg)) &&
		    o1->kind == PO_IMM && decisions == 0) {
			uint64_t v = pi.mnem == ZYDIS_MNEMONIC_SUB ? val[o0->reg] - o1->imm : val[o0->reg] + o1->imm;
			if (o0->size == 32) v = (uint32_t)v;
			val[o0->reg] = v; ca = v; cb = 0; cbits = o0->size; cmp_valid = false;
			pc = next; continue;
		}
		/* a table jump inside the dispatcher */
		if (pi.mnem == ZYDIS_MNEMONIC_JMP && o0->kind == PO_MEM && o0->scale == 8 &&
		    o0->index < 16 && (known & (1u << o0->index)) && o0->base == PR_NONE) {
			uint64_t t;
			if (!infer_read_u64(c->rd, (uint64_t)o0->disp + 8 * val[o0->index], &t))
				return 0;
			pc = t; decisions++; continue;
		}
		/* a noreturn case: "call __x64_sys_exit; int3|ud2" */
		if ((pi.flags & PI_CALL) && decisions) {
			struct pinsn nx;
			/* noreturn: the compiler places no ret/jmp after it */
			if (pt_decode(c, next, &nx) && nx.mnem != ZYDIS_MNEMONIC_RET &&
			    !(nx.flags & PI_JMP) && pt_is_text(c, pi.target) &&
			    pi.target != fentry)
				return pi.target;
		}
		/* any other instruction: we are in the handler */
		return decisions ? pc : 0;
	}
	return 0;
}

struct tabsearch { uint64_t *tgt; size_t n; uint64_t found; unsigned nfound; };

/* sys_call_table candidates: 8-byte aligned words equal to target(0); the
 * whole array must then equal the emulated targets. */
static bool tab_chunk(struct pctx *c, void *ctx, uint64_t va, const uint8_t *buf, size_t len)
{
	struct tabsearch *s = ctx;
	const uint64_t t0 = s->tgt[0];
	size_t i = (size_t)((8 - (va & 7)) & 7);
	/* candidate words start at i < lim: i + 8 <= len and i < PT_CHUNK */
	size_t lim = len < 8 ? 0 : len - 7;
	if (lim > PT_CHUNK)
		lim = PT_CHUNK;
	for (; i < lim; i += 8) {
		/* four words per test while they fit: almost none equals t0 */
		if (i + 32 <= lim && pt_ld64(buf + i) != t0 && pt_ld64(buf + i + 8) != t0 &&
		    pt_ld64(buf + i + 16) != t0 && pt_ld64(buf + i + 24) != t0) {
			i += 24;
			continue;
		}
		if (pt_ld64(buf + i) != t0)
			continue;
		uint64_t at = va + i, v;
		bool all = true;
		for (size_t k = 1; k < s->n && all; k++)
			all = infer_read_u64(c->rd, at + 8 * k, &v) && v == s->tgt[k];
		if (!all || s->found == at)
			continue;
		s->found = at;
		if (++s->nfound >= (c->fast ? 1u : 2u))
			return false;
	}
	return true;
}

static const struct { enum infer_param p; unsigned nr; } want[] = {
	{ INFER_P_SC_READ, 0 }, { INFER_P_SC_CLONE, 56 }, { INFER_P_SC_FORK, 57 },
	{ INFER_P_SC_VFORK, 58 }, { INFER_P_SC_EXECVE, 59 }, { INFER_P_SC_EXIT, 60 },
	{ INFER_P_SC_KILL, 62 }, { INFER_P_SC_SETUID, 105 }, { INFER_P_SC_SETRESUID, 117 },
	{ INFER_P_SC_INIT_MODULE, 175 }, { INFER_P_SC_EXIT_GROUP, 231 },
	{ INFER_P_SC_FINIT_MODULE, 313 }, { INFER_P_SC_EXECVEAT, 322 }, { INFER_P_SC_CLONE3, 435 },
};

static void set_handlers_missing(struct pctx *c, const char *why)
{
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		infer_set_missing(c->out, want[i].p, "%s", why);
}

/* In a function: NR bound compare and the dispatch that follows. */
static bool scan_dispatch(struct pctx *c, uint64_t fn, int depth)
{
	size_t n = pt_func(c, fn, 400);
	DBG("scan_dispatch %llx n=%zu depth=%d\n", (unsigned long long)fn, n, depth);
	uint64_t bound = 0;
	uint64_t calls[16]; size_t ncalls = 0; unsigned after = 0;
	for (size_t i = 0; i < n; i++) {
		struct pinsn *pi = &c->fn[i];
		const struct pop *o0 = &pi->op[0], *o1 = &pi->op[1];
		/* table dispatch: call *T(,%rax,8) or mov T(,%rax,8),%reg */
		for (unsigned k = 0; k < pi->nops; k++) {
			const struct pop *m = &pi->op[k];
			if (m->kind == PO_MEM && m->scale == 8 && m->index < 16 && m->base == PR_NONE &&
			    !m->gs && pt_is_kaddr(c, (uint64_t)m->disp) && bound &&
			    (pi->mnem == ZYDIS_MNEMONIC_CALL || pi->mnem == ZYDIS_MNEMONIC_MOV)) {
				c->table = (uint64_t)m->disp;
				c->nr_syscalls = bound;
				return true;
			}
		}
		if (pi->mnem == ZYDIS_MNEMONIC_CMP && o0->kind == PO_REG && o1->kind == PO_IMM &&
		    o1->imm >= 256 && o1->imm <= 2048 && !bound) {
			bound = o1->imm;   /* NR_syscalls or NR_syscalls-1 */
			continue;
		}
		if ((pi->flags & PI_CALL) && bound && after++ == 0) {
			/* the first call after the bound check: the switch dispatcher? */
			uint64_t t0 = emulate_switch(c, pi->target, 0);
			uint64_t t1 = emulate_switch(c, pi->target, 1);
			DBG("  call %llx t0=%llx t1=%llx\n", (unsigned long long)pi->target, (unsigned long long)t0, (unsigned long long)t1);
			if (t0 && t1 && t0 != t1) {
				c->dispatcher = pi->target;
				c->nr_syscalls = bound;
				return true;
			}
		}
		if ((pi->flags & PI_CALL) && ncalls < 16)
			calls[ncalls++] = pi->target;
	}
	if (depth > 0)
		for (size_t i = 0; i < ncalls; i++)
			if (pt_is_text(c, calls[i]) && scan_dispatch(c, calls[i], depth - 1))
				return true;
	return false;
}

void pt_find_dispatch(struct pctx *c)
{
	struct infer_profile *out = c->out;
	if (!c->entry) {
		set_handlers_missing(c, "no syscall entry");
		return;
	}
	/* entry: mov %rsp,%rdi ... call do_syscall_64 */
	struct pinsn pi;
	uint64_t va = c->entry;
	bool rdi_regs = false;
	uint64_t cands[4]; int nc = 0;
	for (int i = 0; i < 200 && nc < 4; i++) {
		if (!pt_decode(c, va, &pi))
			break;
		/* pt_regs = the stack: first argument (5.11+: do_syscall_64(regs, nr))
		 * or second (4.x-5.10: do_syscall_64(nr, regs)) */
		if (pi.mnem == ZYDIS_MNEMONIC_MOV && pi.op[0].kind == PO_REG &&
		    (pi.op[0].reg == PR_RDI || pi.op[0].reg == PR_RSI) && pi.op[0].size == 64 &&
		    pi.op[1].kind == PO_REG && pi.op[1].reg == PR_RSP)
			rdi_regs = true;
		else if (rdi_regs && (pi.flags & PI_CALL))
			cands[nc++] = pi.target;
		if (pi.mnem == ZYDIS_MNEMONIC_SYSRET || pi.mnem == ZYDIS_MNEMONIC_IRETQ)
			break;
		va += pi.len;
	}
	for (int i = 0; i < nc && !c->do_syscall; i++)
		if (pt_is_text(c, cands[i]) && scan_dispatch(c, cands[i], 1))
			c->do_syscall = cands[i];
	if (!c->do_syscall) {
		infer_set_missing(out, INFER_P_SYS_CALL_TABLE, "no dispatch found after entry");
		infer_set_missing(out, INFER_P_X64_SYS_CALL, "no dispatch found after entry");
		set_handlers_missing(c, "no syscall dispatch found");
		return;
	}
	uint64_t nr = c->nr_syscalls;  /* bound imm: NR-1 (ja) or NR (jae); check nr entries */
	if (nr > 512) nr = 512;
	if (c->dispatcher) {
		infer_set_found(out, INFER_P_X64_SYS_CALL, c->dispatcher);
		uint64_t *tgt = infer_alloc(c->a, nr * sizeof(uint64_t));
		if (!tgt)
			return;
		for (uint64_t i = 0; i < nr; i++) {
			tgt[i] = emulate_switch(c, c->dispatcher, i);
			if (!tgt[i] || !pt_is_text(c, tgt[i])) {
				infer_set_missing(out, INFER_P_SYS_CALL_TABLE,
						  "switch emulation failed for nr %llu", (unsigned long long)i);
				set_handlers_missing(c, "switch emulation failed");
				return;
			}
			c->handler[i] = tgt[i];
		}
		/* sys_call_table: the array equal to the switch's targets */
		struct tabsearch s = { tgt, (size_t)nr, 0, 0 };
		if (c->img_lo)
			pt_chunks(c, c->img_lo, c->img_hi, 0, tab_chunk, &s);
		if (s.nfound == 1) {
			c->table = s.found;
			infer_set_found(out, INFER_P_SYS_CALL_TABLE, c->table);
		} else {
			infer_set_missing(out, INFER_P_SYS_CALL_TABLE,
					  "%u arrays match the switch targets (need 1)", s.nfound);
		}
	} else {
		infer_set_found(out, INFER_P_SYS_CALL_TABLE, c->table);
		infer_set_na(out, INFER_P_X64_SYS_CALL,
			     "kernel indexes sys_call_table directly (no switch dispatcher)");
		for (uint64_t i = 0; i < nr; i++) {
			uint64_t v;
			if (!infer_read_u64(c->rd, c->table + 8 * i, &v) || !pt_is_text(c, v)) {
				if (i < 436) {
					set_handlers_missing(c, "sys_call_table entry unreadable or not text");
					return;
				}
				break;
			}
			c->handler[i] = v;
		}
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (want[i].nr < nr && c->handler[want[i].nr])
			infer_set_found(out, want[i].p, c->handler[want[i].nr]);
		else
			infer_set_missing(out, want[i].p, "nr %u beyond NR_syscalls", want[i].nr);
	}
}

/* ---- do_exit: the common task-exit function -------------------------------
 * exit(2) is "do_exit((error_code & 0xff) << 8)": in the exit handler (or one
 * wrapper level below it, e.g. a __do_sys_exit), the first direct call or tail
 * jmp after a "shl $8" of the first argument register is do_exit.
 * exit_group(2) is "do_group_exit((error_code & 0xff) << 8)" with the same
 * shape, and do_group_exit itself calls do_exit: that call is the cross-check
 * (both syscalls must lead to one function, and the two must differ). */

/* First call/jmp target after "shl $8,%edi|%rdi" in fn; when fn's first
 * call/jmp comes before any such shl, descend into it (depth levels). */
static uint64_t shl8_call(struct pctx *c, uint64_t fn, int depth)
{
	uint64_t start = pt_skip_prologue(c, fn);
	size_t n = pt_func(c, start, 48);
	bool shl8 = false;
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (pi->mnem == ZYDIS_MNEMONIC_SHL && pi->nops >= 2 && pi->op[0].kind == PO_REG &&
		    pi->op[0].reg == PR_RDI && pi->op[1].kind == PO_IMM && pi->op[1].imm == 8) {
			shl8 = true;
			continue;
		}
		if (!(pi->flags & (PI_CALL | PI_JMP)) || !pt_is_text(c, pi->target))
			continue;
		if ((pi->flags & PI_JMP) && pi->target >= start && pi->target <= c->fn[n - 1].va)
			continue;            /* a jump inside the decoded function itself */
		uint64_t t = pi->target;
		if (shl8)
			return t;
		return depth > 0 ? shl8_call(c, t, depth - 1) : 0;
	}
	return 0;
}

void pt_find_do_exit(struct pctx *c)
{
	struct infer_profile *out = c->out;
	uint64_t hx = c->handler[60], hg = c->handler[231];
	if (!hx || !hg) {
		infer_set_missing(out, INFER_P_DO_EXIT, "exit/exit_group handlers unknown");
		return;
	}
	uint64_t x = shl8_call(c, hx, 1);
	uint64_t g = shl8_call(c, hg, 1);
	DBG("do_exit: exit -> %llx, exit_group -> %llx\n", (unsigned long long)x, (unsigned long long)g);
	if (!x || !g || x == g) {
		infer_set_missing(out, INFER_P_DO_EXIT,
				  x == g && x ? "exit and exit_group call one function" :
				  "no call after (code & 0xff) << 8 in the exit handlers");
		return;
	}
	/* do_group_exit must call do_exit */
	size_t n = pt_func(c, g, 400);
	for (size_t i = 0; i < n; i++)
		if ((c->fn[i].flags & (PI_CALL | PI_JMP)) && c->fn[i].target == x) {
			infer_set_found(out, INFER_P_DO_EXIT, x);
			return;
		}
	infer_set_missing(out, INFER_P_DO_EXIT, "do_group_exit candidate does not call the exit target");
}
