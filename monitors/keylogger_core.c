/*
 * keylogger_core — pure logic of the keylogger detector (monitors/keylogger.h):
 * scan code decoding, the keystroke history, read-buffer classification and the
 * per-process consumer table. Freestanding and hosted; no allocation, every loop
 * bounded by a table size or the buffer length.
 */
#include <string.h>
#include "monitors/keylogger.h"

/* ---- scan codes -------------------------------------------------------------- */

/* E0-prefixed set-1 scan code -> Linux keycode (drivers/input/keyboard/atkbd.c
 * with the i8042 translation; input-event-codes.h). */
static const struct { uint8_t sc; uint16_t key; } e0_keys[] = {
	{ 0x1c, 96 },  /* KEY_KPENTER */    { 0x1d, 97 },  /* KEY_RIGHTCTRL */
	{ 0x35, 98 },  /* KEY_KPSLASH */    { 0x37, 99 },  /* KEY_SYSRQ (PrtSc) */
	{ 0x38, 100 }, /* KEY_RIGHTALT */   { 0x47, 102 }, /* KEY_HOME */
	{ 0x48, 103 }, /* KEY_UP */         { 0x49, 104 }, /* KEY_PAGEUP */
	{ 0x4b, 105 }, /* KEY_LEFT */       { 0x4d, 106 }, /* KEY_RIGHT */
	{ 0x4f, 107 }, /* KEY_END */        { 0x50, 108 }, /* KEY_DOWN */
	{ 0x51, 109 }, /* KEY_PAGEDOWN */   { 0x52, 110 }, /* KEY_INSERT */
	{ 0x53, 111 }, /* KEY_DELETE */     { 0x5b, 125 }, /* KEY_LEFTMETA */
	{ 0x5c, 126 }, /* KEY_RIGHTMETA */  { 0x5d, 127 }, /* KEY_COMPOSE */
};

uint16_t keylogger_keycode(uint8_t sc, bool extended)
{
	sc &= 0x7f;
	if (extended) {
		for (size_t i = 0; i < sizeof(e0_keys) / sizeof(e0_keys[0]); i++)
			if (e0_keys[i].sc == sc)
				return e0_keys[i].key;
		return 0;
	}
	/* the base block: KEY_ESC (1) .. KEY_KPDOT (83) equal the set-1 codes,
	 * then KEY_102ND (86), KEY_F11 (87), KEY_F12 (88) */
	if (sc >= 0x01 && sc <= 0x53)
		return sc;
	if (sc == 0x56 || sc == 0x57 || sc == 0x58)
		return sc;
	return 0;
}

enum keylogger_sc_result keylogger_scancode_feed(struct keylogger_sc_state *s, uint8_t b, struct keylogger_key *out)
{
	struct keylogger_key k = { 0 };
	if (s->e1_left) {                         /* Pause: E1 1D 45 (make) / E1 9D C5 (break) */
		if (s->e1_left == 2) {
			s->e1_first = b;
			s->e1_left = 1;
			return KEYLOGGER_SC_NONE;
		}
		s->e1_left = 0;
		k.scancode = 0x45;
		k.keycode = 119;                  /* KEY_PAUSE */
		if (out)
			*out = k;
		if ((s->e1_first & 0x7f) == 0x1d && (b & 0x7f) == 0x45)
			return (b & 0x80) ? KEYLOGGER_SC_BREAK : KEYLOGGER_SC_MAKE;
		return KEYLOGGER_SC_NONE;
	}
	if (b == 0xe0) {
		s->e0 = 1;
		return KEYLOGGER_SC_NONE;
	}
	if (b == 0xe1) {
		s->e0 = 0;
		s->e1_left = 2;
		return KEYLOGGER_SC_NONE;
	}
	bool ext = s->e0;
	s->e0 = 0;
	/* replies and errors: 0x00/0xFF (overrun), 0xAA (self-test ok; also the
	 * break of LShift), 0xEE echo, 0xFA ack, 0xFC/0xFD failure, 0xFE resend.
	 * All but 0x00 have bit 7 set: at most a harmless "break". */
	if (b == 0x00 || b == 0xff)
		return KEYLOGGER_SC_NONE;
	uint8_t sc = b & 0x7f;
	if (ext && (sc == 0x2a || sc == 0x36))   /* fake shifts around extended keys */
		return KEYLOGGER_SC_NONE;
	k.scancode = sc;
	k.extended = ext;
	k.keycode = keylogger_keycode(sc, ext);
	if (out)
		*out = k;
	return (b & 0x80) ? KEYLOGGER_SC_BREAK : KEYLOGGER_SC_MAKE;
}

/* US console keymap (what the guest's default keymap turns the key into). */
static const char us_plain[0x3a] =
	"\0\033" "1234567890-=" "\177\t" "qwertyuiop[]" "\r\0" "asdfghjkl;'`" "\0\\" "zxcvbnm,./" "\0*\0 ";
static const char us_shift[0x3a] =
	"\0\033" "!@#$%^&*()_+" "\177\t" "QWERTYUIOP{}" "\r\0" "ASDFGHJKL:\"~" "\0|" "ZXCVBNM<>?" "\0*\0 ";

static uint8_t key_ascii(const struct keylogger_state *st, const struct keylogger_key *k)
{
	if (k->extended) {
		if (k->keycode == 96)             /* keypad Enter */
			return '\r';
		if (k->keycode == 98)
			return '/';
		return 0;
	}
	if (k->scancode >= sizeof(us_plain))
		return 0;
	bool shift = st->lshift || st->rshift;
	char c = us_plain[k->scancode];
	if (c >= 'a' && c <= 'z') {
		if (st->ctrl)
			return (uint8_t)(c & 0x1f);
		if (shift != st->caps)
			c = us_shift[k->scancode];
	} else if (shift) {
		c = us_shift[k->scancode];
	}
	return (uint8_t)c;
}

/* ---- state ----------------------------------------------------------------------- */

static bool name_eq(const char *a, const char *b)
{
	for (size_t i = 0; i < KEYLOGGER_COMM_LEN; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

void keylogger_init(struct keylogger_state *st, uint32_t k, const char (*allow)[KEYLOGGER_COMM_LEN], uint32_t nallow)
{
	memset(st, 0, sizeof(*st));
	st->k = k ? k : 1;
	if (nallow > KEYLOGGER_MAX_ALLOW)
		nallow = KEYLOGGER_MAX_ALLOW;
	for (uint32_t i = 0; i < nallow; i++) {
		memcpy(st->allow[i], allow[i], KEYLOGGER_COMM_LEN);
		st->allow[i][KEYLOGGER_COMM_LEN - 1] = 0;
	}
	st->nallow = nallow;
	st->next_seq = 1;
}

bool keylogger_allowed(const struct keylogger_state *st, const char *comm)
{
	for (uint32_t i = 0; i < st->nallow && i < KEYLOGGER_MAX_ALLOW; i++)
		if (name_eq(st->allow[i], comm))
			return true;
	return false;
}

bool keylogger_proc_allowed(const struct keylogger_proc *p)
{
	/* every keystroke it consumed was allowed by a rule (keylogger_consume_rec);
	 * `comm` alone never allows (issue 15 item 5) */
	return p->count && !p->not_allowed;
}

const char *keylogger_dev_name(enum keylogger_dev d)
{
	return d == KEYLOGGER_DEV_INPUT ? "input" : d == KEYLOGGER_DEV_TTY ? "tty" : d == KEYLOGGER_DEV_PORT ? "port" : "none";
}

void keylogger_feed_out(struct keylogger_state *st, uint8_t b, uint64_t tsc, uint64_t ttl)
{
	uint8_t skip = 1;                          /* ACK */
	st->outs++;
	if (st->last_cmd) {                        /* the parameter of a command */
		if (st->last_cmd == 0xf0 && b == 0)
			skip = 2;                  /* ACK + current scan code set */
		st->last_cmd = 0;
	} else if (b == 0xf2) {
		skip = 3;                          /* ACK + 2 ID bytes */
	} else if (b == 0xff) {
		skip = 2;                          /* ACK + self-test result */
	} else if (b == 0xee) {
		skip = 1;                          /* echo */
	} else if (b == 0xed || b == 0xf0 || b == 0xf3 || b == 0xfb || b == 0xfc || b == 0xfd) {
		st->last_cmd = b;                  /* a parameter follows */
	}
	st->reply_skip = skip;
	st->reply_deadline = tsc + ttl;
}

/* ---- controller commands (port 0x64, issue 15) -------------------------------------
 * What an i8042 command makes the controller do with the data port (IBM PS/2 technical
 * reference, "Keyboard/Auxiliary Device Controller" commands; Linux's i8042.h encodes the
 * same as (params << 12 | replies << 8 | command)): @params bytes the guest writes to 0x60
 * next, @replies bytes the controller puts in the output buffer (without the AUX bit). */
static void cmd_shape(uint8_t c, uint8_t *params, uint8_t *replies)
{
	*params = *replies = 0;
	if (c >= 0x20 && c <= 0x3f)
		*replies = 1;                      /* read controller RAM (0x20: the command byte) */
	else if (c >= 0x60 && c <= 0x7f)
		*params = 1;                       /* write controller RAM */
	else if (c == 0xa9 || c == 0xaa || c == 0xab || c == 0xc0 || c == 0xd0 || c == 0xe0)
		*replies = 1;                      /* port tests, self-test, input/output port, test inputs */
	else if ((c >= 0xd1 && c <= 0xd4) || (c >= 0x90 && c <= 0x93))
		*params = 1;                       /* output port; keyboard/aux loop; to aux; to a mux port */
}

void keylogger_feed_cmd(struct keylogger_state *st, uint8_t cmd, uint64_t tsc, uint64_t ttl)
{
	uint8_t params, replies;
	cmd_shape(cmd, &params, &replies);
	st->cmd_watch = true;
	st->ctrl_cmds++;
	st->ctrl_param = params ? cmd : 0;
	st->ctrl_pending = replies;                /* a new command: the previous expectation ends */
	st->ctrl_loop = 0;
	st->ctrl_deadline = tsc + ttl;
}

void keylogger_feed_data_out(struct keylogger_state *st, uint8_t status, uint8_t byte, uint64_t tsc, uint64_t ttl)
{
	if (st->cmd_watch ? st->ctrl_param != 0 : (status & KEYLOGGER_I8042_CMD) != 0) {
		/* a controller command's parameter (e.g. a new command byte), not a keyboard command */
		st->ctrl_params++;
		if (st->ctrl_param == 0xd2 || st->ctrl_param == 0xd3) {
			/* loop-back: the byte comes back as keyboard (d2) or AUX (d3) data; a
			 * controller that forgets the AUX bit on d3's is still not typing */
			st->ctrl_pending = 1;
			st->ctrl_loop = st->ctrl_param;
			st->ctrl_deadline = tsc + ttl;
		}
		st->ctrl_param = 0;
		return;
	}
	keylogger_feed_out(st, byte, tsc, ttl);
}

/* Is a keyboard byte read with @status a controller's reply? With the 0x64 writes seen,
 * only while one is pending (a command's reply; a raw reader that read the command byte
 * leaves status bit 3 set while it reads keys); before that, status bit 3. */
static bool ctrl_reply(struct keylogger_state *st, uint8_t status, uint64_t tsc)
{
	if (!st->cmd_watch)
		return (status & KEYLOGGER_I8042_CMD) != 0;
	if (!st->ctrl_pending)
		return false;
	st->ctrl_pending--;
	if (tsc > st->ctrl_deadline) {             /* the reply never came: the expectation lapsed */
		st->ctrl_pending = 0;
		return false;
	}
	return true;
}

bool keylogger_feed_byte(struct keylogger_state *st, uint8_t status, uint8_t byte, uint64_t tsc, struct keylogger_key *out)
{
	st->bytes++;
	if (!(status & KEYLOGGER_I8042_OBF)) {
		st->empty_reads++;                 /* nothing new: the guest re-read the port */
		return false;
	}
	if (status & KEYLOGGER_I8042_AUX) {
		st->aux_bytes++;                   /* mouse */
		if (st->ctrl_pending && st->ctrl_loop == 0xd3)
			st->ctrl_pending = 0;      /* the AUX loop-back's reply, where it belongs */
		return false;
	}
	st->kbd_bytes++;
	if (ctrl_reply(st, status, tsc)) {
		st->ctrl_replies++;                /* reply to a controller command (e.g. read CTR) */
		return false;
	}
	if (st->reply_skip) {
		if (tsc <= st->reply_deadline) {
			st->reply_skip--;
			st->kbd_replies++;         /* the keyboard answering a command */
			return false;
		}
		st->reply_skip = 0;                /* no reply came: the expectation lapsed */
	}
	if (byte == 0xfa || byte == 0xfe || byte == 0xee) {
		st->kbd_replies++;                 /* unsolicited ACK/resend/echo */
		return false;
	}
	struct keylogger_key k;
	enum keylogger_sc_result r = keylogger_scancode_feed(&st->sc, byte, &k);
	if (r == KEYLOGGER_SC_NONE) {
		st->ignored++;
		return false;
	}
	bool make = r == KEYLOGGER_SC_MAKE;
	if (!k.extended) {                         /* modifier state for the keymap */
		if (k.scancode == 0x2a) st->lshift = make;
		if (k.scancode == 0x36) st->rshift = make;
		if (k.scancode == 0x1d) st->ctrl = make;
	} else if (k.scancode == 0x1d) {
		st->ctrl = make;
	}
	if (!make) {
		st->breaks++;
		return false;
	}
	if (!k.extended && k.scancode == 0x3a)
		st->caps = !st->caps;
	st->makes++;
	struct keylogger_keystroke *h = &st->hist[st->next_seq % KEYLOGGER_HIST];
	if (h->seq && !h->consumers)
		st->hist_overwritten++;
	h->seq = st->next_seq++;
	h->tsc = tsc;
	h->keycode = k.keycode;
	h->ascii = key_ascii(st, &k);
	h->consumers = 0;
	if (out)
		*out = k;
	return true;
}

const struct keylogger_keystroke *keylogger_find_key(const struct keylogger_state *st, uint64_t seq)
{
	if (!seq)
		return NULL;
	const struct keylogger_keystroke *h = &st->hist[seq % KEYLOGGER_HIST];
	return h->seq == seq ? h : NULL;
}

uint32_t keylogger_unconsumed(const struct keylogger_state *st, uint64_t after_seq)
{
	uint32_t n = 0;
	for (size_t i = 0; i < KEYLOGGER_HIST; i++)
		if (st->hist[i].seq > after_seq && !st->hist[i].consumers)
			n++;
	return n;
}

/* ---- classification --------------------------------------------------------------- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static int32_t rd32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

enum keylogger_dev keylogger_classify_input(const uint8_t *buf, size_t n, uint16_t *codes, size_t max, size_t *npress)
{
	return keylogger_classify_input_rec(buf, n, KEYLOGGER_INPUT_EVENT_SIZE, codes, max, npress);
}

enum keylogger_dev keylogger_classify_input_rec(const uint8_t *buf, size_t n, size_t rec, uint16_t *codes, size_t max,
						size_t *npress)
{
	size_t np = 0;
	bool key = false;
	if (npress)
		*npress = 0;
	if (rec != KEYLOGGER_INPUT_EVENT_SIZE && rec != KEYLOGGER_INPUT_EVENT_SIZE32)
		return KEYLOGGER_DEV_NONE;
	if (!buf || n < rec || n % rec)
		return KEYLOGGER_DEV_NONE;
	for (size_t off = 0; off + rec <= n; off += rec) {
		const uint8_t *r = buf + off + rec - 8;        /* type, code, value follow the timestamp */
		uint16_t type = rd16(r), code = rd16(r + 2);
		int32_t value = rd32(r + 4);
		if (type > 0x1f)                       /* EV_MAX */
			return KEYLOGGER_DEV_NONE;
		if (type == 0 && code > 0xf)           /* EV_SYN codes: SYN_REPORT.. SYN_MAX */
			return KEYLOGGER_DEV_NONE;
		if (type != 1)
			continue;
		if (code > 0x2ff || value < 0 || value > 2)   /* KEY_MAX; release/press/repeat */
			return KEYLOGGER_DEV_NONE;
		key = true;
		/* presses and autorepeats of keyboard keys (BTN_* are >= 0x100) */
		if ((value == 1 || value == 2) && code >= 1 && code <= 0xff) {
			if (codes && np < max)
				codes[np] = code;
			np++;
		}
	}
	if (!key)
		return KEYLOGGER_DEV_NONE;
	if (npress)
		*npress = np;
	return KEYLOGGER_DEV_INPUT;
}

/* ---- consumers ---------------------------------------------------------------------- */

static struct keylogger_proc *proc_get(struct keylogger_state *st, int32_t tgid, uint64_t ident, const char *comm,
				       uint64_t tsc)
{
	struct keylogger_proc *slot = NULL, *lru = NULL;
	for (size_t i = 0; i < KEYLOGGER_MAX_PROCS && !slot; i++)
		if (st->procs[i].used && st->procs[i].tgid == tgid)
			slot = &st->procs[i];      /* same tgid, other identity: the pid was reused */
	for (size_t i = 0; i < KEYLOGGER_MAX_PROCS && !slot; i++) {
		struct keylogger_proc *p = &st->procs[i];
		if (!p->used)
			slot = p;
		else if (!lru || p->last_tsc < lru->last_tsc)
			lru = p;
	}
	if (!slot) {
		slot = lru;                        /* table full: forget the least recent */
		st->proc_evictions++;
	}
	memset(slot, 0, sizeof(*slot));
	slot->used = true;
	slot->tgid = tgid;
	slot->ident = ident;
	memcpy(slot->comm, comm, KEYLOGGER_COMM_LEN);
	slot->comm[KEYLOGGER_COMM_LEN - 1] = 0;
	slot->allowed = keylogger_allowed(st, slot->comm);
	slot->last_tsc = tsc;
	return slot;
}

/* oldest history seq still present */
static uint64_t hist_first(const struct keylogger_state *st)
{
	return st->next_seq > KEYLOGGER_HIST ? st->next_seq - KEYLOGGER_HIST : 1;
}

/* next keystroke with seq in [from, next_seq) satisfying the byte/keycode */
static uint64_t find_next(const struct keylogger_state *st, uint64_t from, bool tty, uint16_t want)
{
	if (from < hist_first(st))
		from = hist_first(st);
	for (uint64_t s = from; s < st->next_seq; s++) {
		const struct keylogger_keystroke *h = &st->hist[s % KEYLOGGER_HIST];
		if (h->seq != s)
			continue;
		if (tty) {
			if (h->ascii && (h->ascii == want || (h->ascii == '\r' && want == '\n')))
				return s;
		} else if (h->keycode && h->keycode == want) {
			return s;
		}
	}
	return 0;
}

static struct keylogger_verdict account(struct keylogger_state *st, struct keylogger_proc *p, int32_t pid, int32_t tgid,
					uint64_t ident, const char *cm, const uint64_t *seqs, size_t nseq, bool ok,
					enum keylogger_term term, struct keylogger_verdict v, uint64_t tsc);

#define KEYLOGGER_TTY_RECENT 64        /* a tty read must end on one of the last 64 keystrokes */
#define KEYLOGGER_MAX_CODES  256

/* @comm cut to KEYLOGGER_COMM_LEN - 1 into @cm, and the table entry of (@tgid, @ident), or NULL.
 * Not keyed by the name (issue 15 item 5): a reader that renames itself keeps its count. */
static struct keylogger_proc *proc_lookup(struct keylogger_state *st, int32_t tgid, uint64_t ident, const char *comm,
					  char *cm)
{
	size_t i;
	for (i = 0; i < KEYLOGGER_COMM_LEN - 1 && comm && comm[i]; i++)
		cm[i] = comm[i];
	for (; i < KEYLOGGER_COMM_LEN; i++)
		cm[i] = 0;
	struct keylogger_proc *p = NULL;
	for (i = 0; i < KEYLOGGER_MAX_PROCS; i++)
		if (st->procs[i].used && st->procs[i].tgid == tgid && st->procs[i].ident == ident)
			p = &st->procs[i];
	return p;
}

/* tty: every byte of @buf (@n <= KEYLOGGER_MAX_CODES) is, in order, the character of a keystroke
 * after @p's tty cursor (keys without a character and edited-out keys are skipped), the last
 * one among the KEYLOGGER_TTY_RECENT newest: @seqs gets them. */
static bool tty_match(const struct keylogger_state *st, const struct keylogger_proc *p, const uint8_t *buf, size_t n,
		      uint64_t *seqs, size_t *nseq)
{
	uint64_t cur = p ? p->cursor[KEYLOGGER_DEV_TTY] : 0;
	size_t i;
	*nseq = 0;
	if (!buf || !n || n > KEYLOGGER_MAX_CODES)
		return false;
	for (i = 0; i < n; i++) {
		uint64_t s = find_next(st, cur + 1, true, buf[i]);
		if (!s)
			return false;
		seqs[(*nseq)++] = s;
		cur = s;
	}
	return seqs[*nseq - 1] + KEYLOGGER_TTY_RECENT >= st->next_seq;
}

struct keylogger_verdict keylogger_consume(struct keylogger_state *st, int32_t pid, int32_t tgid, const char *comm,
			     const uint8_t *buf, size_t have, size_t n, uint64_t tsc)
{
	return keylogger_consume_rec(st, pid, tgid, 0, comm, buf, have, n, KEYLOGGER_INPUT_EVENT_SIZE,
				     KEYLOGGER_TERM_UNKNOWN, tsc);
}

bool keylogger_vt_name(const char *name, size_t len)
{
	return keylogger_vt_number(name, len) != 0;
}

enum keylogger_term keylogger_judge_term(uint64_t tty, uint64_t fg, uint64_t own, const char *name, size_t len,
					 int32_t fg_console)
{
	if (!tty || !fg || fg != own)
		return KEYLOGGER_TERM_OTHER;       /* no controlling terminal, or not its foreground */
	unsigned vt = keylogger_vt_number(name, len);
	if (!vt)
		return KEYLOGGER_TERM_OTHER;       /* not a virtual console: the keyboard does not go there */
	if (fg_console >= 0 && vt != (unsigned)fg_console + 1)
		return KEYLOGGER_TERM_OTHER;       /* another session's console: its keys are not typed now */
	return KEYLOGGER_TERM_FG;
}

unsigned keylogger_vt_number(const char *name, size_t len)
{
	/* "tty1".."tty63" (drivers/tty/vt/vt.c names its ttys "tty%d", MAX_NR_CONSOLES
	 * 63); "tty0" is the current console alias, never a controlling tty's name */
	if (!name || len < 5 || name[0] != 't' || name[1] != 't' || name[2] != 'y')
		return 0;
	unsigned v = 0, i = 3;
	for (; i < len && i < 6 && name[i] >= '0' && name[i] <= '9'; i++)
		v = v * 10 + (unsigned)(name[i] - '0');
	if (i == 3 || (i < len && name[i]) || name[3] == '0')
		return 0;
	return v >= 1 && v <= 63 ? v : 0;
}

struct keylogger_verdict keylogger_consume_rec(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
					       const char *comm,
					       const uint8_t *buf, size_t have, size_t n, size_t rec,
					       enum keylogger_term term, uint64_t tsc)
{
	struct keylogger_verdict v = { KEYLOGGER_DEV_NONE, 0, false, false, NULL };
	uint64_t seqs[KEYLOGGER_MAX_CODES];
	size_t nseq = 0;
	st->reads_seen++;
	if (!buf || !have || have > n || st->next_seq == 1) {
		st->reads_other++;
		return v;
	}
	char cm[KEYLOGGER_COMM_LEN];
	/* the cursor of an existing entry (or 0 for a new process) */
	struct keylogger_proc *p = proc_lookup(st, tgid, ident, comm, cm);
	size_t i;
	uint16_t codes[KEYLOGGER_MAX_CODES];
	size_t npress = 0;
	size_t whole = rec ? have - have % rec : 0;
	if (rec && n % rec == 0 &&
	    keylogger_classify_input_rec(buf, whole, rec, codes, KEYLOGGER_MAX_CODES, &npress) == KEYLOGGER_DEV_INPUT) {
		v.dev = KEYLOGGER_DEV_INPUT;
		st->reads_input++;
		if (st->input_at_copy)
			return v;                  /* counted event by event where the kernel copied them */
		uint64_t cur = p ? p->cursor[KEYLOGGER_DEV_INPUT] : 0;
		for (i = 0; i < npress && i < KEYLOGGER_MAX_CODES; i++) {
			uint64_t s = find_next(st, cur + 1, false, codes[i]);
			if (!s) {
				st->unmatched++;          /* not an i8042 keystroke hvmon saw */
				continue;
			}
			seqs[nseq++] = s;
			cur = s;
		}
	} else if (st->tty_at_copy) {
		/* tty reads are counted chunk by chunk where tty_read copies them (keylogger_consume_tty):
		 * matching the returned bytes again could take a LATER keystroke with the same character
		 * (the cursor is already past this one) and so skip keys */
		return v;
	} else {
		if (!tty_match(st, p, buf, have, seqs, &nseq)) {
			st->reads_other++;
			return v;
		}
		v.dev = KEYLOGGER_DEV_TTY;
		st->reads_tty++;
	}
	if (!nseq)
		return v;
	bool ok = term == KEYLOGGER_TERM_FG &&
		  (v.dev == KEYLOGGER_DEV_TTY || (v.dev == KEYLOGGER_DEV_INPUT && keylogger_allowed(st, cm)));
	return account(st, p, pid, tgid, ident, cm, seqs, nseq, ok, term, v, tsc);
}

/* @nseq (>= 1) keystrokes @seqs (ascending) consumed by the process (its entry @p,
 * NULL: new) through v.dev: count them, decide the report. */
static struct keylogger_verdict account(struct keylogger_state *st, struct keylogger_proc *p, int32_t pid, int32_t tgid,
					uint64_t ident, const char *cm, const uint64_t *seqs, size_t nseq, bool ok,
					enum keylogger_term term, struct keylogger_verdict v, uint64_t tsc)
{
	size_t i;
	if (!p)
		p = proc_get(st, tgid, ident, cm, tsc);
	v.proc = p;
	p->pid = pid;
	memcpy(p->comm, cm, KEYLOGGER_COMM_LEN);   /* the latest name, for the report */
	p->allowed = keylogger_allowed(st, p->comm);
	p->last_tsc = tsc;
	for (i = 0; i < nseq; i++) {
		struct keylogger_keystroke *h = &st->hist[seqs[i] % KEYLOGGER_HIST];
		if (h->consumers < 255)
			h->consumers++;
		if (!p->first_key_tsc)
			p->first_key_tsc = h->tsc;
	}
	p->cursor[v.dev] = seqs[nseq - 1];
	if (!ok)
		p->not_allowed += nseq;
	p->count += nseq;
	p->by_dev[v.dev] += nseq;
	v.matched = (uint32_t)nseq;
	st->consumed += nseq;
	bool allowed = keylogger_proc_allowed(p);
	if (allowed && p->count >= st->k && p->count - nseq < st->k)
		v.allowed_at_k = true;
	if (!p->reported && !allowed && p->count >= st->k) {
		p->reported = true;
		p->report_tsc = tsc;
		p->report_dev = v.dev;
		p->report_term = (uint8_t)term;
		/* the keystroke that crossed K */
		uint64_t over = p->count - st->k;      /* < nseq */
		p->report_seq = seqs[nseq - 1 - (over < nseq ? over : nseq - 1)];
		v.report = true;
		st->reports++;
	}
	return v;
}

/* ---- evdev events at the kernel's copy (issue 15 item 5) ---------------------------------- */

struct keylogger_verdict keylogger_consume_event(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
						 const char *comm, uint16_t type, uint16_t code, int32_t value,
						 enum keylogger_term term, uint64_t tsc)
{
	struct keylogger_verdict v = { KEYLOGGER_DEV_NONE, 0, false, false, NULL };
	st->events_seen++;
	/* presses and autorepeats of keyboard keys, as keylogger_classify_input_rec takes them */
	if (type != 1 || (value != 1 && value != 2) || code < 1 || code > 0xff)
		return v;
	st->events_keys++;
	v.dev = KEYLOGGER_DEV_INPUT;
	char cm[KEYLOGGER_COMM_LEN];
	struct keylogger_proc *p = proc_lookup(st, tgid, ident, comm, cm);
	uint64_t s = find_next(st, (p ? p->cursor[KEYLOGGER_DEV_INPUT] : 0) + 1, false, code);
	if (!s) {
		st->unmatched++;                   /* not an i8042 keystroke hvmon saw (or read already) */
		return v;
	}
	bool ok = term == KEYLOGGER_TERM_FG && keylogger_allowed(st, cm);
	return account(st, p, pid, tgid, ident, cm, &s, 1, ok, term, v, tsc);
}

/* ---- tty chunks at the kernel's copy (issue 15 item 5 gap A) ---------------------------- */

struct keylogger_verdict keylogger_consume_tty(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
					       const char *comm, const uint8_t *buf, size_t n, enum keylogger_term term,
					       uint64_t tsc)
{
	struct keylogger_verdict v = { KEYLOGGER_DEV_NONE, 0, false, false, NULL };
	uint64_t seqs[KEYLOGGER_MAX_CODES];
	size_t nseq = 0;
	char cm[KEYLOGGER_COMM_LEN];
	st->tty_chunks++;
	if (st->next_seq == 1)
		return v;                          /* no keystroke yet */
	struct keylogger_proc *p = proc_lookup(st, tgid, ident, comm, cm);
	if (!tty_match(st, p, buf, n, seqs, &nseq))
		return v;                          /* not typed keys (or read already: counted once) */
	v.dev = KEYLOGGER_DEV_TTY;
	st->tty_chunks_keys++;
	return account(st, p, pid, tgid, ident, cm, seqs, nseq, term == KEYLOGGER_TERM_FG, term, v, tsc);
}

enum keylogger_term keylogger_judge_opened(enum keylogger_term term, uint64_t opened, uint64_t ctty)
{
	if (term == KEYLOGGER_TERM_FG && opened && opened != ctty)
		return KEYLOGGER_TERM_OTHER;       /* not its own terminal: another session's */
	return term;
}

/* ---- raw port reads (issue 15 item 5) ------------------------------------------------- */

struct keylogger_verdict keylogger_consume_port(struct keylogger_state *st, int32_t pid, int32_t tgid, uint64_t ident,
						const char *comm, uint64_t seq, enum keylogger_term term, uint64_t tsc)
{
	struct keylogger_verdict v = { KEYLOGGER_DEV_NONE, 0, false, false, NULL };
	char cm[KEYLOGGER_COMM_LEN];
	if (!keylogger_find_key(st, seq))
		return v;
	struct keylogger_proc *p = proc_lookup(st, tgid, ident, comm, cm);
	if (p && p->cursor[KEYLOGGER_DEV_PORT] >= seq)
		return v;                          /* counted already */
	st->reads_port++;
	v.dev = KEYLOGGER_DEV_PORT;
	return account(st, p, pid, tgid, ident, cm, &seq, 1, false, term, v, tsc);   /* the i8042 itself: never allowed */
}

/* ---- read system calls by ABI ----------------------------------------------------------- */

/* pt_regs words from bx (offset 40): bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs */
enum { PR_BX = 0, PR_AX = 5, PR_CX = 6, PR_DX = 7, PR_SI = 8, PR_DI = 9, PR_ORIG_AX = 10 };

#define X32_BIT 0x40000000ULL

bool keylogger_read_call(const uint64_t *pr, bool compat, struct keylogger_read_args *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t nr = pr[PR_ORIG_AX];
	if (compat) {                              /* i386 numbers, 32-bit arguments in bx cx dx */
		out->rec = KEYLOGGER_INPUT_EVENT_SIZE32;
		out->ptr = (uint32_t)pr[PR_CX];
		out->cnt = (uint32_t)pr[PR_DX];
		out->iov32 = true;
		switch (nr) {
		case 3: case 180:                  /* read, pread64 */
			out->iov32 = false;
			return true;
		case 145: case 333: case 378:      /* readv, preadv, preadv2 */
			out->iov = true;
			return true;
		}
		return false;
	}
	out->rec = KEYLOGGER_INPUT_EVENT_SIZE;
	out->ptr = pr[PR_SI];
	out->cnt = pr[PR_DX];
	if (nr & X32_BIT) {                        /* x32: 64-bit registers, compat iovecs */
		switch (nr & ~X32_BIT) {
		case 0: case 17:                   /* read, pread64 */
			return true;
		case 515: case 534: case 546:      /* readv, preadv, preadv2 (x32 numbers) */
			out->iov = out->iov32 = true;
			return true;
		}
		return false;
	}
	switch (nr) {
	case 0: case 17:                           /* read, pread64 */
		return true;
	case 19: case 295: case 327:               /* readv, preadv, preadv2 */
		out->iov = true;
		return true;
	}
	return false;
}

size_t keylogger_iov_gather(const uint8_t *iov, size_t niov, bool iov32, uint64_t total, struct keylogger_span *spans,
			    size_t max)
{
	size_t n = 0, es = iov32 ? 8 : 16;
	for (size_t i = 0; i < niov && n < max && total; i++) {
		const uint8_t *e = iov + i * es;
		uint64_t base, len;
		if (iov32) {
			base = (uint32_t)rd32(e);
			len = (uint32_t)rd32(e + 4);
		} else {
			memcpy(&base, e, 8);
			memcpy(&len, e + 8, 8);
		}
		if (!len)
			continue;                  /* an empty iovec hides nothing */
		if (len > total)
			len = total;
		spans[n].base = base;
		spans[n].len = len;
		n++;
		total -= len;
	}
	return n;
}

/* ---- the window (by sequence) -------------------------------------------------------------- */

uint32_t keylogger_lagging(const struct keylogger_state *st, uint64_t now, uint64_t max_age)
{
	uint64_t newest = 0;                       /* newest keystroke with a keycode */
	for (uint64_t s = st->next_seq; s > hist_first(st) && !newest; s--) {
		const struct keylogger_keystroke *h = keylogger_find_key(st, s - 1);
		if (h && h->keycode)
			newest = s - 1;
	}
	uint32_t n = 0;
	if (!newest)
		return 0;
	for (size_t i = 0; i < KEYLOGGER_MAX_PROCS; i++) {
		const struct keylogger_proc *p = &st->procs[i];
		uint64_t c = p->cursor[KEYLOGGER_DEV_INPUT];
		/* an input reader, active within @max_age, that has not read the newest key yet
		 * (one that exited stops holding the window after @max_age) */
		if (p->used && c && c >= hist_first(st) && c < newest && now - p->last_tsc <= max_age)
			n++;
	}
	return n;
}
