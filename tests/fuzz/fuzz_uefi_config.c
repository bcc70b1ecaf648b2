/* libFuzzer target: boot/uefi/config.c must never read outside its input,
 * and on success/failure its outputs must be well-formed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "boot/uefi/config.h"

static void check_str(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();                     /* must be NUL terminated */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uefi_config cfg;
	static struct uefi_config_error err;
	/* exact-size copy so ASan catches any read past the end */
	char *buf = malloc(size ? size : 1);
	int rc;

	memcpy(buf, data, size);
	rc = uefi_config_parse(buf, size, &cfg, &err);
	free(buf);
	check_str(err.msg, sizeof(err.msg));
	if (rc == 0) {
		check_str(cfg.kernel, sizeof(cfg.kernel));
		check_str(cfg.initrd, sizeof(cfg.initrd));
		check_str(cfg.hvmon, sizeof(cfg.hvmon));
		check_str(cfg.cmdline, sizeof(cfg.cmdline));
		check_str(cfg.hv_cmdline, sizeof(cfg.hv_cmdline));
		if (cfg.kernel[0] != '\\' || cfg.hvmon[0] != '\\')
			abort();                 /* paths are absolute */
		if (cfg.initrd[0] && cfg.initrd[0] != '\\')
			abort();
		if (cfg.no_vtx > UEFI_NO_VTX_BOOT_UNMONITORED)
			abort();
	} else {
		if (rc != -1 || err.msg[0] == '\0')
			abort();                 /* every failure says why */
	}
	return 0;
}
