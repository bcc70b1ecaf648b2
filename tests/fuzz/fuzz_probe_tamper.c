/* libFuzzer: the probes' tamper checks (vmm/probe.c: probe_tick, probe_page_fault's
 * re-sync) over hostile guest memory. The input is a script: the guest rewrites bytes of
 * its text pages, maps the probed VA to other pages (copies, unreadable ones), faults on
 * the page and switches address spaces, tick after tick. Invariants: no crash/UB; every
 * probe stays in the table (tampering never frees a site); a live site holds its int3 in
 * the shadow and a suspended one the guest's byte; a page is probed at one GPA only;
 * reports are bounded per tick (sites + pages + group). Also the page-table walks (the
 * guest's own pages as tables, probe_pt_*) and the catcher int3 of a suspended site that
 * returns land on (PROBE_F_RETURNS): it always holds an int3 in a clean shadow. A private
 * kernel half put back (the guest's pages as roots, kernel and user mode) writes only a
 * kernel-half entry of the sampled root or its KPTI pair, and only the kernel's learnt entry. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdbool.h>
#include "vmm/probe.h"

#define VA0  0xffffffff81000000ULL
#define GPA0 0x100000ULL
#define NG   4                               /* guest pages GPA0.. (2 and 3: copies) */
static uint8_t guest[NG][4096];
static uint64_t remap_to;
static uint8_t pool[64][4096];
static unsigned npool, reports;

static int f_va2gpa(void *c, uint64_t va, uint64_t *gpa)
{
	if (va < VA0 || va >= VA0 + 0x2000) return -1;
	*gpa = GPA0 + (va - VA0);
	if (remap_to && va < VA0 + 0x1000)
		*gpa = remap_to + (va - VA0);
	return 0;
}
static int f_rphys(void *c, uint64_t gpa, void *buf, uint32_t len)
{
	if (gpa < GPA0 || gpa + len > GPA0 + NG * 0x1000 || ((gpa & 0xfff) + len) > 0x1000) return -1;
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
	uint8_t *p = pool[npool % 64];
	*pa = 0x9000000 + 0x1000ULL * (npool % 64);
	npool++;
	memset(p, 0, 4096);
	return p;
}
static void f_free(void *c, uint8_t *p) { }
static struct probe_table t;
static uint64_t tick_root;                   /* the CR3 root of the tick running now (0: none) */
static int f_wphys64(void *c, uint64_t gpa, uint64_t val)
{
	uint64_t pg = gpa & ~0xfffULL;
	bool known = false;
	for (int i = 0; i < PROBE_MAX_PAGES; i++)
		known |= t.pt.root_e[i] == val && val;
	if ((gpa & 7) || (gpa & 0xfff) / 8 < 256 || !tick_root || (pg != tick_root && pg != (tick_root & ~0x1000ULL)) ||
	    !known)
		__builtin_trap();
	if (gpa < GPA0 || gpa + 8 > GPA0 + NG * 0x1000)
		return -1;                        /* (not this fake's RAM: refused, as ring -1 refuses) */
	memcpy(&guest[0][0] + (gpa - GPA0), &val, 8);
	return 0;
}
static int f_map(void *c, struct probe_page *pg, int cpu) { return 0; }
static int f_plain(void *c, struct probe_page *pg) { return 0; }
static void f_tamper(void *c, const struct probe_tamper *tp)
{
	if (!tp->what || !tp->site || !tp->page || tp->nbytes > 8) __builtin_trap();
	reports++;
}
static void h(struct vcpu *v, struct probe_hit *hit, void *c) { }

static const uint8_t NOP5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t ENDBR[] = { 0xf3, 0x0f, 0x1e, 0xfa };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct probe_ops ops = {
		.va_to_gpa = f_va2gpa, .read_phys = f_rphys, .read_virt = f_rvirt, .alloc_page = f_alloc,
		.free_page = f_free, .map = f_map, .map_plain = f_plain, .tamper = f_tamper,
		.write_phys64 = f_wphys64,
	};
	char why[128];
	memset(guest, 0x90, sizeof(guest));
	memcpy(&guest[0][0x100], NOP5, 5);
	memcpy(&guest[0][0xffc], ENDBR, 4);
	memcpy(&guest[1][0x40], NOP5, 5);
	remap_to = 0;
	npool = reports = 0;
	probe_table_init(&t, &ops);
	const uint64_t vas[3] = { VA0 + 0x100, VA0 + 0xffc, VA0 + 0x1040 };
	for (int i = 0; i < 3; i++) {
		if (probe_add(&t, vas[i], h, NULL, why, sizeof(why))) __builtin_trap();
		probe_site_label(probe_find(&t, vas[i]), "fuzz", "site",
				 i ? (i == 1 ? PROBE_F_RETURNS : 0) : PROBE_F_EXPECT_NEWMM);
	}
	uint64_t now = 1000;
	for (size_t i = 0; i + 4 <= size; i += 4) {
		const uint8_t *op = data + i;
		unsigned g = op[1] % NG, off = (unsigned)(op[2] | op[3] << 8) & 0xfff;
		switch (op[0] % 7) {
		case 0:                                  /* the guest writes a byte */
			guest[g][off] = op[3];
			break;
		case 1: {                                /* a copy of page 0 (or garbage), then a remap */
			if (op[3] & 1)
				memcpy(guest[2 + (op[1] & 1)], guest[0], 4096);
			static const uint64_t to[4] = { 0, GPA0 + 0x2000, GPA0 + 0x3000, 0x7770000 };
			remap_to = to[op[2] & 3];
			break;
		}
		case 2:                                  /* an EPT exit on a probed page */
			for (int p = 0; p < PROBE_MAX_PAGES; p++)
				if (t.pages[p].used && (op[1] & 15) == p)
					probe_page_fault(&t, &t.pages[p], op[2] & 3, op[3] & 1, op[3] & 2, op[3] & 4);
			break;
		case 3:                                  /* a probe fires */
			t.sites[op[1] % 3].hits += op[2] & 1;
			break;
		case 4: {                                /* the kernel's page tables: any guest page as root */
			unsigned before = reports;
			uint64_t tabs[PROBE_PT_MAX];
			if (op[3] & 4)
				memset(t.pt.top, 0, sizeof(t.pt.top));
			probe_pt_learn(&t, GPA0 + 0x1000ULL * g, op[3] & 1);
			unsigned n = probe_pt_tables(&t, tabs, op[2] % (PROBE_PT_MAX + 1));
			if (n > op[2] % (PROBE_PT_MAX + 1)) __builtin_trap();
			if (op[3] & 2)
				probe_pt_check(&t, NULL);
			if (reports - before > PROBE_MAX_SITES) __builtin_trap();
			break;
		}
		default: {                               /* the tick */
			unsigned before = reports;
			now += (uint64_t)op[2] * 10000;
			/* a root among the guest's pages (the tables are its bytes) or elsewhere */
			uint64_t cr3 = op[3] & 8 ? GPA0 + 0x1000ULL * g + (op[3] >> 4) : (uint64_t)op[3] << 13;
			struct probe_tick_in in = { .now = now, .tsc_per_ms = 1000, .kernel_cr3 = op[1] & 1,
						    .cr3 = cr3, .halted = (op[1] & 6) == 6 };
			tick_root = cr3 & ~0xfffULL;
			probe_tick(&t, &in);
			tick_root = 0;
			if (reports - before > 3 + PROBE_MAX_PAGES + 3) __builtin_trap();
			break;
		}
		}
		/* invariants */
		unsigned used = 0;
		for (int s = 0; s < PROBE_MAX_SITES; s++) {
			const struct probe_site *ps = &t.sites[s];
			if (!ps->used)
				continue;
			used++;
			const struct probe_page *pg = &t.pages[ps->page];
			if (!pg->used || !pg->shadow) __builtin_trap();
			if (!pg->dirty && !ps->suspended && pg->shadow[ps->off] != 0xcc) __builtin_trap();
			if (!pg->dirty && ps->suspended && (ps->flags & PROBE_F_RETURNS) && pg->shadow[ps->off] != 0xcc)
				__builtin_trap();
			if (probe_bp_action(ps, true) == PROBE_BP_ENTRY && ps->suspended) __builtin_trap();
		}
		if (used != 3) __builtin_trap();
		for (int a = 0; a < PROBE_MAX_PAGES; a++)
			for (int b = a + 1; b < PROBE_MAX_PAGES; b++)
				if (t.pages[a].used && t.pages[b].used && t.pages[a].gpa == t.pages[b].gpa)
					__builtin_trap();
	}
	return 0;
}
