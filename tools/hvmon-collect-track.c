/* hvmon-collect sequence tracking — see hvmon-collect-track.h. */
#include <stdlib.h>
#include <string.h>
#include "tools/hvmon-collect-track.h"

#define ALARM_EVERY_S 60.0

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

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static size_t sender_bucket(const struct track *t, uint32_t sender)
{
	return (size_t)(mix(sender) % t->nbucket);
}

/* tombstones: TOMB_WAYS-way set associative; a full set loses its oldest */
#define TOMB_WAYS 8
static struct track_tomb *tomb_set(const struct track *t, uint32_t sender, const uint8_t *nonce)
{
	uint64_t a, b;
	memcpy(&a, nonce, 8);
	memcpy(&b, nonce + 4, 8);
	return &t->tomb[(size_t)(mix(a ^ mix(b ^ ((uint64_t)sender << 1))) % (t->ntomb / TOMB_WAYS)) * TOMB_WAYS];
}

static struct track_tomb *tomb_find(const struct track *t, uint32_t sender, const uint8_t *nonce)
{
	struct track_tomb *set = tomb_set(t, sender, nonce);
	for (int w = 0; w < TOMB_WAYS; w++)
		if (set[w].max_seq && set[w].sender == sender &&
		    !memcmp(set[w].nonce, nonce, HV_WIRE_NONCE_LEN))
			return &set[w];
	return NULL;
}

int track_init(struct track *t, size_t cap, double live_s)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap ? cap : TRACK_SESSIONS_DEFAULT;
	t->nbucket = t->cap;
	t->ntomb = (t->cap * TRACK_TOMBS_PER_SESSION + TOMB_WAYS - 1) / TOMB_WAYS * TOMB_WAYS;
	t->live_s = live_s > 0 ? live_s : 15;
	t->s = calloc(t->cap, sizeof(*t->s));
	t->bucket = malloc(t->nbucket * sizeof(*t->bucket));
	t->tomb = calloc(t->ntomb, sizeof(*t->tomb));
	if (!t->s || !t->bucket || !t->tomb) {
		track_free(t);
		return -1;
	}
	for (size_t i = 0; i < t->nbucket; i++)
		t->bucket[i] = -1;
	return 0;
}

void track_free(struct track *t)
{
	free(t->s);
	free(t->bucket);
	free(t->tomb);
	memset(t, 0, sizeof(*t));
}

const char *track_replay_reason(enum track_replay why)
{
	switch (why) {
	case TRACK_R_WINDOW:     return "older than the replay window";
	case TRACK_R_OLD_BOOT:   return "already seen, from an older boot: session superseded by a newer boot";
	case TRACK_R_NOT_A_BOOT: return "unknown boot starting above seq 1 while the sender's newest boot is live: an old boot replayed";
	case TRACK_R_EVICTED:    return "at or below the highest seq of its evicted session";
	default:                 return "";
	}
}

static void unlink_session(struct track *t, int32_t idx)
{
	int32_t *pp = &t->bucket[sender_bucket(t, t->s[idx].sender)];
	while (*pp >= 0 && *pp != idx)
		pp = &t->s[*pp].next;
	if (*pp == idx)
		*pp = t->s[idx].next;
}

static void tomb_put(struct track *t, uint32_t sender, const uint8_t *nonce, uint64_t max_seq);

/* Evict the least recently used session into a tombstone (its highest seq),
 * so that replays of it stay refused after its slot is reused. */
static int32_t evict_lru(struct track *t)
{
	int32_t v = 0;
	for (size_t i = 1; i < t->cap; i++)
		if (t->s[i].last_use < t->s[v].last_use)
			v = (int32_t)i;
	struct track_session *s = &t->s[v];
	tomb_put(t, s->sender, s->nonce, s->max_seq);
	unlink_session(t, v);
	t->evicted++;
	t->used--;
	return v;
}

static void tomb_put(struct track *t, uint32_t sender, const uint8_t *nonce, uint64_t max_seq)
{
	struct track_tomb *set = tomb_set(t, sender, nonce), *tb = &set[0];
	for (int w = 0; w < TOMB_WAYS; w++) {
		if (!set[w].max_seq || (set[w].sender == sender &&
					!memcmp(set[w].nonce, nonce, HV_WIRE_NONCE_LEN))) {
			tb = &set[w];
			break;
		}
		if (set[w].when < tb->when)
			tb = &set[w];
	}
	if (tb->max_seq && !(tb->sender == sender && !memcmp(tb->nonce, nonce, HV_WIRE_NONCE_LEN)))
		t->tombs_lost++;
	tb->when = ++t->tomb_clock;
	tb->sender = sender;
	memcpy(tb->nonce, nonce, HV_WIRE_NONCE_LEN);
	tb->max_seq = max_seq ? max_seq : 1;
}

int track_add_tomb(struct track *t, uint32_t sender, const uint8_t nonce[HV_WIRE_NONCE_LEN],
		   uint64_t max_seq)
{
	tomb_put(t, sender, nonce, max_seq);
	return 0;
}

static struct track_session *create(struct track *t, const struct hv_wire_hdr *h, uint64_t floor)
{
	int32_t idx = -1;
	if (t->used < t->cap) {
		for (size_t i = 0; i < t->cap; i++)
			if (!t->s[i].used) {
				idx = (int32_t)i;
				break;
			}
	} else {
		idx = evict_lru(t);
	}
	struct track_session *s = &t->s[idx];
	size_t b = sender_bucket(t, h->sender);
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->sender = h->sender;
	memcpy(s->nonce, h->boot_nonce, HV_WIRE_NONCE_LEN);
	s->order = ++t->order;
	s->max_seq = floor;
	s->floor = floor;
	s->next = t->bucket[b];
	t->bucket[b] = idx;
	t->used++;
	return s;
}

/* The session (sender, nonce) if held; *newest = the sender's newest held boot. */
static struct track_session *lookup(struct track *t, const struct hv_wire_hdr *h,
				    struct track_session **newest)
{
	struct track_session *found = NULL;
	*newest = NULL;
	for (int32_t i = t->bucket[sender_bucket(t, h->sender)]; i >= 0; i = t->s[i].next) {
		struct track_session *s = &t->s[i];
		if (s->sender != h->sender)
			continue;
		if (!*newest || s->order > (*newest)->order)
			*newest = s;
		if (!memcmp(s->nonce, h->boot_nonce, HV_WIRE_NONCE_LEN))
			found = s;
	}
	return found;
}

bool track_is_newest(const struct track *t, const struct track_session *s)
{
	for (int32_t i = t->bucket[sender_bucket(t, s->sender)]; i >= 0; i = t->s[i].next)
		if (t->s[i].sender == s->sender && t->s[i].order > s->order)
			return false;
	return true;
}

static enum track_verdict replay(struct track_result *r, enum track_replay why)
{
	r->why = why;
	if (r->s)
		r->s->replays++;
	return TRACK_REPLAY;
}

enum track_verdict track_datagram(struct track *t, const struct hv_wire_hdr *h, double now,
				  struct track_result *r)
{
	struct track_session *newest, *s;
	uint64_t seq = h->seq, floor = 0;

	memset(r, 0, sizeof(*r));
	s = lookup(t, h, &newest);
	r->newest = newest;
	if (!s) {
		struct track_tomb *tb = tomb_find(t, h->sender, h->boot_nonce);
		if (tb) {
			if (seq <= tb->max_seq)
				return replay(r, TRACK_R_EVICTED);
			floor = tb->max_seq;     /* the evicted boot goes on */
			tb->max_seq = 0;
		} else if (seq == 0) {
			return replay(r, TRACK_R_WINDOW);
		} else if (seq != 1 && newest && now - newest->last_new < t->live_s) {
			/* a real reboot's first datagram is seq 1 (hvmon registers its
			 * sink once the link is up); an unknown boot that starts later
			 * while the sender's newest boot is talking is an old one */
			return replay(r, TRACK_R_NOT_A_BOOT);
		}
		s = create(t, h, floor);
		r->new_session = true;
		if (!newest || s->order > newest->order)
			r->newest = s;
	}
	r->s = s;
	r->prev_drops = s->drops_total;
	s->last_use = ++t->clock;
	bool older = r->newest && r->newest != s;
	if (seq == 0)
		return replay(r, TRACK_R_WINDOW);
	if (seq <= s->floor)
		return replay(r, TRACK_R_EVICTED);
	if (seq > s->max_seq) {
		uint64_t from = s->max_seq + 1;
		if (seq - s->max_seq > TRACK_WINDOW)
			memset(s->bits, 0, sizeof(s->bits));
		else
			for (uint64_t q = from; q < seq; q++)
				bit_set(s, q, false);
		if (seq > from) {
			r->gap_from = from;
			r->gap_len = seq - from;
			s->missing += seq - from;
		}
		bit_set(s, seq, true);
		s->max_seq = seq;
		s->drops_total = h->drops_total;
		s->accepted++;
		s->last_new = now;
		if (older && (s->alarm_at == 0 || now - s->alarm_at >= ALARM_EVERY_S)) {
			s->alarm_at = now;
			r->two_live = r->newest;
		}
		return TRACK_NEW;
	}
	if (s->max_seq - seq >= TRACK_WINDOW)
		return replay(r, TRACK_R_WINDOW);
	if (bit_get(s, seq)) {
		if (older)
			return replay(r, TRACK_R_OLD_BOOT);
		s->duplicates++;
		return TRACK_DUPLICATE;
	}
	bit_set(s, seq, true);
	s->accepted++;
	s->late++;
	s->last_new = now;
	if (s->missing)
		s->missing--;
	return TRACK_LATE;
}
