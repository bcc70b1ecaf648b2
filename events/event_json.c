/*
 * hvmon event core — JSON formatting and the console sink.
 *
 * One JSON object per line, beginning `{"event":`. Every string that can come
 * from the guest is hostile: it is escaped so the line stays one valid JSON
 * object whatever the bytes are — `"` `\` and control bytes as JSON escapes,
 * bytes >= 0x7f as \u00XX (the byte's value; guest strings are bytes, not
 * necessarily UTF-8). Strings are additionally bounded by their field size.
 */
#include "events/event.h"

struct jbuf {
	char *p;
	size_t len, size;
	bool overflow;
};

static void put(struct jbuf *b, char c)
{
	if (b->len + 1 < b->size)
		b->p[b->len++] = c;
	else
		b->overflow = true;
}

static void puts_raw(struct jbuf *b, const char *s)
{
	while (*s)
		put(b, *s++);
}

static const char hexd[] = "0123456789abcdef";

/* Escaped string from a bounded buffer (stops at NUL or n). */
static void put_str(struct jbuf *b, const char *s, size_t n)
{
	put(b, '"');
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  put(b, '\\'); put(b, '"'); break;
		case '\\': put(b, '\\'); put(b, '\\'); break;
		case '\n': put(b, '\\'); put(b, 'n'); break;
		case '\r': put(b, '\\'); put(b, 'r'); break;
		case '\t': put(b, '\\'); put(b, 't'); break;
		default:
			if (c < 0x20 || c >= 0x7f) {
				puts_raw(b, "\\u00");
				put(b, hexd[c >> 4]);
				put(b, hexd[c & 15]);
			} else {
				put(b, (char)c);
			}
		}
	}
	put(b, '"');
}

static void put_u64(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put(b, tmp[--n]);
}

static void put_i64(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		put(b, '-');
		put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(b, (uint64_t)v);
	}
}

/* Addresses as "0x..." strings: JSON numbers lose precision above 2^53. */
static void put_hex(struct jbuf *b, uint64_t v)
{
	char tmp[16];
	int n = 0;

	put(b, '"'); put(b, '0'); put(b, 'x');
	do {
		tmp[n++] = hexd[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		put(b, tmp[--n]);
	put(b, '"');
}

static void key(struct jbuf *b, const char *k)
{
	put(b, ',');
	put(b, '"');
	puts_raw(b, k);
	put(b, '"');
	put(b, ':');
}

#define KU(k, v)  do { key(b, k); put_u64(b, (v)); } while (0)
#define KI(k, v)  do { key(b, k); put_i64(b, (v)); } while (0)
#define KX(k, v)  do { key(b, k); put_hex(b, (v)); } while (0)
#define KS(k, s)  do { key(b, k); put_str(b, (s), sizeof(s)); } while (0)
#define KB(k, v)  do { key(b, k); puts_raw(b, (v) ? "true" : "false"); } while (0)

static const char *const fork_kinds[] = { "process", "thread" };
static const char *const r2u_how[] = { "exec", "data", "stack_pivot", "other" };

/* Appended (issue 15) to exec, fork and exit: absent when the sender did not
 * tell (HV_ABI_NONE: older senders). */
static void abi(struct jbuf *b, uint8_t a, int32_t sc)
{
	const char *n = hv_abi_name(a);
	if (!n)
		return;
	key(b, "abi");
	put_str(b, n, 8);
	KI("syscall", sc);
}

static void body(struct jbuf *b, const struct hv_event *ev)
{
	const struct hv_ev_exec *x = &ev->u.exec;

	switch (ev->hdr.type) {
	case HV_EV_EXEC: {
		unsigned off = 0, n = 0;

		KI("ppid", x->ppid);
		KU("uid", x->uid);
		KS("filename", x->filename);
		key(b, "argv");
		put(b, '[');
		while (n < x->argc && n < HV_ARGV_MAX && off < x->argv_len &&
		       off < HV_ARGV_BYTES) {
			if (n)
				put(b, ',');
			put_str(b, &x->argv[off], HV_ARGV_BYTES - off);
			while (off < HV_ARGV_BYTES && x->argv[off])
				off++;
			off++;
			n++;
		}
		put(b, ']');
		KB("ok", x->flags & HV_EXECF_OK);
		KI("err", x->err);
		if (x->flags & HV_EXECF_ARGV_TRUNC)
			KB("argv_truncated", 1);
		if (x->flags & HV_EXECF_PATH_TRUNC)
			KB("filename_truncated", 1);
		if (x->flags & HV_EXECF_READ_FAIL)
			KB("read_failed", 1);
		abi(b, x->abi, x->syscall);
		break;
	}
	case HV_EV_FORK:
		KI("parent_pid", ev->u.fork.parent_pid);
		KI("child_pid", ev->u.fork.child_pid);
		key(b, "kind");
		put_str(b, fork_kinds[ev->u.fork.kind & 1], 16);
		KX("clone_flags", ev->u.fork.clone_flags);
		abi(b, ev->u.fork.abi, ev->u.fork.syscall);
		break;
	case HV_EV_EXIT:
		KI("code", ev->u.exit.code);
		KI("signal", ev->u.exit.signal);
		KI("status", ev->u.exit.status);
		if (ev->u.exit.flags & HV_EXITF_CORE)
			KB("core_dumped", 1);
		if (ev->u.exit.flags & HV_EXITF_KTHREAD)
			KB("kthread", 1);
		abi(b, ev->u.exit.abi, ev->u.exit.syscall);
		break;
	case HV_EV_HANG:
	case HV_EV_HANG_RECOVERED:
		KS("kind", ev->u.hang.kind);
		KU("vcpu", ev->u.hang.vcpu);
		KU("seconds", ev->u.hang.seconds);
		KX("rip", ev->u.hang.rip);
		if (ev->u.hang.scope == 1 || ev->u.hang.scope == 2) {   /* appended (issue 11) */
			key(b, "scope");
			put_str(b, ev->u.hang.scope == 1 ? "partial" : "machine", 8);
			KU("cpus_hung", ev->u.hang.cpus_hung);
		}
		break;
	case HV_EV_RET2USR:
		KX("rip", ev->u.ret2usr.rip);
		KX("user_addr", ev->u.ret2usr.user_addr);
		key(b, "how");
		put_str(b, r2u_how[ev->u.ret2usr.how < 4 ? ev->u.ret2usr.how : 3], 16);
		break;
	case HV_EV_CR4_TAMPER:
		KX("old_cr4", ev->u.cr4.old_cr4);
		KX("new_cr4", ev->u.cr4.new_cr4);
		KX("rip", ev->u.cr4.rip);
		KB("blocked", ev->u.cr4.blocked);
		break;
	case HV_EV_KEYLOGGER:
		KS("device", ev->u.keylogger.device);
		KU("keystrokes", ev->u.keylogger.keystrokes);
		if (ev->u.keylogger.terminal >= HV_KL_TERM_FOREGROUND && ev->u.keylogger.terminal <= HV_KL_TERM_UNKNOWN) {
			static const char *const tn[3] = { "foreground", "other", "unknown" };   /* appended (issue 15) */
			key(b, "terminal");
			put_str(b, tn[ev->u.keylogger.terminal - 1], 11);
		}
		break;
	case HV_EV_HEARTBEAT:
		KU("uptime_ms", ev->u.heartbeat.uptime_ms);
		KU("events", ev->u.heartbeat.events);
		KU("drops", ev->u.heartbeat.drops);
		break;
	case HV_EV_DROPS:
		KU("ring_cpu", ev->u.drops.ring_cpu);
		KU("count", ev->u.drops.count);
		KU("total", ev->u.drops.total);
		break;
	case HV_EV_INFERENCE:
		KB("ok", ev->u.inference.ok);
		KS("kernel", ev->u.inference.kernel);
		KS("reason", ev->u.inference.reason);
		break;
	case HV_EV_MONITOR_STATE:
		key(b, "state");
		puts_raw(b, ev->u.monitor_state.enabled ? "\"on\"" : "\"off\"");
		KS("reason", ev->u.monitor_state.reason);
		break;
	case HV_EV_BOOT_CONFIG: {
		static const char *const mon[5] = { "tracer", "hang", "ret2usr", "keylogger", "integrity" };
		const struct hv_ev_boot_config *c = &ev->u.boot_config;
		char m[64];
		unsigned n = 0;
		for (int i = 0; i < 5; i++) {
			if (!(c->monitors & (1u << i)))
				continue;
			if (n)
				m[n++] = ',';
			for (const char *q = mon[i]; *q; q++)
				m[n++] = *q;
		}
		m[n] = 0;
		KS("monitors", m);
		key(b, "loader");
		puts_raw(b, c->loader == 1 ? "\"multiboot2\"" : c->loader == 2 ? "\"uefi\"" : "\"unknown\"");
		KS("hvmon_sha256", c->hvmon_sha256);
		KS("kernel_sha256", c->kernel_sha256);
		KS("initrd_sha256", c->initrd_sha256);
		KS("options_sha256", c->options_sha256);
		KS("options", c->options);
		break;
	}
	case HV_EV_DMA_FAULT: {
		static const char hx[] = "0123456789abcdef";
		unsigned s = ev->u.dma_fault.source;
		char bdf[8] = { hx[s >> 12], hx[(s >> 8) & 15], ':', hx[(s >> 7) & 1], hx[(s >> 3) & 15],
				'.', (char)('0' + (s & 7)), 0 };
		key(b, "source");
		put_str(b, bdf, sizeof(bdf));
		KX("address", ev->u.dma_fault.addr);
		key(b, "access");
		puts_raw(b, ev->u.dma_fault.write ? "\"write\"" : "\"read\"");
		KU("reason", ev->u.dma_fault.reason);
		KU("unit", ev->u.dma_fault.unit);
		KU("suppressed", ev->u.dma_fault.suppressed);
		break;
	}
	case HV_EV_DENIED:
		KS("what", ev->u.denied.what);
		KX("reg", ev->u.denied.reg);
		KX("value", ev->u.denied.value);
		KX("rip", ev->u.denied.rip);
		KU("count", ev->u.denied.count);
		break;
	case HV_EV_TRACE_LOST:
		KS("what", ev->u.trace_lost.what);
		KS("reason", ev->u.trace_lost.reason);
		KU("count", ev->u.trace_lost.count);
		KU("pending", ev->u.trace_lost.pending);
		break;
	case HV_EV_PROBE_TAMPER: {
		static const char hx[] = "0123456789abcdef";
		const struct hv_ev_probe_tamper *t = &ev->u.probe_tamper;
		char by[2 * HV_TAMPER_BYTES + 1];
		unsigned n = t->nbytes < HV_TAMPER_BYTES ? t->nbytes : HV_TAMPER_BYTES;
		for (unsigned i = 0; i < n; i++) {
			by[2 * i] = hx[t->bytes[i] >> 4];
			by[2 * i + 1] = hx[t->bytes[i] & 15];
		}
		by[2 * n] = 0;
		KS("what", t->what);
		KS("probe", t->probe);
		KX("va", t->va);
		KX("gpa", t->gpa);
		KX("new_gpa", t->new_gpa);
		KS("bytes", by);
		KX("rip", t->rip);
		KU("ms", t->ms);
		KU("new_mm", t->new_mm);
		KB("rearmed", t->rearmed);
		break;
	}
	case HV_EV_SYSCALL_HOOK:
		KS("what", ev->u.integrity.what);
		KX("msr", ev->u.integrity.reg);
		KX("old", ev->u.integrity.old_value);
		KX("new", ev->u.integrity.new_value);
		KX("rip", ev->u.integrity.rip);
		KB("blocked", ev->u.integrity.blocked);
		break;
	case HV_EV_CR0_WP:
		KX("old", ev->u.integrity.old_value);
		KX("new", ev->u.integrity.new_value);
		KX("rip", ev->u.integrity.rip);
		KB("blocked", ev->u.integrity.blocked);
		break;
	case HV_EV_IDT_WRITE:
		KS("what", ev->u.integrity.what);
		KX("old", ev->u.integrity.old_value);
		KX("new", ev->u.integrity.new_value);
		KU("limit", ev->u.integrity.reg);
		KX("rip", ev->u.integrity.rip);
		KB("blocked", ev->u.integrity.blocked);
		break;
	case HV_EV_KERNEL_TEXT_WRITE: {
		const struct hv_ev_text_write *t = &ev->u.text_write;
		static const char hx[] = "0123456789abcdef";
		char o[2 * HV_TEXTW_BYTES + 1], n[2 * HV_TEXTW_BYTES + 1];
		unsigned len = t->len <= HV_TEXTW_BYTES ? t->len : HV_TEXTW_BYTES;
		for (unsigned i = 0; i < len; i++) {
			o[2 * i] = hx[t->old_bytes[i] >> 4];
			o[2 * i + 1] = hx[t->old_bytes[i] & 15];
			n[2 * i] = hx[t->new_bytes[i] >> 4];
			n[2 * i + 1] = hx[t->new_bytes[i] & 15];
		}
		o[2 * len] = n[2 * len] = 0;
		KS("region", t->region);
		KS("severity", t->severity);
		KS("writer", t->writer);
		KX("va", t->va);
		KX("gpa", t->gpa);
		KX("rip", t->rip);
		KU("changed", t->changed);
		KS("old", o);
		KS("new", n);
		KB("reverted", t->reverted);             /* appended (issue 15) */
		break;
	}
	default:
		break;
	}
}

size_t hv_event_to_json(const struct hv_event *ev, const char *extra,
			char *buf, size_t size)
{
	struct jbuf jb = { .p = buf, .len = 0, .size = size, .overflow = false };
	struct jbuf *b = &jb;
	const char *name = hv_event_type_name(ev->hdr.type);
	const char *mon = hv_monitor_name(ev->hdr.monitor);

	if (!size)
		return 0;
	puts_raw(b, "{\"event\":");
	if (name) {
		put(b, '"');
		puts_raw(b, name);
		put(b, '"');
	} else {
		puts_raw(b, "\"unknown\"");
	}
	if (extra && *extra) {
		put(b, ',');
		puts_raw(b, extra);
	}
	KU("cpu", ev->hdr.cpu);
	KU("tsc", ev->hdr.tsc);
	key(b, "monitor");
	if (mon) {
		put(b, '"');
		puts_raw(b, mon);
		put(b, '"');
	} else {
		put_u64(b, ev->hdr.monitor);
	}
	if (!name)
		KU("type", ev->hdr.type);
	if (ev->hdr.flags & HV_EVF_TASK) {
		KI("pid", ev->hdr.pid);
		KI("tgid", ev->hdr.tgid);
		KS("comm", ev->hdr.comm);
	}
	body(b, ev);
	put(b, '}');
	put(b, '\n');
	buf[b->len] = '\0';
	if (b->overflow) {
		buf[0] = '\0';
		return 0;
	}
	return b->len;
}

static void console_emit(struct hv_event_sink *s, const struct hv_event *ev)
{
	struct hv_console_sink *cs = s->ctx;
	size_t n = hv_event_to_json(ev, NULL, cs->buf, sizeof(cs->buf));

	if (n)
		cs->write(cs->write_ctx, cs->buf, n);
}

void hv_console_sink_init(struct hv_console_sink *cs,
			  void (*write)(void *ctx, const char *s, size_t len),
			  void *write_ctx)
{
	cs->sink.name = "console";
	cs->sink.emit = console_emit;
	cs->sink.flush = NULL;
	cs->sink.ctx = cs;
	cs->write = write;
	cs->write_ctx = write_ctx;
}
