/* Pure Multiboot2 parser — see mb2_parse.h. Multiboot2 spec 1.0 section 3.6. */
#include <string.h>
#include "boot/multiboot2/mb2_parse.h"

enum { TAG_END = 0, TAG_CMDLINE = 1, TAG_MODULE = 3, TAG_MMAP = 6, TAG_FB = 8,
       TAG_ACPI_OLD = 14, TAG_ACPI_NEW = 15 };

#define MB2_MAX_MODULES 8

/* minimal freestanding formatter: "%s", "%u" (uint32), "%x" (uint64) */
static void fmt(char *dst, size_t cap, const char *f, const char *s, uint64_t a, uint64_t b)
{
	size_t n = 0;
	int arg = 0;
	for (; *f && n + 1 < cap; f++) {
		if (*f != '%' || !f[1]) {
			dst[n++] = *f;
			continue;
		}
		f++;
		if (*f == 's') {
			for (const char *q = s; q && *q && n + 1 < cap; q++)
				dst[n++] = *q;
			continue;
		}
		uint64_t v = arg++ ? b : a;
		char t[24];
		int k = 0;
		unsigned base = *f == 'x' ? 16 : 10;
		if (base == 16 && n + 3 < cap)
			dst[n++] = '0', dst[n++] = 'x';
		do {
			t[k++] = "0123456789abcdef"[v % base];
			v /= base;
		} while (v && k < 24);
		while (k && n + 1 < cap)
			dst[n++] = t[--k];
	}
	dst[n] = 0;
}

static int fail(char *err, const char *f, const char *s, uint64_t a, uint64_t b)
{
	fmt(err, MB2_ERR_LEN, f, s, a, b);
	return -1;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* strnlen within a tag; returns max if there is no NUL */
static size_t str_len(const uint8_t *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

static int copy_cmdline(char *dst, const uint8_t *s, size_t len, const char *what, char *err)
{
	if (len >= BOOT_CMDLINE_MAX)
		return fail(err, "%s is %u bytes, at most %u: refusing a truncated command line",
			    what, len, BOOT_CMDLINE_MAX - 1);
	memcpy(dst, s, len);
	dst[len] = 0;
	return 0;
}

struct mod { uint64_t start, end; };

static int parse_module(const uint8_t *body, uint32_t blen, struct boot_info *bi,
			struct mod *mods, unsigned *nmod, char *err)
{
	if (blen < 9)
		return fail(err, "module tag: %u bytes, at least 9 (start, end, string)", 0, blen, 0);
	uint32_t start = rd32(body), end = rd32(body + 4);
	const uint8_t *s = body + 8;
	size_t slen = blen - 8, sl = str_len(s, slen);
	if (sl == slen)
		return fail(err, "module %u: string not NUL-terminated inside its tag", 0, *nmod + 1, 0);
	if (end <= start)
		return fail(err, "module %u: empty or inverted range %x", 0, *nmod + 1, start);
	if (*nmod >= MB2_MAX_MODULES)
		return fail(err, "more than %u modules", 0, MB2_MAX_MODULES, 0);
	size_t wl = 0;
	while (wl < sl && s[wl] != ' ')
		wl++;
	int is_kernel = wl == 12 && !memcmp(s, "guest-kernel", 12);
	int is_initrd = wl == 12 && !memcmp(s, "guest-initrd", 12);
	if (!is_kernel && !is_initrd) {
		/* the boot contract without names: first module kernel, second initrd */
		is_kernel = *nmod == 0;
		is_initrd = *nmod == 1;
		wl = 0;
	}
	mods[*nmod] = (struct mod){ start, end };
	(*nmod)++;
	if (is_kernel) {
		if (bi->guest_kernel.size)
			return fail(err, "two guest-kernel modules", 0, 0, 0);
		bi->guest_kernel = (struct boot_blob){ start, end - start };
		while (wl < sl && s[wl] == ' ')
			wl++;
		return copy_cmdline(bi->guest_cmdline, s + wl, sl - wl, "the guest command line", err);
	}
	if (is_initrd) {
		if (bi->guest_initrd.size)
			return fail(err, "two guest-initrd modules", 0, 0, 0);
		bi->guest_initrd = (struct boot_blob){ start, end - start };
	}
	return 0;
}

static int parse_mmap(const uint8_t *body, uint32_t blen, struct boot_info *bi, char *err)
{
	if (blen < 8)
		return fail(err, "memory map tag: %u bytes, at least 8", 0, blen, 0);
	uint32_t esize = rd32(body);
	if (esize < 24 || esize > blen - 8 || esize % 8)
		return fail(err, "memory map tag: entry size %u (tag body %u bytes)", 0, esize, blen);
	if (bi->nr_mem)
		return fail(err, "two memory map tags", 0, 0, 0);
	for (uint32_t e = 8; e <= blen - esize; e += esize) {
		if (bi->nr_mem >= BOOT_MEM_MAX)
			return fail(err, "memory map: more than %u entries", 0, BOOT_MEM_MAX, 0);
		struct boot_mem_region *m = &bi->mem[bi->nr_mem++];
		memcpy(&m->base, body + e, 8);
		memcpy(&m->length, body + e + 8, 8);
		memcpy(&m->type, body + e + 16, 4);
		m->pad = 0;
	}
	return 0;
}

static int in_ram(const struct boot_info *bi, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < bi->nr_mem; i++) {
		const struct boot_mem_region *m = &bi->mem[i];
		if (m->type == BOOT_MEM_RAM && start >= m->base && m->base + m->length >= m->base &&
		    end <= m->base + m->length)
			return 1;
	}
	return 0;
}

int mb2_parse(const uint8_t *mbi, size_t len, uint64_t hv_base, uint64_t hv_size,
	      struct boot_info *bi, struct mb2_parsed *p, char err[MB2_ERR_LEN])
{
	struct mod mods[MB2_MAX_MODULES];
	unsigned nmod = 0;
	int have_end = 0, rc = 0;

	memset(p, 0, sizeof(*p));
	err[0] = 0;
	if (len < 16)
		return fail(err, "boot information is %u bytes, at least 16", 0, len, 0);
	uint32_t total = rd32(mbi);
	if (total < 16 || total > len)
		return fail(err, "boot information size %u (at most %u readable)", 0, total, len);
	for (uint32_t off = 8; off < total && !have_end;) {
		if (total - off < 8)
			return fail(err, "tag header at offset %u overruns the boot information (%u bytes)", 0, off, total);
		uint32_t type = rd32(mbi + off), size = rd32(mbi + off + 4);
		if (size < 8 || size > total - off)
			return fail(err, "tag at offset %u: size %u overruns the boot information", 0, off, size);
		const uint8_t *body = mbi + off + 8;
		uint32_t blen = size - 8;
		switch (type) {
		case TAG_END:
			have_end = 1;
			break;
		case TAG_CMDLINE: {
			size_t sl = str_len(body, blen);
			if (sl == blen)
				return fail(err, "command line tag not NUL-terminated", 0, 0, 0);
			rc = copy_cmdline(bi->hv_cmdline, body, sl, "the hvmon command line", err);
			p->cmdline_off = off + 8;
			p->cmdline_len = (uint32_t)sl;
			break;
		}
		case TAG_MODULE:
			rc = parse_module(body, blen, bi, mods, &nmod, err);
			break;
		case TAG_MMAP:
			rc = parse_mmap(body, blen, bi, err);
			break;
		case TAG_ACPI_OLD:
			if (!p->acpi_len)
				p->acpi_off = off + 8, p->acpi_len = blen;
			break;
		case TAG_ACPI_NEW:
			p->acpi_off = off + 8, p->acpi_len = blen;
			break;
		case TAG_FB:
			if (blen >= 22) {
				memcpy(&bi->fb.addr, body, 8);
				memcpy(&bi->fb.pitch, body + 8, 4);
				memcpy(&bi->fb.width, body + 12, 4);
				memcpy(&bi->fb.height, body + 16, 4);
				bi->fb.bpp = body[20];
				bi->fb.type = body[21];
			}
			break;
		}
		if (rc)
			return rc;
		uint32_t step = (size + 7) & ~7u;
		if (step > total - off)
			step = total - off;
		off += step;
	}
	if (!have_end)
		return fail(err, "no end tag inside the boot information", 0, 0, 0);
	if (!bi->nr_mem)
		return fail(err, "no memory map tag", 0, 0, 0);
	if (!bi->guest_kernel.size)
		return fail(err, "no guest kernel module (module2 /vmlinuz guest-kernel ...)", 0, 0, 0);
	for (unsigned i = 0; i < nmod; i++) {
		if (mods[i].start < hv_base + hv_size && hv_base < mods[i].end)
			return fail(err, "module %u at %x overlaps hvmon's image and heap", 0, i + 1, mods[i].start);
		if (!in_ram(bi, mods[i].start, mods[i].end))
			return fail(err, "module %u at %x is not inside RAM of the memory map", 0, i + 1, mods[i].start);
	}
	return 0;
}
