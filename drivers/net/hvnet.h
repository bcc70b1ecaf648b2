/*
 * hvmon network channel — lwIP on hvmon's own NIC (docs/NETWORK.md).
 *
 * Bring-up (once, after PCI enumeration found hvmon's e1000):
 *	hv_lwip_set_hooks(now_ms, rdrand32, panic);
 *	hvnet_init(&nic, &cfg);        // lwip_init + netif + DHCP or static
 *	hv_wire_tx_init(&tx, key, sender, nonce, hvnet_wire_send, NULL);
 *	hv_event_sink_register(&tx.sink);
 * Every tick (polled, no interrupts):
 *	hvnet_poll();                  // RX frames → lwIP (bounded), lwIP timers
 *	hv_event_drain(0);             // events → sinks; the wire sink sends
 */
#ifndef HVMON_DRIVERS_NET_HVNET_H
#define HVMON_DRIVERS_NET_HVNET_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define HVNET_MAX_FRAME      1518     /* Ethernet, no FCS; VLAN tags not used */
#define HVNET_RX_BUDGET      32       /* frames per hvnet_poll() */

/* What the NIC driver provides (e1000_hvnet_ops() for the 82540EM). */
struct hvnet_nic {
	void *ctx;
	uint8_t mac[6];
	/* queue one frame for transmission; 0 ok, <0 ring full/error */
	int (*tx)(void *ctx, const void *frame, size_t len);
	/* optional (NULL: none): queue a frame with the NIC finishing a UDP
	 * checksum — the ones'-complement sum of frame[css..len), the field at cso
	 * preloaded with the pseudo-header sum, complemented into cso. hvnet hands
	 * IPv4 UDP frames here; without it hvnet computes the checksum itself
	 * (lwIP does not: CHECKSUM_GEN_UDP 0, drivers/net/lwipopts.h) */
	int (*tx_csum)(void *ctx, const void *frame, size_t len, unsigned css, unsigned cso);
	/* copy the next received frame into buf; bytes, 0 if none, <0 on a
	 * bad frame (dropped and counted by the driver) */
	int (*rx)(void *ctx, void *buf, size_t cap);
	bool (*link_up)(void *ctx);
};

struct hvnet_config {
	bool     dhcp;
	uint32_t ip, netmask, gw;        /* host byte order, static config */
	uint32_t collector_ip;           /* host byte order */
	uint16_t collector_port;
	uint16_t local_port;             /* 0: same as collector_port */
};

struct hvnet_stats {
	uint64_t rx_frames, rx_bad, rx_oversize, rx_nomem;
	uint64_t tx_frames, tx_fail;
	uint64_t udp_sent, udp_fail, udp_not_ready;
	uint64_t polls;
	uint64_t send_tsc, nic_tsc;    /* TSC ticks in hvnet_send (lwIP + NIC) and in the NIC's tx */
};

void hv_lwip_set_hooks(uint32_t (*now_ms)(void), uint32_t (*rnd)(void),
		       void (*panic)(const char *msg, const char *file, int line));
uint32_t hv_lwip_rand(void);

int  hvnet_init(const struct hvnet_nic *nic, const struct hvnet_config *cfg);

/* The UDP checksum of an outgoing Ethernet II frame (issue 16: lwIP leaves it
 * 0). For an unfragmented IPv4 UDP datagram that fills the frame: with hw, the
 * pseudo-header sum (RFC 768, RFC 1071 arithmetic) goes into the checksum
 * field for the NIC to finish (HVNET_CSUM_HW, *css = the UDP header's offset);
 * otherwise the whole checksum is computed here (HVNET_CSUM_SW; 0 sent as
 * 0xffff). Any other frame is left alone (HVNET_CSUM_NONE). Never reads
 * outside frame[0..len). */
enum { HVNET_CSUM_NONE = 0, HVNET_CSUM_HW = 1, HVNET_CSUM_SW = 2 };
int  hvnet_udp_csum_prep(uint8_t *frame, size_t len, bool hw, unsigned *css);
void hvnet_poll(void);
/* Hand one received Ethernet frame to lwIP (what hvnet_poll does per frame;
 * also the host fuzz target's entry). */
void hvnet_input_frame(const void *frame, size_t len);
/* true once the interface has an address (static, or DHCP bound) */
bool hvnet_ready(void);
/* true once the next hop towards the collector is in the ARP cache (sends
 * an ARP request every 50 calls until then); the wire sink attaches only
 * then, so no datagram waits in lwIP's short per-entry ARP queue */
bool hvnet_peer_resolved(void);
uint32_t hvnet_ip(void);                 /* host order, 0 if none */
/* UDP datagram to the collector; 0 ok, <0 not ready / no memory / error */
int  hvnet_send(const void *data, size_t len);
/* the hv_wire_tx send callback */
void hvnet_wire_send(void *ctx, const uint8_t *dgram, size_t len);
void hvnet_get_stats(struct hvnet_stats *st);

/* Option values (vmm/options passes the strings):
 *   ip=dhcp | ip=A.B.C.D/PREFIX[,GATEWAY]      collector=A.B.C.D:PORT
 * Return 0, or -1 with *err set to a static message. */
int hvnet_parse_ip_option(const char *s, struct hvnet_config *cfg, const char **err);
int hvnet_parse_collector_option(const char *s, struct hvnet_config *cfg, const char **err);
/* key=<64 hex digits> → 32 bytes */
int hvnet_parse_key_option(const char *s, uint8_t key[32], const char **err);

#endif
