/*
 * One-call bring-up of hvmon's network channel for the vmm core:
 * PCI enumeration → pick the e1000 (net=) → hide it from the guest → map
 * BAR0 → e1000 reset/rings → lwIP (ip=) → wire sender (collector=, key=).
 *
 *	struct hvnet_platform p = { map_mmio, virt_to_phys, now_ms, rand32, delay_us };
 *	if (hvnet_setup_from_options(&p, &hv_opts, &err))     // vmm/options.h
 *		log("net: %s", err);        // monitors keep working, console only
 *	...every tick:  hvnet_tick(); hv_event_drain(0);
 * Both on the same CPU (the BSP's tick): lwIP is single-threaded. Other
 * CPUs only produce events (hv_event_reserve/commit).
 */
#ifndef HVMON_DRIVERS_NET_HVNET_SETUP_H
#define HVMON_DRIVERS_NET_HVNET_SETUP_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "drivers/net/hvnet.h"

struct hv_options;

struct hvnet_platform {
	/* map [phys, phys+size) uncached into hvmon's address space */
	volatile void *(*map_mmio)(uint64_t phys, uint64_t size);
	uint64_t (*virt_to_phys)(const void *p);
	uint32_t (*now_ms)(void);              /* monotonic milliseconds */
	uint32_t (*rand32)(void);              /* RDRAND/RDSEED (mixed with TSC) */
	void (*delay_us)(unsigned us);
};

struct hvnet_options {
	struct hvnet_config cfg;      /* ip + collector (host byte order) */
	bool     net_first;           /* first 82540EM, else net_bus/dev/fn */
	uint8_t  net_bus, net_dev, net_fn;
	uint8_t  key[32];             /* PSK: the wire protocol needs exactly 32 bytes */
	size_t   key_len;
	uint32_t sender_id;           /* 0: derived from the MAC's low 4 bytes */
	uint32_t heartbeat_ms;        /* 0: 5000 */
	uint8_t  wire_aead;           /* enum hv_wire_aead: 0 auto (AES-256-GCM with AES-NI) */
};

/* From the option strings (self-test kernel, tests): NULL net = first,
 * NULL ip = dhcp; collector and key required; wire version 1. 0 or -1 (*err). */
int hvnet_options_from_strings(struct hvnet_options *o, const char *net, const char *ip,
			       const char *collector, const char *key, const char **err);
/* From hvmon's parsed options (vmm/options.h). 0 or -1 (*err): no
 * collector, no key, or a key that is not 32 bytes. */
int hvnet_options_from_hv(struct hvnet_options *o, const struct hv_options *hv, const char **err);

int  hvnet_setup(const struct hvnet_platform *p, const struct hvnet_options *o, const char **err);
int  hvnet_setup_from_options(const struct hvnet_platform *p, const struct hv_options *hv,
			      const char **err);
/* poll the NIC, run lwIP timers, attach the wire sink once the address is
 * up, send a heartbeat every heartbeat_ms. Call before hv_event_drain(). */
void hvnet_tick(void);
bool hvnet_active(void);
/* the wire sink is attached (address up, next hop resolved) */
bool hvnet_sink_attached(void);
/* ev (kept by pointer, must stay valid) is sent alone as the first datagram
 * (seq 1) once the sink attaches, before any other event (boot_config). */
struct hv_event;
void hvnet_set_first_event(const struct hv_event *ev);
/* Network-only event (not on the console, not through a ring): 0 or -1
 * (sink not attached / too big). hvnet_flush() seals the pending datagram. */
struct hv_event;
int  hvnet_send_event(const struct hv_event *ev);
void hvnet_flush(void);
/* wire sender counters: datagrams, bytes (UDP payload) and events sent */
/* TSC ticks spent sealing datagrams (ChaCha20-Poly1305) since boot */
uint64_t hvnet_seal_ticks(void);
/* the wire version the sender uses (1 ChaCha20-Poly1305, 2 AES-256-GCM) */
unsigned hvnet_wire_version(void);
void hvnet_wire_stats(uint64_t *datagrams, uint64_t *bytes, uint64_t *events);
/* The PCI function hvnet_setup took (hidden from the guest), NULL before. */
struct pci_dev;
const struct pci_dev *hvnet_pci_dev(void);
/* Physical range of the NIC's rings and buffers (0, 0 when the NIC is not active). */
void hvnet_dma_range(uint64_t *pa, uint64_t *len);

#endif
