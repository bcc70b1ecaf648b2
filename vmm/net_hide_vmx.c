/*
 * net_hide, ring -1 part: apply the hiding decided in vmm/net_hide.c to the
 * guest (I/O bitmap, EPT) and serve the exits (docs/NETWORK.md).
 */
#include <string.h>
#include "vmm/net_hide.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "drivers/pci.h"
#include "arch/x86/cpu.h"

static struct net_hide_ecam ecam[NET_HIDE_ECAM_MAX];
static int nr_ecam;
static struct net_hide_range ranges[NET_HIDE_RANGES_MAX];
static int nr_ranges;
static uint64_t ecam_pages[PCI_MAX_HIDDEN];
static int nr_ecam_pages;
static uint32_t guest_latch;          /* the guest's 0xCF8 address latch */
static bool active;
static struct net_hide_stats st;

/* I/O subscriber (vmm/intercept.h) of the configuration ports and I/O BARs */
static int net_io(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)v;
	(void)ctx;
	return net_hide_io(x->io.port, x->io.size, x->io.in, &x->io.value) ? HV_ICPT_DONE : HV_ICPT_PASS;
}

/* EPT page subscriber (vmm/intercept.h) of the unmapped BARs and ECAM page:
 * the guest's access is denied as for hvmon's own memory. */
static int net_mem(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	if (ept_deny_access(v, x->page.gpa, x->page.qual) != HV_RESUME)
		vcpu_guest_crash(v, "EPT update for a hidden NIC page failed");
	return HV_ICPT_DONE;
}

static void intercept_ports(struct vm *vm, uint32_t port, uint32_t n)
{
	if (port > 0xffff || n > 0x10000 - port || hv_intercept_io(vm, (uint16_t)port, n, net_io, NULL))
		pr_err("net: cannot intercept ports %#x-%#x: they stay visible\n", port, port + n - 1);
}

int net_hide_apply(struct vm *vm, const struct pci_dev *d)
{
	int rc;

	if (!d || !vm->io_bitmap)
		return -1;
	/* 1. configuration mechanism #1 */
	intercept_ports(vm, PCI_CFG_ADDR_PORT, 8);
	/* 2. the BARs */
	nr_ranges = net_hide_bar_ranges(d, ranges, NET_HIDE_RANGES_MAX);
	for (int i = 0; i < nr_ranges; i++) {
		if (ranges[i].io) {
			intercept_ports(vm, (uint32_t)ranges[i].base, (uint32_t)ranges[i].size);
			pr_info("net: hidden NIC I/O BAR %#lx-%#lx intercepted\n", (unsigned long)ranges[i].base,
				(unsigned long)(ranges[i].base + ranges[i].size - 1));
			continue;
		}
		if ((rc = ept_unmap(&vm->ept, ranges[i].base, ranges[i].size))) {
			pr_err("net: cannot remove BAR %#lx from EPT: %s\n", (unsigned long)ranges[i].base,
			       ept_strerror(rc));
			return -1;
		}
		if (hv_intercept_gpa_range(vm, ranges[i].base, ranges[i].size, net_mem, NULL))
			pr_err("net: BAR %#lx: no EPT page intercept: guest accesses are handled as unknown "
			       "memory\n", (unsigned long)ranges[i].base);
		pr_info("net: hidden NIC BAR %#lx-%#lx not mapped in EPT\n", (unsigned long)ranges[i].base,
			(unsigned long)(ranges[i].base + ranges[i].size - 1));
	}
	/* 3. MMCONFIG */
	const void *mcfg = acpi_find_table(vm->bi->acpi_rsdp, "MCFG");
	if (mcfg) {
		uint32_t len;
		memcpy(&len, (const uint8_t *)mcfg + 4, 4);
		nr_ecam = net_hide_mcfg_parse(mcfg, len, ecam, NET_HIDE_ECAM_MAX);
		if (nr_ecam < 0)
			nr_ecam = 0;
		uint64_t pg = net_hide_ecam_page(ecam, nr_ecam, d->bus, d->dev, d->fn);
		if (pg && nr_ecam_pages < PCI_MAX_HIDDEN) {
			if ((rc = ept_unmap(&vm->ept, pg, 4096))) {
				pr_err("net: cannot remove ECAM page %#lx from EPT: %s\n", (unsigned long)pg,
				       ept_strerror(rc));
				return -1;
			}
			ecam_pages[nr_ecam_pages++] = pg;
			if (hv_intercept_gpa_range(vm, pg, 4096, net_mem, NULL))
				pr_err("net: ECAM page %#lx: no EPT page intercept\n", (unsigned long)pg);
			pr_info("net: MMCONFIG: ECAM page %#lx of %02x:%02x.%u not mapped in EPT (%d window(s))\n",
				(unsigned long)pg, d->bus, d->dev, d->fn, nr_ecam);
		} else {
			pr_info("net: MMCONFIG: %d window(s), none covers bus %02x\n", nr_ecam, d->bus);
		}
	} else {
		pr_info("net: no ACPI MCFG: configuration mechanism #1 only\n");
	}
	invept_global();
	active = true;
	pr_info("net: PCI %02x:%02x.%u hidden from the guest (0xCF8/0xCFC: all-ones, writes dropped)\n",
		d->bus, d->dev, d->fn);
	return 0;
}

bool net_hide_io(uint16_t port, unsigned size, bool in, uint32_t *val)
{
	if (!active)
		return false;
	for (int i = 0; i < nr_ranges; i++) {
		if (ranges[i].io && port >= ranges[i].base && port < ranges[i].base + ranges[i].size) {
			st.bar_io++;
			if (in)
				*val = 0xffffffffu;
			return true;
		}
	}
	switch (net_hide_pio_decide(guest_latch, port, size, in)) {
	case NH_NOT_MINE:
		return false;
	case NH_LATCH:
		guest_latch = *val;
		outl(port, *val);
		return true;
	case NH_ONES:
		st.cfg_hidden_reads++;
		*val = 0xffffffffu;
		return true;
	case NH_DROP:
		st.cfg_hidden_writes++;
		return true;
	case NH_PASS:
		break;
	}
	st.cfg_passed++;
	if (port >= PCI_CFG_DATA_PORT && (guest_latch & 0x80000000u))
		outl(PCI_CFG_ADDR_PORT, guest_latch);   /* hvmon may have used the latch since */
	if (in)
		*val = port_in(port, size);
	else
		port_out(port, size, *val);
	return true;
}

void net_hide_get_stats(struct net_hide_stats *s)
{
	*s = st;
}
