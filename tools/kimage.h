/*
 * tools/kimage.h — host-side kernel image loading for hvinfer (docs/INFER.md):
 * bzImage (setup header -> compressed payload -> vmlinux ELF) or a raw
 * vmlinux ELF, exposed as an infer_reader over link-time virtual addresses.
 */
#ifndef HVMON_KIMAGE_H
#define HVMON_KIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "infer/infer.h"

enum kimage_comp {
	KIMAGE_NONE, KIMAGE_GZIP, KIMAGE_BZIP2, KIMAGE_LZMA, KIMAGE_XZ, KIMAGE_LZO,
	KIMAGE_LZ4, KIMAGE_ZSTD,
};

struct kimage_seg {
	uint64_t va, memsz, filesz, off;
};

struct kimage {
	/* the ELF (decompressed payload or the input file itself) */
	uint8_t *elf;
	size_t elf_len;
	bool elf_owned;              /* elf was malloc'ed by kimage */
	bool is_bzimage;
	enum kimage_comp comp;
	uint16_t boot_version;       /* setup header version (bzImage) */
	double decompress_seconds;
	struct kimage_seg *segs;
	size_t nsegs;
	struct infer_section *secs;
	size_t nsecs;
	struct infer_reader reader;
	char err[160];               /* one-line reason when kimage_open* fails */
};

/* Limit on the decompressed size (the fuzzer lowers it). */
extern size_t kimage_max_output;

/* Open from memory; data must stay valid while the kimage lives (a raw ELF is
 * used in place). Returns 0, or -1 with k->err set. */
int kimage_open_mem(struct kimage *k, const uint8_t *data, size_t len);
/* Read a file (up to 1 GiB) and open it; the buffer is owned by k. */
int kimage_open_file(struct kimage *k, const char *path);
void kimage_close(struct kimage *k);

const char *kimage_comp_name(enum kimage_comp c);

/* Decompress one kernel payload (exported for tests). out is malloc'ed. */
int kimage_decompress(enum kimage_comp c, const uint8_t *in, size_t len, uint8_t **out,
		      size_t *out_len, char *err, size_t errlen);
enum kimage_comp kimage_detect(const uint8_t *p, size_t len);

#endif
