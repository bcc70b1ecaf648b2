/* Unit tests for vmm/dtr_insn.c: the descriptor-table instructions' decode,
 * addressing, operand size, page rights and LLDT/LTR descriptor rules
 * (SDM Vol. 3C 28.2.5 instruction-information tables; Vol. 2A/2B LGDT..STR). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmm/dtr_insn.h"

/* An instruction-information value: scale, asize code, seg, index (-1 none), base (-1 none), identity. */
static uint32_t info_mem(unsigned scale, unsigned as, unsigned seg, int index, int base, unsigned ident)
{
	uint32_t i = scale | as << 7 | seg << 15 | ident << 28;
	i |= index < 0 ? 1u << 22 : (uint32_t)index << 18;
	i |= base < 0 ? 1u << 27 : (uint32_t)base << 23;
	return i;
}

static void long64_cpu(struct dtr_cpu *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = DTR_MODE_LONG64;
	c->ia32e = true;
	for (unsigned i = 0; i < 6; i++)
		c->seg[i] = (struct dtr_seg){ 0, 0xffffffff, 0x93 };
	c->seg[DTR_CS].ar = 0xa09b;
}

static void test_decode_identities(void **st)
{
	(void)st;
	struct dtr_insn d;
	static const uint8_t want46[4] = { DTR_SGDT, DTR_SIDT, DTR_LGDT, DTR_LIDT };
	static const uint8_t want47[4] = { DTR_SLDT, DTR_STR, DTR_LLDT, DTR_LTR };
	for (unsigned id = 0; id < 4; id++) {
		assert_int_equal(dtr_decode(46, info_mem(0, 2, DTR_DS, -1, 0, id), 0x10, &d), 0);
		assert_int_equal(d.op, want46[id]);
		assert_true(d.mem);
		assert_int_equal(d.asize, 8);
		assert_int_equal(d.disp, 0x10);
		assert_int_equal(dtr_decode(47, info_mem(0, 1, DTR_SS, 3, 5, id), 0, &d), 0);
		assert_int_equal(d.op, want47[id]);
		assert_true(d.mem);
		assert_int_equal(d.asize, 4);
		assert_int_equal(d.seg, DTR_SS);
		assert_true(d.index_ok && d.base_ok);
		assert_int_equal(d.index, 3);
		assert_int_equal(d.base, 5);
	}
	/* register form of LLDT: bit 10, reg1 in bits 6:3 */
	assert_int_equal(dtr_decode(47, 1u << 10 | 11u << 3 | 2u << 28, 0, &d), 0);
	assert_int_equal(d.op, DTR_LLDT);
	assert_false(d.mem);
	assert_int_equal(d.reg, 11);
	assert_string_equal(dtr_op_name(DTR_LTR), "ltr");
	assert_string_equal(dtr_op_name(99), "?");
}

static void test_decode_rejects_reserved(void **st)
{
	(void)st;
	struct dtr_insn d;
	assert_int_equal(dtr_decode(46, info_mem(0, 3, DTR_DS, -1, 0, 0), 0, &d), -1);   /* address size 3 */
	assert_int_equal(dtr_decode(46, info_mem(0, 2, 6, -1, 0, 0), 0, &d), -1);        /* segment 6 */
	assert_int_equal(dtr_decode(46, info_mem(0, 2, 7, -1, 0, 0), 0, &d), -1);
	assert_int_equal(dtr_decode(48, 0, 0, &d), -1);                                  /* not 46/47 */
}

/* One address computation: the CPU state and the last result. */
struct lin {
	struct dtr_cpu c;
	uint64_t la;
	struct dtr_fault f;
};

/* Decode exit 46 (a GDTR/IDTR access) from @info and @disp — it must decode —
 * then the linear address of a @len-byte access: dtr_linear's result, the
 * address in t->la or the fault in t->f. */
static int lin(struct lin *t, uint32_t info, uint64_t disp, unsigned len, bool write)
{
	struct dtr_insn d;

	assert_int_equal(dtr_decode(46, info, disp, &d), 0);
	return dtr_linear(&d, &t->c, len, write, &t->la, &t->f);
}

/* Every addressing form in 64-bit mode: disp only (RIP-relative: the processor
 * gives disp + next RIP), base, base+index*scale, index only, FS/GS bases,
 * 32-bit address size wrap. */
static void test_linear_long64_forms(void **st)
{
	(void)st;
	struct lin t;
	long64_cpu(&t.c);
	t.c.gpr[0] = 0xffff888000001000ULL;    /* rax */
	t.c.gpr[3] = 0x10;                     /* rbx */
	t.c.gpr[13] = 0xffffffff81000000ULL;   /* r13 */
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_DS, -1, -1, 3), 0xffffffff82000040ULL, 10, false), 0);
	assert_int_equal(t.la, 0xffffffff82000040ULL);
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_DS, -1, 0, 3), (uint64_t)-8, 10, false), 0);  /* [rax - 8] */
	assert_int_equal(t.la, 0xffff888000000ff8ULL);
	for (unsigned sc = 0; sc < 4; sc++) {                                              /* [r13 + rbx*2^sc + 8] */
		assert_int_equal(lin(&t, info_mem(sc, 2, DTR_SS, 3, 13, 0), 8, 10, true), 0);
		assert_int_equal(t.la, 0xffffffff81000008ULL + (0x10ULL << sc));
	}
	assert_int_equal(lin(&t, info_mem(3, 2, DTR_DS, 3, -1, 0), 0x1000, 10, true), 0);  /* [rbx*8 + 0x1000] */
	assert_int_equal(t.la, 0x1080);
	t.c.seg[DTR_GS].base = 0xffff88807fc00000ULL;                                    /* %gs:0x20 */
	t.c.seg[DTR_DS].base = 0x12345000;                                               /* ignored in 64-bit mode */
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_GS, -1, -1, 1), 0x20, 10, true), 0);
	assert_int_equal(t.la, 0xffff88807fc00020ULL);
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_DS, -1, -1, 1), 0x20, 10, true), 0);
	assert_int_equal(t.la, 0x20);
	t.c.gpr[0] = 0xfffffff0;                                                         /* addr32: wraps at 4 GiB */
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_DS, -1, 0, 1), 0x20, 10, true), 0);
	assert_int_equal(t.la, 0x10);
}

static void test_linear_long64_noncanonical(void **st)
{
	(void)st;
	struct lin t;
	long64_cpu(&t.c);
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_DS, -1, -1, 2), 0x0000800000000000ULL, 10, false), -1);
	assert_int_equal(t.f.vector, DTR_VEC_GP);
	assert_true(t.f.has_err);
	assert_int_equal(t.f.err, 0);
	/* the last byte crosses into the hole: still non-canonical; through SS: #SS(0) */
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_SS, -1, -1, 2), 0x00007ffffffffff8ULL, 10, false), -1);
	assert_int_equal(t.f.vector, DTR_VEC_SS);
	/* 57-bit linear addresses accept it */
	t.c.la57 = true;
	assert_int_equal(lin(&t, info_mem(0, 2, DTR_SS, -1, -1, 2), 0x00007ffffffffff8ULL, 10, false), 0);
	assert_true(dtr_canonical(0xff00000000000000ULL, true));
	assert_false(dtr_canonical(0xff00000000000000ULL, false));
}

/* Real mode (the AP trampoline's lgdtl/lidtl): 16-bit addressing, segment base, limit, no error code. */
static void test_linear_real_and_prot(void **st)
{
	(void)st;
	struct lin t;
	memset(&t.c, 0, sizeof(t.c));
	t.c.mode = DTR_MODE_REAL;
	for (unsigned i = 0; i < 6; i++)
		t.c.seg[i] = (struct dtr_seg){ 0x9a000, 0xffff, 0x93 };
	t.c.gpr[6] = 0xfff0;                                                              /* si */
	assert_int_equal(lin(&t, info_mem(0, 0, DTR_DS, -1, -1, 2), 0x1234, 6, false), 0);
	assert_int_equal(t.la, 0x9a000 + 0x1234);
	assert_int_equal(lin(&t, info_mem(0, 0, DTR_DS, -1, 6, 2), 0x20, 6, false), 0);  /* [si + 0x20] wraps at 64 KiB */
	assert_int_equal(t.la, 0x9a000 + 0x10);
	assert_int_equal(lin(&t, info_mem(0, 0, DTR_DS, -1, -1, 2), 0xfffc, 6, false), -1);  /* past the 64 KiB limit */
	assert_int_equal(t.f.vector, DTR_VEC_GP);
	assert_false(t.f.has_err);                                                        /* real mode: no error code */
	assert_int_equal(lin(&t, info_mem(0, 0, DTR_SS, -1, -1, 0), 0xfffc, 6, true), -1);
	assert_int_equal(t.f.vector, DTR_VEC_SS);
	/* protected mode: a store to a read-only data segment, a read of execute-only code, an unusable segment */
	t.c.mode = DTR_MODE_PROT;
	t.c.seg[DTR_DS] = (struct dtr_seg){ 0, 0xffffffff, 0x91 };                       /* read-only data */
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_DS, -1, -1, 0), 0x100, 6, true), -1);
	assert_int_equal(t.f.vector, DTR_VEC_GP);
	assert_true(t.f.has_err);
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_DS, -1, -1, 0), 0x100, 6, false), 0);
	t.c.seg[DTR_CS] = (struct dtr_seg){ 0, 0xffffffff, 0x99 };                       /* execute-only */
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_CS, -1, -1, 2), 0x100, 6, false), -1);
	t.c.seg[DTR_ES].ar = DTR_AR_UNUSABLE;
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_ES, -1, -1, 2), 0x100, 6, false), -1);
	/* expand-down stack: valid above the limit, up to 0xffffffff with B = 1 */
	t.c.seg[DTR_SS] = (struct dtr_seg){ 0x1000, 0xfff, 0x4097 };
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_SS, -1, -1, 0), 0x800, 6, true), -1);
	assert_int_equal(t.f.vector, DTR_VEC_SS);
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_SS, -1, -1, 0), 0x2000, 6, true), 0);
	assert_int_equal(t.la, 0x3000);
	/* the linear address wraps at 4 GiB */
	t.c.seg[DTR_DS] = (struct dtr_seg){ 0xfffff000, 0xffffffff, 0x93 };
	assert_int_equal(lin(&t, info_mem(0, 1, DTR_DS, -1, -1, 0), 0x2000, 6, true), 0);
	assert_int_equal(t.la, 0x1000);
}

static void test_opsize_prefixes(void **st)
{
	(void)st;
	static const uint8_t lidt[] = { 0x0f, 0x01, 0x1d, 0, 0, 0, 0 };
	static const uint8_t lidtl16[] = { 0x66, 0x0f, 0x01, 0x1e, 0x34, 0x12 };     /* lidtl in 16-bit code */
	static const uint8_t str_rex_w[] = { 0x48, 0x0f, 0x00, 0xc8 };               /* str rax */
	static const uint8_t str_66[] = { 0x66, 0x0f, 0x00, 0xc8 };                  /* str ax */
	static const uint8_t rex_then_66[] = { 0x48, 0x66, 0x0f, 0x00, 0xc8 };       /* REX not last: ignored */
	static const uint8_t seg_pfx[] = { 0x65, 0x0f, 0x01, 0x14, 0x25, 0, 0, 0, 0 };
	static const uint8_t other[] = { 0x0f, 0x05 };
	assert_int_equal(dtr_opsize(lidt, sizeof(lidt), true, false), 4);
	assert_int_equal(dtr_opsize(lidtl16, sizeof(lidtl16), false, false), 4);
	assert_int_equal(dtr_opsize(lidtl16 + 1, sizeof(lidtl16) - 1, false, false), 2);
	assert_int_equal(dtr_opsize(lidtl16, sizeof(lidtl16), false, true), 2);
	assert_int_equal(dtr_opsize(str_rex_w, sizeof(str_rex_w), true, false), 8);
	assert_int_equal(dtr_opsize(str_66, sizeof(str_66), true, false), 2);
	assert_int_equal(dtr_opsize(rex_then_66, sizeof(rex_then_66), true, false), 2);
	assert_int_equal(dtr_opsize(seg_pfx, sizeof(seg_pfx), true, false), 4);
	assert_int_equal(dtr_opsize(other, sizeof(other), true, false), -1);
	assert_int_equal(dtr_opsize(lidt, 1, true, false), -1);
	/* 0x48 outside 64-bit mode is DEC eax, not a REX */
	assert_int_equal(dtr_opsize(str_rex_w, sizeof(str_rex_w), false, true), -1);
}

static void test_page_rights(void **st)
{
	(void)st;
	struct dtr_pte_rights kro = { .present = true, .writable = false, .user = false };
	struct dtr_pte_rights krw = { .present = true, .writable = true, .user = false };
	struct dtr_pte_rights urw = { .present = true, .writable = true, .user = true };
	struct dtr_pte_rights np = { 0 }, rsvd = { .present = true, .rsvd = true };
	struct dtr_access kr = { 0 }, kw = { .write = true, .wp = true }, uw = { .write = true, .user = true, .wp = true };
	assert_int_equal(dtr_page_check(&krw, &kw), 0);
	assert_int_equal(dtr_page_check(&kro, &kr), 0);
	assert_int_equal(dtr_page_check(&kro, &kw), DTR_PF_FAULT | 0x3);          /* P W */
	kw.wp = false;
	assert_int_equal(dtr_page_check(&kro, &kw), 0);                            /* CR0.WP = 0 */
	assert_int_equal(dtr_page_check(&krw, &uw), DTR_PF_FAULT | 0x7);          /* user to a kernel page */
	assert_int_equal(dtr_page_check(&urw, &uw), 0);
	assert_int_equal(dtr_page_check(&np, &uw), DTR_PF_FAULT | 0x6);           /* not present: P = 0 */
	assert_int_equal(dtr_page_check(&rsvd, &kr), DTR_PF_FAULT | 0x9);         /* RSVD */
	struct dtr_access smap = { .write = true, .wp = true, .smap = true };
	assert_int_equal(dtr_page_check(&urw, &smap), DTR_PF_FAULT | 0x3);        /* SMAP, AC = 0 */
	smap.ac = true;
	assert_int_equal(dtr_page_check(&urw, &smap), 0);
	smap.implicit = true;                                                       /* implicit: AC does not help */
	assert_int_equal(dtr_page_check(&urw, &smap), DTR_PF_FAULT | 0x3);
}

static void test_pseudo_descriptors(void **st)
{
	(void)st;
	uint8_t m[10];
	uint64_t base;
	uint16_t limit;
	assert_int_equal(dtr_store_pseudo(m, true, 0xfffffe0000000000ULL, 0xfff), 10);
	dtr_parse_pseudo(m, 8, &base, &limit);
	assert_int_equal(base, 0xfffffe0000000000ULL);
	assert_int_equal(limit, 0xfff);
	assert_int_equal(dtr_store_pseudo(m, false, 0x12345678, 0x7f), 6);
	dtr_parse_pseudo(m, 4, &base, &limit);
	assert_int_equal(base, 0x12345678);
	dtr_parse_pseudo(m, 2, &base, &limit);                                      /* 16-bit operand: 24 bits */
	assert_int_equal(base, 0x345678);
	assert_int_equal(limit, 0x7f);
}

/* A 16-byte TSS/LDT descriptor as Linux builds it (set_tssldt_descriptor). */
static void sysdesc(uint8_t *d, unsigned type, uint64_t base, uint32_t limit, bool present, bool g)
{
	uint32_t lo = (limit & 0xffff) | (uint32_t)(base & 0xffff) << 16;
	uint32_t hi = (uint32_t)(base >> 16 & 0xff) | type << 8 | (present ? 1u << 15 : 0) | (limit & 0xf0000) |
		      (g ? 1u << 23 : 0) | (uint32_t)(base & 0xff000000);
	uint32_t b2 = (uint32_t)(base >> 32), b3 = 0;
	memcpy(d, &lo, 4);
	memcpy(d + 4, &hi, 4);
	memcpy(d + 8, &b2, 4);
	memcpy(d + 12, &b3, 4);
}

static void test_ltr_lldt_descriptors(void **st)
{
	(void)st;
	struct dtr_fault f;
	struct dtr_seg s;
	uint64_t off;
	unsigned len;
	uint8_t d[16];
	/* locate: Linux's TSS at GDT entry 8 (selector 0x40), 16 bytes in IA-32e mode */
	assert_int_equal(dtr_desc_locate(DTR_LTR, 0x40, 0x7f, true, &off, &len, &f), 0);
	assert_int_equal(off, 0x40);
	assert_int_equal(len, 16);
	assert_int_equal(dtr_desc_locate(DTR_LTR, 0x78, 0x7f, true, &off, &len, &f), -1);   /* 16 bytes past the limit */
	assert_int_equal(f.vector, DTR_VEC_GP);
	assert_int_equal(f.err, 0x78);
	assert_int_equal(dtr_desc_locate(DTR_LTR, 0x78, 0x7f, false, &off, &len, &f), 0);   /* 8 bytes fit */
	assert_int_equal(dtr_desc_locate(DTR_LTR, 0x3, 0x7f, true, &off, &len, &f), -1);    /* null: #GP(0) */
	assert_int_equal(f.err, 0);
	assert_int_equal(dtr_desc_locate(DTR_LLDT, 0x3, 0x7f, true, &off, &len, &f), 1);    /* null LDT: unusable */
	assert_int_equal(dtr_desc_locate(DTR_LLDT, 0x44, 0x7f, true, &off, &len, &f), -1);  /* TI = 1 */
	assert_int_equal(f.err, 0x44);
	/* load: an available 64-bit TSS becomes busy */
	sysdesc(d, 9, 0xfffffe0000003000ULL, 0x4087, true, false);
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 16, true, false, &s, &f), 0);
	assert_int_equal(s.base, 0xfffffe0000003000ULL);
	assert_int_equal(s.limit, 0x4087);
	assert_int_equal(s.ar, 0x8b);
	/* a busy TSS, a 16-bit TSS in IA-32e mode, not present, a non-canonical base */
	sysdesc(d, 11, 0xfffffe0000003000ULL, 0x67, true, false);
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 16, true, false, &s, &f), -1);
	assert_int_equal(f.vector, DTR_VEC_GP);
	assert_int_equal(f.err, 0x40);
	sysdesc(d, 1, 0x3000, 0x67, true, false);
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 16, true, false, &s, &f), -1);
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 8, false, false, &s, &f), 0);     /* legacy mode: allowed */
	assert_int_equal(s.ar, 0x83);
	sysdesc(d, 9, 0x3000, 0x67, false, false);
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 16, true, false, &s, &f), -1);
	assert_int_equal(f.vector, DTR_VEC_NP);
	sysdesc(d, 9, 0x0000800000000000ULL, 0x67, true, false);
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 16, true, false, &s, &f), -1);
	assert_int_equal(f.vector, DTR_VEC_GP);
	sysdesc(d, 9, 0x3000, 0x67, true, false);
	d[13] = 0x01;                                                                       /* upper half's type != 0 */
	assert_int_equal(dtr_desc_load(DTR_LTR, 0x40, d, 16, true, false, &s, &f), -1);
	/* LLDT: type 2, G scales the limit; a TSS is refused; a code segment (S = 1) too */
	sysdesc(d, 2, 0xffffc90000000000ULL, 0xf, true, true);
	assert_int_equal(dtr_desc_load(DTR_LLDT, 0x50, d, 16, true, false, &s, &f), 0);
	assert_int_equal(s.limit, 0xffff);
	assert_int_equal(s.ar, 0x8082);
	sysdesc(d, 9, 0x3000, 0x67, true, false);
	assert_int_equal(dtr_desc_load(DTR_LLDT, 0x50, d, 16, true, false, &s, &f), -1);
	sysdesc(d, 2, 0x3000, 0x67, true, false);
	d[5] |= 0x10;
	assert_int_equal(dtr_desc_load(DTR_LLDT, 0x50, d, 16, true, false, &s, &f), -1);
	assert_int_equal(dtr_desc_load(DTR_LLDT, 0x50, d, 8, true, false, &s, &f), -1);     /* short read */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_identities),
		cmocka_unit_test(test_decode_rejects_reserved),
		cmocka_unit_test(test_linear_long64_forms),
		cmocka_unit_test(test_linear_long64_noncanonical),
		cmocka_unit_test(test_linear_real_and_prot),
		cmocka_unit_test(test_opsize_prefixes),
		cmocka_unit_test(test_page_rights),
		cmocka_unit_test(test_pseudo_descriptors),
		cmocka_unit_test(test_ltr_lldt_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
