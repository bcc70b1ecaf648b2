/*
 * wire_seal — ChaCha20-Poly1305 seal with BearSSL (events/wire_seal.h).
 * Freestanding (ring -1) and hosted. BearSSL's two source files are compiled
 * here, from its Debian source package (tools/deps.sh: third_party/src/bearssl,
 * never committed), with this object's flags (events/build.mk: -O3
 * -funroll-loops), so that every program linking events/wire.c needs one more
 * source file and no archive. br_poly1305_ctmulq_run is BearSSL's whole RFC
 * 8439 AEAD: the Poly1305 key from ChaCha20 block 0, encryption from block 1,
 * the MAC over aad | pad | ciphertext | pad | lengths.
 */
#include "events/wire_seal.h"
#include "src/symcipher/chacha20_ct.c"
#include "src/symcipher/poly1305_ctmulq.c"

#if !(BR_INT128 || BR_UMUL128)
#error "BearSSL's Poly1305 needs 64x64->128 multiplications (a 64-bit compiler)"
#endif

void hv_wire_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		  uint8_t *data, size_t len, uint8_t tag[16])
{
	br_poly1305_ctmulq_run(key, nonce, data, len, aad, aad_len, tag, br_chacha20_ct_run, 1);
}
