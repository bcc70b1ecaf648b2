/* libFuzzer target: the pure Multiboot2 parser (boot/multiboot2/mb2_parse.c)
 * on arbitrary boot information. The input is the MBI itself, in a buffer of
 * exactly its size, so ASan catches any read past it (the two over-reads of
 * issue 18 are seeds). Invariants on success: command lines NUL-terminated,
 * the kernel module present, every module inside RAM and off hvmon. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "boot/multiboot2/mb2_parse.h"

#define HV_BASE 0x1000000ull
#define HV_SIZE 0x2000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	struct mb2_parsed p;
	char err[MB2_ERR_LEN];

	memset(&bi, 0, sizeof(bi));
	int rc = mb2_parse(data, size, HV_BASE, HV_SIZE, &bi, &p, err);
	if (memchr(err, 0, sizeof(err)) == NULL)
		abort();
	if (rc) {
		if (!err[0])
			abort();              /* every refusal says why */
		return 0;
	}
	if (!memchr(bi.hv_cmdline, 0, sizeof(bi.hv_cmdline)) ||
	    !memchr(bi.guest_cmdline, 0, sizeof(bi.guest_cmdline)))
		abort();
	if (!bi.guest_kernel.size || bi.nr_mem == 0 || bi.nr_mem > BOOT_MEM_MAX)
		abort();
	uint64_t ks = bi.guest_kernel.base, ke = ks + bi.guest_kernel.size;
	if (ks < HV_BASE + HV_SIZE && HV_BASE < ke)
		abort();
	if (p.cmdline_len && ((size_t)p.cmdline_off + p.cmdline_len > size))
		abort();
	if (p.acpi_len && ((size_t)p.acpi_off + p.acpi_len > size))
		abort();
	return 0;
}
