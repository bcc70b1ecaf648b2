/*
 * tools/kimage.c — bzImage / vmlinux loading for hvinfer (host only).
 *
 * bzImage: boot sector + setup (setup_sects at 0x1f1, "HdrS" at 0x202,
 * version >= 2.08 gives payload_offset/payload_length at 0x248/0x24c,
 * relative to the protected-mode code at (setup_sects ? setup_sects : 4) + 1
 * sectors). The payload is vmlinux (an ELF) compressed with one of gzip,
 * bzip2, lzma, xz, lzo (lzop container), lz4 (legacy frame) or zstd; the
 * kernel's build appends the decompressed size as le32 at its end.
 * Every length read from the file is checked; output is capped.
 */
#include "tools/kimage.h"

#include <bzlib.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#ifdef KIMAGE_FUZZ
size_t kimage_max_output = 32u << 20;
#define SEG_MAX (16ull << 20)
#else
size_t kimage_max_output = 1u << 30;
#define SEG_MAX (1ull << 30)
#endif

static void seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p + 4) << 32 | le32(p);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

const char *kimage_comp_name(enum kimage_comp c)
{
	static const char *const n[] = { "none", "gzip", "bzip2", "lzma", "xz", "lzo", "lz4", "zstd" };
	return (unsigned)c < sizeof(n) / sizeof(n[0]) ? n[c] : "?";
}

enum kimage_comp kimage_detect(const uint8_t *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
		return KIMAGE_GZIP;
	if (len >= 3 && !memcmp(p, "BZh", 3))
		return KIMAGE_BZIP2;
	if (len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return KIMAGE_XZ;
	if (len >= 9 && !memcmp(p, "\x89LZO\0\r\n\x1a\n", 9))
		return KIMAGE_LZO;
	if (len >= 4 && le32(p) == 0x184c2102)
		return KIMAGE_LZ4;
	if (len >= 4 && le32(p) == 0xfd2fb528)
		return KIMAGE_ZSTD;
	if (len >= 3 && p[0] == 0x5d && p[1] == 0 && p[2] == 0)
		return KIMAGE_LZMA;
	return KIMAGE_NONE;
}

/* Output buffer that grows up to kimage_max_output. */
struct obuf {
	uint8_t *p;
	size_t len, cap;
};

static bool ob_reserve(struct obuf *o, size_t more)
{
	if (more > kimage_max_output || o->len > kimage_max_output - more)
		return false;
	size_t need = o->len + more;
	if (need <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : (1u << 20);
	while (cap < need)
		cap *= 2;
	if (cap > kimage_max_output)
		cap = kimage_max_output;
	uint8_t *n = realloc(o->p, cap);
	if (!n)
		return false;
	o->p = n;
	o->cap = cap;
	return true;
}

static int d_gzip(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t el)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		seterr(err, el, "zlib init failed");
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len > 0xffffffffu ? 0xffffffffu : (uInt)len;
	int r;
	do {
		if (!ob_reserve(o, 1u << 20)) {
			inflateEnd(&z);
			seterr(err, el, "gzip: output larger than %zu bytes", kimage_max_output);
			return -1;
		}
		z.next_out = o->p + o->len;
		z.avail_out = (uInt)(o->cap - o->len);
		r = inflate(&z, Z_NO_FLUSH);
		o->len = o->cap - z.avail_out;
	} while (r == Z_OK && (z.avail_in || !z.avail_out));
	inflateEnd(&z);
	if (r != Z_STREAM_END) {
		seterr(err, el, "gzip: corrupt stream (zlib %d)", r);
		return -1;
	}
	return 0;
}

static int d_bzip2(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t el)
{
	bz_stream z;
	memset(&z, 0, sizeof(z));
	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) {
		seterr(err, el, "bzip2 init failed");
		return -1;
	}
	z.next_in = (char *)in;
	z.avail_in = len > 0xffffffffu ? 0xffffffffu : (unsigned)len;
	int r;
	do {
		if (!ob_reserve(o, 1u << 20)) {
			BZ2_bzDecompressEnd(&z);
			seterr(err, el, "bzip2: output larger than %zu bytes", kimage_max_output);
			return -1;
		}
		z.next_out = (char *)o->p + o->len;
		z.avail_out = (unsigned)(o->cap - o->len);
		r = BZ2_bzDecompress(&z);
		o->len = o->cap - z.avail_out;
	} while (r == BZ_OK && (z.avail_in || !z.avail_out));
	BZ2_bzDecompressEnd(&z);
	if (r != BZ_STREAM_END) {
		seterr(err, el, "bzip2: corrupt stream (%d)", r);
		return -1;
	}
	return 0;
}

static int d_lzma(bool xz, const uint8_t *in, size_t len, struct obuf *o, char *err, size_t el)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_ret r = xz ? lzma_stream_decoder(&z, 1u << 30, 0)
			: lzma_alone_decoder(&z, 1u << 30);
	if (r != LZMA_OK) {
		seterr(err, el, "liblzma init failed (%d)", r);
		return -1;
	}
	z.next_in = in;
	z.avail_in = len;
	do {
		if (!ob_reserve(o, 1u << 20)) {
			lzma_end(&z);
			seterr(err, el, "%s: output larger than %zu bytes", xz ? "xz" : "lzma",
			       kimage_max_output);
			return -1;
		}
		z.next_out = o->p + o->len;
		z.avail_out = o->cap - o->len;
		/* LZMA_FINISH: the appended size bytes after an xz stream are
		 * reported as trailing garbage, after the data is complete */
		r = lzma_code(&z, LZMA_FINISH);
		o->len = o->cap - z.avail_out;
	} while (r == LZMA_OK);
	lzma_end(&z);
	if (r != LZMA_STREAM_END && !(r == LZMA_DATA_ERROR && xz && o->len)) {
		seterr(err, el, "%s: corrupt stream (liblzma %d)", xz ? "xz" : "lzma", r);
		return -1;
	}
	return 0;
}

/* lzop container (what the kernel's "lzop -9" writes) with lzo1x blocks. */
static int d_lzo(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t el)
{
	size_t p = 9;
	if (lzo_init() != LZO_E_OK) {
		seterr(err, el, "lzo init failed");
		return -1;
	}
#define NEED(n) do { if (len - p < (size_t)(n) || p > len) goto trunc; } while (0)
	NEED(7);
	uint16_t version = (uint16_t)(in[p] << 8 | in[p + 1]);
	p += 4; /* version, lib version */
	if (version >= 0x0940)
		p += 2; /* version needed */
	NEED(2);
	uint8_t method = in[p++];
	if (version >= 0x0940)
		p++; /* level */
	NEED(4);
	uint32_t flags = be32(in + p);
	p += 4;
	if (method < 1 || method > 3) {
		seterr(err, el, "lzo: unknown method %u", method);
		return -1;
	}
	if (flags & 0x800) /* F_H_FILTER */
		p += 4;
	p += 8; /* mode, mtime low */
	if (version >= 0x0940)
		p += 4; /* mtime high */
	NEED(1);
	p += 1 + in[p]; /* name */
	p += 4;         /* header checksum */
	if (flags & 0x40) { /* F_H_EXTRA_FIELD */
		NEED(4);
		p += 4 + be32(in + p) + 4;
	}
	for (;;) {
		NEED(4);
		uint32_t dlen = be32(in + p);
		p += 4;
		if (dlen == 0)
			break;
		NEED(4);
		uint32_t clen = be32(in + p);
		p += 4;
		if (dlen > (64u << 20) || clen > dlen) {
			seterr(err, el, "lzo: bad block sizes");
			return -1;
		}
		p += (flags & 1 ? 4 : 0) + (flags & 0x100 ? 4 : 0); /* d adler32/crc32 */
		if (clen < dlen)
			p += (flags & 2 ? 4 : 0) + (flags & 0x200 ? 4 : 0); /* c checksums */
		NEED(clen);
		if (!ob_reserve(o, dlen)) {
			seterr(err, el, "lzo: output larger than %zu bytes", kimage_max_output);
			return -1;
		}
		if (clen == dlen) {
			memcpy(o->p + o->len, in + p, dlen);
		} else {
			lzo_uint out_len = dlen;
			int r = lzo1x_decompress_safe(in + p, clen, o->p + o->len, &out_len, NULL);
			if (r != LZO_E_OK || out_len != dlen) {
				seterr(err, el, "lzo: corrupt block (%d)", r);
				return -1;
			}
		}
		o->len += dlen;
		p += clen;
	}
	return 0;
trunc:
	seterr(err, el, "lzo: truncated stream");
	return -1;
#undef NEED
}

/* lz4 legacy frame: magic, then (le32 size, block) until the input ends; each
 * block decompresses to at most 8 MiB. The kernel appends its le32 size. */
static int d_lz4(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t el)
{
	size_t p = 4;
	const size_t blk = 8u << 20;
	while (len - p >= 4) {
		uint32_t c = le32(in + p);
		if (c == 0x184c2102) { /* concatenated frame */
			p += 4;
			continue;
		}
		if (c > len - p - 4)
			break; /* trailing size field or garbage */
		p += 4;
		if (c > (unsigned)LZ4_compressBound((int)blk)) {
			seterr(err, el, "lz4: bad block size");
			return -1;
		}
		if (!ob_reserve(o, blk)) {
			seterr(err, el, "lz4: output larger than %zu bytes", kimage_max_output);
			return -1;
		}
		int r = LZ4_decompress_safe((const char *)in + p, (char *)o->p + o->len, (int)c,
					    (int)blk);
		if (r < 0) {
			seterr(err, el, "lz4: corrupt block");
			return -1;
		}
		o->len += (size_t)r;
		p += c;
	}
	if (!o->len) {
		seterr(err, el, "lz4: no data");
		return -1;
	}
	return 0;
}

static int d_zstd(const uint8_t *in, size_t len, struct obuf *o, char *err, size_t el)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z) {
		seterr(err, el, "zstd init failed");
		return -1;
	}
	ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 31);
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t r = 1;
	while (ib.pos < ib.size) {
		if (!ob_reserve(o, 1u << 20)) {
			ZSTD_freeDStream(z);
			seterr(err, el, "zstd: output larger than %zu bytes", kimage_max_output);
			return -1;
		}
		ZSTD_outBuffer ob = { o->p + o->len, o->cap - o->len, 0 };
		r = ZSTD_decompressStream(z, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(r)) {
			/* the appended size after the frame is not a frame */
			if (o->len && len - ib.pos <= 4 + 8)
				break;
			ZSTD_freeDStream(z);
			seterr(err, el, "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		if (r == 0 && len - ib.pos <= 4)
			break; /* frame done; only the size field left */
		if (ob.pos == 0 && ib.pos == ib.size)
			break;
	}
	ZSTD_freeDStream(z);
	if (!o->len) {
		seterr(err, el, "zstd: no data");
		return -1;
	}
	return 0;
}

int kimage_decompress(enum kimage_comp c, const uint8_t *in, size_t len, uint8_t **out,
		      size_t *out_len, char *err, size_t errlen)
{
	struct obuf o = { 0 };
	int r;
	switch (c) {
	case KIMAGE_GZIP: r = d_gzip(in, len, &o, err, errlen); break;
	case KIMAGE_BZIP2: r = d_bzip2(in, len, &o, err, errlen); break;
	case KIMAGE_LZMA: r = d_lzma(false, in, len, &o, err, errlen); break;
	case KIMAGE_XZ: r = d_lzma(true, in, len, &o, err, errlen); break;
	case KIMAGE_LZO: r = d_lzo(in, len, &o, err, errlen); break;
	case KIMAGE_LZ4: r = d_lz4(in, len, &o, err, errlen); break;
	case KIMAGE_ZSTD: r = d_zstd(in, len, &o, err, errlen); break;
	default:
		seterr(err, errlen, "unknown compression");
		r = -1;
	}
	if (r) {
		free(o.p);
		return -1;
	}
	*out = o.p;
	*out_len = o.len;
	return 0;
}

/* ---- ELF --------------------------------------------------------------------- */

/* infer_reader.view: the bytes in place when [va, va + len) lies in one segment's
 * file bytes (the engine copies otherwise; a view never succeeds where
 * elf_read would fail, and gives the same bytes). */
static const uint8_t *elf_view(void *ctx, uint64_t va, size_t len)
{
	const struct kimage *k = ctx;
	for (size_t i = 0; i < k->nsegs; i++) {
		const struct kimage_seg *s = &k->segs[i];
		if (va >= s->va && va - s->va < s->memsz) {   /* elf_read's segment */
			uint64_t o = va - s->va;
			return o < s->filesz && len <= s->filesz - o ? k->elf + s->off + o : NULL;
		}
	}
	return NULL;
}

static bool elf_read(void *ctx, uint64_t va, void *buf, size_t len)
{
	const struct kimage *k = ctx;
	uint8_t *b = buf;
	/* a read may span adjacent segments */
	while (len) {
		const struct kimage_seg *s = NULL;
		for (size_t i = 0; i < k->nsegs; i++)
			if (va >= k->segs[i].va && va - k->segs[i].va < k->segs[i].memsz) {
				s = &k->segs[i];
				break;
			}
		if (!s)
			return false;
		uint64_t o = va - s->va;
		size_t n = s->memsz - o < len ? (size_t)(s->memsz - o) : len;
		for (size_t j = 0; j < n;) {
			uint64_t oo = o + j;
			if (oo < s->filesz) {
				size_t m = s->filesz - oo < n - j ? (size_t)(s->filesz - oo) : n - j;
				memcpy(b + j, k->elf + s->off + oo, m);
				j += m;
			} else {
				memset(b + j, 0, n - j);
				j = n;
			}
		}
		b += n;
		va += n;
		len -= n;
	}
	return true;
}

static int open_elf(struct kimage *k)
{
	const uint8_t *e = k->elf;
	size_t n = k->elf_len;
	if (n < 64 || memcmp(e, "\x7f" "ELF", 4)) {
		seterr(k->err, sizeof(k->err), "not an ELF file");
		return -1;
	}
	if (e[4] != 2 || e[5] != 1 || le16(e + 18) != 62) {
		seterr(k->err, sizeof(k->err), "ELF is not x86-64 little-endian (class %u, machine %u)",
		       e[4], le16(e + 18));
		return -1;
	}
	uint64_t phoff = le64(e + 32), shoff = le64(e + 40);
	uint16_t phentsize = le16(e + 54), phnum = le16(e + 56);
	uint16_t shentsize = le16(e + 58), shnum = le16(e + 60), shstrndx = le16(e + 62);
	if (phentsize != 56 || phnum == 0 || phoff > n || (uint64_t)phnum * 56 > n - phoff) {
		seterr(k->err, sizeof(k->err), "ELF program headers out of range");
		return -1;
	}
	k->segs = calloc(phnum, sizeof(*k->segs));
	if (!k->segs) {
		seterr(k->err, sizeof(k->err), "out of memory");
		return -1;
	}
	uint64_t lo = ~0ull, hi = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = e + phoff + 56ull * i;
		if (le32(ph) != 1) /* PT_LOAD */
			continue;
		struct kimage_seg s = { le64(ph + 16), le64(ph + 40), le64(ph + 32), le64(ph + 8) };
		if (s.off > n || s.filesz > n - s.off || s.filesz > s.memsz || s.memsz > SEG_MAX ||
		    s.va + s.memsz < s.va)
			continue; /* skip a bogus segment rather than trust it */
		k->segs[k->nsegs++] = s;
		/* the zero-based per-CPU segment is not part of the image span */
		if (s.va >= 0xffff800000000000ull) {
			if (s.va < lo)
				lo = s.va;
			if (s.va + s.filesz > hi)
				hi = s.va + s.filesz;
		}
	}
	if (!k->nsegs) {
		seterr(k->err, sizeof(k->err), "ELF has no usable PT_LOAD segment");
		return -1;
	}
	k->reader.read = elf_read;
	k->reader.view = elf_view;
	k->reader.ctx = k;
	if (hi > lo) {
		k->reader.image_start = lo;
		k->reader.image_end = hi;
	}
	/* sections (optional: a damaged table is ignored) */
	if (shentsize == 64 && shnum && shnum < 65535 && shoff < n &&
	    (uint64_t)shnum * 64 <= n - shoff && shstrndx < shnum) {
		const uint8_t *strsh = e + shoff + 64ull * shstrndx;
		uint64_t stroff = le64(strsh + 24), strsz = le64(strsh + 32);
		if (stroff <= n && strsz <= n - stroff) {
			k->secs = calloc(shnum, sizeof(*k->secs));
			for (unsigned i = 0; k->secs && i < shnum; i++) {
				const uint8_t *sh = e + shoff + 64ull * i;
				uint32_t name = le32(sh);
				uint64_t addr = le64(sh + 16), size = le64(sh + 32);
				if (name >= strsz || !addr)
					continue;
				const char *nm = (const char *)e + stroff + name;
				if (!memchr(nm, 0, strsz - name))
					continue;
				k->secs[k->nsecs++] = (struct infer_section){ nm, addr, size };
				if (!strcmp(nm, ".text")) {
					k->reader.text_start = addr;
					k->reader.text_end = addr + size;
				}
			}
			k->reader.sections = k->secs;
			k->reader.nsections = k->nsecs;
		}
	}
	if (!k->reader.text_start) {
		/* first executable PT_LOAD */
		for (unsigned i = 0; i < phnum; i++) {
			const uint8_t *ph = e + phoff + 56ull * i;
			if (le32(ph) == 1 && (le32(ph + 4) & 1) && le64(ph + 16) >= 0xffff800000000000ull) {
				k->reader.text_start = le64(ph + 16);
				k->reader.text_end = le64(ph + 16) + le64(ph + 32);
				break;
			}
		}
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int kimage_open_mem(struct kimage *k, const uint8_t *data, size_t len)
{
	memset(k, 0, sizeof(*k));
	if (len >= 4 && !memcmp(data, "\x7f" "ELF", 4)) {
		k->elf = (uint8_t *)data;
		k->elf_len = len;
		return open_elf(k);
	}
	if (len < 0x250 || memcmp(data + 0x202, "HdrS", 4)) {
		seterr(k->err, sizeof(k->err), "neither an ELF vmlinux nor a bzImage (no HdrS)");
		return -1;
	}
	k->is_bzimage = true;
	k->boot_version = le16(data + 0x206);
	if (k->boot_version < 0x208) {
		seterr(k->err, sizeof(k->err), "boot protocol %u.%02u has no payload fields (< 2.08)",
		       k->boot_version >> 8, k->boot_version & 0xff);
		return -1;
	}
	unsigned setup_sects = data[0x1f1] ? data[0x1f1] : 4;
	uint64_t pm = (uint64_t)(setup_sects + 1) * 512;
	uint64_t poff = pm + le32(data + 0x248), plen = le32(data + 0x24c);
	if (poff > len || plen > len - poff || plen < 8) {
		seterr(k->err, sizeof(k->err), "bzImage payload out of range (offset %llu, length %llu, file %zu)",
		       (unsigned long long)poff, (unsigned long long)plen, len);
		return -1;
	}
	const uint8_t *pl = data + poff;
	k->comp = kimage_detect(pl, plen);
	if (k->comp == KIMAGE_NONE) {
		seterr(k->err, sizeof(k->err), "bzImage payload compression not recognized (%02x %02x %02x %02x)",
		       pl[0], pl[1], pl[2], pl[3]);
		return -1;
	}
	double t0 = now();
	char e2[120];
	if (kimage_decompress(k->comp, pl, plen, &k->elf, &k->elf_len, e2, sizeof(e2))) {
		seterr(k->err, sizeof(k->err), "bzImage payload: %s", e2);
		return -1;
	}
	k->decompress_seconds = now() - t0;
	k->elf_owned = true;
	if (open_elf(k)) {
		char e3[160];
		memcpy(e3, k->err, sizeof(e3));
		seterr(k->err, sizeof(k->err), "decompressed %s payload: %s", kimage_comp_name(k->comp), e3);
		return -1;
	}
	return 0;
}

int kimage_open_file(struct kimage *k, const char *path)
{
	memset(k, 0, sizeof(*k));
	FILE *f = fopen(path, "rb");
	if (!f) {
		seterr(k->err, sizeof(k->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > (1ll << 30)) {
		fclose(f);
		seterr(k->err, sizeof(k->err), "%s: not a regular file of at most 1 GiB", path);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *d = malloc(n ? n : 1);
	if (!d || fread(d, 1, n, f) != n) {
		fclose(f);
		free(d);
		seterr(k->err, sizeof(k->err), "%s: read failed", path);
		return -1;
	}
	fclose(f);
	int r = kimage_open_mem(k, d, n);
	if (k->elf != d) {
		free(d);
	} else {
		k->elf_owned = true;
	}
	return r;
}

void kimage_close(struct kimage *k)
{
	if (k->elf_owned)
		free(k->elf);
	free(k->segs);
	free(k->secs);
	memset(k, 0, sizeof(*k));
}
