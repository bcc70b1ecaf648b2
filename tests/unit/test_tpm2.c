/* boot/uefi/tpm2.c (issue 17, hvmon.efi's TPM key source): the commands byte for byte
 * as TPM 2.0 Library Part 3 lays them out, the sealed-key file parser on good and
 * malformed files, the response parsers on good, error and malformed responses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "boot/uefi/tpm2.h"

static uint8_t cmd[TPM2_CMD_MAX];
static const uint8_t nonce[16] = "hvmon.efi nonce";

/* a sealed-key file: magic, mask, TPM2B_PUBLIC (publen body bytes), TPM2B_PRIVATE */
static size_t make_blob(uint8_t *b, uint32_t mask, uint16_t publen, uint16_t privlen)
{
	size_t o = 0;
	memcpy(b, "HVTPMK1", 8); o = 8;
	b[o++] = (uint8_t)mask; b[o++] = (uint8_t)(mask >> 8); b[o++] = (uint8_t)(mask >> 16);
	b[o++] = (uint8_t)(mask >> 24);
	b[o++] = (uint8_t)(publen >> 8); b[o++] = (uint8_t)publen;
	memset(b + o, 0xaa, publen); o += publen;
	b[o++] = (uint8_t)(privlen >> 8); b[o++] = (uint8_t)privlen;
	memset(b + o, 0xbb, privlen); o += privlen;
	return o;
}

static void test_blob(void **st)
{
	(void)st;
	uint8_t b[1024];
	struct tpm2_blob t;
	const char *why = NULL;
	size_t n = make_blob(b, 0x295, 78, 126);

	assert_int_equal(tpm2_blob_parse(b, n, &t, &why), 0);
	assert_int_equal(t.pcr_mask, 0x295);
	assert_ptr_equal(t.pub, b + 12);
	assert_int_equal(t.pub_len, 80);
	assert_ptr_equal(t.priv, b + 12 + 80);
	assert_int_equal(t.priv_len, 128);
	/* every truncation fails, and so does one byte more */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(tpm2_blob_parse(b, k, &t, &why), -1);
	assert_int_equal(tpm2_blob_parse(b, n + 1, &t, &why), -1);
	assert_string_equal(why, "trailing bytes after the private part");
	b[0] = 'X';
	assert_int_equal(tpm2_blob_parse(b, n, &t, &why), -1);
	n = make_blob(b, 0x95, 78, 126);                /* no PCR 9 */
	assert_int_equal(tpm2_blob_parse(b, n, &t, &why), -1);
	assert_string_equal(why, "the policy does not cover PCR 9 (hvmon's measurements)");
	n = make_blob(b, 0x1000200, 78, 126);           /* PCR 24 */
	assert_int_equal(tpm2_blob_parse(b, n, &t, &why), -1);
	n = make_blob(b, 0x200, 600, 126);              /* implausible public size */
	assert_int_equal(tpm2_blob_parse(b, n, &t, &why), -1);
}

static void test_commands(void **st)
{
	(void)st;
	uint8_t b[512];
	struct tpm2_blob t;
	const char *why;
	/* TPM2_StartAuthSession: ST_NO_SESSIONS, size 43, CC 0x176, RH_NULL x2, nonce(16),
	 * salt(0), TPM_SE_POLICY, TPM_ALG_NULL, TPM_ALG_SHA256 */
	static const uint8_t sas[] = { 0x80, 0x01, 0, 0, 0, 43, 0, 0, 0x01, 0x76,
		0x40, 0, 0, 0x07, 0x40, 0, 0, 0x07, 0, 16,
		'h', 'v', 'm', 'o', 'n', '.', 'e', 'f', 'i', ' ', 'n', 'o', 'n', 'c', 'e', 0,
		0, 0, 0x01, 0x00, 0x10, 0x00, 0x0b };
	assert_int_equal(tpm2_cmd_start_policy_session(cmd, sizeof(cmd), nonce), sizeof(sas));
	assert_memory_equal(cmd, sas, sizeof(sas));
	/* TPM2_PolicyPCR(session 0x03000000, empty digest, sha256 {0,2,4,7,9}) */
	static const uint8_t pp[] = { 0x80, 0x01, 0, 0, 0, 26, 0, 0, 0x01, 0x7f,
		0x03, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x0b, 3, 0x95, 0x02, 0x00 };
	assert_int_equal(tpm2_cmd_policy_pcr(cmd, sizeof(cmd), 0x03000000, 0x295), sizeof(pp));
	assert_memory_equal(cmd, pp, sizeof(pp));
	/* TPM2_Unseal(item 0x80000001) with the policy session and its nonce */
	static const uint8_t us[] = { 0x80, 0x02, 0, 0, 0, 43, 0, 0, 0x01, 0x5e,
		0x80, 0, 0, 0x01, 0, 0, 0, 25, 0x03, 0, 0, 0, 0, 16,
		'h', 'v', 'm', 'o', 'n', '.', 'e', 'f', 'i', ' ', 'n', 'o', 'n', 'c', 'e', 0,
		0, 0, 0 };
	assert_int_equal(tpm2_cmd_unseal(cmd, sizeof(cmd), 0x80000001, 0x03000000, nonce), sizeof(us));
	assert_memory_equal(cmd, us, sizeof(us));
	/* TPM2_Load(SRK): password session (9 bytes), inPrivate then inPublic as in the file */
	size_t n = make_blob(b, 0x295, 20, 30);
	assert_int_equal(tpm2_blob_parse(b, n, &t, &why), 0);
	uint32_t len = tpm2_cmd_load(cmd, sizeof(cmd), TPM2_SRK_HANDLE, &t);
	assert_int_equal(len, 10 + 4 + 4 + 9 + 32 + 22);
	static const uint8_t lh[] = { 0x80, 0x02, 0, 0, 0, 81, 0, 0, 0x01, 0x57, 0x81, 0, 0, 0x01,
		0, 0, 0, 9, 0x40, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 30 };
	assert_memory_equal(cmd, lh, sizeof(lh));
	assert_memory_equal(cmd + 27, t.priv, t.priv_len);
	assert_memory_equal(cmd + 27 + 32, t.pub, t.pub_len);
	/* FlushContext, PCR_Read */
	static const uint8_t fl[] = { 0x80, 0x01, 0, 0, 0, 14, 0, 0, 0x01, 0x65, 0x80, 0, 0, 0x01 };
	assert_int_equal(tpm2_cmd_flush(cmd, sizeof(cmd), 0x80000001), sizeof(fl));
	assert_memory_equal(cmd, fl, sizeof(fl));
	static const uint8_t pr[] = { 0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7e, 0, 0, 0, 1, 0, 0x0b, 3,
		0x00, 0x02, 0x00 };
	assert_int_equal(tpm2_cmd_pcr_read(cmd, sizeof(cmd), 9), sizeof(pr));
	assert_memory_equal(cmd, pr, sizeof(pr));
	assert_int_equal(tpm2_cmd_pcr_read(cmd, sizeof(cmd), 24), 0);
	/* too small a buffer: 0, never an overflow */
	for (uint32_t cap = 0; cap < sizeof(us); cap++)
		assert_int_equal(tpm2_cmd_unseal(cmd, cap, 1, 2, nonce), 0);
}

static void test_responses(void **st)
{
	(void)st;
	uint32_t h = 0, n = 0;
	uint8_t sec[TPM2_SECRET_MAX];
	/* Load: objectHandle 0x80000001, parameterSize, name (empty here), sessions */
	static const uint8_t load[] = { 0x80, 0x02, 0, 0, 0, 25, 0, 0, 0, 0, 0x80, 0, 0, 0x01,
		0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0 };
	assert_int_equal(tpm2_resp_handle(load, sizeof(load), &h), 0);
	assert_int_equal(h, 0x80000001);
	/* policy check failed (session 1): the code, the text */
	static const uint8_t fail[] = { 0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x09, 0x9d };
	assert_int_equal(tpm2_resp_unseal(fail, sizeof(fail), sec, sizeof(sec), &n), TPM2_RC_POLICY_FAIL);
	assert_string_equal(tpm2_rc_text(0x99d), "policy check failed (the PCRs differ from the sealed policy)");
	assert_true(tpm2_rc_is_retry(0x922) && tpm2_rc_is_retry(0x90a) && !tpm2_rc_is_retry(0x921));
	assert_string_equal(tpm2_rc_text(0x18b), "handle not found (no storage root key at 0x81000001?)");
	/* Unseal: parameterSize 8, outData "secret" (6), then the response session */
	static const uint8_t ok[] = { 0x80, 0x02, 0, 0, 0, 27, 0, 0, 0, 0, 0, 0, 0, 8, 0, 6,
		's', 'e', 'c', 'r', 'e', 't', 0, 0, 1, 0, 0 };
	assert_int_equal(tpm2_resp_unseal(ok, sizeof(ok), sec, sizeof(sec), &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(sec, "secret", 6);
	/* malformed: size field lies, truncated, secret larger than the buffer or the parameters */
	for (uint32_t k = 0; k < sizeof(ok); k++)
		assert_int_equal(tpm2_resp_unseal(ok, k, sec, sizeof(sec), &n), TPM2_RESP_MALFORMED);
	assert_int_equal(tpm2_resp_unseal(ok, sizeof(ok), sec, 5, &n), TPM2_RESP_MALFORMED);
	uint8_t bad[sizeof(ok)];
	memcpy(bad, ok, sizeof(ok));
	bad[15] = 9;                                     /* outData larger than parameterSize */
	assert_int_equal(tpm2_resp_unseal(bad, sizeof(bad), sec, sizeof(sec), &n), TPM2_RESP_MALFORMED);
	/* PCR_Read: counter, selection (sha256, {9}), one digest */
	uint8_t pr[10 + 4 + 10 + 4 + 2 + 32] = { 0x80, 0x01, 0, 0, 0, sizeof(pr), 0, 0, 0, 0,
		0, 0, 0, 7, 0, 0, 0, 1, 0, 0x0b, 3, 0, 2, 0, 0, 0, 0, 1, 0, 32 };
	for (int i = 0; i < 32; i++)
		pr[30 + i] = (uint8_t)i;
	uint8_t d[32];
	assert_int_equal(tpm2_resp_pcr_read(pr, sizeof(pr), d), 0);
	assert_int_equal(d[31], 31);
	pr[19] = 0x04;                                   /* SHA-1 bank: refused */
	assert_int_equal(tpm2_resp_pcr_read(pr, sizeof(pr), d), TPM2_RESP_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
