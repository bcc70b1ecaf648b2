/* bench_net — the network sink's ring -1 path on the host, per event:
 * record into a CPU ring, drain, wire encode + ChaCha20-Poly1305 seal,
 * lwIP UDP/IP/Ethernet, e1000 TX descriptor, over a fake 82540EM register
 * file (the device side completes every frame at once). Bochs counts one TSC
 * tick per instruction, so run it under callgrind for an instruction profile
 * close to what ring -1 pays (issue 16, docs/BENCHMARKS.md "Network (ring -1)"):
 *   make build/tools/bench_net
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out build/tools/bench_net burst 20000
 *   callgrind_annotate /tmp/cg.out | head -40
 * Modes: burst (net_burst's monitor_state records), proc (tracer exec/fork/exit).
 * Seal path: SSE2 ChaCha20 inside an FXSAVE64/FXRSTOR64 guard as in ring -1
 * (arch/x86/fpu.c); BENCH_SEAL=portable for BearSSL's general-register one.
 * Prints events, datagrams, bytes and host ns per event. Host numbers, not Bochs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "drivers/e1000.h"
#include "drivers/net/hvnet.h"
#include "events/event.h"
#include "events/wire.h"
#include "events/wire_seal.h"
#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"

static uint32_t regs[0x6000 / 4];
static struct e1000_dma dma;
static struct e1000 nic;
static uint64_t frames, frame_bytes;

/* device side: every queued frame completes at once */
static void dev_transmit(void)
{
	while (regs[E1000_TDH / 4] != regs[E1000_TDT / 4]) {
		struct e1000_tx_desc *d = &dma.tx[regs[E1000_TDH / 4]];
		frames++;
		frame_bytes += d->length;
		d->status |= E1000_TXD_STA_DD;
		regs[E1000_TDH / 4] = (regs[E1000_TDH / 4] + 1) % E1000_NTX;
	}
}
static uint32_t e_rd(void *ctx, uint32_t r) { (void)ctx; return regs[r / 4]; }
static void e_wr(void *ctx, uint32_t r, uint32_t v)
{
	(void)ctx;
	if (r == E1000_EERD)
		v = (v & E1000_EERD_START) ? E1000_EERD_DONE | (v & 0xff00) | 0x1200u << 16 : 0;
	regs[r / 4] = v;
	if (r == E1000_CTRL)
		regs[r / 4] &= ~E1000_CTRL_RST;
	if (r == E1000_TDT)
		dev_transmit();
}
static const struct e1000_platform plat = { e_rd, e_wr, NULL, NULL, NULL };
static uint32_t clk(void) { return 0; }

/* ring -1's vector guard (arch/x86/fpu.c) minus its CR0/CR4 reads, which
 * user mode cannot do: the same two instructions per datagram */
static bool vec_begin(void *save)
{
	asm volatile("fxsave64 %0" : "=m"(*(uint8_t (*)[HV_WIRE_VEC_SAVE])save) : : "memory");
	return true;
}
static void vec_end(void *save)
{
	asm volatile("fxrstor64 %0" : : "m"(*(uint8_t (*)[HV_WIRE_VEC_SAVE])save) : "memory");
}
static const struct hv_wire_vec_guard vec_guard = { vec_begin, vec_end };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void produce(const char *mode, unsigned i, unsigned total)
{
	struct hv_event *ev;

	if (!strcmp(mode, "burst")) {
		ev = hv_event_reserve(0, HV_EV_MONITOR_STATE, HV_EMON_CORE);
		if (!ev)
			return;
		ev->u.monitor_state.enabled = 1;
		snprintf(ev->u.monitor_state.reason, HV_REASON_LEN, "net_burst %u/%u", i + 1, total);
	} else if (i % 3 == 0) {
		ev = hv_event_reserve(0, HV_EV_EXEC, HV_EMON_TRACER);
		if (!ev)
			return;
		hv_event_set_task(ev, 1000 + i, 1000 + i, "true", 4);
		ev->u.exec.ppid = 999;
		strcpy(ev->u.exec.filename, "/bin/true");
		hv_exec_add_arg(ev, "true", 4);
		hv_exec_add_arg(ev, "--bench", 7);
	} else if (i % 3 == 1) {
		ev = hv_event_reserve(0, HV_EV_FORK, HV_EMON_TRACER);
		if (!ev)
			return;
		hv_event_set_task(ev, 999, 999, "tracer-work", 11);
		ev->u.fork.parent_pid = 999;
		ev->u.fork.child_pid = 1000 + i;
		ev->u.fork.clone_flags = 0x1200011;
	} else {
		ev = hv_event_reserve(0, HV_EV_EXIT, HV_EMON_TRACER);
		if (!ev)
			return;
		hv_event_set_task(ev, 1000 + i, 1000 + i, "true", 4);
	}
	hv_event_commit(0);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "burst";
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 20000, per_drain = 128;
	static uint8_t key[32] = { 1, 2, 3 }, nonce[12] = { 4, 5, 6 };
	static struct hv_wire_tx tx;
	struct hvnet_config cfg = { 0 };
	struct hvnet_nic hn;
	const char *err = NULL;
	struct eth_addr peer = { { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 } };
	ip4_addr_t pip;

	if (strcmp(mode, "burst") && strcmp(mode, "proc")) {
		fprintf(stderr, "usage: bench_net burst|proc [events]\n");
		return 2;
	}
	size_t msz = hv_event_mem_size(1);
	if (hv_event_init(1, aligned_alloc(64, (msz + 63) & ~(size_t)63), msz))
		return 1;
	regs[E1000_STATUS / 4] = E1000_STATUS_LU;
	if (e1000_init(&nic, NULL, &plat, &dma, &err)) {
		fprintf(stderr, "e1000: %s\n", err);
		return 1;
	}
	e1000_hvnet_nic(&nic, &hn);
	hv_lwip_set_hooks(clk, NULL, NULL);
	if (hvnet_parse_ip_option("10.0.2.15/24,10.0.2.2", &cfg, &err) ||
	    hvnet_parse_collector_option("10.0.2.2:5140", &cfg, &err) || hvnet_init(&hn, &cfg))
		return 1;
	IP4_ADDR(&pip, 10, 0, 2, 2);
	etharp_add_static_entry(&pip, &peer);
	if (hv_wire_tx_init(&tx, key, 1, nonce, hvnet_wire_send, NULL) ||
	    hv_event_sink_register(&tx.sink))
		return 1;
	/* BENCH_WIRE=2: wire version 2, AES-256-GCM (issue 16); default 1 */
	const char *wv = getenv("BENCH_WIRE");
	if (wv && !strcmp(wv, "2") && hv_wire_tx_set_version(&tx, HV_WIRE_VERSION_GCM))
		return 1;
	const char *sp = getenv("BENCH_SEAL");
	hv_wire_seal_set_guard(sp && !strcmp(sp, "portable") ? NULL : &vec_guard);
	frames = frame_bytes = 0;
	double t0 = now();
	for (unsigned i = 0; i < n; i++) {
		produce(mode, i, n);
		if ((i + 1) % per_drain == 0 || i + 1 == n)
			hv_event_drain(0);
	}
	double t1 = now();
	struct hv_event_stats st;
	struct hvnet_stats hs;
	hv_event_get_stats(&st);
	hvnet_get_stats(&hs);
	printf("bench_net %s (wire v%u): %u events, %lu delivered, %lu dropped; %lu datagrams (%lu udp failed), "
	       "%lu frames, %.1f payload bytes/event; %.0f host ns/event\n", mode, (unsigned)tx.version, n,
	       (unsigned long)st.delivered, (unsigned long)st.dropped, (unsigned long)tx.datagrams,
	       (unsigned long)hs.udp_fail, (unsigned long)frames, (double)tx.bytes / (tx.events ? tx.events : 1),
	       (t1 - t0) * 1e9 / n);
	return st.delivered == n && !hs.udp_fail ? 0 : 1;
}
