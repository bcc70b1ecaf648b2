/*
 * wire_seal — the sender's AEAD seal of one datagram (docs/PROTOCOL.md:
 * ChaCha20-Poly1305 as RFC 8439 §2.8 defines it, 96-bit nonce, 128-bit tag).
 * Issue 16: ring -1 spends most of its per-event network cost here, so the
 * seal uses BearSSL: its Poly1305 over 64-bit multiplications
 * (br_poly1305_ctmulq_run) with either its SSE2 ChaCha20 (br_chacha20_sse2_run,
 * when a vector guard is installed and lets it run) or its portable one
 * (br_chacha20_ct_run, general registers only). The bytes are the same AEAD:
 * the collector still opens with mbedTLS (hv_wire_open), and test_wire checks
 * both paths against RFC 8439's vectors and mbedTLS.
 */
#ifndef HVMON_EVENTS_WIRE_SEAL_H
#define HVMON_EVENTS_WIRE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encrypt @len bytes at @data in place and write the 16-byte tag; @aad is
 * authenticated, not encrypted. Always succeeds (no state, no allocation). */
void hv_wire_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		  uint8_t *data, size_t len, uint8_t tag[16]);

/* The vector guard (ring -1: arch/x86/fpu.h's FXSAVE/FXRSTOR). begin() saves
 * the live vector state into @save (HV_WIRE_VEC_SAVE bytes, 16-aligned, on
 * the sealing CPU's stack) and returns true if vector code may run now; end()
 * restores it. Without a guard, or when begin() says no, the seal takes the
 * general-register path: the same bytes. */
#define HV_WIRE_VEC_SAVE 512
struct hv_wire_vec_guard {
	bool (*begin)(void *save);
	void (*end)(void *save);
};
void hv_wire_seal_set_guard(const struct hv_wire_vec_guard *g);   /* NULL: portable only */

/* ChaCha20-Poly1305 seals done so far on each path (log lines, tests). */
void hv_wire_seal_counts(uint64_t *vector, uint64_t *portable);

/* ---- AES-256-GCM (wire version 2, docs/PROTOCOL.md; issue 16) ----
 * SP 800-38D with a 96-bit IV and a 128-bit tag, BearSSL's GCM. With a vector
 * guard that lets it run and a CPU with AES-NI + PCLMULQDQ (+ SSSE3, SSE4.1):
 * BearSSL's AES-NI CTR and PCLMULQDQ GHASH (events/wire_seal_aesni.c), else
 * its portable constant-time AES (aes_ct64) and GHASH (ghash_ctmul64). Same
 * bytes on both paths. */
/* CPUID says the AES-NI path can run (read once, general registers only). */
bool hv_wire_gcm_hw(void);
/* One-shot seal/open with a raw key (schedule and H computed for this call). */
void hv_wire_seal_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		      uint8_t *data, size_t len, uint8_t tag[16]);
/* Decrypt @len bytes at @data in place if the tag verifies: 0; else -1 and
 * @data is zeroed. */
int hv_wire_open_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		     uint8_t *data, size_t len, const uint8_t tag[16]);
/* A key whose AES key schedule and GHASH key H = AES_K(0^128) are kept: each
 * path's pair is computed at that path's first seal or open and reused after
 * (the sender's key is fixed per boot; issue 16 review). Opaque (BearSSL's
 * contexts, events/wire_seal.c). The state holds the key and its round keys:
 * keep it where the key itself is kept (ring -1: the wire sender's struct in
 * hvmon's .bss, inside the "hvmon image+heap" range that EPT and VT-d hide
 * from the guest). Not to be copied or moved after the first use (the kept
 * GCM contexts point into it); one user at a time (the sender's lock). */
#define HV_WIRE_GCM_KEY_SIZE 1024
struct hv_wire_gcm_key {
	uint8_t opaque[HV_WIRE_GCM_KEY_SIZE];
} __attribute__((aligned(16)));
void hv_wire_gcm_key_init(struct hv_wire_gcm_key *k, const uint8_t key[32]);
void hv_wire_gcm_key_wipe(struct hv_wire_gcm_key *k);
void hv_wire_seal_gcm_key(struct hv_wire_gcm_key *k, const uint8_t nonce[12], const uint8_t *aad,
			  size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16]);
int hv_wire_open_gcm_key(struct hv_wire_gcm_key *k, const uint8_t nonce[12], const uint8_t *aad,
			 size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[16]);
/* Key schedules (+ H) computed so far, all keys and paths (tests: once per
 * key and path). */
uint64_t hv_wire_gcm_schedules(void);
/* AES-256-GCM seals done so far with AES-NI (in the guard) and portable. */
void hv_wire_seal_counts_gcm(uint64_t *hw, uint64_t *portable);

#endif
