/* hvmon-collect sequence tracking — see hvmon-collect-track.h. */
#include <string.h>
#include "tools/hvmon-collect-track.h"

static bool bit_get(struct track_session *s, uint64_t seq)
{
	uint64_t b = seq % TRACK_WINDOW;
	return s->bits[b / 64] >> (b % 64) & 1;
}

static void bit_set(struct track_session *s, uint64_t seq, bool v)
{
	uint64_t b = seq % TRACK_WINDOW;
	if (v)
		s->bits[b / 64] |= 1ull << (b % 64);
	else
		s->bits[b / 64] &= ~(1ull << (b % 64));
}

static struct track_session *find(struct track *t, const struct hv_wire_hdr *h)
{
	struct track_session *victim = NULL;

	for (int i = 0; i < TRACK_SESSIONS; i++) {
		struct track_session *s = &t->s[i];
		if (s->used && s->sender == h->sender &&
		    !memcmp(s->nonce, h->boot_nonce, HV_WIRE_NONCE_LEN))
			return s;
	}
	/* new session: the sender rebooted (or is new). Older sessions of the
	 * same sender are superseded; the slot is a free one or the LRU. */
	for (int i = 0; i < TRACK_SESSIONS; i++) {
		struct track_session *s = &t->s[i];
		if (s->used && s->sender == h->sender)
			s->superseded = true;
	}
	for (int i = 0; i < TRACK_SESSIONS && !victim; i++)
		if (!t->s[i].used)
			victim = &t->s[i];
	if (!victim) {
		victim = &t->s[0];
		for (int i = 1; i < TRACK_SESSIONS; i++)
			if (t->s[i].last_use < victim->last_use)
				victim = &t->s[i];
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->sender = h->sender;
	memcpy(victim->nonce, h->boot_nonce, HV_WIRE_NONCE_LEN);
	return victim;
}

enum track_verdict track_datagram(struct track *t, const struct hv_wire_hdr *h,
				  struct track_session **sessp,
				  uint64_t *gap_from, uint64_t *gap_len)
{
	struct track_session *s = find(t, h);
	uint64_t seq = h->seq;

	*sessp = s;
	*gap_len = 0;
	s->last_use = ++t->clock;
	if (s->superseded || seq == 0) {
		s->replays++;
		return TRACK_REPLAY;
	}
	if (seq > s->max_seq) {
		/* clear window bits for the seqs we skip over / move past */
		uint64_t from = s->max_seq + 1;
		if (seq - s->max_seq > TRACK_WINDOW)
			memset(s->bits, 0, sizeof(s->bits));
		else
			for (uint64_t q = from; q < seq; q++)
				bit_set(s, q, false);
		if (seq > from) {
			*gap_from = from;
			*gap_len = seq - from;
			s->missing += seq - from;
		}
		bit_set(s, seq, true);
		s->max_seq = seq;
		s->drops_total = h->drops_total;
		s->accepted++;
		return TRACK_NEW;
	}
	if (s->max_seq - seq >= TRACK_WINDOW) {
		s->replays++;
		return TRACK_REPLAY;
	}
	if (bit_get(s, seq)) {
		s->duplicates++;
		return TRACK_DUPLICATE;
	}
	bit_set(s, seq, true);
	s->accepted++;
	s->late++;
	if (s->missing)
		s->missing--;
	return TRACK_LATE;
}
