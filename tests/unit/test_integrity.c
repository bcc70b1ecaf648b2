/* Unit tests for monitors/integrity_core.c: MSR baselines, CR0.WP, IDTR/GDTR samples, report rate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "monitors/integrity.h"
#include "monitors/integrity_sites.h"
#include <stdlib.h>

#define WP INTEG_CR0_WP
#define PG INTEG_CR0_PG
#define PE 1ULL

static void test_msr_index(void **st)
{
	(void)st;
	assert_int_equal(integ_msr_index(0xc0000082), INTEG_LSTAR);
	assert_int_equal(integ_msr_index(0x174), INTEG_SYSENTER_CS);
	assert_int_equal(integ_msr_index(0x175), INTEG_SYSENTER_ESP);
	assert_int_equal(integ_msr_index(0x176), INTEG_SYSENTER_EIP);
	assert_int_equal(integ_msr_index(0xc0000081), -1);      /* STAR: not watched */
	assert_int_equal(integ_msr_index(0xc0000083), -1);
	for (unsigned i = 0; i < INTEG_NREG; i++)
		assert_int_equal(integ_msr_index(integ_msr_of(i)), (int)i);
	assert_string_equal(integ_reg_name(INTEG_LSTAR), "lstar");
	assert_string_equal(integ_reg_name(INTEG_SYSENTER_EIP), "sysenter_eip");
	assert_true(integ_reg_per_vcpu(INTEG_SYSENTER_ESP));
	assert_false(integ_reg_per_vcpu(INTEG_LSTAR));
}

/* The boot CPU sets the baseline; APs and S3 resume write it again; a hook
 * is another value; restoring the original is not a change. */
static void test_baseline(void **st)
{
	(void)st;
	struct integ_baseline b = { 0 };
	uint64_t entry = 0xffffffff81a00080ull;
	assert_int_equal(integ_check_write(&b, entry), INTEG_FIRST);
	assert_int_equal(integ_check_write(&b, entry), INTEG_SAME);          /* AP's syscall_init */
	assert_int_equal(integ_check_write(&b, 0xffffffffc0a01000ull), INTEG_CHANGED);   /* hook */
	assert_int_equal(integ_check_write(&b, entry), INTEG_SAME);          /* rootkit restores */
	assert_int_equal(integ_check_write(&b, 0), INTEG_CHANGED);
	assert_int_equal(b.value, entry);                                    /* never moved */
}

static struct integ_baseline race;
static int race_first;
static void *racer(void *arg)
{
	if (integ_check_write(&race, (uint64_t)(uintptr_t)arg) == INTEG_FIRST)
		__atomic_fetch_add(&race_first, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Several vCPUs writing first at once: exactly one baseline. */
static void test_baseline_race(void **st)
{
	(void)st;
	for (int round = 0; round < 200; round++) {
		pthread_t t[4];
		memset(&race, 0, sizeof(race));
		race_first = 0;
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, racer, (void *)(uintptr_t)(0x1000 + i));
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		assert_int_equal(race_first, 1);
		assert_int_equal(race.set, 1);
		assert_true(race.value >= 0x1000 && race.value < 0x1004);
	}
}

static void test_cr0_wp(void **st)
{
	(void)st;
	uint64_t on = PE | PG | WP | 0x33;
	assert_true(integ_cr0_clears_wp(on, on & ~WP));             /* the rootkit's write */
	assert_false(integ_cr0_clears_wp(on, on));                   /* same value (S3 restore) */
	assert_false(integ_cr0_clears_wp(on & ~WP, on));             /* setting WP */
	assert_false(integ_cr0_clears_wp(on & ~WP, on & ~WP));       /* already clear */
	assert_false(integ_cr0_clears_wp(on, PE | 0x10));            /* leaving paging (real-mode reboot) */
	assert_false(integ_cr0_clears_wp(0x10, PE | 0x10));          /* AP trampoline: WP never set */
}

static void test_dtr(void **st)
{
	(void)st;
	struct integ_dtr d = { 0 };
	uint64_t idt = 0xfffffe0000000000ull, copy = 0xffff888003a4c000ull;
	/* an AP in its bring-up: real-mode and early tables, kernel mode: no baseline yet */
	assert_false(integ_dtr_sample(&d, 0, 0xffff, false));
	assert_false(integ_dtr_sample(&d, 0xffff888001a3c000ull, 0xfff, false));
	assert_false(d.set);
	assert_false(integ_dtr_sample(&d, idt, 0xfff, true));    /* first user-mode sample: baseline */
	assert_true(d.set);
	assert_false(integ_dtr_sample(&d, idt, 0xfff, false));
	assert_true(integ_dtr_sample(&d, copy, 0xfff, false));   /* lidt of a copy (kernel mode): once */
	assert_false(integ_dtr_sample(&d, copy, 0xfff, true));
	assert_true(integ_dtr_sample(&d, copy, 0x7ff, false));   /* another deviation */
	assert_false(integ_dtr_sample(&d, idt, 0xfff, false));   /* restored: nothing, re-armed */
	assert_true(integ_dtr_sample(&d, copy, 0xfff, true));    /* the same copy again: reported again */
	assert_int_equal(d.base, idt);
	assert_int_equal(d.limit, 0xfff);
}

/* Trapped LGDT/LIDT (descriptor-table exiting): the baseline from boot, the
 * kernel's own fixmap/direct GDT switch, an empty table, a copy. */
static void test_dtr_trapped(void **st)
{
	(void)st;
	struct integ_dtr d = { 0 };
	uint64_t fixmap = 0xfffffe0000001000ull, direct = 0xffff88807fc0c000ull, copy = 0xffff888003a4c000ull;
	assert_int_equal(integ_dtr_load(&d, copy, 0x7f, false), INTEG_DTR_NONE);      /* no baseline: nothing */
	/* a restarted vCPU takes it only in user mode; otherwise at once */
	assert_false(integ_dtr_baseline(&d, 0, 0xffff, true, false));
	assert_true(integ_dtr_baseline(&d, fixmap, 0x7f, true, true));
	assert_true(integ_dtr_baseline(&d, copy, 0x7f, false, false));              /* kept: not retaken */
	assert_int_equal(d.base, fixmap);
	assert_int_equal(integ_dtr_load(&d, fixmap, 0x7f, false), INTEG_DTR_SAME);
	assert_int_equal(integ_dtr_load(&d, direct, 0x7f, true), INTEG_DTR_SAME);    /* same page: the LTR dance */
	assert_int_equal(integ_dtr_load(&d, direct, 0x7f, false), INTEG_DTR_CHANGED);
	assert_int_equal(integ_dtr_load(&d, copy, 0x7f, false), INTEG_DTR_CHANGED);
	assert_int_equal(integ_dtr_load(&d, fixmap, 0xff, false), INTEG_DTR_CHANGED); /* a longer table: changed */
	assert_int_equal(integ_dtr_load(&d, 0, 0, false), INTEG_DTR_EMPTY);          /* kexec / triple-fault reboot */
	struct integ_dtr e = { 0 };
	assert_true(integ_dtr_baseline(&e, fixmap, 0x7f, false, false));           /* not restarted: kernel mode too */
}

static void test_rate(void **st)
{
	(void)st;
	assert_false(integ_should_report(0));
	for (uint64_t n = 1; n <= 16; n++)
		assert_true(integ_should_report(n));
	assert_false(integ_should_report(17));
	assert_false(integ_should_report(31));
	assert_true(integ_should_report(32));
	assert_false(integ_should_report(33));
	assert_true(integ_should_report(1ull << 40));
	unsigned reported = 0;
	for (uint64_t n = 1; n <= 100000; n++)
		reported += integ_should_report(n);
	assert_int_equal(reported, 16 + 12);      /* 1..16, then 32, 64, ..., 65536 */
}

static void test_writer(void **st)
{
	(void)st;
	uint64_t w = 2, lin = 1u << 7, phys = 1u << 8;     /* qualification: write, linear valid, not paging */
	assert_int_equal(integ_writer_of(w | lin | phys, 0x7f1234560000ull, 0), INTEG_W_POKE);   /* poking_mm */
	assert_int_equal(integ_writer_of(w | lin | phys, 0xffffc90000123000ull, 0), INTEG_W_KERNEL); /* vmap alias */
	assert_int_equal(integ_writer_of(w | lin | phys, 0xffffffff81000000ull, 0), INTEG_W_KERNEL); /* CR0.WP off */
	assert_int_equal(integ_writer_of(w | lin | phys, 0x400000, 3), INTEG_W_USER);
	assert_int_equal(integ_writer_of(w | lin, 0xffff888000001000ull, 0), INTEG_W_PAGING);      /* A/D update */
	assert_int_equal(integ_writer_of(w, 0, 0), INTEG_W_KERNEL);   /* no linear address */
	assert_string_equal(integ_writer_name(INTEG_W_POKE), "text_poke");
	assert_string_equal(integ_region_name(INTEG_R_SCT), "syscall_table");
}

static uint8_t pg_old[4096], pg_new[4096];

static void page_with(const uint8_t *a, const uint8_t *b, uint32_t off, uint32_t n)
{
	memset(pg_old, 0x41, sizeof(pg_old));          /* inc %ecx-ish filler: not a patch opcode */
	memcpy(pg_new, pg_old, sizeof(pg_new));
	memcpy(pg_old + off, a, n);
	memcpy(pg_new + off, b, n);
}

static enum integ_severity sev(enum integ_region r, enum integ_writer w)
{
	struct integ_diff d;
	integ_diff(pg_old, pg_new, 4096, &d);
	return integ_classify(r, w, pg_old, pg_new, 4096, &d);
}

static void test_diff(void **st)
{
	(void)st;
	struct integ_diff d;
	page_with((const uint8_t *)"\x0f\x1f\x44\x00\x00", (const uint8_t *)"\xe8\x10\x20\x00\x00", 100, 5);
	integ_diff(pg_old, pg_new, 4096, &d);
	assert_int_equal(d.changed, 3);                 /* 0f->e8, 1f->10, 44->20; the zeros stay */
	assert_int_equal(d.first, 100);
	assert_int_equal(d.span, 3);
	assert_int_equal(d.in_span, 3);
	integ_diff(pg_old, pg_old, 4096, &d);
	assert_int_equal(d.changed, 0);
	assert_int_equal(d.first, 4096);
}

/* The kernel's own patch steps through text_poke are "patch"; the same bytes
 * written any other way, or other bytes, are attacks. */
static void test_classify(void **st)
{
	(void)st;
	static const struct { const char *a, *b; unsigned n; } patch[] = {
		{ "\x0f\x1f\x44\x00\x00", "\xe8\x10\x20\x30\x00", 5 },   /* ftrace: nop5 -> call */
		{ "\xe8\x10\x20\x30\x00", "\x0f\x1f\x44\x00\x00", 5 },   /* and back */
		{ "\x0f\x1f\x44\x00\x00", "\xcc\x1f\x44\x00\x00", 5 },   /* text_poke_bp: int3 first */
		{ "\xcc\x1f\x44\x00\x00", "\xcc\x10\x20\x30\x00", 5 },   /* then the tail */
		{ "\xcc\x10\x20\x30\x00", "\xe9\x10\x20\x30\x00", 5 },   /* then the head */
		{ "\xe8\x10\x20\x30\x40", "\xe8\x11\x22\x30\x40", 5 },   /* static call: new target */
		{ "\x66\x90", "\xeb\x20", 2 },                          /* 2-byte jump label */
		{ "\xeb\x20", "\xeb\x30", 2 },                          /* its target */
		{ "\x3e", "\xf0", 1 },                                    /* SMP alternatives: lock */
		{ "\xe8\x10\x20\x30\x40", "\xc3\xcc\xcc\xcc\xcc", 5 },   /* static call to ret */
	};
	for (unsigned i = 0; i < sizeof(patch) / sizeof(patch[0]); i++) {
		page_with((const uint8_t *)patch[i].a, (const uint8_t *)patch[i].b, 2000, patch[i].n);
		assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_PATCH);
		assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_KERNEL), INTEG_SEV_ATTACK);   /* not through text_poke */
		assert_int_equal(sev(INTEG_R_RODATA, INTEG_W_POKE), INTEG_SEV_ATTACK);   /* data is never patched */
		assert_int_equal(sev(INTEG_R_SCT, INTEG_W_POKE), INTEG_SEV_ATTACK);
		assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_PAGING), INTEG_SEV_NONE);
	}
	static const struct { const char *a, *b; unsigned n; } attack[] = {
		{ "\x55\x48\x89\xe5\x41", "\xe9\x10\x20\x30\x00", 5 },   /* prologue -> jmp: a hook */
		{ "\x0f\x1f\x44\x00\x00\x55\x48", "\x0f\x1f\x44\x00\x00\x90\x90", 7 },   /* code after the site */
		{ "\x48\x89\xe5", "\x48\x89\xe6", 3 },                  /* one byte of an instruction */
		{ "\x0f\x1f\x44\x00\x00\x41\x41\x41", "\xe9\x01\x02\x03\x04\x05\x06\x07", 8 },   /* 8 bytes */
	};
	for (unsigned i = 0; i < sizeof(attack) / sizeof(attack[0]); i++) {
		page_with((const uint8_t *)attack[i].a, (const uint8_t *)attack[i].b, 2000, attack[i].n);
		assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_ATTACK);
	}
	/* a batch of jump labels: several sites of one page in one window */
	page_with((const uint8_t *)"\x0f\x1f\x44\x00\x00", (const uint8_t *)"\xe9\x10\x20\x00\x00", 10, 5);
	memcpy(pg_old + 300, "\x66\x90", 2);
	memcpy(pg_new + 300, "\xeb\x7f", 2);
	memcpy(pg_old + 305, "\xe9\x01\x02\x03\x04", 5);
	memcpy(pg_new + 305, "\x0f\x1f\x44\x00\x00", 5);
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_PATCH);
	memcpy(pg_new + 4000, "\x90", 1);                      /* plus one stray byte */
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_ATTACK);
	/* three adjacent 2-byte jump labels flipped together (seen in Bochs: schedstats) */
	page_with((const uint8_t *)"\x66\x90\x66\x90\x66\x90", (const uint8_t *)"\xeb\x54\xeb\x45\xeb\x21", 3859, 6);
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_PATCH);
	page_with((const uint8_t *)"\xcc\x54\xcc\x45\xcc\x21", (const uint8_t *)"\x66\x90\x66\x90\x66\x90", 3859, 6);
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_PATCH);   /* and back, from the int3 step */
	/* a write that left the page as it was, through text_poke: patch; directly: attack */
	page_with((const uint8_t *)"\x90", (const uint8_t *)"\x90", 0, 1);
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_PATCH);
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_KERNEL), INTEG_SEV_ATTACK);
	/* a site at the very end of the page (no byte after the opcode to look at) */
	page_with((const uint8_t *)"\x0f", (const uint8_t *)"\xe8", 4095, 1);
	assert_int_equal(sev(INTEG_R_TEXT, INTEG_W_POKE), INTEG_SEV_ATTACK);   /* 0f alone is no NOPL */
}

/* integrity_action=block for image writes: only an attack that changed bytes is
 * reverted, and only the runs of bytes that changed are written back. */
static void test_revert(void **st)
{
	(void)st;
	assert_true(integ_should_revert(INTEG_SEV_ATTACK, true, 1));
	assert_false(integ_should_revert(INTEG_SEV_ATTACK, false, 1));   /* report */
	assert_false(integ_should_revert(INTEG_SEV_PATCH, true, 5));     /* the kernel's patching lands */
	assert_false(integ_should_revert(INTEG_SEV_NONE, true, 8));      /* A/D bits of a paging structure */
	assert_false(integ_should_revert(INTEG_SEV_ATTACK, true, 0));    /* made and undone: nothing to put back */
	page_with((const uint8_t *)"\x55\x48\x89\xe5\x41", (const uint8_t *)"\xe9\x48\x10\x20\x41", 10, 5);
	pg_new[0] ^= 1;
	pg_new[4095] ^= 0x80;
	uint32_t off = 99, len, from = 0, runs[5][2], nr = 0;
	while ((len = integ_next_run(pg_old, pg_new, 4096, from, &off)) != 0 && nr < 5) {
		runs[nr][0] = off;
		runs[nr++][1] = len;
		from = off + len;
	}
	assert_int_equal(nr, 4);
	assert_int_equal(runs[0][0], 0);                 /* the first byte of the page */
	assert_int_equal(runs[0][1], 1);
	assert_int_equal(runs[1][0], 10);                /* e9 over 55; 48 unchanged splits the run */
	assert_int_equal(runs[1][1], 1);
	assert_int_equal(runs[2][0], 12);                /* 89 e5 -> 10 20 */
	assert_int_equal(runs[2][1], 2);
	assert_int_equal(runs[3][0], 4095);              /* the last byte of the page */
	assert_int_equal(runs[3][1], 1);
	assert_int_equal(integ_next_run(pg_old, pg_new, 4096, 14, &off), 1);
	assert_int_equal(off, 4095);
	assert_int_equal(integ_next_run(pg_old, pg_new, 4096, 4096, &off), 0);
	assert_int_equal(integ_next_run(pg_old, pg_old, 4096, 0, &off), 0);
	/* reverting run by run gives the page back */
	for (from = 0; (len = integ_next_run(pg_old, pg_new, 4096, from, &off)) != 0; from = off + len)
		memcpy(pg_new + off, pg_old + off, len);
	assert_memory_equal(pg_old, pg_new, 4096);
}


/* ---- the kernel's patch-site lists (monitors/integrity_sites.c) ---- */
/* A fake kernel: 64 KiB from KB; text pages 1..3, the lists in pages 8..10. */
#define KB 0xffffffff81000000ULL
static uint8_t km[0x10000];
static int km_fail_at = -1;                     /* a read at this offset fails */
static bool km_read(void *c, uint64_t va, void *buf, size_t len)
{
	(void)c;
	if (va < KB || va - KB + len > sizeof(km))
		return false;
	if (km_fail_at >= 0 && (uint64_t)km_fail_at >= va - KB && (uint64_t)km_fail_at < va - KB + len)
		return false;
	memcpy(buf, km + (va - KB), len);
	return true;
}
static const struct integ_site_rd km_rd = { .read = km_read };
static void put64(uint64_t off, uint64_t v) { memcpy(km + off, &v, 8); }
static void put32(uint64_t off, uint32_t v) { memcpy(km + off, &v, 4); }
static void jump_entry(unsigned i, uint64_t code, uint64_t target)
{
	uint64_t at = 0x9000 + 16 * i;         /* PC-relative to the entry's own VA */
	put32(at, (uint32_t)(int32_t)(int64_t)(code - (KB + at)));
	put32(at + 4, (uint32_t)(int32_t)(int64_t)(target - (KB + at + 4)));
	put64(at + 8, KB + 0xc000);             /* the key (not used) */
}
static void scall_entry(unsigned i, uint64_t addr, bool tail)
{
	uint64_t at = 0xa000 + 8 * i;
	put32(at, (uint32_t)(int32_t)(int64_t)(addr - (KB + at)));
	put32(at + 4, (uint32_t)(int32_t)(int64_t)(KB + 0xc100 + (tail ? 1 : 0) - (KB + at + 4)));
}
static struct integ_site_syms km_syms(void)
{
	struct integ_site_syms y = {
		.base = KB, .end = KB + sizeof(km),
		.mcount_start = KB + 0x8000, .mcount_stop = KB + 0x8000 + 5 * 8,
		.jump_start = KB + 0x9000, .jump_stop = KB + 0x9000 + 3 * 16,
		.scall_start = KB + 0xa000, .scall_stop = KB + 0xa000 + 2 * 8,
		.tramp_start = KB + 0x3000, .tramp_end = KB + 0x3100,
		.ftrace_call = KB + 0x2100, .ftrace_regs_call = 0,
		.ftrace_graph_call = KB + 0x2200,
	};
	return y;
}
static void km_setup(void)
{
	memset(km, 0xaa, sizeof(km));          /* "code" */
	km_fail_at = -1;
	/* ftrace call sites (absolute VAs), unsorted, one outside the image */
	put64(0x8000, KB + 0x1100);
	put64(0x8008, KB + 0x1000);
	put64(0x8010, KB + 0x1ffe);             /* crosses into page 2 */
	put64(0x8018, 0xffffffffc0001000ULL);   /* a module's: dropped */
	put64(0x8020, KB + 0x1600);
	jump_entry(0, KB + 0x1200, KB + 0x1300);        /* 5-byte site */
	jump_entry(1, KB + 0x1210, KB + 0x1220);        /* 2-byte site */
	jump_entry(2, KB + 0x1230, 0x1000);             /* target outside: dropped */
	scall_entry(0, KB + 0x1400, false);
	scall_entry(1, KB + 0x1500, true);
	/* the kernel's bytes at the sites */
	memcpy(km + 0x1000, "\x0f\x1f\x44\x00\x00", 5);
	memcpy(km + 0x1100, "\x0f\x1f\x44\x00\x00", 5);
	memcpy(km + 0x1ffe, "\x0f\x1f\x44\x00\x00", 5);
	memcpy(km + 0x1600, "\x0f\x1f\x44\x00\x00", 5);
	memcpy(km + 0x1200, "\x0f\x1f\x44\x00\x00", 5);
	memcpy(km + 0x1210, "\x66\x90", 2);
	memcpy(km + 0x1400, "\xe8\x00\x01\x00\x00", 5);
	memcpy(km + 0x1500, "\xe9\x00\x01\x00\x00", 5);
	memcpy(km + 0x2100, "\xe8\x00\x00\x00\x00", 5);
	memcpy(km + 0x2200, "\xe9\x0b\x00\x00\x00", 5);      /* 5.10: ftrace_graph_call: jmp ftrace_stub */
	memcpy(km + 0x3000, "\xe9\x00\x10\x00\x00\x0f\xb9\xcc", 8);    /* a static-call trampoline */
	memcpy(km + 0x3008, "\xc3\xcc\xcc\xcc\xcc\x0f\xb9\xcc", 8);    /* one that returns */
}
static struct integ_sites ks;
static uint8_t kold[4096], knew[4096];
static const char *why;
static void *alloc_(size_t n) { return malloc(n); }
static void ks_build(void)
{
	struct integ_site_syms y = km_syms();
	free(ks.mcount); free(ks.jump); free(ks.scall);
	integ_sites_build(&ks, &y, &km_rd, alloc_, &why);
	ks.text_lo = KB;
	ks.text_hi = KB + 0x8000;
}
/* Page @pg of the fake kernel as it is (old) with @n bytes @b written at @off (new, and in km). */
static bool patch_at(unsigned pg, uint32_t off, const char *b, uint32_t n)
{
	memcpy(kold, km + pg * 4096, 4096);
	memcpy(km + pg * 4096 + off, b, n);
	memcpy(knew, km + pg * 4096, 4096);
	bool r = integ_sites_patch(&ks, KB + pg * 4096, kold, knew, 4096, &km_rd);
	memcpy(km + pg * 4096, kold, 4096);    /* put back */
	return r;
}
/* CALL/JMP rel32 at @site to @target */
static const char *rel32(uint8_t op, uint64_t site, uint64_t target)
{
	static char b[5];
	int32_t r = (int32_t)(int64_t)(target - (site + 5));
	b[0] = (char)op;
	memcpy(b + 1, &r, 4);
	return b;
}

static void test_sites_build(void **st)
{
	(void)st;
	km_setup();
	ks_build();
	assert_true(ks.ok);
	assert_null(why);
	assert_int_equal(ks.n_mcount, 4);
	assert_int_equal(ks.mcount[0], 0x1000);          /* sorted */
	assert_int_equal(ks.mcount[3], 0x1ffe);
	assert_int_equal(ks.n_jump, 2);
	assert_int_equal(ks.jump[0].code, 0x1200);
	assert_int_equal(ks.jump[0].target, 0x1300);
	assert_int_equal(ks.n_scall, 2);
	assert_int_equal(ks.scall[1], 0x1500 | INTEG_SC_TAIL);
	assert_int_equal(ks.dropped, 2);
	assert_string_equal(integ_sites_kind(&ks, KB + 0x1002, &km_rd), "mcount");
	assert_string_equal(integ_sites_kind(&ks, KB + 0x1211, &km_rd), "jump_label");
	assert_string_equal(integ_sites_kind(&ks, KB + 0x1404, &km_rd), "static_call");
	assert_string_equal(integ_sites_kind(&ks, KB + 0x2101, &km_rd), "ftrace_call");
	assert_string_equal(integ_sites_kind(&ks, KB + 0x300a, &km_rd), "static_call_tramp");
	assert_string_equal(integ_sites_kind(&ks, KB + 0x2204, &km_rd), "ftrace_graph_call");
	assert_null(integ_sites_kind(&ks, KB + 0x2205, &km_rd));
	assert_null(integ_sites_kind(&ks, KB + 0x1005, &km_rd));
	assert_null(integ_sites_kind(&ks, KB + 0x3100, &km_rd));
	/* malformed lists: that list is empty and named, the others are built */
	struct integ_site_syms y = km_syms();
	y.mcount_stop = y.mcount_start - 8;              /* inverted */
	integ_sites_build(&ks, &y, &km_rd, alloc_, &why);
	assert_int_equal(ks.n_mcount, 0);
	assert_non_null(strstr(why, "ftrace"));
	assert_true(ks.ok);                              /* the jump labels */
	free(ks.jump); free(ks.scall);
	y = km_syms();
	y.jump_stop = y.jump_start + 17;                 /* not whole entries */
	y.scall_stop = y.scall_start + (uint64_t)(INTEG_SITES_MAX_SCALL + 1) * 8;   /* above the cap */
	integ_sites_build(&ks, &y, &km_rd, alloc_, &why);
	assert_int_equal(ks.n_jump, 0);
	assert_int_equal(ks.n_scall, 0);
	assert_int_equal(ks.n_mcount, 4);
	free(ks.mcount);
	y = km_syms();
	km_fail_at = 0x9010;                             /* unreadable */
	integ_sites_build(&ks, &y, &km_rd, alloc_, &why);
	assert_int_equal(ks.n_jump, 0);
	assert_non_null(strstr(why, "unreadable"));
	free(ks.mcount); free(ks.jump); free(ks.scall);
	km_fail_at = -1;
	y = km_syms();
	y.mcount_start = y.mcount_stop = 0;
	y.jump_start = y.jump_stop = 0;
	integ_sites_build(&ks, &y, &km_rd, alloc_, &why);
	assert_false(ks.ok);                             /* neither list: the shape rule stays */
	assert_non_null(why);
	free(ks.scall);
	y = km_syms();
	y.base = 0;
	assert_int_equal(integ_sites_build(&ks, &y, &km_rd, alloc_, &why), 0);
	assert_false(ks.ok);
	memset(&ks, 0, sizeof(ks));
}

/* The verdicts: a known site holding a form the kernel writes there is a patch;
 * anything else, at a site or not, is an attack. */
static void test_sites_verdict(void **st)
{
	(void)st;
	km_setup();
	ks_build();
	uint64_t caller = KB + 0x1f00, module = 0xffffffffc0002000ULL, rodata = KB + 0x9000;
	/* ftrace call site: NOP5 <-> CALL to kernel text or a trampoline in the module area */
	assert_true(patch_at(1, 0x000, rel32(0xe8, KB + 0x1000, caller), 5));
	assert_true(patch_at(1, 0x000, rel32(0xe8, KB + 0x1000, module), 5));
	assert_false(patch_at(1, 0x000, rel32(0xe8, KB + 0x1000, rodata), 5));   /* a call into data */
	assert_false(patch_at(1, 0x000, rel32(0xe9, KB + 0x1000, caller), 5));   /* JMP: a hook */
	assert_false(patch_at(1, 0x000, "\xc3", 1));                            /* RET: the function disabled */
	assert_true(patch_at(1, 0x000, "\xcc", 1));     /* text_poke_bp's first step: int3 on the old NOP's tail */
	assert_false(patch_at(1, 0x001, "\xcc", 1));                            /* int3 inside the site */
	assert_false(patch_at(1, 0x000, "\x31\xc0\xc3\x90\x90", 5));
	/* text_poke_bp's middle step: int3, then the new tail */
	char mid[5];
	memcpy(mid, rel32(0xe8, KB + 0x1000, caller), 5);
	mid[0] = (char)0xcc;
	assert_true(patch_at(1, 0x000, mid, 5));
	/* a write beside a site, or one byte past it */
	assert_false(patch_at(1, 0x005, "\x90", 1));
	assert_false(patch_at(1, 0x020, "\x0f\x1f\x44\x00\x00", 5));             /* a NOP where no site is */
	memcpy(km + 0x1000, rel32(0xe8, KB + 0x1000, caller), 5);                /* traced now */
	assert_true(patch_at(1, 0x000, "\x0f\x1f\x44\x00\x00", 5));              /* and back */
	memcpy(km + 0x1000, "\x0f\x1f\x44\x00\x00", 5);
	/* a site across the page end: its bytes in the next page are read */
	assert_true(patch_at(1, 0xffe, rel32(0xe8, KB + 0x1ffe, caller), 2));
	memcpy(km + 0x2000 - 2, rel32(0xe8, KB + 0x1ffe, caller), 2);           /* page 1's half landed */
	assert_true(patch_at(2, 0x000, rel32(0xe8, KB + 0x1ffe, caller) + 2, 3));
	memcpy(km + 0x2000, "\x0f\x0f\x0f", 3);                                  /* the other half is junk */
	assert_false(patch_at(1, 0xffe, rel32(0xe8, KB + 0x1ffe, caller), 2));
	km_setup();
	/* ftrace_caller's own call */
	assert_true(patch_at(2, 0x100, rel32(0xe8, KB + 0x2100, caller), 5));
	assert_false(patch_at(2, 0x100, rel32(0xe9, KB + 0x2100, caller), 5));
	/* 5.10's ftrace_graph_call: JMP rel32 into kernel text (ftrace_graph_caller / ftrace_stub), by
	 * text_poke_bp (its int3 step too); not a CALL, not a jump out of the kernel's text */
	assert_true(patch_at(2, 0x200, rel32(0xe9, KB + 0x2200, caller), 5));
	assert_true(patch_at(2, 0x200, "\xcc", 1));
	assert_false(patch_at(2, 0x200, rel32(0xe9, KB + 0x2200, module), 5));
	assert_false(patch_at(2, 0x200, rel32(0xe9, KB + 0x2200, rodata), 5));
	assert_false(patch_at(2, 0x200, rel32(0xe8, KB + 0x2200, caller), 5));
	/* jump labels: the NOP of the site's size or JMP to exactly its target */
	assert_true(patch_at(1, 0x200, rel32(0xe9, KB + 0x1200, KB + 0x1300), 5));
	assert_false(patch_at(1, 0x200, rel32(0xe9, KB + 0x1200, KB + 0x1301), 5));
	assert_false(patch_at(1, 0x200, rel32(0xe8, KB + 0x1200, KB + 0x1300), 5));
	assert_false(patch_at(1, 0x200, "\xeb\xfe", 2));                         /* a 2-byte form on a 5-byte site */
	assert_true(patch_at(1, 0x210, "\xeb\x0e", 2));                          /* 0x1212 + 0x0e = 0x1220 */
	assert_false(patch_at(1, 0x210, "\xeb\x0f", 2));
	assert_false(patch_at(1, 0x210, "\x0f\x1f\x44\x00\x00", 5));             /* NOP5 over a 2-byte site */
	/* two sites in one window, and one stray byte more */
	memcpy(kold, km + 4096, 4096);
	memcpy(knew, kold, 4096);
	memcpy(knew + 0x200, rel32(0xe9, KB + 0x1200, KB + 0x1300), 5);
	memcpy(knew + 0x210, "\xeb\x0e", 2);
	assert_true(integ_sites_patch(&ks, KB + 4096, kold, knew, 4096, &km_rd));
	knew[0x300] ^= 1;
	assert_false(integ_sites_patch(&ks, KB + 4096, kold, knew, 4096, &km_rd));
	assert_false(integ_sites_patch(&ks, KB + 4096, kold, kold, 4096, &km_rd));   /* nothing changed */
	/* static calls: CALL/NOP/xor at a call site; JMP/RET at a tail site */
	assert_true(patch_at(1, 0x400, rel32(0xe8, KB + 0x1400, caller), 5));
	assert_true(patch_at(1, 0x400, "\x0f\x1f\x44\x00\x00", 5));
	assert_true(patch_at(1, 0x400, "\x2e\x2e\x2e\x31\xc0", 5));
	assert_false(patch_at(1, 0x400, rel32(0xe9, KB + 0x1400, caller), 5));
	assert_true(patch_at(1, 0x500, rel32(0xe9, KB + 0x1500, caller), 5));
	assert_true(patch_at(1, 0x500, "\xc3\xcc\xcc\xcc\xcc", 5));
	assert_true(patch_at(1, 0x500, "\xc3", 1));                              /* 5.10: RET, the rest as it was */
	assert_false(patch_at(1, 0x500, "\xc3\x90\x90\x90\x90", 5));
	assert_false(patch_at(1, 0x500, rel32(0xe8, KB + 0x1500, caller), 5));
	/* static-call trampolines: found by their ud1 signature */
	assert_true(patch_at(3, 0x000, "\xc3\xcc\xcc\xcc\xcc", 5));
	assert_true(patch_at(3, 0x008, rel32(0xe9, KB + 0x3008, caller), 5));
	assert_true(patch_at(3, 0x008, rel32(0xe9, KB + 0x3008, module), 5));
	assert_false(patch_at(3, 0x008, rel32(0xe8, KB + 0x3008, caller), 5));
	assert_false(patch_at(3, 0x005, "\x90\x90\x90", 3));                     /* the signature itself */
	assert_false(patch_at(3, 0x010, rel32(0xe9, KB + 0x3010, caller), 5));   /* no trampoline there */
	/* with the lists: text_poke into text is a patch only at a site */
	struct integ_diff d;
	memcpy(kold, km + 4096, 4096);
	memcpy(knew, kold, 4096);
	memcpy(knew + 0x100, rel32(0xe9, KB + 0x1100, caller), 5);               /* JMP over an ftrace NOP */
	integ_diff(kold, knew, 4096, &d);
	assert_int_equal(integ_classify(INTEG_R_TEXT, INTEG_W_POKE, kold, knew, 4096, &d), INTEG_SEV_PATCH);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_TEXT, INTEG_W_POKE, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_ATTACK);                   /* the shape rule alone said patch */
	assert_int_equal(integ_classify_sites(NULL, INTEG_R_TEXT, INTEG_W_POKE, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_PATCH);                    /* no lists: the shape rule */
	memcpy(knew + 0x100, rel32(0xe8, KB + 0x1100, caller), 5);
	integ_diff(kold, knew, 4096, &d);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_TEXT, INTEG_W_POKE, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_PATCH);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_TEXT, INTEG_W_KERNEL, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_ATTACK);                   /* not through text_poke */
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_RODATA, INTEG_W_POKE, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_ATTACK);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_TEXT, INTEG_W_PAGING, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_NONE);
	integ_diff(kold, kold, 4096, &d);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_TEXT, INTEG_W_POKE, KB + 4096, kold, kold, 4096, &d, &km_rd),
			 INTEG_SEV_PATCH);                    /* made and undone in the window */
	free(ks.mcount); free(ks.jump); free(ks.scall);
	memset(&ks, 0, sizeof(ks));
}

/* 5.10's static-call trampolines: no ud1 signature, one every 8 bytes (5 bytes and
 * `.align 4` padding: 0f 1f 00, or int3s with the return-thunk backports) */
static void test_sites_tramp_nosig(void **st)
{
	(void)st;
	km_setup();
	memcpy(km + 0x3000, "\xe9\x00\x10\x00\x00\x0f\x1f\x00", 8);    /* JMP, nopl padding */
	memcpy(km + 0x3008, "\xe9\x00\x10\x00\x00\xcc\xcc\xcc", 8);    /* JMP, int3 padding */
	memcpy(km + 0x3010, "\xc3\x90\x90\x90\x90\x0f\x1f\x00", 8);    /* RET (a NULL call) */
	ks_build();
	assert_true(ks.ok);
	assert_false(ks.tramp_sig);
	assert_int_equal(ks.tramp_start, KB + 0x3000);
	uint64_t caller = KB + 0x1f00, module = 0xffffffffc0002000ULL;
	assert_string_equal(integ_sites_kind(&ks, KB + 0x300c, &km_rd), "static_call_tramp");
	assert_null(integ_sites_kind(&ks, KB + 0x300d, &km_rd));                 /* the padding */
	/* what static_call_update writes there: JMP to text or a module, RET */
	assert_true(patch_at(3, 0x008, rel32(0xe9, KB + 0x3008, caller), 5));
	assert_true(patch_at(3, 0x008, rel32(0xe9, KB + 0x3008, module), 5));
	assert_true(patch_at(3, 0x000, "\xc3", 1));                              /* RET, the rest as it was */
	assert_true(patch_at(3, 0x010, rel32(0xe9, KB + 0x3010, caller), 5));
	assert_true(patch_at(3, 0x0f8, rel32(0xe9, KB + 0x30f8, caller), 5));   /* the last one in the section */
	/* and not: a CALL, the padding, a trampoline that starts off the stride, outside the section */
	assert_false(patch_at(3, 0x008, rel32(0xe8, KB + 0x3008, caller), 5));
	assert_false(patch_at(3, 0x005, "\x90\x90\x90", 3));
	assert_false(patch_at(3, 0x004, rel32(0xe9, KB + 0x3004, caller), 5));
	assert_false(patch_at(3, 0x100, rel32(0xe9, KB + 0x3100, caller), 5));
	/* a first trampoline of no known form: trampolines unknown, the rest of the lists kept */
	memcpy(km + 0x3000, "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 8);
	ks_build();
	assert_true(ks.ok);
	assert_int_equal(ks.tramp_end, 0);
	assert_non_null(why);
	assert_false(patch_at(3, 0x008, rel32(0xe9, KB + 0x3008, caller), 5));
	free(ks.mcount); free(ks.jump); free(ks.scall);
	memset(&ks, 0, sizeof(ks));
}

/* One window on page @pg: @n bytes @b written at @off; the verdict with the lists (records updated). */
static enum integ_severity win(unsigned pg, uint32_t off, const char *b, uint32_t n, enum integ_writer w)
{
	struct integ_diff d;
	memcpy(kold, km + pg * 4096, 4096);
	memcpy(km + pg * 4096 + off, b, n);
	memcpy(knew, km + pg * 4096, 4096);
	integ_diff(kold, knew, 4096, &d);
	return integ_classify_sites(&ks, INTEG_R_TEXT, w, KB + pg * 4096, kold, knew, 4096, &d, &km_rd);
}

/* Issue 15 item 3 B: the kernel's writes at addresses on none of its lists (kprobes, optprobes,
 * SMP alternatives) are "unverified", never "patch"; anything else there stays "attack". A
 * kprobe's life at KB + 0x1700 (no site): arm, optimize, unoptimize, disarm. */
static void test_sites_unverified(void **st)
{
	(void)st;
	km_setup();
	ks_build();
	uint64_t kp = KB + 0x1700, detour = 0xffffffffc0100000ULL, caller = KB + 0x1f00;
	memcpy(km + 0x1700, "\x41\x54\x49\x89\xf4", 5);      /* push %r12; mov %rsi,%r12 */
	assert_false(patch_at(1, 0x700, "\xcc", 1));          /* never a patch */
	assert_int_equal(win(1, 0x700, "\xcc", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);       /* armed */
	assert_int_equal(ks.n_kp, 1);
	assert_int_equal(ks.kp[0].va, kp);
	assert_memory_equal(ks.kp[0].orig, "\x41\x54\x49\x89\xf4", 5);
	char j[5];
	memcpy(j, rel32(0xe9, kp, detour), 5);
	char mid[5] = { (char)0xcc };
	memcpy(mid + 1, j + 1, 4);
	assert_int_equal(win(1, 0x701, mid + 1, 4, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);    /* optimizing: int3 + rel32 */
	assert_int_equal(win(1, 0x700, j, 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);          /* optimized: jmp detour */
	assert_memory_equal(km + 0x1700, j, 5);
	assert_int_equal(win(1, 0x700, "\xcc\x54\x49\x89\xf4", 5, INTEG_W_POKE), INTEG_SEV_UNVERIFIED); /* unoptimized */
	assert_int_equal(win(1, 0x700, "\x41", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);   /* disarmed */
	assert_int_equal(ks.n_kp, 0);
	/* armed and optimized within one window */
	assert_int_equal(win(1, 0x700, j, 5, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	assert_int_equal(ks.n_kp, 1);
	assert_int_equal(win(1, 0x700, "\xcc\x54\x49\x89\xf4", 5, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	/* at a recorded kprobe, anything but its forms is an attack (and the record stays) */
	assert_int_equal(win(1, 0x700, rel32(0xe9, kp, caller), 5, INTEG_W_POKE), INTEG_SEV_ATTACK);  /* jump into the kernel */
	memcpy(km + 0x1700, "\xcc\x54\x49\x89\xf4", 5);
	assert_int_equal(win(1, 0x700, "\x90", 1, INTEG_W_POKE), INTEG_SEV_ATTACK);     /* not what was there */
	memcpy(km + 0x1700, "\xcc\x54\x49\x89\xf4", 5);
	assert_int_equal(win(1, 0x701, "\x90\x90", 2, INTEG_W_POKE), INTEG_SEV_ATTACK); /* the tail behind the int3 */
	memcpy(km + 0x1700, "\xcc\x54\x49\x89\xf4", 5);
	assert_int_equal(ks.n_kp, 1);
	assert_int_equal(win(1, 0x700, "\x41", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	assert_int_equal(ks.n_kp, 0);
	/* no record: an int3 removed (armed before boot done) is unverified; other bytes are not */
	memcpy(km + 0x1800, "\xcc\x89\xe5\x90\x90", 5);
	assert_int_equal(win(1, 0x800, "\x55", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	assert_int_equal(win(1, 0x800, "\x48\x31", 2, INTEG_W_POKE), INTEG_SEV_ATTACK);
	/* a jump out of the image only from an int3 or an arm; into the kernel's text never */
	assert_int_equal(win(1, 0x900, rel32(0xe9, KB + 0x1900, caller), 5, INTEG_W_POKE), INTEG_SEV_ATTACK);
	assert_int_equal(win(1, 0x900, "\xc3", 1, INTEG_W_POKE), INTEG_SEV_ATTACK);
	assert_int_equal(win(1, 0x900, "\x31\xc0\xc3", 3, INTEG_W_POKE), INTEG_SEV_ATTACK);
	/* SMP alternatives: one byte between lock and ds */
	memcpy(km + 0x1a00, "\x3e\x0f\xb1\x17\x90", 5);
	assert_int_equal(win(1, 0xa00, "\xf0", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	assert_int_equal(win(1, 0xa00, "\x3e", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	/* an int3 on a listed site is judged by the site (the middle of text_poke_bp: patch), a kprobe
	 * never sits there; a stray change beside a kprobe makes the window an attack */
	assert_int_equal(win(1, 0x000, "\xcc", 1, INTEG_W_POKE), INTEG_SEV_PATCH);
	memcpy(km + 0x1000, "\x0f", 1);
	memcpy(kold, km + 4096, 4096);
	memcpy(knew, kold, 4096);
	knew[0xb00] = (char)0xcc;
	knew[0xc00] ^= 1;
	struct integ_diff d;
	integ_diff(kold, knew, 4096, &d);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_TEXT, INTEG_W_POKE, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_ATTACK);
	assert_int_equal(ks.n_kp, 0);                  /* an attack window records nothing */
	/* only through text_poke, only in text */
	assert_int_equal(win(1, 0xd00, "\xcc", 1, INTEG_W_KERNEL), INTEG_SEV_ATTACK);
	memcpy(kold, km + 4096, 4096);
	memcpy(knew, kold, 4096);
	knew[0xe00] = (char)0xcc;
	integ_diff(kold, knew, 4096, &d);
	assert_int_equal(integ_classify_sites(&ks, INTEG_R_RODATA, INTEG_W_POKE, KB + 4096, kold, knew, 4096, &d, &km_rd),
			 INTEG_SEV_ATTACK);
	/* never reverted, named */
	assert_false(integ_should_revert(INTEG_SEV_UNVERIFIED, true, 1));
	assert_string_equal(integ_severity_name(INTEG_SEV_UNVERIFIED), "unverified");
	/* the record is bounded: kprobes beyond it are still unverified, counted as not followed */
	for (unsigned i = 0; i < INTEG_SITES_MAX_KP + 2; i++) {
		uint32_t off = 0x100 + 8 * i;              /* page 4: no sites */
		assert_int_equal(win(4, off, "\xcc", 1, INTEG_W_POKE), INTEG_SEV_UNVERIFIED);
	}
	assert_int_equal(ks.n_kp, INTEG_SITES_MAX_KP);
	assert_int_equal(ks.kp_full, 2);
	free(ks.mcount); free(ks.jump); free(ks.scall);
	memset(&ks, 0, sizeof(ks));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msr_index),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_baseline_race),
		cmocka_unit_test(test_cr0_wp),
		cmocka_unit_test(test_dtr),
		cmocka_unit_test(test_dtr_trapped),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_revert),
		cmocka_unit_test(test_sites_build),
		cmocka_unit_test(test_sites_verdict),
		cmocka_unit_test(test_sites_tramp_nosig),
		cmocka_unit_test(test_sites_unverified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
