/*
 * integ-sites KERNEL-IMAGE — the integrity monitor's patch-site classifier
 * (monitors/integrity_sites.c, issue 15 item 3 B) on a real kernel: the lists
 * found through the kallsyms inference (as ring -1 does, at link addresses
 * here), the tables built from the image's own bytes, then at every site the
 * forms the kernel writes (patch) and hooks (attack) classified. Prints the
 * counts and "N passed, M failed"; exit 0 only when every check passed.
 * Run by tests/integration/infer_truth_kallsyms_btf.sh on the fixture kernels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/kimage.h"
#include "infer/infer.h"
#include "monitors/integrity_sites.h"

static unsigned passed, failed, skipped;
static struct integ_sites S;
static struct integ_site_rd RD;
static uint8_t oldp[4096], newp[4096];

static void check(bool ok, const char *what, uint64_t va)
{
	if (ok) {
		passed++;
		return;
	}
	if (failed++ < 10)
		printf("FAIL - %s at %#lx\n", what, (unsigned long)va);
}

/* The verdict when the @n bytes at @va become @b (the page as in the image before). */
static int verdict(uint64_t va, const uint8_t *b, uint32_t n)
{
	uint64_t page = va & ~0xfffULL;
	if ((va & 0xfff) + n > 4096 || !RD.read(RD.ctx, page, oldp, 4096)) {
		skipped++;
		return -1;
	}
	memcpy(newp, oldp, 4096);
	memcpy(newp + (va & 0xfff), b, n);
	if (!memcmp(oldp, newp, 4096))
		return -2;                      /* no change: nothing to judge */
	return integ_sites_patch(&S, page, oldp, newp, 4096, &RD);
}

static void rel32(uint8_t *b, uint8_t op, uint64_t site, uint64_t target)
{
	int32_t r = (int32_t)(int64_t)(target - (site + 5));
	b[0] = op;
	memcpy(b + 1, &r, 4);
}

static void expect(uint64_t va, const uint8_t *b, uint32_t n, bool patch, const char *what)
{
	int v = verdict(va, b, n);
	if (v >= 0)
		check(v == patch, what, va);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: integ-sites KERNEL-IMAGE\n");
		return 3;
	}
	struct kimage k;
	if (kimage_open_file(&k, argv[1])) {
		fprintf(stderr, "integ-sites: %s\n", k.err);
		return 2;
	}
	struct infer_arena arena = { malloc(64u << 20), 64u << 20, 0 };
	struct infer_profile *p = calloc(1, sizeof(*p));
	struct infer_hints h = { 0 };
	infer_run(&k.reader, &h, INFER_S_KALLSYMS, &arena, p);
#define V(x) (p->p[INFER_P_##x].found ? p->p[INFER_P_##x].value : 0)
	struct integ_site_syms y = {
		.base = k.reader.image_start, .end = k.reader.image_end,
		.mcount_start = V(MCOUNT_LOC_START), .mcount_stop = V(MCOUNT_LOC_STOP),
		.jump_start = V(JUMP_TABLE_START), .jump_stop = V(JUMP_TABLE_STOP),
		.scall_start = V(SCALL_SITES_START), .scall_stop = V(SCALL_SITES_STOP),
		.tramp_start = V(SCALL_TEXT_START), .tramp_end = V(SCALL_TEXT_END),
		.ftrace_call = V(FTRACE_CALL), .ftrace_regs_call = V(FTRACE_REGS_CALL),
		.ftrace_graph_call = V(FTRACE_GRAPH_CALL),
	};
	RD.read = k.reader.read;
	RD.ctx = k.reader.ctx;
	const char *why = NULL;
	integ_sites_build(&S, &y, &RD, malloc, &why);
	S.text_lo = k.reader.text_start;
	S.text_hi = k.reader.text_end;
	printf("integ-sites: %s: %u ftrace call sites, %u jump labels, %u static calls, trampolines %#lx-%#lx, "
	       "ftrace_call %#lx, ftrace_regs_call %#lx; %u dropped%s%s\n", argv[1],
	       S.n_mcount, S.n_jump, S.n_scall, (unsigned long)S.tramp_start, (unsigned long)S.tramp_end,
	       (unsigned long)S.ftrace_call[0], (unsigned long)S.ftrace_call[1], S.dropped, why ? "; " : "",
	       why ? why : "");
	check(S.ok && S.n_mcount > 1000 && S.n_jump > 100, "lists found (ftrace > 1000, jump labels > 100)", 0);
	check(S.n_scall > 0 && S.tramp_end > S.tramp_start && S.ftrace_call[0], "static calls, trampolines, ftrace_call", 0);
	uint64_t text = S.ftrace_call[0] ? S.ftrace_call[0] : S.text_lo;   /* a kernel-text call target */
	uint64_t data = y.jump_start;                                        /* not text */
	static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	uint8_t b[8], cur[8];

	/* ftrace call sites: the image has CALL __fentry__ (or a NOP) there */
	for (uint32_t i = 0; i < S.n_mcount; i++) {
		uint64_t va = S.base + S.mcount[i];
		if (!RD.read(RD.ctx, va, cur, 5))
			continue;
		expect(va, nop5, 5, true, "ftrace site -> NOP5");
		rel32(b, 0xe8, va, text);
		expect(va, b, 5, true, "ftrace site -> CALL kernel text");
		rel32(b, 0xe8, va, 0xffffffffc0400000ULL);
		expect(va, b, 5, true, "ftrace site -> CALL a trampoline (module area)");
		rel32(b, 0xe9, va, text);
		expect(va, b, 5, false, "ftrace site -> JMP (a hook)");
		rel32(b, 0xe8, va, data);
		expect(va, b, 5, false, "ftrace site -> CALL into data");
		expect(va, (const uint8_t *)"\xc3", 1, false, "ftrace site -> RET");
		/* the function body right after the site: no site there */
		if (!integ_sites_kind(&S, va + 5, &RD) && RD.read(RD.ctx, va + 5, cur, 1)) {
			b[0] = cur[0] ^ 0xff;
			expect(va + 5, b, 1, false, "a byte of the function body");
		}
	}
	/* jump labels: the NOP of the site's size, or JMP to exactly the target */
	for (uint32_t i = 0; i < S.n_jump; i++) {
		uint64_t va = S.base + S.jump[i].code, t = S.base + S.jump[i].target;
		if (!RD.read(RD.ctx, va, cur, 5))
			continue;
		bool two = (cur[0] == 0x66 && cur[1] == 0x90) || cur[0] == 0xeb;
		if (two) {
			int64_t d = (int64_t)(t - (va + 2));
			if (d < -128 || d > 127) {
				skipped++;
				continue;
			}
			b[0] = 0xeb;
			b[1] = (uint8_t)(int8_t)d;
			expect(va, b, 2, true, "2-byte jump label -> JMP rel8 target");
			expect(va, (const uint8_t *)"\x66\x90", 2, true, "2-byte jump label -> NOP2");
			b[1]++;
			expect(va, b, 2, false, "2-byte jump label -> JMP rel8 elsewhere");
		} else {
			rel32(b, 0xe9, va, t);
			expect(va, b, 5, true, "jump label -> JMP target");
			expect(va, nop5, 5, true, "jump label -> NOP5");
			rel32(b, 0xe9, va, t + 1);
			expect(va, b, 5, false, "jump label -> JMP elsewhere");
			rel32(b, 0xe8, va, t);
			expect(va, b, 5, false, "jump label -> CALL");
		}
	}
	/* static calls */
	for (uint32_t i = 0; i < S.n_scall; i++) {
		uint64_t va = S.base + (S.scall[i] & ~INTEG_SC_TAIL);
		bool tail = S.scall[i] & INTEG_SC_TAIL;
		if (!RD.read(RD.ctx, va, cur, 5))
			continue;
		expect(va, nop5, 5, true, "static call -> NOP5");
		rel32(b, tail ? 0xe9 : 0xe8, va, text);
		expect(va, b, 5, true, tail ? "static tail call -> JMP text" : "static call -> CALL text");
		rel32(b, tail ? 0xe8 : 0xe9, va, text);
		expect(va, b, 5, false, tail ? "static tail call -> CALL" : "static call -> JMP");
	}
	/* static-call trampolines: one every INTEG_TRAMP_STRIDE bytes from the section's start on every
	 * fixture kernel, with the ud1 signature (6.x) or padding (5.10); both layouts classified */
	unsigned ntramp = 0;
	for (uint64_t t = S.tramp_start; S.tramp_end && t + 5 <= S.tramp_end; t += INTEG_TRAMP_STRIDE) {
		if (!RD.read(RD.ctx, t, cur, 8))
			continue;
		ntramp++;
		check(cur[0] == 0xe9 || cur[0] == 0xc3, "a trampoline (JMP or RET) every 8 bytes", t);
		if (S.tramp_sig)
			check(!memcmp(cur + 5, "\x0f\xb9\xcc", 3), "the trampoline's ud1 signature", t);
		rel32(b, 0xe9, t, text);
		expect(t, b, 5, true, "trampoline -> JMP kernel text");
		rel32(b, 0xe9, t, 0xffffffffc0400000ULL);
		expect(t, b, 5, true, "trampoline -> JMP the module area");
		expect(t, (const uint8_t *)"\xc3\xcc\xcc\xcc\xcc", 5, true, "trampoline -> RET");
		rel32(b, 0xe8, t, text);
		expect(t, b, 5, false, "trampoline -> CALL");
		rel32(b, 0xe9, t, data);
		expect(t, b, 5, false, "trampoline -> JMP into data");
		b[0] = cur[5] ^ 0xff;
		expect(t + 5, b, 1, false, "a byte after the trampoline (signature or padding)");
	}
	printf("integ-sites: %u static-call trampolines (%s)\n", ntramp,
	       S.tramp_sig ? "ud1 signature" : "no signature: 8-byte stride");
	check(ntramp > 100, "static-call trampolines found (> 100)", S.tramp_start);
	printf("integ-sites: %u checks skipped (a site across a page or a rel8 out of reach)\n", skipped);
	printf("%u passed, %u failed\n", passed, failed);
	kimage_close(&k);
	return failed || !passed;
}
