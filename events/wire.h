/*
 * hvmon wire protocol v1 — shared by ring -1 (sender) and tools/hvmon-collect
 * (receiver). docs/PROTOCOL.md is the contract; this header mirrors it.
 *
 * Datagram (all integers little-endian):
 *   0  magic "HVMN"          4
 *   4  version (1)           1
 *   5  flags (0)             1
 *   6  header length (40)    2
 *   8  sender id             4   configured per host (hvmon option)
 *  12  boot nonce           12   random per boot of the sender
 *  24  sequence number       8   1, 2, 3 ... per boot, one per datagram
 *  32  drops total           4   events dropped by the sender since boot
 *  36  record count          2
 *  38  payload length        2
 *  40  payload (encrypted)   payload length bytes: records
 *  ..  Poly1305 tag         16
 * AEAD: ChaCha20-Poly1305 (RFC 8439, mbedTLS), AAD = the 40 header bytes,
 * key = per-boot key K_b = first 32 bytes of ChaCha20(PSK, nonce=boot nonce,
 * counter 0) keystream, AEAD nonce = seq (8 bytes LE) || 4 zero bytes.
 * Version 2 (appended, issue 16): the same header and rules, AEAD AES-256-GCM
 * under K_gcm = the first 32 bytes of ChaCha20(K_b, nonce = the label
 * "hvmn-aes-gcm", counter 0) (hv_wire_derive_key_gcm); flag 1 required.
 */
#ifndef HVMON_MONITORS_WIRE_H
#define HVMON_MONITORS_WIRE_H

#include <stdint.h>
#include <stddef.h>
#include "events/event.h"
#include "events/wire_seal.h"

#define HV_WIRE_MAGIC0        'H'
#define HV_WIRE_MAGIC1        'V'
#define HV_WIRE_MAGIC2        'M'
#define HV_WIRE_MAGIC3        'N'
#define HV_WIRE_VERSION       1      /* ChaCha20-Poly1305 */
#define HV_WIRE_VERSION_GCM   2      /* AES-256-GCM (appended, issue 16) */
#define HV_WIRE_HDR_LEN       40
#define HV_WIRE_TAG_LEN       16
#define HV_WIRE_KEY_LEN       32
#define HV_WIRE_NONCE_LEN     12
#define HV_WIRE_MAX_DGRAM     1472   /* 1500 MTU - IPv4 20 - UDP 8 */
#define HV_WIRE_MAX_PAYLOAD   (HV_WIRE_MAX_DGRAM - HV_WIRE_HDR_LEN - HV_WIRE_TAG_LEN)
#define HV_WIRE_REC_HDR_LEN   4      /* type u8, monitor u8, body length u16 */

/* errors (negative) */
enum {
	HV_WIRE_OK         = 0,
	HV_WIRE_E_SHORT    = -1,   /* shorter than header + tag */
	HV_WIRE_E_MAGIC    = -2,
	HV_WIRE_E_VERSION  = -3,
	HV_WIRE_E_LENGTH   = -4,   /* header/payload length inconsistent */
	HV_WIRE_E_AUTH     = -5,   /* tag does not verify: forged or wrong key */
	HV_WIRE_E_RECORD   = -6,   /* a record is malformed */
	HV_WIRE_E_NOSPACE  = -7,
};
const char *hv_wire_strerror(int err);

struct hv_wire_hdr {
	uint8_t  version;
	uint8_t  flags;
	uint16_t hdr_len;
	uint32_t sender;
	uint8_t  boot_nonce[HV_WIRE_NONCE_LEN];
	uint64_t seq;
	uint32_t drops_total;
	uint16_t nrec;
	uint16_t payload_len;
};

/* ---- records (no crypto) ---- */
/* Encode ev at buf; returns bytes written, 0 if it does not fit in size. */
size_t hv_wire_encode_event(const struct hv_event *ev, uint8_t *buf, size_t size);
/* Decode one record from buf[0..len). On success fills ev, sets *used and
 * returns 0; returns 1 (and *used) for a well-formed record of an unknown
 * type (skip it); HV_WIRE_E_RECORD if malformed (ev contents undefined).
 * Never reads outside buf[0..len). */
int hv_wire_decode_event(const uint8_t *buf, size_t len, struct hv_event *ev, size_t *used);

/* header flags (appended, issue 18): bit 0 = the per-boot key is bound to the
 * sender id (hv_wire_derive_key_sender). A collector accepts 0 and 1. */
#define HV_WIRE_F_SENDER_KEY  0x01

/* Per-boot key derivation (documented in PROTOCOL.md). */
int hv_wire_derive_key(const uint8_t psk[HV_WIRE_KEY_LEN],
		       const uint8_t boot_nonce[HV_WIRE_NONCE_LEN],
		       uint8_t out[HV_WIRE_KEY_LEN]);

/* flag 1: K_b bound to the sender id (what hv_wire_tx_init uses) */
int hv_wire_derive_key_sender(const uint8_t psk[HV_WIRE_KEY_LEN], uint32_t sender,
			      const uint8_t boot_nonce[HV_WIRE_NONCE_LEN],
			      uint8_t out[HV_WIRE_KEY_LEN]);
/* version 2: the AES-256-GCM key from the per-boot key K_b (a labelled
 * derivation: K_b itself is never an AES key) */
int hv_wire_derive_key_gcm(const uint8_t kb[HV_WIRE_KEY_LEN], uint8_t out[HV_WIRE_KEY_LEN]);
/* the per-boot key a datagram with header h was sealed with (by its flags and
 * version) */
struct hv_wire_hdr;
int hv_wire_hdr_key(const uint8_t psk[HV_WIRE_KEY_LEN], const struct hv_wire_hdr *h,
		    uint8_t out[HV_WIRE_KEY_LEN]);
/* 12-byte boot nonce from rand32, refused (-1) if the source repeats itself */
int hv_wire_make_nonce(uint32_t (*rand32)(void), uint8_t nonce[HV_WIRE_NONCE_LEN]);

/* ---- receiver ---- */
/* Parse the clear header only (no authentication!). */
int hv_wire_parse_header(const uint8_t *dgram, size_t len, struct hv_wire_hdr *h);
/* Verify and decrypt a datagram in place with the per-boot key (see
 * hv_wire_derive_key). On success *payload points to the plaintext records
 * (h->payload_len bytes inside dgram). */
int hv_wire_open(const uint8_t boot_key[HV_WIRE_KEY_LEN], uint8_t *dgram, size_t len,
		 struct hv_wire_hdr *h, const uint8_t **payload);

/* ---- sender ---- */
struct hv_wire_tx {
	uint8_t  key[HV_WIRE_KEY_LEN];       /* per-boot key of the AEAD in use */
	uint8_t  version;                    /* HV_WIRE_VERSION or HV_WIRE_VERSION_GCM */
	uint32_t sender;
	uint8_t  boot_nonce[HV_WIRE_NONCE_LEN];
	uint64_t seq;                        /* last sequence number used */
	uint32_t drops_total;                /* owner updates (sink flush does) */
	uint16_t nrec;
	uint16_t payload_len;
	void   (*send)(void *ctx, const uint8_t *dgram, size_t len);
	void    *send_ctx;
	/* statistics */
	uint64_t datagrams, bytes, events, too_big;
	uint64_t (*clock)(void);             /* optional (ring -1: rdtsc): seal_ticks counts */
	uint64_t seal_ticks;                 /* in the AEAD seal */
	struct hv_event_sink sink;
	/* version 2: the AES key's schedule and GHASH key, computed once
	 * (events/wire_seal.h); in the same memory as key[] above */
	struct hv_wire_gcm_key gcm;
	uint8_t  buf[HV_WIRE_MAX_DGRAM];
};
/* psk: 32 bytes; boot_nonce: 12 random bytes, new per boot. */
int hv_wire_tx_init(struct hv_wire_tx *tx, const uint8_t psk[HV_WIRE_KEY_LEN],
		    uint32_t sender, const uint8_t boot_nonce[HV_WIRE_NONCE_LEN],
		    void (*send)(void *ctx, const uint8_t *dgram, size_t len),
		    void *send_ctx);
/* Switch a fresh sender (no datagram sent yet) to wire version @version:
 * HV_WIRE_VERSION_GCM derives the AES-256-GCM key from the per-boot key.
 * tx_init starts at version 1. Returns -1 for an unknown version, a second
 * switch, or after the first datagram. */
int hv_wire_tx_set_version(struct hv_wire_tx *tx, unsigned version);
/* Append an event; seals and sends the current datagram first if full. */
int hv_wire_tx_add(struct hv_wire_tx *tx, const struct hv_event *ev);
/* Seal and send the pending datagram (no-op if empty). */
int hv_wire_tx_flush(struct hv_wire_tx *tx);
/* Event sink: emit = tx_add, flush = update drops_total from the event core
 * and tx_flush. Register with hv_event_sink_register(&tx->sink). */

#endif
