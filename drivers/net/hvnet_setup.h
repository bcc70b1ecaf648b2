/*
 * One-call bring-up of hvmon's network channel for the vmm core:
 * PCI enumeration → pick the e1000 (net=) → hide it from the guest → map
 * BAR0 → e1000 reset/rings → lwIP (ip=) → wire sender (collector=, key=).
 *
 *	struct hvnet_platform p = { map_mmio, virt_to_phys, now_ms, rand32, delay_us };
 *	if (hvnet_setup(&p, &opts, &err)) log("net: %s", err);   // monitors keep working
 *	...every tick:  hvnet_tick(); hv_event_drain(0);
 */
#ifndef HVMON_DRIVERS_NET_HVNET_SETUP_H
#define HVMON_DRIVERS_NET_HVNET_SETUP_H

#include <stdint.h>
#include <stdbool.h>

struct hvnet_platform {
	/* map [phys, phys+size) uncached into hvmon's address space */
	volatile void *(*map_mmio)(uint64_t phys, uint64_t size);
	uint64_t (*virt_to_phys)(const void *p);
	uint32_t (*now_ms)(void);              /* monotonic milliseconds */
	uint32_t (*rand32)(void);              /* RDRAND/RDSEED (mixed with TSC) */
	void (*delay_us)(unsigned us);
};

struct hvnet_options {            /* the raw option strings; NULL = absent */
	const char *net;              /* net=BB:DD.F (default: first 82540EM) */
	const char *ip;               /* ip=dhcp | ip=A.B.C.D/P[,GW] (default dhcp) */
	const char *collector;        /* collector=A.B.C.D:PORT (required) */
	const char *key;              /* key=<64 hex> (required) */
	uint32_t sender_id;           /* 0: derived from the MAC's low 4 bytes */
	uint32_t heartbeat_ms;        /* 0: 5000 */
};

int  hvnet_setup(const struct hvnet_platform *p, const struct hvnet_options *o, const char **err);
/* poll the NIC, run lwIP timers, attach the wire sink once the address is
 * up, send a heartbeat every heartbeat_ms. Call before hv_event_drain(). */
void hvnet_tick(void);
bool hvnet_active(void);

#endif
