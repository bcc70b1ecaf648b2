/* libFuzzer target: e820 construction and free-range search on arbitrary maps.
 * Checks the output invariants: sorted, non-overlapping, merged, no byte of a
 * reserved range, find_free results inside RAM and outside avoided ranges. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/e820.h"

static uint64_t rd64(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;
	memcpy(&v, *p, k);
	*p += k;
	*n -= k;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_mem_region mem[BOOT_MEM_MAX];
	static struct boot_reserved rsvd[BOOT_RSVD_MAX];
	static struct e820_entry out[E820_MAX_ENTRIES_ZEROPAGE];
	uint32_t nm, nr, n, i, j;

	if (size < 2)
		return 0;
	nm = data[0] % 40;
	nr = data[1] % 8;
	data += 2; size -= 2;
	for (i = 0; i < nm; i++) {
		mem[i].base = rd64(&data, &size);
		mem[i].length = rd64(&data, &size) >> (data[-1] & 0x3f);
		mem[i].type = (uint32_t)(rd64(&data, &size) % 9);
	}
	for (i = 0; i < nr; i++) {
		rsvd[i].base = rd64(&data, &size);
		rsvd[i].length = rd64(&data, &size) >> 20;
		rsvd[i].what = "fuzz";
	}
	int rc = e820_build_guest(mem, nm, rsvd, nr, out, E820_MAX_ENTRIES_ZEROPAGE, &n);
	if (rc != E820_OK)
		return 0;
	for (i = 0; i < n; i++) {
		uint64_t s = out[i].addr, e = out[i].addr + out[i].size;
		if (out[i].size == 0 || e < s || out[i].type == 0)
			abort();
		if (i && (out[i - 1].addr + out[i - 1].size > s ||
			  (out[i - 1].addr + out[i - 1].size == s && out[i - 1].type == out[i].type)))
			abort();
		for (j = 0; j < nr; j++) {
			uint64_t rs, re;
			if (!rsvd[j].length)
				continue;
			rs = rsvd[j].base & ~0xfffULL;
			re = rsvd[j].base + rsvd[j].length;
			if (re < rsvd[j].base)
				re = UINT64_MAX;
			if (s < re && rs < e)
				abort();
		}
	}
	uint64_t sz = 1 + (rd64(&data, &size) & 0xffffff), al = 1ULL << (rd64(&data, &size) % 31), a;
	struct e820_range av[2] = { { rd64(&data, &size), rd64(&data, &size) >> 24 },
				    { rd64(&data, &size), rd64(&data, &size) >> 24 } };
	uint32_t flags = rd64(&data, &size) & 1;
	if (e820_find_free(out, n, av, 2, sz, al, 0, UINT64_MAX, flags, &a) == E820_OK) {
		if (a % al || a + sz < a)
			abort();
		for (j = 0; j < 2; j++)
			if (av[j].length && a < av[j].base + av[j].length && av[j].base < a + sz &&
			    av[j].base + av[j].length > av[j].base)
				abort();
		/* the range lies in RAM entries (out is merged, so in exactly one) */
		for (i = 0; i < n; i++)
			if (out[i].type == E820_TYPE_RAM && out[i].addr <= a &&
			    a + sz <= out[i].addr + out[i].size)
				break;
		if (i == n)
			abort();
	}
	return 0;
}
