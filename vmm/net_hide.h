/*
 * net_hide — hvmon's management NIC is hvmon's alone (docs/NETWORK.md
 * "Hiding the NIC from the guest").
 *
 *  - PCI configuration mechanism #1: the guest's 0xCF8..0xCFF accesses exit
 *    (I/O bitmap). hvmon keeps the guest's 0xCF8 address latch; a data access
 *    (0xCFC..0xCFF, any size) whose latch selects a hidden function reads
 *    all-ones (no device) and its writes are dropped; everything else is
 *    passed through to the hardware unchanged (the latch is re-issued first).
 *  - MMCONFIG (ECAM, from the ACPI MCFG table): the 4 KiB ECAM page of the
 *    hidden function is removed from EPT; a guest access to it is pointed at
 *    hvmon's all-ones sink page (the same page that answers guest accesses
 *    to hvmon memory).
 *  - The NIC's memory BARs are removed from EPT (same sink page on access);
 *    its I/O BARs are intercepted (reads all-ones, writes dropped).
 *
 * The decision functions below are pure (host unit test
 * tests/unit/test_net_hide.c); the ring -1 part is net_hide_apply() and the
 * exit hooks (vmm/net_hide_vmx.c).
 */
#ifndef HVMON_VMM_NET_HIDE_H
#define HVMON_VMM_NET_HIDE_H

#include <stdbool.h>
#include <stdint.h>

struct pci_dev;
struct vm;

#define NET_HIDE_ECAM_MAX   8
#define NET_HIDE_RANGES_MAX 6

/* One MCFG allocation: ECAM window of a segment, buses bus_start..bus_end. */
struct net_hide_ecam {
	uint64_t base;
	uint16_t segment;
	uint8_t  bus_start, bus_end;
};

/* Parse an ACPI MCFG table (header included, @len from the header).
 * Returns the number of windows stored (0..max), -1 if malformed. Entries
 * with bus_end < bus_start or a base not 1 MiB aligned are skipped. */
int net_hide_mcfg_parse(const void *mcfg, uint32_t len, struct net_hide_ecam *out, int max);

/* Guest-physical address of function bus:dev.fn's 4 KiB ECAM page in
 * segment 0, or 0 when no window covers that bus. */
uint64_t net_hide_ecam_page(const struct net_hide_ecam *w, int n, unsigned bus, unsigned dev,
			    unsigned fn);

/* Does @gpa fall in a hidden function's ECAM page (any window, segment 0)?
 * Uses pci_hidden_ecam() (drivers/pci.c). */
bool net_hide_ecam_hidden(const struct net_hide_ecam *w, int n, uint64_t gpa);

/* Guest access to the PCI configuration ports. */
enum net_hide_pio {
	NH_NOT_MINE = 0,     /* not 0xCF8..0xCFF */
	NH_PASS,             /* pass through (0xCFC..: re-issue the latch first) */
	NH_LATCH,            /* dword write to 0xCF8: record the latch, pass through */
	NH_ONES,             /* read of a hidden function: all-ones */
	NH_DROP,             /* write to a hidden function: dropped */
};
/* @latch: the guest's last dword written to 0xCF8. Byte/word accesses to
 * 0xCF8..0xCFB are not configuration-address accesses (0xCF9 is the reset
 * control register on PIIX/ICH): passed through. */
enum net_hide_pio net_hide_pio_decide(uint32_t latch, uint16_t port, unsigned size, bool in);

/* A hidden device's BARs (memory and I/O), page-rounded for memory. */
struct net_hide_range {
	uint64_t base, size;
	bool io;
};
int net_hide_bar_ranges(const struct pci_dev *d, struct net_hide_range *out, int max);

/* ---- ring -1 (vmm/net_hide_vmx.c) ---- */
/* After hvnet_setup hid @d (pci_hide): intercept 0xCF8..0xCFF and the I/O
 * BARs, remove the memory BARs and the ECAM page from EPT. 0 or -1 (logged). */
int net_hide_apply(struct vm *vm, const struct pci_dev *d);
/* The I/O subscriber of the hidden ports: true when the access was handled here (*val: the value read). */
bool net_hide_io(uint16_t port, unsigned size, bool in, uint32_t *val);

struct net_hide_stats {
	uint64_t cfg_hidden_reads, cfg_hidden_writes, cfg_passed, bar_io;
};
void net_hide_get_stats(struct net_hide_stats *s);

#endif
