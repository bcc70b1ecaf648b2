/* libFuzzer target: guest page-table walker and bounded reads over arbitrary
 * "guest-physical memory" (the input) with arbitrary CR3 and addresses.
 * Invariants: no crash/UB, the physical reader is never asked to cross a page or
 * read outside memory it did not refuse, strings are always terminated, a
 * translation-cache answer equals the walk's. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/gmem.h"

#include "tests/fuzz/fuzz_guest_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hdr[4] = { 0 };
	if (size < sizeof(hdr))
		return 0;
	memcpy(hdr, data, sizeof(hdr));
	struct gm g = { data + sizeof(hdr), size - sizeof(hdr) };
	struct gmem_mmu m = { rd, &g, hdr[0] & 0xffffff, (hdr[0] >> 63) & 1, (hdr[0] >> 62) & 1,
			      (uint8_t)(hdr[0] >> 48) };
	struct gmem_walk w;
	uint32_t flags = (hdr[3] & 1) ? GMEM_KERNEL_ONLY : 0;
	int rc = gmem_translate(&m, hdr[1], flags, &w);
	if (rc == GMEM_OK && (w.page_size != 0x1000 && w.page_size != 0x200000 && w.page_size != 0x40000000))
		abort();
	if (rc == GMEM_OK && (w.gpa & (w.page_size - 1)) != (hdr[1] & (w.page_size - 1)))
		abort();
	/* the translation cache answers exactly as the walk, for the address walked
	 * and for any other address of the page it cached (hdr[3] picks one) */
	struct gmem_tc tc;
	gmem_tc_reset(&tc);
	struct gmem_mmu mc = m;
	mc.tc = &tc;
	uint64_t other = rc == GMEM_OK ? (hdr[1] & ~(w.page_size - 1)) | ((hdr[3] >> 8) & (w.page_size - 1))
				       : hdr[1];
	for (int k = 0; k < 2; k++) {
		uint64_t va = k ? other : hdr[1];
		struct gmem_walk a, b, c;
		int ra = gmem_translate(&m, va, flags, &a);
		int rb = gmem_translate(&mc, va, flags, &b);       /* fills the cache */
		int rc2 = gmem_translate(&mc, va, flags, &c);      /* may hit it */
		if (ra != rb || ra != rc2)
			abort();
		if (ra == GMEM_OK && (a.gpa != b.gpa || a.gpa != c.gpa || a.page_size != c.page_size ||
				      a.writable != c.writable || a.user != c.user || a.nx != c.nx))
			abort();
	}
	uint8_t buf[300];
	uint32_t done = 0, len = (uint32_t)(hdr[2] % sizeof(buf));
	rc = gmem_read(&m, hdr[1], buf, len, flags, &done);
	if (done > len || (rc == GMEM_OK && done != len))
		abort();
	char s[200];
	uint32_t slen = 0, max = (uint32_t)((hdr[2] >> 16) % sizeof(s)) + 1;
	rc = gmem_read_str(&m, hdr[1] - (hdr[3] >> 32), s, max, flags, &slen);
	if (slen >= max || strlen(s) != slen)
		abort();
	return 0;
}
