/*
 * TPM 2.0 commands hvmon.efi sends to unseal the event key (issue 17, docs/SECURITY.md
 * "TPM key source") — pure C (no EFI types, no libc), host-tested (test_tpm2) and fuzzed
 * (fuzz_tpm2). hvmon.efi hands the buffers to EFI_TCG2_PROTOCOL.SubmitCommand.
 *
 * Marshaling: TPM 2.0 Library Part 3 (commands) and Part 2 (structures), big-endian.
 * The unseal sequence (Part 1 19.7, policy sessions):
 *   TPM2_Load(parent = the SRK at TPM2_SRK_HANDLE, the sealed object's public/private)
 *   TPM2_StartAuthSession(policy session, no salt, no bind, SHA-256)
 *   TPM2_PolicyPCR(session, the PCR selection of the blob, empty digest: current values)
 *   TPM2_Unseal(object, authorized by the policy session)
 *   TPM2_FlushContext(object), TPM2_FlushContext(session)
 *
 * The sealed-key file (`key_tpm = \hvmon\key.tpm`, written by tools/hvmon-tpm-seal):
 *   "HVTPMK1\0" | u32 little-endian PCR mask (bit n = PCR n, 0..23, SHA-256 bank) |
 *   TPM2B_PUBLIC | TPM2B_PRIVATE  (as tpm2_create -u / -r write them: u16 BE size + body)
 */
#ifndef HVMON_BOOT_UEFI_TPM2_H
#define HVMON_BOOT_UEFI_TPM2_H

#include <stddef.h>
#include <stdint.h>

#define TPM2_SRK_HANDLE      0x81000001u   /* the TCG's well-known storage root key handle */
#define TPM2_HVMON_PCR       9u            /* hvmon.efi extends its measurements here */
#define TPM2_CMD_MAX         1024u         /* every command hvmon.efi builds fits */
#define TPM2_RESP_MAX        1024u
#define TPM2_BLOB_MAGIC      "HVTPMK1"     /* 8 bytes with its NUL */
#define TPM2_SECRET_MAX      128u          /* the unsealed key text (64 hex digits) */

#define TPM2_RC_SUCCESS      0x000u
#define TPM2_RC_POLICY_FAIL  0x99du        /* TPM_RC_POLICY_FAIL + parameter/session 1 */

struct tpm2_blob {
	uint32_t pcr_mask;                  /* SHA-256 PCRs of the policy */
	const uint8_t *pub;                 /* TPM2B_PUBLIC, size field included */
	uint32_t pub_len;
	const uint8_t *priv;                /* TPM2B_PRIVATE, size field included */
	uint32_t priv_len;
};

/* Parse the sealed-key file. 0, or -1 with *why set (bounded, never trusts a size). */
int tpm2_blob_parse(const uint8_t *buf, size_t len, struct tpm2_blob *b, const char **why);

/* Command builders: return the command's length (written into out[0..cap)), or 0
 * when it does not fit. */
uint32_t tpm2_cmd_load(uint8_t *out, uint32_t cap, uint32_t parent, const struct tpm2_blob *b);
uint32_t tpm2_cmd_start_policy_session(uint8_t *out, uint32_t cap, const uint8_t nonce[16]);
uint32_t tpm2_cmd_policy_pcr(uint8_t *out, uint32_t cap, uint32_t session, uint32_t pcr_mask);
uint32_t tpm2_cmd_unseal(uint8_t *out, uint32_t cap, uint32_t item, uint32_t session,
			 const uint8_t nonce[16]);
uint32_t tpm2_cmd_flush(uint8_t *out, uint32_t cap, uint32_t handle);
uint32_t tpm2_cmd_pcr_read(uint8_t *out, uint32_t cap, uint32_t pcr);

/* Response parsers: the response code (TPM2_RC_SUCCESS = 0), or 0xffffffff for a
 * malformed response (too short, size field wrong). Outputs are set on success only. */
uint32_t tpm2_resp_rc(const uint8_t *r, uint32_t len);
uint32_t tpm2_resp_handle(const uint8_t *r, uint32_t len, uint32_t *handle);   /* Load, StartAuthSession */
uint32_t tpm2_resp_unseal(const uint8_t *r, uint32_t len, uint8_t *secret, uint32_t cap,
			  uint32_t *secret_len);
uint32_t tpm2_resp_pcr_read(const uint8_t *r, uint32_t len, uint8_t digest[32]);
#define TPM2_RESP_MALFORMED 0xffffffffu

/* A short English reason for a response code (format-1 codes by their error
 * number, e.g. policy check failed, handle, authorization). */
const char *tpm2_rc_text(uint32_t rc);
/* TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING: the command may be sent again. */
int tpm2_rc_is_retry(uint32_t rc);

#endif
