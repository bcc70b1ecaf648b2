/*
 * PCI configuration access (ports 0xCF8/0xCFC, configuration mechanism #1)
 * and enumeration for hvmon's own devices (docs/NETWORK.md). MMCONFIG is not
 * used by hvmon itself; the vmm core hides hvmon's NIC from the guest on
 * both paths using pci_is_hidden()/pci_hidden_ecam().
 *
 * Register access goes through struct pci_cfg_ops so host tests can run the
 * enumeration over a fake configuration space; ring -1 uses the port I/O
 * default.
 */
#ifndef HVMON_DRIVERS_PCI_H
#define HVMON_DRIVERS_PCI_H

#include <stdint.h>
#include <stdbool.h>

#define PCI_CFG_ADDR_PORT   0xcf8
#define PCI_CFG_DATA_PORT   0xcfc
#define PCI_MAX_DEVS        64
#define PCI_MAX_HIDDEN      4

/* config space offsets */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_CLASS_REV       0x08
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SECONDARY_BUS   0x19
#define PCI_INTERRUPT_LINE  0x3c

#define PCI_CMD_IO          0x0001
#define PCI_CMD_MEMORY      0x0002
#define PCI_CMD_MASTER      0x0004
#define PCI_CMD_INTX_OFF    0x0400

struct pci_cfg_ops {
	uint32_t (*read32)(uint32_t cf8);            /* cf8 = 0x80000000|bus<<16|dev<<11|fn<<8|off&0xfc */
	void (*write32)(uint32_t cf8, uint32_t val);
};

struct pci_dev {
	uint8_t  bus, dev, fn;
	uint8_t  header_type;
	uint16_t vendor, device;
	uint8_t  class_code, subclass, prog_if, revision;
	uint8_t  irq_line;
	uint64_t bar[6];           /* base address (I/O or memory) */
	uint64_t bar_size[6];      /* 0: not implemented */
	uint8_t  bar_io[6];        /* 1: I/O BAR */
	uint8_t  bar_64[6];        /* 1: 64-bit memory BAR (next slot is its upper half) */
};

/* NULL: port I/O (ring -1). */
void pci_set_ops(const struct pci_cfg_ops *ops);
static inline uint32_t pci_cf8(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return 0x80000000u | (bus & 0xff) << 16 | (dev & 0x1f) << 11 | (fn & 7) << 8 | (off & 0xfc);
}
uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint16_t pci_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint8_t  pci_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v);
void pci_write16(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint16_t v);

/* Walk bus 0 and every bus behind a PCI-PCI bridge (each bus once).
 * Fills out[0..max) and returns the number stored (<= max). BAR sizes
 * are probed (decode is switched off around the probe). */
int pci_enumerate(struct pci_dev *out, int max);
/* "BB:DD.F" (hex) → bus/dev/fn; 0 or -1 */
int pci_parse_bdf(const char *s, uint8_t *bus, uint8_t *dev, uint8_t *fn);
/* Enable memory/I/O decode and bus mastering, INTx off (hvmon polls). */
void pci_enable_device(const struct pci_dev *d);

/* Hiding hvmon's devices from the guest. */
int  pci_hide(const struct pci_dev *d);
/* For the guest's 0xCF8 address latch: true if the config access it selects
 * targets a hidden function (the core then returns all-ones on reads of
 * 0xCFC..0xCFF and drops writes). */
bool pci_is_hidden(uint32_t cf8);
/* Same for an MMCONFIG (ECAM) offset relative to the segment base. */
bool pci_hidden_ecam(uint64_t offset);

#endif
