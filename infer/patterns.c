/*
 * infer/patterns.c — design-patterns strategy: decoding core and driver.
 *
 * Finds every issue-3 parameter by disassembling the kernel (Zydis decoder,
 * built with ZYAN_NO_LIBC so the same code runs in ring -1). The reader is
 * the only input; kallsyms and BTF are ignored. See docs/INFER-PATTERNS.md.
 *
 * Bounds: every walk is limited in instructions, bytes and depth, and the
 * whole strategy has a global decode budget (c->budget).
 */
#include <Zydis/Zydis.h>
#include "infer/patterns.h"
#ifdef PT_TIMING
#include <stdio.h>
#include <time.h>
static double pt_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
#define PHASE(name, call) do { double _t = pt_now(); unsigned _b = c->budget; call; fprintf(stderr, "phase %-14s %.3f s, %u insns decoded\n", name, pt_now() - _t, _b - c->budget); } while (0)
#else
#define PHASE(name, call) call
#endif

#define CACHE_PAGES 32u   /* power of two */
#define DCACHE   2048u    /* decoded instructions cached, power of two */
#define FN_CAP   6144u
#define DECODE_BUDGET 4000000u
#define SCAN_CAP (256ull << 20)   /* longest range any scan covers */

static uint8_t canon(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE)
		return PR_NONE;
	if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP)
		return PR_RIP;
	ZydisRegister l = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	if (l >= ZYDIS_REGISTER_RAX && l <= ZYDIS_REGISTER_R15)
		return (uint8_t)(l - ZYDIS_REGISTER_RAX);
	return PR_NONE;
}

/* Page for va from the cache (read on a miss); NULL when unreadable. */
static const uint8_t *cache_page(struct pctx *c, uint64_t va)
{
	uint64_t page = va & ~0xfffull;
	size_t slot = (size_t)(page >> 12) & (CACHE_PAGES - 1);
	uint8_t *buf = c->cbuf + slot * 4096;
	if (c->ctag[slot] == (page | 1))
		return buf;
	if (c->ctag[slot] == (page | 2))
		return NULL;
	if (!c->rd->read(c->rd->ctx, page, buf, 4096)) {
		c->ctag[slot] = page | 2;
		return NULL;
	}
	c->ctag[slot] = page | 1;
	return buf;
}

static bool decode_insn(struct pctx *c, uint64_t va, struct pinsn *pi);

/*
 * The bytes under the guest's stopped kernel (or the file) do not change
 * during one run, so the decoding of one VA is always the same: a hit returns
 * the stored copy. Only successful decodes are stored (tag 0 = empty: no kernel
 * VA is 0). The budget counts every call, hit or not, so
 * where it runs out does not depend on the cache.
 */
bool pt_decode(struct pctx *c, uint64_t va, struct pinsn *pi)
{
	if (c->budget == 0)
		return false;
	c->budget--;
	size_t slot = (size_t)(va ^ (va >> 12)) & (DCACHE - 1);
	if (c->dtag[slot] == va && va) {
		*pi = c->dcache[slot];
		return true;
	}
	if (!decode_insn(c, va, pi))
		return false;
	c->dcache[slot] = *pi;
	c->dtag[slot] = va;
	return true;
}

static bool decode_insn(struct pctx *c, uint64_t va, struct pinsn *pi)
{
	uint8_t bytes[15];
	size_t avail = 0;
	const uint8_t *pg = cache_page(c, va);
	if (!pg)
		return false;
	size_t in_page = 4096 - (size_t)(va & 0xfff);
	if (in_page >= 15) {
		infer_memcpy(bytes, pg + (va & 0xfff), 15);
		avail = 15;
	} else {
		infer_memcpy(bytes, pg + (va & 0xfff), in_page);
		avail = in_page;
		const uint8_t *q = cache_page(c, va + in_page);   /* may evict pg: copied already */
		if (q) {
			infer_memcpy(bytes + in_page, q, 15 - in_page);
			avail = 15;
		}
	}
	ZydisDecodedInstruction *zi = c->zins;
	ZydisDecodedOperand *zo = c->zops;
	/* instruction, then only the visible operands we keep (DecodeFull would
	 * also decode and clear all hidden ones: ~2x slower, and Zydis' no-libc
	 * memset is a byte loop) */
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(c->dec, c->zctx, bytes, avail, zi)))
		return false;
	uint8_t nvis = zi->operand_count_visible < 3 ? zi->operand_count_visible : 3;
	if (nvis && !ZYAN_SUCCESS(ZydisDecoderDecodeOperands(c->dec, c->zctx, zi, zo, nvis)))
		return false;
	infer_memset(pi, 0, sizeof(*pi));
	pi->va = va;
	pi->len = zi->length;
	pi->mnem = (uint16_t)zi->mnemonic;
	unsigned n = zi->operand_count_visible;
	if (n > 3)
		n = 3;
	pi->nops = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		const ZydisDecodedOperand *o = &zo[i];
		struct pop *p = &pi->op[i];
		p->size = o->size;
		p->read = !!(o->actions & ZYDIS_OPERAND_ACTION_MASK_READ);
		p->write = !!(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);
		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			p->kind = PO_REG;
			p->zreg = (uint16_t)o->reg.value;
			p->reg = canon(o->reg.value);
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			p->kind = PO_MEM;
			p->base = canon(o->mem.base);
			p->index = canon(o->mem.index);
			p->scale = o->mem.scale;
			p->gs = o->mem.segment == ZYDIS_REGISTER_GS;
			p->disp = o->mem.disp.has_displacement ? o->mem.disp.value : 0;
			if (p->index == PR_NONE) {
				if (p->base == PR_RIP)
					p->ea = va + zi->length + (uint64_t)p->disp;
				else if (p->base == PR_NONE)
					p->ea = (uint64_t)p->disp;
			}
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			p->kind = PO_IMM;
			if (o->imm.is_relative)
				p->imm = va + zi->length + o->imm.value.u;
			else if (o->imm.is_signed)
				p->imm = (uint64_t)o->imm.value.s;
			else
				p->imm = o->imm.value.u;
			break;
		default:
			break;
		}
	}
	bool rel = n >= 1 && zo[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && zo[0].imm.is_relative;
	switch (zi->meta.category) {
	case ZYDIS_CATEGORY_CALL:
		if (rel) { pi->flags |= PI_CALL; pi->target = pi->op[0].imm; }
		break;
	case ZYDIS_CATEGORY_UNCOND_BR:
		if (rel) { pi->flags |= PI_JMP; pi->target = pi->op[0].imm; }
		else pi->flags |= PI_END;
		break;
	case ZYDIS_CATEGORY_COND_BR:
		if (rel) { pi->flags |= PI_JCC; pi->target = pi->op[0].imm; }
		break;
	case ZYDIS_CATEGORY_RET:
		pi->flags |= PI_END;
		break;
	default:
		if (zi->mnemonic == ZYDIS_MNEMONIC_UD2 || zi->mnemonic == ZYDIS_MNEMONIC_INT3 ||
		    zi->mnemonic == ZYDIS_MNEMONIC_HLT)
			pi->flags |= PI_END;
		break;
	}
	return true;
}

bool pt_mnem_is(const struct pinsn *pi, int m) { return pi->mnem == (uint16_t)m; }

bool pt_is_kaddr(const struct pctx *c, uint64_t va)
{
	if (c->img_lo && c->img_hi)
		return va >= c->img_lo && va < c->img_hi;
	return va >= 0xffffffff80000000ull && va < 0xffffffffff000000ull;
}

bool pt_is_text(const struct pctx *c, uint64_t va)
{
	if (c->text_lo && c->text_hi)
		return va >= c->text_lo && va < c->text_hi;
	return pt_is_kaddr(c, va);
}

size_t pt_func(struct pctx *c, uint64_t start, size_t max)
{
	size_t n = 0;
	uint64_t va = start, pending = start;
	if (max > c->fn_cap)
		max = c->fn_cap;
	while (n < max) {
		struct pinsn *pi = &c->fn[n];
		if (!pt_decode(c, va, pi))
			break;
		n++;
		uint64_t next = va + pi->len;
		if ((pi->flags & (PI_JCC | PI_JMP)) && pi->target > va &&
		    pi->target < start + 0x10000 && pi->target > pending)
			pending = pi->target;
		if ((pi->flags & (PI_END | PI_JMP)) && next > pending)
			break;
		/* int3 padding after code */
		if (pi->mnem == ZYDIS_MNEMONIC_INT3 && next > pending)
			break;
		va = next;
	}
	return n;
}

size_t pt_window_before(struct pctx *c, uint64_t to, size_t back)
{
	for (size_t shift = 0; shift < 24; shift++) {
		uint64_t va = to - back + shift;
		size_t n = 0;
		while (n < c->fn_cap && va < to) {
			if (!pt_decode(c, va, &c->fn[n]))
				break;
			va += c->fn[n].len;
			n++;
		}
		if (va == to && n)
			return n;
	}
	return 0;
}

bool pt_gs_load64(const struct pinsn *pi, uint64_t *slot, uint8_t *reg)
{
	if (pi->mnem != ZYDIS_MNEMONIC_MOV || pi->nops != 2)
		return false;
	const struct pop *d = &pi->op[0], *s = &pi->op[1];
	if (d->kind != PO_REG || d->size != 64 || d->reg >= 16)
		return false;
	if (s->kind != PO_MEM || !s->gs || s->index != PR_NONE ||
	    (s->base != PR_NONE && s->base != PR_RIP))
		return false;
	*slot = s->ea;
	*reg = d->reg;
	return true;
}

bool pt_writes_reg(const struct pinsn *pi, uint8_t r)
{
	if (pi->flags & PI_CALL)
		return r == PR_RAX || r == PR_RCX || r == PR_RDX || r == PR_RSI ||
		       r == PR_RDI || (r >= PR_R8 && r <= PR_R11);
	for (unsigned i = 0; i < pi->nops; i++)
		if (pi->op[i].kind == PO_REG && pi->op[i].write && pi->op[i].reg == r)
			return true;
	/* implicit writers we care about */
	if ((pi->mnem == ZYDIS_MNEMONIC_CDQE || pi->mnem == ZYDIS_MNEMONIC_CQO ||
	     pi->mnem == ZYDIS_MNEMONIC_CDQ) && (r == PR_RAX || r == PR_RDX))
		return true;
	if (pi->mnem == ZYDIS_MNEMONIC_RDMSR && (r == PR_RAX || r == PR_RDX))
		return true;
	return false;
}

void pt_track_step(struct pctx *c, struct ptrack *t, const struct pinsn *pi)
{
	uint64_t slot; uint8_t r;
	if (c->have_cur && pt_gs_load64(pi, &slot, &r) && slot == c->cur_slot) {
		t->cur |= 1u << r;
		return;
	}
	if (pi->mnem == ZYDIS_MNEMONIC_MOV && pi->nops == 2 && pi->op[0].kind == PO_REG &&
	    pi->op[1].kind == PO_REG && pi->op[0].size == 64 && pi->op[0].reg < 16 &&
	    pi->op[1].reg < 16) {
		if (t->cur & (1u << pi->op[1].reg))
			t->cur |= 1u << pi->op[0].reg;
		else
			t->cur &= ~(1u << pi->op[0].reg);
		return;
	}
	/* A pop restores a callee-saved register in an epilogue; the code laid
	 * out after that exit is reached from where the register still holds
	 * current (linear walk, no CFG), so pops do not clear. */
	if (pi->mnem == ZYDIS_MNEMONIC_POP)
		return;
	for (uint8_t i = 0; i < 16; i++)
		if ((t->cur & (1u << i)) && pt_writes_reg(pi, i))
			t->cur &= ~(1u << i);
}

size_t pt_index_of(const struct pctx *c, size_t n, uint64_t va)
{
	size_t lo = 0, hi = n;              /* c->fn is in address order (linear decode) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->fn[mid].va < va) lo = mid + 1;
		else hi = mid;
	}
	return lo < n && c->fn[lo].va == va ? lo : n;
}

void pt_track_flow(struct pctx *c, size_t n)
{
	struct ptrack t = { 0 };
	if (n > c->fn_cap)
		n = c->fn_cap;
	infer_memset(c->flow, 0, n * sizeof(c->flow[0]));
	for (size_t i = 0; i < n; i++) {
		const struct pinsn *pi = &c->fn[i];
		/* After an unconditional exit, only forward branches reach here (back
		 * edges are not followed: nothing is assumed about them). */
		if (i && (c->fn[i - 1].flags & (PI_JMP | PI_END)))
			t.cur = 0;
		t.cur |= c->flow[i];            /* what forward branches to here carry */
		c->flow[i] = t.cur;
		/* A branch writes no GPR: its target starts with the state here. */
		if ((pi->flags & (PI_JCC | PI_JMP)) && pi->target > pi->va) {
			size_t k = pt_index_of(c, n, pi->target);
			if (k < n)
				c->flow[k] |= t.cur;
		}
		pt_track_step(c, &t, pi);
	}
}

void pt_chunks(struct pctx *c, uint64_t lo, uint64_t hi, size_t overlap, pt_chunk_fn cb, void *ctx)
{
	if (!c->chunk || hi <= lo || overlap > 64)
		return;
	if (hi - lo > SCAN_CAP)
		hi = lo + SCAN_CAP;
	uint64_t n = (hi - lo + PT_CHUNK - 1) / PT_CHUNK;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t va = lo + k * PT_CHUNK;
		size_t len = PT_CHUNK + overlap;
		if (hi - va < len)
			len = (size_t)(hi - va);
		/* in place when the reader can (the same bytes; cb reads [0, len)) */
		const uint8_t *buf = infer_view(c->rd, va, len);
		if (buf) {
			if (!cb(c, ctx, va, buf, len))
				return;
			continue;
		}
		if (!c->rd->read(c->rd->ctx, va, c->chunk, len)) {
			/* the overlap may cross into an unreadable page: retry without it */
			if (len <= PT_CHUNK || !c->rd->read(c->rd->ctx, va, c->chunk, PT_CHUNK))
				continue;
			len = PT_CHUNK;
		}
		if (!cb(c, ctx, va, c->chunk, len))
			return;
	}
}

uint64_t pt_skip_prologue(struct pctx *c, uint64_t va)
{
	struct pinsn pi;
	bool call_skipped = false;
	for (int i = 0; i < 4; i++) {
		if (!pt_decode(c, va, &pi))
			return va;
		if ((pi.flags & PI_CALL) && !call_skipped) {
			call_skipped = true;
			va += pi.len;
			continue;
		}
		if (pi.mnem == ZYDIS_MNEMONIC_ENDBR64 || pi.mnem == ZYDIS_MNEMONIC_NOP) {
			va += pi.len;
			continue;
		}
		break;
	}
	return va;
}

static void miss_if_unset(struct infer_profile *out, enum infer_param p, const char *why)
{
	if (!out->p[p].found && out->p[p].why[0] == 0)
		infer_set_missing(out, p, "%s", why);
}

int infer_strategy_patterns(const struct infer_reader *rd, const struct infer_hints *h,
			    struct infer_arena *a, struct infer_profile *out)
{
	static const struct infer_hints nohints;
	if (!h)
		h = &nohints;
	struct pctx *c = infer_alloc(a, sizeof(*c));
	ZydisDecoder *dec = infer_alloc(a, sizeof(ZydisDecoder));
	void *zins = infer_alloc(a, sizeof(ZydisDecodedInstruction));
	void *zctx = infer_alloc(a, sizeof(ZydisDecoderContext));
	void *zops = infer_alloc(a, sizeof(ZydisDecodedOperand) * ZYDIS_MAX_OPERAND_COUNT);
	/* buffers only read where written first: not zeroed (the tags say what is valid) */
	uint8_t *cbuf = infer_alloc_raw(a, CACHE_PAGES * 4096);
	uint64_t *ctag = infer_alloc(a, CACHE_PAGES * sizeof(uint64_t));
	struct pinsn *fn = infer_alloc_raw(a, sizeof(struct pinsn) * FN_CAP);
	uint32_t *flow = infer_alloc_raw(a, sizeof(uint32_t) * FN_CAP);
	uint8_t *chunk = infer_alloc(a, PT_CHUNK + 64);   /* zeroed: scans load a few bytes past len */
	struct pinsn *dcache = infer_alloc_raw(a, sizeof(struct pinsn) * DCACHE);
	uint64_t *dtag = infer_alloc(a, sizeof(uint64_t) * DCACHE);
	if (!c || !dec || !zins || !zctx || !zops || !cbuf || !ctag || !fn || !flow || !chunk ||
	    !dcache || !dtag) {
		for (int p = 0; p < INFER_NPARAMS; p++)
			miss_if_unset(out, (enum infer_param)p, "arena too small");
		return -1;
	}
	if (!ZYAN_SUCCESS(ZydisDecoderInit(dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -1;
	c->rd = rd; c->h = h; c->a = a; c->out = out;
	c->dec = dec; c->zins = zins; c->zctx = zctx; c->zops = zops; c->cbuf = cbuf;
	c->ctag = ctag;   /* zeroed: no page VA has tag 0 (tags have bit 0 or 1 set) */
	c->fn = fn; c->fn_cap = FN_CAP; c->flow = flow; c->chunk = chunk;
	c->dcache = dcache;
	c->dtag = dtag;       /* zeroed: every entry empty */
	c->budget = DECODE_BUDGET;
	c->off_cred = c->off_real_parent = c->off_mm = c->off_group_leader = P_UNKNOWN;
	c->off_pid = c->off_tgid = c->off_parent = c->off_tasks = P_UNKNOWN;
	c->off_comm = c->off_real_cred = P_UNKNOWN;
	c->text_lo = rd->text_start; c->text_hi = rd->text_end;
	c->fast = !(rd->text_start && rd->text_end);
	if (!infer_scan_range(rd, h, &c->img_lo, &c->img_hi))
		c->img_lo = c->img_hi = 0;
	/* hostile readers: keep ranges ordered and bounded (an inverted range
	 * is unknown; a huge one is cut to SCAN_CAP, which cannot wrap) */
	if (c->text_hi <= c->text_lo)
		c->text_lo = c->text_hi = 0;
	else if (c->text_hi - c->text_lo > SCAN_CAP)
		c->text_hi = c->text_lo + SCAN_CAP;
	if (c->img_hi <= c->img_lo)
		c->img_lo = c->img_hi = 0;
	else if (c->img_hi - c->img_lo > SCAN_CAP)
		c->img_hi = c->img_lo + SCAN_CAP;
	if (c->text_lo == 0 && c->img_lo) {
		/* unknown text: the image span bounds it */
		c->text_lo = c->img_lo; c->text_hi = c->img_hi;
	}

	PHASE("banner", infer_find_banner(rd, h, out));

	PHASE("entry", pt_find_entry(c));
	PHASE("dispatch", pt_find_dispatch(c));
	PHASE("do_exit", pt_find_do_exit(c));
	PHASE("exec_fork", pt_find_exec_fork(c));
	PHASE("current", pt_find_current(c));
	PHASE("task_fields", pt_find_task_fields(c));
	PHASE("switch", pt_find_switch(c));
	PHASE("pgd", pt_find_pgd(c));

	int found = 0;
	for (int p = 0; p < INFER_NPARAMS; p++) {
		if (infer_param_optional((enum infer_param)p))
			miss_if_unset(out, (enum infer_param)p, infer_param_kind(p) == INFER_K_ADDR ?
				      "not handled by patterns (kallsyms only)" :
				      "not handled by patterns (kallsyms and BTF only)");
		miss_if_unset(out, (enum infer_param)p, "not reached (an earlier step failed)");
		if (out->p[p].found)
			found++;
	}
	if (c->budget == 0)
		for (int p = 0; p < INFER_NPARAMS; p++)
			if (!out->p[p].found)
				infer_set_missing(out, (enum infer_param)p, "decode budget exhausted");
	return found;
}
