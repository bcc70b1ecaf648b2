/*
 * hvmon-collect sequence tracking: per (sender id, boot nonce) session,
 * classify every authenticated datagram as new, late (reordered, fills a
 * gap), duplicate, or replay (older than the window, or from a session the
 * sender has superseded by rebooting). Pure logic, unit-tested.
 */
#ifndef HVMON_COLLECT_TRACK_H
#define HVMON_COLLECT_TRACK_H

#include <stdint.h>
#include <stdbool.h>
#include "events/wire.h"

#define TRACK_WINDOW    4096    /* datagrams remembered below the highest seq */
#define TRACK_SESSIONS  64

enum track_verdict {
	TRACK_NEW,         /* first time seen, in order or after a gap */
	TRACK_LATE,        /* first time seen, below the highest: reordered */
	TRACK_DUPLICATE,   /* seen before (within the window) */
	TRACK_REPLAY,      /* below the window, or session superseded */
};

struct track_session {
	bool     used;
	bool     superseded;
	uint32_t sender;
	uint8_t  nonce[HV_WIRE_NONCE_LEN];
	uint64_t max_seq;           /* highest accepted */
	uint64_t bits[TRACK_WINDOW / 64];  /* bit (seq % WINDOW) set: seen */
	uint64_t accepted, late, duplicates, replays;
	uint64_t missing;           /* seq numbers currently missing below max */
	uint32_t drops_total;       /* latest drops_total from the sender */
	uint64_t last_use;
};

struct track {
	struct track_session s[TRACK_SESSIONS];
	uint64_t clock;
};

/* Classify (and record) one authenticated datagram. *sess gets the session;
 * gap_from and gap_len describe sequence numbers newly found missing
 * (gap_len 0 if none). */
enum track_verdict track_datagram(struct track *t, const struct hv_wire_hdr *h,
				  struct track_session **sess,
				  uint64_t *gap_from, uint64_t *gap_len);

#endif
