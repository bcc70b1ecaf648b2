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

/* n little-endian bytes of v, one bounds check (issue 16: the encoder runs
 * for every event the network sink sends) */
static inline void wle(struct wbuf *w, uint64_t v, unsigned n)
{
	if (w->size - w->len < n) {
		w->err = 1;
		w->len = w->size;
		return;
	}
	uint8_t *d = w->p + w->len;
	for (unsigned i = 0; i < n; i++, v >>= 8)
		d[i] = (uint8_t)v;
	w->len += n;
}
static void w16(struct wbuf *w, uint16_t v) { wle(w, v, 2); }
static void w32(struct wbuf *w, uint32_t v) { wle(w, v, 4); }
static void w64(struct wbuf *w, uint64_t v) { wle(w, v, 8); }

/* string: u8 length (no NUL) + bytes; bounded by the field size */
static void wstr(struct wbuf *w, const char *s, size_t cap)
{
	size_t n = 0;

	while (n < cap - 1 && n < 255 && s[n])
		n++;
	if (w->size - w->len < n + 1) {
		w->err = 1;
		w->len = w->size;
		return;
	}
	uint8_t *d = w->p + w->len;
	d[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		d[1 + i] = (uint8_t)s[i];
	w->len += n + 1;
}

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

/* ---- records ---- */
static void enc_body(struct wbuf *w, const struct hv_event *ev)
{
	const struct hv_ev_exec *x = &ev->u.exec;

	switch (ev->hdr.type) {
	case HV_EV_EXEC: {
		w32(w, (uint32_t)x->ppid);
		w32(w, x->uid);
		w32(w, (uint32_t)x->err);
		w8(w, x->flags);
		wstr(w, x->filename, sizeof(x->filename));
		unsigned n = 0, off = 0;
		uint8_t argc = x->argc <= HV_ARGV_MAX ? x->argc : HV_ARGV_MAX;
		size_t argc_at = w->len;

		w8(w, 0);
		while (n < argc && off < x->argv_len && off < HV_ARGV_BYTES) {
			size_t cap = HV_ARGV_BYTES - off;

			if (cap > HV_ARG_LEN)
				cap = HV_ARG_LEN;
			wstr(w, &x->argv[off], cap);
			while (off < HV_ARGV_BYTES && x->argv[off])
				off++;
			off++;
			n++;
		}
		if (!w->err)
			w->p[argc_at] = (uint8_t)n;
		w8(w, x->abi);                           /* appended (issue 15) */
		w32(w, (uint32_t)x->syscall);
		break;
	}
	case HV_EV_FORK:
		w32(w, (uint32_t)ev->u.fork.parent_pid);
		w32(w, (uint32_t)ev->u.fork.child_pid);
		w8(w, ev->u.fork.kind);
		w64(w, ev->u.fork.clone_flags);
		w8(w, ev->u.fork.abi);                   /* appended (issue 15) */
		w32(w, (uint32_t)ev->u.fork.syscall);
		break;
	case HV_EV_EXIT:
		w32(w, (uint32_t)ev->u.exit.code);
		w32(w, (uint32_t)ev->u.exit.status);     /* appended (docs/EVENTS.md) */
		w8(w, ev->u.exit.signal);
		w8(w, ev->u.exit.flags);
		w8(w, ev->u.exit.abi);                   /* appended (issue 15) */
		w32(w, (uint32_t)ev->u.exit.syscall);
		break;
	case HV_EV_HANG:
	case HV_EV_HANG_RECOVERED:
		wstr(w, ev->u.hang.kind, sizeof(ev->u.hang.kind));
		w32(w, ev->u.hang.vcpu);
		w32(w, ev->u.hang.seconds);
		w64(w, ev->u.hang.rip);
		w8(w, ev->u.hang.scope);                 /* appended (issue 11) */
		w32(w, ev->u.hang.cpus_hung);
		break;
	case HV_EV_RET2USR:
		w64(w, ev->u.ret2usr.rip);
		w64(w, ev->u.ret2usr.user_addr);
		w8(w, ev->u.ret2usr.how);
		break;
	case HV_EV_CR4_TAMPER:
		w64(w, ev->u.cr4.old_cr4);
		w64(w, ev->u.cr4.new_cr4);
		w64(w, ev->u.cr4.rip);
		w8(w, ev->u.cr4.blocked);
		break;
	case HV_EV_KEYLOGGER:
		wstr(w, ev->u.keylogger.device, sizeof(ev->u.keylogger.device));
		w64(w, ev->u.keylogger.keystrokes);
		w8(w, ev->u.keylogger.terminal);          /* appended (issue 15) */
		break;
	case HV_EV_HEARTBEAT:
		w64(w, ev->u.heartbeat.uptime_ms);
		w64(w, ev->u.heartbeat.events);
		w64(w, ev->u.heartbeat.drops);
		break;
	case HV_EV_DROPS:
		w32(w, ev->u.drops.ring_cpu);
		w64(w, ev->u.drops.count);
		w64(w, ev->u.drops.total);
		break;
	case HV_EV_INFERENCE:
		w8(w, ev->u.inference.ok);
		wstr(w, ev->u.inference.kernel, sizeof(ev->u.inference.kernel));
		wstr(w, ev->u.inference.reason, sizeof(ev->u.inference.reason));
		break;
	case HV_EV_MONITOR_STATE:
		w8(w, ev->u.monitor_state.enabled);
		wstr(w, ev->u.monitor_state.reason, sizeof(ev->u.monitor_state.reason));
		break;
	case HV_EV_BOOT_CONFIG: {
		const struct hv_ev_boot_config *c = &ev->u.boot_config;
		w8(w, c->monitors);
		w8(w, c->loader);
		wstr(w, c->hvmon_sha256, sizeof(c->hvmon_sha256));
		wstr(w, c->kernel_sha256, sizeof(c->kernel_sha256));
		wstr(w, c->initrd_sha256, sizeof(c->initrd_sha256));
		wstr(w, c->options_sha256, sizeof(c->options_sha256));
		wstr(w, c->options, sizeof(c->options));
		break;
	}
	case HV_EV_DMA_FAULT:
		w16(w, ev->u.dma_fault.source);
		w8(w, ev->u.dma_fault.write);
		w8(w, ev->u.dma_fault.reason);
		w64(w, ev->u.dma_fault.addr);
		w64(w, ev->u.dma_fault.suppressed);
		w32(w, ev->u.dma_fault.unit);
		break;
	case HV_EV_DENIED:
		w64(w, ev->u.denied.reg);
		w64(w, ev->u.denied.value);
		w64(w, ev->u.denied.rip);
		w64(w, ev->u.denied.count);
		wstr(w, ev->u.denied.what, sizeof(ev->u.denied.what));
		break;
	case HV_EV_TRACE_LOST:
		w64(w, ev->u.trace_lost.count);
		w32(w, ev->u.trace_lost.pending);
		wstr(w, ev->u.trace_lost.what, sizeof(ev->u.trace_lost.what));
		wstr(w, ev->u.trace_lost.reason, sizeof(ev->u.trace_lost.reason));
		break;
	case HV_EV_PROBE_TAMPER: {
		const struct hv_ev_probe_tamper *t = &ev->u.probe_tamper;
		unsigned n = t->nbytes < HV_TAMPER_BYTES ? t->nbytes : HV_TAMPER_BYTES;
		w64(w, t->va);
		w64(w, t->gpa);
		w64(w, t->new_gpa);
		w64(w, t->rip);
		w64(w, t->ms);
		w32(w, t->new_mm);
		w8(w, t->rearmed);
		w8(w, (uint8_t)n);
		for (unsigned i = 0; i < n; i++)
			w8(w, t->bytes[i]);
		wstr(w, t->what, sizeof(t->what));
		wstr(w, t->probe, sizeof(t->probe));
		break;
	}
	case HV_EV_SYSCALL_HOOK:
	case HV_EV_CR0_WP:
	case HV_EV_IDT_WRITE:
		w64(w, ev->u.integrity.reg);
		w64(w, ev->u.integrity.old_value);
		w64(w, ev->u.integrity.new_value);
		w64(w, ev->u.integrity.rip);
		w8(w, ev->u.integrity.blocked);
		wstr(w, ev->u.integrity.what, sizeof(ev->u.integrity.what));
		break;
	case HV_EV_KERNEL_TEXT_WRITE: {
		const struct hv_ev_text_write *t = &ev->u.text_write;
		unsigned len = t->len <= HV_TEXTW_BYTES ? t->len : HV_TEXTW_BYTES;
		w64(w, t->va);
		w64(w, t->gpa);
		w64(w, t->rip);
		w32(w, t->changed);
		w8(w, (uint8_t)len);
		for (unsigned i = 0; i < len; i++)
			w8(w, t->old_bytes[i]);
		for (unsigned i = 0; i < len; i++)
			w8(w, t->new_bytes[i]);
		wstr(w, t->region, sizeof(t->region));
		wstr(w, t->severity, sizeof(t->severity));
		wstr(w, t->writer, sizeof(t->writer));
		w8(w, t->reverted);                      /* appended (issue 15, block for image writes) */
		break;
	}
	default:
		break;
	}
}

size_t hv_wire_encode_event(const struct hv_event *ev, uint8_t *buf, size_t size)
{
	struct wbuf w = { .p = buf, .len = 0, .size = size, .err = 0 };
	size_t body_len;

	if (ev->hdr.type == HV_EV_NONE || ev->hdr.type >= HV_EV__COUNT || ev->hdr.monitor > 255)
		return 0;
	w8(&w, (uint8_t)ev->hdr.type);
	w8(&w, (uint8_t)ev->hdr.monitor);
	w16(&w, 0);                               /* patched below */
	w64(&w, ev->hdr.tsc);
	w16(&w, ev->hdr.cpu);
	w16(&w, ev->hdr.flags & HV_EVF_TASK);
	if (ev->hdr.flags & HV_EVF_TASK) {
		w32(&w, (uint32_t)ev->hdr.pid);
		w32(&w, (uint32_t)ev->hdr.tgid);
		wstr(&w, ev->hdr.comm, sizeof(ev->hdr.comm));
	}
	enc_body(&w, ev);
	if (w.err)
		return 0;
	body_len = w.len - HV_WIRE_REC_HDR_LEN;
	buf[2] = (uint8_t)body_len;
	buf[3] = (uint8_t)(body_len >> 8);
	return w.len;
}

/* Appended (issue 15) to exec, fork and exit: absent from older senders (then
 * abi stays HV_ABI_NONE and the JSON has no abi/syscall). */
static void rd_abi(struct rbuf *r, uint8_t *abi, int32_t *sc)
{
	if (r->off >= r->len)
		return;
	*abi = r8(r);
	*sc = (int32_t)r32(r);
	if (*abi >= HV_ABI__COUNT)
		r->err = 1;
}

static void dec_body(struct rbuf *r, struct hv_event *ev)
{
	struct hv_ev_exec *x = &ev->u.exec;

	switch (ev->hdr.type) {
	case HV_EV_EXEC: {
		x->ppid = (int32_t)r32(r);
		x->uid = r32(r);
		x->err = (int32_t)r32(r);
		x->flags = r8(r);
		rstr(r, x->filename, sizeof(x->filename));
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
		rd_abi(r, &x->abi, &x->syscall);
		break;
	}
	case HV_EV_FORK:
		ev->u.fork.parent_pid = (int32_t)r32(r);
		ev->u.fork.child_pid = (int32_t)r32(r);
		ev->u.fork.kind = r8(r);
		ev->u.fork.clone_flags = r64(r);
		if (ev->u.fork.kind > HV_FORK_THREAD)
			r->err = 1;
		rd_abi(r, &ev->u.fork.abi, &ev->u.fork.syscall);
		break;
	case HV_EV_EXIT:
		ev->u.exit.code = (int32_t)r32(r);
		if (r->off < r->len) {                      /* appended (docs/EVENTS.md); absent from older senders */
			ev->u.exit.status = (int32_t)r32(r);
			ev->u.exit.signal = r8(r);
			ev->u.exit.flags = r8(r);
		}
		rd_abi(r, &ev->u.exit.abi, &ev->u.exit.syscall);
		break;
	case HV_EV_HANG:
	case HV_EV_HANG_RECOVERED:
		rstr(r, ev->u.hang.kind, sizeof(ev->u.hang.kind));
		ev->u.hang.vcpu = r32(r);
		ev->u.hang.seconds = r32(r);
		ev->u.hang.rip = r64(r);
		if (r->off < r->len) {                      /* appended (issue 11); absent from older senders */
			ev->u.hang.scope = r8(r);
			ev->u.hang.cpus_hung = r32(r);
		}
		break;
	case HV_EV_RET2USR:
		ev->u.ret2usr.rip = r64(r);
		ev->u.ret2usr.user_addr = r64(r);
		ev->u.ret2usr.how = r8(r);
		break;
	case HV_EV_CR4_TAMPER:
		ev->u.cr4.old_cr4 = r64(r);
		ev->u.cr4.new_cr4 = r64(r);
		ev->u.cr4.rip = r64(r);
		ev->u.cr4.blocked = r8(r);
		break;
	case HV_EV_KEYLOGGER:
		rstr(r, ev->u.keylogger.device, sizeof(ev->u.keylogger.device));
		ev->u.keylogger.keystrokes = r64(r);
		if (r->off < r->len)                        /* appended (issue 15); absent from older senders */
			ev->u.keylogger.terminal = r8(r);
		break;
	case HV_EV_HEARTBEAT:
		ev->u.heartbeat.uptime_ms = r64(r);
		ev->u.heartbeat.events = r64(r);
		ev->u.heartbeat.drops = r64(r);
		break;
	case HV_EV_DROPS:
		ev->u.drops.ring_cpu = r32(r);
		ev->u.drops.count = r64(r);
		ev->u.drops.total = r64(r);
		break;
	case HV_EV_INFERENCE:
		ev->u.inference.ok = r8(r);
		rstr(r, ev->u.inference.kernel, sizeof(ev->u.inference.kernel));
		rstr(r, ev->u.inference.reason, sizeof(ev->u.inference.reason));
		break;
	case HV_EV_MONITOR_STATE:
		ev->u.monitor_state.enabled = r8(r);
		rstr(r, ev->u.monitor_state.reason, sizeof(ev->u.monitor_state.reason));
		break;
	case HV_EV_BOOT_CONFIG: {
		struct hv_ev_boot_config *c = &ev->u.boot_config;
		c->monitors = r8(r);
		c->loader = r8(r);
		rstr(r, c->hvmon_sha256, sizeof(c->hvmon_sha256));
		rstr(r, c->kernel_sha256, sizeof(c->kernel_sha256));
		rstr(r, c->initrd_sha256, sizeof(c->initrd_sha256));
		rstr(r, c->options_sha256, sizeof(c->options_sha256));
		rstr(r, c->options, sizeof(c->options));
		break;
	}
	case HV_EV_DMA_FAULT:
		ev->u.dma_fault.source = r16(r);
		ev->u.dma_fault.write = r8(r);
		ev->u.dma_fault.reason = r8(r);
		ev->u.dma_fault.addr = r64(r);
		ev->u.dma_fault.suppressed = r64(r);
		ev->u.dma_fault.unit = r32(r);
		break;
	case HV_EV_DENIED:
		ev->u.denied.reg = r64(r);
		ev->u.denied.value = r64(r);
		ev->u.denied.rip = r64(r);
		ev->u.denied.count = r64(r);
		rstr(r, ev->u.denied.what, sizeof(ev->u.denied.what));
		break;
	case HV_EV_TRACE_LOST:
		ev->u.trace_lost.count = r64(r);
		ev->u.trace_lost.pending = r32(r);
		rstr(r, ev->u.trace_lost.what, sizeof(ev->u.trace_lost.what));
		rstr(r, ev->u.trace_lost.reason, sizeof(ev->u.trace_lost.reason));
		break;
	case HV_EV_PROBE_TAMPER: {
		struct hv_ev_probe_tamper *t = &ev->u.probe_tamper;
		t->va = r64(r);
		t->gpa = r64(r);
		t->new_gpa = r64(r);
		t->rip = r64(r);
		t->ms = r64(r);
		t->new_mm = r32(r);
		t->rearmed = r8(r);
		t->nbytes = r8(r);
		if (t->nbytes > HV_TAMPER_BYTES) {      /* hostile length: refuse the record */
			r->err = 1;
			t->nbytes = 0;
			break;
		}
		for (unsigned i = 0; i < t->nbytes; i++)
			t->bytes[i] = r8(r);
		rstr(r, t->what, sizeof(t->what));
		rstr(r, t->probe, sizeof(t->probe));
		break;
	}
	case HV_EV_SYSCALL_HOOK:
	case HV_EV_CR0_WP:
	case HV_EV_IDT_WRITE:
		ev->u.integrity.reg = r64(r);
		ev->u.integrity.old_value = r64(r);
		ev->u.integrity.new_value = r64(r);
		ev->u.integrity.rip = r64(r);
		ev->u.integrity.blocked = r8(r);
		rstr(r, ev->u.integrity.what, sizeof(ev->u.integrity.what));
		break;
	case HV_EV_KERNEL_TEXT_WRITE: {
		struct hv_ev_text_write *t = &ev->u.text_write;
		t->va = r64(r);
		t->gpa = r64(r);
		t->rip = r64(r);
		t->changed = r32(r);
		t->len = r8(r);
		if (t->len > HV_TEXTW_BYTES) {
			r->err = 1;             /* malformed: more bytes than the record holds */
			t->len = 0;
			break;
		}
		for (unsigned i = 0; i < t->len; i++)
			t->old_bytes[i] = r8(r);
		for (unsigned i = 0; i < t->len; i++)
			t->new_bytes[i] = r8(r);
		rstr(r, t->region, sizeof(t->region));
		rstr(r, t->severity, sizeof(t->severity));
		rstr(r, t->writer, sizeof(t->writer));
		if (r->off < r->len)                        /* appended; absent from older senders */
			t->reverted = r8(r);
		break;
	}
	default:
		break;
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

int hv_wire_hdr_key(const uint8_t psk[HV_WIRE_KEY_LEN], const struct hv_wire_hdr *h,
		    uint8_t out[HV_WIRE_KEY_LEN])
{
	if (h->flags & HV_WIRE_F_SENDER_KEY)
		return hv_wire_derive_key_sender(psk, h->sender, h->boot_nonce, out);
	return hv_wire_derive_key(psk, h->boot_nonce, out);
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
	if (h->version != HV_WIRE_VERSION)
		return HV_WIRE_E_VERSION;
	if (h->hdr_len != HV_WIRE_HDR_LEN || (h->flags & ~HV_WIRE_F_SENDER_KEY) ||
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
	w8(&w, HV_WIRE_VERSION);
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
	/* the same AEAD the collector opens with mbedTLS (hv_wire_open); BearSSL
	 * here for speed (events/wire_seal.h, issue 16) */
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
