/* libFuzzer target: the cached guest-virtual reader (vmm/gvread.c) over
 * arbitrary "guest-physical memory" (the input) and a sequence of reads taken
 * from the input. Differential: every read must give exactly what the uncached
 * vmm/gmem gives (success and bytes), whatever the TLB holds; no crash/UB. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/gvread.h"

#include "tests/fuzz/fuzz_guest_mem.h"

/* gvread_view's physical side: a fresh heap copy of exactly len bytes (ASan
 * catches a read past it), refused where rd() refuses */
static uint8_t *view_copy;
static const uint8_t *phys_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	struct gm *g = ctx;
	free(view_copy);
	view_copy = NULL;
	if (len == 0 || gpa >= (16u << 20) || len > (16u << 20) - gpa || g->size == 0)
		return NULL;
	view_copy = malloc(len);
	for (uint64_t i = 0; view_copy && i < len; i++)
		view_copy[i] = g->mem[(gpa + i) % g->size];
	return view_copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hdr[9];
	if (size < sizeof(hdr))
		return 0;
	memcpy(hdr, data, sizeof(hdr));
	struct gm g = { data + sizeof(hdr), size - sizeof(hdr) };
	struct gmem_mmu m = { rd, &g, hdr[0] & 0xffffff, (hdr[0] >> 63) & 1, (hdr[0] >> 62) & 1,
			      (uint8_t)(hdr[0] >> 48) };
	static struct gvread r;
	static uint8_t a[9000], b[9000];
	gvread_init(&r, &m);
	gvread_set_view(&r, phys_ptr, &g);
	/* 8 reads: a base VA (kernel half) plus offsets that revisit nearby pages */
	for (int i = 1; i < 9; i++) {
		uint64_t va = (hdr[1] & ~0xffffffULL) | (hdr[i] & 0xffffff) | (1ULL << 63);
		if (i & 1)
			va = hdr[i];            /* anything, including lower half / non-canonical */
		uint32_t len = (uint32_t)((hdr[i] >> 40) % sizeof(a));
		bool got = gvread_read(&r, va, a, len);
		bool want = gmem_read(&m, va, b, len, GMEM_KERNEL_ONLY, NULL) == GMEM_OK || len == 0;
		if (got != want || (got && memcmp(a, b, len) != 0))
			abort();
		/* a view only where the read succeeds, with the same bytes */
		const uint8_t *v = gvread_view(&r, va, len);
		if (v && (!got || memcmp(v, a, len) != 0))
			abort();
	}
	uint64_t t = gvread_first_mapped_2m(&r, 0xffffffff80000000ULL, 1ULL << 30);
	if (t && (t & 0x1fffff))
		abort();
	free(view_copy);
	view_copy = NULL;
	return 0;
}
