/*
 * hvmon event core — JSON formatting and the console sink.
 *
 * One JSON object per line, beginning `{"event":`. Every string that can come
 * from the guest is hostile: it is escaped so the line stays one valid JSON
 * object whatever the bytes are — `"` `\` and control bytes as JSON escapes,
 * bytes >= 0x7f as \u00XX (the byte's value; guest strings are bytes, not
 * necessarily UTF-8). Strings are additionally bounded by their field size.
 */
#include <stddef.h>
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
#define KS(k, s)  do { key(b, k); put_str(b, (s), sizeof(s)); } while (0)
#define KB(k, v)  do { key(b, k); puts_raw(b, (v) ? "true" : "false"); } while (0)

/* ---- the body: one field table per event type ----
 * docs/EVENTS.md is the contract (keys, order, formats); the order of a table
 * is the order of the keys. The fields that are not one value formatted one
 * way (exec's argv, the ABI trailer, hang's scope, byte arrays as hex, the
 * boot's monitor list, a PCI requester id) are kinds of their own. */
enum jf_kind {
	JF_I = 1,   /* signed decimal (an int32 field; a 1-byte field is unsigned) */
	JF_U,       /* unsigned decimal */
	JF_X,       /* "0x..." string (JSON numbers lose precision above 2^53) */
	JF_S,       /* escaped string, bounded by the field's size */
	JF_B,       /* true/false: the field is nonzero */
	JF_BIT,     /* true/false: the byte has bit @aux */
	JF_FLAG,    /* "key":true only when the byte has bit @aux */
	JF_ENUM,    /* a name from enums[@aux] */
	JF_OENUM,   /* only when the byte is 1..n: names[byte - 1] of enums[@aux] (0: not sent) */
	JF_ABI,     /* "abi","syscall" when the ABI (this byte) is known; @aux: offset of syscall */
	JF_ARGV,    /* exec's argv as an array of strings */
	JF_HEXB,    /* bytes as a hex string; @aux: offset of the u8 count, @size: the array's size */
	JF_SCOPE,   /* hang: "scope","cpus_hung" when scope is 1 or 2 (appended, issue 11) */
	JF_MONLIST, /* boot_config: "tracer,hang,..." from the monitor bit mask */
	JF_BDF,     /* dma_fault: the requester id as "BB:DD.F" */
};

struct jfield {
	uint8_t kind;
	uint8_t size;           /* the field's size (JF_S: up to 255; larger strings are cut to it: none) */
	uint16_t off;           /* offset in struct hv_event */
	uint16_t aux;
	const char *key;
};

/* enum names: index by value (JE_CLAMP: values past the end use the last, JE_ZERO: the first) */
enum { JE_BOOL, JE_MASK1, JE_CLAMP, JE_ZERO };
struct jenum {
	const char *const *names;
	uint8_t n, mode;
};
static const char *const fork_kinds[] = { "process", "thread" };
static const char *const r2u_how[] = { "exec", "data", "stack_pivot", "other" };
static const char *const on_off[] = { "off", "on" };
static const char *const loaders[] = { "unknown", "multiboot2", "uefi" };
static const char *const accesses[] = { "read", "write" };
static const char *const terminals[] = { "foreground", "other", "unknown" };   /* HV_KL_TERM_* */
static const char *const integ_how[] = { "sample", "lidt", "lgdt" };             /* HV_INTEG_HOW_* */
enum { EN_FORK, EN_R2U, EN_STATE, EN_LOADER, EN_ACCESS, EN_TERMINAL, EN_INTEG_HOW };
static const struct jenum enums[] = {
	[EN_FORK] = { fork_kinds, 2, JE_MASK1 },
	[EN_R2U] = { r2u_how, 4, JE_CLAMP },
	[EN_STATE] = { on_off, 2, JE_BOOL },
	[EN_LOADER] = { loaders, 3, JE_ZERO },
	[EN_ACCESS] = { accesses, 2, JE_BOOL },
	[EN_TERMINAL] = { terminals, 3, JE_CLAMP },
	[EN_INTEG_HOW] = { integ_how, 3, JE_CLAMP },
};

#define JSZ(m)        sizeof(((struct hv_event *)0)->u.m)
#define JOFF(m)       (uint16_t)offsetof(struct hv_event, u.m)
#define J(k, key_, m) { k, (uint8_t)(JSZ(m) < 255 ? JSZ(m) : 255), JOFF(m), 0, key_ }
#define JA(k, key_, m, a) { k, 1, JOFF(m), (uint16_t)(a), key_ }
#define JS(key_, m)   { JF_S, 0, JOFF(m), (uint16_t)JSZ(m), key_ }     /* @aux: the string's size */
#define JABI(t)       { JF_ABI, 1, JOFF(t.abi), JOFF(t.syscall), NULL }
#define JHEXB(key_, m, cnt) { JF_HEXB, (uint8_t)JSZ(m), JOFF(m), JOFF(cnt), key_ }
#define JEND          { 0, 0, 0, 0, NULL }

static const struct jfield jf_exec[] = { J(JF_I, "ppid", exec.ppid), J(JF_U, "uid", exec.uid),
	JS("filename", exec.filename), { JF_ARGV, 0, 0, 0, "argv" }, JA(JF_BIT, "ok", exec.flags, HV_EXECF_OK),
	J(JF_I, "err", exec.err), JA(JF_FLAG, "argv_truncated", exec.flags, HV_EXECF_ARGV_TRUNC),
	JA(JF_FLAG, "filename_truncated", exec.flags, HV_EXECF_PATH_TRUNC),
	JA(JF_FLAG, "read_failed", exec.flags, HV_EXECF_READ_FAIL), JABI(exec), JEND };
static const struct jfield jf_fork[] = { J(JF_I, "parent_pid", fork.parent_pid), J(JF_I, "child_pid", fork.child_pid),
	JA(JF_ENUM, "kind", fork.kind, EN_FORK), J(JF_X, "clone_flags", fork.clone_flags), JABI(fork), JEND };
static const struct jfield jf_exit[] = { J(JF_I, "code", exit.code), J(JF_I, "signal", exit.signal),
	J(JF_I, "status", exit.status), JA(JF_FLAG, "core_dumped", exit.flags, HV_EXITF_CORE),
	JA(JF_FLAG, "kthread", exit.flags, HV_EXITF_KTHREAD), JABI(exit), JEND };
static const struct jfield jf_hang[] = { JS("kind", hang.kind), J(JF_U, "vcpu", hang.vcpu),
	J(JF_U, "seconds", hang.seconds), J(JF_X, "rip", hang.rip), { JF_SCOPE, 0, 0, 0, NULL }, JEND };
static const struct jfield jf_ret2usr[] = { J(JF_X, "rip", ret2usr.rip), J(JF_X, "user_addr", ret2usr.user_addr),
	JA(JF_ENUM, "how", ret2usr.how, EN_R2U), JEND };
static const struct jfield jf_cr4[] = { J(JF_X, "old_cr4", cr4.old_cr4), J(JF_X, "new_cr4", cr4.new_cr4),
	J(JF_X, "rip", cr4.rip), J(JF_B, "blocked", cr4.blocked), JEND };
static const struct jfield jf_keylogger[] = { JS("device", keylogger.device),
	J(JF_U, "keystrokes", keylogger.keystrokes),
	JA(JF_OENUM, "terminal", keylogger.terminal, EN_TERMINAL), JEND };     /* appended (issue 15) */
static const struct jfield jf_heartbeat[] = { J(JF_U, "uptime_ms", heartbeat.uptime_ms),
	J(JF_U, "events", heartbeat.events), J(JF_U, "drops", heartbeat.drops), JEND };
static const struct jfield jf_drops[] = { J(JF_U, "ring_cpu", drops.ring_cpu), J(JF_U, "count", drops.count),
	J(JF_U, "total", drops.total), JEND };
static const struct jfield jf_inference[] = { J(JF_B, "ok", inference.ok), JS("kernel", inference.kernel),
	JS("reason", inference.reason), JEND };
static const struct jfield jf_monitor_state[] = { JA(JF_ENUM, "state", monitor_state.enabled, EN_STATE),
	JS("reason", monitor_state.reason), JEND };
static const struct jfield jf_boot_config[] = { { JF_MONLIST, 1, JOFF(boot_config.monitors), 0, "monitors" },
	JA(JF_ENUM, "loader", boot_config.loader, EN_LOADER), JS("hvmon_sha256", boot_config.hvmon_sha256),
	JS("kernel_sha256", boot_config.kernel_sha256), JS("initrd_sha256", boot_config.initrd_sha256),
	JS("options_sha256", boot_config.options_sha256), JS("options", boot_config.options), JEND };
static const struct jfield jf_dma_fault[] = { { JF_BDF, 2, JOFF(dma_fault.source), 0, "source" },
	J(JF_X, "address", dma_fault.addr), JA(JF_ENUM, "access", dma_fault.write, EN_ACCESS),
	J(JF_U, "reason", dma_fault.reason), J(JF_U, "unit", dma_fault.unit),
	J(JF_U, "suppressed", dma_fault.suppressed), JEND };
static const struct jfield jf_denied[] = { JS("what", denied.what), J(JF_X, "reg", denied.reg),
	J(JF_X, "value", denied.value), J(JF_X, "rip", denied.rip), J(JF_U, "count", denied.count), JEND };
static const struct jfield jf_trace_lost[] = { JS("what", trace_lost.what), JS("reason", trace_lost.reason),
	J(JF_U, "count", trace_lost.count), J(JF_U, "pending", trace_lost.pending), JEND };
static const struct jfield jf_probe_tamper[] = { JS("what", probe_tamper.what), JS("probe", probe_tamper.probe),
	J(JF_X, "va", probe_tamper.va), J(JF_X, "gpa", probe_tamper.gpa), J(JF_X, "new_gpa", probe_tamper.new_gpa),
	JHEXB("bytes", probe_tamper.bytes, probe_tamper.nbytes), J(JF_X, "rip", probe_tamper.rip),
	J(JF_U, "ms", probe_tamper.ms), J(JF_U, "new_mm", probe_tamper.new_mm), J(JF_B, "rearmed", probe_tamper.rearmed),
	JEND };
static const struct jfield jf_syscall_hook[] = { JS("what", integrity.what), J(JF_X, "msr", integrity.reg),
	J(JF_X, "old", integrity.old_value), J(JF_X, "new", integrity.new_value), J(JF_X, "rip", integrity.rip),
	J(JF_B, "blocked", integrity.blocked), JEND };
static const struct jfield jf_cr0_wp[] = { J(JF_X, "old", integrity.old_value), J(JF_X, "new", integrity.new_value),
	J(JF_X, "rip", integrity.rip), J(JF_B, "blocked", integrity.blocked), JEND };
static const struct jfield jf_idt_write[] = { JS("what", integrity.what), J(JF_X, "old", integrity.old_value),
	J(JF_X, "new", integrity.new_value), J(JF_U, "limit", integrity.reg), J(JF_X, "rip", integrity.rip),
	J(JF_B, "blocked", integrity.blocked),
	JA(JF_OENUM, "how", integrity.how, EN_INTEG_HOW), JEND };       /* appended (issue 15) */
static const struct jfield jf_text_write[] = { JS("region", text_write.region), JS("severity", text_write.severity),
	JS("writer", text_write.writer), J(JF_X, "va", text_write.va), J(JF_X, "gpa", text_write.gpa),
	J(JF_X, "rip", text_write.rip), J(JF_U, "changed", text_write.changed),
	JHEXB("old", text_write.old_bytes, text_write.len), JHEXB("new", text_write.new_bytes, text_write.len),
	J(JF_B, "reverted", text_write.reverted), JEND };                  /* appended (issue 15) */

static const struct jfield *const json_fields[HV_EV__COUNT] = {
	[HV_EV_EXEC] = jf_exec, [HV_EV_FORK] = jf_fork, [HV_EV_EXIT] = jf_exit,
	[HV_EV_HANG] = jf_hang, [HV_EV_HANG_RECOVERED] = jf_hang, [HV_EV_RET2USR] = jf_ret2usr,
	[HV_EV_CR4_TAMPER] = jf_cr4, [HV_EV_KEYLOGGER] = jf_keylogger, [HV_EV_HEARTBEAT] = jf_heartbeat,
	[HV_EV_DROPS] = jf_drops, [HV_EV_INFERENCE] = jf_inference, [HV_EV_MONITOR_STATE] = jf_monitor_state,
	[HV_EV_BOOT_CONFIG] = jf_boot_config, [HV_EV_DMA_FAULT] = jf_dma_fault, [HV_EV_DENIED] = jf_denied,
	[HV_EV_TRACE_LOST] = jf_trace_lost, [HV_EV_PROBE_TAMPER] = jf_probe_tamper,
	[HV_EV_SYSCALL_HOOK] = jf_syscall_hook, [HV_EV_CR0_WP] = jf_cr0_wp, [HV_EV_IDT_WRITE] = jf_idt_write,
	[HV_EV_KERNEL_TEXT_WRITE] = jf_text_write,
};

static uint64_t get_u(const uint8_t *p, unsigned n)
{
	uint8_t v1; uint16_t v2; uint32_t v4; uint64_t v8;
	switch (n) {
	case 1: __builtin_memcpy(&v1, p, 1); return v1;
	case 2: __builtin_memcpy(&v2, p, 2); return v2;
	case 4: __builtin_memcpy(&v4, p, 4); return v4;
	default: __builtin_memcpy(&v8, p, 8); return v8;
	}
}

static int64_t get_i(const uint8_t *p, unsigned n)
{
	return n == 4 ? (int64_t)(int32_t)get_u(p, 4) : n == 8 ? (int64_t)get_u(p, 8) : (int64_t)get_u(p, n);
}

static const char *enum_name(const struct jenum *e, unsigned v)
{
	switch (e->mode) {
	case JE_BOOL:  return e->names[v != 0];
	case JE_MASK1: return e->names[v & 1];
	case JE_CLAMP: return e->names[v < e->n ? v : e->n - 1u];
	default:       return e->names[v < e->n ? v : 0];
	}
}

/* Appended (issue 15) to exec, fork and exit: absent when the sender did not
 * tell (HV_ABI_NONE: older senders). */
static void j_abi(struct jbuf *b, uint8_t a, int32_t sc)
{
	const char *n = hv_abi_name(a);
	if (!n)
		return;
	key(b, "abi");
	put_str(b, n, 8);
	KI("syscall", sc);
}

static void j_argv(struct jbuf *b, const struct hv_ev_exec *x)
{
	unsigned off = 0, n = 0;

	put(b, '[');
	while (n < x->argc && n < HV_ARGV_MAX && off < x->argv_len && off < HV_ARGV_BYTES) {
		if (n)
			put(b, ',');
		put_str(b, &x->argv[off], HV_ARGV_BYTES - off);
		while (off < HV_ARGV_BYTES && x->argv[off])
			off++;
		off++;
		n++;
	}
	put(b, ']');
}

static void j_hexbytes(struct jbuf *b, const uint8_t *by, unsigned cnt, unsigned max)
{
	char h[2 * 32 + 1];
	unsigned n = cnt <= max ? cnt : max;
	for (unsigned i = 0; i < n; i++) {
		h[2 * i] = hexd[by[i] >> 4];
		h[2 * i + 1] = hexd[by[i] & 15];
	}
	h[2 * n] = 0;
	put_str(b, h, sizeof(h));
}

static void j_monlist(struct jbuf *b, uint8_t monitors)
{
	static const char *const mon[5] = { "tracer", "hang", "ret2usr", "keylogger", "integrity" };
	char m[64];
	unsigned n = 0;
	for (int i = 0; i < 5; i++) {
		if (!(monitors & (1u << i)))
			continue;
		if (n)
			m[n++] = ',';
		for (const char *q = mon[i]; *q; q++)
			m[n++] = *q;
	}
	m[n] = 0;
	put_str(b, m, sizeof(m));
}

static void j_bdf(struct jbuf *b, unsigned s)
{
	char bdf[8] = { hexd[s >> 12 & 15], hexd[(s >> 8) & 15], ':', hexd[(s >> 7) & 1], hexd[(s >> 3) & 15],
			'.', (char)('0' + (s & 7)), 0 };
	put_str(b, bdf, sizeof(bdf));
}

static void body(struct jbuf *b, const struct hv_event *ev)
{
	const uint8_t *base = (const uint8_t *)ev;
	const struct jfield *f = ev->hdr.type < HV_EV__COUNT ? json_fields[ev->hdr.type] : NULL;

	for (; f && f->kind; f++) {
		const uint8_t *p = base + f->off;
		switch (f->kind) {
		case JF_FLAG:
			if (*p & f->aux)
				KB(f->key, 1);
			continue;
		case JF_OENUM:
			if (*p >= 1 && *p <= enums[f->aux].n) {
				key(b, f->key);
				put_str(b, enums[f->aux].names[*p - 1], 16);
			}
			continue;
		case JF_ABI:
			j_abi(b, *p, (int32_t)get_u(base + f->aux, 4));
			continue;
		case JF_SCOPE:
			if (ev->u.hang.scope == 1 || ev->u.hang.scope == 2) {
				key(b, "scope");
				put_str(b, ev->u.hang.scope == 1 ? "partial" : "machine", 8);
				KU("cpus_hung", ev->u.hang.cpus_hung);
			}
			continue;
		}
		key(b, f->key);
		switch (f->kind) {
		case JF_I:       put_i64(b, get_i(p, f->size)); break;
		case JF_U:       put_u64(b, get_u(p, f->size)); break;
		case JF_X:       put_hex(b, get_u(p, f->size)); break;
		case JF_S:       put_str(b, (const char *)p, f->aux); break;
		case JF_B:       puts_raw(b, get_u(p, f->size) ? "true" : "false"); break;
		case JF_BIT:     puts_raw(b, (*p & f->aux) ? "true" : "false"); break;
		case JF_ENUM:    put_str(b, enum_name(&enums[f->aux], *p), 16); break;
		case JF_ARGV:    j_argv(b, &ev->u.exec); break;
		case JF_HEXB:    j_hexbytes(b, p, base[f->aux], f->size); break;
		case JF_MONLIST: j_monlist(b, *p); break;
		case JF_BDF:     j_bdf(b, (unsigned)get_u(p, 2)); break;
		}
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
