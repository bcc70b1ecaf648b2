/*
 * patterns-rt — run the design-patterns strategy the way ring -1 does:
 * through a bare VA reader (no text range, no image span, no ELF sections)
 * with only the runtime hints (IA32_LSTAR value, optional GS base). Used by
 * tests/integration/infer_patterns_runtime.sh to check that the runtime
 * mode gives the same answers as the file mode (hvinfer), and to measure
 * the reads and arena the strategy needs.
 *
 * usage: patterns-rt --lstar VA [--gs-base VA] [--arena BYTES] [--kaslr SLIDE] IMAGE
 * stdout: the --json profile; stderr: one line of measurements.
 *
 * --kaslr SLIDE (multiple of 2 MiB): simulate what the decompressor leaves in
 * guest memory under KASLR. The PT_LOAD segments are placed at their load
 * addresses (paddr + __START_KERNEL_map, so .data..percpu lands at
 * __per_cpu_load), the relocation tables appended to the ELF in the payload
 * are applied (32-bit, inverse 32-bit, 64-bit, as
 * arch/x86/boot/compressed/misc.c does), and the reader serves the result at
 * link address + SLIDE. The hints become LSTAR + SLIDE and, unless given,
 * GS base = __per_cpu_load + SLIDE (the boot CPU's per-CPU view before
 * setup_per_cpu_areas copies it). Addresses in the output have the slide
 * removed, so they compare directly with the file mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tools/kimage.h"
#include "infer/strategy.h"

static struct kimage k;
static unsigned long long nreads, nbytes;
static uint8_t *kimg;                 /* relocated image (--kaslr) */
static uint64_t kimg_lo, kimg_len, slide;

static bool rd(void *ctx, uint64_t va, void *buf, size_t len)
{
	(void)ctx;
	nreads++;
	nbytes += len;
	if (!kimg)
		return k.reader.read(k.reader.ctx, va, buf, len);
	uint64_t link = va - slide;
	if (link < kimg_lo || link - kimg_lo > kimg_len || len > kimg_len - (link - kimg_lo))
		return false;
	memcpy(buf, kimg + (link - kimg_lo), len);
	return true;
}

#define START_KERNEL_MAP 0xffffffff80000000ull

static uint64_t rdle(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Lay out the PT_LOADs at their load addresses and apply the appended
 * relocations with delta = slide. Returns the per-CPU load VA (link) or 0. */
static uint64_t build_kaslr_image(uint64_t delta, char *err, size_t errlen)
{
	const uint8_t *e = k.elf;
	size_t n = k.elf_len;
	if (n < 64 || memcmp(e, "\x7f" "ELF", 4) != 0) { snprintf(err, errlen, "not an ELF"); return 0; }
	uint64_t phoff = rdle(e + 0x20, 8), shoff = rdle(e + 0x28, 8);
	unsigned phnum = (unsigned)rdle(e + 0x38, 2), shnum = (unsigned)rdle(e + 0x3c, 2);
	unsigned shentsize = (unsigned)rdle(e + 0x3a, 2);
	uint64_t lo = ~0ull, hi = 0, percpu = 0;
	for (unsigned i = 0; i < phnum && phoff + 56ull * (i + 1) <= n; i++) {
		const uint8_t *ph = e + phoff + 56ull * i;
		if (rdle(ph, 4) != 1) continue;
		uint64_t vaddr = rdle(ph + 0x10, 8), paddr = rdle(ph + 0x18, 8), memsz = rdle(ph + 0x28, 8);
		uint64_t load = paddr + START_KERNEL_MAP;
		if (vaddr < START_KERNEL_MAP) percpu = load;
		if (load < lo) lo = load;
		if (load + memsz > hi) hi = load + memsz;
	}
	if (lo >= hi || hi - lo > (1ull << 30)) { snprintf(err, errlen, "bad PT_LOAD span"); return 0; }
	kimg_lo = lo; kimg_len = hi - lo;
	kimg = calloc(1, kimg_len);
	if (!kimg) { snprintf(err, errlen, "out of memory"); return 0; }
	for (unsigned i = 0; i < phnum && phoff + 56ull * (i + 1) <= n; i++) {
		const uint8_t *ph = e + phoff + 56ull * i;
		if (rdle(ph, 4) != 1) continue;
		uint64_t off = rdle(ph + 0x08, 8), paddr = rdle(ph + 0x18, 8), filesz = rdle(ph + 0x20, 8);
		if (off > n || filesz > n - off) { snprintf(err, errlen, "PT_LOAD outside file"); return 0; }
		memcpy(kimg + (paddr + START_KERNEL_MAP - lo), e + off, filesz);
	}
	/* relocation tables: right after the ELF, read backwards from the end */
	uint64_t elf_end = shoff + (uint64_t)shnum * shentsize;
	if (elf_end >= n || (n - elf_end) % 4) { snprintf(err, errlen, "no relocation tables after the ELF"); return 0; }
	const uint8_t *r = e + n - 4, *stop = e + elf_end;
	unsigned counts[3] = { 0, 0, 0 };
	for (int pass = 0; pass < 3; pass++) {
		for (; r >= stop; r -= 4) {
			uint32_t v = (uint32_t)rdle(r, 4);
			if (!v) { r -= 4; break; }
			uint64_t loc = (uint64_t)(int64_t)(int32_t)v;
			int width = pass == 2 ? 8 : 4;
			if (loc < lo || loc - lo + width > kimg_len) {
				snprintf(err, errlen, "relocation 0x%llx outside the image", (unsigned long long)loc);
				return 0;
			}
			uint8_t *p = kimg + (loc - lo);
			if (pass == 0) { uint32_t x; memcpy(&x, p, 4); x += (uint32_t)delta; memcpy(p, &x, 4); }
			else if (pass == 1) { uint32_t x; memcpy(&x, p, 4); x -= (uint32_t)delta; memcpy(p, &x, 4); }
			else { uint64_t x; memcpy(&x, p, 8); x += delta; memcpy(p, &x, 8); }
			counts[pass]++;
		}
	}
	fprintf(stderr, "patterns-rt: kaslr slide 0x%llx: %u/%u/%u relocations (32/inverse-32/64), per-CPU load 0x%llx\n",
		(unsigned long long)delta, counts[0], counts[1], counts[2], (unsigned long long)percpu);
	return percpu;
}

int main(int argc, char **argv)
{
	struct infer_hints h = { 0 };
	size_t asz = 4u << 20;
	const char *img = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--lstar") && i + 1 < argc) {
			h.have_lstar = true; h.lstar = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--gs-base") && i + 1 < argc) {
			h.have_gs_base = true; h.gs_base = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--kaslr") && i + 1 < argc) {
			slide = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--arena") && i + 1 < argc) {
			asz = strtoull(argv[++i], NULL, 0);
		} else if (argv[i][0] != '-' && !img) {
			img = argv[i];
		} else {
			fprintf(stderr, "usage: patterns-rt --lstar VA [--gs-base VA] [--arena BYTES] [--kaslr SLIDE] IMAGE\n");
			return 2;
		}
	}
	if (!img || !h.have_lstar) {
		fprintf(stderr, "usage: patterns-rt --lstar VA [--gs-base VA] [--arena BYTES] [--kaslr SLIDE] IMAGE\n");
		return 2;
	}
	if (kimage_open_file(&k, img)) {
		fprintf(stderr, "patterns-rt: %s: %s\n", img, k.err);
		return 2;
	}
	if (slide) {
		char err[160] = "";
		uint64_t percpu = build_kaslr_image(slide, err, sizeof(err));
		if (!kimg || err[0]) {
			fprintf(stderr, "patterns-rt: --kaslr: %s\n", err);
			return 2;
		}
		h.lstar += slide;
		if (!h.have_gs_base && percpu) {
			h.have_gs_base = true;
			h.gs_base = percpu + slide;
		}
	}
	struct infer_reader r = { .read = rd };
	struct infer_arena a = { malloc(asz), asz, 0 };
	static struct infer_profile p;
	if (!a.base)
		return 2;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int n = infer_strategy_patterns(&r, &h, &a, &p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	p.strategies = INFER_S_PATTERNS;
	p.kaslr_slide = slide;
	for (int i = 0; i < INFER_NPARAMS && slide; i++) {
		enum infer_kind kind = infer_param_kind((enum infer_param)i);
		if (p.p[i].found && (kind == INFER_K_ADDR || kind == INFER_K_SYSCALL))
			p.p[i].value -= slide;      /* report link addresses */
	}
	for (int i = 0; i < INFER_NPARAMS; i++)
		if (p.p[i].found)
			p.p[i].found_by = INFER_S_PATTERNS;
	static char buf[1 << 16];
	infer_profile_json(&p, buf, sizeof(buf));
	puts(buf);
	fprintf(stderr, "patterns-rt: %d/%d found, %.3f s, arena %zu bytes, %llu reads, %llu bytes read\n",
		n, INFER_NPARAMS, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, a.used,
		nreads, nbytes);
	kimage_close(&k);
	return n == INFER_NPARAMS ? 0 : 1;
}
