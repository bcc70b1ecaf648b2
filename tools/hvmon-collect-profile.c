/* hvmon-collect --make-profile: see hvmon-collect-profile.h. SHA-256: the
 * same mbedTLS source and configuration as hvmon's own measurement. */
#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tools/hvmon-collect-profile.h"
#include "vmm/options.h"
#include "vmm/monitor.h"
#include "mbedtls/sha256.h"

static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

static void hexout(const uint8_t h[32], char out[65])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[64] = 0;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t h[32];
	mbedtls_sha256_ret(p, n, h, 0);
	hexout(h, out);
}

/* ELF structures are read with memcpy: the file gives their offsets, which
 * need not be aligned */
static void get_shdr(const uint8_t *elf, const Elf64_Ehdr *eh, unsigned i, Elf64_Shdr *sh)
{
	memcpy(sh, elf + eh->e_shoff + (uint64_t)i * sizeof(*sh), sizeof(*sh));
}

static void get_phdr(const uint8_t *elf, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, elf + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* the symbol's value, if the image still has a symbol table */
static int elf_symbol(const uint8_t *elf, size_t len, const Elf64_Ehdr *eh, const char *name, uint64_t *val)
{
	size_t nl = strlen(name);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh, strs;
		get_shdr(elf, eh, i, &sh);
		if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh->e_shnum)
			continue;
		get_shdr(elf, eh, sh.sh_link, &strs);
		if (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset ||
		    strs.sh_offset > len || strs.sh_size > len - strs.sh_offset)
			return -1;
		const char *str = (const char *)(elf + strs.sh_offset);
		for (size_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); k++) {
			Elf64_Sym sym;
			memcpy(&sym, elf + sh.sh_offset + k * sizeof(sym), sizeof(sym));
			/* the name and its NUL inside the string table */
			if (sym.st_name < strs.sh_size && nl < strs.sh_size - sym.st_name &&
			    !memcmp(str + sym.st_name, name, nl + 1)) {
				*val = sym.st_value;
				return 0;
			}
		}
	}
	return -1;
}

int prof_hvmon_sha256(const uint8_t *elf, size_t len, char out[65], char *err, size_t errsz)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return fail(err, errsz, "not an x86-64 ELF64 image");
	memcpy(&eh, elf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return fail(err, errsz, "not an x86-64 ELF64 image");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return fail(err, errsz, "program headers outside the file");
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || !eh.e_shnum || eh.e_shoff > len ||
	    (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > len - eh.e_shoff)
		return fail(err, errsz, "no section headers (needed to find the end of .rodata)");
	uint64_t start = UINT64_MAX, end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		get_phdr(elf, &eh, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_vaddr < start)
			start = ph.p_vaddr;
	}
	if (start == UINT64_MAX)
		return fail(err, errsz, "no PT_LOAD segment");
	/* __ro_end: the end of the last allocated, non-writable section (linker.ld) */
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		get_shdr(elf, &eh, i, &sh);
		if ((sh.sh_flags & SHF_ALLOC) && !(sh.sh_flags & SHF_WRITE) && sh.sh_size &&
		    sh.sh_addr + sh.sh_size > sh.sh_addr && sh.sh_addr + sh.sh_size > end)
			end = sh.sh_addr + sh.sh_size;
	}
	uint64_t sym;
	if (!elf_symbol(elf, len, &eh, "__image_start", &sym))
		start = sym;
	if (!elf_symbol(elf, len, &eh, "__ro_end", &sym))
		end = sym;
	if (end <= start || end - start > (256u << 20))
		return fail(err, errsz, "read-only range %#llx..%#llx makes no sense", (unsigned long long)start,
			    (unsigned long long)end);
	/* .text and .rodata are file bytes: a range larger than the file plus
	 * the alignment gaps a linker may leave between segments (2 MiB) is not
	 * hvmon's image, and hashing it would cost time for nothing (fuzz_collect_profile
	 * found a 12 KiB file claiming 256 MiB: 11 s of CPU under ASan) */
	if (end - start > (uint64_t)len + (2u << 20))
		return fail(err, errsz, "read-only range %#llx..%#llx (%llu bytes) is larger than the file (%zu bytes)",
			    (unsigned long long)start, (unsigned long long)end,
			    (unsigned long long)(end - start), len);
	uint8_t *img = calloc(1, end - start);
	if (!img)
		return fail(err, errsz, "out of memory");
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr p;
		get_phdr(elf, &eh, i, &p);
		if (p.p_type != PT_LOAD)
			continue;
		if (p.p_offset > len || p.p_filesz > len - p.p_offset || p.p_filesz > p.p_memsz ||
		    p.p_vaddr + p.p_filesz < p.p_vaddr) {
			free(img);
			return fail(err, errsz, "PT_LOAD segment %u outside the file", i);
		}
		/* the file bytes that fall into [start, end); past p_filesz: zeros */
		uint64_t a = p.p_vaddr > start ? p.p_vaddr : start;
		uint64_t b = p.p_vaddr + p.p_filesz < end ? p.p_vaddr + p.p_filesz : end;
		if (a < b)
			memcpy(img + (a - start), elf + p.p_offset + (a - p.p_vaddr), b - a);
	}
	sha256_hex(img, end - start, out);
	free(img);
	return 0;
}

/* GRUB's gzio: a gzip stream (possibly several members) */
static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *olen, char *err, size_t errsz)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 4096, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf || inflateInit2(&z, 15 + 32) != Z_OK) {
		free(buf);
		return fail(err, errsz, "out of memory");
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)len;
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb) { free(buf); inflateEnd(&z); return fail(err, errsz, "out of memory"); }
			buf = nb;
		}
		z.next_out = buf + n;
		z.avail_out = (uInt)(cap - n);
		int rc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (rc == Z_STREAM_END) {
			if (!z.avail_in)
				break;
			inflateReset(&z);           /* another member follows */
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			free(buf);
			inflateEnd(&z);
			return fail(err, errsz, "gzip data is corrupt: %s", z.msg ? z.msg : "inflate failed");
		}
		if (rc == Z_BUF_ERROR && z.avail_out) {
			free(buf);
			inflateEnd(&z);
			return fail(err, errsz, "gzip data is truncated");
		}
	}
	inflateEnd(&z);
	*out = buf;
	*olen = n;
	return 0;
}

/* GRUB's xzio */
static int unxz(const uint8_t *in, size_t len, uint8_t **out, size_t *olen, char *err, size_t errsz)
{
	lzma_stream z = LZMA_STREAM_INIT;
	size_t cap = len * 4 + 4096;
	uint8_t *buf = malloc(cap);
	if (!buf || lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
		free(buf);
		return fail(err, errsz, "out of memory");
	}
	z.next_in = in;
	z.avail_in = len;
	for (;;) {
		if (z.total_out == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb) { free(buf); lzma_end(&z); return fail(err, errsz, "out of memory"); }
			buf = nb;
		}
		z.next_out = buf + z.total_out;
		z.avail_out = cap - z.total_out;
		lzma_ret rc = lzma_code(&z, LZMA_FINISH);
		if (rc == LZMA_STREAM_END)
			break;
		if (rc != LZMA_OK) {
			free(buf);
			lzma_end(&z);
			return fail(err, errsz, "xz data is corrupt or truncated (liblzma error %d)", (int)rc);
		}
	}
	*olen = z.total_out;
	lzma_end(&z);
	*out = buf;
	return 0;
}

int prof_module_sha256(const uint8_t *data, size_t len, int loader, char out[65], char *err, size_t errsz)
{
	static const uint8_t gz[] = { 0x1f, 0x8b }, xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0 },
			     lzop[] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a };
	uint8_t *plain = NULL;
	size_t plen = 0;
	int rc = 0;
	if (loader == PROF_LOADER_MULTIBOOT2) {
		if (len >= sizeof(gz) && !memcmp(data, gz, sizeof(gz)))
			rc = gunzip(data, len, &plain, &plen, err, errsz);
		else if (len >= sizeof(xz) && !memcmp(data, xz, sizeof(xz)))
			rc = unxz(data, len, &plain, &plen, err, errsz);
		else if (len >= sizeof(lzop) && !memcmp(data, lzop, sizeof(lzop)))
			return fail(err, errsz, "an lzop file: GRUB decompresses it, this tool cannot "
				    "(use gzip, xz, zstd or none, or boot it and take the hash from boot_config)");
		if (rc)
			return rc;
	} else if (loader != PROF_LOADER_UEFI) {
		return fail(err, errsz, "unknown loader %d", loader);
	}
	sha256_hex(plain ? plain : data, plain ? plen : len, out);
	free(plain);
	return 0;
}

int prof_options(const char *options, char out[65], char *monitors, size_t monsz, char *summary,
		 size_t sumsz, char *err, size_t errsz)
{
	static struct hv_options o;
	static struct hv_opt_errors errs;
	static char opts[1024];                 /* the size vmm/measure.c formats into */
	const struct hv_opt_owner *own[HV_MAX_MONITORS];

	if (strlen(options) >= HV_OPT_CMDLINE_MAX)
		return fail(err, errsz, "the options are longer than hvmon takes (%d bytes)", HV_OPT_CMDLINE_MAX - 1);
	hv_options_defaults(&o);
	if (hv_options_set_owners(&o, own, hv_monitor_owners(own, HV_MAX_MONITORS)))
		return fail(err, errsz, "monitor option table refused");
	if (hv_options_parse(options, strlen(options) + 1, &o, &errs)) {
		/* hvmon refuses to boot with these: say why, as it would */
		return fail(err, errsz, "option \"%s\": %s (hvmon would refuse to boot)",
			    errs.count ? errs.e[0].word : "?", errs.count ? errs.e[0].why : "bad option");
	}
	size_t n = hv_options_format(&o, opts, sizeof(opts));
	sha256_hex(opts, n < sizeof(opts) ? n : sizeof(opts) - 1, out);
	if (summary && sumsz)
		snprintf(summary, sumsz, "%s", opts);
	if (monitors && monsz) {
		size_t m = 0;
		monitors[0] = 0;
		for (uint32_t i = 0; i < o.nr_owners && i < HV_OPT_MAX_OWNERS; i++)
			if (o.monitors & (1u << i))
				m += (size_t)snprintf(monitors + m, m < monsz ? monsz - m : 0, "%s%s", m ? "," : "",
						      o.owners[i]->name);
		if (m >= monsz)
			return fail(err, errsz, "monitor list too long");
	}
	return 0;
}

uint8_t *prof_read_file(const char *path, size_t *len, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f) {
		fail(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 1 << 20);
			if (!nb) { free(buf); fclose(f); fail(err, errsz, "%s: out of memory", path); return NULL; }
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fail(err, errsz, "%s: read error", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}
