/* hvmon network channel bring-up — see hvnet_setup.h. */
#include "drivers/net/hvnet_setup.h"
#include "drivers/net/hvnet.h"
#include "drivers/pci.h"
#include "drivers/e1000.h"
#include "events/event.h"
#include "events/wire.h"
#include "events/wire_seal.h"
#include "vmm/options.h"

static struct e1000_dma dma __attribute__((aligned(4096)));
static struct e1000 nic;
static struct hv_wire_tx tx;
static struct pci_dev devs[PCI_MAX_DEVS];
static struct hvnet_platform plat;
static bool active, sink_attached;
static const struct hv_event *first_ev;   /* hvnet_set_first_event */
static int nic_index;
static uint32_t hb_interval, hb_last;

static uint64_t wire_clock(void)
{
	return __builtin_ia32_rdtsc();
}

static void e1000_delay(unsigned us)
{
	if (plat.delay_us)
		plat.delay_us(us);
}

int hvnet_options_from_strings(struct hvnet_options *o, const char *net, const char *ip,
			       const char *collector, const char *key, const char **err)
{
	*o = (struct hvnet_options){ 0 };
	o->wire_aead = HV_WAEAD_CHACHA;       /* no vector guard there: version 1 */
	o->net_first = !net || !*net || (net[0] == 'f' && net[1] == 'i');   /* "first" */
	if (!o->net_first && pci_parse_bdf(net, &o->net_bus, &o->net_dev, &o->net_fn)) {
		*err = "net=: expected first or a PCI address BB:DD.F";
		return -1;
	}
	if (!collector || !key) {
		*err = "net: collector= and key= are required for the network channel";
		return -1;
	}
	if (hvnet_parse_collector_option(collector, &o->cfg, err) ||
	    hvnet_parse_key_option(key, o->key, err) ||
	    hvnet_parse_ip_option(ip ? ip : "dhcp", &o->cfg, err))
		return -1;
	o->key_len = 32;
	return 0;
}

int hvnet_options_from_hv(struct hvnet_options *o, const struct hv_options *hv, const char **err)
{
	*o = (struct hvnet_options){ 0 };
	if (!hv->collector_set) {
		*err = "net: no collector= option: events go to the console only";
		return -1;
	}
	if (hv->key_len != 32) {
		*err = hv->key_len ? "net: key= must be 64 hex digits (32 bytes) for the wire protocol"
				   : "net: no key= option: the network channel needs the pre-shared key";
		return -1;
	}
	if (!hv->ip_dhcp && (hv->ip_prefix < 1 || hv->ip_prefix > 30)) {
		*err = "net: ip= prefix must be 1..30";
		return -1;
	}
	o->cfg.dhcp = hv->ip_dhcp;
	o->cfg.ip = hv->ip_addr;
	o->cfg.netmask = hv->ip_dhcp ? 0 : ~((1u << (32 - hv->ip_prefix)) - 1);
	o->cfg.gw = hv->ip_gw;
	o->cfg.collector_ip = hv->collector_ip;
	o->cfg.collector_port = hv->collector_port;
	o->net_first = hv->net_first;
	o->net_bus = hv->net_bus;
	o->net_dev = hv->net_dev;
	o->net_fn = hv->net_fn;
	o->wire_aead = hv->wire_aead;
	for (int i = 0; i < 32; i++)
		o->key[i] = hv->key[i];
	o->key_len = 32;
	return 0;
}

int hvnet_setup_from_options(const struct hvnet_platform *p, const struct hv_options *hv,
			     const char **err)
{
	static struct hvnet_options o;
	int rc = hvnet_options_from_hv(&o, hv, err);

	if (!rc)
		rc = hvnet_setup(p, &o, err);
	for (int i = 0; i < 32; i++)
		((volatile uint8_t *)o.key)[i] = 0;
	return rc;
}

int hvnet_setup(const struct hvnet_platform *p, const struct hvnet_options *o, const char **err)
{
	struct hvnet_config cfg = o->cfg;
	struct hvnet_nic hn;
	struct e1000_platform ep = { 0 };
	uint8_t nonce[HV_WIRE_NONCE_LEN];
	volatile void *mmio;
	int n, i;

	if (!p || !p->map_mmio || !p->virt_to_phys || !p->now_ms || !p->rand32) {
		*err = "net: platform hooks missing";
		return -1;
	}
	if (o->key_len != 32) {
		*err = "net: the wire protocol needs a 32-byte key";
		return -1;
	}
	plat = *p;
	n = pci_enumerate(devs, PCI_MAX_DEVS);
	if (o->net_first) {
		i = e1000_pick(devs, n, NULL, err);
	} else {
		char bdf[8] = { "0123456789abcdef"[o->net_bus >> 4], "0123456789abcdef"[o->net_bus & 15], ':',
				"0123456789abcdef"[o->net_dev >> 4], "0123456789abcdef"[o->net_dev & 15], '.',
				(char)('0' + (o->net_fn & 7)), 0 };
		i = e1000_pick(devs, n, bdf, err);
	}
	if (i < 0)
		return -1;
	if (devs[i].bar_io[0] || !devs[i].bar_size[0] || !devs[i].bar[0]) {
		*err = "net: e1000 BAR0 is not an assigned memory BAR";
		return -1;
	}
	nic_index = i;
	if (pci_hide(&devs[i])) {
		*err = "net: too many hidden PCI functions";
		return -1;
	}
	pci_enable_device(&devs[i]);
	mmio = plat.map_mmio(devs[i].bar[0], devs[i].bar_size[0]);
	if (!mmio) {
		*err = "net: cannot map e1000 BAR0";
		return -1;
	}
	ep.delay_us = e1000_delay;
	ep.virt_to_phys = plat.virt_to_phys;
	if (e1000_init(&nic, mmio, &ep, &dma, err))
		return -1;

	hv_lwip_set_hooks(plat.now_ms, plat.rand32, NULL);
	e1000_hvnet_nic(&nic, &hn);
	if (hvnet_init(&hn, &cfg)) {
		*err = "net: lwIP interface setup failed";
		return -1;
	}
	if (hv_wire_make_nonce(plat.rand32, nonce)) {
		*err = "net: the random source repeats itself: no boot nonce, no network channel";
		return -1;
	}
	if (hv_wire_tx_init(&tx, o->key, o->sender_id ? o->sender_id :
			    (uint32_t)nic.mac[2] << 24 | (uint32_t)nic.mac[3] << 16 |
			    (uint32_t)nic.mac[4] << 8 | nic.mac[5],
			    nonce, hvnet_wire_send, NULL)) {
		*err = "net: key derivation failed";
		return -1;
	}
	/* wire_aead= (issue 16): version 2, AES-256-GCM, whenever the CPU seals it
	 * with AES-NI + PCLMULQDQ (~5 instructions per byte against ~17 for the
	 * SSE2 ChaCha20-Poly1305); forced, it runs on BearSSL's portable AES if
	 * the CPU has neither (slower than version 1, but what was asked for) */
	if ((o->wire_aead == HV_WAEAD_GCM || (o->wire_aead == HV_WAEAD_AUTO && hv_wire_gcm_hw())) &&
	    hv_wire_tx_set_version(&tx, HV_WIRE_VERSION_GCM)) {
		*err = "net: AES-256-GCM key derivation failed";
		return -1;
	}
	tx.clock = wire_clock;
	hb_interval = o->heartbeat_ms ? o->heartbeat_ms : 5000;
	hb_last = plat.now_ms();
	active = true;
	return 0;
}

void hvnet_tick(void)
{
	uint32_t now;

	if (!active)
		return;
	hvnet_poll();
	/* events go out once there is an address to send from; before that
	 * they are on the console only and the first datagram is seq 1 */
	if (!sink_attached && hvnet_ready() && hvnet_peer_resolved()) {
		sink_attached = hv_event_sink_register(&tx.sink) == 0;
		/* the boot measurement is seq 1, before any heartbeat (issue 18) */
		if (sink_attached && first_ev) {
			hv_wire_tx_add(&tx, first_ev);
			hv_wire_tx_flush(&tx);
			first_ev = NULL;
		}
	}
	now = plat.now_ms();
	if (sink_attached && now - hb_last >= hb_interval) {
		static struct hv_event hb;
		struct hv_event_stats st;

		hb_last = now;
		hv_event_get_stats(&st);
		hb = (struct hv_event){ 0 };
		hb.hdr.type = HV_EV_HEARTBEAT;
		hb.hdr.monitor = HV_EMON_CORE;
		hb.u.heartbeat.uptime_ms = now;
		hb.u.heartbeat.events = st.committed;
		hb.u.heartbeat.drops = st.dropped;
		tx.drops_total = (uint32_t)st.dropped;
		hv_wire_tx_add(&tx, &hb);         /* network only: console stays quiet */
		hv_wire_tx_flush(&tx);
	}
}

bool hvnet_active(void)
{
	return active;
}

const struct pci_dev *hvnet_pci_dev(void)
{
	return active ? &devs[nic_index] : NULL;
}

void hvnet_set_first_event(const struct hv_event *ev)
{
	first_ev = ev;
}

bool hvnet_sink_attached(void)
{
	return sink_attached;
}

/* Network only (like the heartbeat): straight into the wire sender, no ring,
 * no console. Flushed by hvnet_flush() or when a datagram fills. */
int hvnet_send_event(const struct hv_event *ev)
{
	if (!sink_attached)
		return -1;
	return hv_wire_tx_add(&tx, ev);
}

void hvnet_flush(void)
{
	if (sink_attached)
		hv_wire_tx_flush(&tx);
}

unsigned hvnet_wire_version(void)
{
	return tx.version;
}

uint64_t hvnet_seal_ticks(void)
{
	return tx.seal_ticks;
}

void hvnet_wire_stats(uint64_t *datagrams, uint64_t *bytes, uint64_t *events)
{
	*datagrams = tx.datagrams;
	*bytes = tx.bytes;
	*events = tx.events;
}

/* The NIC's descriptor rings and buffers (physical range) for the IOMMU's NIC domain. */
void hvnet_dma_range(uint64_t *pa, uint64_t *len)
{
	*pa = active ? plat.virt_to_phys(&dma) : 0;
	*len = active ? sizeof(dma) : 0;
}
