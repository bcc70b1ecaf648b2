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
static uint8_t guest[3][4096];          /* [2]: a copy a rootkit maps instead of [0] (GPA0 + 0x2000) */
static uint64_t remap_to;                 /* VA0's page maps to this GPA when set */
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
	if (remap_to && va < VA0 + 0x1000)
		*gpa = remap_to + (va - VA0);
	return 0;
}
/* the kernel's page tables for the page-table tests: 12 pages at PTM */
#define PTM 0x800000ULL
static uint64_t ptm[12][512];
static int f_rphys(void *c, uint64_t gpa, void *buf, uint32_t len)
{
	if (gpa >= PTM && gpa + len <= PTM + sizeof(ptm)) {
		memcpy(buf, (uint8_t *)ptm + (gpa - PTM), len);
		return 0;
	}
	if (gpa < GPA0 || gpa + len > GPA0 + 0x3000) return -1;
	memcpy(buf, &guest[0][0] + (gpa - GPA0), len);
	return 0;
}
/* page-table entries hvmon writes (a private kernel half put back): only into ptm */
static int wphys_n;
static int f_wphys64(void *c, uint64_t gpa, uint64_t val)
{
	if ((gpa & 7) || gpa < PTM || gpa + 8 > PTM + sizeof(ptm)) return -1;
	ptm[(gpa - PTM) / 4096][(gpa & 0xfff) / 8] = val;
	wphys_n++;
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
#define MAXTP 16
static struct probe_tamper TP[MAXTP];
static char TPN[MAXTP][PROBE_NAME_LEN];
static int ntp;
static void f_tamper(void *c, const struct probe_tamper *tp)
{
	F.drops += !strcmp(tp->what, "rewrite");
	if (ntp < MAXTP) {
		TP[ntp] = *tp;
		strcpy(TPN[ntp], tp->site->name);
		ntp++;
	}
}

static const struct probe_ops OPS = {
	.va_to_gpa = f_va2gpa, .read_phys = f_rphys, .read_virt = f_rvirt, .alloc_page = f_alloc,
	.free_page = f_free, .map = f_map, .map_plain = f_plain,
	.tamper = f_tamper, .write_phys64 = f_wphys64,
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
	ntp = 0;
	memset(TP, 0, sizeof(TP));
	remap_to = 0;
	wphys_n = 0;
	memset(ptm, 0, sizeof(ptm));
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
	/* then an instruction we cannot emulate (no int3 first) -> a "rewrite" report; the
	 * site is kept, suspended, with the guest's bytes (issue 15: it was dropped) */
	probe_page_fault(&T, pg, 2, false, true, false);
	memcpy(&guest[0][0x200], (const uint8_t[]){ 0x48, 0x89, 0xe5, 0x90, 0x90 }, 5);
	assert_int_equal(probe_page_fault(&T, pg, 3, true, false, false), 0);
	assert_int_equal(F.drops, 1);
	assert_int_equal(ntp, 1);
	assert_string_equal(TP[0].what, "rewrite");
	assert_int_equal(TP[0].va, VA0 + 0x200);
	assert_int_equal(TP[0].gpa, GPA0 + 0x200);
	assert_int_equal(TP[0].bytes[0], 0x48);
	assert_false(TP[0].rearmed);
	assert_ptr_equal(probe_find(&T, VA0 + 0x200), s);
	assert_true(s->suspended);
	assert_int_equal(pg->shadow[0x200], 0x48);   /* the guest's bytes run */
	assert_int_equal(pg->shadow[0x104], 0xcc);   /* the other site lives on */
	/* another write that leaves it unemulatable: no second report */
	probe_page_fault(&T, pg, 0, false, true, false);
	guest[0][0x207] = 0x90;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_int_equal(ntp, 1);
	/* the original bytes back: the probe is re-armed */
	probe_page_fault(&T, pg, 0, false, true, false);
	memcpy(&guest[0][0x200], NOP5, 5);
	uint64_t rearmed = T.rearmed;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_false(s->suspended);
	assert_int_equal(T.rearmed, rearmed + 1);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(s->insn.kind, PROBE_EMUL_SKIP);
	/* the same after the guest's int3 is removed (text_poke_bp's last step) */
	probe_page_fault(&T, pg, 0, false, true, false);
	guest[0][0x104] = 0xcc;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_true(probe_find(&T, VA0 + 0x104)->suspended);
	probe_page_fault(&T, pg, 0, false, true, false);
	guest[0][0x104] = 0x55;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_false(probe_find(&T, VA0 + 0x104)->suspended);
	assert_int_equal(pg->shadow[0x104], 0xcc);
	assert_int_equal(ntp, 1);                    /* no report: the int3 was transient */
}

/* issue 15: the tick's tamper checks */
#define MS 1000ULL                            /* TSC ticks per ms in these tests */
static int tick_at(uint64_t ms, bool kernel, uint64_t cr3)
{
	struct probe_tick_in in = { .now = ms * MS, .tsc_per_ms = MS, .kernel_cr3 = kernel, .cr3 = cr3 };
	return probe_tick(&T, &in);
}

static void test_tamper_int3(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);
	struct probe_site *s = probe_find(&T, VA0 + 0x200);
	probe_site_label(s, "proctrace", "kernel_execve", 0);
	assert_string_equal(s->name, "proctrace:kernel_execve");
	struct probe_page *pg = probe_find_page(&T, GPA0);
	tick_at(100, true, 0x5000);
	/* the guest's int3 appears (a write, then a fetch: suspended) */
	probe_page_fault(&T, pg, 0, false, true, false);
	pg->writer.known = true;
	pg->writer.pid = 77;
	guest[0][0x200] = 0xcc;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_true(s->suspended);
	tick_at(200, true, 0x5000);                 /* seen: the grace period starts */
	tick_at(600, true, 0x5000);                 /* 400 ms: text_poke_bp could still be at work */
	assert_int_equal(ntp, 0);
	tick_at(700, true, 0x5000);                 /* 500 ms: an attack */
	assert_int_equal(ntp, 1);
	assert_string_equal(TP[0].what, "int3");
	assert_string_equal(TPN[0], "proctrace:kernel_execve");
	assert_int_equal(TP[0].ms, 500);
	assert_int_equal(TP[0].gpa, GPA0 + 0x200);
	assert_int_equal(TP[0].page->writer.pid, 77);
	assert_int_equal(TP[0].bytes[0], 0xcc);
	assert_int_equal(TP[0].bytes[1], 0x10);
	assert_false(TP[0].rearmed);
	tick_at(2000, true, 0x5000);                /* once per episode */
	assert_int_equal(ntp, 1);
	/* restored: re-armed at the next fetch; a later int3 is a new episode */
	probe_page_fault(&T, pg, 0, false, true, false);
	memcpy(&guest[0][0x200], CALL, 5);
	tick_at(2100, true, 0x5000);
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_false(s->suspended);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	guest[0][0x200] = 0xcc;                     /* (no fetch: the tick alone sees it) */
	tick_at(2200, true, 0x5000);
	tick_at(2800, true, 0x5000);
	assert_int_equal(ntp, 2);
	/* a transient int3 (gone within the grace period) is never reported */
	guest[0][0x200] = 0xe8;
	tick_at(2900, true, 0x5000);
	guest[0][0x200] = 0xcc;
	tick_at(3000, true, 0x5000);
	tick_at(3400, true, 0x5000);
	guest[0][0x200] = 0xe8;
	tick_at(3500, true, 0x5000);
	tick_at(9000, true, 0x5000);
	assert_int_equal(ntp, 2);
}

static void test_tamper_remap(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);
	assert_int_equal(probe_add(&T, VA0 + 0x104, h2, NULL, why, sizeof(why)), 0);
	struct probe_page *pg = probe_find_page(&T, GPA0);
	uint8_t *shadow0 = pg->shadow;
	/* the rootkit maps a copy of the page (without our int3s: it read the original) */
	memcpy(guest[2], guest[0], 4096);
	remap_to = GPA0 + 0x2000;
	assert_int_equal(tick_at(100, false, 0x5000), 0);   /* user mode: the page tables are not walked */
	assert_int_equal(tick_at(200, true, 0x5000), 0);    /* seen once: not yet */
	assert_int_equal(ntp, 0);
	int plain = F.plain_maps;
	assert_int_equal(tick_at(300, true, 0x5000), 1);    /* twice: moved */
	assert_int_equal(F.plain_maps, plain + 1);          /* the old page: identity again */
	assert_int_equal(pg->gpa, GPA0 + 0x2000);
	assert_ptr_not_equal(pg->shadow, shadow0);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(pg->shadow[0x104], 0xcc);
	view_is(PROBE_SHARED, pg->shadow_pa, 4);
	view_is(3, pg->shadow_pa, 4);
	assert_ptr_equal(probe_find_page(&T, GPA0 + 0x2000), pg);
	assert_null(probe_find_page(&T, GPA0));
	assert_int_equal(ntp, 2);                           /* one per site */
	assert_int_equal(TP[0].bytes[0], 0xe8);              /* the guest's bytes on the copy, not our int3 */
	assert_int_equal(TP[1].bytes[0], 0x55);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(TP[i].what, "remap");
		assert_true(TP[i].rearmed);
		assert_int_equal(TP[i].new_gpa - TP[i].gpa, 0x2000);
	}
	assert_int_equal(T.moves, 1);
	/* stable: nothing more */
	assert_int_equal(tick_at(400, true, 0x5000), 0);
	assert_int_equal(ntp, 2);
	/* a flicker (one check sees another page) moves nothing */
	remap_to = GPA0;
	tick_at(500, true, 0x5000);
	remap_to = GPA0 + 0x2000;
	tick_at(600, true, 0x5000);
	tick_at(700, true, 0x5000);
	assert_int_equal(ntp, 2);
	/* a copy whose site holds an instruction we cannot emulate: moved, reported, not re-armed */
	memcpy(guest[0], guest[2], 4096);
	guest[0][0x200] = 0x48; guest[0][0x201] = 0x89; guest[0][0x202] = 0xe5;
	remap_to = 0;                                       /* back to GPA0, now altered */
	tick_at(800, true, 0x5000);
	assert_int_equal(tick_at(900, true, 0x5000), 1);
	assert_int_equal(pg->gpa, GPA0);
	assert_true(probe_find(&T, VA0 + 0x200)->suspended);
	assert_int_equal(pg->shadow[0x200], 0x48);
	int nremap = 0, nrew = 0;
	for (int i = 0; i < ntp; i++) {
		nremap += !strcmp(TP[i].what, "remap");
		nrew += !strcmp(TP[i].what, "rewrite");
	}
	assert_int_equal(nremap, 4);
	assert_int_equal(nrew, 1);
	assert_int_equal(TP[ntp - 2].va, VA0 + 0x200);         /* the blinded site: not re-armed */
	assert_false(TP[ntp - 2].rearmed);
	assert_int_equal(TP[ntp - 1].va, VA0 + 0x104);         /* its neighbour: live on the new page */
	assert_true(TP[ntp - 1].rearmed);
	/* a remap to a page the probes cannot move to (not readable guest RAM): reported once */
	int n0 = ntp;
	remap_to = GPA0 + 0x7000;
	for (int i = 0; i < 10; i++)
		assert_int_equal(tick_at(1000 + 100 * i, true, 0x5000), 0);
	assert_int_equal(ntp, n0 + 2);
	assert_string_equal(TP[n0].what, "remap");
	assert_false(TP[n0].rearmed);
	assert_int_equal(TP[n0].new_gpa, GPA0 + 0x7000 + 0x200);
	assert_int_equal(pg->gpa, GPA0);
	/* back to the page it is on: nothing; the same remap again later: a new report */
	remap_to = 0;
	tick_at(2100, true, 0x5000);
	remap_to = GPA0 + 0x7000;
	tick_at(2200, true, 0x5000);
	tick_at(2300, true, 0x5000);
	assert_int_equal(ntp, n0 + 4);
}

static void test_tamper_silent(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);   /* fork */
	assert_int_equal(probe_add(&T, VA0 + 0x104, h1, NULL, why, sizeof(why)), 0);   /* exit: not in the group */
	struct probe_site *fork = probe_find(&T, VA0 + 0x200), *ex = probe_find(&T, VA0 + 0x104);
	probe_site_label(fork, "proctrace", "kernel_clone", PROBE_F_EXPECT_NEWMM);
	uint64_t ms = 0, cr3 = 0x10000;
	/* busy and traced: new address spaces, group hits: nothing */
	for (int w = 0; w < 5; w++)
		for (int i = 0; i < 10; i++) {
			fork->hits++;
			tick_at(ms += 100, true, (cr3 += 0x2000) | 0x801);
		}
	assert_int_equal(ntp, 0);
	/* idle: old address spaces only, no hits: nothing */
	for (int i = 0; i < 50; i++)
		tick_at(ms += 100, true, 0x12000 + 0x2000 * (i % 5));
	assert_int_equal(ntp, 0);
	/* the exit probe fires, new address spaces appear, the fork probe is silent */
	for (int i = 0; i < 30; i++) {
		ex->hits++;
		tick_at(ms += 100, true, (cr3 += 0x2000));
	}
	assert_int_equal(ntp, 1);
	assert_string_equal(TP[0].what, "silent");
	assert_string_equal(TPN[0], "proctrace:kernel_clone");
	assert_true(TP[0].new_mm >= PROBE_SILENT_NEWMM);
	assert_int_equal(TP[0].ms, 1000);
	assert_true(probe_find_page(&T, GPA0)->dirty);     /* its bytes are re-read at the next fetch */
	/* KPTI's user root (bit 12) is the same address space as its kernel root */
	uint32_t n = T.mm.n;
	tick_at(ms += 100, true, cr3 | 0x1000);
	assert_int_equal(T.mm.n, n);
	/* once per episode; hits again end it, a later silence is a new one */
	for (int i = 0; i < 30; i++)
		tick_at(ms += 100, true, (cr3 += 0x2000));
	assert_int_equal(ntp, 1);
	for (int i = 0; i < 15; i++) {
		fork->hits++;
		tick_at(ms += 100, true, (cr3 += 0x2000));
	}
	for (int i = 0; i < 30; i++)
		tick_at(ms += 100, true, (cr3 += 0x2000));
	assert_int_equal(ntp, 2);
	/* fewer than PROBE_SILENT_NEWMM new ones per window: nothing */
	for (int i = 0; i < 15; i++) {
		fork->hits++;
		tick_at(ms += 100, true, 0x12000);
	}
	for (int i = 0; i < 50; i++)
		tick_at(ms += 100, true, i % 5 == 0 ? (cr3 += 0x2000) : 0x12000);
	assert_int_equal(ntp, 2);
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

/* issue 15: a return trampoline's site suspended (the guest's int3, a rewrite) or
 * moved while calls are in flight: the shadow keeps a catcher int3 there, so a
 * return is still taken (never handed to the guest, which would re-run the
 * function); an entry reflects the guest's int3 or runs the guest's bytes on
 * that vCPU alone, until its next exit */
static void test_returns_at_suspended(void **st)
{
	char why[128];
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);   /* call: returns land here */
	assert_int_equal(probe_add(&T, VA0 + 0x104, h2, NULL, why, sizeof(why)), 0);   /* push: no returns */
	struct probe_site *s = probe_find(&T, VA0 + 0x200), *o = probe_find(&T, VA0 + 0x104);
	probe_site_label(s, "proctrace", "kernel_clone", PROBE_F_EXPECT_NEWMM | PROBE_F_RETURNS);
	struct probe_page *pg = probe_find_page(&T, GPA0);
	assert_int_equal(probe_bp_action(s, true), PROBE_BP_ENTRY);
	assert_int_equal(probe_bp_action(s, false), PROBE_BP_REFLECT);   /* not an int3 instruction */
	assert_int_equal(probe_bp_action(NULL, true), PROBE_BP_REFLECT);
	/* the guest's int3 on both (text_poke_bp, or an attack): a return is taken at s,
	 * anything else at either is the guest's breakpoint */
	probe_page_fault(&T, pg, 1, false, true, false);
	guest[0][0x200] = 0xcc;
	guest[0][0x104] = 0xcc;
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_true(s->suspended && o->suspended);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(probe_bp_action(s, true), PROBE_BP_RETURN_OR_REFLECT);
	assert_int_equal(probe_bp_action(o, true), PROBE_BP_REFLECT);
	/* rewrites hvmon cannot emulate on both: s keeps hvmon's catcher int3 (the
	 * rest of the guest's instruction after it), o runs the guest's bytes */
	probe_page_fault(&T, pg, 2, false, true, false);
	memcpy(&guest[0][0x200], (const uint8_t[]){ 0x48, 0x89, 0xe5, 0x90, 0x90 }, 5);
	guest[0][0x104] = 0xc3;                      /* ret: not emulated */
	probe_page_fault(&T, pg, 3, true, false, false);
	assert_int_equal(ntp, 2);                    /* both reported: "rewrite" */
	assert_string_equal(TP[0].what, "rewrite");
	assert_int_equal(TP[0].bytes[0], 0x48);      /* the guest's bytes, not the catcher */
	assert_true(s->suspended && o->suspended);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(pg->shadow[0x201], 0x89);
	assert_int_equal(pg->shadow[0x104], 0xc3);
	assert_int_equal(probe_bp_action(s, true), PROBE_BP_RETURN_OR_GUEST);
	assert_int_equal(probe_bp_action(o, true), PROBE_BP_REFLECT);
	/* an entry at s on vCPU 1: that vCPU alone runs the guest's page (R|X);
	 * vCPU 0 keeps the shadow with the catcher, and its returns are taken */
	uint64_t sh = pg->shadow_pa;
	assert_int_equal(probe_guest_view(&T, pg, 1), 0);
	view_is(1, GPA0, 5);
	view_is(0, sh, 4);
	view_is(PROBE_SHARED, sh, 4);
	assert_int_equal(probe_guest_view(&T, pg, 3), 0);   /* several vCPUs at once */
	view_is(3, GPA0, 5);
	assert_int_equal(T.guest_runs, 2);
	/* its next exit: back to the shadow */
	assert_int_equal(probe_guest_view_end(&T, pg, 1), 0);
	view_is(1, sh, 4);
	view_is(3, GPA0, 5);
	/* vCPU 3 wrote the page meanwhile (a data view): the end leaves it alone; the
	 * write made the shadow stale: nobody runs it until the next fetch */
	probe_page_fault(&T, pg, 3, false, true, false);
	view_is(3, GPA0, 3);
	assert_int_equal(probe_guest_view_end(&T, pg, 3), 0);
	view_is(3, GPA0, 3);
	/* a guest view on a stale page never executes it: the fetch re-syncs */
	assert_int_equal(probe_guest_view(&T, pg, 2), 0);
	view_is(2, GPA0, 1);
	probe_page_fault(&T, pg, 2, true, false, false);
	assert_int_equal(pg->shadow[0x200], 0xcc);   /* still suspended: the catcher again */
	view_is(2, pg->shadow_pa, 4);
	assert_int_equal(probe_guest_view(&T, pg, PROBE_MAX_VCPUS), -1);
	/* moved to a copy (remap) whose site holds the rewrite: the catcher follows */
	memcpy(guest[2], guest[0], 4096);
	remap_to = GPA0 + 0x2000;
	tick_at(100, true, 0x5000);
	assert_int_equal(tick_at(200, true, 0x5000), 1);
	assert_int_equal(pg->gpa, GPA0 + 0x2000);
	assert_true(s->suspended);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(pg->shadow[0x104], 0xc3);
	/* the original bytes back: live again (an entry) */
	probe_page_fault(&T, pg, 0, false, true, false);
	memcpy(&guest[2][0x200], CALL, 5);           /* (the copy: GPA0 + 0x2000) */
	probe_page_fault(&T, pg, 0, true, false, false);
	assert_false(s->suspended);
	assert_int_equal(probe_bp_action(s, true), PROBE_BP_ENTRY);
	remap_to = 0;
}

/* issue 15: the kernel's own page tables below the root, walked from guest-physical
 * memory; a change found after a write to one of them moves the probe at once and
 * names the writer */
static void test_pt_walk_and_write(void **st)
{
	char why[128];
	memset(ptm, 0, sizeof(ptm));
	/* root PTM, PDPT PTM+1, PD PTM+2, PT PTM+3 (4 KiB pages), spare PT PTM+4, PML5 PTM+5 */
	const uint64_t P = 1, PS = 0x80;
	ptm[0][511] = (PTM + 0x1000) | P;
	ptm[1][(VA0 >> 30) & 511] = (PTM + 0x2000) | P;
	ptm[2][(VA0 >> 21) & 511] = (PTM + 0x3000) | P;
	ptm[3][0] = GPA0 | P;
	ptm[3][1] = (GPA0 + 0x1000) | P;
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);
	struct probe_site *s = probe_find(&T, VA0 + 0x200);
	probe_site_label(s, "proctrace", "do_exit", 0);
	struct probe_page *pg = probe_find_page(&T, GPA0);
	unsigned pi = (unsigned)(pg - T.pages);
	uint64_t tabs[PROBE_PT_MAX], gpa, walked[4];
	unsigned n;
	assert_int_equal(probe_pt_tables(&T, tabs, PROBE_PT_MAX), 0);   /* nothing learnt yet */
	probe_pt_learn(&T, PTM | 0x5, false);       /* (CR3's low bits are no address) */
	assert_int_equal(T.pt.top[pi], PTM + 0x1000);
	assert_int_equal(probe_pt_walk(&T, T.pt.top[pi], VA0 + 0x200, &gpa, walked, &n), 0);
	assert_int_equal(gpa, GPA0);
	assert_int_equal(n, 3);
	assert_int_equal(probe_pt_tables(&T, tabs, PROBE_PT_MAX), 3);
	assert_int_equal(tabs[0], PTM + 0x1000);
	assert_int_equal(tabs[1], PTM + 0x2000);
	assert_int_equal(tabs[2], PTM + 0x3000);
	/* a second probed page on the same tables: no repeats */
	assert_int_equal(probe_add(&T, VA0 + 0x1010, h1, NULL, why, sizeof(why)), 0);
	probe_pt_learn(&T, PTM, false);
	assert_int_equal(probe_pt_tables(&T, tabs, PROBE_PT_MAX), 3);
	assert_int_equal(probe_pt_tables(&T, tabs, 2), 2);                /* bounded */
	assert_true(T.pt.over >= 1);
	/* a write that changed nothing of ours (another entry of the PT): no report */
	ptm[3][7] = 0x555000 | P;
	assert_int_equal(probe_pt_check(&T, NULL), 0);
	assert_int_equal(ntp, 0);
	/* the rootkit maps a copy of the page: moved at once, the writer named */
	memcpy(guest[2], guest[0], 4096);
	ptm[3][0] = (GPA0 + 0x2000) | P;
	struct probe_writer w = { .known = true, .rip = 0xffffffffc0001234ULL, .pid = 42, .tgid = 42 };
	assert_int_equal(probe_pt_check(&T, &w), 1);
	assert_int_equal(pg->gpa, GPA0 + 0x2000);
	assert_int_equal(pg->shadow[0x200], 0xcc);
	assert_int_equal(ntp, 1);
	assert_string_equal(TP[0].what, "remap");
	assert_string_equal(TPN[0], "proctrace:do_exit");
	assert_int_equal(TP[0].new_gpa, GPA0 + 0x2200);
	assert_true(TP[0].rearmed);
	assert_non_null(TP[0].pt_writer);
	assert_int_equal(TP[0].pt_writer->pid, 42);
	assert_int_equal(T.pt.changes, 1);
	assert_int_equal(probe_pt_check(&T, &w), 0);                      /* stable */
	/* a 2 MiB mapping split into a new PT (same frames): the new table is on the walk */
	ptm[4][0] = (GPA0 + 0x2000) | P;
	ptm[4][1] = (GPA0 + 0x1000) | P;
	ptm[2][(VA0 >> 21) & 511] = (PTM + 0x4000) | P;
	assert_int_equal(probe_pt_check(&T, &w), 0);
	assert_int_equal(probe_pt_tables(&T, tabs, PROBE_PT_MAX), 3);
	assert_int_equal(tabs[2], PTM + 0x4000);
	/* a 2 MiB leaf somewhere the probes cannot go (not guest RAM here): reported once, not moved */
	ptm[2][(VA0 >> 21) & 511] = 0x40000000 | P | PS;
	assert_int_equal(probe_pt_walk(&T, T.pt.top[pi], VA0 + 0x200, &gpa, walked, &n), 0);
	assert_int_equal(gpa, 0x40000000 + (VA0 & 0x1fffff));
	assert_int_equal(n, 2);
	int before = ntp;
	assert_int_equal(probe_pt_check(&T, &w), 0);
	assert_true(ntp > before);
	assert_false(TP[ntp - 1].rearmed);
	before = ntp;
	probe_pt_check(&T, &w);
	assert_int_equal(ntp, before);                                     /* once per target */
	/* not present: nothing to compare */
	ptm[1][(VA0 >> 30) & 511] = 0;
	assert_int_equal(probe_pt_walk(&T, T.pt.top[pi], VA0 + 0x200, &gpa, walked, &n), -1);
	assert_int_equal(probe_pt_check(&T, &w), 0);
	/* 5-level paging: the root is a PML5, the top a PML4 */
	ptm[1][(VA0 >> 30) & 511] = (PTM + 0x2000) | P;
	ptm[2][(VA0 >> 21) & 511] = (PTM + 0x3000) | P;
	ptm[5][511] = PTM | P;
	memset(T.pt.top, 0, sizeof(T.pt.top));
	probe_pt_learn(&T, PTM + 0x5000, true);
	assert_int_equal(T.pt.top[pi], PTM);
	assert_int_equal(probe_pt_walk(&T, T.pt.top[pi], VA0 + 0x200, &gpa, walked, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(gpa, GPA0 + 0x2000);
}

/* issue 15: ONE address space maps the probed VA to a copy (its root's kernel-half
 * entry points to copied tables) while the kernel's shared tables still map the
 * probed page: reported once per target as remap_mm, the probe never moves (it
 * would leave every other process unprobed); a remap in the shared tables still moves */
static void test_tamper_remap_mm(void **st)
{
	char why[128];
	memset(ptm, 0, sizeof(ptm));
	const uint64_t P = 1;
	ptm[0][511] = (PTM + 0x1000) | P;
	ptm[1][(VA0 >> 30) & 511] = (PTM + 0x2000) | P;
	ptm[2][(VA0 >> 21) & 511] = (PTM + 0x3000) | P;
	ptm[3][0] = GPA0 | P;
	ptm[3][1] = (GPA0 + 0x1000) | P;
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);
	assert_int_equal(probe_add(&T, VA0 + 0x104, h2, NULL, why, sizeof(why)), 0);
	probe_site_label(probe_find(&T, VA0 + 0x200), "proctrace", "kernel_clone", PROBE_F_EXPECT_NEWMM);
	struct probe_page *pg = probe_find_page(&T, GPA0);
	uint8_t *shadow0 = pg->shadow;
	/* the shared tables (learnt from any kernel CR3) map GPA0; this vCPU's CR3 (the
	 * process with the private kernel half) maps the copy */
	memcpy(guest[2], guest[0], 4096);
	/* a private root (PTM+5: its own PDPT PTM+6 -> PD PTM+7 -> PT PTM+4 with the copy) is
	 * never learnt as the kernel's tables: it does not map the probed page */
	ptm[5][511] = (PTM + 0x6000) | P;
	ptm[6][(VA0 >> 30) & 511] = (PTM + 0x7000) | P;
	ptm[7][(VA0 >> 21) & 511] = (PTM + 0x4000) | P;
	ptm[4][0] = (GPA0 + 0x2000) | P;
	ptm[4][1] = (GPA0 + 0x1000) | P;
	probe_pt_learn(&T, PTM + 0x5000, false);
	assert_int_equal(T.pt.top[pg - T.pages], 0);
	probe_pt_learn(&T, PTM, false);
	assert_int_equal(T.pt.top[pg - T.pages], PTM + 0x1000);
	remap_to = GPA0 + 0x2000;
	struct probe_tick_in idle = { .now = 50 * MS, .tsc_per_ms = MS, .kernel_cr3 = true, .cr3 = 0x5000,
				      .halted = true };
	assert_int_equal(probe_tick(&T, &idle), 0);    /* the idle task on its CR3: not named */
	assert_int_equal(ntp, 0);
	assert_int_equal(tick_at(100, true, 0x5000), 0);
	assert_int_equal(ntp, 2);                      /* one per site, at the first check in a task */
	for (int i = 0; i < 2; i++) {
		assert_string_equal(TP[i].what, "remap_mm");
		assert_false(TP[i].rearmed);
		assert_int_equal(TP[i].new_gpa - TP[i].gpa, 0x2000);
		assert_null(TP[i].pt_writer);
	}
	assert_string_equal(TPN[0], "proctrace:kernel_clone");
	assert_int_equal(TP[0].nbytes, 5);
	assert_int_equal(TP[0].bytes[0], 0xe8);         /* the copy's bytes: the original call, no int3 */
	for (uint64_t ms = 200; ms <= 600; ms += 100)
		assert_int_equal(tick_at(ms, true, 0x5000), 0);   /* never moved, not reported again */
	assert_int_equal(ntp, 2);
	assert_int_equal(pg->gpa, GPA0);
	assert_ptr_equal(pg->shadow, shadow0);
	assert_int_equal(T.moves, 0);
	assert_int_equal(T.mm_remaps, 1);
	/* other processes (the shared view) in between, then the same copy: still once */
	remap_to = 0;
	tick_at(700, true, 0x6000);
	remap_to = GPA0 + 0x2000;
	tick_at(800, true, 0x5000);
	assert_int_equal(ntp, 2);
	/* the shared tables now map the copy too (a remap for everyone): moved, "remap" */
	ptm[3][0] = (GPA0 + 0x2000) | P;
	tick_at(900, true, 0x5000);
	assert_int_equal(tick_at(1000, true, 0x5000), 1);
	assert_int_equal(pg->gpa, GPA0 + 0x2000);
	assert_string_equal(TP[ntp - 1].what, "remap");
	assert_true(TP[ntp - 1].rearmed);
	assert_int_equal(T.mm_remaps, 1);
	remap_to = 0;
}

/* issue 15: a private kernel half is put back (its root entry := the kernel's), found
 * from a kernel-mode sample (CR3's root) or a user-mode one (KPTI: the other page of
 * the 8 KiB pair, when the two agree on the user half); the copies are never probed */
static const uint64_t PP = 1, NX = 1ULL << 63, AB = 0x20;
static void private_half_tables(void)
{
	/* the kernel: root PTM -> PDPT PTM+1 -> PD PTM+2 -> PT PTM+3 -> GPA0 */
	ptm[0][511] = (PTM + 0x1000) | PP | 0x62;
	ptm[1][(VA0 >> 30) & 511] = (PTM + 0x2000) | PP;
	ptm[2][(VA0 >> 21) & 511] = (PTM + 0x3000) | PP;
	ptm[3][0] = GPA0 | PP;
	ptm[3][1] = (GPA0 + 0x1000) | PP;
	/* the attacker's tables: PDPT PTM+6 -> PD PTM+7 -> PT PTM+4 with the copy (guest[2]) */
	ptm[6][(VA0 >> 30) & 511] = (PTM + 0x7000) | PP;
	ptm[7][(VA0 >> 21) & 511] = (PTM + 0x4000) | PP;
	ptm[4][0] = (GPA0 + 0x2000) | PP;
	ptm[4][1] = (GPA0 + 0x1000) | PP;
	/* a process: kernel root PTM+8 (its user half: one entry), KPTI user root PTM+9 */
	ptm[8][0] = 0x7000000 | PP | NX;
	ptm[9][0] = 0x7000000 | PP | AB;
	ptm[8][511] = ptm[0][511];
	ptm[9][511] = 0x7100000 | PP;        /* KPTI's user tables: the entry trampoline only */
}

static void test_private_half_put_back(void **st)
{
	char why[128];
	private_half_tables();
	assert_int_equal(probe_add(&T, VA0 + 0x200, h1, NULL, why, sizeof(why)), 0);
	assert_int_equal(probe_add(&T, VA0 + 0x1010, h2, NULL, why, sizeof(why)), 0);   /* 2nd page */
	probe_site_label(probe_find(&T, VA0 + 0x200), "proctrace", "kernel_clone", PROBE_F_EXPECT_NEWMM);
	struct probe_page *pg = probe_find_page(&T, GPA0);
	uint8_t *shadow0 = pg->shadow;
	memcpy(guest[2], guest[0], 4096);
	probe_pt_learn(&T, PTM, false);
	assert_int_equal(T.pt.root_e[pg - T.pages], ptm[0][511]);
	/* the pair: user root PTM+9 -> kernel root PTM+8; not a pair -> CR3's own root */
	assert_int_equal(probe_kernel_root(&T, PTM + 0x9000 + 3, false), PTM + 0x8000);
	assert_int_equal(probe_kernel_root(&T, PTM + 0x9000, true), PTM + 0x9000);
	assert_int_equal(probe_kernel_root(&T, PTM + 0x1000, false), PTM + 0x1000);   /* PTM's user half: empty */
	ptm[9][7] = 0x7200000 | PP;
	assert_int_equal(probe_kernel_root(&T, PTM + 0x9000, false), PTM + 0x9000);
	ptm[9][7] = 0;
	/* clean process: nothing, no write */
	assert_int_equal(tick_at(100, false, PTM + 0x9000), 0);
	assert_int_equal(tick_at(200, true, PTM + 0x8000), 0);
	assert_int_equal(ntp, 0);
	assert_int_equal(wphys_n, 0);
	/* the attacker gives it a private kernel half; a user-mode sample finds it */
	ptm[8][511] = (PTM + 0x6000) | PP | 0x62;
	struct probe_tick_in idle = { .now = 250 * MS, .tsc_per_ms = MS, .kernel_cr3 = true, .cr3 = PTM + 0x8000,
				      .halted = true };
	assert_int_equal(probe_tick(&T, &idle), 0);       /* the idle task on its CR3: nothing */
	assert_int_equal(ntp, 0);
	assert_int_equal(tick_at(300, false, PTM + 0x9000 + 5), 0);
	assert_int_equal(ntp, 1);                          /* kernel_clone's page; the 2nd page is not copied */
	assert_string_equal(TP[0].what, "remap_mm");
	assert_string_equal(TPN[0], "proctrace:kernel_clone");
	assert_true(TP[0].rearmed);                        /* put back: it runs the probed page again */
	assert_int_equal(TP[0].new_gpa, GPA0 + 0x2200);
	assert_int_equal(TP[0].gpa, GPA0 + 0x200);
	assert_int_equal(TP[0].bytes[0], 0xe8);            /* the copy's bytes */
	assert_int_equal(ptm[8][511], ptm[0][511]);        /* the kernel's entry, flags and all */
	assert_int_equal(wphys_n, 1);
	assert_int_equal(T.mm_restores, 1);
	assert_int_equal(T.mm_user, 1);
	/* the probe never moved; the copy is not probed (no page for it) */
	assert_int_equal(pg->gpa, GPA0);
	assert_ptr_equal(pg->shadow, shadow0);
	assert_null(probe_find_page(&T, GPA0 + 0x2000));
	assert_int_equal(T.moves, 0);
	/* stable now */
	for (uint64_t ms = 400; ms <= 700; ms += 100)
		assert_int_equal(tick_at(ms, ms & 1, PTM + 0x8000), 0);
	assert_int_equal(ntp, 1);
	assert_int_equal(wphys_n, 1);
	/* the attacker writes it again: put back again at the next check, not reported again */
	ptm[8][511] = (PTM + 0x6000) | PP | 0x62;
	assert_int_equal(tick_at(800, true, PTM + 0x8000), 0);
	assert_int_equal(ptm[8][511], ptm[0][511]);
	assert_int_equal(ntp, 1);
	assert_int_equal(T.mm_restores, 2);
	/* the copy reused for someone's data: nothing of hvmon's there, nothing reported */
	memset(guest[2], 0x41, 4096);
	assert_int_equal(tick_at(900, true, PTM + 0x8000), 0);
	assert_int_equal(ntp, 1);
	assert_null(probe_find_page(&T, GPA0 + 0x2000));
	/* both pages copied (page 1 onto the same frame), and a write hvmon may not make
	 * (refused): reported, not re-armed */
	ptm[7][(VA0 >> 21) & 511] = (PTM + 0x5000) | PP;
	ptm[5][0] = (GPA0 + 0x2000) | PP;                  /* another copy of page 0 ... */
	ptm[5][1] = (GPA0 + 0x2000) | PP;                  /* ... and page 1 on the same frame */
	memcpy(guest[2], guest[0], 4096);
	ptm[8][511] = (PTM + 0x6000) | PP | 0x62;
	T.ops.write_phys64 = NULL;
	assert_int_equal(tick_at(1000, true, PTM + 0x8000), 0);
	assert_int_equal(ntp, 2);                          /* page 1: new; page 0: the same copy, once */
	assert_string_equal(TP[1].what, "remap_mm");
	assert_int_equal(TP[1].va, VA0 + 0x1010);
	assert_false(TP[1].rearmed);
	assert_int_equal(ptm[8][511], (PTM + 0x6000) | PP | 0x62);
	assert_int_equal(T.mm_restores, 2);
	assert_int_equal(pg->gpa, GPA0);
	T.ops.write_phys64 = f_wphys64;
	/* a remap of the kernel's own tables is no private half: it moves (two checks) */
	ptm[8][511] = ptm[0][511];
	ptm[3][0] = (GPA0 + 0x2000) | PP;
	remap_to = GPA0 + 0x2000;
	tick_at(1100, true, PTM + 0x8000);
	assert_int_equal(tick_at(1200, true, PTM + 0x8000), 1);
	assert_string_equal(TP[ntp - 1].what, "remap");
	assert_int_equal(pg->gpa, GPA0 + 0x2000);
	remap_to = 0;
}

/* issue 15: the silent check's address spaces: a root page reused by a new process
 * (other user tables) is a new address space; KPTI's pair is one; the least
 * recently seen is forgotten first */
static void test_silent_mm_identity(void **st)
{
	const uint64_t R = PTM + 0x8000;
	ptm[8][0] = 0x7000000 | PP | NX;
	ptm[9][0] = 0x7000000 | PP | AB;
	tick_at(100, true, R);
	assert_int_equal(T.newmm, 1);
	tick_at(200, false, R + 0x1000);                   /* its KPTI user root: the same */
	tick_at(300, true, R | 0x3);                       /* PCID bits: the same */
	assert_int_equal(T.newmm, 1);
	/* the process exits, a new one gets the same root page with its own tables */
	ptm[8][0] = 0x7300000 | PP | NX;
	ptm[8][255] = 0x7400000 | PP | NX;
	tick_at(400, true, R);
	assert_int_equal(T.newmm, 2);
	tick_at(500, true, R);
	assert_int_equal(T.newmm, 2);
	/* full: 256 others, R seen now and then, is never forgotten */
	uint64_t ms = 600;
	for (unsigned i = 0; i < PROBE_MM_SLOTS + 20; i++) {
		tick_at(ms += 100, true, 0x40000000 + 0x2000ULL * i);
		if (i % 50 == 0)
			tick_at(ms += 100, true, R);
	}
	assert_int_equal(T.newmm, 2 + PROBE_MM_SLOTS + 20);
	assert_int_equal(T.mm.n, PROBE_MM_SLOTS);
	tick_at(ms += 100, true, R);
	assert_int_equal(T.newmm, 2 + PROBE_MM_SLOTS + 20);
	tick_at(ms += 100, true, 0x40000000);               /* the oldest: forgotten, new again */
	assert_int_equal(T.newmm, 3 + PROBE_MM_SLOTS + 20);
}

/* a site shared by several monitors keeps the name of the one whose duty (flags) it carries */
static void test_site_claim(void **st)
{
	struct probe_site s;
	memset(&s, 0, sizeof(s));
	probe_site_claim(&s, "proctrace", "kernel_execve", PROBE_F_EXPECT_NEWMM | PROBE_F_RETURNS);
	probe_site_claim(&s, "integrity", "kernel_execve", 0);            /* later, no new duty */
	assert_string_equal(s.name, "proctrace:kernel_execve");
	probe_site_claim(&s, "keylogger", NULL, 0);
	assert_string_equal(s.name, "proctrace:kernel_execve");
	assert_int_equal(s.flags, PROBE_F_EXPECT_NEWMM | PROBE_F_RETURNS);
	memset(&s, 0, sizeof(s));
	probe_site_claim(&s, "integrity", "kernel_execve", 0);            /* first */
	assert_string_equal(s.name, "integrity:kernel_execve");
	probe_site_claim(&s, "proctrace", "kernel_execve", PROBE_F_EXPECT_NEWMM);
	assert_string_equal(s.name, "proctrace:kernel_execve");
	probe_site_claim(&s, "other", "x", PROBE_F_EXPECT_NEWMM);          /* nothing new */
	assert_string_equal(s.name, "proctrace:kernel_execve");
	memset(&s, 0, sizeof(s));
	probe_site_claim(&s, "hang", NULL, 0);
	assert_string_equal(s.name, "hang");
	probe_site_claim(&s, "proctrace", "do_exit", PROBE_F_RETURNS);
	assert_string_equal(s.name, "proctrace:do_exit");
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
		cmocka_unit_test_setup(test_tamper_int3, setup),
		cmocka_unit_test_setup(test_tamper_remap, setup),
		cmocka_unit_test_setup(test_tamper_silent, setup),
		cmocka_unit_test_setup(test_returns_at_suspended, setup),
		cmocka_unit_test_setup(test_pt_walk_and_write, setup),
		cmocka_unit_test_setup(test_tamper_remap_mm, setup),
		cmocka_unit_test_setup(test_private_half_put_back, setup),
		cmocka_unit_test_setup(test_silent_mm_identity, setup),
		cmocka_unit_test_setup(test_site_claim, setup),
		cmocka_unit_test_setup(test_table_full, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
