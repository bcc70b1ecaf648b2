/* Unit tests: tools/kimage.c — bzImage parsing, all seven payload
 * compressions (compressed here with the same distro libraries), the ELF
 * reader, and rejection of damaged input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include "tests/unit/infer_testutil.h"
#include "tools/kimage.h"

#define VA 0xffffffff81000000ull
static const char banner[] = "Linux version 1.2.3-kimage (t@t) #1 SMP\n";

/* A small vmlinux-like ELF: one PT_LOAD (filesz 0x3000, memsz 0x5000),
 * sections .text and .shstrtab. */
static size_t make_elf(uint8_t *e, size_t cap)
{
	const size_t data_off = 0x1000, filesz = 0x3000, memsz = 0x5000;
	assert_true(cap >= data_off + filesz + 0x200);
	memset(e, 0, data_off + filesz + 0x200);
	memcpy(e, "\x7f" "ELF", 4);
	e[4] = 2; e[5] = 1; e[6] = 1;
	put16(e + 16, 2); put16(e + 18, 62); put32(e + 20, 1);
	put64(e + 24, VA);
	put64(e + 32, 64);                           /* phoff */
	put64(e + 40, data_off + filesz);            /* shoff */
	put16(e + 52, 64); put16(e + 54, 56); put16(e + 56, 1);
	put16(e + 58, 64); put16(e + 60, 3); put16(e + 62, 2);
	uint8_t *ph = e + 64;
	put32(ph, 1); put32(ph + 4, 5);
	put64(ph + 8, data_off); put64(ph + 16, VA); put64(ph + 24, 0x1000000);
	put64(ph + 32, filesz); put64(ph + 40, memsz); put64(ph + 48, 0x1000);
	for (size_t i = 0; i < filesz; i++)
		e[data_off + i] = (uint8_t)(i * 7 + 1);
	memcpy(e + data_off + 0x2000, banner, sizeof(banner));
	/* shstrtab after the section headers */
	size_t sh = data_off + filesz, str = sh + 3 * 64;
	memcpy(e + str, "\0.text\0.shstrtab\0", 17);
	uint8_t *s1 = e + sh + 64, *s2 = e + sh + 128;
	put32(s1, 1); put32(s1 + 4, 1); put64(s1 + 16, VA); put64(s1 + 24, data_off);
	put64(s1 + 32, 0x1000);
	put32(s2, 7); put32(s2 + 4, 3); put64(s2 + 24, str); put64(s2 + 32, 17);
	return str + 17;
}

static uint8_t elf[0x5000];
static size_t elf_len;

static size_t compress_payload(enum kimage_comp c, const uint8_t *in, size_t n, uint8_t *out,
			       size_t cap)
{
	size_t len = 0;
	switch (c) {
	case KIMAGE_GZIP: {
		z_stream z;
		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)in; z.avail_in = (uInt)n;
		z.next_out = out; z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		len = z.total_out;
		deflateEnd(&z);
		break;
	}
	case KIMAGE_BZIP2: {
		unsigned l = (unsigned)cap;
		assert_int_equal(BZ2_bzBuffToBuffCompress((char *)out, &l, (char *)in, (unsigned)n, 9, 0, 0), BZ_OK);
		len = l;
		break;
	}
	case KIMAGE_XZ:
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, n, out, &len, cap), LZMA_OK);
		break;
	case KIMAGE_LZMA: {
		lzma_options_lzma o;
		lzma_lzma_preset(&o, 6);
		lzma_stream z = LZMA_STREAM_INIT;
		assert_int_equal(lzma_alone_encoder(&z, &o), LZMA_OK);
		z.next_in = in; z.avail_in = n; z.next_out = out; z.avail_out = cap;
		assert_int_equal(lzma_code(&z, LZMA_FINISH), LZMA_STREAM_END);
		len = z.total_out;
		lzma_end(&z);
		break;
	}
	case KIMAGE_LZ4: {
		put32(out, 0x184c2102);
		int r = LZ4_compress_default((const char *)in, (char *)out + 8, (int)n, (int)cap - 8);
		assert_true(r > 0);
		put32(out + 4, (uint32_t)r);
		len = 8 + (size_t)r;
		break;
	}
	case KIMAGE_ZSTD:
		len = ZSTD_compress(out, cap, in, n, 19);
		assert_false(ZSTD_isError(len));
		break;
	case KIMAGE_LZO: {
		static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
		assert_int_equal(lzo_init(), LZO_E_OK);
		uint8_t *p = out;
		memcpy(p, "\x89LZO\0\r\n\x1a\n", 9); p += 9;
		*p++ = 0x10; *p++ = 0x30;            /* version 0x1030 */
		*p++ = 0x20; *p++ = 0x80;            /* lib version */
		*p++ = 0x09; *p++ = 0x40;            /* version needed */
		*p++ = 1; *p++ = 9;                  /* method lzo1x_1, level */
		memset(p, 0, 4 + 4 + 4 + 4); p += 16; /* flags, mode, mtime lo/hi */
		*p++ = 0;                            /* name length */
		memset(p, 0, 4); p += 4;             /* header checksum (not checked) */
		lzo_uint cl = 0;
		uint8_t *hdr = p;
		p += 8;
		assert_int_equal(lzo1x_1_compress(in, n, p, &cl, wrk), LZO_E_OK);
		hdr[0] = (uint8_t)(n >> 24); hdr[1] = (uint8_t)(n >> 16); hdr[2] = (uint8_t)(n >> 8); hdr[3] = (uint8_t)n;
		hdr[4] = (uint8_t)(cl >> 24); hdr[5] = (uint8_t)(cl >> 16); hdr[6] = (uint8_t)(cl >> 8); hdr[7] = (uint8_t)cl;
		p += cl;
		memset(p, 0, 4); p += 4;             /* end of blocks */
		len = (size_t)(p - out);
		break;
	}
	default:
		fail();
	}
	/* the kernel build appends the decompressed size */
	put32(out + len, (uint32_t)n);
	return len + 4;
}

static size_t make_bzimage(uint8_t *b, size_t cap, enum kimage_comp c)
{
	memset(b, 0, 0x500);
	b[0x1f1] = 1; /* setup_sects: protected-mode code at 2 * 512 */
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x20f);
	size_t pl = compress_payload(c, elf, elf_len, b + 1024 + 0x100, cap - 1024 - 0x100);
	put32(b + 0x248, 0x100);
	put32(b + 0x24c, (uint32_t)pl);
	return 1024 + 0x100 + pl;
}

/* INFER_KIMAGE_SEEDS=DIR writes the generated images there (fuzz seed corpus). */
static void save_seed(const char *name, const uint8_t *b, size_t n)
{
	const char *dir = getenv("INFER_KIMAGE_SEEDS");
	if (!dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(b, 1, n, f);
		fclose(f);
	}
}

static void check_reader(struct kimage *k)
{
	const struct infer_reader *rd = &k->reader;
	uint8_t b[16];
	assert_true(rd->read(rd->ctx, VA + 0x10, b, 4));
	assert_int_equal(b[0], (uint8_t)(0x10 * 7 + 1));
	/* bss part of the segment reads as zeros */
	assert_true(rd->read(rd->ctx, VA + 0x4000, b, 16));
	for (int i = 0; i < 16; i++)
		assert_int_equal(b[i], 0);
	/* outside: fails */
	assert_false(rd->read(rd->ctx, VA + 0x5000 - 2, b, 4));
	assert_false(rd->read(rd->ctx, VA - 1, b, 1));
	assert_int_equal(rd->text_start, VA);
	assert_int_equal(rd->text_end, VA + 0x1000);
	assert_int_equal(rd->image_start, VA);
	struct infer_profile *p = calloc(1, sizeof(*p));
	assert_true(infer_find_banner(rd, NULL, p));
	assert_string_equal(p->banner, "Linux version 1.2.3-kimage (t@t) #1 SMP");
	free(p);
}

static void test_raw_elf(void **state)
{
	(void)state;
	elf_len = make_elf(elf, sizeof(elf));
	struct kimage k;
	assert_int_equal(kimage_open_mem(&k, elf, elf_len), 0);
	save_seed("elf", elf, elf_len);
	assert_false(k.is_bzimage);
	check_reader(&k);
	kimage_close(&k);
}

static void test_bzimage_all_compressions(void **state)
{
	(void)state;
	static uint8_t b[1 << 17];
	elf_len = make_elf(elf, sizeof(elf));
	for (enum kimage_comp c = KIMAGE_GZIP; c <= KIMAGE_ZSTD; c++) {
		size_t n = make_bzimage(b, sizeof(b), c);
		struct kimage k;
		int r = kimage_open_mem(&k, b, n);
		if (r)
			print_error("%s: %s\n", kimage_comp_name(c), k.err);
		assert_int_equal(r, 0);
		save_seed(kimage_comp_name(c), b, n);
		assert_true(k.is_bzimage);
		assert_int_equal(k.comp, c);
		assert_true(k.elf_len >= elf_len);
		assert_memory_equal(k.elf, elf, elf_len);
		check_reader(&k);
		kimage_close(&k);
	}
}

static void test_damaged(void **state)
{
	(void)state;
	static uint8_t b[1 << 17];
	struct kimage k;
	elf_len = make_elf(elf, sizeof(elf));
	/* not a kernel at all */
	memset(b, 0x41, 4096);
	assert_int_equal(kimage_open_mem(&k, b, 4096), -1);
	assert_non_null(strstr(k.err, "neither"));
	kimage_close(&k);
	/* old boot protocol */
	size_t n = make_bzimage(b, sizeof(b), KIMAGE_GZIP);
	put16(b + 0x206, 0x204);
	assert_int_equal(kimage_open_mem(&k, b, n), -1);
	kimage_close(&k);
	/* payload beyond the file */
	n = make_bzimage(b, sizeof(b), KIMAGE_GZIP);
	put32(b + 0x24c, 0x7fffffff);
	assert_int_equal(kimage_open_mem(&k, b, n), -1);
	assert_non_null(strstr(k.err, "out of range"));
	kimage_close(&k);
	/* every compression: truncated and bit-flipped payloads fail cleanly
	 * or decode to something that is then validated as an ELF */
	for (enum kimage_comp c = KIMAGE_GZIP; c <= KIMAGE_ZSTD; c++) {
		n = make_bzimage(b, sizeof(b), c);
		uint32_t pl = (uint32_t)(n - 1024 - 0x100);
		put32(b + 0x24c, pl / 2);
		int r = kimage_open_mem(&k, b, n);
		if (r)
			assert_true(k.err[0] != 0);
		kimage_close(&k);
		n = make_bzimage(b, sizeof(b), c);
		for (size_t i = 1024 + 0x100 + 20; i < n; i += 37)
			b[i] ^= 0x5a;
		r = kimage_open_mem(&k, b, n);
		if (r)
			assert_true(k.err[0] != 0);
		kimage_close(&k);
	}
	/* ELF with a PT_LOAD pointing outside the file: segment ignored */
	uint8_t bad[sizeof(elf)];
	memcpy(bad, elf, elf_len);
	put64(bad + 64 + 8, 0xffffffffull);
	assert_int_equal(kimage_open_mem(&k, bad, elf_len), -1);
	assert_non_null(strstr(k.err, "PT_LOAD"));
	kimage_close(&k);
	/* 32-bit ELF */
	memcpy(bad, elf, elf_len);
	bad[4] = 1;
	assert_int_equal(kimage_open_mem(&k, bad, elf_len), -1);
	kimage_close(&k);
}

static void test_output_cap(void **state)
{
	(void)state;
	/* a small gzip bomb: 64 MiB of zeros must stop at the cap */
	size_t big = 64u << 20;
	uint8_t *zeros = calloc(1, big);
	static uint8_t out[1 << 20];
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = zeros; z.avail_in = (uInt)big;
	z.next_out = out; z.avail_out = sizeof(out);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = z.total_out;
	deflateEnd(&z);
	size_t saved = kimage_max_output;
	kimage_max_output = 8u << 20;
	uint8_t *o = NULL;
	size_t olen = 0;
	char err[128];
	assert_int_equal(kimage_decompress(KIMAGE_GZIP, out, n, &o, &olen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger"));
	kimage_max_output = saved;
	free(zeros);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_elf),
		cmocka_unit_test(test_bzimage_all_compressions),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_output_cap),
	};
	return cmocka_run_group_tests_name("infer_kimage", tests, NULL, NULL);
}
