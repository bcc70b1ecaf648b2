/*
 * hvmon.cfg parser — pure C (no EFI types, no libc), shared by hvmon.efi and
 * the host unit tests / fuzz target.
 *
 * File format (the contract, documented in docs/UEFI.md):
 *   - one `key = value` per line; blanks around key and value are ignored;
 *   - `#` starts a comment when it is the first non-blank character of a line;
 *   - a value may be wrapped in double quotes (needed only to keep leading or
 *     trailing blanks); there are no escapes;
 *   - LF or CRLF line ends, optional UTF-8 byte order mark;
 *   - every key at most once.
 * Keys: kernel (required), initrd, cmdline, hvmon, no_vtx, key_tpm (appended: the
 * sealed event key, docs/SECURITY.md "TPM key source") are hvmon.efi's own.
 * Every other key ([a-z0-9_]+) is an hvmon option, exactly as on the
 * Multiboot2 command line: it becomes a `key=value` word of
 * boot_info.hv_cmdline (in file order, then `no_vtx=...` when the file sets
 * no_vtx). This parser does not know hvmon's option set: hvmon.efi checks the
 * words with hvmon's own parser (vmm/options.c), so the two never drift.
 */
#ifndef HVMON_BOOT_UEFI_CONFIG_H
#define HVMON_BOOT_UEFI_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

#define UEFI_CFG_PATH_MAX     256     /* bytes incl. NUL, ESP paths */
#define UEFI_CFG_LINE_MAX     4096    /* longest accepted line */
#define UEFI_CFG_MSG_MAX      192
#define UEFI_CFG_HV_MAX       32      /* distinct hvmon option keys */
#define UEFI_CFG_KEY_MAX      32      /* bytes of a key incl. NUL */
#define UEFI_CFG_DEFAULT_DIR  "\\hvmon\\"
#define UEFI_CFG_DEFAULT_PATH "\\hvmon\\hvmon.cfg"
#define UEFI_CFG_DEFAULT_ELF  "\\hvmon\\hvmon.elf"

enum uefi_no_vtx {
	UEFI_NO_VTX_REFUSE = 0,            /* default: fail closed */
	UEFI_NO_VTX_BOOT_UNMONITORED = 1,  /* boot the guest without hvmon */
};

struct uefi_config {
	char kernel[UEFI_CFG_PATH_MAX];    /* ESP path, backslashes, absolute */
	char initrd[UEFI_CFG_PATH_MAX];    /* "" when absent */
	char hvmon[UEFI_CFG_PATH_MAX];     /* default UEFI_CFG_DEFAULT_ELF */
	char cmdline[BOOT_CMDLINE_MAX];    /* guest command line, may be "" */
	char key_tpm[UEFI_CFG_PATH_MAX];   /* sealed event key on the ESP; "" when absent */
	char hv_cmdline[BOOT_CMDLINE_MAX]; /* "key=value key=value" */
	uint32_t no_vtx;                   /* enum uefi_no_vtx */
	uint32_t loader_line[6];           /* line of kernel, initrd, cmdline, hvmon, no_vtx, key_tpm */
	uint32_t nr_hv;                    /* hvmon option keys, file order */
	char hv_key[UEFI_CFG_HV_MAX][UEFI_CFG_KEY_MAX];
	uint32_t hv_line[UEFI_CFG_HV_MAX];
};

struct uefi_config_error {
	uint32_t line;                     /* 1-based; 0 = whole file */
	char msg[UEFI_CFG_MSG_MAX];
};

/*
 * Parse `len` bytes at `buf` (need not be NUL terminated) into *cfg.
 * Returns 0 on success; -1 on the first error, with *err filled (line and a
 * message a person can act on). Never reads outside buf[0..len).
 */
int uefi_config_parse(const char *buf, size_t len, struct uefi_config *cfg,
		      struct uefi_config_error *err);

const char *uefi_config_no_vtx_name(uint32_t no_vtx);

/* Line where `key` (the text before '=' of a hv_cmdline word, e.g. "log"
 * for "log=debug") was set in the parsed file; 0 if it was not. */
uint32_t uefi_config_key_line(const struct uefi_config *cfg, const char *key,
			      size_t key_len);

#endif
