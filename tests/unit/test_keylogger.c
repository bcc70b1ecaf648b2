/* Unit tests for the keylogger detector's pure logic (monitors/keylogger_core.c, keylogger_site.c):
 * scan code decoding (make/break/E0/E1, replies), the i8042 filters, input_event classification,
 * the consumer table (K threshold, allow list, one event per process, bounds) and the syscall
 * exit site finder on synthetic machine code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "monitors/keylogger.h"

#define OBF 0x11                /* status: output buffer full, keyboard unlocked */

static struct keylogger_state st;
static const char default_allow[][KEYLOGGER_COMM_LEN] = { "sh", "ash", "bash", "getty", "agetty", "login" };

static void init(uint32_t k)
{
	keylogger_init(&st, k, default_allow, 6);
}

/* type one key: make + break (set 1) */
static void key(uint8_t sc, uint64_t tsc)
{
	keylogger_feed_byte(&st, OBF, sc, tsc, NULL);
	keylogger_feed_byte(&st, OBF, sc | 0x80, tsc + 1, NULL);
}

/* ---- scan codes ---- */
static void test_scancode_make_break(void **s)
{
	struct keylogger_sc_state sc = { 0 };
	struct keylogger_key k;
	assert_int_equal(keylogger_scancode_feed(&sc, 0x1e, &k), KEYLOGGER_SC_MAKE);          /* 'a' */
	assert_int_equal(k.keycode, 30);
	assert_false(k.extended);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x9e, &k), KEYLOGGER_SC_BREAK);
	assert_int_equal(k.keycode, 30);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x1c, &k), KEYLOGGER_SC_MAKE);          /* Enter */
	assert_int_equal(k.keycode, 28);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x58, &k), KEYLOGGER_SC_MAKE);          /* F12 */
	assert_int_equal(k.keycode, 88);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x00, &k), KEYLOGGER_SC_NONE);          /* error */
	assert_int_equal(keylogger_scancode_feed(&sc, 0xff, &k), KEYLOGGER_SC_NONE);          /* overrun */
}

static void test_scancode_e0(void **s)
{
	struct keylogger_sc_state sc = { 0 };
	struct keylogger_key k;
	assert_int_equal(keylogger_scancode_feed(&sc, 0xe0, &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x48, &k), KEYLOGGER_SC_MAKE);          /* Up */
	assert_true(k.extended);
	assert_int_equal(k.keycode, 103);
	assert_int_equal(keylogger_scancode_feed(&sc, 0xe0, &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, 0xc8, &k), KEYLOGGER_SC_BREAK);
	assert_int_equal(k.keycode, 103);
	/* the prefix applies to one byte only */
	assert_int_equal(keylogger_scancode_feed(&sc, 0x48, &k), KEYLOGGER_SC_MAKE);          /* keypad 8 */
	assert_false(k.extended);
	assert_int_equal(k.keycode, 72);
	/* fake shifts around extended keys are not keys */
	assert_int_equal(keylogger_scancode_feed(&sc, 0xe0, &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x2a, &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, 0xe0, &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, 0xaa, &k), KEYLOGGER_SC_NONE);
	/* right ctrl */
	keylogger_scancode_feed(&sc, 0xe0, &k);
	assert_int_equal(keylogger_scancode_feed(&sc, 0x1d, &k), KEYLOGGER_SC_MAKE);
	assert_int_equal(k.keycode, 97);
}

static void test_scancode_pause(void **s)
{
	struct keylogger_sc_state sc = { 0 };
	struct keylogger_key k;
	const uint8_t make[] = { 0xe1, 0x1d, 0x45 }, brk[] = { 0xe1, 0x9d, 0xc5 };
	for (int i = 0; i < 2; i++)
		assert_int_equal(keylogger_scancode_feed(&sc, make[i], &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, make[2], &k), KEYLOGGER_SC_MAKE);
	assert_int_equal(k.keycode, 119);
	for (int i = 0; i < 2; i++)
		assert_int_equal(keylogger_scancode_feed(&sc, brk[i], &k), KEYLOGGER_SC_NONE);
	assert_int_equal(keylogger_scancode_feed(&sc, brk[2], &k), KEYLOGGER_SC_BREAK);
	/* back to normal afterwards */
	assert_int_equal(keylogger_scancode_feed(&sc, 0x1e, &k), KEYLOGGER_SC_MAKE);
	assert_int_equal(k.keycode, 30);
}

/* ---- the i8042 stream ---- */
static void test_feed_filters(void **s)
{
	init(8);
	assert_false(keylogger_feed_byte(&st, 0x10, 0x1e, 1, NULL));     /* no OBF: a re-read */
	assert_false(keylogger_feed_byte(&st, 0x31, 0x1e, 2, NULL));     /* AUX: mouse byte */
	assert_false(keylogger_feed_byte(&st, 0x19, 0x61, 3, NULL));     /* controller reply (read CTR) */
	assert_false(keylogger_feed_byte(&st, OBF, 0xfa, 4, NULL));      /* ACK */
	assert_true(keylogger_feed_byte(&st, OBF, 0x1e, 5, NULL));       /* 'a' make */
	assert_false(keylogger_feed_byte(&st, OBF, 0x9e, 6, NULL));      /* 'a' break */
	assert_int_equal(st.makes, 1);
	assert_int_equal(st.breaks, 1);
	assert_int_equal(st.empty_reads, 1);
	assert_int_equal(st.aux_bytes, 1);
	assert_int_equal(st.ctrl_replies, 1);
	assert_int_equal(st.kbd_replies, 1);
	const struct keylogger_keystroke *h = keylogger_find_key(&st, 1);
	assert_non_null(h);
	assert_int_equal(h->keycode, 30);
	assert_int_equal(h->ascii, 'a');
	assert_int_equal(h->tsc, 5);
	assert_null(keylogger_find_key(&st, 2));
}

static void test_feed_command_replies(void **s)
{
	init(8);
	/* atkbd's GETID: F2 -> FA AB 41 (0x41 would look like F7's make) */
	keylogger_feed_out(&st, 0xf2, 10, 100);
	assert_false(keylogger_feed_byte(&st, OBF, 0xfa, 11, NULL));
	assert_false(keylogger_feed_byte(&st, OBF, 0xab, 12, NULL));
	assert_false(keylogger_feed_byte(&st, OBF, 0x41, 13, NULL));
	assert_true(keylogger_feed_byte(&st, OBF, 0x41, 14, NULL));      /* now a real F7 */
	/* set LEDs: ED <param 0xf2> -> one ACK each; the parameter is not GETID */
	keylogger_feed_out(&st, 0xed, 20, 100);
	assert_false(keylogger_feed_byte(&st, OBF, 0xfa, 21, NULL));
	keylogger_feed_out(&st, 0xf2, 22, 100);
	assert_false(keylogger_feed_byte(&st, OBF, 0xfa, 23, NULL));
	assert_true(keylogger_feed_byte(&st, OBF, 0x1e, 24, NULL));
	/* a reply that never comes: the expectation lapses at the deadline */
	keylogger_feed_out(&st, 0xf4, 30, 5);
	assert_true(keylogger_feed_byte(&st, OBF, 0x30, 40, NULL));      /* 'b' after the deadline */
	assert_int_equal(st.makes, 3);
}

/* issue 15: the controller's replies follow the commands written to port 0x64 */
static void test_feed_controller_commands(void **s)
{
	init(8);
	const uint8_t CMD = KEYLOGGER_I8042_CMD;
	/* read the command byte: one reply (status bit 3 set), then keys with bit 3 still set */
	keylogger_feed_cmd(&st, 0x20, 10, 100);
	assert_true(st.cmd_watch);
	assert_false(keylogger_feed_byte(&st, OBF | CMD, 0x47, 11, NULL));   /* the CTR */
	assert_true(keylogger_feed_byte(&st, OBF | CMD, 0x13, 12, NULL));    /* 'r', a raw reader's */
	assert_false(keylogger_feed_byte(&st, OBF | CMD, 0x93, 13, NULL));
	assert_true(keylogger_feed_byte(&st, OBF | CMD, 0x1e, 14, NULL));    /* 'a' */
	assert_int_equal(st.ctrl_replies, 1);
	/* write the command byte: its parameter is not a keyboard command (0xf2 is not GETID) */
	keylogger_feed_cmd(&st, 0x60, 20, 100);
	keylogger_feed_data_out(&st, CMD, 0xf2, 21, 100);
	assert_int_equal(st.ctrl_params, 1);
	assert_true(keylogger_feed_byte(&st, OBF, 0x41, 22, NULL));          /* F7, not an ID byte */
	/* without a parameter pending the next 0x60 write is a keyboard command, whatever bit 3 says */
	keylogger_feed_data_out(&st, CMD, 0xf2, 23, 100);
	assert_false(keylogger_feed_byte(&st, OBF, 0xfa, 24, NULL));
	assert_false(keylogger_feed_byte(&st, OBF, 0xab, 25, NULL));
	assert_false(keylogger_feed_byte(&st, OBF, 0x41, 26, NULL));
	/* tests and ports: one reply each; a command with none expects nothing */
	keylogger_feed_cmd(&st, 0xaa, 30, 100);
	assert_false(keylogger_feed_byte(&st, OBF, 0x55, 31, NULL));
	keylogger_feed_cmd(&st, 0xae, 32, 100);                               /* enable keyboard */
	assert_true(keylogger_feed_byte(&st, OBF, 0x1f, 33, NULL));           /* 's' */
	/* a new command replaces the previous expectation (at most one byte per command) */
	keylogger_feed_cmd(&st, 0x20, 40, 100);
	keylogger_feed_cmd(&st, 0xad, 41, 100);
	assert_true(keylogger_feed_byte(&st, OBF, 0x20, 42, NULL));           /* 'd' */
	/* a reply that never came lapses */
	keylogger_feed_cmd(&st, 0xd0, 50, 5);
	assert_true(keylogger_feed_byte(&st, OBF, 0x21, 60, NULL));           /* 'f' after the deadline */
	/* keyboard loop-back (d2): the parameter comes back as keyboard data, not a key */
	keylogger_feed_cmd(&st, 0xd2, 70, 100);
	keylogger_feed_data_out(&st, 0, 0x1e, 71, 100);
	assert_false(keylogger_feed_byte(&st, OBF, 0x1e, 72, NULL));
	/* AUX loop-back (d3): its reply comes with the AUX bit and ends the expectation */
	keylogger_feed_cmd(&st, 0xd3, 80, 100);
	keylogger_feed_data_out(&st, 0, 0x56, 81, 100);
	assert_false(keylogger_feed_byte(&st, OBF | KEYLOGGER_I8042_AUX, 0x56, 82, NULL));
	assert_true(keylogger_feed_byte(&st, OBF, 0x22, 83, NULL));           /* 'g' */
	assert_int_equal(st.makes, 7);
	assert_int_equal(st.ctrl_cmds, 9);
	/* before any 0x64 write is seen (the hook failed): status bit 3 decides, as before */
	init(8);
	assert_false(keylogger_feed_byte(&st, OBF | CMD, 0x1e, 1, NULL));
	keylogger_feed_data_out(&st, CMD, 0xf2, 2, 100);                     /* a parameter by bit 3 */
	assert_true(keylogger_feed_byte(&st, OBF, 0x41, 3, NULL));
	assert_false(st.cmd_watch);
}

static void test_ascii_shift(void **s)
{
	init(8);
	key(0x1e, 1);                           /* a */
	keylogger_feed_byte(&st, OBF, 0x2a, 2, NULL);  /* LShift down */
	key(0x1e, 3);                           /* A */
	key(0x02, 4);                           /* ! */
	keylogger_feed_byte(&st, OBF, 0xaa, 5, NULL);  /* LShift up */
	key(0x02, 6);                           /* 1 */
	key(0x1c, 7);                           /* Enter */
	key(0x0e, 8);                           /* Backspace */
	const uint8_t want[] = { 'a', 0, 'A', '!', '1', '\r', 0x7f };
	assert_int_equal(st.makes, 7);          /* shift's make counts as a keystroke */
	for (int i = 0; i < 7; i++)
		assert_int_equal(keylogger_find_key(&st, (uint64_t)i + 1)->ascii, want[i]);
}

/* ---- input_event buffers ---- */
static size_t ev(uint8_t *b, uint16_t type, uint16_t code, int32_t value)
{
	memset(b, 0x5a, 16);                    /* timeval: anything */
	b[16] = (uint8_t)type; b[17] = (uint8_t)(type >> 8);
	b[18] = (uint8_t)code; b[19] = (uint8_t)(code >> 8);
	memcpy(b + 20, &value, 4);
	return KEYLOGGER_INPUT_EVENT_SIZE;
}

static void test_classify_input(void **s)
{
	uint8_t b[24 * 8];
	uint16_t codes[8];
	size_t n = 0, np;
	n += ev(b + n, 4, 4, 0x1e);             /* EV_MSC MSC_SCAN */
	n += ev(b + n, 1, 30, 1);               /* KEY_A press */
	n += ev(b + n, 0, 0, 0);                /* SYN_REPORT */
	n += ev(b + n, 1, 30, 0);               /* release */
	n += ev(b + n, 1, 30, 2);               /* autorepeat */
	n += ev(b + n, 1, 0x110, 1);            /* BTN_LEFT: not a keystroke */
	assert_int_equal(keylogger_classify_input(b, n, codes, 8, &np), KEYLOGGER_DEV_INPUT);
	assert_int_equal(np, 2);
	assert_int_equal(codes[0], 30);
	assert_int_equal(codes[1], 30);
	assert_int_equal(keylogger_classify_input(b, n - 1, codes, 8, &np), KEYLOGGER_DEV_NONE);   /* not a multiple */
	assert_int_equal(keylogger_classify_input(b, 0, codes, 8, &np), KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_classify_input(NULL, 24, codes, 8, &np), KEYLOGGER_DEV_NONE);
	/* no EV_KEY at all (a mouse's EV_REL stream) */
	n = ev(b, 2, 0, 5) + ev(b + 24, 0, 0, 0);
	assert_int_equal(keylogger_classify_input(b, n, codes, 8, &np), KEYLOGGER_DEV_NONE);
	/* a type beyond EV_MAX, a bad value: not input records */
	n = ev(b, 0x20, 0, 0) + ev(b + 24, 1, 30, 1);
	assert_int_equal(keylogger_classify_input(b, n, codes, 8, &np), KEYLOGGER_DEV_NONE);
	n = ev(b, 1, 30, 7);
	assert_int_equal(keylogger_classify_input(b, n, codes, 8, &np), KEYLOGGER_DEV_NONE);
	/* text is not input records */
	memset(b, 'a', 48);
	assert_int_equal(keylogger_classify_input(b, 48, codes, 8, &np), KEYLOGGER_DEV_NONE);
}

/* one keystroke read through evdev by (tgid, comm) */
static struct keylogger_verdict read_input(int32_t tgid, const char *comm, uint16_t code, uint64_t tsc)
{
	uint8_t b[48];
	size_t n = ev(b, 1, code, 1) + ev(b + 24, 0, 0, 0);
	return keylogger_consume(&st, tgid, tgid, comm, b, n, n, tsc);
}

static void test_consume_k_threshold_once(void **s)
{
	init(8);
	int reports = 0;
	for (int i = 0; i < 20; i++) {
		key(0x10 + (uint8_t)(i % 10), 100 * (uint64_t)i);             /* q w e r t y u i o p */
		struct keylogger_verdict v = read_input(300, "evil", (uint16_t)(16 + i % 10), 100 * (uint64_t)i + 5);
		assert_int_equal(v.dev, KEYLOGGER_DEV_INPUT);
		assert_int_equal(v.matched, 1);
		if (v.report) {
			reports++;
			assert_int_equal(i, 7);                 /* exactly at the K-th keystroke */
			assert_int_equal(v.proc->count, 8);
			assert_int_equal(v.proc->report_seq, 8);
			assert_int_equal(v.proc->report_dev, KEYLOGGER_DEV_INPUT);
		}
	}
	assert_int_equal(reports, 1);
	assert_int_equal(st.reports, 1);
	assert_int_equal(st.consumed, 20);
	assert_int_equal(keylogger_unconsumed(&st, 0), 0);
}

static void test_consume_dedup_and_unmatched(void **s)
{
	init(2);
	key(0x1e, 1);
	/* the same keystroke read twice (two fds, or a re-read) counts once */
	assert_int_equal(read_input(400, "dup", 30, 2).matched, 1);
	assert_int_equal(read_input(400, "dup", 30, 3).matched, 0);
	/* a key hvmon never saw on the i8042 (uinput, USB) does not count */
	assert_int_equal(read_input(400, "dup", 45, 4).matched, 0);
	assert_int_equal(st.unmatched, 2);
	/* another process consumes the same keystroke on its own */
	assert_int_equal(read_input(401, "other", 30, 5).matched, 1);
	assert_int_equal(keylogger_find_key(&st, 1)->consumers, 2);
	/* no keystroke at all yet: nothing matches */
	init(2);
	assert_int_equal(read_input(400, "dup", 30, 2).matched, 0);
}

/* one keystroke ('a', scan code 0x1e) read from a tty by (tgid, comm) with terminal @term */
static struct keylogger_verdict read_tty_t(int32_t tgid, const char *comm, enum keylogger_term term, uint64_t tsc)
{
	const uint8_t a = 'a';
	return keylogger_consume_rec(&st, tgid, tgid, 0, comm, &a, 1, 1, KEYLOGGER_INPUT_EVENT_SIZE, term, tsc);
}
static struct keylogger_verdict read_tty_a(int32_t tgid, const char *comm, uint64_t tsc)
{
	return read_tty_t(tgid, comm, KEYLOGGER_TERM_FG, tsc);
}
static struct keylogger_verdict read_input_t(int32_t tgid, const char *comm, enum keylogger_term term, uint16_t code,
					     uint64_t tsc)
{
	uint8_t b[48];
	size_t n = ev(b, 1, code, 1) + ev(b + 24, 0, 0, 0);
	return keylogger_consume_rec(&st, tgid, tgid, 0, comm, b, n, n, KEYLOGGER_INPUT_EVENT_SIZE, term, tsc);
}

/* issue 15 item 5: readers judged by what they are (their terminal), not by name */
static void test_consume_who_not_name(void **s)
{
	/* the foreground group of its console reading the tty: allowed, whatever its name */
	init(3);
	bool noted = false;
	for (int i = 0; i < 10; i++) {
		key(0x1e, (uint64_t)i * 10);
		struct keylogger_verdict v = read_tty_a(500, "less", (uint64_t)i * 10 + 1);
		assert_int_equal(v.dev, KEYLOGGER_DEV_TTY);
		assert_false(v.report);
		if (v.allowed_at_k) {
			assert_false(noted);
			assert_int_equal(v.proc->count, 3);
			noted = true;
		}
	}
	assert_true(noted);
	assert_true(keylogger_allowed(&st, "getty"));          /* the list is still parsed and kept */
	assert_false(keylogger_allowed(&st, "gett"));
	/* "bash" on the allow list but in the background (or no controlling tty): reported */
	init(2);
	key(0x1e, 1); key(0x1e, 2);
	assert_false(read_tty_t(501, "bash", KEYLOGGER_TERM_OTHER, 3).report);
	assert_true(read_tty_t(501, "bash", KEYLOGGER_TERM_OTHER, 4).report);
	/* unknown terminal (no inference): nothing is allowed */
	init(1);
	key(0x1e, 1);
	assert_true(read_tty_t(502, "sh", KEYLOGGER_TERM_UNKNOWN, 2).report);
	/* "sh" reading evdev: reported (not on the list; and a name is never enough) */
	init(1);
	key(0x1e, 1);
	struct keylogger_verdict v = read_input_t(510, "sh", KEYLOGGER_TERM_OTHER, 30, 2);
	assert_true(v.report);
	assert_false(keylogger_proc_allowed(v.proc));
	/* foreground of its console once, then a background read: reported then */
	init(2);
	key(0x1e, 1); key(0x1e, 2); key(0x1e, 3);
	assert_false(read_tty_a(511, "vi", 4).report);
	assert_false(read_tty_a(511, "vi", 5).report);
	v = read_tty_t(511, "vi", KEYLOGGER_TERM_OTHER, 6);
	assert_true(v.report);
	/* an allowed tty reader that also reads evdev while not listed: reported at the input read */
	init(2);
	key(0x1e, 1); key(0x1e, 2);
	assert_false(read_tty_a(512, "vi", 3).report);
	assert_true(read_input_t(512, "vi", KEYLOGGER_TERM_FG, 30, 4).report);
	/* the input-device rule: on keylogger_allow= AND the foreground of its console */
	const char mine[][KEYLOGGER_COMM_LEN] = { "Xorg" };
	keylogger_init(&st, 1, mine, 1);
	key(0x1e, 1);
	assert_false(read_input_t(600, "Xorg", KEYLOGGER_TERM_FG, 30, 2).report);
	assert_true(read_input_t(601, "Xorg", KEYLOGGER_TERM_OTHER, 30, 3).report);   /* the name alone */
	assert_true(read_input_t(602, "kl", KEYLOGGER_TERM_FG, 30, 4).report);       /* foreground alone */
	/* the plain API knows no terminal: nothing allowed */
	keylogger_init(&st, 1, mine, 1);
	key(0x1e, 1);
	assert_true(read_input(603, "Xorg", 30, 2).report);
}

static void test_vt_name(void **s)
{
	char n[8];
	static const char *yes[] = { "tty1", "tty7", "tty12", "tty63" };
	static const char *no[] = { "tty0", "tty64", "ttyS0", "pts0", "tty", "tty01", "tty1x", "ptmx", "console" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		memset(n, 0, sizeof(n));
		strncpy(n, yes[i], sizeof(n));
		assert_true(keylogger_vt_name(n, sizeof(n)));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		memset(n, 0, sizeof(n));
		memcpy(n, no[i], strlen(no[i]) < sizeof(n) ? strlen(no[i]) : sizeof(n));
		assert_false(keylogger_vt_name(n, sizeof(n)));
	}
	memcpy(n, "tty1234", 7); n[7] = 0;
	assert_false(keylogger_vt_name(n, sizeof(n)));
	memcpy(n, "tty12\0\0x", 8);
	assert_true(keylogger_vt_name(n, sizeof(n)));
	assert_false(keylogger_vt_name(NULL, 8));
	assert_false(keylogger_vt_name("tty1", 4));       /* no terminator within @len */
}

/* issue 15: the active console decides; another session's console is not where keys go */
static void test_judge_term(void **s)
{
	char t1[8] = "tty1", t2[8] = "tty2", s0[8] = "ttyS0";
	assert_int_equal(keylogger_judge_term(0x10, 0x20, 0x20, t1, 8, 0), KEYLOGGER_TERM_FG);
	assert_int_equal(keylogger_judge_term(0x10, 0x20, 0x20, t1, 8, -1), KEYLOGGER_TERM_FG);   /* unknown: any VT */
	assert_int_equal(keylogger_judge_term(0x10, 0x20, 0x20, t2, 8, 0), KEYLOGGER_TERM_OTHER); /* tty2, tty1 active */
	assert_int_equal(keylogger_judge_term(0x10, 0x20, 0x20, t2, 8, 1), KEYLOGGER_TERM_FG);
	assert_int_equal(keylogger_judge_term(0x10, 0x20, 0x30, t1, 8, 0), KEYLOGGER_TERM_OTHER); /* background */
	assert_int_equal(keylogger_judge_term(0, 0x20, 0x20, t1, 8, 0), KEYLOGGER_TERM_OTHER);    /* no terminal */
	assert_int_equal(keylogger_judge_term(0x10, 0, 0, t1, 8, 0), KEYLOGGER_TERM_OTHER);       /* no fg group */
	assert_int_equal(keylogger_judge_term(0x10, 0x20, 0x20, s0, 8, 0), KEYLOGGER_TERM_OTHER); /* not a VT */
	assert_int_equal(keylogger_vt_number(t2, 8), 2);
	assert_int_equal(keylogger_vt_number(s0, 8), 0);
}

/* issue 15: evdev events at the kernel's copy (every read path, io_uring's workers too) */
static void test_consume_event(void **s)
{
	init(3);
	st.input_at_copy = true;
	key(0x1e, 1); key(0x30, 2); key(0x1e, 3); key(0x2e, 4);      /* a b a c */
	/* not keys: SYN, MSC, a release, a button */
	assert_int_equal(keylogger_consume_event(&st, 70, 7, 0x77, "iou-wrk-7", 0, 0, 0, KEYLOGGER_TERM_OTHER, 5).dev,
			 KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_consume_event(&st, 70, 7, 0x77, "iou-wrk-7", 4, 4, 30, KEYLOGGER_TERM_OTHER, 5).dev,
			 KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_consume_event(&st, 70, 7, 0x77, "iou-wrk-7", 1, 30, 0, KEYLOGGER_TERM_OTHER, 5).dev,
			 KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_consume_event(&st, 70, 7, 0x77, "iou-wrk-7", 1, 0x110, 1, KEYLOGGER_TERM_OTHER, 5).dev,
			 KEYLOGGER_DEV_NONE);
	/* the worker thread (pid 70) and the main thread (pid 7) are one reader: tgid + identity */
	struct keylogger_verdict v = keylogger_consume_event(&st, 70, 7, 0x77, "iou-wrk-7", 1, 30, 1,
							     KEYLOGGER_TERM_OTHER, 6);
	assert_int_equal(v.dev, KEYLOGGER_DEV_INPUT);
	assert_int_equal(v.matched, 1);
	assert_int_equal(keylogger_consume_event(&st, 7, 7, 0x77, "kl-uring", 1, 48, 1, KEYLOGGER_TERM_OTHER, 7).matched, 1);
	v = keylogger_consume_event(&st, 70, 7, 0x77, "iou-wrk-7", 1, 30, 2, KEYLOGGER_TERM_OTHER, 8);  /* autorepeat */
	assert_int_equal(v.matched, 1);
	assert_true(v.report);
	assert_int_equal(v.proc->count, 3);
	assert_int_equal(v.proc->report_seq, 3);
	/* the same event copied again (re-read) finds nothing after the cursor: counted once */
	assert_int_equal(keylogger_consume_event(&st, 70, 7, 0x77, "x", 1, 30, 1, KEYLOGGER_TERM_OTHER, 9).matched, 0);
	assert_int_equal(st.unmatched, 1);
	/* ...and the read's return does not count the records again */
	uint8_t b[24];
	ev(b, 1, 46, 1);
	v = keylogger_consume_rec(&st, 7, 7, 0x77, "kl-uring", b, 24, 24, 24, KEYLOGGER_TERM_OTHER, 10);
	assert_int_equal(v.dev, KEYLOGGER_DEV_INPUT);
	assert_int_equal(v.matched, 0);
	assert_int_equal(st.events_seen, 8);
	assert_int_equal(st.events_keys, 4);
	/* the foreground of the active console named in keylogger_allow=: allowed; elsewhere not */
	init(2);
	key(0x1e, 1); key(0x1e, 2);
	assert_int_equal(keylogger_consume_event(&st, 9, 9, 1, "sh", 1, 30, 1, KEYLOGGER_TERM_FG, 3).matched, 1);
	v = keylogger_consume_event(&st, 9, 9, 1, "sh", 1, 30, 1, KEYLOGGER_TERM_FG, 4);
	assert_false(v.report);
	assert_true(v.allowed_at_k);
	v = keylogger_consume_event(&st, 10, 10, 2, "sh", 1, 30, 1, KEYLOGGER_TERM_OTHER, 5);
	assert_int_equal(v.matched, 1);
	assert_false(keylogger_proc_allowed(v.proc));
	/* no keystroke yet: nothing to match */
	init(2);
	assert_int_equal(keylogger_consume_event(&st, 9, 9, 1, "x", 1, 30, 1, KEYLOGGER_TERM_OTHER, 1).matched, 0);
}

/* issue 15 item 5 (E): without the tty structures (no BTF) a tty reader cannot be judged: it is
 * counted like any other and its report says so (the event's `terminal` "unknown") */
static void test_report_terminal_unknown(void **s)
{
	init(2);
	key(0x1e, 1); key(0x1e, 2);
	assert_false(read_tty_t(500, "vi", KEYLOGGER_TERM_UNKNOWN, 3).report);
	struct keylogger_verdict v = read_tty_t(500, "vi", KEYLOGGER_TERM_UNKNOWN, 4);
	assert_true(v.report);
	assert_int_equal(v.proc->report_term, KEYLOGGER_TERM_UNKNOWN);
	assert_int_equal(v.proc->report_dev, KEYLOGGER_DEV_TTY);
	/* a background reader's report says "other" */
	init(2);
	key(0x1e, 1); key(0x1e, 2);
	read_tty_t(501, "cat", KEYLOGGER_TERM_OTHER, 3);
	v = read_tty_t(501, "cat", KEYLOGGER_TERM_OTHER, 4);
	assert_true(v.report);
	assert_int_equal(v.proc->report_term, KEYLOGGER_TERM_OTHER);
}

static void test_consume_compat_records(void **s)
{
	/* evdev's compat records (i386 reader): 8-byte timeval, then type, code, value */
	init(2);
	key(0x1e, 1); key(0x30, 2);
	uint8_t b[16 * 4] = { 0 };
	for (int i = 0; i < 4; i++) {
		uint16_t type = (i % 2) ? 0 : 1, code = (i % 2) ? 0 : (i ? 48 : 30);
		int32_t value = (i % 2) ? 0 : 1;
		memcpy(b + 16 * i + 8, &type, 2); memcpy(b + 16 * i + 10, &code, 2); memcpy(b + 16 * i + 12, &value, 4);
	}
	uint16_t codes[4];
	size_t np;
	assert_int_equal(keylogger_classify_input_rec(b, sizeof(b), 16, codes, 4, &np), KEYLOGGER_DEV_INPUT);
	assert_int_equal(np, 2);
	assert_int_equal(codes[1], 48);
	/* the same bytes as 24-byte records are not input (64 is not a multiple of 24) */
	assert_int_equal(keylogger_classify_input(b, sizeof(b), codes, 4, &np), KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_classify_input_rec(b, 48, 12, codes, 4, &np), KEYLOGGER_DEV_NONE);   /* no such size */
	struct keylogger_verdict v = keylogger_consume_rec(&st, 800, 800, 0, "i386", b, sizeof(b), sizeof(b), 16,
							   KEYLOGGER_TERM_FG, 3);
	assert_int_equal(v.dev, KEYLOGGER_DEV_INPUT);
	assert_int_equal(v.matched, 2);
	assert_true(v.report);
}

static void test_consume_port(void **s)
{
	init(3);
	for (int i = 0; i < 3; i++)
		key(0x1e, 1 + (uint64_t)i);
	assert_true(keylogger_consume_port(&st, 900, 900, 0, "sh", 1, KEYLOGGER_TERM_FG, 5).proc != NULL);
	assert_int_equal(keylogger_consume_port(&st, 900, 900, 0, "sh", 1, KEYLOGGER_TERM_FG, 6).matched, 0);   /* once per keystroke */
	assert_false(keylogger_consume_port(&st, 900, 900, 0, "sh", 2, KEYLOGGER_TERM_FG, 7).report);
	struct keylogger_verdict v = keylogger_consume_port(&st, 900, 900, 0, "sh", 3, KEYLOGGER_TERM_FG, 8);
	assert_true(v.report);                       /* "sh" is on the list: not for the port */
	assert_int_equal(v.dev, KEYLOGGER_DEV_PORT);
	assert_int_equal(v.proc->report_term, KEYLOGGER_TERM_FG);   /* the event's `terminal`: even the foreground */
	assert_int_equal(v.proc->by_dev[KEYLOGGER_DEV_PORT], 3);
	assert_string_equal(keylogger_dev_name(KEYLOGGER_DEV_PORT), "port");
	assert_null(keylogger_consume_port(&st, 901, 901, 0, "x", 99, KEYLOGGER_TERM_FG, 9).proc);   /* no such keystroke */
}

static void test_read_call(void **s)
{
	uint64_t pr[13] = { 0 };
	struct keylogger_read_args a;
	/* 64-bit: read(fd, buf=si, n=dx) */
	pr[10] = 0; pr[8] = 0x7000; pr[7] = 64;
	assert_true(keylogger_read_call(pr, false, &a));
	assert_false(a.iov);
	assert_int_equal(a.ptr, 0x7000);
	assert_int_equal(a.rec, 24);
	static const uint64_t iov64[] = { 19, 295, 327 };
	for (int i = 0; i < 3; i++) {
		pr[10] = iov64[i];
		assert_true(keylogger_read_call(pr, false, &a));
		assert_true(a.iov);
		assert_false(a.iov32);
		assert_int_equal(a.cnt, 64);
	}
	pr[10] = 1;                                  /* write */
	assert_false(keylogger_read_call(pr, false, &a));
	pr[10] = 3;                                  /* close in 64-bit numbering */
	assert_false(keylogger_read_call(pr, false, &a));
	/* x32 */
	pr[10] = 0x40000000 | 546;
	assert_true(keylogger_read_call(pr, false, &a));
	assert_true(a.iov && a.iov32);
	pr[10] = 0x40000000 | 19;                    /* the 64-bit readv is not an x32 call */
	assert_false(keylogger_read_call(pr, false, &a));
	/* i386: read(bx, cx, dx), upper halves ignored */
	pr[10] = 3; pr[6] = 0xffffffff00801000ULL; pr[7] = 1024;
	assert_true(keylogger_read_call(pr, true, &a));
	assert_false(a.iov);
	assert_int_equal(a.ptr, 0x801000);
	assert_int_equal(a.rec, 16);
	static const uint64_t iov32[] = { 145, 333, 378 };
	for (int i = 0; i < 3; i++) {
		pr[10] = iov32[i];
		assert_true(keylogger_read_call(pr, true, &a));
		assert_true(a.iov && a.iov32);
	}
	pr[10] = 0;                                  /* restart_syscall in i386 numbering */
	assert_false(keylogger_read_call(pr, true, &a));
}

static void test_iov_gather(void **s)
{
	uint8_t iov[4 * 16] = { 0 };
	uint64_t e[8] = { 0x1000, 0, 0x2000, 24, 0x3000, 100, 0x4000, 5 };
	memcpy(iov, e, sizeof(e));
	struct keylogger_span sp[4];
	/* the empty first iovec is skipped; the total (the read's result) bounds the spans */
	size_t n = keylogger_iov_gather(iov, 4, false, 50, sp, 4);
	assert_int_equal(n, 2);
	assert_int_equal(sp[0].base, 0x2000);
	assert_int_equal(sp[0].len, 24);
	assert_int_equal(sp[1].base, 0x3000);
	assert_int_equal(sp[1].len, 26);
	assert_int_equal(keylogger_iov_gather(iov, 4, false, 500, sp, 1), 1);   /* @max */
	/* compat iovecs: { u32 base, u32 len } */
	uint32_t c[4] = { 0x5000, 0, 0x6000, 16 };
	memcpy(iov, c, sizeof(c));
	n = keylogger_iov_gather(iov, 2, true, 16, sp, 4);
	assert_int_equal(n, 1);
	assert_int_equal(sp[0].base, 0x6000);
	assert_int_equal(sp[0].len, 16);
}

static void test_lagging(void **s)
{
	init(100);
	key(0x1e, 1); key(0x30, 2);
	assert_int_equal(keylogger_lagging(&st, 10, 100), 0);      /* nobody read anything yet */
	read_input(1000, "fast", 30, 3);
	read_input(1000, "fast", 48, 4);
	read_input(1001, "late", 30, 5);
	assert_int_equal(keylogger_lagging(&st, 10, 100), 1);      /* "late" has not read 'b' */
	read_input(1001, "late", 48, 6);                  /* its late read, matched by sequence */
	assert_int_equal(keylogger_lagging(&st, 10, 100), 0);
	assert_int_equal(st.procs[1].count, 2);
	key(0x2a, 7);                                     /* Shift: evdev readers get it too */
	assert_int_equal(keylogger_lagging(&st, 10, 100), 2);
	assert_int_equal(keylogger_lagging(&st, 200, 100), 0);   /* inactive for longer than max_age: exited */
	/* a tty reader does not hold the window (its line may not be complete) */
	init(100);
	key(0x1e, 1);
	read_tty_a(1002, "sh", 2);
	key(0x30, 3);
	assert_int_equal(keylogger_lagging(&st, 10, 100), 0);
}

static void test_consume_tty(void **s)
{
	init(4);
	/* "ls" typed as l x <BS> s <Enter>: the canonical tty hands "ls\n" */
	key(0x26, 1); key(0x2d, 2); key(0x0e, 3); key(0x1f, 4); key(0x1c, 5);
	const uint8_t line[] = "ls\n";
	struct keylogger_verdict v = keylogger_consume(&st, 700, 700, "evil", line, 3, 3, 6);
	assert_int_equal(v.dev, KEYLOGGER_DEV_TTY);
	assert_int_equal(v.matched, 3);
	assert_false(v.report);
	/* one byte at a time (busybox read): continues after the cursor */
	init(4);
	key(0x26, 1); key(0x1f, 2); key(0x1c, 3);
	for (int i = 0; i < 3; i++) {
		v = keylogger_consume(&st, 701, 701, "sh", line + i, 1, 1, 10 + (uint64_t)i);
		assert_int_equal(v.dev, KEYLOGGER_DEV_TTY);
		assert_int_equal(v.matched, 1);
	}
	assert_int_equal(st.procs[0].by_dev[KEYLOGGER_DEV_TTY] + st.procs[1].by_dev[KEYLOGGER_DEV_TTY], 3);
	/* a 40-character line read byte by byte after Enter: the first byte is 40 keys old */
	init(4);
	static const uint8_t row[] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19 };  /* qwertyuiop */
	for (int i = 0; i < 40; i++)
		key(row[i % 10], 100 + (uint64_t)i);
	key(0x1c, 200);
	int got = 0;
	for (int i = 0; i < 41; i++) {
		uint8_t c = i < 40 ? (uint8_t)"qwertyuiop"[i % 10] : '\n';
		v = keylogger_consume(&st, 704, 704, "sh", &c, 1, 1, 300 + (uint64_t)i);
		got += (int)v.matched;
	}
	assert_int_equal(got, 41);
	/* ...but a byte matching only keystrokes older than the last 64 is stale, not consumption */
	init(4);
	key(0x1e, 1);                            /* 'a' */
	for (int i = 0; i < 70; i++)
		key(0x30, 2 + (uint64_t)i);              /* 'b' x 70 */
	const uint8_t a = 'a';
	assert_int_equal(keylogger_consume(&st, 705, 705, "cat", &a, 1, 1, 100).dev, KEYLOGGER_DEV_NONE);
	init(4);
	key(0x26, 1); key(0x1f, 2); key(0x1c, 3);
	/* bytes that were not typed (a file, a pipe) are not keyboard data */
	const uint8_t other[] = "hello";
	v = keylogger_consume(&st, 702, 702, "cat", other, 5, 5, 20);
	assert_int_equal(v.dev, KEYLOGGER_DEV_NONE);
	assert_null(v.proc);
	/* a partial match is no match */
	const uint8_t partial[] = "lq";
	v = keylogger_consume(&st, 703, 703, "cat", partial, 2, 2, 21);
	assert_int_equal(v.dev, KEYLOGGER_DEV_NONE);
	assert_int_equal(st.reads_other, 2);
}

static void test_consume_bounds(void **s)
{
	init(1);
	key(0x1e, 1);
	/* more processes than the table holds: the least recent are forgotten, counted */
	for (int i = 0; i < KEYLOGGER_MAX_PROCS + 10; i++)
		assert_true(read_input(1000 + i, "many", 30, 10 + (uint64_t)i).report);
	assert_int_equal(st.proc_evictions, 10);
	/* the history is a ring: keystrokes older than KEYLOGGER_HIST are gone */
	init(1);
	for (int i = 0; i < KEYLOGGER_HIST + 5; i++)
		key(0x1e, (uint64_t)i);
	assert_null(keylogger_find_key(&st, 5));
	assert_non_null(keylogger_find_key(&st, 6));
	assert_int_equal(keylogger_unconsumed(&st, 0), KEYLOGGER_HIST);
	assert_int_equal(st.hist_overwritten, 5);          /* counted, not silent */
	/* issue 15: a rename keeps the count (the reader is its tgid + identity, not its comm);
	 * a new identity under the same tgid (the pid was reused) starts over */
	init(2);
	key(0x1e, 1); key(0x1e, 2); key(0x1e, 3);
	uint8_t rb[48];
	size_t rn = ev(rb, 1, 30, 1) + ev(rb + 24, 0, 0, 0);
	assert_int_equal(keylogger_consume_rec(&st, 900, 900, 0xa000, "before", rb, rn, rn, 24,
					       KEYLOGGER_TERM_OTHER, 3).matched, 1);
	struct keylogger_verdict v = keylogger_consume_rec(&st, 900, 900, 0xa000, "after", rb, rn, rn, 24,
							   KEYLOGGER_TERM_OTHER, 4);
	assert_int_equal(v.matched, 1);
	assert_int_equal(v.proc->count, 2);
	assert_true(v.report);                             /* K = 2 reached across the rename */
	assert_string_equal(v.proc->comm, "after");        /* reported under its latest name */
	v = keylogger_consume_rec(&st, 900, 900, 0xb000, "after", rb, rn, rn, 24, KEYLOGGER_TERM_OTHER, 5);
	assert_int_equal(v.matched, 1);
	assert_int_equal(v.proc->count, 1);                /* another process with that pid */
	assert_false(v.report);
	/* a huge read is looked at only as far as the caller copied it */
	uint8_t big[24 * 64];
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		n += ev(big + n, 0, 0, 0);
	ev(big, 1, 30, 1);
	v = keylogger_consume(&st, 901, 901, "big", big, sizeof(big), 24 * 40000, 5);
	assert_int_equal(v.dev, KEYLOGGER_DEV_INPUT);
	assert_int_equal(v.matched, 1);
	/* ...and the whole read must be records: a length that is not a multiple of 24 is not */
	v = keylogger_consume(&st, 902, 902, "big", big, sizeof(big), (1 << 20) + 1, 6);
	assert_int_equal(v.dev, KEYLOGGER_DEV_NONE);
}

/* ---- syscall exit site (synthetic machine code) ---- */
struct mem { uint64_t base; uint8_t b[0x4000]; };
static int mem_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	struct mem *m = ctx;
	if (va < m->base || va + len > m->base + sizeof(m->b))
		return -1;
	memcpy(buf, m->b + (va - m->base), len);
	return 0;
}
static void put(struct mem *m, uint64_t va, const uint8_t *b, size_t n) { memcpy(m->b + (va - m->base), b, n); }
static void call(struct mem *m, uint64_t va, uint64_t target)
{
	int32_t rel = (int32_t)(target - (va + 5));
	uint8_t b[5] = { 0xe8 };
	memcpy(b + 1, &rel, 4);
	put(m, va, b, 5);
}

#define BASE 0xffffffff81000000ull
static void build(struct mem *m, bool table, bool store)
{
	memset(m, 0, sizeof(*m));
	m->base = BASE;
	memset(m->b, 0xcc, sizeof(m->b));
	/* entry: swapgs; mov %rsp,%rdi; call do_syscall_64; sysretq */
	const uint8_t e[] = { 0x0f, 0x01, 0xf8, 0x48, 0x89, 0xe7 };
	put(m, BASE + 0x100, e, sizeof(e));
	call(m, BASE + 0x106, BASE + 0x1000);
	const uint8_t sr[] = { 0x48, 0x0f, 0x07 };
	put(m, BASE + 0x10b, sr, 3);
	/* do_syscall_64: push %rbp; mov %rsp,%rbp; push %rbx; mov %rdi,%rbx; dispatch;
	 * mov %rax,0x50(%rbx); mov %rbx,%rdi; call exit; pop %rbx; ret */
	const uint8_t pro[] = { 0x55, 0x48, 0x89, 0xe5, 0x53, 0x48, 0x89, 0xfb };
	put(m, BASE + 0x1000, pro, sizeof(pro));
	uint64_t va = BASE + 0x1008;
	if (table) {                            /* call *0x...(,%rax,8) */
		const uint8_t t[] = { 0xff, 0x14, 0xc5, 0x00, 0x00, 0x00, 0x82 };
		put(m, va, t, sizeof(t));
		va += sizeof(t);
	} else {
		call(m, va, BASE + 0x2000);
		va += 5;
	}
	const uint8_t st4[] = { 0x48, 0x89, 0x43, 0x50 }, nop4[] = { 0x0f, 0x1f, 0x40, 0x00 };
	put(m, va, store ? st4 : nop4, 4);
	va += 4;
	const uint8_t mv[] = { 0x48, 0x89, 0xdf };
	put(m, va, mv, 3);
	va += 3;
	call(m, va, BASE + 0x3000);
	const uint8_t ep[] = { 0x5b, 0xc3 };
	put(m, va + 5, ep, 2);
}

static struct mem mem;
static void test_exit_site(void **s)
{
	struct keylogger_site_reader rd = { .ctx = &mem, .read = mem_read };
	uint64_t site = 0, dsc = 0;
	char why[96];
	build(&mem, false, true);
	assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x100, BASE + 0x2000, 0, &site, &dsc, why, sizeof(why)), 0);
	assert_int_equal(dsc, BASE + 0x1000);
	assert_int_equal(site, BASE + 0x1008 + 5 + 4 + 3);
	/* table dispatch (older kernels) */
	build(&mem, true, true);
	assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x100, 0, 0xffffffff82000000ull, &site, &dsc, why,
					   sizeof(why)), 0);
	assert_int_equal(site, BASE + 0x1008 + 7 + 4 + 3);
	/* without the result store the shape is not trusted */
	build(&mem, false, false);
	assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x100, BASE + 0x2000, 0, &site, &dsc, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "do_syscall_64"));
	/* wrong dispatcher, unreadable entry, missing inputs */
	build(&mem, false, true);
	assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x100, BASE + 0x2100, 0, &site, &dsc, why, sizeof(why)), -1);
	assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x10000, BASE + 0x2000, 0, &site, &dsc, why, sizeof(why)), -1);
	assert_int_equal(keylogger_find_exit_site(&rd, 0, BASE + 0x2000, 0, &site, &dsc, why, sizeof(why)), -1);
	assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x100, 0, 0, &site, &dsc, why, sizeof(why)), -1);
}

/* The 5.10 shape (issue 15 item 5): `mov table(,%rax,8),%rax; call __x86_indirect_thunk_rax;
 * mov %rax,0x50(%rbp); mov %rbp,%rdi; pop %rbp; jmp syscall_exit_to_user_mode`. @thunk: 0 the
 * retpoline as built, 1 `jmp *%rax` (alternatives: retpoline off), 2 `lfence; jmp *%rax`, 3 a
 * thunk for another register (`jmp *%rcx`). @pop: the frame is left before the jump. @exit_ret:
 * the jump's target is a `ret` (a return thunk, not the exit function). */
#define T510 (BASE + 0x2800)
#define X510 (BASE + 0x3000)
static void build510(struct mem *m, int thunk, bool pop, bool exit_ret)
{
	memset(m, 0, sizeof(*m));
	m->base = BASE;
	memset(m->b, 0xcc, sizeof(m->b));
	/* entry: swapgs; mov %rax,%rdi; mov %rsp,%rsi; call do_syscall_64; sysretq */
	const uint8_t e[] = { 0x0f, 0x01, 0xf8, 0x48, 0x89, 0xc7, 0x48, 0x89, 0xe6 };
	put(m, BASE + 0x100, e, sizeof(e));
	call(m, BASE + 0x109, BASE + 0x1000);
	const uint8_t sr[] = { 0x48, 0x0f, 0x07 };
	put(m, BASE + 0x10e, sr, 3);
	/* do_syscall_64(nr, regs): push %rbp; mov %rsi,%rbp; mov 0x82000000(,%rax,8),%rax */
	const uint8_t pro[] = { 0x55, 0x48, 0x89, 0xf5, 0x48, 0x8b, 0x04, 0xc5, 0x00, 0x00, 0x00, 0x82 };
	put(m, BASE + 0x1000, pro, sizeof(pro));
	uint64_t va = BASE + 0x1000 + sizeof(pro);
	call(m, va, T510);
	va += 5;
	const uint8_t st[] = { 0x48, 0x89, 0x45, 0x50, 0x48, 0x89, 0xef };   /* store; mov %rbp,%rdi */
	put(m, va, st, sizeof(st));
	va += sizeof(st);
	if (pop) {
		const uint8_t p = 0x5d;
		put(m, va++, &p, 1);
	}
	int32_t rel = (int32_t)(X510 - (va + 5));
	uint8_t j[5] = { 0xe9 };
	memcpy(j + 1, &rel, 4);
	put(m, va, j, 5);
	/* the thunk */
	static const uint8_t retp[] = { 0xe8, 0x07, 0x00, 0x00, 0x00, 0xf3, 0x90, 0x0f, 0xae, 0xe8, 0xeb, 0xf9,
					0x48, 0x89, 0x04, 0x24, 0xc3 };
	static const uint8_t jrax[] = { 0xff, 0xe0 }, lfj[] = { 0x0f, 0xae, 0xe8, 0xff, 0xe0 }, jrcx[] = { 0xff, 0xe1 };
	const uint8_t *tb[] = { retp, jrax, lfj, jrcx };
	const size_t tn[] = { sizeof(retp), sizeof(jrax), sizeof(lfj), sizeof(jrcx) };
	put(m, T510, tb[thunk], tn[thunk]);
	/* the exit function: push %rbp; ...; ret — or a bare ret */
	const uint8_t xf[] = { 0x55, 0x5d, 0xc3 }, xr[] = { 0xc3 };
	put(m, X510, exit_ret ? xr : xf, exit_ret ? 1 : 3);
}

static void test_exit_site_510(void **s)
{
	struct keylogger_site_reader rd = { .ctx = &mem, .read = mem_read };
	struct keylogger_exit ex;
	char why[96];
	const uint64_t tab = 0xffffffff82000000ull, jmp_va = BASE + 0x1000 + 12 + 5 + 7 + 1;
	for (int thunk = 0; thunk < 3; thunk++) {
		build510(&mem, thunk, true, false);
		assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, 0, tab, &ex, why, sizeof(why)), 0);
		assert_int_equal(ex.dsc, BASE + 0x1000);
		assert_int_equal(ex.site, jmp_va);
		assert_true(ex.tail);
		assert_int_equal(ex.exit_fn, X510);
		assert_int_equal(ex.ret64, BASE + 0x109 + 5);   /* after the entry's call to do_syscall_64 */
		/* the old interface gives the same site */
		uint64_t site = 0, dsc = 0;
		assert_int_equal(keylogger_find_exit_site(&rd, BASE + 0x100, 0, tab, &site, &dsc, why, sizeof(why)), 0);
		assert_int_equal(site, jmp_va);
	}
	/* a thunk for another register than the one loaded from the table: not the dispatch */
	build510(&mem, 3, true, false);
	assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, 0, tab, &ex, why, sizeof(why)), -1);
	/* another table: not the dispatch either */
	build510(&mem, 0, true, false);
	assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, 0, tab + 8, &ex, why, sizeof(why)), -1);
	/* the frame not left (a jump inside the function, not a tail call) */
	build510(&mem, 0, false, false);
	assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, 0, tab, &ex, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "do_syscall_64"));
	/* a jump to a `ret` (a return thunk) is a return, not the exit function */
	build510(&mem, 0, true, true);
	assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, 0, tab, &ex, why, sizeof(why)), -1);
	/* the 6.x shape through the new interface: a call, ret64 right after it */
	build(&mem, false, true);
	assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, BASE + 0x2000, 0, &ex, why, sizeof(why)), 0);
	assert_false(ex.tail);
	assert_int_equal(ex.exit_fn, BASE + 0x3000);
	assert_int_equal(ex.ret64, ex.site + 5);
	assert_int_equal(keylogger_find_exit(&rd, BASE + 0x100, BASE + 0x2000, 0, NULL, why, sizeof(why)), -1);
}

/* ---- io-wq kernel threads (issue 15 item 5 B): the owner of the borrowed mm ---- */
#define KT_BASE 0xffff888000000000ull
#define KT_SZ   0x400                       /* one fake task_struct */
#define KT_N    8
struct ktmem { uint8_t b[KT_N * KT_SZ]; bool bad[KT_N]; };
static int kt_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	struct ktmem *m = ctx;
	if (va < KT_BASE || va + len > KT_BASE + sizeof(m->b) || m->bad[(va - KT_BASE) / KT_SZ])
		return -1;
	memcpy(buf, m->b + (va - KT_BASE), len);
	return 0;
}
static const struct keylogger_task_layout ktl = { KT_BASE, 0x10, 0x20, 0x30, 0x34, 0x38 };
static uint64_t kt_task(int i) { return KT_BASE + (uint64_t)i * KT_SZ; }
/* task i: pid, tgid, real parent j, mm; linked in order 0 -> 1 -> ... -> n-1 -> 0 */
static void kt_set(struct ktmem *m, int i, int32_t pid, int32_t tgid, int parent, uint64_t mm)
{
	uint8_t *t = m->b + i * KT_SZ;
	uint64_t par = kt_task(parent);
	memcpy(t + ktl.pid, &pid, 4);
	memcpy(t + ktl.tgid, &tgid, 4);
	memcpy(t + ktl.real_parent, &par, 8);
	memcpy(t + ktl.mm, &mm, 8);
}
static void kt_link(struct ktmem *m, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t next = kt_task((i + 1) % n) + ktl.tasks;
		memcpy(m->b + i * KT_SZ + ktl.tasks, &next, 8);
	}
}
static struct ktmem ktm;
static void kt_build(void)
{
	memset(&ktm, 0, sizeof(ktm));
	const uint64_t MM = 0xffff888100000000ull;
	kt_set(&ktm, 0, 0, 0, 0, 0);          /* init_task (swapper) */
	kt_set(&ktm, 1, 1, 1, 0, MM + 0x1000); /* init */
	kt_set(&ktm, 2, 2, 2, 0, 0);          /* kthreadd */
	kt_set(&ktm, 3, 150, 150, 1, MM);     /* the submitting process (a child of init) */
	kt_set(&ktm, 4, 151, 151, 2, MM);     /* io_wqe_worker-0: a kthread borrowing its mm */
	kt_set(&ktm, 5, 152, 152, 2, MM);     /* io_wqe_worker-1, borrowing it too */
	kt_set(&ktm, 6, 160, 160, 3, MM + 0x2000);   /* another process */
	kt_link(&ktm, 7);
}

static void test_mm_owner(void **s)
{
	struct keylogger_site_reader rd = { .ctx = &ktm, .read = kt_read };
	const uint64_t MM = 0xffff888100000000ull;
	struct keylogger_owner o;
	uint64_t mm;
	kt_build();
	/* the worker is a kernel thread with an mm; the process and init are not kernel threads */
	assert_int_equal(keylogger_kthread_reader(&rd, &ktl, kt_task(4), &mm), 1);
	assert_int_equal(mm, MM);
	assert_int_equal(keylogger_kthread_reader(&rd, &ktl, kt_task(3), &mm), 0);
	assert_int_equal(keylogger_kthread_reader(&rd, &ktl, kt_task(2), &mm), 0);   /* kthreadd: no mm */
	/* the owner: the process (not the other worker that borrows the same mm) */
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, MM, kt_task(4), &o), 0);
	assert_int_equal(o.task, kt_task(3));
	assert_int_equal(o.tgid, 150);
	assert_int_equal(o.steps, 7);
	/* no process with that mm (it exited): none */
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, MM + 0x5000, kt_task(4), &o), -1);
	/* two processes share it (CLONE_VM without CLONE_THREAD): ambiguous, none */
	kt_set(&ktm, 6, 160, 160, 3, MM);
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, MM, kt_task(4), &o), -1);
	assert_true(o.ambiguous);
	/* an unreadable entry: none (trust nothing found so far) */
	kt_build();
	ktm.bad[5] = true;
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, MM, kt_task(4), &o), -1);
	/* a list that loops without returning to init_task (hostile): bounded, none */
	kt_build();
	uint64_t loop = kt_task(3) + ktl.tasks;
	memcpy(ktm.b + 6 * KT_SZ + ktl.tasks, &loop, 8);      /* 6 -> 3 -> 4 -> 5 -> 6 -> ... */
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, MM, kt_task(4), &o), -1);
	assert_int_equal(o.steps, KEYLOGGER_OWNER_WALK);
	/* a user pointer in the list is not followed */
	kt_build();
	uint64_t user = 0x00007fff00000000ull;
	memcpy(ktm.b + 2 * KT_SZ + ktl.tasks, &user, 8);
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, MM, kt_task(4), &o), -1);
	assert_int_equal(keylogger_mm_owner(&rd, &ktl, 0, kt_task(4), &o), -1);
}

/* ---- the tty copy point (issue 15 item 5 gaps A, B; synthetic code assembled with GNU as) ---- */
/* A: tty/file in callee-saved registers (r13/r14, as 5.10's tty_read), the ldisc read indirect;
 * a __check_object_size-like call (RDX an immediate) before the copy */
static const uint8_t tty_a[] = {
	0x41,0x56,0x41,0x55,0x53,0x48,0x83,0xec,0x48,0x49,0x89,0xfd,0x49,0x89,0xf6,0x48,0x8d,0x5c,0x24,0x08,
	0xeb,0x1e,0xba,0x01,0x00,0x00,0x00,0x48,0x89,0xdf,0xe8,0x2b,0x00,0x00,0x00,0x48,0x8b,0x54,0x24,0x40,
	0x48,0x8b,0x34,0x24,0x48,0x89,0xdf,0xe8,0x1b,0x00,0x00,0x00,0x48,0x89,0xda,0x4c,0x89,0xf6,0x4c,0x89,
	0xef,0xff,0xd0,0x85,0xc0,0x7f,0xd3,0x48,0x83,0xc4,0x48,0x5b,0x41,0x5d,0x41,0x5e,0xc3,0xcc,0xc3,0xc3 };
/* B: endbr64, tty/file in frame slots 0x18/0x10 (as 6.1), the ldisc read through a thunk (a call rel32) */
static const uint8_t tty_b[] = {
	0xf3,0x0f,0x1e,0xfa,0x53,0x48,0x83,0xec,0x78,0x48,0x89,0x7c,0x24,0x18,0x48,0x89,0x74,0x24,0x10,0x48,
	0x8d,0x5c,0x24,0x30,0xeb,0x11,0x48,0x8b,0x54,0x24,0x08,0x48,0x8b,0x34,0x24,0x48,0x89,0xdf,0xe8,0x23,
	0x00,0x00,0x00,0x48,0x8b,0x74,0x24,0x10,0x48,0x8b,0x7c,0x24,0x18,0x48,0x89,0xda,0x48,0x8b,0x40,0x28,
	0xe8,0x0b,0x00,0x00,0x00,0x85,0xc0,0x7f,0xd5,0x48,0x83,0xc4,0x78,0x5b,0xc3,0xcc,0xff,0xe0,0xc3 };
/* C: B without endbr64, the tty slot rewritten (mov %rax,0x18(%rsp)) between the copy and the ldisc call */
static const uint8_t tty_c[] = {
	0x53,0x48,0x83,0xec,0x78,0x48,0x89,0x7c,0x24,0x18,0x48,0x89,0x74,0x24,0x10,0x48,0x8d,0x5c,0x24,0x30,
	0xeb,0x16,0x48,0x8b,0x54,0x24,0x08,0x48,0x8b,0x34,0x24,0x48,0x89,0xdf,0xe8,0x24,0x00,0x00,0x00,0x48,
	0x89,0x44,0x24,0x18,0x48,0x8b,0x74,0x24,0x10,0x48,0x8b,0x7c,0x24,0x18,0x48,0x89,0xda,0xe8,0x0b,0x00,
	0x00,0x00,0x85,0xc0,0x7f,0xd4,0x48,0x83,0xc4,0x78,0x5b,0xc3,0xcc,0xff,0xe0,0xc3 };

static int tty_find(const uint8_t *code, size_t n, struct keylogger_tty_site *ts)
{
	struct keylogger_site_reader rd = { .ctx = &mem, .read = mem_read };
	char why[96];
	memset(&mem, 0, sizeof(mem));
	mem.base = BASE;
	memset(mem.b, 0xcc, sizeof(mem.b));
	put(&mem, BASE + 0x100, code, n);
	memset(ts, 0, sizeof(*ts));
	return keylogger_find_tty_copy(&rd, BASE + 0x100, ts, why, sizeof(why));
}

static void test_tty_copy_site(void **s)
{
	struct keylogger_tty_site ts;
	assert_int_equal(tty_find(tty_a, sizeof(tty_a), &ts), 0);
	assert_int_equal(ts.site, BASE + 0x100 + 0x2f);          /* the copy, not the check at 0x1e */
	assert_int_equal(ts.ldisc_call, BASE + 0x100 + 0x3d);
	assert_int_equal(ts.tty.kind, KEYLOGGER_LOC_REG);
	assert_int_equal(ts.tty.reg, 13);
	assert_int_equal(ts.file.kind, KEYLOGGER_LOC_REG);
	assert_int_equal(ts.file.reg, 14);
	assert_int_equal(tty_find(tty_b, sizeof(tty_b), &ts), 0);
	assert_int_equal(ts.site, BASE + 0x100 + 0x26);
	assert_int_equal(ts.ldisc_call, BASE + 0x100 + 0x3c);
	assert_int_equal(ts.tty.kind, KEYLOGGER_LOC_STACK);
	assert_int_equal(ts.tty.disp, 0x18);
	assert_int_equal(ts.file.kind, KEYLOGGER_LOC_STACK);
	assert_int_equal(ts.file.disp, 0x10);
	/* the tty's slot is rewritten between the two calls: where the tty is at the copy is unknown */
	assert_int_equal(tty_find(tty_c, sizeof(tty_c), &ts), -1);
	/* no code, no address, no pair */
	struct keylogger_site_reader rd = { .ctx = &mem, .read = mem_read };
	assert_int_equal(keylogger_find_tty_copy(&rd, 0, &ts, NULL, 0), -1);
	assert_int_equal(keylogger_find_tty_copy(&rd, BASE + 0x10000, &ts, NULL, 0), -1);
	assert_int_equal(tty_find(tty_a, 0x2f, &ts), -1);         /* cut before the copy call */
}

/* issue 15 item 5 gap A: tty chunks at the kernel's copy; each keystroke counted once per reader */
static void test_consume_tty_copy(void **s)
{
	const uint8_t line[] = "ls\n";
	/* without the flag, the read's return would match the SECOND "ls\n" typed meanwhile (the
	 * cursor is past the first): the reason tty bytes are not matched at the return */
	init(3);
	key(0x26, 1); key(0x1f, 2); key(0x1c, 3); key(0x26, 4); key(0x1f, 5); key(0x1c, 6);   /* ls Enter, twice */
	assert_int_equal(keylogger_consume_tty(&st, 5, 5, 0x50, "sh", line, 3, KEYLOGGER_TERM_FG, 7).matched, 3);
	assert_int_equal(keylogger_consume_rec(&st, 5, 5, 0x50, "sh", line, 3, 3, 24, KEYLOGGER_TERM_FG, 8).matched, 3);
	init(3);
	st.tty_at_copy = true;
	key(0x26, 1); key(0x1f, 2); key(0x1c, 3); key(0x26, 4); key(0x1f, 5); key(0x1c, 6);
	/* the foreground of the active console: allowed, noted at K */
	struct keylogger_verdict v = keylogger_consume_tty(&st, 5, 5, 0x50, "sh", line, 3, KEYLOGGER_TERM_FG, 7);
	assert_int_equal(v.dev, KEYLOGGER_DEV_TTY);
	assert_int_equal(v.matched, 3);
	assert_false(v.report);
	assert_true(v.allowed_at_k);
	/* its read's return: not matched again (the copy point counted it) */
	v = keylogger_consume_rec(&st, 5, 5, 0x50, "sh", line, 3, 3, 24, KEYLOGGER_TERM_FG, 8);
	assert_int_equal(v.dev, KEYLOGGER_DEV_NONE);
	assert_int_equal(v.matched, 0);
	assert_int_equal(st.procs[0].count, 3);
	/* ... its next read's copy takes the second line */
	assert_int_equal(keylogger_consume_tty(&st, 5, 5, 0x50, "sh", line, 3, KEYLOGGER_TERM_FG, 9).matched, 3);
	assert_int_equal(st.procs[0].count, 6);
	/* an io_uring worker of another process, not the terminal's foreground: reported at K */
	v = keylogger_consume_tty(&st, 71, 7, 0x70, "iou-wrk-7", line, 2, KEYLOGGER_TERM_OTHER, 6);
	assert_int_equal(v.matched, 2);
	assert_false(v.report);
	v = keylogger_consume_tty(&st, 71, 7, 0x70, "iou-wrk-7", line + 2, 1, KEYLOGGER_TERM_OTHER, 7);
	assert_int_equal(v.matched, 1);
	assert_true(v.report);
	assert_int_equal(v.proc->report_dev, KEYLOGGER_DEV_TTY);
	assert_int_equal(v.proc->report_term, KEYLOGGER_TERM_OTHER);
	/* the same chunk again takes the second line; once more, nothing is left; bytes that were
	 * not typed: nothing */
	assert_int_equal(keylogger_consume_tty(&st, 71, 7, 0x70, "x", line, 3, KEYLOGGER_TERM_OTHER, 8).matched, 3);
	assert_int_equal(keylogger_consume_tty(&st, 71, 7, 0x70, "x", line, 3, KEYLOGGER_TERM_OTHER, 8).dev,
			 KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_consume_tty(&st, 9, 9, 0x90, "x", (const uint8_t *)"xyz", 3, KEYLOGGER_TERM_OTHER,
					       9).dev, KEYLOGGER_DEV_NONE);
	assert_int_equal(keylogger_consume_tty(&st, 9, 9, 0x90, "x", line, 0, KEYLOGGER_TERM_OTHER, 9).dev,
			 KEYLOGGER_DEV_NONE);
	assert_int_equal(st.tty_chunks, 8);
	assert_int_equal(st.tty_chunks_keys, 5);
	/* before any keystroke */
	init(3);
	assert_int_equal(keylogger_consume_tty(&st, 9, 9, 0x90, "x", line, 3, KEYLOGGER_TERM_OTHER, 1).dev,
			 KEYLOGGER_DEV_NONE);
}

/* issue 15 item 5 gap B: the tty read must be the reader's own terminal */
static void test_judge_opened(void **s)
{
	assert_int_equal(keylogger_judge_opened(KEYLOGGER_TERM_FG, 0x100, 0x100), KEYLOGGER_TERM_FG);
	assert_int_equal(keylogger_judge_opened(KEYLOGGER_TERM_FG, 0x200, 0x100), KEYLOGGER_TERM_OTHER);
	assert_int_equal(keylogger_judge_opened(KEYLOGGER_TERM_FG, 0, 0x100), KEYLOGGER_TERM_FG);   /* unknown */
	assert_int_equal(keylogger_judge_opened(KEYLOGGER_TERM_OTHER, 0x100, 0x100), KEYLOGGER_TERM_OTHER);
	assert_int_equal(keylogger_judge_opened(KEYLOGGER_TERM_UNKNOWN, 0x200, 0x100), KEYLOGGER_TERM_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scancode_make_break),
		cmocka_unit_test(test_scancode_e0),
		cmocka_unit_test(test_scancode_pause),
		cmocka_unit_test(test_feed_filters),
		cmocka_unit_test(test_feed_command_replies),
		cmocka_unit_test(test_feed_controller_commands),
		cmocka_unit_test(test_ascii_shift),
		cmocka_unit_test(test_classify_input),
		cmocka_unit_test(test_consume_k_threshold_once),
		cmocka_unit_test(test_consume_dedup_and_unmatched),
		cmocka_unit_test(test_consume_who_not_name),
		cmocka_unit_test(test_vt_name),
		cmocka_unit_test(test_judge_term),
		cmocka_unit_test(test_tty_copy_site),
		cmocka_unit_test(test_consume_tty_copy),
		cmocka_unit_test(test_judge_opened),
		cmocka_unit_test(test_consume_event),
		cmocka_unit_test(test_report_terminal_unknown),
		cmocka_unit_test(test_consume_compat_records),
		cmocka_unit_test(test_consume_port),
		cmocka_unit_test(test_read_call),
		cmocka_unit_test(test_iov_gather),
		cmocka_unit_test(test_lagging),
		cmocka_unit_test(test_consume_tty),
		cmocka_unit_test(test_consume_bounds),
		cmocka_unit_test(test_exit_site),
		cmocka_unit_test(test_exit_site_510),
		cmocka_unit_test(test_mm_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
