/* TPM 2.0 command marshaling for hvmon.efi's key unseal: boot/uefi/tpm2.h. */
#include "boot/uefi/tpm2.h"

/* TPM 2.0 Library Part 2: tags, command codes, handles, algorithms */
#define ST_NO_SESSIONS   0x8001u
#define ST_SESSIONS      0x8002u
#define CC_LOAD          0x00000157u
#define CC_UNSEAL        0x0000015eu
#define CC_FLUSH_CONTEXT 0x00000165u
#define CC_START_AUTH    0x00000176u
#define CC_PCR_READ      0x0000017eu
#define CC_POLICY_PCR    0x0000017fu
#define RS_PW            0x40000009u    /* the password session */
#define RH_NULL          0x40000007u
#define ALG_SHA256       0x000bu
#define ALG_NULL         0x0010u
#define SE_POLICY        0x01u

struct w { uint8_t *p; uint32_t n, cap; int bad; };

static void put(struct w *w, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	if (w->bad || len > w->cap - w->n) {
		w->bad = 1;
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		w->p[w->n++] = s[i];
}
static void u8(struct w *w, uint8_t v) { put(w, &v, 1); }
static void u16(struct w *w, uint16_t v) { uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v }; put(w, b, 2); }
static void u32(struct w *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(w, b, 4);
}

static void header(struct w *w, uint16_t tag, uint32_t cc)
{
	u16(w, tag);
	u32(w, 0);              /* commandSize, set by finish() */
	u32(w, cc);
}

static uint32_t finish(struct w *w)
{
	if (w->bad || w->n < 10)
		return 0;
	w->p[2] = (uint8_t)(w->n >> 24); w->p[3] = (uint8_t)(w->n >> 16);
	w->p[4] = (uint8_t)(w->n >> 8);  w->p[5] = (uint8_t)w->n;
	return w->n;
}

/* One command session (Part 1 18.6): handle, nonceCaller, attributes (none:
 * the session ends with the command), an empty HMAC/password. */
static void auth_area(struct w *w, uint32_t session, const uint8_t *nonce, uint16_t nonce_len)
{
	u32(w, 4 + 2 + nonce_len + 1 + 2);     /* authorizationSize */
	u32(w, session);
	u16(w, nonce_len);
	put(w, nonce, nonce_len);
	u8(w, 0);
	u16(w, 0);
}

/* the PCR selection of one SHA-256 bank, PCRs 0..23 (three select bytes) */
static void pcr_selection(struct w *w, uint32_t mask)
{
	u32(w, 1);
	u16(w, ALG_SHA256);
	u8(w, 3);
	u8(w, (uint8_t)mask); u8(w, (uint8_t)(mask >> 8)); u8(w, (uint8_t)(mask >> 16));
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int tpm2_blob_parse(const uint8_t *buf, size_t len, struct tpm2_blob *b, const char **why)
{
	static const char magic[8] = TPM2_BLOB_MAGIC;
	size_t o = 12;
	uint32_t pub, priv;

	if (!buf || len < 12 + 4) {
		*why = "too short for a sealed key (header, public and private parts)";
		return -1;
	}
	for (int i = 0; i < 8; i++)
		if (buf[i] != (uint8_t)magic[i]) {
			*why = "not a sealed key made by hvmon-tpm-seal (no HVTPMK1 header)";
			return -1;
		}
	b->pcr_mask = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
		      (uint32_t)buf[11] << 24;
	if (!b->pcr_mask || (b->pcr_mask >> 24)) {
		*why = "PCR mask empty or beyond PCR 23";
		return -1;
	}
	if (!(b->pcr_mask & (1u << TPM2_HVMON_PCR))) {
		*why = "the policy does not cover PCR 9 (hvmon's measurements)";
		return -1;
	}
	pub = 2u + be16(buf + o);
	if (pub < 2 + 10 || pub > len - o || pub > 512) {
		*why = "public part truncated or implausible";
		return -1;
	}
	b->pub = buf + o;
	b->pub_len = pub;
	o += pub;
	if (len - o < 2) {
		*why = "private part missing";
		return -1;
	}
	priv = 2u + be16(buf + o);
	if (priv < 2 + 16 || priv > len - o || priv > 512) {
		*why = "private part truncated or implausible";
		return -1;
	}
	if (len - o != priv) {
		*why = "trailing bytes after the private part";
		return -1;
	}
	b->priv = buf + o;
	b->priv_len = priv;
	return 0;
}

uint32_t tpm2_cmd_load(uint8_t *out, uint32_t cap, uint32_t parent, const struct tpm2_blob *b)
{
	struct w w = { out, 0, cap, 0 };
	header(&w, ST_SESSIONS, CC_LOAD);
	u32(&w, parent);
	auth_area(&w, RS_PW, 0, 0);            /* the SRK has an empty auth value */
	put(&w, b->priv, b->priv_len);         /* inPrivate, then inPublic (Part 3 12.2) */
	put(&w, b->pub, b->pub_len);
	return finish(&w);
}

uint32_t tpm2_cmd_start_policy_session(uint8_t *out, uint32_t cap, const uint8_t nonce[16])
{
	struct w w = { out, 0, cap, 0 };
	header(&w, ST_NO_SESSIONS, CC_START_AUTH);
	u32(&w, RH_NULL);                      /* tpmKey: unsalted */
	u32(&w, RH_NULL);                      /* bind: unbound */
	u16(&w, 16);
	put(&w, nonce, 16);                    /* nonceCaller */
	u16(&w, 0);                            /* encryptedSalt */
	u8(&w, SE_POLICY);
	u16(&w, ALG_NULL);                     /* symmetric: no parameter encryption */
	u16(&w, ALG_SHA256);                   /* authHash */
	return finish(&w);
}

uint32_t tpm2_cmd_policy_pcr(uint8_t *out, uint32_t cap, uint32_t session, uint32_t pcr_mask)
{
	struct w w = { out, 0, cap, 0 };
	header(&w, ST_NO_SESSIONS, CC_POLICY_PCR);
	u32(&w, session);
	u16(&w, 0);                            /* pcrDigest empty: the TPM uses the current values */
	pcr_selection(&w, pcr_mask);
	return finish(&w);
}

uint32_t tpm2_cmd_unseal(uint8_t *out, uint32_t cap, uint32_t item, uint32_t session,
			 const uint8_t nonce[16])
{
	struct w w = { out, 0, cap, 0 };
	header(&w, ST_SESSIONS, CC_UNSEAL);
	u32(&w, item);
	/* a policy session whose policy needs no auth value: no HMAC (Part 1 19.6.13) */
	auth_area(&w, session, nonce, 16);
	return finish(&w);
}

uint32_t tpm2_cmd_flush(uint8_t *out, uint32_t cap, uint32_t handle)
{
	struct w w = { out, 0, cap, 0 };
	header(&w, ST_NO_SESSIONS, CC_FLUSH_CONTEXT);
	u32(&w, handle);
	return finish(&w);
}

uint32_t tpm2_cmd_pcr_read(uint8_t *out, uint32_t cap, uint32_t pcr)
{
	struct w w = { out, 0, cap, 0 };
	if (pcr > 23)
		return 0;
	header(&w, ST_NO_SESSIONS, CC_PCR_READ);
	pcr_selection(&w, 1u << pcr);
	return finish(&w);
}

uint32_t tpm2_resp_rc(const uint8_t *r, uint32_t len)
{
	if (!r || len < 10 || be32(r + 2) != len)
		return TPM2_RESP_MALFORMED;
	if (be16(r) != ST_NO_SESSIONS && be16(r) != ST_SESSIONS)
		return TPM2_RESP_MALFORMED;
	return be32(r + 6);
}

uint32_t tpm2_resp_handle(const uint8_t *r, uint32_t len, uint32_t *handle)
{
	uint32_t rc = tpm2_resp_rc(r, len);
	if (rc != TPM2_RC_SUCCESS)
		return rc;
	if (len < 14)
		return TPM2_RESP_MALFORMED;
	*handle = be32(r + 10);
	return rc;
}

uint32_t tpm2_resp_unseal(const uint8_t *r, uint32_t len, uint8_t *secret, uint32_t cap,
			  uint32_t *secret_len)
{
	uint32_t rc = tpm2_resp_rc(r, len), psize, n;
	if (rc != TPM2_RC_SUCCESS)
		return rc;
	/* tag ST_SESSIONS: parameterSize, outData (TPM2B_SENSITIVE_DATA), then the sessions */
	if (be16(r) != ST_SESSIONS || len < 16)
		return TPM2_RESP_MALFORMED;
	psize = be32(r + 10);
	n = be16(r + 14);
	if (psize < 2 || psize > len - 14 || n > psize - 2 || n > cap)
		return TPM2_RESP_MALFORMED;
	for (uint32_t i = 0; i < n; i++)
		secret[i] = r[16 + i];
	*secret_len = n;
	return rc;
}

uint32_t tpm2_resp_pcr_read(const uint8_t *r, uint32_t len, uint8_t digest[32])
{
	uint32_t rc = tpm2_resp_rc(r, len), o = 10;
	if (rc != TPM2_RC_SUCCESS)
		return rc;
	/* pcrUpdateCounter, pcrSelectionOut (count 1: hash, size 3, 3 bytes), pcrValues */
	if (len < o + 4 + 4 + 2 + 1 + 3 + 4 + 2 + 32)
		return TPM2_RESP_MALFORMED;
	o += 4;
	if (be32(r + o) != 1 || be16(r + o + 4) != ALG_SHA256 || r[o + 6] != 3)
		return TPM2_RESP_MALFORMED;
	o += 4 + 2 + 1 + 3;
	if (be32(r + o) != 1 || be16(r + o + 4) != 32)
		return TPM2_RESP_MALFORMED;
	o += 6;
	for (int i = 0; i < 32; i++)
		digest[i] = r[o + i];
	return rc;
}

/* Part 2 6.6.3: format-1 codes carry a parameter/handle/session number in
 * bits 6-11; the error is the low 6 bits + 0x80. Format-0 codes: 0x100 + n. */
const char *tpm2_rc_text(uint32_t rc)
{
	if (rc == TPM2_RESP_MALFORMED)
		return "malformed response";
	if (rc == 0)
		return "success";
	if (rc & 0x80) {
		switch (rc & 0xbf) {
		case 0x82: return "attributes of the object wrong";
		case 0x84: return "value wrong";
		case 0x8a: return "wrong type";
		case 0x8b: return "handle not found (no storage root key at 0x81000001?)";
		case 0x8d: return "value out of range";
		case 0x8e: return "authorization failed";
		case 0x8f: return "nonce wrong";
		case 0x95: return "size wrong";
		case 0x9a: return "authorization too small";
		case 0x9c: return "key wrong";
		case 0x9d: return "policy check failed (the PCRs differ from the sealed policy)";
		case 0x9f: return "integrity check of the sealed object failed (sealed by another TPM?)";
		case 0xa2: return "authorization wrong";
		default:   return "format-1 error";
		}
	}
	switch (rc) {
	case 0x101: return "TPM failure mode";
	case 0x100: return "TPM not initialized";
	case 0x902: return "out of object memory";
	case 0x903: return "out of session memory";
	case 0x922: return "TPM retry (busy)";
	case 0x921: return "TPM locked out (dictionary attack)";
	default:    return "TPM error";
	}
}

int tpm2_rc_is_retry(uint32_t rc)
{
	return rc == 0x922 || rc == 0x908 || rc == 0x90a;   /* RETRY, YIELDED, TESTING */
}
