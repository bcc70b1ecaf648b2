/* libFuzzer target: the integrity monitor's patch-site lists and verdict
 * (monitors/integrity_sites.c, issue 15 item 3 B) over hostile kernel memory.
 * The input is the kernel: its first 96 bytes choose where the lists are (any
 * bounds: inverted, misaligned, huge, outside the image), the rest is memory
 * from KB on (entries of any value, reads that fail past its end), and a page
 * of it is then rewritten by the input's tail. Invariants: no crash/UB; the
 * tables stay within their caps, sorted, and every kept site is inside the
 * image; a page that did not change is never `patch`; the verdict does not
 * depend on calling it twice. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "monitors/integrity_sites.h"

#define KB 0xffffffff81000000ULL
static const uint8_t *mem;
static size_t mem_len;

static bool rd_mem(void *c, uint64_t va, void *buf, size_t len)
{
	(void)c;
	if (va < KB || va - KB > mem_len || len > mem_len - (va - KB))
		return false;
	memcpy(buf, mem + (va - KB), len);
	return true;
}

static size_t budget;
static void *alloc_capped(size_t n)
{
	if (n > budget)         /* a bounded heap, as in ring -1 */
		return NULL;
	budget -= n;
	return malloc(n);
}

static uint64_t pick(const uint8_t *d, unsigned i)
{
	uint32_t v;
	memcpy(&v, d + 4 * i, 4);
	/* mostly inside the memory, sometimes anywhere */
	if (v & 0x80000000u)
		return (uint64_t)v << 32 | v;
	return KB + (v & 0x1ffff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 96 + 16)
		return 0;
	mem = data + 96;
	mem_len = size - 96;
	struct integ_site_syms y = {
		.base = KB, .end = KB + (data[0] & 1 ? mem_len : 0x20000),
		.mcount_start = pick(data, 1), .mcount_stop = pick(data, 2),
		.jump_start = pick(data, 3), .jump_stop = pick(data, 4),
		.scall_start = pick(data, 5), .scall_stop = pick(data, 6),
		.tramp_start = pick(data, 7), .tramp_end = pick(data, 8),
		.ftrace_call = pick(data, 9), .ftrace_regs_call = pick(data, 10),
		.ftrace_graph_call = pick(data, 13),
	};
	const struct integ_site_rd rd = { .read = rd_mem };
	struct integ_sites s;
	const char *why = NULL;
	budget = 1u << 20;
	integ_sites_build(&s, &y, &rd, alloc_capped, &why);
	if (data[1] & 1) {
		s.text_lo = pick(data, 11);
		s.text_hi = pick(data, 12);
	}
	if (s.n_mcount > INTEG_SITES_MAX_MCOUNT || s.n_jump > INTEG_SITES_MAX_JUMP || s.n_scall > INTEG_SITES_MAX_SCALL)
		abort();
	for (uint32_t i = 0; i < s.n_mcount; i++)
		if (s.base + s.mcount[i] >= s.end || (i && s.mcount[i] < s.mcount[i - 1]))
			abort();
	for (uint32_t i = 0; i < s.n_jump; i++)
		if (s.base + s.jump[i].code >= s.end || s.base + s.jump[i].target >= s.end ||
		    (i && s.jump[i].code < s.jump[i - 1].code))
			abort();
	for (uint32_t i = 0; i < s.n_scall; i++)
		if (s.base + (s.scall[i] & ~INTEG_SC_TAIL) >= s.end)
			abort();
	/* one page of the memory, rewritten by the input's last bytes */
	static uint8_t old[4096], cur[4096];
	uint64_t page_va = KB + ((uint64_t)(data[2] % 32) << 12);
	memset(old, 0xcc, sizeof(old));
	if (page_va - KB < mem_len) {
		size_t n = mem_len - (page_va - KB);
		memcpy(old, mem + (page_va - KB), n < 4096 ? n : 4096);
	}
	memcpy(cur, old, sizeof(cur));
	if (integ_sites_patch(&s, page_va, old, cur, 4096, &rd))
		abort();                                /* nothing changed: never a patch */
	size_t tail = size - 96 < 64 ? size - 96 : 64;
	for (size_t i = 0; i + 3 <= tail; i += 3) {
		const uint8_t *t = data + size - tail + i;
		cur[((unsigned)t[0] << 4 | t[1] >> 4) & 0xfff] = t[2];
	}
	bool v1 = integ_sites_patch(&s, page_va, old, cur, 4096, &rd);
	bool v2 = integ_sites_patch(&s, page_va, old, cur, 4096, &rd);
	if (v1 != v2)
		abort();
	/* the verdict with the kprobe records (issue 15 item 3 B): patch exactly when the lists say
	 * so, the records bounded; then the window undone, judged against what was recorded */
	struct integ_diff d;
	integ_diff(old, cur, 4096, &d);
	enum integ_severity sv = integ_classify_sites(&s, INTEG_R_TEXT, INTEG_W_POKE, page_va, old, cur, 4096, &d, &rd);
	if (s.ok && (sv == INTEG_SEV_PATCH) != (v1 || !d.changed))
		abort();
	if (sv > INTEG_SEV_UNVERIFIED || s.n_kp > INTEG_SITES_MAX_KP)
		abort();
	integ_diff(cur, old, 4096, &d);
	sv = integ_classify_sites(&s, INTEG_R_TEXT, INTEG_W_POKE, page_va, cur, old, 4096, &d, &rd);
	if (sv > INTEG_SEV_UNVERIFIED || s.n_kp > INTEG_SITES_MAX_KP)
		abort();
	(void)integ_sites_kind(&s, page_va + (data[3] << 4), &rd);
	free(s.mcount);
	free(s.jump);
	free(s.scall);
	return 0;
}
