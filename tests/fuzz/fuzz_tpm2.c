/* libFuzzer target: boot/uefi/tpm2.c's parsers (the sealed-key file on the ESP, which a
 * compromised guest can write, and the TPM's responses) never read outside their input
 * and never write past their output. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/uefi/tpm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), sec[TPM2_SECRET_MAX], d[32], cmd[TPM2_CMD_MAX];
	struct tpm2_blob b;
	const char *why = NULL;
	uint32_t h, n = 0, len = size > 0xffffffffu ? 0xffffffffu : (uint32_t)size;

	memcpy(buf, data, size);                /* exact size: ASan sees any overread */
	if (tpm2_blob_parse(buf, size, &b, &why) == 0) {
		if (b.pub < buf || b.priv + b.priv_len > buf + size || !(b.pcr_mask & (1u << 9)))
			abort();
		tpm2_cmd_load(cmd, sizeof(cmd), TPM2_SRK_HANDLE, &b);
		tpm2_cmd_policy_pcr(cmd, sizeof(cmd), 0x03000000, b.pcr_mask);
	} else if (!why) {
		abort();
	}
	tpm2_resp_handle(buf, len, &h);
	if (tpm2_resp_unseal(buf, len, sec, sizeof(sec), &n) == 0 && n > sizeof(sec))
		abort();
	tpm2_resp_pcr_read(buf, len, d);
	(void)tpm2_rc_text(tpm2_resp_rc(buf, len));
	free(buf);
	return 0;
}
