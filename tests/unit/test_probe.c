/* Unit tests for the pure part of the ring -1 probes (vmm/probe.c): instruction
 * classification and emulation, site/page bookkeeping with reference counts,
 * shadow re-sync after guest text patching, EPT view transitions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/probe.h"

/* ---- fake guest: two text pages at VA 0xffffffff81000000 -> GPA 0x100000 ---- */
#define VA0  0xffffffff81000000ULL
#define GPA0 0x100000ULL
static uint8_t guest[2][4096];
#define NCPU 4
#define NPAGES 32
static struct fake {
	int allocs, frees, plain_maps, drops;
	int maps[NCPU + 1];                  /* ops.map per view: [0] shared, [1 + cpu] */
	struct probe_leaf leaf[NCPU + 1];    /* the leaf each view holds now */
	uint8_t pages[NPAGES][4096];
	int next;
} F;

static int f_va2gpa(void *c, uint64_t va, uint64_t *gpa)
{
	if (va < VA0 || va >= VA0 + 0x2000) return -1;
	*gpa = GPA0 + (va - VA0);
	return 0;
}
static int f_rphys(void *c, uint64_t gpa, void *buf, uint32_t len)
{
	if (gpa < GPA0 || gpa + len > GPA0 + 0x2000) return -1;
	memcpy(buf, &guest[0][0] + (gpa - GPA0), len);
	return 0;
}
static int f_rvirt(void *c, uint64_t va, void *buf, uint32_t len)
{
	if (va < VA0 || va + len > VA0 + 0x2000) return -1;
	memcpy(buf, &guest[0][0] + (va - VA0), len);
	return 0;
}
static uint8_t *f_alloc(void *c, uint64_t *pa)
{
	if (F.next >= NPAGES) return NULL;
	F.allocs++;
	*pa = 0x9000000 + 0x1000ULL * F.next;
	memset(F.pages[F.next], 0, 4096);
	return F.pages[F.next++];
}
static void f_free(void *c, uint8_t *p) { F.frees++; }
static void f_map1(struct probe_page *pg, int cpu)
{
	F.maps[cpu + 1]++;
	probe_leaf_of(pg, cpu, true, &F.leaf[cpu + 1]);
}
static int f_map(void *c, struct probe_page *pg, int cpu)
{
	if (cpu == PROBE_ALL) {
		f_map1(pg, PROBE_SHARED);
		for (int i = 0; i < NCPU; i++)
			f_map1(pg, i);
	} else {
		assert_true(cpu >= PROBE_SHARED && cpu < NCPU);
		f_map1(pg, cpu);
	}
	return 0;
}
static int f_plain(void *c, struct probe_page *pg) { F.plain_maps++; return 0; }
/* the view of vCPU @cpu (-1: shared) maps @hpa with @perms (R 1, W 2, X 4) */
static void view_is(int cpu, uint64_t hpa, uint32_t perms)
{
	assert_int_equal(F.leaf[cpu + 1].hpa, hpa);
	assert_int_equal(F.leaf[cpu + 1].perms, perms);
}
static void f_drop(void *c, const struct probe_site *s, const char *why) { F.drops++; }

static const struct probe_ops OPS = {
	.va_to_gpa = f_va2gpa, .read_phys = f_rphys, .read_virt = f_rvirt, .alloc_page = f_alloc,
	.free_page = f_free, .map = f_map, .map_plain = f_plain,
	.dropped = f_drop,
};
static struct probe_table T;
static int hits;
static void h1(struct vcpu *v, struct probe_hit *h, void *c) { hits++; }
static void h2(struct vcpu *v, struct probe_hit *h, void *c) { hits += 10; }

static const uint8_t ENDBR[] = { 0xf3, 0x0f, 0x1e, 0xfa };
static const uint8_t NOP5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t CALL[] = { 0xe8, 0x10, 0x00, 0x00, 0x00 };

static int setup(void **st)
{
	memset(&F, 0, sizeof(F));
	memset(guest, 0x90, sizeof(guest));          /* nops */
	memcpy(&guest[0][0x100], ENDBR, 4);
	guest[0][0x104] = 0x55;                      /* push %rbp */
	memcpy(&guest[0][0x200], CALL, 5);
	guest[0][0x300] = 0x48; guest[0][0x301] = 0x89; guest[0][0x302] = 0xe5;   /* mov %rsp,%rbp */
	memcpy(&guest[1][0x10], NOP5, 5);
	probe_table_init(&T, &OPS);
	hits = 0;
	return 0;
}

static void classify_ok(const uint8_t *b, size_t n, enum probe_emul k, uint8_t len)
{
	struct probe_insn in;
	char why[128];
	assert_int_equal(probe_classify(b, n, &in, why, sizeof(why)), 0);
	assert_int_equal(in.kind, k);
	assert_int_equal(in.len, len);
}
static void classify_bad(const uint8_t *b, size_t n)
{
	struct probe_insn in;
	char why[128] = "";
	assert_int_equal(probe_classify(b, n, &in, why, sizeof(why)), -1);
	assert_true(strlen(why) > 5);
}

static void test_classify(void **st)
{
	classify_ok(ENDBR, 4, PROBE_EMUL_SKIP, 4);
	classify_ok(NOP5, 5, PROBE_EMUL_SKIP, 5);
	classify_ok((const uint8_t[]){ 0x66, 0x90 }, 2, PROBE_EMUL_SKIP, 2);
	classify_ok((const uint8_t[]){ 0x90 }, 1, PROBE_EMUL_SKIP, 1);
	classify_ok((const uint8_t[]){ 0x55 }, 1, PROBE_EMUL_PUSH, 1);
	classify_ok((const uint8_t[]){ 0x41, 0x54 }, 2, PROBE_EMUL_PUSH, 2);
	classify_ok(CALL, 5, PROBE_EMUL_CALL, 5);
	struct probe_insn in;
	char why[128];
	assert_int_equal(probe_classify((const uint8_t[]){ 0x41, 0x54 }, 2, &in, why, sizeof(why)), 0);
	assert_int_equal(in.reg, 12);
	assert_int_equal(probe_classify((const uint8_t[]){ 0x55 }, 1, &in, why, sizeof(why)), 0);
	assert_int_equal(in.reg, 5);
	classify_bad((const uint8_t[]){ 0x48, 0x89, 0xe5 }, 3);             /* mov */
	classify_bad((const uint8_t[]){ 0xc3 }, 1);                          /* ret */
	classify_bad((const uint8_t[]){ 0xcc }, 1);                          /* int3 */
	classify_bad((const uint8_t[]){ 0xff, 0xd0 }, 2);                    /* call *%rax */
	classify_bad((const uint8_t[]){ 0x54 }, 1);                          /* push %rsp */
	classify_bad((const uint8_t[]){ 0xff, 0x35, 0, 0, 0, 0 }, 6);        /* push mem */
	classify_bad((const uint8_t[]){ 0xe8, 0x10 }, 2);                    /* truncated */
	classify_bad(NULL, 0);
}

static void test_emulate(void **st)
{
	struct probe_insn in;
	char why[64];
	struct probe_cpu c = { .rip = 0x1000, .rsp = 0x8000 };
	bool push;
	uint64_t val;
	c.gpr[5] = 0xabcdef;
	probe_classify((const uint8_t[]){ 0x55 }, 1, &in, why, sizeof(why));
	probe_emulate(&in, &c, &push, &val);
	assert_true(push);
	assert_int_equal(val, 0xabcdef);
	assert_int_equal(c.rsp, 0x7ff8);
	assert_int_equal(c.rip, 0x1001);
	probe_classify(CALL, 5, &in, why, sizeof(why));
	probe_emulate(&in, &c, &push, &val);
	assert_true(push);
	assert_int_equal(val, 0x1006);
	assert_int_equal(c.rip, 0x1006 + 0x10);
	assert_int_equal(c.rsp, 0x7ff0);
	probe_classify((const uint8_t[]){ 0xe8, 0xfb, 0xff, 0xff, 0xff }, 5, &in, why, sizeof(why));
	c.rip = 0x2000;
	probe_emulate(&in, &c, &push, &val);
	assert_int_equal(c.rip, 0x2000);                                    /* call to itself */
	probe_classify(ENDBR, 4, &in, why, sizeof(why));
	probe_emulate(&in, &c, &push, &val);
	assert_false(push);
	assert_int_equal(c.rip, 0x2004);
	assert_int_equal(c.rsp, 0x7fe8);
}

static void test_add_remove_refcount(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x100, h1, NULL, why, sizeof(why)), 0);
	assert_int_equal(F.allocs, 1);
	assert_int_equal(F.maps[0], 1);                             /* placed: every view */
	assert_int_equal(F.maps[1 + NCPU - 1], 1);
	struct probe_page *pg = probe_find_page(&T, GPA0 + 0x100);
	assert_non_null(pg);
	view_is(PROBE_SHARED, pg->shadow_pa, 4);
	view_is(NCPU - 1, pg->shadow_pa, 4);
	assert_int_equal(pg->shadow[0x100], 0xcc);
	assert_int_equal(pg->shadow[0x101], 0x0f);
	assert_int_equal(guest[0][0x100], 0xf3);                    /* original untouched */
	/* second handler: same site, refcount 2; same pair twice refused */
	assert_int_equal(probe_add(&T, VA0 + 0x100, h2, NULL, why, sizeof(why)), 0);
	assert_int_equal(probe_add(&T, VA0 + 0x100, h2, NULL, why, sizeof(why)), -1);
	assert_int_equal(probe_find(&T, VA0 + 0x100)->nhandlers, 2);
	/* second site on the same page: no new shadow */
	assert_int_equal(probe_add(&T, VA0 + 0x104, h1, NULL, why, sizeof(why)), 0);
	assert_int_equal(F.allocs, 1);
	assert_int_equal(pg->nsites, 2);
	assert_int_equal(pg->shadow[0x104], 0xcc);
	/* refused: not emulatable, overlap, unmapped, user address */
	assert_int_equal(probe_add(&T, VA0 + 0x300, h1, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot emulate"));
	assert_int_equal(probe_add(&T, VA0 + 0x102, h1, NULL, why, sizeof(why)), -1);
	assert_int_equal(probe_add(&T, VA0 + 0x5000, h1, NULL, why, sizeof(why)), -1);
	assert_int_equal(probe_add(&T, 0x400000, h1, NULL, why, sizeof(why)), -1);
	/* remove: int3 stays until the last handler goes */
	assert_int_equal(probe_remove(&T, VA0 + 0x100, h1, NULL), 0);
	assert_int_equal(pg->shadow[0x100], 0xcc);
	assert_int_equal(probe_remove(&T, VA0 + 0x100, h1, NULL), -1);
	assert_int_equal(probe_remove(&T, VA0 + 0x100, h2, NULL), 0);
	assert_int_equal(pg->shadow[0x100], 0xf3);
	assert_null(probe_find(&T, VA0 + 0x100));
	assert_int_equal(F.plain_maps, 0);
	assert_int_equal(probe_remove(&T, VA0 + 0x104, h1, NULL), 0);   /* last site on the page */
	assert_int_equal(F.plain_maps, 1);
	assert_int_equal(F.frees, 1);
	assert_null(probe_find_page(&T, GPA0));
}

static void test_resync_follow_suspend_drop(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);   /* call */
	assert_int_equal(probe_add(&T, VA0 + 0x104, h1, NULL, why, sizeof(why)), 0);   /* push */
	struct probe_page *pg = probe_find_page(&T, GPA0);
	uint64_t shadow0 = pg->shadow_pa;
	uint8_t *old = pg->shadow, before[4096];
	view_is(PROBE_SHARED, shadow0, 4);
	view_is(1, shadow0, 4);
	/* vCPU 1 writes the page (data view, write), e.g. ftrace: call -> nop5; no
	 * vCPU may execute the now stale shadow: vCPU 0 and 2 lose X */
	assert_int_equal(probe_page_fault(&T, pg, 1, false, true, false), 0);
	view_is(1, GPA0, 3);
	view_is(0, GPA0, 1);
	view_is(2, GPA0, 1);
	view_is(PROBE_SHARED, GPA0, 1);
	memcpy(before, old, 4096);
	memcpy(&guest[0][0x200], NOP5, 5);
	guest[0][0x800] = 0xc3;                      /* unrelated byte */
	/* vCPU 0 fetches: re-sync into a NEW page, swapped in everywhere; the
	 * old shadow (vCPUs may still run it) is not written, only freed */
	int frees = F.frees;
	assert_int_equal(probe_page_fault(&T, pg, 0, true, false, false), 0);
	assert_int_equal(T.followed, 1);
	assert_int_not_equal(pg->shadow_pa, shadow0);
	assert_ptr_not_equal(pg->shadow, old);
	assert_memory_equal(old, before, 4096);
	assert_int_equal(F.frees, frees + 1);
	view_is(0, pg->shadow_pa, 4);
	view_is(2, pg->shadow_pa, 4);
	view_is(PROBE_SHARED, pg->shadow_pa, 4);
	view_is(1, GPA0, 1);                         /* its write view lost W: the next write exits */
	assert_false(pg->dirty);
	struct probe_site *s = probe_find(&T, VA0 + 0x200);
	assert_non_null(s);
	assert_int_equal(s->insn.kind, PROBE_EMUL_SKIP);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(pg->shadow[0x201], 0x1f);
	assert_int_equal(pg->shadow[0x800], 0xc3);
	assert_int_equal(pg->shadow[0x104], 0xcc);
	/* text_poke_bp in progress: the guest's own int3 on our site -> suspended */
	probe_page_fault(&T, pg, 0, false, true, false);
	guest[0][0x200] = 0xcc;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_true(s->suspended);
	assert_int_equal(pg->shadow[0x200], 0xcc);   /* the guest's byte */
	/* then an instruction we cannot emulate -> dropped, event callback */
	probe_page_fault(&T, pg, 2, false, true, false);
	memcpy(&guest[0][0x200], (const uint8_t[]){ 0x48, 0x89, 0xe5, 0x90, 0x90 }, 5);
	probe_page_fault(&T, pg, 3, true, false, false);
	assert_int_equal(F.drops, 1);
	assert_null(probe_find(&T, VA0 + 0x200));
	assert_int_equal(pg->shadow[0x200], 0x48);
	assert_int_equal(pg->shadow[0x104], 0xcc);   /* the other site lives on */
	/* dropping the last site of a page releases it */
	probe_page_fault(&T, pg, 0, false, true, false);
	guest[0][0x104] = 0x48; guest[0][0x105] = 0x89; guest[0][0x106] = 0xe5;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_int_equal(F.drops, 2);
	assert_null(probe_find_page(&T, GPA0));
	assert_int_equal(F.plain_maps, 1);
}

static void test_views(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x1010, h1, NULL, why, sizeof(why)), 0);
	struct probe_page *pg = probe_find_page(&T, GPA0 + 0x1000);
	int resyncs = (int)pg->resyncs;
	uint64_t sh = pg->shadow_pa, gpa = GPA0 + 0x1000;
	/* a read from elsewhere on vCPU 2: its data view, read-only; every other
	 * vCPU keeps executing the shadow (no missed int3), none was touched */
	int m0 = F.maps[1], m1 = F.maps[2];
	probe_page_fault(&T, pg, 2, false, false, false);
	view_is(2, gpa, 1);
	view_is(0, sh, 4);
	view_is(1, sh, 4);
	view_is(PROBE_SHARED, sh, 4);
	assert_int_equal(F.maps[1], m0);
	assert_int_equal(F.maps[2], m1);
	/* meanwhile vCPU 0 reads too: its own data view; vCPU 1 still on the shadow */
	probe_page_fault(&T, pg, 0, false, false, false);
	view_is(0, gpa, 1);
	view_is(1, sh, 4);
	/* vCPU 2 fetches: back to exec, no re-sync (nothing was written) */
	probe_page_fault(&T, pg, 2, true, false, false);
	view_is(2, sh, 4);
	view_is(0, gpa, 1);
	assert_int_equal((int)pg->resyncs, resyncs);
	/* code on the page reading the page: mixed exec view (R|X shadow) on that vCPU */
	probe_page_fault(&T, pg, 2, false, false, true);
	view_is(2, sh, 5);
	view_is(1, sh, 4);
	/* a write after that still goes to the original; then a fetch re-syncs */
	probe_page_fault(&T, pg, 2, false, true, true);
	view_is(2, gpa, 3);
	probe_page_fault(&T, pg, 2, true, false, false);
	assert_int_equal((int)pg->resyncs, resyncs + 1);
	view_is(2, pg->shadow_pa, 4);
	view_is(1, pg->shadow_pa, 4);
	view_is(0, gpa, 1);                          /* vCPU 0 stays in its data view */
	/* a vCPU id beyond the table is refused, not written out of bounds */
	assert_int_equal(probe_page_fault(&T, pg, PROBE_MAX_VCPUS, true, false, false), -1);
}

static void test_table_full(void **st)
{
	char why[128];
	/* fill the sites table on page 1 (nops everywhere: each one-byte nop is emulatable) */
	int ok = 0;
	for (int i = 0; i < PROBE_MAX_SITES + 4; i++)
		if (!probe_add(&T, VA0 + 0x1100 + i, h1, NULL, why, sizeof(why)))
			ok++;
	assert_int_equal(ok, PROBE_MAX_SITES);
	assert_non_null(strstr(why, "full"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_classify, setup),
		cmocka_unit_test_setup(test_emulate, setup),
		cmocka_unit_test_setup(test_add_remove_refcount, setup),
		cmocka_unit_test_setup(test_resync_follow_suspend_drop, setup),
		cmocka_unit_test_setup(test_views, setup),
		cmocka_unit_test_setup(test_table_full, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
