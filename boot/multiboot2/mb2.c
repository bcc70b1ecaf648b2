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
#include "boot/multiboot2/mb2_parse.h"
#include "lib/console.h"
#include "arch/x86/layout.h"
#include "arch/x86/cpu.h"

#define MB2_BOOT_MAGIC 0x36d76289

static struct boot_info mb2_bi;

void __attribute__((noreturn)) hv_main(struct boot_info *bi);

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

	uint8_t *mbi = (uint8_t *)mbi_pa;
	uint32_t total = *(const uint32_t *)mbi;
	if (total < 16 || total > (1u << 24))
		hv_panic("Multiboot2: implausible boot information size %u; refusing to boot", total);
	uint64_t image = (uint64_t)(__image_end - __image_start);
	uint64_t heap = (uint64_t)(__heap_end - __heap_start);
	struct mb2_parsed p;
	static char err[MB2_ERR_LEN];
	/* fail closed, as hvmon.efi does: a malformed MBI, a cut command line or a
	 * module over hvmon or outside RAM stops the boot with the reason */
	if (mb2_parse(mbi, total, hv_phys_base, image + heap, bi, &p, err))
		hv_panic("Multiboot2: %s; refusing to boot (docs/BOOT.md)", err);
	/* the command line may hold key=: GRUB's MBI lies in what becomes guest
	 * RAM, so wipe it now that hvmon has its copy (issue 17) */
	if (p.cmdline_len)
		memset(mbi + p.cmdline_off, 0, p.cmdline_len);
	const uint8_t *acpi_copy = p.acpi_len ? mbi + p.acpi_off : NULL;
	size_t acpi_len = p.acpi_len;

	if (acpi_copy)
		bi->acpi_rsdp = find_rsdp(acpi_copy, acpi_len);

	bi->reserved[bi->nr_reserved++] = (struct boot_reserved){
		hv_phys_base, image + heap, "hvmon image+heap" };
	hv_main(bi);
}
