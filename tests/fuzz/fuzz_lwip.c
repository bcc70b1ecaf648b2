/*
 * libFuzzer target: Ethernet frames into lwIP's input path (netif->input =
 * ethernet_input) of hvmon's netif (drivers/net/hvnet.c) over a fake NIC,
 * with hvmon's lwipopts.h (checksum checks off so the fuzzer reaches the
 * parsers). Input: a sequence of frames, each [len_hi len_lo bytes...].
 *
 * Invariants checked after every input (and 400 s of lwIP timers):
 *  - the interface's address, netmask and gateway are unchanged (static
 *    configuration; nothing a frame says can reconfigure hvmon's NIC)
 *  - lwIP's heap and every memory pool are back to their baseline usage
 *    (nothing leaked or left queued); lwIP's own assertions abort
 *  - frames transmitted in reply are well-formed lengths
 * Only counters (lwip_stats, hvnet stats) and the ARP cache may change.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/net/hvnet.h"
#include "lwip/stats.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/udp.h"

static uint32_t fake_ms;
static uint32_t clock_ms(void) { return fake_ms; }
static unsigned long tx_frames;

static int fake_tx(void *ctx, const void *frame, size_t len)
{
	if (len < 14 || len > HVNET_MAX_FRAME)
		abort();
	tx_frames++;
	return 0;
}
static int fake_rx(void *ctx, void *buf, size_t cap) { return 0; }
static bool fake_link(void *ctx) { return true; }

static int ready;
static uint32_t base_ip, base_mask, base_gw;
static mem_size_t base_mem;
static u16_t base_memp[MEMP_MAX];

static void init(void)
{
	struct hvnet_nic nic = { .ctx = NULL, .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
				 .tx = fake_tx, .rx = fake_rx, .link_up = fake_link };
	struct hvnet_config cfg;
	const char *err;

	memset(&cfg, 0, sizeof(cfg));
	if (hvnet_parse_ip_option("10.0.2.15/24,10.0.2.2", &cfg, &err) ||
	    hvnet_parse_collector_option("10.0.2.2:5140", &cfg, &err))
		abort();
	hv_lwip_set_hooks(clock_ms, NULL, NULL);
	if (hvnet_init(&nic, &cfg))
		abort();
	base_ip = netif_default->ip_addr.addr;
	base_mask = netif_default->netmask.addr;
	base_gw = netif_default->gw.addr;
	base_mem = lwip_stats.mem.used;
	for (int i = 0; i < MEMP_MAX; i++)
		base_memp[i] = lwip_stats.memp[i]->used;
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (!ready)
		init();
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		hvnet_input_frame(data + off, len);
		off += len;
		fake_ms += 10;
		hvnet_poll();
	}
	/* let every lwIP timer run: pending ARP entries and queued packets expire */
	for (int i = 0; i < 400; i++) {
		fake_ms += 1000;
		hvnet_poll();
	}
	if (netif_default->ip_addr.addr != base_ip || netif_default->netmask.addr != base_mask ||
	    netif_default->gw.addr != base_gw)
		abort();
	if (lwip_stats.mem.used != base_mem)
		abort();
	for (int i = 0; i < MEMP_MAX; i++)
		if (lwip_stats.memp[i]->used != base_memp[i])
			abort();
	return 0;
}
