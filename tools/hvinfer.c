/*
 * hvinfer — run the inference engine on a kernel image file (docs/INFER.md).
 *
 *   hvinfer [--json] [--strategy patterns|kallsyms|btf|all] [--time] [--lstar VA] IMAGE
 *
 * --lstar VA simulates ring -1 conditions: the strategies get a bare reader
 * (no sections, no text range, no image span) and only the LSTAR hint.
 *
 * IMAGE: a bzImage (any of the kernel's compressions) or a vmlinux ELF.
 * Exit: 0 every applicable parameter found (not applicable is not missing), 1 some missing, 2 not a usable kernel image
 * (one-line reason on stderr), 3 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/infer.h"
#include "tools/kimage.h"

#define ARENA_SIZE (96u << 20)

static void usage(void)
{
	fprintf(stderr,
		"usage: hvinfer [--json] [--strategy patterns|kallsyms|btf|all] [--time] [--lstar VA] IMAGE\n"
		"  IMAGE   bzImage (gzip/bzip2/lzma/xz/lzo/lz4/zstd) or vmlinux ELF\n"
		"  --json  one JSON object (docs/INFER.md) instead of a table\n"
		"  --time  print decompression and inference wall time on stderr\n"
		"  --lstar VA  ring -1 conditions: bare reader, only this LSTAR value as a hint\n"
		"exit: 0 all applicable found, 1 some missing, 2 not a usable kernel image\n");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *sname(uint32_t m, char *buf, size_t n)
{
	static const char *const names[] = { "patterns", "kallsyms", "btf" };
	buf[0] = 0;
	for (int i = 0; i < 3; i++)
		if (m & (1u << i))
			snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "+" : "", names[i]);
	return buf;
}

static void table(const struct infer_profile *p)
{
	char sb[64];
	printf("banner: %s\n", p->banner[0] ? p->banner : "(not found)");
	printf("strategies run: %s\n\n", sname(p->strategies, sb, sizeof(sb)));
	printf("%-12s %-18s %-20s %s\n", "group", "parameter", "value", "found by / why missing");
	for (int i = 0; i < INFER_NPARAMS; i++) {
		const struct infer_value *v = &p->p[i];
		char val[32] = "-", why[128];
		if (v->found) {
			if (infer_param_kind(i) == INFER_K_OFFSET || infer_param_kind(i) == INFER_K_PERCPU)
				snprintf(val, sizeof(val), "%llu (0x%llx)", (unsigned long long)v->value,
					 (unsigned long long)v->value);
			else
				snprintf(val, sizeof(val), "0x%llx", (unsigned long long)v->value);
		}
		if (!v->found && v->na) {
			snprintf(val, sizeof(val), "n/a");
			snprintf(why, sizeof(why), "not applicable: %s", v->why);
		} else {
			snprintf(why, sizeof(why), "%s", v->found ? sname(v->found_by, sb, sizeof(sb)) : v->why);
		}
		printf("%-12s %-18s %-20s %s\n", infer_param_group(i), infer_param_name(i), val, why);
	}
}

int main(int argc, char **argv)
{
	bool json = false, timing = false, bare = false;
	uint64_t lstar = 0;
	uint32_t strat = INFER_S_ALL;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--time")) {
			timing = true;
		} else if (!strcmp(argv[i], "--lstar") && i + 1 < argc) {
			char *end;
			lstar = strtoull(argv[++i], &end, 0);
			if (*end || !lstar) {
				usage();
				return 3;
			}
			bare = true;
		} else if (!strcmp(argv[i], "--strategy") && i + 1 < argc) {
			const char *s = argv[++i];
			if (!strcmp(s, "patterns"))
				strat = INFER_S_PATTERNS;
			else if (!strcmp(s, "kallsyms"))
				strat = INFER_S_KALLSYMS;
			else if (!strcmp(s, "btf"))
				strat = INFER_S_BTF;
			else if (!strcmp(s, "all"))
				strat = INFER_S_ALL;
			else {
				usage();
				return 3;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else if (argv[i][0] == '-' || path) {
			usage();
			return 3;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage();
		return 3;
	}

	double t0 = now();
	struct kimage k;
	if (kimage_open_file(&k, path)) {
		fprintf(stderr, "hvinfer: %s\n", k.err);
		kimage_close(&k);
		return 2;
	}
	double t1 = now();

	/* HVINFER_ARENA=bytes overrides the arena size (to measure what ring -1 needs) */
	size_t asz = ARENA_SIZE;
	if (getenv("HVINFER_ARENA"))
		asz = strtoull(getenv("HVINFER_ARENA"), NULL, 0);
	struct infer_arena arena = { malloc(asz ? asz : 1), asz, 0 };
	struct infer_profile *prof = calloc(1, sizeof(*prof));
	if (!arena.base || !prof) {
		fprintf(stderr, "hvinfer: out of memory\n");
		return 2;
	}
	struct infer_hints hints = { 0 };
	struct infer_reader rd = k.reader;
	if (bare) {
		rd = (struct infer_reader){ .read = k.reader.read, .ctx = k.reader.ctx,
					    .view = k.reader.view };
		hints.have_lstar = true;
		hints.lstar = lstar;
	}
	int found = infer_run(&rd, &hints, strat, &arena, prof);
	double t2 = now();
	if (!prof->banner[0] && found == 0) {
		fprintf(stderr, "hvinfer: %s: no Linux banner and nothing inferred: not a Linux kernel image\n",
			path);
		kimage_close(&k);
		return 2;
	}

	if (json) {
		size_t n = infer_profile_json(prof, NULL, 0);
		char *buf = malloc(n + 1);
		infer_profile_json(prof, buf, n + 1);
		fputs(buf, stdout);
		free(buf);
	} else {
		table(prof);
	}
	if (timing)
		fprintf(stderr,
			"hvinfer: %s: load+decompress %.3f s (%s%s, decompress %.3f s), inference %.3f s, "
			"%d/%d found\n",
			path, t1 - t0, k.is_bzimage ? "bzImage " : "vmlinux",
			k.is_bzimage ? kimage_comp_name(k.comp) : "", k.decompress_seconds, t2 - t1,
			found, INFER_NPARAMS);
	/* 0: every applicable parameter found (docs/INFER.md: not applicable is not missing) */
	int rc = infer_profile_complete(prof) ? 0 : 1;
	kimage_close(&k);
	free(arena.base);
	free(prof);
	return rc;
}
