/* libFuzzer target: boot/uefi/elfload.c (hvmon.elf validation) and
 * boot/uefi/memmap.c (firmware memory map conversion) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "boot/uefi/elfload.h"
#include "boot/uefi/memmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	struct uefi_elf_plan plan;
	const char *why = NULL;
	unsigned char *buf = malloc(size ? size : 1);
	uint32_t i, bad;

	memcpy(buf, data, size);
	if (uefi_elf_plan(buf, size, &plan, &why) == 0) {
		/* accepted: loading must stay inside plan.total (ASan checks) */
		if (plan.total <= (1u << 24)) {
			unsigned char *dest = malloc(plan.total);
			uefi_elf_load(buf, &plan, dest);
			free(dest);
		}
	} else if (!why) {
		abort();
	}

	/* the same bytes as a memory map with a stride from the first byte */
	memset(&bi, 0, sizeof(bi));
	if (uefi_memmap_to_boot(buf, size, size ? 40 + (buf[0] & 0x18) : 48, &bi) == 0) {
		for (i = 0; i + 1 < bi.nr_mem; i++)
			if (bi.mem[i].base + bi.mem[i].length > bi.mem[i + 1].base)
				abort();     /* sorted and disjoint */
		if (bi.nr_mem && size >= 24)
			uefi_add_reserved(&bi, bi.mem[0].base, bi.mem[0].length, "x");
		(void)uefi_check_reserved(&bi, &bad);
	}
	free(buf);
	return 0;
}
