/*
 * wire_seal — ChaCha20-Poly1305 seal with BearSSL (events/wire_seal.h).
 * Freestanding (ring -1) and hosted. BearSSL's source files are compiled
 * here and in events/wire_seal_sse2.c, from its Debian source package
 * (tools/deps.sh: third_party/src/bearssl, never committed), with these
 * objects' flags (events/build.mk: -O3 -funroll-loops; only the SSE2 ChaCha20
 * object gets -msse2), so that every program linking events/wire.c needs two
 * more source files and no archive. br_poly1305_ctmulq_run is BearSSL's whole
 * RFC 8439 AEAD: the Poly1305 key from ChaCha20 block 0, encryption from
 * block 1, the MAC over aad | pad | ciphertext | pad | lengths; the ChaCha20
 * it calls is a parameter. This object itself has no vector code.
 * Wire version 2 (issue 16): AES-256-GCM, BearSSL's GCM over either its
 * AES-NI + PCLMULQDQ code (events/wire_seal_aesni.c, vector guard) or its
 * portable AES/GHASH here.
 */
#include "events/wire_seal.h"
#include "src/symcipher/chacha20_ct.c"
#include "src/symcipher/poly1305_ctmulq.c"
/* AES-256-GCM (wire version 2): BearSSL's GCM composition and its portable,
 * constant-time AES (bitsliced, 64-bit) and GHASH (64-bit multiplications);
 * the AES-NI/PCLMULQDQ pair is in events/wire_seal_aesni.c. */
#include "src/symcipher/aes_ct64.c"
#include "src/symcipher/aes_ct64_enc.c"
#include "src/symcipher/aes_ct64_ctr.c"
#include "src/hash/ghash_ctmul64.c"
#include "src/aead/gcm.c"
#include "src/codec/dec32le.c"
#include "src/codec/enc32le.c"

#if !(BR_INT128 || BR_UMUL128)
#error "BearSSL's Poly1305 needs 64x64->128 multiplications (a 64-bit compiler)"
#endif

static const struct hv_wire_vec_guard *guard;
static uint64_t n_vector, n_portable, n_gcm_hw, n_gcm_portable;
static int gcm_hw = -1;                 /* CPUID not read yet */

void hv_wire_seal_set_guard(const struct hv_wire_vec_guard *g)
{
	guard = g;
}

void hv_wire_seal_counts(uint64_t *vector, uint64_t *portable)
{
	*vector = n_vector;
	*portable = n_portable;
}

void hv_wire_seal_counts_gcm(uint64_t *hw, uint64_t *portable)
{
	*hw = n_gcm_hw;
	*portable = n_gcm_portable;
}

/* CPUID.01H (SDM Vol. 2A, CPUID, Table 3-10): EDX bit 26 SSE2; ECX bit 1
 * PCLMULQDQ, bit 9 SSSE3, bit 19 SSE4.1, bit 25 AESNI — what BearSSL's AES-NI
 * CTR ("sse2,sse4.1,aes") and PCLMULQDQ GHASH ("ssse3,pclmul") are compiled
 * for. Read here, with general registers only, so that nothing of
 * events/wire_seal_aesni.c runs outside the vector guard. */
bool hv_wire_gcm_hw(void)
{
	const uint32_t ecx_need = 1u << 1 | 1u << 9 | 1u << 19 | 1u << 25;
	uint32_t a, b, c, d;

	if (gcm_hw >= 0)
		return gcm_hw;
	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	gcm_hw = 0;
	if (a >= 1) {
		asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
		gcm_hw = (d & 1u << 26) && (c & ecx_need) == ecx_need;
	}
	return gcm_hw;
}

/* One GCM pass (SP 800-38D, 96-bit IV): the IV, the AAD, then the data in
 * place; the tag written (encrypt) or compared in constant time (decrypt). */
static uint32_t gcm_pass(br_gcm_context *gc, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
			 uint8_t *data, size_t len, uint8_t tag[16], int encrypt)
{
	br_gcm_reset(gc, nonce, 12);
	br_gcm_aad_inject(gc, aad, aad_len);
	br_gcm_flip(gc);
	br_gcm_run(gc, encrypt, data, len);
	if (encrypt) {
		br_gcm_get_tag(gc, tag);
		return 1;
	}
	return br_gcm_check_tag(gc, tag);
}

/* AES-256-GCM with AES-NI + PCLMULQDQ inside the vector guard when the CPU
 * has them and a guard lets them run, else BearSSL's portable AES and GHASH:
 * the same bytes either way (test_wire). The key schedule and the GHASH key
 * are recomputed per datagram (~1 AES block and 14 AESKEYGENASSIST rounds
 * with AES-NI: small against a 1,400-byte datagram). */
static uint32_t gcm_run(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
			uint8_t *data, size_t len, uint8_t tag[16], int encrypt)
{
	uint8_t save[HV_WIRE_VEC_SAVE] __attribute__((aligned(16)));
	const struct hv_wire_vec_guard *g = guard;
	br_gcm_context gc;
	uint32_t ok;

	if (g && hv_wire_gcm_hw() && g->begin(save)) {
		br_aes_x86ni_ctr_keys k;

		br_aes_x86ni_ctr_init(&k, key, 32);
		br_gcm_init(&gc, &k.vtable, br_ghash_pclmul);
		ok = gcm_pass(&gc, nonce, aad, aad_len, data, len, tag, encrypt);
		g->end(save);
		n_gcm_hw += (uint64_t)encrypt;
		return ok;
	}
	br_aes_ct64_ctr_keys k;

	br_aes_ct64_ctr_init(&k, key, 32);
	br_gcm_init(&gc, &k.vtable, br_ghash_ctmul64);
	ok = gcm_pass(&gc, nonce, aad, aad_len, data, len, tag, encrypt);
	n_gcm_portable += (uint64_t)encrypt;
	return ok;
}

void hv_wire_seal_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		      uint8_t *data, size_t len, uint8_t tag[16])
{
	gcm_run(key, nonce, aad, aad_len, data, len, tag, 1);
}

int hv_wire_open_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		     uint8_t *data, size_t len, const uint8_t tag[16])
{
	uint8_t t[16];

	memcpy(t, tag, sizeof(t));
	if (gcm_run(key, nonce, aad, aad_len, data, len, t, 0))
		return 0;
	memset(data, 0, len);          /* nothing of a forgery is left to use */
	return -1;
}

/* One save/restore per datagram (~1,400 bytes, ~30 events): two instructions
 * in Bochs, ~100-200 cycles on hardware against the seal's ~20,000. */
void hv_wire_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		  uint8_t *data, size_t len, uint8_t tag[16])
{
	uint8_t save[HV_WIRE_VEC_SAVE] __attribute__((aligned(16)));
	const struct hv_wire_vec_guard *g = guard;

	if (g && g->begin(save)) {
		br_poly1305_ctmulq_run(key, nonce, data, len, aad, aad_len, tag, br_chacha20_sse2_run, 1);
		g->end(save);
		n_vector++;
		return;
	}
	br_poly1305_ctmulq_run(key, nonce, data, len, aad, aad_len, tag, br_chacha20_ct_run, 1);
	n_portable++;
}
