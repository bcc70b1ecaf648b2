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
 */
#include "events/wire_seal.h"
#include "src/symcipher/chacha20_ct.c"
#include "src/symcipher/poly1305_ctmulq.c"

#if !(BR_INT128 || BR_UMUL128)
#error "BearSSL's Poly1305 needs 64x64->128 multiplications (a 64-bit compiler)"
#endif

static const struct hv_wire_vec_guard *guard;
static uint64_t n_vector, n_portable;

void hv_wire_seal_set_guard(const struct hv_wire_vec_guard *g)
{
	guard = g;
}

void hv_wire_seal_counts(uint64_t *vector, uint64_t *portable)
{
	*vector = n_vector;
	*portable = n_portable;
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
