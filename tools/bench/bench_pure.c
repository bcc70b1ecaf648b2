/* bench_pure — host timings and sizes of the pure-logic modules (worst cases and
 * typical cases). Numbers are host-CPU numbers, not Bochs: run
 *   make build/tools/bench_pure && build/tools/bench_pure
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vmm/e820.h"
#include "vmm/ept_map.h"
#include "vmm/options.h"
#include "vmm/gmem.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

struct pool { uint8_t *mem; uint32_t n, used; };
static void *pa(void *c, uint64_t *p)
{
	struct pool *q = c;
	if (q->used >= q->n) return NULL;
	void *v = q->mem + (size_t)q->used * 4096;
	memset(v, 0, 4096);
	*p = 0x100000000ULL + (uint64_t)q->used++ * 4096;
	return v;
}
static void *p2v(void *c, uint64_t p)
{
	struct pool *q = c;
	if (p < 0x100000000ULL || p >= 0x100000000ULL + (uint64_t)q->used * 4096) return NULL;
	return q->mem + (p - 0x100000000ULL);
}

static uint8_t gmem_buf[1 << 20];
static int rd(void *c, uint64_t g, void *b, uint32_t l)
{
	(void)c;
	if (g + l > sizeof(gmem_buf)) return -1;
	memcpy(b, gmem_buf + g, l);
	return 0;
}

int main(void)
{
	static struct boot_mem_region mem[BOOT_MEM_MAX];
	static struct boot_reserved rs[BOOT_RSVD_MAX];
	static struct e820_entry out[512];
	uint32_t n;
	double t;
	int i, iters;

	/* e820 worst case: 256 firmware entries, 32 reserved ranges */
	for (i = 0; i < BOOT_MEM_MAX; i++) {
		mem[i].base = (uint64_t)(BOOT_MEM_MAX - i) * 0x1000000;   /* reverse order */
		mem[i].length = 0x1800000;                                 /* overlapping */
		mem[i].type = 1 + (i % 3 == 0);
	}
	for (i = 0; i < BOOT_RSVD_MAX; i++) {
		rs[i].base = (uint64_t)i * 0x7000123;
		rs[i].length = 0x300000;
	}
	iters = 50;
	t = now();
	for (i = 0; i < iters; i++)
		e820_build_guest(mem, BOOT_MEM_MAX, rs, BOOT_RSVD_MAX, out, 512, &n);
	printf("e820_build_guest worst case (256 entries + 32 reserved): %u entries out, %.2f ms/call\n",
	       n, (now() - t) * 1e3 / iters);

	uint64_t a;
	t = now();
	int rc = 0;
	for (i = 0; i < iters; i++)
		rc = e820_find_free(out, n > 256 ? 256 : n, NULL, 0, 0x400000, 0x200000, 0, ~0ULL, 0, &a);
	printf("e820_find_free on that map (%u entries, 4 MiB, 2 MiB aligned, lowest): rc %d, %.2f ms/call\n",
	       n > 256 ? 256 : n, rc, (now() - t) * 1e3 / iters);

	/* typical map: 6 entries */
	struct boot_mem_region typ[6] = {
		{ 0, 0x9fc00, 1, 0 }, { 0x9fc00, 0x400, 2, 0 }, { 0xf0000, 0x10000, 2, 0 },
		{ 0x100000, 0xbfee0000, 1, 0 }, { 0xfffc0000, 0x40000, 2, 0 }, { 0x100000000ULL, 0x40000000, 1, 0 } };
	struct boot_reserved trs[2] = { { 0x1000000, 0x800000, "image" }, { 0x2000000, 0x4000000, "heap" } };
	iters = 100000;
	t = now();
	for (i = 0; i < iters; i++)
		e820_build_guest(typ, 6, trs, 2, out, 128, &n);
	printf("e820_build_guest typical (6 entries + 2 reserved): %u entries out, %.2f us/call\n",
	       n, (now() - t) * 1e6 / iters);

	/* EPT: identity map 64 GiB RAM WB with 1G, with 2M only, with 4K only */
	struct pool p = { aligned_alloc(4096, 40000ULL * 4096), 40000, 0 };
	struct ept_alloc al = { &p, pa, p2v };
	static const struct { uint32_t caps; uint64_t size; const char *name; } cfg[] = {
		{ EPT_CAP_1G | EPT_CAP_2M, 64ULL << 30, "64 GiB, 1G+2M caps" },
		{ EPT_CAP_2M, 64ULL << 30, "64 GiB, 2M caps" },
		{ 0, 4ULL << 30, "4 GiB, 4K only" },
	};
	for (i = 0; i < 3; i++) {
		struct ept e;
		p.used = 0;
		t = now();
		ept_init(&e, &al, cfg[i].caps);
		rc = ept_map_identity(&e, 0, cfg[i].size, EPT_RWX, MT_WB);
		printf("EPT identity %s: rc %d, %lu paging-structure pages (%lu KiB), %.2f ms\n", cfg[i].name, rc,
		       (unsigned long)e.tables, (unsigned long)e.tables * 4, (now() - t) * 1e3);
	}
	/* typical MTRRs (fixed below 1M, UC 3G-4G), 4 GiB with 1G+2M */
	struct mtrr_state m;
	memset(&m, 0, sizeof(m));
	m.cap = 8 | (1 << 8);
	m.def_type = (1 << 11) | (1 << 10) | MT_WB;
	m.phys_bits = 40;
	m.fixed[0] = m.fixed[1] = 0x0606060606060606ULL;
	for (i = 3; i < 11; i++) m.fixed[i] = 0x0505050505050505ULL;
	m.var_base[0] = 0xC0000000ULL; m.var_mask[0] = (~((1ULL << 30) - 1) & ((1ULL << 40) - 1)) | (1 << 11);
	{
		struct ept e;
		p.used = 0;
		t = now();
		ept_init(&e, &al, EPT_CAP_1G | EPT_CAP_2M);
		rc = ept_map_identity_mtrr(&e, 0, 4ULL << 30, EPT_RWX, &m);
		printf("EPT identity 4 GiB by MTRR type (fixed <1M, UC 3-4G): rc %d, %lu pages, %.2f ms\n", rc,
		       (unsigned long)e.tables, (now() - t) * 1e3);
		struct ept_lookup l;
		iters = 1000000;
		t = now();
		for (i = 0; i < iters; i++)
			ept_lookup(&e, ((uint64_t)i * 0x12345000ULL) & ((4ULL << 30) - 1), &l);
		printf("ept_lookup: %.1f ns/call\n", (now() - t) * 1e9 / iters);
	}

	/* gmem: 4-level walk */
	uint64_t *pml4 = (uint64_t *)(gmem_buf + 0x1000), *pdpt = (uint64_t *)(gmem_buf + 0x2000),
		 *pd = (uint64_t *)(gmem_buf + 0x3000), *pt = (uint64_t *)(gmem_buf + 0x4000);
	uint64_t va = 0xffffffff81000000ULL;
	pml4[(va >> 39) & 511] = 0x2000 | 3;
	pdpt[(va >> 30) & 511] = 0x3000 | 3;
	pd[(va >> 21) & 511] = 0x4000 | 3;
	pt[(va >> 12) & 511] = 0x10000 | 3;
	memcpy(gmem_buf + 0x10000 + 0x800, "/usr/bin/some-program", 22);
	struct gmem_mmu mm = { rd, NULL, 0x1000, false, true, 46, NULL };
	struct gmem_walk w;
	iters = 1000000;
	t = now();
	for (i = 0; i < iters; i++)
		gmem_translate(&mm, va + (i & 0xfff), GMEM_KERNEL_ONLY, &w);
	printf("gmem_translate (4-level, 4K): %.1f ns/call\n", (now() - t) * 1e9 / iters);
	char s[64];
	t = now();
	for (i = 0; i < iters; i++)
		gmem_read_str(&mm, va + 0x800, s, sizeof(s), GMEM_KERNEL_ONLY, NULL);
	printf("gmem_read_str (22 bytes): %.1f ns/call\n", (now() - t) * 1e9 / iters);

	/* options */
	const char *cl = "console=com2 log=debug monitors=tracer,hang hang_timeout=10 collector=10.0.2.2:5514 "
			 "ip=10.0.2.15/24,10.0.2.2 key=00112233445566778899aabbccddeeff net=00:04.0";
	struct hv_options o;
	iters = 200000;
	t = now();
	for (i = 0; i < iters; i++) {
		hv_options_defaults(&o);
		hv_options_parse(cl, 4096, &o, NULL);
	}
	printf("hv_options_parse (8 keys): %.2f us/call\n", (now() - t) * 1e6 / iters);
	free(p.mem);
	return 0;
}
