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

/* The kept state of one AES-256-GCM key (events/wire_seal.h): per path the
 * CTR key schedule and a GCM context whose H = AES_K(0^128) is computed, both
 * made at that path's first use. The AES-NI schedule is computed with vector
 * instructions, so only inside the guard, but it is then plain memory (BearSSL
 * stores the round keys into skey.skni): any CPU may load it in its own guard
 * later, so one copy serves every CPU. The GCM contexts point into this
 * struct (bctx), which must therefore not be moved after the first seal.
 * br_gcm_reset() rewrites all of a context's per-message state (j0, y, jc,
 * the counts), so a kept context is reused as it is. */
struct gcm_state {
	uint8_t key[32];
	unsigned have;                          /* GCM_HAVE_* */
	br_aes_x86ni_ctr_keys hw;
	br_gcm_context gc_hw;
	br_aes_ct64_ctr_keys portable;
	br_gcm_context gc_portable;
};
#define GCM_HAVE_HW       1u
#define GCM_HAVE_PORTABLE 2u
_Static_assert(sizeof(struct gcm_state) <= sizeof(struct hv_wire_gcm_key),
	       "HV_WIRE_GCM_KEY_SIZE is too small for BearSSL's contexts");
_Static_assert(_Alignof(struct gcm_state) <= _Alignof(struct hv_wire_gcm_key),
	       "struct hv_wire_gcm_key is under-aligned");

static uint64_t n_gcm_sched;

static struct gcm_state *gcm_state(struct hv_wire_gcm_key *k)
{
	return (struct gcm_state *)(void *)k->opaque;
}

/* A wipe the compiler cannot drop as a dead store. */
static void wipe(void *p, size_t n)
{
	memset(p, 0, n);
	asm volatile("" : : "r"(p) : "memory");
}

void hv_wire_gcm_key_init(struct hv_wire_gcm_key *k, const uint8_t key[32])
{
	struct gcm_state *s = gcm_state(k);

	wipe(k, sizeof(*k));
	memcpy(s->key, key, sizeof(s->key));
}

void hv_wire_gcm_key_wipe(struct hv_wire_gcm_key *k)
{
	wipe(k, sizeof(*k));
}

uint64_t hv_wire_gcm_schedules(void)
{
	return n_gcm_sched;
}

/* AES-256-GCM with AES-NI + PCLMULQDQ inside the vector guard when the CPU
 * has them and a guard lets them run, else BearSSL's portable AES and GHASH:
 * the same bytes either way (test_wire). The key schedule and H of the path
 * taken are computed at its first use and kept in @k (issue 16 review: they
 * were recomputed for every datagram, the key being fixed per boot). */
static uint32_t gcm_run(struct hv_wire_gcm_key *k, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
			uint8_t *data, size_t len, uint8_t tag[16], int encrypt)
{
	uint8_t save[HV_WIRE_VEC_SAVE] __attribute__((aligned(16)));
	const struct hv_wire_vec_guard *g = guard;
	struct gcm_state *s = gcm_state(k);
	uint32_t ok;

	if (g && hv_wire_gcm_hw() && g->begin(save)) {
		if (!(s->have & GCM_HAVE_HW)) {
			br_aes_x86ni_ctr_init(&s->hw, s->key, 32);
			br_gcm_init(&s->gc_hw, &s->hw.vtable, br_ghash_pclmul);
			s->have |= GCM_HAVE_HW;
			n_gcm_sched++;
		}
		ok = gcm_pass(&s->gc_hw, nonce, aad, aad_len, data, len, tag, encrypt);
		g->end(save);
		n_gcm_hw += (uint64_t)encrypt;
		return ok;
	}
	if (!(s->have & GCM_HAVE_PORTABLE)) {
		br_aes_ct64_ctr_init(&s->portable, s->key, 32);
		br_gcm_init(&s->gc_portable, &s->portable.vtable, br_ghash_ctmul64);
		s->have |= GCM_HAVE_PORTABLE;
		n_gcm_sched++;
	}
	ok = gcm_pass(&s->gc_portable, nonce, aad, aad_len, data, len, tag, encrypt);
	n_gcm_portable += (uint64_t)encrypt;
	return ok;
}

void hv_wire_seal_gcm_key(struct hv_wire_gcm_key *k, const uint8_t nonce[12], const uint8_t *aad,
			  size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16])
{
	gcm_run(k, nonce, aad, aad_len, data, len, tag, 1);
}

int hv_wire_open_gcm_key(struct hv_wire_gcm_key *k, const uint8_t nonce[12], const uint8_t *aad,
			 size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[16])
{
	uint8_t t[16];

	memcpy(t, tag, sizeof(t));
	if (gcm_run(k, nonce, aad, aad_len, data, len, t, 0))
		return 0;
	memset(data, 0, len);          /* nothing of a forgery is left to use */
	return -1;
}

/* One-shot forms (the collector, tests): a key state on the stack, wiped. */
void hv_wire_seal_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		      uint8_t *data, size_t len, uint8_t tag[16])
{
	struct hv_wire_gcm_key k;

	hv_wire_gcm_key_init(&k, key);
	hv_wire_seal_gcm_key(&k, nonce, aad, aad_len, data, len, tag);
	hv_wire_gcm_key_wipe(&k);
}

int hv_wire_open_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
		     uint8_t *data, size_t len, const uint8_t tag[16])
{
	struct hv_wire_gcm_key k;
	int rc;

	hv_wire_gcm_key_init(&k, key);
	rc = hv_wire_open_gcm_key(&k, nonce, aad, aad_len, data, len, tag);
	hv_wire_gcm_key_wipe(&k);
	return rc;
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
