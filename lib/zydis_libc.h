/*
 * lib/zydis_libc.h — forced include (-include, ZYDIS_DEFS and tools/build-zydis.sh)
 * for every compile that sees Zydis/Zycore headers with ZYAN_NO_LIBC.
 *
 * Without a libc, Zycore's LibC.h implements ZYAN_MEMSET as a volatile byte loop
 * (about three instructions a byte), and ZydisDecoderDecodeFull zeroes its
 * context, instruction and operands with it on every decode: ~2,700 instructions
 * per decoded instruction, half of Zydis' cost in ring -1 (issue 14 §4, measured
 * with tools/hvinfer-r1sim.sh + callgrind). This header includes LibC.h first
 * (its include guard then keeps the later includes out) and makes every later
 * ZYAN_MEMSET call a word-at-a-time fill with the same result. Zydis' sources
 * are not changed.
 */
#ifndef HVMON_ZYDIS_LIBC_H
#define HVMON_ZYDIS_LIBC_H

#ifdef ZYAN_NO_LIBC
#include <Zycore/LibC.h>

static inline void *hv_zyan_memset(void *dst, int val, ZyanUSize n)
{
	unsigned char *d = dst;
	const unsigned long long w = (unsigned char)val * 0x0101010101010101ull;
	for (; n >= 8; n -= 8, d += 8)
		__builtin_memcpy(d, &w, 8);     /* one 8-byte store (no libc call) */
	while (n--)
		*d++ = (unsigned char)val;
	return dst;
}

#define ZYAN_MEMSET hv_zyan_memset
#endif

#endif
