/*
 * PCI configuration mechanism #1 and bus enumeration — see pci.h.
 * Ring -1 only runs this at bring-up, before the guest starts, so it
 * needs no lock against the guest's own 0xCF8 accesses (those exit to the
 * core, which serialises them).
 */
#include "drivers/pci.h"

static uint32_t pio_read32(uint32_t cf8)
{
#if defined(__x86_64__) && !defined(HV_PCI_NO_PIO)
	uint32_t v;
	__asm__ volatile("outl %0, %w1" : : "a"(cf8), "Nd"(PCI_CFG_ADDR_PORT));
	__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(PCI_CFG_DATA_PORT));
	return v;
#else
	return 0xffffffffu;
#endif
}

static void pio_write32(uint32_t cf8, uint32_t val)
{
#if defined(__x86_64__) && !defined(HV_PCI_NO_PIO)
	__asm__ volatile("outl %0, %w1" : : "a"(cf8), "Nd"(PCI_CFG_ADDR_PORT));
	__asm__ volatile("outl %0, %w1" : : "a"(val), "Nd"(PCI_CFG_DATA_PORT));
#endif
}

static const struct pci_cfg_ops pio_ops = { pio_read32, pio_write32 };
static const struct pci_cfg_ops *ops = &pio_ops;

struct hidden { uint8_t bus, dev, fn, used; };
static struct hidden hidden[PCI_MAX_HIDDEN];

void pci_set_ops(const struct pci_cfg_ops *o)
{
	ops = o ? o : &pio_ops;
}

uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return ops->read32(pci_cf8(bus, dev, fn, off));
}

uint16_t pci_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return (uint16_t)(pci_read32(bus, dev, fn, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return (uint8_t)(pci_read32(bus, dev, fn, off) >> ((off & 3) * 8));
}

void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	ops->write32(pci_cf8(bus, dev, fn, off), v);
}

void pci_write16(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint16_t v)
{
	uint32_t old = pci_read32(bus, dev, fn, off);
	unsigned sh = (off & 2) * 8;

	pci_write32(bus, dev, fn, off, (old & ~(0xffffu << sh)) | (uint32_t)v << sh);
}

static void probe_bars(struct pci_dev *d)
{
	unsigned nbars = (d->header_type & 0x7f) == 0 ? 6 : (d->header_type & 0x7f) == 1 ? 2 : 0;
	uint16_t cmd = pci_read16(d->bus, d->dev, d->fn, PCI_COMMAND);

	/* no decode while the BARs hold all-ones */
	pci_write16(d->bus, d->dev, d->fn, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
	for (unsigned i = 0; i < nbars; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t orig = pci_read32(d->bus, d->dev, d->fn, off), sz;

		pci_write32(d->bus, d->dev, d->fn, off, 0xffffffffu);
		sz = pci_read32(d->bus, d->dev, d->fn, off);
		pci_write32(d->bus, d->dev, d->fn, off, orig);
		if (orig & 1) {                                  /* I/O */
			d->bar_io[i] = 1;
			d->bar[i] = orig & ~3u;
			sz &= ~3u;
			d->bar_size[i] = sz ? (uint64_t)((~sz + 1) & 0xffff) : 0;
			continue;
		}
		d->bar[i] = orig & ~0xfu;
		sz &= ~0xfu;
		if (((orig >> 1) & 3) == 2 && i + 1 < nbars) {   /* 64-bit */
			uint32_t orig_hi = pci_read32(d->bus, d->dev, d->fn, off + 4), sz_hi;
			uint64_t mask;

			pci_write32(d->bus, d->dev, d->fn, off + 4, 0xffffffffu);
			sz_hi = pci_read32(d->bus, d->dev, d->fn, off + 4);
			pci_write32(d->bus, d->dev, d->fn, off + 4, orig_hi);
			d->bar_64[i] = 1;
			d->bar[i] |= (uint64_t)orig_hi << 32;
			mask = (uint64_t)sz_hi << 32 | sz;
			d->bar_size[i] = mask ? ~mask + 1 : 0;
			i++;
			continue;
		}
		d->bar_size[i] = sz ? (uint64_t)(~sz + 1) : 0;
	}
	pci_write16(d->bus, d->dev, d->fn, PCI_COMMAND, cmd);
}

int pci_enumerate(struct pci_dev *out, int max)
{
	uint8_t queue[256];
	uint8_t seen[256 / 8] = { 0 };
	int qh = 0, qt = 0, n = 0;

	queue[qt++] = 0;
	seen[0] = 1;
	while (qh < qt) {
		unsigned bus = queue[qh++];

		for (unsigned dev = 0; dev < 32; dev++) {
			unsigned nfn = 1;

			for (unsigned fn = 0; fn < nfn; fn++) {
				uint32_t id = pci_read32(bus, dev, fn, PCI_VENDOR_ID);
				uint8_t ht;

				if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
					continue;
				ht = pci_read8(bus, dev, fn, PCI_HEADER_TYPE);
				if (fn == 0 && (ht & 0x80))
					nfn = 8;
				if ((ht & 0x7f) == 1) {                 /* PCI-PCI bridge */
					uint8_t sec = pci_read8(bus, dev, fn, PCI_SECONDARY_BUS);
					if (sec && !(seen[sec / 8] & (1 << (sec % 8))) && qt < 256) {
						seen[sec / 8] |= (uint8_t)(1 << (sec % 8));
						queue[qt++] = sec;
					}
				}
				if (n >= max)
					continue;
				struct pci_dev *d = &out[n++];
				uint32_t cr = pci_read32(bus, dev, fn, PCI_CLASS_REV);
				for (unsigned i = 0; i < 6; i++) {
					d->bar[i] = d->bar_size[i] = 0;
					d->bar_io[i] = d->bar_64[i] = 0;
				}
				d->bus = (uint8_t)bus;
				d->dev = (uint8_t)dev;
				d->fn = (uint8_t)fn;
				d->vendor = (uint16_t)id;
				d->device = (uint16_t)(id >> 16);
				d->header_type = ht;
				d->revision = (uint8_t)cr;
				d->prog_if = (uint8_t)(cr >> 8);
				d->subclass = (uint8_t)(cr >> 16);
				d->class_code = (uint8_t)(cr >> 24);
				d->irq_line = pci_read8(bus, dev, fn, PCI_INTERRUPT_LINE);
				probe_bars(d);
			}
		}
	}
	return n;
}

static int hexdig(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int pci_parse_bdf(const char *s, uint8_t *bus, uint8_t *dev, uint8_t *fn)
{
	unsigned b = 0, d = 0, f;
	int i = 0, nd = 0;

	/* optional "0000:" segment prefix (segment 0 only) */
	if (hexdig(s[0]) >= 0 && hexdig(s[1]) >= 0 && hexdig(s[2]) >= 0 &&
	    hexdig(s[3]) >= 0 && s[4] == ':')
		s += 5;
	for (nd = 0; nd < 2 && hexdig(s[i]) >= 0; nd++)
		b = b * 16 + (unsigned)hexdig(s[i++]);
	if (!nd || s[i++] != ':')
		return -1;
	for (nd = 0; nd < 2 && hexdig(s[i]) >= 0; nd++)
		d = d * 16 + (unsigned)hexdig(s[i++]);
	if (!nd || d > 31 || s[i++] != '.')
		return -1;
	if (s[i] < '0' || s[i] > '7' || s[i + 1])
		return -1;
	f = (unsigned)(s[i] - '0');
	*bus = (uint8_t)b;
	*dev = (uint8_t)d;
	*fn = (uint8_t)f;
	return 0;
}

void pci_enable_device(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d->bus, d->dev, d->fn, PCI_COMMAND);

	cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF;
	for (int i = 0; i < 6; i++)
		if (d->bar_io[i] && d->bar_size[i])
			cmd |= PCI_CMD_IO;
	pci_write16(d->bus, d->dev, d->fn, PCI_COMMAND, cmd);
}

int pci_hide(const struct pci_dev *d)
{
	for (int i = 0; i < PCI_MAX_HIDDEN; i++) {
		if (!hidden[i].used) {
			hidden[i].bus = d->bus;
			hidden[i].dev = d->dev;
			hidden[i].fn = d->fn;
			hidden[i].used = 1;
			return 0;
		}
	}
	return -1;
}

static bool is_hidden(unsigned bus, unsigned dev, unsigned fn)
{
	for (int i = 0; i < PCI_MAX_HIDDEN; i++)
		if (hidden[i].used && hidden[i].bus == bus && hidden[i].dev == dev &&
		    hidden[i].fn == fn)
			return true;
	return false;
}

bool pci_is_hidden(uint32_t cf8)
{
	if (!(cf8 & 0x80000000u))
		return false;
	return is_hidden((cf8 >> 16) & 0xff, (cf8 >> 11) & 0x1f, (cf8 >> 8) & 7);
}

bool pci_hidden_ecam(uint64_t off)
{
	return is_hidden((unsigned)(off >> 20) & 0xff, (unsigned)(off >> 15) & 0x1f,
			 (unsigned)(off >> 12) & 7);
}
