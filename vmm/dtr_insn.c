/*
 * dtr_insn — pure rules of the descriptor-table instruction emulation
 * (vmm/dtr_insn.h; ring -1: vmm/dtr.c). SDM references are in the header.
 */
#include "vmm/dtr_insn.h"

static const char *const op_names[DTR__COUNT] = { "sgdt", "sidt", "lgdt", "lidt", "sldt", "str", "lldt", "ltr" };

const char *dtr_op_name(unsigned op)
{
	return op < DTR__COUNT ? op_names[op] : "?";
}

int dtr_decode(unsigned reason, uint32_t info, uint64_t qual, struct dtr_insn *d)
{
	static const uint8_t asizes[3] = { 2, 4, 8 };
	unsigned ident = (info >> 28) & 3;
	*d = (struct dtr_insn){ 0 };
	if (reason == DTR_EXIT_GDTR_IDTR) {
		d->op = (uint8_t)ident;          /* 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT */
		d->mem = true;                   /* bit 10 is undefined: always memory (0F 01 /0../3 with mod 3 are other instructions) */
	} else if (reason == DTR_EXIT_LDTR_TR) {
		d->op = (uint8_t)(DTR_SLDT + ident);   /* 0 SLDT, 1 STR, 2 LLDT, 3 LTR */
		d->mem = !((info >> 10) & 1);
		d->reg = (uint8_t)((info >> 3) & 0xf);
	} else {
		return -1;
	}
	if (!d->mem)
		return 0;
	unsigned as = (info >> 7) & 7;
	if (as > 2)
		return -1;
	d->asize = asizes[as];
	d->seg = (uint8_t)((info >> 15) & 7);
	if (d->seg > DTR_GS)
		return -1;
	d->scale = (uint8_t)(info & 3);
	d->index = (uint8_t)((info >> 18) & 0xf);
	d->index_ok = !((info >> 22) & 1);
	d->base = (uint8_t)((info >> 23) & 0xf);
	d->base_ok = !((info >> 27) & 1);
	d->disp = qual;
	return 0;
}

unsigned dtr_mem_len(const struct dtr_insn *d, const struct dtr_cpu *c)
{
	if (d->op <= DTR_LIDT)
		return c->mode == DTR_MODE_LONG64 ? 10 : 6;
	return 2;
}

bool dtr_canonical(uint64_t va, bool la57)
{
	unsigned sh = la57 ? 7 : 16;
	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

static int fault(struct dtr_fault *f, uint8_t vec, bool has_err, uint32_t err)
{
	*f = (struct dtr_fault){ .vector = vec, .has_err = has_err, .err = has_err ? err : 0 };
	return -1;
}

int dtr_linear(const struct dtr_insn *d, const struct dtr_cpu *c, unsigned len, bool write, uint64_t *la,
	       struct dtr_fault *f)
{
	uint64_t ea = d->disp, amask;
	if (!d->mem || !len || d->seg > DTR_GS)
		return fault(f, DTR_VEC_UD, false, 0);
	if (d->base_ok)
		ea += c->gpr[d->base & 15];
	if (d->index_ok)
		ea += c->gpr[d->index & 15] << (d->scale & 3);
	amask = d->asize == 8 ? ~0ULL : d->asize == 4 ? 0xffffffffULL : 0xffffULL;
	ea &= amask;
	uint8_t vec = d->seg == DTR_SS ? DTR_VEC_SS : DTR_VEC_GP;
	if (c->mode == DTR_MODE_LONG64) {
		/* SDM Vol. 3A 3.4.4: only FS and GS bases take part in 64-bit mode */
		uint64_t l = ea + (d->seg == DTR_FS || d->seg == DTR_GS ? c->seg[d->seg].base : 0);
		if (!dtr_canonical(l, c->la57) || !dtr_canonical(l + len - 1, c->la57))
			return fault(f, vec, true, 0);
		*la = l;
		return 0;
	}
	bool err = c->mode != DTR_MODE_REAL;
	const struct dtr_seg *s = &c->seg[d->seg];
	unsigned type = s->ar & 0xf;
	if ((s->ar & DTR_AR_UNUSABLE) || !(s->ar & 0x10))
		return fault(f, vec, err, 0);
	bool code = type & 8;
	if (write && (code || !(type & 2)))
		return fault(f, DTR_VEC_GP, err, 0);
	if (!write && code && !(type & 2))
		return fault(f, DTR_VEC_GP, err, 0);
	uint64_t end = ea + len - 1;
	if (!code && (type & 4)) {               /* expand-down: (limit, 0xffff or 0xffffffff] */
		uint64_t upper = (s->ar & (1u << 14)) ? 0xffffffffULL : 0xffffULL;
		if (ea <= s->limit || end > upper)
			return fault(f, vec, err, 0);
	} else if (end > s->limit) {
		return fault(f, vec, err, 0);
	}
	*la = (s->base + ea) & 0xffffffffULL;
	return 0;
}

static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3: case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	default:
		return false;
	}
}

int dtr_opsize(const uint8_t *b, unsigned n, bool long64, bool def32)
{
	bool p66 = false;
	uint8_t rex = 0;
	unsigned i = 0;
	if (n > 15)
		n = 15;
	for (; i < n; i++) {
		if (legacy_prefix(b[i])) {
			p66 |= b[i] == 0x66;
			rex = 0;                 /* a REX not right before the opcode is ignored */
		} else if (long64 && (b[i] & 0xf0) == 0x40) {
			rex = b[i];
		} else {
			break;
		}
	}
	if (i + 1 >= n || b[i] != 0x0f || b[i + 1] > 0x01)
		return -1;
	if (long64)
		return (rex & 8) ? 8 : p66 ? 2 : 4;
	return def32 != p66 ? 4 : 2;
}

uint32_t dtr_page_check(const struct dtr_pte_rights *r, const struct dtr_access *a)
{
	uint32_t wu = (a->write ? 2u : 0) | (a->user ? 4u : 0);
	if (!r->present)
		return DTR_PF_FAULT | wu;
	if (r->rsvd)
		return DTR_PF_FAULT | 1u | 8u | wu;
	if (a->user) {
		if (!r->user || (a->write && !r->writable))
			return DTR_PF_FAULT | 1u | wu;
		return 0;
	}
	/* supervisor: SMAP forbids user pages to implicit accesses always and to
	 * explicit ones unless RFLAGS.AC (SDM 4.6.1); writes need R/W when CR0.WP */
	if (r->user && a->smap && (a->implicit || !a->ac))
		return DTR_PF_FAULT | 1u | wu;
	if (a->write && !r->writable && a->wp)
		return DTR_PF_FAULT | 1u | wu;
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void dtr_parse_pseudo(const uint8_t *m, unsigned opsize, uint64_t *base, uint16_t *limit)
{
	*limit = (uint16_t)(m[0] | m[1] << 8);
	uint64_t b = le32(m + 2);
	if (opsize == 8)
		b |= (uint64_t)le32(m + 6) << 32;
	else if (opsize == 2)
		b &= 0x00ffffffULL;
	*base = b;
}

unsigned dtr_store_pseudo(uint8_t *m, bool long64, uint64_t base, uint16_t limit)
{
	unsigned n = long64 ? 10 : 6;
	m[0] = (uint8_t)limit;
	m[1] = (uint8_t)(limit >> 8);
	for (unsigned i = 0; i < n - 2; i++)
		m[2 + i] = (uint8_t)(base >> (8 * i));
	return n;
}

int dtr_desc_locate(unsigned op, uint16_t sel, uint32_t gdt_limit, bool ia32e, uint64_t *off, unsigned *len,
		    struct dtr_fault *f)
{
	uint32_t err = sel & 0xfffcu;
	if (!(sel & 0xfffcu)) {                  /* null: index 0 in the GDT */
		if (op == DTR_LLDT)
			return 1;
		return fault(f, DTR_VEC_GP, true, 0);
	}
	if (sel & 4)                             /* TI: must name the GDT */
		return fault(f, DTR_VEC_GP, true, err);
	*len = ia32e ? 16 : 8;
	*off = sel & 0xfff8u;
	if (*off + *len - 1 > gdt_limit)
		return fault(f, DTR_VEC_GP, true, err);
	return 0;
}

int dtr_desc_load(unsigned op, uint16_t sel, const uint8_t *desc, unsigned len, bool ia32e, bool la57,
		  struct dtr_seg *out, struct dtr_fault *f)
{
	uint32_t err = sel & 0xfffcu;
	if (len < (ia32e ? 16u : 8u) || (op != DTR_LLDT && op != DTR_LTR))
		return fault(f, DTR_VEC_GP, true, err);
	uint32_t lo = le32(desc), hi = le32(desc + 4);
	unsigned type = (hi >> 8) & 0xf;
	if (hi & (1u << 12))                     /* S = 1: not a system descriptor */
		return fault(f, DTR_VEC_GP, true, err);
	if (op == DTR_LLDT ? type != 2 : (type != 9 && (ia32e || type != 1)))
		return fault(f, DTR_VEC_GP, true, err);
	if (!(hi & (1u << 15)))
		return fault(f, DTR_VEC_NP, true, err);
	uint64_t base = (lo >> 16) | (uint64_t)(hi & 0xff) << 16 | (uint64_t)(hi & 0xff000000u);
	if (ia32e) {
		if ((le32(desc + 12) >> 8) & 0x1f)      /* the upper half's type must be 0 */
			return fault(f, DTR_VEC_GP, true, err);
		base |= (uint64_t)le32(desc + 8) << 32;
		if (!dtr_canonical(base, la57))
			return fault(f, DTR_VEC_GP, true, err);
	}
	uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
	if (hi & (1u << 23))                     /* G: 4 KiB units */
		limit = limit << 12 | 0xfff;
	out->base = base;
	out->limit = limit;
	out->ar = (hi >> 8) & 0xf0ffu;           /* type S DPL P, then AVL L D/B G (SDM 24.4.1) */
	if (op == DTR_LTR)
		out->ar |= 2;                        /* busy */
	return 0;
}
