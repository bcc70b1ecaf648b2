/*
 * "Guest-physical memory" for the page-walker fuzz targets (fuzz_gmem,
 * fuzz_gvread): the input repeated every input-size bytes up to 16 MiB, refused
 * beyond. rd() aborts when a caller breaks the reader's contract (a read that
 * crosses a page or asks for 0 bytes), so libFuzzer reports it as a crash.
 */
#ifndef HVMON_FUZZ_GUEST_MEM_H
#define HVMON_FUZZ_GUEST_MEM_H

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>

struct gm { const uint8_t *mem; size_t size; };

static int rd(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	struct gm *g = ctx;
	if (len == 0 || (gpa & 0xfff) + len > 0x1000)
		abort();                        /* contract: never crosses a page */
	if (gpa >= (16u << 20) || g->size == 0)
		return -1;
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = g->mem[(gpa + i) % g->size];
	return 0;
}

#endif
