/*
 * net_hide — pure decision logic for hiding hvmon's NIC (vmm/net_hide.h).
 * Builds freestanding (ring -1) and hosted (tests/unit/test_net_hide.c).
 */
#include <string.h>
#include "vmm/net_hide.h"
#include "drivers/pci.h"

#define MCFG_HDR_LEN   44      /* ACPI header (36) + 8 reserved */
#define MCFG_ENTRY_LEN 16

int net_hide_mcfg_parse(const void *mcfg, uint32_t len, struct net_hide_ecam *out, int max)
{
	const uint8_t *t = mcfg;
	uint32_t hlen;
	int n = 0;

	if (!t || len < MCFG_HDR_LEN || memcmp(t, "MCFG", 4))
		return -1;
	memcpy(&hlen, t + 4, 4);
	if (hlen != len)
		return -1;
	for (uint32_t off = MCFG_HDR_LEN; off + MCFG_ENTRY_LEN <= len && n < max; off += MCFG_ENTRY_LEN) {
		uint64_t base;
		uint16_t seg;
		memcpy(&base, t + off, 8);
		memcpy(&seg, t + off + 8, 2);
		uint8_t bs = t[off + 10], be = t[off + 11];
		if (be < bs || (base & 0xfffff) || !base)
			continue;
		out[n].base = base;
		out[n].segment = seg;
		out[n].bus_start = bs;
		out[n].bus_end = be;
		n++;
	}
	return n;
}

uint64_t net_hide_ecam_page(const struct net_hide_ecam *w, int n, unsigned bus, unsigned dev,
			    unsigned fn)
{
	for (int i = 0; i < n; i++) {
		if (w[i].segment != 0 || bus < w[i].bus_start || bus > w[i].bus_end)
			continue;
		/* the window's base corresponds to bus_start (ACPI MCFG) */
		return w[i].base + ((uint64_t)(bus - w[i].bus_start) << 20) +
		       ((uint64_t)(dev & 31) << 15) + ((uint64_t)(fn & 7) << 12);
	}
	return 0;
}

bool net_hide_ecam_hidden(const struct net_hide_ecam *w, int n, uint64_t gpa)
{
	for (int i = 0; i < n; i++) {
		if (w[i].segment != 0 || gpa < w[i].base)
			continue;
		uint64_t span = (uint64_t)(w[i].bus_end - w[i].bus_start + 1) << 20;
		uint64_t off = gpa - w[i].base;
		if (off >= span)
			continue;
		/* pci_hidden_ecam() takes an offset from bus 0 */
		if (pci_hidden_ecam(off + ((uint64_t)w[i].bus_start << 20)))
			return true;
	}
	return false;
}

enum net_hide_pio net_hide_pio_decide(uint32_t latch, uint16_t port, unsigned size, bool in)
{
	if (port < PCI_CFG_ADDR_PORT || port > PCI_CFG_DATA_PORT + 3)
		return NH_NOT_MINE;
	if (port < PCI_CFG_DATA_PORT) {
		if (port == PCI_CFG_ADDR_PORT && size == 4 && !in)
			return NH_LATCH;
		return NH_PASS;
	}
	if (!pci_is_hidden(latch))         /* bit 31 clear: not a config cycle */
		return NH_PASS;
	return in ? NH_ONES : NH_DROP;
}

int net_hide_bar_ranges(const struct pci_dev *d, struct net_hide_range *out, int max)
{
	int n = 0;
	for (int b = 0; b < 6 && n < max; b++) {
		if (!d->bar_size[b] || !d->bar[b])
			continue;
		if (d->bar_io[b]) {
			out[n].base = d->bar[b];
			out[n].size = d->bar_size[b];
			out[n].io = true;
		} else {
			uint64_t s = d->bar[b] & ~0xfffULL;
			uint64_t e = (d->bar[b] + d->bar_size[b] + 0xfff) & ~0xfffULL;
			out[n].base = s;
			out[n].size = e - s;
			out[n].io = false;
		}
		n++;
		if (d->bar_64[b])
			b++;                   /* upper half of a 64-bit BAR */
	}
	return n;
}
