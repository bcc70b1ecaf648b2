/* libFuzzer target: bzImage setup-header parser, kernel placement and boot_params
 * builder on arbitrary images. Invariants checked beyond "no crash/UB". */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "vmm/linux_boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_image img;
	static uint8_t bp[LB_BP_SIZE];
	/* copy into an exact-size heap buffer so ASan sees every out-of-bounds read */
	uint8_t *im = malloc(size ? size : 1);
	memcpy(im, data, size);
	if (lb_parse(im, size, &img) == LB_OK) {
		if ((uint64_t)img.setup_size + img.payload_file_size > size ||
		    img.init_size < img.payload_file_size || !img.kernel_alignment ||
		    (img.kernel_alignment & (img.kernel_alignment - 1)))
			abort();
		struct e820_entry map[2] = { { 0, 0x9f000, 1 }, { 0x100000, 0x7ff00000, 1 } };
		uint64_t load = 0;
		if (lb_place_kernel(&img, map, 2, NULL, 0, &load) == LB_OK) {
			if (load % img.kernel_alignment || load < LB_MIN_LOAD_ADDR ||
			    load + img.init_size > 0x80000000ULL)
				abort();
			struct lb_params p = { .load_addr = load, .cmdline_addr = 0x20000,
					       .cmdline_len = img.cmdline_size ? img.cmdline_size - 1 : 0,
					       .initrd_addr = 0x10000000, .initrd_size = size,
					       .acpi_rsdp = 0xf0000, .e820 = map, .nr_e820 = 2 };
			int rc = lb_build_boot_params(im, size, &img, &p, bp, sizeof(bp));
			if (rc == LB_OK && (bp[0x210] != 0xff || bp[0x1e8] != 2 ||
					    memcmp(bp + 0x1f2, im + 0x1f2, 0x1e) != 0 ||
					    memcmp(bp + 0x22c, im + 0x22c, img.hdr_end - 0x22c) != 0))
				abort();
		}
	}
	free(im);
	return 0;
}
