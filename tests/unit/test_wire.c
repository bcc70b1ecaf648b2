#define _GNU_SOURCE
/* Unit tests for the wire protocol (records, sealing, opening), the
 * collector's sequence tracking and key-file parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "events/event.h"
#include "events/wire.h"
#include "events/wire_seal.h"
#include "mbedtls/chachapoly.h"
#include "tools/hvmon-collect-track.h"
#include "tools/hvmon-collect-key.h"

static void unhex(const char *h, uint8_t *out)
{
	for (size_t i = 0; h[2 * i]; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* RFC 8439 §2.8.2: the mbedTLS build really is ChaCha20-Poly1305. */
static void test_rfc8439_vector(void **state)
{
	uint8_t key[32], nonce[12], aad[12], ct[114], tag[16], exp_tag[16], exp_ct[16];
	const char *pt = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
			 "for the future, sunscreen would be it.";
	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key);
	unhex("070000004041424344454647", nonce);
	unhex("50515253c0c1c2c3c4c5c6c7", aad);
	unhex("1ae10b594f09e26a7e902ecbd0600691", exp_tag);
	unhex("d31a8d34648e60db7b86afbc53ef7ec2", exp_ct);
	mbedtls_chachapoly_context ctx;
	mbedtls_chachapoly_init(&ctx);
	assert_int_equal(mbedtls_chachapoly_setkey(&ctx, key), 0);
	assert_int_equal(strlen(pt), 114);
	assert_int_equal(mbedtls_chachapoly_encrypt_and_tag(&ctx, 114, nonce, aad, 12,
			 (const uint8_t *)pt, ct, tag), 0);
	assert_memory_equal(ct, exp_ct, 16);
	assert_memory_equal(tag, exp_tag, 16);
	mbedtls_chachapoly_free(&ctx);
}

/* The seal's two ChaCha20 paths (events/wire_seal.h): a host vector guard
 * (FXSAVE64/FXRSTOR64 run in user mode too, as ring -1's arch/x86/fpu.c does)
 * selects BearSSL's SSE2 ChaCha20; no guard, or a guard that refuses, the
 * portable one. Each seal test runs on each path and checks which one ran. */
static unsigned guard_begins, guard_ends;
static bool guard_allow;
static bool host_vec_begin(void *save)
{
	guard_begins++;
	if (!guard_allow)
		return false;
	asm volatile("fxsave64 %0" : "=m"(*(uint8_t (*)[HV_WIRE_VEC_SAVE])save) : : "memory");
	return true;
}
static void host_vec_end(void *save)
{
	guard_ends++;
	asm volatile("fxrstor64 %0" : : "m"(*(uint8_t (*)[HV_WIRE_VEC_SAVE])save) : "memory");
}
static const struct hv_wire_vec_guard host_guard = { host_vec_begin, host_vec_end };
/* The four seal counters at setup (ChaCha20 vector/portable, GCM AES-NI/
 * portable); the teardown checks that exactly the chosen one advanced. */
static uint64_t c0[4];
static void seal_counters(uint64_t c[4])
{
	hv_wire_seal_counts(&c[0], &c[1]);
	hv_wire_seal_counts_gcm(&c[2], &c[3]);
}
/* A path: which counter its seals advance, and the guard its setup installs
 * (none, or the host guard allowing or refusing vector code). The GCM AES-NI
 * path needs a host CPU with AES-NI + PCLMULQDQ, else its tests are reported
 * skipped (need_gcm_hw), never passed. */
struct path { const char *name; int counter; bool guard, allow; };
static const struct path paths[] = {
	{ "vector", 0, true, true }, { "refused", 1, true, false }, { "portable", 1, false, false },
	{ "gcm-hw", 2, true, true }, { "gcm-refused", 3, true, false }, { "gcm-portable", 3, false, false },
};
static int path_setup(void **state, int i)
{
	hv_wire_seal_set_guard(paths[i].guard ? &host_guard : NULL);
	guard_allow = paths[i].allow;
	guard_begins = guard_ends = 0;
	seal_counters(c0);
	*state = (void *)&paths[i];
	return 0;
}
static int path_vector(void **state)       { return path_setup(state, 0); }
static int path_refused(void **state)      { return path_setup(state, 1); }
static int path_portable(void **state)     { return path_setup(state, 2); }
static int gcm_path_hw(void **state)       { return path_setup(state, 3); }
static int gcm_path_refused(void **state)  { return path_setup(state, 4); }
static int gcm_path_portable(void **state) { return path_setup(state, 5); }
static const char *path_name(void **state)
{
	return ((const struct path *)*state)->name;
}
/* teardown: every seal took the path the setup chose (its counter advanced,
 * no other did); the guard ran begin/end in pairs where vector code ran, was
 * asked where it was installed, and never otherwise */
static int path_check(void **state)
{
	const struct path *pa = *state;
	bool vec = pa->guard && pa->allow;
	uint64_t c[4];

	seal_counters(c);
	for (int i = 0; i < 4; i++) {
		if (i == pa->counter)
			assert_true(c[i] > c0[i]);
		else
			assert_int_equal(c[i], c0[i]);
	}
	assert_int_equal(guard_ends, vec ? guard_begins : 0);
	assert_true(pa->guard ? guard_begins > 0 : guard_begins == 0);
	hv_wire_seal_set_guard(NULL);
	return 0;
}

/* RFC 8439 §2.8.2 through the sender's seal (BearSSL, events/wire_seal.c):
 * the whole ciphertext as the RFC prints it, and the tag. */
static void test_seal_rfc8439(void **state)
{
	uint8_t key[32], nonce[12], aad[12], buf[114], tag[16], exp_tag[16], exp_ct[114];
	const char *pt = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
			 "for the future, sunscreen would be it.";
	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key);
	unhex("070000004041424344454647", nonce);
	unhex("50515253c0c1c2c3c4c5c6c7", aad);
	unhex("1ae10b594f09e26a7e902ecbd0600691", exp_tag);
	unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	      "3ff4def08e4b7a9de576d26586cec64b6116", exp_ct);
	memcpy(buf, pt, sizeof(buf));
	hv_wire_seal(key, nonce, aad, sizeof(aad), buf, sizeof(buf), tag);
	assert_memory_equal(buf, exp_ct, sizeof(exp_ct));
	assert_memory_equal(tag, exp_tag, 16);
}

/* Inputs of the seal comparisons: key bytes i * mul + add, AAD bytes i ^ x,
 * payloads from an LCG, at every length a datagram can have (each up to 200
 * bytes, then every 61st, partial blocks on both sides of each block size). */
static void key_aad(uint8_t key[32], uint8_t aad[HV_WIRE_HDR_LEN], unsigned mul, unsigned add, unsigned x)
{
	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * mul + add);
	for (unsigned i = 0; i < HV_WIRE_HDR_LEN; i++)
		aad[i] = (uint8_t)(i ^ x);
}
static void lcg_fill(uint8_t *p, size_t n, uint32_t *x)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((*x = *x * 1103515245u + 12345u) >> 16);
}
static size_t next_len(size_t len)
{
	return len + (len < 200 ? 1 : 61);
}

/* The sender's seal and mbedTLS (the collector's open) agree on every length
 * a datagram can have, partial blocks included: same ciphertext, same tag. */
static void test_seal_same_as_mbedtls(void **state)
{
	static uint8_t a[HV_WIRE_MAX_PAYLOAD], b[HV_WIRE_MAX_PAYLOAD];
	uint8_t key[32], nonce[12], aad[HV_WIRE_HDR_LEN], ta[16], tb[16];
	uint32_t x = 12345;
	key_aad(key, aad, 29, 3, 0x5a);
	mbedtls_chachapoly_context ctx;
	mbedtls_chachapoly_init(&ctx);
	assert_int_equal(mbedtls_chachapoly_setkey(&ctx, key), 0);
	for (size_t len = 0; len <= HV_WIRE_MAX_PAYLOAD; len = next_len(len)) {
		lcg_fill(a, len, &x);
		memcpy(b, a, len);
		memset(nonce, 0, sizeof(nonce));
		memcpy(nonce + 4, &len, sizeof(uint32_t));
		assert_int_equal(mbedtls_chachapoly_encrypt_and_tag(&ctx, len, nonce, aad, sizeof(aad),
								    a, a, ta), 0);
		hv_wire_seal(key, nonce, aad, sizeof(aad), b, len, tb);
		assert_memory_equal(a, b, len ? len : 1);
		assert_memory_equal(ta, tb, 16);
	}
	mbedtls_chachapoly_free(&ctx);
}


static void fill_event(struct hv_event *ev, unsigned type)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.tsc = 0x1122334455667788ull + type;
	ev->hdr.cpu = 3;
	ev->hdr.monitor = HV_EMON_TRACER;
	hv_event_set_task(ev, -5, 77, "comm\x7f\"x", 16);
	switch (type) {
	case HV_EV_EXEC:
		ev->u.exec.ppid = 1; ev->u.exec.uid = 1000; ev->u.exec.err = -2;
		ev->u.exec.flags = HV_EXECF_ARGV_TRUNC;
		memset(ev->u.exec.filename, 'f', HV_PATH_LEN - 1);
		for (int i = 0; i < 16; i++) {
			char a[HV_ARG_LEN];
			memset(a, 'a' + i, sizeof(a));
			hv_exec_add_arg(ev, a, sizeof(a));
		}
		ev->u.exec.abi = HV_ABI_I386; ev->u.exec.syscall = 11;   /* appended (issue 15) */
		break;
	case HV_EV_FORK: ev->u.fork.parent_pid = 1; ev->u.fork.child_pid = 2; ev->u.fork.kind = 1;
		ev->u.fork.clone_flags = 0x3d0f00; ev->u.fork.abi = HV_ABI_KERNEL;
		ev->u.fork.syscall = -1; break;
	case HV_EV_EXIT: ev->u.exit.code = -1; ev->u.exit.status = 0x8b; ev->u.exit.signal = 11;
		ev->u.exit.flags = HV_EXITF_CORE | HV_EXITF_KTHREAD; ev->u.exit.abi = HV_ABI_X32;
		ev->u.exit.syscall = 0x4000003c; break;
	case HV_EV_HANG: case HV_EV_HANG_RECOVERED: strcpy(ev->u.hang.kind, "soft");
		ev->u.hang.vcpu = 1; ev->u.hang.seconds = 22; ev->u.hang.rip = ~0ull;
		ev->u.hang.scope = 1; ev->u.hang.cpus_hung = 1; break;   /* appended (issue 11) */
	case HV_EV_RET2USR: ev->u.ret2usr.rip = 1; ev->u.ret2usr.user_addr = 2; ev->u.ret2usr.how = 2; break;
	case HV_EV_CR4_TAMPER: ev->u.cr4.old_cr4 = 1; ev->u.cr4.new_cr4 = 2; ev->u.cr4.rip = 3;
		ev->u.cr4.blocked = 1; break;
	case HV_EV_KEYLOGGER: memset(ev->u.keylogger.device, 'd', HV_DEVICE_LEN - 1);
		ev->u.keylogger.keystrokes = 99; ev->u.keylogger.terminal = HV_KL_TERM_UNKNOWN; break;
	case HV_EV_HEARTBEAT: ev->u.heartbeat.uptime_ms = 5; ev->u.heartbeat.events = 6;
		ev->u.heartbeat.drops = 7; break;
	case HV_EV_DROPS: ev->u.drops.ring_cpu = 1; ev->u.drops.count = 2; ev->u.drops.total = 3; break;
	case HV_EV_INFERENCE: ev->u.inference.ok = 1; strcpy(ev->u.inference.kernel, "6.1");
		memset(ev->u.inference.reason, 'r', HV_REASON_LEN - 1); break;
	case HV_EV_MONITOR_STATE: ev->u.monitor_state.enabled = 1;
		strcpy(ev->u.monitor_state.reason, "why"); break;
	case HV_EV_BOOT_CONFIG: ev->u.boot_config.monitors = 0xb; ev->u.boot_config.loader = 1;
		memset(ev->u.boot_config.kernel_sha256, 'a', 64);
		memset(ev->u.boot_config.hvmon_sha256, 'b', 64);
		memset(ev->u.boot_config.options_sha256, 'c', 64);
		memset(ev->u.boot_config.options, 'o', HV_OPTSUM_LEN - 1); break;
	case HV_EV_DMA_FAULT: ev->u.dma_fault.source = 0xff17; ev->u.dma_fault.write = 1;
		ev->u.dma_fault.reason = 5; ev->u.dma_fault.addr = 0x1dc97000; ev->u.dma_fault.suppressed = 3;
		ev->u.dma_fault.unit = 1; break;
	case HV_EV_DENIED: ev->u.denied.reg = 0xb004; ev->u.denied.value = 0x2401;
		ev->u.denied.rip = 0xffffffff81000000ull; ev->u.denied.count = 4;
		strcpy(ev->u.denied.what, "sleep"); break;
	case HV_EV_TRACE_LOST: ev->u.trace_lost.count = 17; ev->u.trace_lost.pending = 16;
		strcpy(ev->u.trace_lost.what, "fork"); strcpy(ev->u.trace_lost.reason, "pending_full");
		break;
	case HV_EV_PROBE_TAMPER: ev->u.probe_tamper.va = 0xffffffff81234560ull;
		ev->u.probe_tamper.gpa = 0x1234560; ev->u.probe_tamper.new_gpa = 0x7654000;
		ev->u.probe_tamper.rip = 0xffffffffc0001234ull; ev->u.probe_tamper.ms = 512;
		ev->u.probe_tamper.new_mm = 3; ev->u.probe_tamper.rearmed = 1; ev->u.probe_tamper.nbytes = 8;
		memcpy(ev->u.probe_tamper.bytes, "\xcc\x1f\x44\x00\x00\x55\x48\x89", 8);
		strcpy(ev->u.probe_tamper.what, "remap");
		strcpy(ev->u.probe_tamper.probe, "proctrace:kernel_clone"); break;
	case HV_EV_SYSCALL_HOOK: case HV_EV_CR0_WP: case HV_EV_IDT_WRITE:   /* issue 15 (integrity) */
		ev->u.integrity.reg = 0xc0000082; ev->u.integrity.old_value = 0xffffffff81a00080ull;
		ev->u.integrity.new_value = 0xffffffffc0a01000ull; ev->u.integrity.rip = 0xffffffffc0a00010ull;
		ev->u.integrity.blocked = 1; strcpy(ev->u.integrity.what, "lstar");
		if (type == HV_EV_IDT_WRITE)
			ev->u.integrity.how = HV_INTEG_HOW_LGDT;     /* appended (issue 15) */
		break;
	case HV_EV_KERNEL_TEXT_WRITE: ev->u.text_write.va = 0xffffc90000123456ull;
		ev->u.text_write.gpa = 0x5a00123; ev->u.text_write.rip = 0xffffffffc0a00010ull;
		ev->u.text_write.changed = 3; ev->u.text_write.len = HV_TEXTW_BYTES;
		memset(ev->u.text_write.old_bytes, 0x0f, HV_TEXTW_BYTES);
		memset(ev->u.text_write.new_bytes, 0xe9, HV_TEXTW_BYTES);
		strcpy(ev->u.text_write.region, "syscall_table"); strcpy(ev->u.text_write.severity, "attack");
		strcpy(ev->u.text_write.writer, "kernel"); ev->u.text_write.reverted = 1;
		break;
	}
}

static void test_roundtrip_all_types(void **state)
{
	uint8_t buf[2048];
	struct hv_event in, out;
	char j1[HV_EVENT_JSON_MAX], j2[HV_EVENT_JSON_MAX];
	for (unsigned t = 1; t < HV_EV__COUNT; t++) {
		fill_event(&in, t);
		size_t n = hv_wire_encode_event(&in, buf, sizeof(buf));
		assert_true(n > HV_WIRE_REC_HDR_LEN);
		assert_true(n <= HV_WIRE_MAX_PAYLOAD);     /* every record fits a datagram */
		size_t used = 0;
		assert_int_equal(hv_wire_decode_event(buf, n, &out, &used), 0);
		assert_int_equal(used, n);
		assert_true(hv_event_to_json(&in, NULL, j1, sizeof(j1)) > 0);
		assert_true(hv_event_to_json(&out, NULL, j2, sizeof(j2)) > 0);
		assert_string_equal(j1, j2);
		/* every strict prefix is rejected, never accepted as an event */
		for (size_t k = 0; k < n; k++) {
			int rc = hv_wire_decode_event(buf, k, &out, &used);
			assert_int_equal(rc, HV_WIRE_E_RECORD);
		}
		/* too small an output buffer: 0, no overrun */
		memset(buf, 0xEE, sizeof(buf));
		assert_int_equal(hv_wire_encode_event(&in, buf, n - 1), 0);
		assert_int_equal(buf[n - 1], 0xEE);
	}
	/* worst case exec record size */
	fill_event(&in, HV_EV_EXEC);
	size_t n = hv_wire_encode_event(&in, buf, sizeof(buf));
	printf("# max exec record: %zu bytes (payload max %d)\n", n, HV_WIRE_MAX_PAYLOAD);
	assert_int_equal(in.u.exec.argc, 6);
}

static void test_decode_rejects(void **state)
{
	struct hv_event ev;
	size_t used;
	uint8_t buf[256];
	fill_event(&ev, HV_EV_KEYLOGGER);
	size_t n = hv_wire_encode_event(&ev, buf, sizeof(buf));
	/* body: tsc8 cpu2 flags2 pid4 tgid4 comm(1+len) device(1+len) ... */
	size_t comm_len_at = HV_WIRE_REC_HDR_LEN + 8 + 2 + 2 + 4 + 4;
	uint8_t save = buf[comm_len_at];
	buf[comm_len_at] = HV_COMM_LEN;           /* string as long as the field: rejected */
	assert_int_equal(hv_wire_decode_event(buf, n, &ev, &used), HV_WIRE_E_RECORD);
	buf[comm_len_at] = save;
	buf[comm_len_at + 2] = 0;                 /* embedded NUL */
	assert_int_equal(hv_wire_decode_event(buf, n, &ev, &used), HV_WIRE_E_RECORD);
	buf[comm_len_at + 2] = 'o';
	assert_int_equal(hv_wire_decode_event(buf, n, &ev, &used), 0);
	buf[HV_WIRE_REC_HDR_LEN + 10] = 0x80;     /* unknown header flag */
	assert_int_equal(hv_wire_decode_event(buf, n, &ev, &used), HV_WIRE_E_RECORD);
	/* body length larger than the buffer */
	uint8_t rec[8] = { HV_EV_EXIT, 1, 200, 0 };
	assert_int_equal(hv_wire_decode_event(rec, sizeof(rec), &ev, &used), HV_WIRE_E_RECORD);
	/* exit from an older sender (code only, no appended status/signal/flags) */
	fill_event(&ev, HV_EV_EXIT);
	uint8_t xb[128];
	n = hv_wire_encode_event(&ev, xb, sizeof(xb));
	xb[2] = (uint8_t)(xb[2] - 11);             /* without the appended 6 + 5 (issue 15) bytes */
	assert_int_equal(hv_wire_decode_event(xb, n - 11, &ev, &used), 0);
	assert_int_equal(ev.u.exit.code, -1);
	assert_int_equal(ev.u.exit.status, 0);
	assert_int_equal(ev.u.exit.flags, 0);
	assert_int_equal(ev.u.exit.abi, HV_ABI_NONE);
	/* exec, fork and exit from a sender before issue 15 (no abi/syscall): no "abi" member */
	static const unsigned t15[] = { HV_EV_EXEC, HV_EV_FORK, HV_EV_EXIT };
	for (unsigned i = 0; i < 3; i++) {
		uint8_t eb[2048];
		char js[HV_EVENT_JSON_MAX];
		fill_event(&ev, t15[i]);
		n = hv_wire_encode_event(&ev, eb, sizeof(eb));
		size_t bl = (size_t)eb[2] | (size_t)eb[3] << 8;
		eb[2] = (uint8_t)(bl - 5);
		eb[3] = (uint8_t)((bl - 5) >> 8);
		assert_int_equal(hv_wire_decode_event(eb, n - 5, &ev, &used), 0);
		assert_int_equal(ev.hdr.type, t15[i]);
		hv_event_to_json(&ev, NULL, js, sizeof(js));
		assert_null(strstr(js, "\"abi\""));
		/* and with them: "abi" and "syscall" appended last */
		fill_event(&ev, t15[i]);
		n = hv_wire_encode_event(&ev, eb, sizeof(eb));
		assert_int_equal(hv_wire_decode_event(eb, n, &ev, &used), 0);
		hv_event_to_json(&ev, NULL, js, sizeof(js));
		assert_non_null(strstr(js, i == 0 ? ",\"abi\":\"i386\",\"syscall\":11}" :
					   i == 1 ? ",\"abi\":\"kernel\",\"syscall\":-1}" :
					   ",\"abi\":\"x32\",\"syscall\":1073741884}"));
		/* an ABI code this build does not know is a malformed record */
		eb[n - 5] = HV_ABI__COUNT;
		assert_int_equal(hv_wire_decode_event(eb, n, &ev, &used), HV_WIRE_E_RECORD);
	}
	/* hang from an older sender (no appended scope/cpus_hung, issue 11): scope 0 */
	fill_event(&ev, HV_EV_HANG);
	n = hv_wire_encode_event(&ev, xb, sizeof(xb));
	xb[2] = (uint8_t)(xb[2] - 5);              /* body length without the appended 5 bytes */
	assert_int_equal(hv_wire_decode_event(xb, n - 5, &ev, &used), 0);
	assert_int_equal(ev.u.hang.vcpu, 1);
	assert_int_equal(ev.u.hang.scope, 0);
	assert_int_equal(ev.u.hang.cpus_hung, 0);
	/* keylogger from an older sender (no appended terminal, issue 15): 0, no "terminal" member */
	{
		char js[HV_EVENT_JSON_MAX];
		fill_event(&ev, HV_EV_KEYLOGGER);
		n = hv_wire_encode_event(&ev, xb, sizeof(xb));
		assert_int_equal(hv_wire_decode_event(xb, n, &ev, &used), 0);
		assert_int_equal(ev.u.keylogger.terminal, HV_KL_TERM_UNKNOWN);
		hv_event_to_json(&ev, NULL, js, sizeof(js));
		assert_non_null(strstr(js, ",\"keystrokes\":99,\"terminal\":\"unknown\"}"));
		xb[2] = (uint8_t)(xb[2] - 1);      /* body length without the appended byte */
		assert_int_equal(hv_wire_decode_event(xb, n - 1, &ev, &used), 0);
		assert_int_equal(ev.u.keylogger.keystrokes, 99);
		assert_int_equal(ev.u.keylogger.terminal, 0);
		hv_event_to_json(&ev, NULL, js, sizeof(js));
		assert_null(strstr(js, "\"terminal\""));
	}
	/* idt_write from an older sender (no appended how, issue 15): 0, no "how" member; a value past
	 * lgdt makes the record malformed */
	{
		char js[HV_EVENT_JSON_MAX];
		fill_event(&ev, HV_EV_IDT_WRITE);
		n = hv_wire_encode_event(&ev, xb, sizeof(xb));
		assert_int_equal(hv_wire_decode_event(xb, n, &ev, &used), 0);
		assert_int_equal(ev.u.integrity.how, HV_INTEG_HOW_LGDT);
		hv_event_to_json(&ev, NULL, js, sizeof(js));
		assert_non_null(strstr(js, ",\"blocked\":true,\"how\":\"lgdt\"}"));
		xb[n - 1] = HV_INTEG_HOW_LGDT + 1;
		assert_int_equal(hv_wire_decode_event(xb, n, &ev, &used), HV_WIRE_E_RECORD);
		xb[2] = (uint8_t)(xb[2] - 1);      /* body length without the appended byte */
		assert_int_equal(hv_wire_decode_event(xb, n - 1, &ev, &used), 0);
		assert_int_equal(ev.u.integrity.how, 0);
		assert_true(ev.u.integrity.blocked);
		hv_event_to_json(&ev, NULL, js, sizeof(js));
		assert_null(strstr(js, "\"how\""));
	}
	/* unknown type: skipped by its length */
	uint8_t unk[8] = { 200, 1, 4, 0, 1, 2, 3, 4 };
	assert_int_equal(hv_wire_decode_event(unk, sizeof(unk), &ev, &used), 1);
	assert_int_equal(used, 8);
	/* exec with argc 17 */
	fill_event(&ev, HV_EV_EXEC);
	memset(&ev.u.exec, 0, sizeof(ev.u.exec));
	uint8_t eb[512];
	n = hv_wire_encode_event(&ev, eb, sizeof(eb));
	/* argc is the last byte before the appended abi u8 + syscall u32 (no args, empty filename) */
	assert_int_equal(eb[n - 6], 0);
	eb[n - 6] = 17;
	assert_int_equal(hv_wire_decode_event(eb, n, &ev, &used), HV_WIRE_E_RECORD);
	/* fork kind out of range */
	fill_event(&ev, HV_EV_FORK);
	n = hv_wire_encode_event(&ev, eb, sizeof(eb));
	eb[n - 14] = 2;                          /* kind, before flags u64 and the appended abi u8 + syscall u32 */
	assert_int_equal(hv_wire_decode_event(eb, n, &ev, &used), HV_WIRE_E_RECORD);
}

static uint8_t sent[64][HV_WIRE_MAX_DGRAM];
static size_t sent_len[64];
static unsigned nsent;
static void capture(void *ctx, const uint8_t *d, size_t len)
{
	assert_true(len <= HV_WIRE_MAX_DGRAM);
	memcpy(sent[nsent], d, len);
	sent_len[nsent++] = len;
}

static const uint8_t psk[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t nonce[12] = { 0xa, 0xb, 0xc };

/* A datagram of fill_event's exec events, as sent: the filename's bytes are
 * not in clear, and with any single bit flipped anywhere it does not open. */
static void sealed_and_bound(const uint8_t key[32], const uint8_t *dg, size_t len)
{
	uint8_t d[HV_WIRE_MAX_DGRAM];
	struct hv_wire_hdr h;
	const uint8_t *pl;

	assert_null(memmem(dg, len, "ffffffffffffffff", 16));
	for (size_t i = 0; i < len; i++) {
		memcpy(d, dg, len);
		d[i] ^= 0x01;
		assert_int_not_equal(hv_wire_open(key, d, len, &h, &pl), 0);
	}
}

/* ---- wire version 2: AES-256-GCM (issue 16) ----
 * The AES-256 test cases 13-16 of McGrew & Viega's GCM specification (the
 * vectors NIST's GCM validation uses; taken from BearSSL's test/test_crypto.c
 * and checked against OpenSSL with python3-cryptography's AESGCM when added),
 * 96-bit IVs as the wire uses. */
static const struct gcm_kat { const char *key, *pt, *aad, *iv, *ct, *tag; } gcm_kats[] = {
	{"0000000000000000000000000000000000000000000000000000000000000000",
	 "",
	 "", "000000000000000000000000",
	 "",
	 "530f8afbc74536b9a963b4f1c4cb738b"},
	{"0000000000000000000000000000000000000000000000000000000000000000",
	 "00000000000000000000000000000000",
	 "", "000000000000000000000000",
	 "cea7403d4d606b6e074ec5d3baf39d18",
	 "d0d1c8a799996bf0265b98b5d48ab919"},
	{"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	 "", "cafebabefacedbaddecaf888",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	 "b094dac5d93471bdec1a502270e3cc6c"},
	{"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	 "feedfacedeadbeeffeedfacedeadbeefabaddad2", "cafebabefacedbaddecaf888",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	 "76fc6ece0f4e1768cddf8853bb2d551b"},
};

/* teardown of the tests that mix paths on purpose: the AES-NI path ran */
static int gcm_path_hw_ran(void **state)
{
	uint64_t c[4];
	seal_counters(c);
	assert_true(c[2] > c0[2]);
	assert_int_equal(guard_ends, guard_begins);
	hv_wire_seal_set_guard(NULL);
	return 0;
}
static void need_gcm_hw(void **state)
{
	if (!strcmp(path_name(state), "gcm-portable"))
		return;
	if (!hv_wire_gcm_hw()) {
		hv_wire_seal_set_guard(NULL);
		skip();                 /* this host has no AES-NI/PCLMULQDQ: not a pass */
	}
}

/* One known answer unpacked, sealed and opened with the raw key (kk NULL:
 * the one-shot functions) or with a kept key state. */
struct gcm_case { uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16]; size_t n, na; };
static void gcm_case(size_t i, struct gcm_case *c)
{
	const struct gcm_kat *k = &gcm_kats[i];
	c->n = strlen(k->pt) / 2;
	c->na = strlen(k->aad) / 2;
	unhex(k->key, c->key); unhex(k->iv, c->iv); unhex(k->aad, c->aad);
	unhex(k->pt, c->pt); unhex(k->ct, c->ct); unhex(k->tag, c->tag);
}
static void gcm_seal(struct hv_wire_gcm_key *kk, const struct gcm_case *c, uint8_t *buf, uint8_t tag[16])
{
	if (kk)
		hv_wire_seal_gcm_key(kk, c->iv, c->aad, c->na, buf, c->n, tag);
	else
		hv_wire_seal_gcm(c->key, c->iv, c->aad, c->na, buf, c->n, tag);
}
static int gcm_open(struct hv_wire_gcm_key *kk, const struct gcm_case *c, uint8_t *buf, const uint8_t tag[16])
{
	return kk ? hv_wire_open_gcm_key(kk, c->iv, c->aad, c->na, buf, c->n, tag) :
		    hv_wire_open_gcm(c->key, c->iv, c->aad, c->na, buf, c->n, tag);
}
/* the known answer sealed and opened; a wrong tag, ciphertext or AAD bit
 * refuses, and a refused open leaves nothing of the plaintext */
static void gcm_case_check(struct hv_wire_gcm_key *kk, struct gcm_case *c)
{
	uint8_t buf[64], tag[16];
	size_t n = c->n;

	memcpy(buf, c->pt, n);
	gcm_seal(kk, c, buf, tag);
	if (n)
		assert_memory_equal(buf, c->ct, n);
	assert_memory_equal(tag, c->tag, 16);
	assert_int_equal(gcm_open(kk, c, buf, c->tag), 0);
	if (n)
		assert_memory_equal(buf, c->pt, n);
	c->tag[15] ^= 0x80;
	memcpy(buf, c->ct, n);
	assert_int_equal(gcm_open(kk, c, buf, c->tag), -1);
	for (size_t j = 0; j < n; j++)
		assert_int_equal(buf[j], 0);
	c->tag[15] ^= 0x80;
	if (n) {
		memcpy(buf, c->ct, n);
		buf[n / 2] ^= 1;
		assert_int_equal(gcm_open(kk, c, buf, c->tag), -1);
	}
	if (c->na) {
		memcpy(buf, c->ct, n);
		c->aad[0] ^= 1;
		assert_int_equal(gcm_open(kk, c, buf, c->tag), -1);
		c->aad[0] ^= 1;
	}
}

/* the known answers with the raw key, on the path the setup chose */
static void test_gcm_kat(void **state)
{
	struct gcm_case c;
	need_gcm_hw(state);
	for (size_t i = 0; i < sizeof(gcm_kats) / sizeof(gcm_kats[0]); i++) {
		gcm_case(i, &c);
		gcm_case_check(NULL, &c);
	}
}

/* A kept key (hv_wire_gcm_key, the sender's): the known answers again,
 * sealed and opened three times each with one key state, and the key
 * schedule + H computed once for the path the setup chose; the other path's
 * pair is made once more at its first use and gives the same bytes. */
static void test_gcm_key_kept(void **state)
{
	static struct hv_wire_gcm_key kk;
	struct gcm_case c;
	uint8_t buf[64], tag[16];
	need_gcm_hw(state);
	for (size_t i = 0; i < sizeof(gcm_kats) / sizeof(gcm_kats[0]); i++) {
		gcm_case(i, &c);
		uint64_t s0 = hv_wire_gcm_schedules();
		hv_wire_gcm_key_init(&kk, c.key);
		assert_int_equal(hv_wire_gcm_schedules(), s0);          /* lazily, at first use */
		for (int r = 0; r < 3; r++)
			gcm_case_check(&kk, &c);
		assert_int_equal(hv_wire_gcm_schedules(), s0 + 1);
		if (strcmp(path_name(state), "gcm-hw"))
			continue;
		/* the portable pair at its first use, then kept; AES-NI's still kept */
		for (int r = 0; r < 4; r++) {
			hv_wire_seal_set_guard(r & 1 ? &host_guard : NULL);
			memcpy(buf, c.pt, c.n);
			gcm_seal(&kk, &c, buf, tag);
			if (c.n)
				assert_memory_equal(buf, c.ct, c.n);
			assert_memory_equal(tag, c.tag, 16);
		}
		hv_wire_seal_set_guard(&host_guard);
		assert_int_equal(hv_wire_gcm_schedules(), s0 + 2);
	}
	/* a new key in the same state: new schedule, new answers */
	gcm_case(0, &c);
	hv_wire_gcm_key_init(&kk, c.key);
	hv_wire_seal_gcm_key(&kk, c.iv, NULL, 0, NULL, 0, tag);
	assert_memory_equal(tag, c.tag, 16);
	hv_wire_gcm_key_wipe(&kk);
	for (size_t j = 0; j < sizeof(kk.opaque); j++)
		assert_int_equal(kk.opaque[j], 0);
}

/* AES-NI + PCLMULQDQ (ring -1's path) and BearSSL's portable AES/GHASH (the
 * collector's) are two implementations of AES and of GHASH: they must agree
 * on every payload length a datagram can have, both directions. */
static void test_gcm_paths_agree(void **state)
{
	static uint8_t a[HV_WIRE_MAX_PAYLOAD], b[HV_WIRE_MAX_PAYLOAD], pt[HV_WIRE_MAX_PAYLOAD];
	uint8_t key[32], nonce[12] = { 0 }, aad[HV_WIRE_HDR_LEN], ta[16], tb[16];
	uint32_t x = 777;
	need_gcm_hw(state);
	key_aad(key, aad, 13, 1, 0xa5);
	for (size_t len = 0; len <= HV_WIRE_MAX_PAYLOAD; len = next_len(len)) {
		lcg_fill(pt, len, &x);
		memcpy(nonce + 4, &len, sizeof(uint32_t));
		memcpy(a, pt, len);
		memcpy(b, pt, len);
		hv_wire_seal_gcm(key, nonce, aad, sizeof(aad), a, len, ta);     /* setup's path */
		hv_wire_seal_set_guard(NULL);
		hv_wire_seal_gcm(key, nonce, aad, sizeof(aad), b, len, tb);     /* portable */
		if (len)
			assert_memory_equal(a, b, len);
		assert_memory_equal(ta, tb, 16);
		assert_int_equal(hv_wire_open_gcm(key, nonce, aad, sizeof(aad), a, len, ta), 0);
		hv_wire_seal_set_guard(&host_guard);
		assert_int_equal(hv_wire_open_gcm(key, nonce, aad, sizeof(aad), b, len, tb), 0);
		if (len) {
			assert_memory_equal(a, pt, len);
			assert_memory_equal(b, pt, len);
		}
	}
}

/* A version-2 sender end to end: header version 2 with flag 1, opened by the
 * collector's own key choice (hv_wire_hdr_key); every bit flip refused; the
 * AES key is neither the version-1 key of the same boot nor opens as v1. */
static void test_seal_open_gcm(void **state)
{
	static struct hv_wire_tx tx, tx1;
	struct hv_event ev;
	struct hv_wire_hdr h;
	const uint8_t *pl;
	uint8_t key[32], kb[32], d[HV_WIRE_MAX_DGRAM];

	nsent = 0;
	assert_int_equal(hv_wire_tx_init(&tx, psk, 0x1234, nonce, capture, NULL), 0);
	assert_int_equal(hv_wire_tx_set_version(&tx, 7), -1);
	assert_int_equal(hv_wire_tx_set_version(&tx, HV_WIRE_VERSION_GCM), 0);
	assert_int_equal(hv_wire_tx_set_version(&tx, HV_WIRE_VERSION_GCM), -1);   /* once */
	hv_wire_derive_key_sender(psk, 0x1234, nonce, kb);
	assert_memory_not_equal(tx.key, kb, 32);               /* never the same key bytes */
	uint64_t sched0 = hv_wire_gcm_schedules();
	for (int i = 0; i < 4; i++) {
		fill_event(&ev, HV_EV_EXEC);
		assert_int_equal(hv_wire_tx_add(&tx, &ev), 0);
	}
	assert_int_equal(hv_wire_tx_flush(&tx), 0);
	assert_int_equal(nsent, 4);
	assert_int_equal(hv_wire_gcm_schedules(), sched0 + 1);  /* 4 seals, one key schedule */
	for (unsigned k = 0; k < nsent; k++) {
		memcpy(d, sent[k], sent_len[k]);
		assert_int_equal(d[4], HV_WIRE_VERSION_GCM);
		assert_int_equal(d[5], HV_WIRE_F_SENDER_KEY);
		assert_int_equal(hv_wire_parse_header(d, sent_len[k], &h), 0);
		assert_int_equal(hv_wire_hdr_key(psk, &h, key), 0);
		assert_memory_equal(key, tx.key, 32);
		assert_int_equal(hv_wire_open(key, d, sent_len[k], &h, &pl), 0);
		assert_int_equal(h.seq, k + 1);
		assert_int_equal(h.version, HV_WIRE_VERSION_GCM);
		struct hv_event got;
		size_t used;
		assert_int_equal(hv_wire_decode_event(pl, h.payload_len, &got, &used), 0);
		assert_string_equal(got.u.exec.filename, ev.u.exec.filename);
	}
	assert_int_equal(hv_wire_tx_set_version(&tx, HV_WIRE_VERSION_GCM), -1);   /* after seq 1 */
	sealed_and_bound(key, sent[0], sent_len[0]);
	/* as version 1 (version byte rewritten): the v1 key opens nothing */
	memcpy(d, sent[0], sent_len[0]);
	d[4] = HV_WIRE_VERSION;
	assert_int_equal(hv_wire_parse_header(d, sent_len[0], &h), 0);
	hv_wire_hdr_key(psk, &h, key);
	assert_memory_equal(key, kb, 32);
	assert_int_equal(hv_wire_open(key, d, sent_len[0], &h, &pl), HV_WIRE_E_AUTH);
	/* the v1 datagram of the same boot does not open as v2 either */
	nsent = 0;
	hv_wire_tx_init(&tx1, psk, 0x1234, nonce, capture, NULL);
	hv_wire_tx_add(&tx1, &ev);
	hv_wire_tx_flush(&tx1);
	memcpy(d, sent[0], sent_len[0]);
	assert_int_equal(d[4], HV_WIRE_VERSION);
	d[4] = HV_WIRE_VERSION_GCM;
	assert_int_equal(hv_wire_parse_header(d, sent_len[0], &h), 0);
	hv_wire_hdr_key(psk, &h, key);
	assert_int_equal(hv_wire_open(key, d, sent_len[0], &h, &pl), HV_WIRE_E_AUTH);
	/* version 2 needs the sender-bound key (flag 1) */
	d[5] = 0;
	assert_int_equal(hv_wire_parse_header(d, sent_len[0], &h), HV_WIRE_E_LENGTH);
}


static void test_seal_open(void **state)
{
	static struct hv_wire_tx tx;
	struct hv_event ev;
	struct hv_wire_hdr h;
	const uint8_t *pl;
	uint8_t key[32], d[HV_WIRE_MAX_DGRAM];

	nsent = 0;
	assert_int_equal(hv_wire_tx_init(&tx, psk, 0x1234, nonce, capture, NULL), 0);
	for (int i = 0; i < 10; i++) {
		fill_event(&ev, HV_EV_EXEC);                 /* ~1 KB each: one per datagram */
		assert_int_equal(hv_wire_tx_add(&tx, &ev), 0);
	}
	assert_int_equal(hv_wire_tx_flush(&tx), 0);
	assert_int_equal(hv_wire_tx_flush(&tx), 0);          /* empty: nothing sent */
	assert_int_equal(nsent, 10);
	assert_int_equal(tx.seq, 10);
	hv_wire_derive_key_sender(psk, 0x1234, nonce, key);
	for (unsigned k = 0; k < nsent; k++) {
		memcpy(d, sent[k], sent_len[k]);
		assert_int_equal(hv_wire_open(key, d, sent_len[k], &h, &pl), 0);
		assert_int_equal(h.seq, k + 1);
		assert_int_equal(h.sender, 0x1234);
		assert_int_equal(h.nrec, 1);
		assert_memory_equal(h.boot_nonce, nonce, 12);
	}
	/* payload is encrypted: the filename bytes do not appear in clear */
	sealed_and_bound(key, sent[0], sent_len[0]);
	/* truncated / extended */
	memcpy(d, sent[0], sent_len[0]);
	assert_int_equal(hv_wire_open(key, d, sent_len[0] - 1, &h, &pl), HV_WIRE_E_LENGTH);
	assert_int_equal(hv_wire_open(key, d, 20, &h, &pl), HV_WIRE_E_SHORT);
	/* wrong key / other boot's key */
	uint8_t other[12] = { 0xa, 0xb, 0xd }, key2[32];
	hv_wire_derive_key_sender(psk, 0x1234, other, key2);
	assert_memory_not_equal(key, key2, 32);
	assert_int_equal(hv_wire_open(key2, d, sent_len[0], &h, &pl), HV_WIRE_E_AUTH);
	/* an oversized datagram (consistent lengths, > 1472 bytes) is refused */
	static uint8_t big[HV_WIRE_HDR_LEN + 2000 + HV_WIRE_TAG_LEN];
	memcpy(big, sent[0], HV_WIRE_HDR_LEN);
	big[38] = 2000 & 0xff; big[39] = 2000 >> 8;
	assert_int_equal(hv_wire_parse_header(big, sizeof(big), &h), HV_WIRE_E_LENGTH);
	d[4] = 3;                                  /* 1 and 2 exist (issue 16) */
	assert_int_equal(hv_wire_parse_header(d, sent_len[0], &h), HV_WIRE_E_VERSION);
	d[0] = 'X';
	assert_int_equal(hv_wire_parse_header(d, sent_len[0], &h), HV_WIRE_E_MAGIC);
}

static void test_batching(void **state)
{
	static struct hv_wire_tx tx;
	struct hv_event ev;
	nsent = 0;
	hv_wire_tx_init(&tx, psk, 1, nonce, capture, NULL);
	for (int i = 0; i < 200; i++) {
		fill_event(&ev, HV_EV_EXIT);
		ev.u.exit.code = i;
		hv_wire_tx_add(&tx, &ev);
	}
	hv_wire_tx_flush(&tx);
	/* exit records are ~40 bytes: many per datagram, none lost */
	assert_true(nsent >= 5 && nsent < 10);
	uint8_t key[32];
	hv_wire_derive_key_sender(psk, 1, nonce, key);
	int next = 0;
	for (unsigned k = 0; k < nsent; k++) {
		struct hv_wire_hdr h;
		const uint8_t *pl;
		assert_int_equal(hv_wire_open(key, sent[k], sent_len[k], &h, &pl), 0);
		size_t off = 0, used;
		for (unsigned r = 0; r < h.nrec; r++) {
			assert_int_equal(hv_wire_decode_event(pl + off, h.payload_len - off, &ev, &used), 0);
			assert_int_equal(ev.u.exit.code, next++);
			off += used;
		}
		assert_int_equal(off, h.payload_len);
	}
	assert_int_equal(next, 200);
	assert_int_equal(tx.events, 200);
}

static struct hv_wire_hdr H(uint32_t sender, uint8_t n0, uint64_t seq)
{
	struct hv_wire_hdr h;
	memset(&h, 0, sizeof(h));
	h.sender = sender;
	h.boot_nonce[0] = n0;
	h.seq = seq;
	return h;
}

/* issue 18 finding 2: two senders with one PSK and one boot nonce must not
 * share a keystream (v1 derived the per-boot key from PSK and nonce only) */
static uint8_t cap2[2][HV_WIRE_MAX_DGRAM];
static size_t cap2_len[2];
static int cap2_i;
static void capture2(void *ctx, const uint8_t *d, size_t len)
{
	memcpy(cap2[cap2_i], d, len);
	cap2_len[cap2_i] = len;
}

static void test_sender_bound_keys(void **state)
{
	static struct hv_wire_tx a, b;
	struct hv_event ev;
	fill_event(&ev, HV_EV_EXEC);
	assert_int_equal(hv_wire_tx_init(&a, psk, 7, nonce, capture2, NULL), 0);
	assert_int_equal(hv_wire_tx_init(&b, psk, 8, nonce, capture2, NULL), 0);
	assert_memory_not_equal(a.key, b.key, 32);
	cap2_i = 0; hv_wire_tx_add(&a, &ev); hv_wire_tx_flush(&a);
	cap2_i = 1; hv_wire_tx_add(&b, &ev); hv_wire_tx_flush(&b);
	/* same plaintext, same seq 1, same nonce: the ciphertexts differ, i.e.
	 * ciphertext XOR plaintext (the keystream) differs */
	assert_int_equal(cap2_len[0], cap2_len[1]);
	assert_int_equal(cap2[0][5], HV_WIRE_F_SENDER_KEY);
	assert_memory_not_equal(cap2[0] + HV_WIRE_HDR_LEN, cap2[1] + HV_WIRE_HDR_LEN, 64);
	/* each opens with its own sender-bound key, chosen from the header */
	struct hv_wire_hdr h;
	const uint8_t *pl;
	uint8_t k[32];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hv_wire_parse_header(cap2[i], cap2_len[i], &h), 0);
		assert_int_equal(hv_wire_hdr_key(psk, &h, k), 0);
		assert_int_equal(hv_wire_open(k, cap2[i], cap2_len[i], &h, &pl), 0);
	}
	/* a flags-0 (v1) datagram still opens with the v1 key; flag 2 is refused */
	uint8_t d[HV_WIRE_MAX_DGRAM], k1[32];
	memcpy(d, cap2[0], cap2_len[0]);
	d[5] = 0;
	assert_int_equal(hv_wire_parse_header(d, cap2_len[0], &h), 0);
	hv_wire_hdr_key(psk, &h, k1);
	assert_memory_not_equal(k1, a.key, 32);
	d[5] = 2;
	assert_int_equal(hv_wire_parse_header(d, cap2_len[0], &h), HV_WIRE_E_LENGTH);
}

static uint32_t const_rand(void) { return 0x12345678; }
static uint32_t ctr_state;
static uint32_t ctr_rand(void) { return ctr_state += 0x9e3779b9; }
static uint32_t stuck_after_two(void) { static int n; return n++ < 2 ? (uint32_t)n : 2; }

/* issue 18: a random source returning constants gives no nonce (the channel refuses) */
static void test_nonce_source(void **state)
{
	uint8_t n[12];
	assert_int_equal(hv_wire_make_nonce(const_rand, n), -1);
	assert_int_equal(hv_wire_make_nonce(stuck_after_two, n), -1);
	assert_int_equal(hv_wire_make_nonce(ctr_rand, n), 0);
	uint8_t n2[12];
	assert_int_equal(hv_wire_make_nonce(ctr_rand, n2), 0);
	assert_memory_not_equal(n, n2, 12);
}

#define TD(t, h, now, r) track_datagram((t), &(h), (now), (r))

static void test_track(void **state)
{
	static struct track t;
	struct track_result r;
	struct hv_wire_hdr h;
	assert_int_equal(track_init(&t, 0, 15), 0);
	h = H(1, 1, 1); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW); assert_int_equal(r.gap_len, 0);
	assert_true(r.new_session);
	h = H(1, 1, 2); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
	h = H(1, 1, 5); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
	assert_int_equal(r.gap_from, 3); assert_int_equal(r.gap_len, 2); assert_int_equal(r.s->missing, 2);
	h = H(1, 1, 4); assert_int_equal(TD(&t, h, 1, &r), TRACK_LATE);
	assert_int_equal(r.s->missing, 1);
	h = H(1, 1, 4); assert_int_equal(TD(&t, h, 1, &r), TRACK_DUPLICATE);
	h = H(1, 1, 5); assert_int_equal(TD(&t, h, 1, &r), TRACK_DUPLICATE);
	h = H(1, 1, 0); assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	/* jump far ahead: the old ones fall out of the window → replay */
	h = H(1, 1, 5 + TRACK_WINDOW + 10); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
	assert_int_equal(r.gap_len, TRACK_WINDOW + 9);
	h = H(1, 1, 3); assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	assert_int_equal(r.why, TRACK_R_WINDOW);
	/* another sender is independent; a first datagram with seq 3 means 1,2 lost */
	h = H(2, 1, 3); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
	assert_int_equal(r.gap_from, 1); assert_int_equal(r.gap_len, 2);
	/* sender 1 reboots (seq 1, after its old boot went quiet): a new session;
	 * an already seen datagram of the old boot is now a replay */
	h = H(1, 9, 1); assert_int_equal(TD(&t, h, 100, &r), TRACK_NEW);
	assert_true(r.new_session);
	h = H(1, 1, 5 + TRACK_WINDOW + 10); assert_int_equal(TD(&t, h, 100, &r), TRACK_REPLAY);
	assert_int_equal(r.why, TRACK_R_OLD_BOOT);
	/* the old boot sending a NEW datagram after the new boot appeared: both
	 * are accepted, and it is an alarm (two live boots), once per minute */
	h = H(1, 1, 6 + TRACK_WINDOW + 10); assert_int_equal(TD(&t, h, 101, &r), TRACK_NEW);
	assert_non_null(r.two_live);
	h = H(1, 9, 2); assert_int_equal(TD(&t, h, 101, &r), TRACK_NEW);
	assert_null(r.two_live);
	h = H(1, 1, 6 + TRACK_WINDOW + 11); assert_int_equal(TD(&t, h, 102, &r), TRACK_NEW);
	assert_null(r.two_live);
	track_free(&t);
}

/* issue 18, finding 1: H(sender, boot, seq) = H(1,B,1) H(1,B,2) H(1,A,6)
 * H(1,B,3): one replayed datagram of an old boot A must not shut out the
 * live boot B; the replay is reported and dropped. */
static void test_track_replay_old_boot(void **state)
{
	static struct track t;
	struct track_result r;
	struct hv_wire_hdr h;
	enum { A = 0xa, B = 0xb };
	assert_int_equal(track_init(&t, 0, 15), 0);
	h = H(1, B, 1); assert_int_equal(TD(&t, h, 10, &r), TRACK_NEW);
	h = H(1, B, 2); assert_int_equal(TD(&t, h, 10.1, &r), TRACK_NEW);
	h = H(1, A, 6); assert_int_equal(TD(&t, h, 10.2, &r), TRACK_REPLAY);
	assert_int_equal(r.why, TRACK_R_NOT_A_BOOT);
	assert_null(r.s);                 /* no state created for the old boot */
	for (uint64_t q = 3; q <= 10; q++) {
		h = H(1, B, q);
		assert_int_equal(TD(&t, h, 10.3, &r), TRACK_NEW);
		assert_int_equal(r.gap_len, 0);
		assert_null(r.two_live);
	}
	/* more of A: still refused while B is live */
	h = H(1, A, 7); assert_int_equal(TD(&t, h, 11, &r), TRACK_REPLAY);
	track_free(&t);
}

/* sender ids s0..s0+n-1, each sends seq 1..k round robin: no false gaps;
 * then a replay of each sender's seq 1 is refused. */
static void fleet(size_t cap, uint32_t n, uint64_t k, bool expect_evictions)
{
	static struct track t;
	struct track_result r;
	struct hv_wire_hdr h;
	assert_int_equal(track_init(&t, cap, 15), 0);
	for (uint64_t q = 1; q <= k; q++)
		for (uint32_t i = 0; i < n; i++) {
			h = H(1000 + i, (uint8_t)i, q);
			h.boot_nonce[1] = (uint8_t)(i >> 8);
			assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
			assert_int_equal(r.gap_len, 0);
			assert_null(r.two_live);
		}
	for (uint32_t i = 0; i < n; i++) {
		h = H(1000 + i, (uint8_t)i, 1);
		h.boot_nonce[1] = (uint8_t)(i >> 8);
		enum track_verdict v = TD(&t, h, 2, &r);
		assert_true(v == TRACK_DUPLICATE || v == TRACK_REPLAY);
	}
	if (expect_evictions)
		assert_true(t.evicted > 0);
	else
		assert_int_equal(t.evicted, 0);
	track_free(&t);
}

/* --state: a boot remembered from an earlier run stays replay-proof */
static void test_track_remembered(void **state)
{
	static struct track t;
	struct track_result r;
	struct hv_wire_hdr h = H(5, 7, 0);
	assert_int_equal(track_init(&t, 0, 15), 0);
	assert_int_equal(track_add_tomb(&t, 5, h.boot_nonce, 40), 0);
	h.seq = 1;  assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	assert_int_equal(r.why, TRACK_R_EVICTED);
	h.seq = 40; assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	h.seq = 41; assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);   /* the boot goes on */
	assert_int_equal(r.gap_len, 0);
	h.seq = 39; assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	track_free(&t);
}

static void test_track_65_senders(void **state)   { fleet(0, 65, 3, false); }
static void test_track_5000_senders(void **state) { fleet(0, 5000, 3, false); }
/* a table far too small: eviction into tombstones never reopens replays */
static void test_track_evicted_replays(void **state)
{
	fleet(32, 65, 3, true);
	static struct track t;
	struct track_result r;
	struct hv_wire_hdr h;
	assert_int_equal(track_init(&t, 4, 15), 0);
	for (uint32_t i = 0; i < 8; i++) {
		h = H(1 + i, 1, 1); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
		h = H(1 + i, 1, 2); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
	}
	/* sender 1 was evicted: its seq 2 is refused, its seq 3 resumes the boot */
	h = H(1, 1, 2); assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	assert_int_equal(r.why, TRACK_R_EVICTED);
	h = H(1, 1, 3); assert_int_equal(TD(&t, h, 1, &r), TRACK_NEW);
	assert_int_equal(r.gap_len, 0);
	h = H(1, 1, 1); assert_int_equal(TD(&t, h, 1, &r), TRACK_REPLAY);
	track_free(&t);
}

static void test_key_parse(void **state)
{
	uint8_t k[32];
	char err[128];
	const char *good = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F";
	assert_int_equal(key_parse(good, strlen(good), k, err, sizeof(err)), 0);
	assert_int_equal(k[0], 0); assert_int_equal(k[10], 10); assert_int_equal(k[31], 0x1f);
	char ws[80];
	snprintf(ws, sizeof(ws), "  %s\r\n", good);
	assert_int_equal(key_parse(ws, strlen(ws), k, err, sizeof(err)), 0);
	assert_int_equal(key_parse(good, 63, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "found 63"));
	snprintf(ws, sizeof(ws), "%sff", good);
	assert_int_equal(key_parse(ws, strlen(ws), k, err, sizeof(err)), -1);
	snprintf(ws, sizeof(ws), "%s x", good);
	assert_int_equal(key_parse(ws, strlen(ws), k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected character"));
	assert_int_equal(key_parse("", 0, k, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8439_vector),
		cmocka_unit_test_setup_teardown(test_seal_rfc8439, path_portable, path_check),
		cmocka_unit_test_setup_teardown(test_seal_same_as_mbedtls, path_portable, path_check),
		cmocka_unit_test_setup_teardown(test_seal_rfc8439, path_vector, path_check),
		cmocka_unit_test_setup_teardown(test_seal_same_as_mbedtls, path_vector, path_check),
		cmocka_unit_test_setup_teardown(test_seal_rfc8439, path_refused, path_check),
		cmocka_unit_test_setup_teardown(test_gcm_kat, gcm_path_portable, path_check),
		cmocka_unit_test_setup_teardown(test_gcm_kat, gcm_path_hw, path_check),
		cmocka_unit_test_setup_teardown(test_gcm_kat, gcm_path_refused, path_check),
		cmocka_unit_test_setup_teardown(test_gcm_key_kept, gcm_path_portable, path_check),
		cmocka_unit_test_setup_teardown(test_gcm_key_kept, gcm_path_hw, gcm_path_hw_ran),
		cmocka_unit_test_setup_teardown(test_gcm_key_kept, gcm_path_refused, path_check),
		cmocka_unit_test_setup_teardown(test_gcm_paths_agree, gcm_path_hw, gcm_path_hw_ran),
		cmocka_unit_test_setup_teardown(test_seal_open_gcm, gcm_path_hw, gcm_path_hw_ran),
		cmocka_unit_test(test_roundtrip_all_types),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_batching),
		cmocka_unit_test(test_sender_bound_keys),
		cmocka_unit_test(test_nonce_source),
		cmocka_unit_test(test_track),
		cmocka_unit_test(test_track_replay_old_boot),
		cmocka_unit_test(test_track_remembered),
		cmocka_unit_test(test_track_65_senders),
		cmocka_unit_test(test_track_5000_senders),
		cmocka_unit_test(test_track_evicted_replays),
		cmocka_unit_test(test_key_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
