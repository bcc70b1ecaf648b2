/*
 * patterns-rt — run the design-patterns strategy the way ring -1 does:
 * through a bare VA reader (no text range, no image span, no ELF sections)
 * with only the runtime hints (IA32_LSTAR value, optional GS base). Used by
 * tests/integration/infer_patterns_runtime.sh to check that the runtime
 * mode gives the same answers as the file mode (hvinfer), and to measure
 * the reads and arena the strategy needs.
 *
 * usage: patterns-rt --lstar VA [--gs-base VA] [--arena BYTES] IMAGE
 * stdout: the --json profile; stderr: one line of measurements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tools/kimage.h"
#include "infer/strategy.h"

static struct kimage k;
static unsigned long long nreads, nbytes;

static bool rd(void *ctx, uint64_t va, void *buf, size_t len)
{
	(void)ctx;
	nreads++;
	nbytes += len;
	return k.reader.read(k.reader.ctx, va, buf, len);
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
		} else if (!strcmp(argv[i], "--arena") && i + 1 < argc) {
			asz = strtoull(argv[++i], NULL, 0);
		} else if (argv[i][0] != '-' && !img) {
			img = argv[i];
		} else {
			fprintf(stderr, "usage: patterns-rt --lstar VA [--gs-base VA] [--arena BYTES] IMAGE\n");
			return 2;
		}
	}
	if (!img || !h.have_lstar) {
		fprintf(stderr, "usage: patterns-rt --lstar VA [--gs-base VA] [--arena BYTES] IMAGE\n");
		return 2;
	}
	if (kimage_open_file(&k, img)) {
		fprintf(stderr, "patterns-rt: %s: %s\n", img, k.err);
		return 2;
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
