/*
 * Multiboot2 front end: turns GRUB's boot information (MBI) into struct
 * boot_info and calls hv_main. Boot interface:
 *   multiboot2 /hvmon.elf <hvmon options>
 *   module2 /vmlinuz guest-kernel <guest command line>
 *   module2 /initrd guest-initrd
 * (without the names, the first module is the kernel, the second the initrd).
 */
#include <string.h>
#include "boot/boot_info.h"
#include "lib/console.h"
#include "arch/x86/layout.h"
#include "arch/x86/cpu.h"

#define MB2_BOOT_MAGIC 0x36d76289
enum { TAG_END = 0, TAG_CMDLINE = 1, TAG_MODULE = 3, TAG_MMAP = 6, TAG_FB = 8,
       TAG_ACPI_OLD = 14, TAG_ACPI_NEW = 15, TAG_LOAD_BASE = 21 };

struct mb2_tag { uint32_t type, size; };

static struct boot_info mb2_bi;

void __attribute__((noreturn)) hv_main(struct boot_info *bi);

static size_t copy_str(char *dst, size_t cap, const char *src, size_t max)
{
	size_t n = 0;
	while (n + 1 < cap && n < max && src[n])
		dst[n] = src[n], n++;
	dst[n] = 0;
	return n;
}

/* GRUB hands a copy of the RSDP; the guest needs its address: find the
 * original in the legacy BIOS areas (EBDA first KiB, 0xE0000-0xFFFFF). */
static uint64_t find_rsdp(const uint8_t *copy, size_t len)
{
	if (len < 20)
		return 0;
	uint16_t seg;
	memcpy(&seg, (const void *)(uintptr_t)0x40e, 2);   /* BIOS data area: EBDA segment */
	uint64_t ebda = (uint64_t)seg << 4;
	uint64_t ranges[2][2] = { { ebda, ebda + 1024 }, { 0xe0000, 0x100000 } };
	for (int r = 0; r < 2; r++) {
		if (ranges[r][0] < 0x400 || ranges[r][1] > 0x100000)
			continue;
		for (uint64_t a = ranges[r][0]; a + 20 <= ranges[r][1]; a += 16)
			if (!memcmp((const void *)a, copy, 20))
				return a;
	}
	return 0;
}

void __attribute__((noreturn)) mb2_main(uint32_t magic, uint64_t mbi_pa)
{
	struct boot_info *bi = &mb2_bi;
	if (magic != MB2_BOOT_MAGIC)
		hv_panic("bad Multiboot2 magic %#x", magic);
	bi->version = BOOT_INFO_VERSION;
	bi->source = BOOT_SRC_MULTIBOOT2;

	const uint8_t *mbi = (const uint8_t *)mbi_pa;
	uint32_t total = *(const uint32_t *)mbi;
	if (total < 16 || total > (1u << 24))
		hv_panic("implausible MBI size %u", total);
	const uint8_t *acpi_copy = NULL;
	size_t acpi_len = 0;
	unsigned int nmod = 0;

	for (uint32_t off = 8; off + 8 <= total;) {
		const struct mb2_tag *t = (const void *)(mbi + off);
		if (t->type == TAG_END || t->size < 8 || off + t->size > total)
			break;
		const uint8_t *body = (const uint8_t *)t + 8;
		uint32_t blen = t->size - 8;
		switch (t->type) {
		case TAG_CMDLINE:
			copy_str(bi->hv_cmdline, sizeof(bi->hv_cmdline), (const char *)body, blen);
			break;
		case TAG_MODULE: {
			if (blen < 8)
				break;
			uint32_t start = ((const uint32_t *)body)[0], end = ((const uint32_t *)body)[1];
			const char *s = (const char *)body + 8;
			if (end <= start) {
				hv_printf("hvmon: ignoring empty/inverted module %#x-%#x\n", start, end);
				nmod++;
				break;
			}
			size_t slen = blen - 8;
			const char *word_end = s;
			while ((size_t)(word_end - s) < slen && *word_end && *word_end != ' ')
				word_end++;
			size_t wl = (size_t)(word_end - s);
			bool is_kernel = wl == 12 && !memcmp(s, "guest-kernel", 12);
			bool is_initrd = wl == 12 && !memcmp(s, "guest-initrd", 12);
			if (!is_kernel && !is_initrd) {
				is_kernel = nmod == 0;
				is_initrd = nmod == 1;
				word_end = s;     /* whole string is the kernel command line */
			}
			if (is_kernel) {
				bi->guest_kernel = (struct boot_blob){ start, end - start };
				while ((size_t)(word_end - s) < slen && *word_end == ' ')
					word_end++;
				copy_str(bi->guest_cmdline, sizeof(bi->guest_cmdline), word_end,
					 slen - (size_t)(word_end - s));
			} else if (is_initrd) {
				bi->guest_initrd = (struct boot_blob){ start, end - start };
			}
			nmod++;
			break;
		}
		case TAG_MMAP: {
			uint32_t esize = ((const uint32_t *)body)[0];
			if (esize < 24)
				break;
			for (uint32_t e = 8; e + esize <= blen && bi->nr_mem < BOOT_MEM_MAX; e += esize) {
				const uint8_t *ent = body + e;
				struct boot_mem_region *m = &bi->mem[bi->nr_mem++];
				memcpy(&m->base, ent, 8);
				memcpy(&m->length, ent + 8, 8);
				memcpy(&m->type, ent + 16, 4);
			}
			break;
		}
		case TAG_ACPI_OLD:
			if (!acpi_copy)
				acpi_copy = body, acpi_len = blen;
			break;
		case TAG_ACPI_NEW:
			acpi_copy = body, acpi_len = blen;
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
		off += (t->size + 7) & ~7u;
	}
	if (acpi_copy)
		bi->acpi_rsdp = find_rsdp(acpi_copy, acpi_len);

	uint64_t image = (uint64_t)(__image_end - __image_start);
	uint64_t heap = (uint64_t)(__heap_end - __heap_start);
	bi->reserved[bi->nr_reserved++] = (struct boot_reserved){
		hv_phys_base, image + heap, "hvmon image+heap" };
	hv_main(bi);
}
