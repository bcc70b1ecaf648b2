/*
 * infer/patterns_sched.c — context switch and mm_struct.pgd:
 *   __switch_to_asm: mov %rsp,SP(%rdi); mov SP(%rsi),%rsp; ... jmp __switch_to
 *   __switch_to:     mov %next,%gs:CUR   (the store of the next task into the
 *                    per-CPU current slot; the only such store)
 *   __schedule:      call __switch_to_asm, preceded by
 *                    switch_mm_irqs_off(prev->active_mm, next->mm, next)
 *   switch_mm_irqs_off: load_new_mm_cr3(next->pgd, ...) whose first argument
 *                    goes through __pa(): mov $0x80000000,%eX; add %rdi,%rX
 */
#include <Zydis/Zydis.h>
#include "infer/patterns.h"
#ifdef PT_DEBUG
#include <stdio.h>
#define DBG(...) fprintf(stderr, __VA_ARGS__)
#else
#define DBG(...) do { } while (0)
#endif

struct swctx { struct pctx *c; uint64_t asm_va[8], target[8], store[8]; size_t n; };

/* Store "mov %r64,%gs:CUR" inside fn; returns its VA or 0. */
static uint64_t cur_store_in(struct pctx *c, uint64_t fn)
{
	size_t n = pt_func(c, fn, 3000);
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_MEM && pi->op[0].gs &&
		    pi->op[0].index == PR_NONE && pi->op[0].ea == c->cur_slot &&
		    pi->op[1].kind == PO_REG && pi->op[1].size == 64)
			return pi->va;
	}
	return 0;
}

/* At va: "mov %rsp,SP(%rdi); mov SP(%rsi),%rsp", then (skipping short
 * forward jumps inside the stub) a jmp to a function that stores into the
 * current slot. */
static bool sw_verify(struct pctx *c, uint64_t va, uint64_t *target, uint64_t *store)
{
	struct pinsn a, b, pi;
	if (!pt_decode(c, va, &a) || a.mnem != ZYDIS_MNEMONIC_MOV || a.op[0].kind != PO_MEM ||
	    a.op[0].base != PR_RDI || a.op[1].kind != PO_REG || a.op[1].reg != PR_RSP)
		return false;
	if (!pt_decode(c, va + a.len, &b) || b.mnem != ZYDIS_MNEMONIC_MOV || b.op[0].kind != PO_REG ||
	    b.op[0].reg != PR_RSP || b.op[1].kind != PO_MEM || b.op[1].base != PR_RSI ||
	    b.op[1].disp != a.op[0].disp)
		return false;
	uint64_t p = va;
	for (int i = 0; i < 64; i++) {
		if (!pt_decode(c, p, &pi)) return false;
		if (pi.flags & PI_JMP) {
			if (pi.target > va && pi.target < va + 512) { p += pi.len; continue; }
			*target = pi.target;
			*store = cur_store_in(c, pi.target);
			return *store != 0;
		}
		if (pi.flags & PI_END) return false;
		p += pi.len;
	}
	return false;
}

static bool sw_cb(void *ctx, uint64_t va)
{
	struct swctx *s = ctx;
	uint64_t t, st;
	if (!sw_verify(s->c, va, &t, &st))
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (s->target[i] == t) return true;
	if (s->n < 8) {
		s->asm_va[s->n] = va; s->target[s->n] = t; s->store[s->n] = st; s->n++;
	}
	return s->n < (s->c->fast ? 1u : 8u);
}

void pt_find_switch(struct pctx *c)
{
	struct infer_profile *out = c->out;
	if (!c->have_cur || !c->text_lo) {
		infer_set_missing(out, INFER_P_SWITCH_TO, "current slot or text range unknown");
		return;
	}
	struct swctx *s = infer_alloc(c->a, sizeof(*s));
	if (!s) return;
	s->c = c;
	static const uint8_t n32[3] = { 0x48, 0x89, 0xa7 }, n8[3] = { 0x48, 0x89, 0x67 };
	infer_scan(c->rd, c->text_lo, c->text_hi, n32, 3, 100000, sw_cb, s);
	if (s->n == 0)   /* disp8 form only when no disp32 candidate verified */
		infer_scan(c->rd, c->text_lo, c->text_hi, n8, 3, 100000, sw_cb, s);
	if (s->n != 1) {
		infer_set_missing(out, INFER_P_SWITCH_TO,
				  "%zu __switch_to candidates store to the current slot", s->n);
		return;
	}
	uint64_t found = s->target[0], store = s->store[0], asmva = s->asm_va[0];
	/* back up over the callee-saved pushes to the start of __switch_to_asm */
	size_t n = pt_window_before(c, asmva, 24);
	uint64_t start = asmva;
	for (size_t i = n; i-- > 0;) {
		if (c->fn[i].mnem != ZYDIS_MNEMONIC_PUSH && c->fn[i].mnem != ZYDIS_MNEMONIC_ENDBR64) break;
		start = c->fn[i].va;
	}
	c->switch_to_asm = start;
	c->switch_to = found;
	c->switch_store = store;
	infer_set_found(out, INFER_P_SWITCH_TO, found);
}

/* __pa(reg) idiom in insns [i, i+win): mov $0x80000000,%eZ ; add reg,Z / add Z,reg */
static bool pa_idiom(struct pctx *c, size_t i, size_t n, uint8_t reg, size_t win)
{
	uint8_t z = PR_NONE;
	for (size_t j = i; j < n && j < i + win; j++) {
		const struct pinsn *q = &c->fn[j];
		if (q->mnem == ZYDIS_MNEMONIC_MOV && q->op[0].kind == PO_REG && q->op[1].kind == PO_IMM &&
		    (q->op[1].imm & 0xffffffffull) == 0x80000000ull && q->op[0].reg < 16)
			z = q->op[0].reg;
		if (q->mnem == ZYDIS_MNEMONIC_ADD && q->op[0].kind == PO_REG && q->op[1].kind == PO_REG &&
		    z != PR_NONE &&
		    ((q->op[0].reg == z && q->op[1].reg == reg) || (q->op[0].reg == reg && q->op[1].reg == z)))
			return true;
	}
	return false;
}

static bool fn_pa_of_rdi(struct pctx *c, uint64_t fn)
{
	size_t n = pt_func(c, fn, 40);
	return pa_idiom(c, 0, n, PR_RDI, 40);
}

struct callsites { uint64_t va[8]; size_t n; uint64_t target; size_t max; };

/* "call target" sites: e8 + rel32, in address order. Eight bytes at a time
 * are skipped when none is 0xe8; in the others every 0xe8 byte is checked
 * once (no SSE in ring -1: plain 64-bit bit tricks). */
static bool call_site(struct callsites *cs, uint64_t va, const uint8_t *buf, size_t len, size_t i)
{
	if (i + 5 > len)
		return true;
	uint32_t rel;
	__builtin_memcpy(&rel, buf + i + 1, 4);
	if (va + i + 5 + (uint64_t)(int64_t)(int32_t)rel != cs->target)
		return true;
	cs->va[cs->n++] = va + i;
	return cs->n < cs->max;
}

static bool call_chunk(struct pctx *c, void *ctx, uint64_t va, const uint8_t *buf, size_t len)
{
	(void)c;
	struct callsites *cs = ctx;
	const uint64_t e8 = 0xe8e8e8e8e8e8e8e8ull;
	size_t end = len < PT_CHUNK ? len : PT_CHUNK;   /* sites starting in this chunk */
	size_t i = 0;
	for (; i + 8 <= end; i += 8) {
		uint64_t w = pt_ld64(buf + i);
		if (!pt_has_byte(w, e8))
			continue;
		for (uint64_t m = pt_eq_mask(w, e8); m; m &= m - 1)
			if (!call_site(cs, va, buf, len, i + ((unsigned)__builtin_ctzll(m) >> 3)))
				return false;
	}
	for (; i < end; i++)
		if (buf[i] == 0xe8 && !call_site(cs, va, buf, len, i))
			return false;
	return true;
}

void pt_find_pgd(struct pctx *c)
{
	struct infer_profile *out = c->out;
	if (!c->switch_to_asm || c->off_mm == P_UNKNOWN) {
		infer_set_missing(out, INFER_P_MM_PGD, "__switch_to_asm or task->mm unknown");
		return;
	}
	/* call sites of __switch_to_asm (e8 rel32) */
	struct callsites cs = { { 0 }, 0, c->switch_to_asm, c->fast ? 1u : 8u };
	pt_chunks(c, c->text_lo, c->text_hi, 4, call_chunk, &cs);
	int64_t pgd = P_UNKNOWN; bool amb = false;
	for (size_t k = 0; k < cs.n; k++) {
		size_t n = pt_window_before(c, cs.va[k], 400);
		uint64_t smm = 0;
		for (size_t i = n; i-- > 0 && !smm;) {
			const struct pinsn *pi = &c->fn[i];
			if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_REG && pi->op[0].reg == PR_RSI &&
			    pi->op[0].size == 64 && pi->op[1].kind == PO_MEM && pi->op[1].disp == c->off_mm &&
			    pi->op[1].base < 16) {
				for (size_t j = i + 1; j < n && j < i + 6; j++)
					if (c->fn[j].flags & PI_CALL) { smm = c->fn[j].target; break; }
			}
		}
		DBG("pgd: site %llx n=%zu smm=%llx asm=%llx\n", (unsigned long long)cs.va[k], n, (unsigned long long)smm, (unsigned long long)c->switch_to_asm);
		if (!smm) continue;
		/* switch_mm_irqs_off(prev, next, tsk): next arrives in %rsi */
		smm = pt_skip_prologue(c, smm);
		size_t n2 = pt_func(c, smm, 1500);
		uint32_t nxt = 1u << PR_RSI;
		int64_t cand[8]; size_t nc = 0;
		uint8_t z = PR_NONE;   /* register holding 0x80000000 (__pa idiom) */
		for (size_t i = 0; i < n2; i++) {
			const struct pinsn *pi = &c->fn[i];
			/* inline form: mov $0x80000000,%eZ; add PGD(%next),%rZ */
			if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_REG && pi->op[1].kind == PO_IMM &&
			    (pi->op[1].imm & 0xffffffffull) == 0x80000000ull && pi->op[0].reg < 16) {
				z = pi->op[0].reg;
				continue;
			}
			if (pi->mnem == ZYDIS_MNEMONIC_ADD && z != PR_NONE && pi->op[0].kind == PO_REG &&
			    pi->op[0].reg == z && pi->op[1].kind == PO_MEM && pi->op[1].base < 16 &&
			    (nxt & (1u << pi->op[1].base)) && pi->op[1].index == PR_NONE && nc < 8) {
				DBG("  add-form %llx d=%lld\n", (unsigned long long)pi->va, (long long)pi->op[1].disp);
				cand[nc++] = pi->op[1].disp;
			}
			if (z != PR_NONE && pt_writes_reg(pi, z))
				z = PR_NONE;
			if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_REG && pi->op[1].kind == PO_REG &&
			    pi->op[0].size == 64 && pi->op[0].reg < 16 && pi->op[1].reg < 16) {
				if (nxt & (1u << pi->op[1].reg)) nxt |= 1u << pi->op[0].reg;
				else nxt &= ~(1u << pi->op[0].reg);
				continue;
			}
			if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[0].kind == PO_REG && pi->op[0].size == 64 &&
			    pi->op[1].kind == PO_MEM && pi->op[1].base < 16 && (nxt & (1u << pi->op[1].base)) &&
			    pi->op[1].index == PR_NONE && !pi->op[1].gs && nc < 8) {
				uint8_t r = pi->op[0].reg;
				int64_t d = pi->op[1].disp;
				bool hit = pa_idiom(c, i + 1, n2, r, 12);
				if (!hit && r == PR_RDI) {
					for (size_t j = i + 1; j < n2 && j < i + 5; j++)
						if (c->fn[j].flags & PI_CALL) {
							uint64_t tgt = c->fn[j].target;
							/* fn_pa_of_rdi reuses c->fn: re-decode after */
							hit = fn_pa_of_rdi(c, tgt);
							n2 = pt_func(c, smm, 1500);
							break;
						}
				}
				DBG("  load %llx d=%lld hit=%d\n", (unsigned long long)pi->va, (long long)d, hit);
				if (hit) cand[nc++] = d;
			}
			for (uint8_t r = 0; r < 16; r++)
				if ((nxt & (1u << r)) && pt_writes_reg(pi, r) &&
				    !(pi->mnem == ZYDIS_MNEMONIC_MOV && pi->op[1].kind == PO_REG))
					nxt &= ~(1u << r);
		}
		for (size_t i = 0; i < nc; i++) {
			if (pgd == P_UNKNOWN) pgd = cand[i];
			else if (pgd != cand[i]) amb = true;
		}
	}
	if (pgd != P_UNKNOWN && !amb)
		infer_set_found(out, INFER_P_MM_PGD, (uint64_t)pgd);
	else
		infer_set_missing(out, INFER_P_MM_PGD, amb ? "several next->X fed to __pa()" :
				  "switch_mm next->pgd -> __pa() not found");
}
