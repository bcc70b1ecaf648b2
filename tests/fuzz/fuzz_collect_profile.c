/* libFuzzer: hvmon-collect --make-profile's readers of operator files
 * (tools/hvmon-collect-profile.c): the ELF image walk behind hvmon_sha256 and
 * the GRUB-rule decompression (gzip, xz) behind kernel/initrd_sha256. The
 * first byte picks the reader; a result is 64 hex digits or an error text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include "tools/hvmon-collect-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[65], err[256];
	int rc;
	if (size < 1)
		return 0;
	/* a copy of exactly the input: ASan sees any read past it */
	uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	out[0] = err[0] = 0;
	switch (data[0] % 3) {
	case 0:  rc = prof_hvmon_sha256(buf, size - 1, out, err, sizeof(err)); break;
	case 1:  rc = prof_module_sha256(buf, size - 1, PROF_LOADER_MULTIBOOT2, out, err, sizeof(err)); break;
	default: rc = prof_module_sha256(buf, size - 1, PROF_LOADER_UEFI, out, err, sizeof(err)); break;
	}
	if (rc == 0 && strspn(out, "0123456789abcdef") != 64)
		abort();
	if (rc != 0 && !err[0])
		abort();
	free(buf);
	return 0;
}
