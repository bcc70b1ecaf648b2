/*
 * hvmon-collect sequence tracking: per (sender id, boot nonce) session,
 * classify every authenticated datagram as new, late (reordered, fills a
 * gap), duplicate, or replay. Pure logic, unit-tested (tests/unit/test_wire.c).
 *
 * Sessions never silence each other (issue 18): a datagram is judged inside
 * its own session, and a session of a sender is only refused as a whole when
 * it is provably not a live boot (see track_datagram). Sessions are hashed by
 * sender id (a fleet of thousands of senders is O(1) per datagram); when the
 * table is full the least recently used session is evicted into a tombstone
 * (sender, nonce, highest seq) so that its old datagrams stay refused.
 */
#ifndef HVMON_COLLECT_TRACK_H
#define HVMON_COLLECT_TRACK_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "events/wire.h"

#define TRACK_WINDOW    4096    /* datagrams remembered below the highest seq */
#define TRACK_SESSIONS_DEFAULT 16384   /* --sessions default: live sessions held */
#define TRACK_TOMBS_PER_SESSION 4      /* tombstones kept per session slot */

enum track_verdict {
	TRACK_NEW,         /* first time seen, in order or after a gap */
	TRACK_LATE,        /* first time seen, below the highest: reordered */
	TRACK_DUPLICATE,   /* seen before (within the window) */
	TRACK_REPLAY,      /* refused: see enum track_replay for why */
};

enum track_replay {
	TRACK_R_NONE,
	TRACK_R_WINDOW,     /* seq 0, or older than the window */
	TRACK_R_OLD_BOOT,   /* an already seen seq of a boot the sender has left */
	TRACK_R_NOT_A_BOOT, /* unknown boot starting at seq > 1 while the sender's
			       newest boot is live: a replayed old boot, not a reboot */
	TRACK_R_EVICTED,    /* seq <= the highest of an evicted session */
};

struct track_session {
	bool     used;
	uint32_t sender;
	uint8_t  nonce[HV_WIRE_NONCE_LEN];
	uint64_t order;             /* creation order: larger = newer boot */
	uint64_t max_seq;           /* highest accepted */
	uint64_t floor;             /* resumed after eviction: seq <= floor refused */
	uint64_t bits[TRACK_WINDOW / 64];  /* bit (seq % WINDOW) set: seen */
	uint64_t accepted, late, duplicates, replays;
	uint64_t missing;           /* seq numbers currently missing below max */
	uint32_t drops_total;       /* latest drops_total from the sender */
	uint64_t last_use;          /* LRU clock */
	double   last_new;          /* time of the last accepted datagram */
	double   alarm_at;          /* last two-live alarm (rate limit), 0 none */
	bool     silent_reported;
	bool     config_seen, config_alarmed;   /* boot_config received / missing reported */
	int32_t  next;              /* hash chain (index, -1 end) */
};

struct track_tomb {
	uint32_t sender;
	uint8_t  nonce[HV_WIRE_NONCE_LEN];
	uint64_t max_seq;           /* 0: empty */
	uint64_t when;              /* eviction order (oldest is overwritten) */
};

struct track {
	struct track_session *s;
	size_t   cap, used;
	int32_t *bucket;
	size_t   nbucket;
	struct track_tomb *tomb;
	size_t   ntomb;
	uint64_t clock, order, tomb_clock;
	double   live_s;            /* a boot heard within live_s is live */
	uint64_t evicted, tombs_lost;
};

struct track_result {
	struct track_session *s;     /* the session (NULL for TRACK_R_NOT_A_BOOT / EVICTED) */
	enum track_replay why;
	bool     new_session;
	uint32_t prev_drops;         /* drops_total before this datagram */
	uint64_t gap_from, gap_len;  /* seq numbers newly found missing */
	/* set when an older boot of the sender delivered a NEW datagram after a
	 * newer boot appeared: two live boots (rate-limited to one per 60 s) */
	struct track_session *two_live;
	struct track_session *newest; /* the sender's newest boot (for reports) */
};

/* cap: sessions (0: TRACK_SESSIONS_DEFAULT); live_s: liveness window.
 * Returns 0, -1 on allocation failure. */
int  track_init(struct track *t, size_t cap, double live_s);
void track_free(struct track *t);

/* Classify (and record) one authenticated datagram received at time now (s). */
enum track_verdict track_datagram(struct track *t, const struct hv_wire_hdr *h, double now,
				  struct track_result *r);

/* --state (issue 18): remember a boot seen by an earlier run as a tombstone
 * (its datagrams up to max_seq stay refused). Returns 0. */
int track_add_tomb(struct track *t, uint32_t sender, const uint8_t nonce[HV_WIRE_NONCE_LEN],
		   uint64_t max_seq);

/* No newer boot of s's sender is held. */
bool track_is_newest(const struct track *t, const struct track_session *s);

const char *track_replay_reason(enum track_replay why);

#endif
