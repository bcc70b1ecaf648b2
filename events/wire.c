/*
 * hvmon wire protocol v1 — record encoding, datagram sealing/opening.
 * docs/PROTOCOL.md is the contract. Freestanding (ring -1) and hosted.
 * Every length read from a datagram is checked before use.
 */
#include "events/wire.h"
#include "events/wire_seal.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/platform_util.h"

/* ---- little-endian writer/reader ---- */
struct wbuf { uint8_t *p; size_t len, size; int err; };
struct rbuf { const uint8_t *p; size_t len, off; int err; };

static void w8(struct wbuf *w, uint8_t v)
{
	if (w->len < w->size)
		w->p[w->len++] = v;
	else
		w->err = 1;
}

/* n (1, 2, 4 or 8) little-endian bytes of v, one bounds check (issue 16: the
 * encoder runs for every event the network sink sends; on a little-endian CPU
 * each is one store) */
static inline void wle(struct wbuf *w, uint64_t v, unsigned n)
{
	if (w->size - w->len < n) {
		w->err = 1;
		w->len = w->size;
		return;
	}
	uint8_t *d = w->p + w->len;
	w->len += n;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (n) {
	case 1: d[0] = (uint8_t)v; return;
	case 2: { uint16_t x = (uint16_t)v; __builtin_memcpy(d, &x, 2); return; }
	case 4: { uint32_t x = (uint32_t)v; __builtin_memcpy(d, &x, 4); return; }
	case 8: __builtin_memcpy(d, &v, 8); return;
	}
#endif
	for (unsigned i = 0; i < n; i++, v >>= 8)
		d[i] = (uint8_t)v;
}
static void w16(struct wbuf *w, uint16_t v) { wle(w, v, 2); }
static void w32(struct wbuf *w, uint32_t v) { wle(w, v, 4); }
static void w64(struct wbuf *w, uint64_t v) { wle(w, v, 8); }

static uint8_t r8(struct rbuf *r)
{
	if (r->off < r->len)
		return r->p[r->off++];
	r->err = 1;
	return 0;
}
static uint16_t r16(struct rbuf *r) { uint16_t v = r8(r); return (uint16_t)(v | (uint16_t)r8(r) << 8); }
static uint32_t r32(struct rbuf *r) { uint32_t v = r16(r); return v | (uint32_t)r16(r) << 16; }
static uint64_t r64(struct rbuf *r) { uint64_t v = r32(r); return v | (uint64_t)r32(r) << 32; }

/* string into dst[cap]: rejects lengths >= cap and embedded NULs */
static void rstr(struct rbuf *r, char *dst, size_t cap)
{
	size_t n = r8(r);

	if (r->err || n >= cap || n > r->len - r->off) {
		r->err = 1;
		dst[0] = '\0';
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = (char)r->p[r->off + i];

		if (!c)
			r->err = 1;
		dst[i] = c;
	}
	dst[n] = '\0';
	r->off += n;
}

/* ---- records ----
 * One field table per event type (docs/PROTOCOL.md "Records" is the contract;
 * the order of a table is the order on the wire). Encoder and decoder walk the
 * same table, so a field is described once. WF_OPT marks where fields were
 * appended to a type: the decoder stops there when the record ends (an older
 * sender), the encoder always writes them. The few fields that are not one
 * value (exec's argv, the byte arrays) are kinds of their own. Issue 16: the
 * encoder runs for every event the network sink sends; integers are copied as
 * their little-endian bytes and strings a word at a time. */
enum wf_kind {
	WF_U8 = 1, WF_U16, WF_U32, WF_U64,   /* integer of that width (signed fields: same bits) */
	WF_STR,         /* u8 length + bytes, bounded by the field's size - 1 and 255 */
	WF_OPT,         /* decoder: the record may end here (fields appended later) */
	WF_ARGV,        /* exec: u8 argc + argc strings from the NUL-separated argv */
	WF_TAMPER,      /* probe_tamper: u8 n + n bytes */
	WF_TEXTW,       /* kernel_text_write: u8 len + len old bytes + len new bytes */
};

struct wfield {
	uint8_t kind;
	uint8_t max;            /* WF_U8 on decode: the largest valid value (0: any) */
	uint16_t off;           /* offset in struct hv_event */
	uint16_t size;          /* the field's size in struct hv_event */
};

#define WFS(k, m) { k, 0, (uint16_t)offsetof(struct hv_event, u.m), (uint16_t)sizeof(((struct hv_event *)0)->u.m) }
#define WU(m)     WFS(sizeof(((struct hv_event *)0)->u.m) == 1 ? WF_U8 : sizeof(((struct hv_event *)0)->u.m) == 2 ? WF_U16 : \
		      sizeof(((struct hv_event *)0)->u.m) == 4 ? WF_U32 : WF_U64, m)
#define WS(m)     WFS(WF_STR, m)
#define WMAX(m, v) { WF_U8, (v), (uint16_t)offsetof(struct hv_event, u.m), 1 }
#define WOPT      { WF_OPT, 0, 0, 0 }
#define WEND      { 0, 0, 0, 0 }
#define WABI(t)   WOPT, WMAX(t.abi, HV_ABI__COUNT - 1), WU(t.syscall)   /* appended (issue 15) */

static const struct wfield wf_exec[] = { WU(exec.ppid), WU(exec.uid), WU(exec.err), WU(exec.flags), WS(exec.filename),
	WFS(WF_ARGV, exec.argv), WABI(exec), WEND };
static const struct wfield wf_fork[] = { WU(fork.parent_pid), WU(fork.child_pid), WMAX(fork.kind, HV_FORK_THREAD),
	WU(fork.clone_flags), WABI(fork), WEND };
static const struct wfield wf_exit[] = { WU(exit.code),
	WOPT, WU(exit.status), WU(exit.signal), WU(exit.flags),         /* appended (docs/EVENTS.md) */
	WABI(exit), WEND };
static const struct wfield wf_hang[] = { WS(hang.kind), WU(hang.vcpu), WU(hang.seconds), WU(hang.rip),
	WOPT, WU(hang.scope), WU(hang.cpus_hung), WEND };                /* appended (issue 11) */
static const struct wfield wf_ret2usr[] = { WU(ret2usr.rip), WU(ret2usr.user_addr), WU(ret2usr.how), WEND };
static const struct wfield wf_cr4[] = { WU(cr4.old_cr4), WU(cr4.new_cr4), WU(cr4.rip), WU(cr4.blocked), WEND };
static const struct wfield wf_keylogger[] = { WS(keylogger.device), WU(keylogger.keystrokes),
	WOPT, WU(keylogger.terminal), WEND };                            /* appended (issue 15) */
static const struct wfield wf_heartbeat[] = { WU(heartbeat.uptime_ms), WU(heartbeat.events), WU(heartbeat.drops), WEND };
static const struct wfield wf_drops[] = { WU(drops.ring_cpu), WU(drops.count), WU(drops.total), WEND };
static const struct wfield wf_inference[] = { WU(inference.ok), WS(inference.kernel), WS(inference.reason), WEND };
static const struct wfield wf_monitor_state[] = { WU(monitor_state.enabled), WS(monitor_state.reason), WEND };
static const struct wfield wf_boot_config[] = { WU(boot_config.monitors), WU(boot_config.loader),
	WS(boot_config.hvmon_sha256), WS(boot_config.kernel_sha256), WS(boot_config.initrd_sha256),
	WS(boot_config.options_sha256), WS(boot_config.options), WEND };
static const struct wfield wf_dma_fault[] = { WU(dma_fault.source), WU(dma_fault.write), WU(dma_fault.reason),
	WU(dma_fault.addr), WU(dma_fault.suppressed), WU(dma_fault.unit), WEND };
static const struct wfield wf_denied[] = { WU(denied.reg), WU(denied.value), WU(denied.rip), WU(denied.count),
	WS(denied.what), WEND };
static const struct wfield wf_trace_lost[] = { WU(trace_lost.count), WU(trace_lost.pending), WS(trace_lost.what),
	WS(trace_lost.reason), WEND };
static const struct wfield wf_probe_tamper[] = { WU(probe_tamper.va), WU(probe_tamper.gpa), WU(probe_tamper.new_gpa),
	WU(probe_tamper.rip), WU(probe_tamper.ms), WU(probe_tamper.new_mm), WU(probe_tamper.rearmed),
	WFS(WF_TAMPER, probe_tamper.bytes), WS(probe_tamper.what), WS(probe_tamper.probe), WEND };
static const struct wfield wf_integrity[] = { WU(integrity.reg), WU(integrity.old_value), WU(integrity.new_value),
	WU(integrity.rip), WU(integrity.blocked), WS(integrity.what), WEND };
static const struct wfield wf_idt_write[] = { WU(integrity.reg), WU(integrity.old_value), WU(integrity.new_value),
	WU(integrity.rip), WU(integrity.blocked), WS(integrity.what),
	WOPT, WMAX(integrity.how, HV_INTEG_HOW_LGDT), WEND };            /* appended (issue 15, trapped LGDT/LIDT) */
static const struct wfield wf_text_write[] = { WU(text_write.va), WU(text_write.gpa), WU(text_write.rip),
	WU(text_write.changed), WFS(WF_TEXTW, text_write.old_bytes), WS(text_write.region), WS(text_write.severity),
	WS(text_write.writer),
	WOPT, WU(text_write.reverted), WEND };                           /* appended (issue 15, block for image writes) */

static const struct wfield *const wire_fields[HV_EV__COUNT] = {
	[HV_EV_EXEC] = wf_exec, [HV_EV_FORK] = wf_fork, [HV_EV_EXIT] = wf_exit,
	[HV_EV_HANG] = wf_hang, [HV_EV_HANG_RECOVERED] = wf_hang, [HV_EV_RET2USR] = wf_ret2usr,
	[HV_EV_CR4_TAMPER] = wf_cr4, [HV_EV_KEYLOGGER] = wf_keylogger, [HV_EV_HEARTBEAT] = wf_heartbeat,
	[HV_EV_DROPS] = wf_drops, [HV_EV_INFERENCE] = wf_inference, [HV_EV_MONITOR_STATE] = wf_monitor_state,
	[HV_EV_BOOT_CONFIG] = wf_boot_config, [HV_EV_DMA_FAULT] = wf_dma_fault, [HV_EV_DENIED] = wf_denied,
	[HV_EV_TRACE_LOST] = wf_trace_lost, [HV_EV_PROBE_TAMPER] = wf_probe_tamper,
	[HV_EV_SYSCALL_HOOK] = wf_integrity, [HV_EV_CR0_WP] = wf_integrity, [HV_EV_IDT_WRITE] = wf_idt_write,
	[HV_EV_KERNEL_TEXT_WRITE] = wf_text_write,
};

/* the integer of @n bytes at @p (a field of struct hv_event, host order) */
static inline uint64_t field_get(const uint8_t *p, unsigned n)
{
	switch (n) {
	case 1: return *p;
	case 2: { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
	default: { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
	}
}

static inline void field_set(uint8_t *p, unsigned n, uint64_t v)
{
	switch (n) {
	case 1: *p = (uint8_t)v; break;
	case 2: { uint16_t x = (uint16_t)v; __builtin_memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; __builtin_memcpy(p, &x, 4); break; }
	default: __builtin_memcpy(p, &v, 8); break;
	}
}

/* Length of the string at @s, at most @max bytes looked at: 8 bytes per step
 * while a whole word lies inside the bound (the field), then bytewise. The
 * lowest set bit of the zero-byte mask is the first NUL (bytes after it can
 * give false positives, never bytes before). */
static inline size_t str_len(const char *s, size_t max)
{
	size_t n = 0;

	for (; n + 8 <= max; n += 8) {
		uint64_t v;
		__builtin_memcpy(&v, s + n, 8);
		uint64_t z = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (z)
			return n + ((unsigned)__builtin_ctzll(z) >> 3);
#else
		if (z)
			break;
#endif
	}
	while (n < max && s[n])
		n++;
	return n;
}

/* The encoder writes through a cursor @d below @end; every writer returns the
 * new cursor or NULL when the record does not fit (one check per field). */
static inline uint8_t *put_le(uint8_t *d, const uint8_t *end, uint64_t v, unsigned n)
{
	if ((size_t)(end - d) < n)
		return NULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	switch (n) {
	case 1: *d = (uint8_t)v; return d + 1;
	case 2: { uint16_t x = (uint16_t)v; __builtin_memcpy(d, &x, 2); return d + 2; }
	case 4: { uint32_t x = (uint32_t)v; __builtin_memcpy(d, &x, 4); return d + 4; }
	case 8: __builtin_memcpy(d, &v, 8); return d + 8;
	}
#endif
	for (unsigned i = 0; i < n; i++, v >>= 8)
		d[i] = (uint8_t)v;
	return d + n;
}

/* string: u8 length (no NUL) + bytes; at most @cap - 1 (the field) and 255 */
static inline uint8_t *put_wstr(uint8_t *d, const uint8_t *end, const char *s, size_t cap)
{
	size_t n = str_len(s, cap - 1 < 255 ? cap - 1 : 255), i = 0;

	if ((size_t)(end - d) < n + 1)
		return NULL;
	*d++ = (uint8_t)n;
	for (; i + 8 <= n; i += 8)
		__builtin_memcpy(d + i, s + i, 8);
	for (; i < n; i++)
		d[i] = (uint8_t)s[i];
	return d + n;
}

static uint8_t *put_argv(uint8_t *d, const uint8_t *end, const struct hv_ev_exec *x)
{
	unsigned n = 0, off = 0;
	uint8_t argc = x->argc <= HV_ARGV_MAX ? x->argc : HV_ARGV_MAX;
	uint8_t *argc_at = d;

	if (d == end)
		return NULL;
	d++;
	while (n < argc && off < x->argv_len && off < HV_ARGV_BYTES) {
		size_t cap = HV_ARGV_BYTES - off;

		if (cap > HV_ARG_LEN)
			cap = HV_ARG_LEN;
		d = put_wstr(d, end, &x->argv[off], cap);
		if (!d)
			return NULL;
		off += (unsigned)str_len(&x->argv[off], HV_ARGV_BYTES - off) + 1;   /* past its NUL */
		n++;
	}
	*argc_at = (uint8_t)n;
	return d;
}

/* u8 count + count bytes from @a, then from @b if given (the count capped at @max) */
static uint8_t *put_counted(uint8_t *d, const uint8_t *end, unsigned cnt, unsigned max,
			    const uint8_t *a, const uint8_t *b)
{
	unsigned n = cnt <= max ? cnt : max;

	if ((size_t)(end - d) < 1 + n * (b ? 2u : 1u))
		return NULL;
	*d++ = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		*d++ = a[i];
	for (unsigned i = 0; b && i < n; i++)
		*d++ = b[i];
	return d;
}

static uint8_t *enc_body(uint8_t *d, const uint8_t *end, const struct hv_event *ev)
{
	const uint8_t *base = (const uint8_t *)ev;

	for (const struct wfield *f = wire_fields[ev->hdr.type]; f && f->kind && d; f++) {
		const uint8_t *p = base + f->off;
		switch (f->kind) {
		case WF_U8:
			if (d == end)
				return NULL;
			*d++ = *p;
			break;
		case WF_U16:
			d = put_le(d, end, field_get(p, 2), 2);
			break;
		case WF_U32:
			d = put_le(d, end, field_get(p, 4), 4);
			break;
		case WF_U64:
			d = put_le(d, end, field_get(p, 8), 8);
			break;
		case WF_STR:
			d = put_wstr(d, end, (const char *)p, f->size);
			break;
		case WF_OPT:
			break;
		case WF_ARGV:
			d = put_argv(d, end, &ev->u.exec);
			break;
		case WF_TAMPER:
			d = put_counted(d, end, ev->u.probe_tamper.nbytes, HV_TAMPER_BYTES, ev->u.probe_tamper.bytes, NULL);
			break;
		case WF_TEXTW:
			d = put_counted(d, end, ev->u.text_write.len, HV_TEXTW_BYTES, ev->u.text_write.old_bytes,
					ev->u.text_write.new_bytes);
			break;
		}
	}
	return d;
}

size_t hv_wire_encode_event(const struct hv_event *ev, uint8_t *buf, size_t size)
{
	const uint8_t *end = buf + size;
	uint8_t *d = buf;

	if (ev->hdr.type == HV_EV_NONE || ev->hdr.type >= HV_EV__COUNT || ev->hdr.monitor > 255)
		return 0;
	if (size < HV_WIRE_REC_HDR_LEN + 12)
		return 0;
	d[0] = (uint8_t)ev->hdr.type;
	d[1] = (uint8_t)ev->hdr.monitor;      /* d[2..3]: the body length, below */
	d = put_le(d + 4, end, ev->hdr.tsc, 8);
	d = put_le(d, end, ev->hdr.cpu, 2);
	d = put_le(d, end, ev->hdr.flags & HV_EVF_TASK, 2);
	if (ev->hdr.flags & HV_EVF_TASK) {
		d = put_le(d, end, (uint32_t)ev->hdr.pid, 4);
		d = d ? put_le(d, end, (uint32_t)ev->hdr.tgid, 4) : NULL;
		d = d ? put_wstr(d, end, ev->hdr.comm, sizeof(ev->hdr.comm)) : NULL;
	}
	d = d ? enc_body(d, end, ev) : NULL;
	if (!d)
		return 0;
	size_t len = (size_t)(d - buf), body_len = len - HV_WIRE_REC_HDR_LEN;
	buf[2] = (uint8_t)body_len;
	buf[3] = (uint8_t)(body_len >> 8);
	return len;
}

static void dec_argv(struct rbuf *r, struct hv_ev_exec *x)
{
	unsigned argc = r8(r);

	if (argc > HV_ARGV_MAX) {
		r->err = 1;
		return;
	}
	for (unsigned i = 0; i < argc && !r->err; i++) {
		size_t cap = HV_ARGV_BYTES - x->argv_len;

		if (cap > HV_ARG_LEN)
			cap = HV_ARG_LEN;
		if (cap == 0) {
			r->err = 1;
			return;
		}
		rstr(r, &x->argv[x->argv_len], cap);
		if (r->err)
			return;
		while (x->argv[x->argv_len])
			x->argv_len++;
		x->argv_len++;
		x->argc++;
	}
}

/* u8 count (> max: a hostile length, the record is refused) + the arrays */
static void dec_counted(struct rbuf *r, uint8_t *cnt, unsigned max, uint8_t *a, uint8_t *b)
{
	*cnt = r8(r);
	if (*cnt > max) {
		r->err = 1;
		*cnt = 0;
		return;
	}
	for (unsigned i = 0; i < *cnt; i++)
		a[i] = r8(r);
	for (unsigned i = 0; b && i < *cnt; i++)
		b[i] = r8(r);
}

static void dec_body(struct rbuf *r, struct hv_event *ev)
{
	uint8_t *base = (uint8_t *)ev;
	const struct wfield *f = wire_fields[ev->hdr.type];

	for (; f && f->kind && !r->err; f++) {
		uint8_t *p = base + f->off;
		switch (f->kind) {
		case WF_U8:
			*p = r8(r);
			if (f->max && *p > f->max)
				r->err = 1;
			break;
		case WF_U16:
			field_set(p, f->size, r16(r));
			break;
		case WF_U32:
			field_set(p, f->size, r32(r));
			break;
		case WF_U64:
			field_set(p, f->size, r64(r));
			break;
		case WF_STR:
			rstr(r, (char *)p, f->size);
			break;
		case WF_OPT:
			if (r->off >= r->len)
				return;                 /* an older sender: the rest is absent */
			break;
		case WF_ARGV:
			dec_argv(r, &ev->u.exec);
			break;
		case WF_TAMPER:
			dec_counted(r, &ev->u.probe_tamper.nbytes, HV_TAMPER_BYTES, ev->u.probe_tamper.bytes, NULL);
			break;
		case WF_TEXTW:
			dec_counted(r, &ev->u.text_write.len, HV_TEXTW_BYTES, ev->u.text_write.old_bytes,
				    ev->u.text_write.new_bytes);
			break;
		}
	}
}

static void zero_ev(struct hv_event *ev)
{
	volatile uint8_t *p = (volatile uint8_t *)ev;

	for (size_t i = 0; i < sizeof(*ev); i++)
		p[i] = 0;
}

int hv_wire_decode_event(const uint8_t *buf, size_t len, struct hv_event *ev, size_t *used)
{
	struct rbuf r;
	size_t body_len;
	uint8_t type;

	if (len < HV_WIRE_REC_HDR_LEN)
		return HV_WIRE_E_RECORD;
	type = buf[0];
	body_len = (size_t)buf[2] | (size_t)buf[3] << 8;
	if (body_len > len - HV_WIRE_REC_HDR_LEN)
		return HV_WIRE_E_RECORD;
	*used = HV_WIRE_REC_HDR_LEN + body_len;
	if (type == HV_EV_NONE || type >= HV_EV__COUNT)
		return 1;                       /* newer sender: skip, by length */
	zero_ev(ev);
	ev->hdr.type = type;
	ev->hdr.monitor = buf[1];
	r.p = buf + HV_WIRE_REC_HDR_LEN;
	r.len = body_len;
	r.off = 0;
	r.err = 0;
	ev->hdr.tsc = r64(&r);
	ev->hdr.cpu = r16(&r);
	ev->hdr.flags = r16(&r);
	if (ev->hdr.flags & ~HV_EVF_TASK)
		return HV_WIRE_E_RECORD;
	if (ev->hdr.flags & HV_EVF_TASK) {
		ev->hdr.pid = (int32_t)r32(&r);
		ev->hdr.tgid = (int32_t)r32(&r);
		rstr(&r, ev->hdr.comm, sizeof(ev->hdr.comm));
	}
	dec_body(&r, ev);
	/* trailing bytes inside the body are allowed (fields appended later) */
	return r.err ? HV_WIRE_E_RECORD : 0;
}

/* ---- crypto ---- */
int hv_wire_derive_key(const uint8_t psk[HV_WIRE_KEY_LEN],
		       const uint8_t boot_nonce[HV_WIRE_NONCE_LEN],
		       uint8_t out[HV_WIRE_KEY_LEN])
{
	static const uint8_t zeros[HV_WIRE_KEY_LEN];

	return mbedtls_chacha20_crypt(psk, boot_nonce, 0, HV_WIRE_KEY_LEN, zeros, out) ? -1 : 0;
}

/* Flag HV_WIRE_F_SENDER_KEY (issue 18): K_b = the first 32 bytes of the
 * ChaCha20 block under the PSK with nonce = the boot nonce and block counter =
 * the sender id, so two senders sharing a PSK never share a per-boot key even
 * with one boot nonce (v1, counter 0 for everyone, did). ChaCha20's block
 * function is a PRF of (counter, nonce): distinct (sender, nonce) pairs give
 * independent keys. */
int hv_wire_derive_key_sender(const uint8_t psk[HV_WIRE_KEY_LEN], uint32_t sender,
			      const uint8_t boot_nonce[HV_WIRE_NONCE_LEN],
			      uint8_t out[HV_WIRE_KEY_LEN])
{
	static const uint8_t zeros[HV_WIRE_KEY_LEN];

	return mbedtls_chacha20_crypt(psk, boot_nonce, sender, HV_WIRE_KEY_LEN, zeros, out) ? -1 : 0;
}

/* Version 2 (issue 16): K_gcm = the first 32 bytes of the ChaCha20 block
 * under K_b with the 12-byte label "hvmn-aes-gcm" as its nonce, counter 0.
 * ChaCha20 is a PRF of (counter, nonce) under K_b, so K_gcm is independent of
 * K_b's bytes: no key serves two algorithms. The label's last four bytes are
 * not zero, so it is never a version-1 AEAD nonce (seq || 0000) either. */
int hv_wire_derive_key_gcm(const uint8_t kb[HV_WIRE_KEY_LEN], uint8_t out[HV_WIRE_KEY_LEN])
{
	static const uint8_t zeros[HV_WIRE_KEY_LEN];
	static const uint8_t label[HV_WIRE_NONCE_LEN] = "hvmn-aes-gcm";

	return mbedtls_chacha20_crypt(kb, label, 0, HV_WIRE_KEY_LEN, zeros, out) ? -1 : 0;
}

int hv_wire_hdr_key(const uint8_t psk[HV_WIRE_KEY_LEN], const struct hv_wire_hdr *h,
		    uint8_t out[HV_WIRE_KEY_LEN])
{
	uint8_t kb[HV_WIRE_KEY_LEN];
	int rc;

	if (h->flags & HV_WIRE_F_SENDER_KEY)
		rc = hv_wire_derive_key_sender(psk, h->sender, h->boot_nonce, kb);
	else
		rc = hv_wire_derive_key(psk, h->boot_nonce, kb);
	if (!rc && h->version == HV_WIRE_VERSION_GCM)
		rc = hv_wire_derive_key_gcm(kb, out);
	else
		__builtin_memcpy(out, kb, HV_WIRE_KEY_LEN);
	mbedtls_platform_zeroize(kb, sizeof(kb));
	return rc;
}

/* Boot nonce from a 32-bit random source, with a repetition test (in the
 * spirit of NIST SP 800-90B 4.4.1): four draws, all distinct, or the source is
 * refused. A stuck or constant source (a stub, a broken RDRAND) fails; a real
 * one fails with probability ~1.4e-9. */
int hv_wire_make_nonce(uint32_t (*rand32)(void), uint8_t nonce[HV_WIRE_NONCE_LEN])
{
	uint32_t r[4];

	for (int i = 0; i < 4; i++)
		r[i] = rand32();
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (r[i] == r[j])
				return -1;
	for (unsigned k = 0; k < HV_WIRE_NONCE_LEN; k++)
		nonce[k] = (uint8_t)(r[k / 4] >> (8 * (k % 4)));
	return 0;
}

static void aead_nonce(uint64_t seq, uint8_t n[12])
{
	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(seq >> (8 * i));
	n[8] = n[9] = n[10] = n[11] = 0;
}

const char *hv_wire_strerror(int err)
{
	switch (err) {
	case HV_WIRE_OK:        return "ok";
	case HV_WIRE_E_SHORT:   return "datagram too short";
	case HV_WIRE_E_MAGIC:   return "bad magic";
	case HV_WIRE_E_VERSION: return "unsupported version";
	case HV_WIRE_E_LENGTH:  return "inconsistent lengths";
	case HV_WIRE_E_AUTH:    return "authentication failed";
	case HV_WIRE_E_RECORD:  return "malformed record";
	case HV_WIRE_E_NOSPACE: return "no space";
	default:                return "unknown error";
	}
}

int hv_wire_parse_header(const uint8_t *d, size_t len, struct hv_wire_hdr *h)
{
	struct rbuf r = { .p = d, .len = len, .off = 0, .err = 0 };

	if (len < HV_WIRE_HDR_LEN + HV_WIRE_TAG_LEN)
		return HV_WIRE_E_SHORT;
	if (d[0] != HV_WIRE_MAGIC0 || d[1] != HV_WIRE_MAGIC1 ||
	    d[2] != HV_WIRE_MAGIC2 || d[3] != HV_WIRE_MAGIC3)
		return HV_WIRE_E_MAGIC;
	r.off = 4;
	h->version = r8(&r);
	h->flags = r8(&r);
	h->hdr_len = r16(&r);
	h->sender = r32(&r);
	for (int i = 0; i < HV_WIRE_NONCE_LEN; i++)
		h->boot_nonce[i] = r8(&r);
	h->seq = r64(&r);
	h->drops_total = r32(&r);
	h->nrec = r16(&r);
	h->payload_len = r16(&r);
	if (h->version != HV_WIRE_VERSION && h->version != HV_WIRE_VERSION_GCM)
		return HV_WIRE_E_VERSION;
	if (h->hdr_len != HV_WIRE_HDR_LEN || (h->flags & ~HV_WIRE_F_SENDER_KEY) ||
	    (h->version == HV_WIRE_VERSION_GCM && h->flags != HV_WIRE_F_SENDER_KEY) ||
	    h->payload_len > HV_WIRE_MAX_PAYLOAD ||
	    (size_t)HV_WIRE_HDR_LEN + h->payload_len + HV_WIRE_TAG_LEN != len)
		return HV_WIRE_E_LENGTH;
	return HV_WIRE_OK;
}

int hv_wire_open(const uint8_t key[HV_WIRE_KEY_LEN], uint8_t *d, size_t len,
		 struct hv_wire_hdr *h, const uint8_t **payload)
{
	mbedtls_chachapoly_context ctx;
	uint8_t nonce[12];
	int rc = hv_wire_parse_header(d, len, h);

	if (rc)
		return rc;
	aead_nonce(h->seq, nonce);
	if (h->version == HV_WIRE_VERSION_GCM) {
		/* BearSSL's GCM (events/wire_seal.c): its portable AES unless a
		 * vector guard is installed (ring -1 style); never mbedTLS, whose
		 * build here has no AES (tools/build-mbedtls.sh) */
		if (hv_wire_open_gcm(key, nonce, d, HV_WIRE_HDR_LEN, d + HV_WIRE_HDR_LEN, h->payload_len,
				     d + HV_WIRE_HDR_LEN + h->payload_len))
			return HV_WIRE_E_AUTH;
		*payload = d + HV_WIRE_HDR_LEN;
		return HV_WIRE_OK;
	}
	mbedtls_chachapoly_init(&ctx);
	rc = mbedtls_chachapoly_setkey(&ctx, key);
	if (!rc)
		rc = mbedtls_chachapoly_auth_decrypt(&ctx, h->payload_len, nonce,
						     d, HV_WIRE_HDR_LEN,
						     d + HV_WIRE_HDR_LEN + h->payload_len,
						     d + HV_WIRE_HDR_LEN, d + HV_WIRE_HDR_LEN);
	mbedtls_chachapoly_free(&ctx);
	if (rc)
		return HV_WIRE_E_AUTH;
	*payload = d + HV_WIRE_HDR_LEN;
	return HV_WIRE_OK;
}

/* ---- sender ---- */
static void tx_sink_emit(struct hv_event_sink *s, const struct hv_event *ev)
{
	hv_wire_tx_add(s->ctx, ev);
}

static void tx_sink_flush(struct hv_event_sink *s)
{
	struct hv_wire_tx *tx = s->ctx;
	struct hv_event_stats st;

	hv_event_get_stats(&st);
	tx->drops_total = (uint32_t)st.dropped;
	hv_wire_tx_flush(tx);
}

int hv_wire_tx_init(struct hv_wire_tx *tx, const uint8_t psk[HV_WIRE_KEY_LEN],
		    uint32_t sender, const uint8_t boot_nonce[HV_WIRE_NONCE_LEN],
		    void (*send)(void *ctx, const uint8_t *dgram, size_t len),
		    void *send_ctx)
{
	if (hv_wire_derive_key_sender(psk, sender, boot_nonce, tx->key))
		return -1;
	tx->version = HV_WIRE_VERSION;
	tx->sender = sender;
	for (int i = 0; i < HV_WIRE_NONCE_LEN; i++)
		tx->boot_nonce[i] = boot_nonce[i];
	tx->seq = 0;
	tx->drops_total = 0;
	tx->nrec = 0;
	tx->payload_len = 0;
	tx->send = send;
	tx->send_ctx = send_ctx;
	tx->datagrams = tx->bytes = tx->events = tx->too_big = 0;
	tx->clock = NULL;
	tx->seal_ticks = 0;
	tx->sink.name = "wire";
	tx->sink.emit = tx_sink_emit;
	tx->sink.flush = tx_sink_flush;
	tx->sink.ctx = tx;
	hv_wire_gcm_key_wipe(&tx->gcm);
	return 0;
}

int hv_wire_tx_set_version(struct hv_wire_tx *tx, unsigned version)
{
	if (tx->seq || tx->version != HV_WIRE_VERSION)
		return -1;
	if (version == HV_WIRE_VERSION)
		return 0;
	if (version != HV_WIRE_VERSION_GCM || hv_wire_derive_key_gcm(tx->key, tx->key))
		return -1;
	tx->version = HV_WIRE_VERSION_GCM;
	hv_wire_gcm_key_init(&tx->gcm, tx->key);
	return 0;
}

int hv_wire_tx_flush(struct hv_wire_tx *tx)
{
	struct wbuf w = { .p = tx->buf, .len = 0, .size = HV_WIRE_HDR_LEN, .err = 0 };
	uint8_t nonce[12];
	size_t total;
	int rc;

	if (!tx->nrec)
		return 0;
	tx->seq++;
	w8(&w, HV_WIRE_MAGIC0); w8(&w, HV_WIRE_MAGIC1);
	w8(&w, HV_WIRE_MAGIC2); w8(&w, HV_WIRE_MAGIC3);
	w8(&w, tx->version);
	w8(&w, HV_WIRE_F_SENDER_KEY);          /* per-boot key bound to the sender id */
	w16(&w, HV_WIRE_HDR_LEN);
	w32(&w, tx->sender);
	for (int i = 0; i < HV_WIRE_NONCE_LEN; i++)
		w8(&w, tx->boot_nonce[i]);
	w64(&w, tx->seq);
	w32(&w, tx->drops_total);
	w16(&w, tx->nrec);
	w16(&w, tx->payload_len);
	aead_nonce(tx->seq, nonce);
	uint64_t t0 = tx->clock ? tx->clock() : 0;
	/* BearSSL for speed (events/wire_seal.h, issue 16); version 1 is the
	 * AEAD the collector opens with mbedTLS (hv_wire_open) */
	if (tx->version == HV_WIRE_VERSION_GCM)
		hv_wire_seal_gcm_key(&tx->gcm, nonce, tx->buf, HV_WIRE_HDR_LEN, tx->buf + HV_WIRE_HDR_LEN,
				     tx->payload_len, tx->buf + HV_WIRE_HDR_LEN + tx->payload_len);
	else
		hv_wire_seal(tx->key, nonce, tx->buf, HV_WIRE_HDR_LEN, tx->buf + HV_WIRE_HDR_LEN,
			     tx->payload_len, tx->buf + HV_WIRE_HDR_LEN + tx->payload_len);
	rc = w.err ? -1 : 0;
	if (tx->clock)
		tx->seal_ticks += tx->clock() - t0;
	total = HV_WIRE_HDR_LEN + (size_t)tx->payload_len + HV_WIRE_TAG_LEN;
	tx->nrec = 0;
	tx->payload_len = 0;
	if (rc)
		return -1;
	if (tx->send)
		tx->send(tx->send_ctx, tx->buf, total);
	tx->datagrams++;
	tx->bytes += total;
	return 0;
}

int hv_wire_tx_add(struct hv_wire_tx *tx, const struct hv_event *ev)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t n = hv_wire_encode_event(ev, tx->buf + HV_WIRE_HDR_LEN + tx->payload_len,
						HV_WIRE_MAX_PAYLOAD - tx->payload_len);
		if (n) {
			tx->payload_len += (uint16_t)n;
			tx->nrec++;
			tx->events++;
			return 0;
		}
		if (!tx->nrec)
			break;                 /* does not fit an empty datagram */
		hv_wire_tx_flush(tx);
	}
	tx->too_big++;
	return HV_WIRE_E_NOSPACE;
}
