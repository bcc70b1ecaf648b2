/*
 * wire_seal — the sender's AEAD seal of one datagram (docs/PROTOCOL.md:
 * ChaCha20-Poly1305 as RFC 8439 §2.8 defines it, 96-bit nonce, 128-bit tag).
 * Issue 16: ring -1 spends most of its per-event network cost here, so the
 * seal uses BearSSL's portable ChaCha20 (br_chacha20_ct_run) and its Poly1305
 * over 64-bit multiplications (br_poly1305_ctmulq_run), built with -O3
 * -funroll-loops and ring -1's general-register ABI: about 28 host
 * instructions per payload byte where mbedTLS's took about 40 (docs/
 * BENCHMARKS.md). The bytes are the same AEAD: the collector still opens with
 * mbedTLS (hv_wire_open), and test_wire checks both against RFC 8439's vectors.
 */
#ifndef HVMON_EVENTS_WIRE_SEAL_H
#define HVMON_EVENTS_WIRE_SEAL_H

#include <stddef.h>
#include <stdint.h>

/* Encrypt @len bytes at @data in place and write the 16-byte tag; @aad is
 * authenticated, not encrypted. Always succeeds (no state, no allocation). */
void hv_wire_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		  uint8_t *data, size_t len, uint8_t tag[16]);

#endif
