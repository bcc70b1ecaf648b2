/*
 * netdev — bring-up glue between the vmm core and the network channel
 * (drivers/net/hvnet_setup.c). See vmm/netdev.h and docs/NETWORK.md.
 */
#include <string.h>
#include "vmm/netdev.h"
#include "vmm/net_hide.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "vmm/options.h"
#include "vmm/tick.h"
#include "vmm/measure.h"
#include "drivers/pci.h"
#include "drivers/net/hvnet_setup.h"
#include "events/event.h"
#include "events/ring1.h"
#include "events/wire.h"
#include "events/wire_seal.h"
#include "arch/x86/fpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

#define NET_TICK_MS     10      /* poll period: NIC, lwIP timers, event drain */
#define NET_BURST_STEP  128     /* synthetic events per tick (ring: 256 slots) */

/* The seal's SSE2 ChaCha20 runs between FXSAVE and FXRSTOR of whatever this
 * CPU interrupted (arch/x86/fpu.h); begin() refuses on a CPU that would fault. */
static bool seal_vec_begin(void *save) { return fpu_vec_begin(save); }
static void seal_vec_end(void *save) { fpu_vec_end(save); }
static const struct hv_wire_vec_guard seal_guard = { seal_vec_begin, seal_vec_end };

static uint64_t identity_top;
static bool have_rdrand, have_rdseed;
static uint64_t rnd_state;
static uint32_t burst_total, burst_done;
static struct vm *nvm;
static struct hv_event boot_cfg;        /* vmm/measure.c: sent once, first (seq 1) */

static struct {
	uint64_t ticks, drained, drain_tsc, drain_calls_with_events, tick_tsc;
	uint64_t burst_tsc0, burst_tsc1, burst_tsc, burst_sent, burst_fail;
} ns;

static volatile void *map_mmio(uint64_t phys, uint64_t size)
{
	/* hvmon's page tables identity-map 0..max(4 GiB, RAM top) (arch/x86/paging.c);
	 * the MTRRs make the PCI hole UC, which wins over the WB page attribute. */
	if (!size || phys + size < phys || phys + size > identity_top)
		return NULL;
	return (volatile void *)(uintptr_t)phys;
}

static uint64_t virt_to_phys(const void *p)
{
	uint64_t va = (uint64_t)(uintptr_t)p;
	return va >= HV_VBASE ? hv_virt_to_phys(p) : va;
}

static uint32_t now_ms(void)
{
	return (uint32_t)tick_tsc_to_ms(rdtsc());
}

static bool rdrand32(uint32_t *v)
{
	uint8_t ok;
	for (int i = 0; i < 10; i++) {
		asm volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static bool rdseed32(uint32_t *v)
{
	uint8_t ok;
	for (int i = 0; i < 10; i++) {
		asm volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* RDRAND, else RDSEED, mixed with the TSC; without either a xorshift64*
 * stream seeded from the TSC (weak: refused unless net_rng=tsc-insecure or
 * the firmware gave a seed). */
static uint32_t rand32_cpu(void);
static uint8_t fw_seed[32];      /* EFI_RNG_PROTOCOL bytes (boot_info), if any */
static bool have_fw_seed;
static uint32_t fw_seed_i;

/* the firmware seed, 4 bytes at a time, XORed into every draw: a fresh
 * firmware seed makes the boot nonce fresh even without RDRAND */
static uint32_t fw_mix(void)
{
	uint32_t w = 0;
	if (!have_fw_seed)
		return 0;
	for (int b = 0; b < 4; b++)
		w |= (uint32_t)fw_seed[(fw_seed_i * 4 + b) % sizeof(fw_seed)] << (8 * b);
	fw_seed_i++;
	return w;
}

static uint32_t rand32(void)
{
	return rand32_cpu() ^ fw_mix();
}

static uint32_t rand32_cpu(void)
{
	uint32_t v;
	uint64_t t = rdtsc();
	if (have_rdrand && rdrand32(&v))
		return v ^ (uint32_t)(t * 0x9e3779b97f4a7c15ULL >> 32);
	if (have_rdseed && rdseed32(&v))
		return v ^ (uint32_t)(t * 0x9e3779b97f4a7c15ULL >> 32);
	rnd_state ^= t;
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (uint32_t)((rnd_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static void delay_us(unsigned us)
{
	uint64_t end = rdtsc() + tick_tsc_hz() / 1000000 * us + 1;
	while (rdtsc() < end)
		cpu_relax();
}

static char *put_dec(char *p, char *end, uint64_t v)
{
	char t[24];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < 24);
	while (n && p < end)
		*p++ = t[--n];
	return p;
}

static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

/* net_burst=N: N monitor_state events (monitor hvmon, reason "net_burst I/N
 * tsc T"), NET_BURST_STEP per tick, network only: straight into the wire
 * sender like the heartbeat (not through a ring, not on the console: at
 * emulated serial speed 10,000 JSON lines would take Bochs many minutes).
 * The ring path is what the guest workload's events take. */
static void burst_step(void)
{
	static struct hv_event ev;
	uint64_t t0 = rdtsc();
	unsigned k;

	for (k = 0; k < NET_BURST_STEP && burst_done < burst_total; k++) {
		uint64_t t = rdtsc();
		memset(&ev, 0, sizeof(ev));
		ev.hdr.tsc = t;
		ev.hdr.type = HV_EV_MONITOR_STATE;
		ev.hdr.monitor = HV_EMON_CORE;
		if (!burst_done)
			ns.burst_tsc0 = t;
		char *p = ev.u.monitor_state.reason, *end = p + HV_REASON_LEN - 1;
		ev.u.monitor_state.enabled = 1;
		p = put_str(p, end, "net_burst ");
		p = put_dec(p, end, burst_done + 1);
		p = put_str(p, end, "/");
		p = put_dec(p, end, burst_total);
		*p = 0;
		if (hvnet_send_event(&ev))
			ns.burst_fail++;
		burst_done++;
	}
	hvnet_flush();
	ns.burst_tsc += rdtsc() - t0;
	ns.burst_sent += k;
	if (burst_done == burst_total && k) {
		ns.burst_tsc1 = rdtsc();
		pr_info("net: burst of %u events sent in %lu TSC ticks (%lu per event in ring -1, "
			"%lu failed)\n", burst_total, (unsigned long)(ns.burst_tsc1 - ns.burst_tsc0),
			(unsigned long)(ns.burst_tsc / (ns.burst_sent ? ns.burst_sent : 1)),
			(unsigned long)ns.burst_fail);
	}
}

/* net_burst_rate=R1,R2,... (issue 16: the network sink at its limit): one phase
 * per rate, each of net_burst events recorded into CPU 0's ring at R events per
 * second of guest TSC time — the path a monitor's events take: reserve/commit,
 * the high-water drain (hv_events_ring1_kick) and this tick's drain into the
 * wire sink — so the ring's drop counter, the NIC's and lwIP's failures and the
 * collector's loss all show when the sink cannot keep up. One line per phase:
 * the rate reached, ring -1 ticks per event and ring -1's share of the phase. */
static struct {
	uint32_t phase, done;
	uint64_t t_start, ring1, drops0, udpfail0, txfail0, dg0;
} bp;

static void rate_phase_record(uint32_t rate, uint64_t now)
{
	uint64_t due = (now - bp.t_start) * rate / tick_tsc_hz();
	if (due > burst_total)
		due = burst_total;
	while (bp.done < due) {
		struct hv_event *ev = hv_event_reserve(0, HV_EV_MONITOR_STATE, HV_EMON_CORE);
		bp.done++;
		if (!ev)
			continue;                       /* ring full: counted by the event core */
		char *p = ev->u.monitor_state.reason, *end = p + HV_REASON_LEN - 1;
		ev->u.monitor_state.enabled = 1;
		p = put_str(p, end, "net_burst ");
		p = put_dec(p, end, bp.done);
		p = put_str(p, end, "/");
		p = put_dec(p, end, burst_total);
		p = put_str(p, end, " rate ");
		p = put_dec(p, end, rate);
		*p = 0;
		hv_event_commit(0);
		hv_events_ring1_kick(0);                /* as a monitor's exit does */
	}
}

static void rate_phase_end(uint32_t rate, uint64_t now)
{
	struct hvnet_stats hs;
	uint64_t dg, by, evs, span = now - bp.t_start, hz = tick_tsc_hz();
	hvnet_get_stats(&hs);
	hvnet_wire_stats(&dg, &by, &evs);
	pr_info("net: burst phase %u: offered %u/s, %u events in %lu TSC ticks = %lu events/s of guest time; "
		"ring -1 %lu TSC ticks/event (record + drain + seal + send), %lu.%02lu %% of the phase; "
		"ring drops %lu, udp failed %lu, tx failed %lu, %lu datagrams\n", bp.phase + 1, rate, burst_total,
		(unsigned long)span, (unsigned long)(span ? (uint64_t)burst_total * hz / span : 0),
		(unsigned long)(bp.ring1 / burst_total), (unsigned long)(span ? bp.ring1 * 100 / span : 0),
		(unsigned long)(span ? bp.ring1 * 10000 / span % 100 : 0),
		(unsigned long)(hv_event_ring_drops(0) - bp.drops0), (unsigned long)(hs.udp_fail - bp.udpfail0),
		(unsigned long)(hs.tx_fail - bp.txfail0), (unsigned long)(dg - bp.dg0));
}

/* called at the start of the BSP's net tick; returns true while a phase runs */
static bool rate_phase_step(uint64_t now)
{
	if (bp.phase >= nvm->opt.net_burst_rates || !burst_total || !hvnet_sink_attached())
		return false;
	if (!bp.t_start) {                              /* phase start: counters at zero */
		struct hvnet_stats hs;
		uint64_t by, evs;
		hvnet_get_stats(&hs);
		hvnet_wire_stats(&bp.dg0, &by, &evs);
		bp.t_start = now;
		bp.drops0 = hv_event_ring_drops(0);
		bp.udpfail0 = hs.udp_fail;
		bp.txfail0 = hs.tx_fail;
		return true;
	}
	rate_phase_record(nvm->opt.net_burst_rate[bp.phase], now);
	return true;
}

/* after the tick's drain: the phase ends once all its events are out */
static void rate_phase_account(uint64_t ticks)
{
	bp.ring1 += ticks;
	if (bp.done < burst_total)
		return;
	rate_phase_end(nvm->opt.net_burst_rate[bp.phase], rdtsc());
	bp = (typeof(bp)){ .phase = bp.phase + 1 };
}

/* Latency meter: a third sink, after the console and wire sinks, sees each
 * event at the end of its delivery in the drain: now - hdr.tsc = ring -1
 * latency from the event's record to its datagram handed to the NIC (the
 * wire sink seals and sends when a datagram fills, the rest at the drain's
 * flush, i.e. within the same drain). */
static struct {
	uint64_t n, sum, min, max;
} lat;

static void lat_emit(struct hv_event_sink *s, const struct hv_event *ev)
{
	(void)s;
	uint64_t now = rdtsc();
	if (ev->hdr.type == HV_EV_DROPS || now < ev->hdr.tsc)
		return;
	uint64_t d = now - ev->hdr.tsc;
	if (!lat.n || d < lat.min)
		lat.min = d;
	if (d > lat.max)
		lat.max = d;
	lat.sum += d;
	lat.n++;
}

static struct hv_event_sink lat_sink = { .name = "net-latency", .emit = lat_emit };
static bool lat_attached;

static void net_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)now;
	(void)ctx;
	if (v->id != 0)                 /* lwIP is single-threaded: BSP only */
		return;
	uint64_t t0 = rdtsc();
	bool phase = rate_phase_step(t0);
	hvnet_tick();
	if (!nvm->opt.net_burst_rates && burst_done < burst_total && hvnet_sink_attached())
		burst_step();
	if (!lat_attached && hvnet_sink_attached())
		lat_attached = hv_event_sink_register(&lat_sink) == 0;   /* after the wire sink */
	uint64_t t1 = rdtsc();
	unsigned n = hv_event_drain(0);
	uint64_t t2 = rdtsc();
	ns.ticks++;
	ns.tick_tsc += t2 - t0;
	if (phase)
		rate_phase_account(t2 - t0);
	if (n) {
		ns.drained += n;
		ns.drain_tsc += t2 - t1;
		ns.drain_calls_with_events++;
	}
}

int netdev_init(struct vm *vm)
{
	const char *err = "?";
	struct x86_cpuid r;

	if (!vm->opt.collector_set) {
		pr_info("net: no collector= option: events on the console only\n");
		return 0;
	}
	identity_top = vm->phys_top < (4ULL << 30) ? (4ULL << 30) :
		       (vm->phys_top + (1ULL << 30) - 1) & ~((1ULL << 30) - 1);
	cpuid_count(1, 0, &r);
	have_rdrand = r.ecx & (1u << 30);
	cpuid_count(0, 0, &r);
	if (r.eax >= 7) {
		cpuid_count(7, 0, &r);
		have_rdseed = r.ebx & (1u << 18);
	}
	rnd_state = rdtsc() | 1;
	if (vm->bi->rng_seed_len == sizeof(fw_seed)) {
		memcpy(fw_seed, vm->bi->rng_seed, sizeof(fw_seed));
		have_fw_seed = true;
	}
	if (!have_rdrand && !have_rdseed && have_fw_seed) {
		pr_warn("net: no RDRAND/RDSEED: boot nonce from the firmware's EFI_RNG_PROTOCOL seed\n");
	} else if (!have_rdrand && !have_rdseed) {
		/* a TSC-seeded nonce can repeat across boots and hosts: AEAD nonce
		 * reuse (issue 18). Only an explicit opt-in accepts that. */
		if (!vm->opt.net_rng_insecure) {
			pr_err("net: no RDRAND/RDSEED: no network channel without a hardware random source "
			       "(net_rng=tsc-insecure accepts a TSC-seeded nonce; docs/OPTIONS.md); events stay on the console\n");
			return -1;
		}
		pr_warn("net: no RDRAND/RDSEED, net_rng=tsc-insecure: boot nonce and lwIP randomness from the TSC only\n");
	}

	measure_boot(vm, &boot_cfg);            /* before the guest can touch kernel/initrd */
	hv_wire_seal_set_guard(&seal_guard);
	struct hvnet_platform p = { map_mmio, virt_to_phys, now_ms, rand32, delay_us };
	uint64_t t0 = rdtsc();
	hvnet_set_first_event(&boot_cfg);
	if (hvnet_setup_from_options(&p, &vm->opt, &err)) {
		pr_err("%s: events stay on the console\n", err);
		return -1;
	}
	const struct pci_dev *d = hvnet_pci_dev();
	pr_info("net: e1000 %02x:%02x.%u BAR0 %#lx up in %lu TSC ticks (%s)\n", d->bus, d->dev, d->fn,
		(unsigned long)d->bar[0], (unsigned long)(rdtsc() - t0),
		vm->opt.ip_dhcp ? "DHCP" : "static address");
	pr_info("net: wire version %u, %s (wire_aead=%s; CPUID %s AES-NI + PCLMULQDQ)\n", hvnet_wire_version(),
		hvnet_wire_version() == HV_WIRE_VERSION_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305",
		vm->opt.wire_aead == HV_WAEAD_GCM ? "aes-256-gcm" :
		vm->opt.wire_aead == HV_WAEAD_CHACHA ? "chacha20-poly1305" : "auto",
		hv_wire_gcm_hw() ? "has" : "lacks");
	if (net_hide_apply(vm, d)) {
		pr_err("net: cannot hide the NIC from the guest: network channel off\n");
		hv_panic("management NIC visible to the guest");   /* fail closed */
	}
	if (tick_register("net", NET_TICK_MS, net_tick, vm)) {
		pr_err("net: no tick slot: the network channel cannot run\n");
		return -1;
	}
	burst_total = vm->opt.net_burst;
	nvm = vm;
	if (vm->opt.net_burst_rates && !burst_total)
		pr_warn("net: net_burst_rate= without net_burst=: no burst phases\n");
	return 0;
}

void netdev_print_stats(void)
{
	struct hvnet_stats hs;
	struct net_hide_stats hst;
	if (!hvnet_active())
		return;
	hvnet_get_stats(&hs);
	net_hide_get_stats(&hst);
	hv_printf("hvmon: net: address %u.%u.%u.%u; rx %lu frames (%lu bad, %lu oversize, %lu no-mem), "
		  "tx %lu frames (%lu failed); udp %lu sent, %lu failed, %lu not ready\n",
		  hvnet_ip() >> 24, hvnet_ip() >> 16 & 255, hvnet_ip() >> 8 & 255, hvnet_ip() & 255,
		  (unsigned long)hs.rx_frames, (unsigned long)hs.rx_bad, (unsigned long)hs.rx_oversize,
		  (unsigned long)hs.rx_nomem, (unsigned long)hs.tx_frames, (unsigned long)hs.tx_fail,
		  (unsigned long)hs.udp_sent, (unsigned long)hs.udp_fail, (unsigned long)hs.udp_not_ready);
	hv_printf("hvmon: net: %lu ticks, %lu TSC ticks/tick; %lu events drained, %lu TSC ticks/event "
		  "(drain incl. wire seal+send); burst %u/%u\n",
		  (unsigned long)ns.ticks, (unsigned long)(ns.ticks ? ns.tick_tsc / ns.ticks : 0),
		  (unsigned long)ns.drained, (unsigned long)(ns.drained ? ns.drain_tsc / ns.drained : 0),
		  burst_done, burst_total);
	uint64_t dg, by, evs;
	hvnet_wire_stats(&dg, &by, &evs);
	hv_printf("hvmon: net: wire %lu datagrams, %lu bytes, %lu events (%lu bytes/event)\n",
		  (unsigned long)dg, (unsigned long)by, (unsigned long)evs,
		  (unsigned long)(evs ? by / evs : 0));
	hv_printf("hvmon: net: per datagram: seal (%s) %lu TSC ticks, send (lwIP UDP/IP/Ethernet "
		  "+ NIC) %lu, of which the NIC's tx %lu\n",
		  hvnet_wire_version() == HV_WIRE_VERSION_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305",
		  (unsigned long)(dg ? hvnet_seal_ticks() / dg : 0),
		  (unsigned long)(hs.udp_sent ? hs.send_tsc / hs.udp_sent : 0),
		  (unsigned long)(hs.tx_frames ? hs.nic_tsc / hs.tx_frames : 0));
	uint64_t sv, sp, gv, gp;
	hv_wire_seal_counts(&sv, &sp);
	hv_wire_seal_counts_gcm(&gv, &gp);
	hv_printf("hvmon: net: seal paths: %lu datagrams with SSE2 ChaCha20 (vector state saved and restored "
		  "around each), %lu portable\n", (unsigned long)sv, (unsigned long)sp);
	hv_printf("hvmon: net: seal paths: %lu datagrams with AES-NI + PCLMULQDQ AES-256-GCM (vector state saved "
		  "and restored around each), %lu portable\n", (unsigned long)gv, (unsigned long)gp);
	uint64_t hz = tick_tsc_hz();
	hv_printf("hvmon: net: latency record->sent (ring events, TSC %lu kHz): %lu events, min %lu "
		  "avg %lu max %lu TSC ticks (avg %lu us)\n", (unsigned long)(hz / 1000),
		  (unsigned long)lat.n, (unsigned long)lat.min,
		  (unsigned long)(lat.n ? lat.sum / lat.n : 0), (unsigned long)lat.max,
		  (unsigned long)(lat.n && hz ? lat.sum / lat.n * 1000000 / hz : 0));
	hv_printf("hvmon: net: hidden config reads %lu, writes dropped %lu, config passed %lu, "
		  "I/O BAR %lu\n", (unsigned long)hst.cfg_hidden_reads, (unsigned long)hst.cfg_hidden_writes,
		  (unsigned long)hst.cfg_passed, (unsigned long)hst.bar_io);
}
