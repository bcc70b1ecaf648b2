/* libFuzzer target: the keylogger detector's pure logic (monitors/keylogger_core.c) on hostile
 * input — an i8042 byte stream (status + data), keyboard commands, read buffers of any shape from
 * many processes — and the keylogger_allow= option feeding the allow list (vmm/options.c).
 * Issue 15: compat (16-byte) records, raw port consumption, the read-call decoder (pt_regs
 * words of any value, both ABIs), the iovec gatherer, the lagging-reader count, the reader's
 * terminal (any of the three answers per read) and the console-name check; controller
 * commands on port 0x64, readers that rename themselves or share a pid, evdev events at the
 * kernel's copy point and the active-console judgement (issue 15).
 * Invariants: counters consistent, one report per tracked process, table bounds, names terminated. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "monitors/keylogger.h"
#include "vmm/options.h"

static struct keylogger_state st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* 1. the allow list from a keylogger_allow= word built from the input */
	struct hv_options o;
	char word[600] = "keylogger_allow=";
	size_t wl = data[0] % 96, n0 = strlen(word);
	if (wl > size - 1)
		wl = size - 1;
	memcpy(word + n0, data + 1, wl);
	word[n0 + wl] = 0;
	const struct hv_opt_owner *own[1] = { &keylogger_options };
	hv_options_defaults(&o);
	if (hv_options_set_owners(&o, own, 1))
		abort();
	hv_options_parse(word, sizeof(word), &o, NULL);
	const struct keylogger_config *cfg = hv_options_config(&o, 0);
	if (cfg->nr_allow > KEYLOGGER_MAX_ALLOW)
		abort();
	for (uint32_t i = 0; i < cfg->nr_allow; i++)
		if (!cfg->allow[i][0] || strnlen(cfg->allow[i], HV_OPT_COMM_MAX) >= HV_OPT_COMM_MAX)
			abort();
	keylogger_init(&st, 1 + data[1] % 12, (const char (*)[KEYLOGGER_COMM_LEN])cfg->allow, cfg->nr_allow);
	data += 1 + wl;
	size -= 1 + wl;

	/* 2. an event stream: op byte, then operands */
	uint64_t tsc = 0, reports = 0;
	size_t i = 0;
	while (i + 2 <= size) {
		uint8_t op = data[i++];
		tsc += 1 + (op >> 4);
		switch (op & 3) {
		case 0:                    /* IN al,0x60 with a status byte */
			keylogger_feed_byte(&st, data[i], data[i + 1 < size ? i + 1 : i], tsc, NULL);
			i += 2;
			break;
		case 1:                    /* OUT to 0x60 (a status byte first) or, with bit 7, to 0x64 */
			if (op & 0x80)
				keylogger_feed_cmd(&st, data[i++], tsc, 8);
			else if (op & 0x40)
				keylogger_feed_out(&st, data[i++], tsc, 8);
			else {
				keylogger_feed_data_out(&st, data[i], data[i + 1 < size ? i + 1 : i], tsc, 8);
				i += 2;
			}
			break;
		case 2:
			if ((op & 0xc0) == 0x40 && i + 5 <= size) {   /* an evdev event at the kernel's copy */
				int32_t tgid = 100 + (op >> 2) % 16;
				uint16_t code = (uint16_t)(data[i] | data[i + 1] << 8);
				int32_t value = (int8_t)data[i + 2];
				st.input_at_copy = data[i + 3] & 1;
				struct keylogger_verdict v = keylogger_consume_event(&st, tgid + 1000, tgid, data[i + 3] >> 6,
					"iou-wrk", data[i + 4] & 3, code, value,
					(enum keylogger_term)(data[i + 3] >> 1 & 1 ? 1 : 2), tsc);
				if (v.matched > 1 || (v.matched && !v.proc))
					abort();
				if (v.report) {
					if (!v.proc || keylogger_proc_allowed(v.proc) || v.proc->count < st.k)
						abort();
					reports++;
				}
				i += 5;
				break;
			}
			if (op & 0x80) {   /* a raw port read of a recent keystroke */
				int32_t tgid = 100 + (op >> 2) % 80;
				uint64_t seq = st.next_seq > data[i] ? st.next_seq - data[i] : 0;
				struct keylogger_verdict v = keylogger_consume_port(&st, tgid, tgid, op & 0x40, "klraw", seq,
												    (enum keylogger_term)(op & 0x20 ? 2 : 0), tsc);
				if (v.report) {
					if (!v.proc || keylogger_proc_allowed(v.proc) || v.proc->count < st.k)
						abort();
					reports++;
				}
				i++;
				break;
			}
			/* fall through */
		default: {                 /* a read of len bytes by one of 80 processes */
			size_t len = data[i++] * 3u;
			if (len > size - i)
				len = size - i;
			int32_t tgid = 100 + (op >> 2) % 80;
			const char *comm = (op & 0x40) ? "sh" : "klfuzz";
			size_t rec = (op & 0x20) ? KEYLOGGER_INPUT_EVENT_SIZE32 : KEYLOGGER_INPUT_EVENT_SIZE;
			enum keylogger_term term = (enum keylogger_term)((op >> 3) % 3);
			/* identities: a reader renames itself (comm) or a pid is reused (ident) */
			struct keylogger_verdict v = keylogger_consume_rec(&st, tgid, tgid, op >> 7, comm, data + i, len,
							 len + (op & 0x80 ? rec : 0), rec, term, tsc);
			if (v.matched && term != KEYLOGGER_TERM_FG && keylogger_proc_allowed(v.proc))
				abort();   /* a read outside the foreground never leaves its reader allowed */
			if (v.report) {
				if (!v.proc || keylogger_proc_allowed(v.proc) || v.proc->count < st.k || !v.proc->reported)
					abort();
				reports++;
			}
			if (v.matched && !v.proc)
				abort();
			st.tty_at_copy = (op & 0x18) == 0x18;   /* with the copy point, not matched at the return next time */
			if (op & 0x10) {   /* the same bytes as a tty chunk at the kernel's copy (issue 15 gap A) */
				uint64_t before = st.consumed;
				v = keylogger_consume_tty(&st, tgid, tgid, op >> 7, comm, data + i, len < 64 ? len : 64, term, tsc);
				if ((v.matched && (!v.proc || v.dev != KEYLOGGER_DEV_TTY)) || st.consumed != before + v.matched ||
				    (v.matched && term != KEYLOGGER_TERM_FG && keylogger_proc_allowed(v.proc)))
					abort();
				if (v.report) {
					if (keylogger_proc_allowed(v.proc) || v.proc->count < st.k || !v.proc->reported)
						abort();
					reports++;
				}
			}
			i += len;
			break;
		}
		}
	}
	/* the decoders on the raw input: any pt_regs words, any iovec bytes */
	if (size >= 13 * 8) {
		uint64_t pr[13];
		struct keylogger_read_args a;
		memcpy(pr, data, sizeof(pr));
		for (int c = 0; c < 2; c++)
			if (keylogger_read_call(pr, c, &a) &&
			    ((a.rec != 16 && a.rec != 24) || (a.iov32 && !a.iov && !c) || (c && a.ptr >> 32)))
				abort();
		struct keylogger_span sp[8];
		uint64_t total = pr[0] & 0xffff, sum = 0;
		size_t ns = keylogger_iov_gather(data, size / 16 < 8 ? size / 16 : 8, data[0] & 1, total, sp, 8);
		for (size_t k = 0; k < ns; k++) {
			if (!sp[k].len)
				abort();
			sum += sp[k].len;
		}
		if (ns > 8 || sum > total)
			abort();
	}
	if (keylogger_lagging(&st, tsc, tsc) > KEYLOGGER_MAX_PROCS)
		abort();
	if (size >= 8) {
		(void)keylogger_vt_name((const char *)data, 8);
		enum keylogger_term t = keylogger_judge_term(data[0], data[1], data[2], (const char *)data, 8,
							     (int8_t)data[3]);
		if (t == KEYLOGGER_TERM_FG && (!data[0] || !data[1] || data[1] != data[2] ||
					       !keylogger_vt_number((const char *)data, 8)))
			abort();
	}
	if (st.reports != reports || st.makes > st.kbd_bytes || st.kbd_bytes > st.bytes ||
	    st.next_seq != st.makes + 1 || keylogger_unconsumed(&st, 0) > KEYLOGGER_HIST)
		abort();
	if (st.ctrl_pending > 1 || (st.ctrl_loop && st.ctrl_loop != 0xd2 && st.ctrl_loop != 0xd3))
		abort();                   /* at most one controller reply expected per command */
	for (size_t p = 0; p < KEYLOGGER_MAX_PROCS; p++) {
		const struct keylogger_proc *q = &st.procs[p];
		if (!q->used)
			continue;
		for (size_t r = p + 1; r < KEYLOGGER_MAX_PROCS; r++)
			if (st.procs[r].used && st.procs[r].tgid == q->tgid && st.procs[r].ident == q->ident)
				abort();   /* one entry per reader, whatever names it took */
		if (q->comm[KEYLOGGER_COMM_LEN - 1] || (q->reported && keylogger_proc_allowed(q)) || q->report_term > 2 ||
		    q->by_dev[KEYLOGGER_DEV_INPUT] + q->by_dev[KEYLOGGER_DEV_TTY] + q->by_dev[KEYLOGGER_DEV_PORT] != q->count ||
		    q->cursor[KEYLOGGER_DEV_PORT] >= st.next_seq ||
		    q->cursor[KEYLOGGER_DEV_INPUT] >= st.next_seq || q->cursor[KEYLOGGER_DEV_TTY] >= st.next_seq)
			abort();
	}
	return 0;
}
