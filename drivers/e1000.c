/*
 * Intel 82540EM driver, polled — see e1000.h. No interrupts (IMC all-ones
 * after reset, INTx disabled in PCI command). Every loop is bounded: a
 * device that never answers makes init fail with a message, never hangs.
 */
#include <string.h>
#include "drivers/e1000.h"
#include "drivers/net/hvnet.h"

static uint32_t mmio_rd(void *ctx, uint32_t reg)
{
	return *(volatile uint32_t *)((volatile uint8_t *)ctx + reg);
}

static void mmio_wr(void *ctx, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)((volatile uint8_t *)ctx + reg) = val;
}

static inline uint32_t rd(struct e1000 *n, uint32_t reg) { return n->plat.rd(n->plat.ctx, reg); }
static inline void wr(struct e1000 *n, uint32_t reg, uint32_t v) { n->plat.wr(n->plat.ctx, reg, v); }

static void delay(struct e1000 *n, unsigned us)
{
	if (n->plat.delay_us) {
		n->plat.delay_us(us);
		return;
	}
	for (volatile unsigned long i = 0; i < (unsigned long)us * 100; i++)
		;
}

static uint64_t phys(struct e1000 *n, const void *p)
{
	return n->plat.virt_to_phys ? n->plat.virt_to_phys(p) : (uint64_t)(uintptr_t)p;
}

static void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

int e1000_pick(const struct pci_dev *devs, int n, const char *net, const char **err)
{
	uint8_t b, d, f;

	if (net && *net) {
		if (pci_parse_bdf(net, &b, &d, &f)) {
			*err = "net=: expected a PCI address BB:DD.F";
			return -1;
		}
		for (int i = 0; i < n; i++) {
			if (devs[i].bus == b && devs[i].dev == d && devs[i].fn == f) {
				if (devs[i].vendor != E1000_VENDOR || devs[i].device != E1000_DEV_82540EM) {
					*err = "net=: that PCI function is not an 82540EM (8086:100e)";
					return -1;
				}
				return i;
			}
		}
		*err = "net=: no PCI function at that address";
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (devs[i].vendor == E1000_VENDOR && devs[i].device == E1000_DEV_82540EM)
			return i;
	*err = "no 82540EM (8086:100e) found on PCI";
	return -1;
}

static int eeprom_read(struct e1000 *n, unsigned word, uint16_t *val)
{
	wr(n, E1000_EERD, E1000_EERD_START | (word & 0xff) << 8);
	for (int i = 0; i < 1000; i++) {
		uint32_t v = rd(n, E1000_EERD);

		if (v & E1000_EERD_DONE) {
			*val = (uint16_t)(v >> 16);
			return 0;
		}
		delay(n, 10);
	}
	return -1;
}

static void read_mac(struct e1000 *n)
{
	uint16_t w[3];

	if (!eeprom_read(n, 0, &w[0]) && !eeprom_read(n, 1, &w[1]) && !eeprom_read(n, 2, &w[2])) {
		for (int i = 0; i < 3; i++) {
			n->mac[2 * i] = (uint8_t)w[i];
			n->mac[2 * i + 1] = (uint8_t)(w[i] >> 8);
		}
		n->mac_from_eeprom = true;
		return;
	}
	/* no EEPROM answer: what the firmware/reset left in receive address 0 */
	uint32_t lo = rd(n, E1000_RAL0), hi = rd(n, E1000_RAH0);
	for (int i = 0; i < 4; i++)
		n->mac[i] = (uint8_t)(lo >> (8 * i));
	n->mac[4] = (uint8_t)hi;
	n->mac[5] = (uint8_t)(hi >> 8);
	n->mac_from_eeprom = false;
}

int e1000_init(struct e1000 *n, volatile void *mmio, const struct e1000_platform *plat,
	       struct e1000_dma *dma, const char **err)
{
	uint32_t ctrl;
	int i;

	n->mmio = mmio;
	if (plat)
		n->plat = *plat;
	else
		n->plat = (struct e1000_platform){ 0 };
	if (!n->plat.rd || !n->plat.wr) {
		if (!mmio) {
			*err = "e1000: no register access";
			return -1;
		}
		n->plat.rd = mmio_rd;
		n->plat.wr = mmio_wr;
		n->plat.ctx = (void *)mmio;
	}
	n->dma = dma;
	n->rx_next = n->tx_tail = 0;
	n->stats = (struct e1000_stats){ 0 };

	/* reset: mask interrupts, RST, wait for it to self-clear (<1 ms) */
	wr(n, E1000_IMC, 0xffffffffu);
	wr(n, E1000_CTRL, rd(n, E1000_CTRL) | E1000_CTRL_RST);
	delay(n, 10);
	for (i = 0; i < 1000 && (rd(n, E1000_CTRL) & E1000_CTRL_RST); i++)
		delay(n, 10);
	if (i == 1000) {
		*err = "e1000: reset did not complete";
		return -1;
	}
	wr(n, E1000_IMC, 0xffffffffu);
	(void)rd(n, E1000_ICR);

	ctrl = rd(n, E1000_CTRL);
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	wr(n, E1000_CTRL, ctrl);

	read_mac(n);
	if (!(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] | n->mac[4] | n->mac[5]) ||
	    (n->mac[0] & 1)) {
		*err = "e1000: no valid MAC address in EEPROM or RAL0/RAH0";
		return -1;
	}
	wr(n, E1000_RAL0, (uint32_t)n->mac[0] | (uint32_t)n->mac[1] << 8 |
	   (uint32_t)n->mac[2] << 16 | (uint32_t)n->mac[3] << 24);
	wr(n, E1000_RAH0, (uint32_t)n->mac[4] | (uint32_t)n->mac[5] << 8 | E1000_RAH_AV);
	for (i = 0; i < 128; i++)
		wr(n, E1000_MTA + 4 * (uint32_t)i, 0);

	/* RX ring: every descriptor owns one 2 KiB buffer; hardware owns all
	 * but one (RDT = N-1, head == tail means empty) */
	for (i = 0; i < E1000_NRX; i++) {
		dma->rx[i].addr = phys(n, dma->rxbuf[i]);
		dma->rx[i].length = 0;
		dma->rx[i].status = 0;
		dma->rx[i].errors = 0;
	}
	uint64_t rxp = phys(n, dma->rx);
	wr(n, E1000_RDBAL, (uint32_t)rxp);
	wr(n, E1000_RDBAH, (uint32_t)(rxp >> 32));
	wr(n, E1000_RDLEN, sizeof(dma->rx));
	wr(n, E1000_RDH, 0);
	wr(n, E1000_RDT, E1000_NRX - 1);
	wr(n, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);

	/* TX ring: a descriptor is free when its DD bit is set */
	n->tx_css = n->tx_cso = -1;                /* no checksum context yet */
	for (i = 0; i < E1000_NTX; i++) {
		n->tx_addr[i] = phys(n, dma->txbuf[i]);
		dma->tx[i].addr = n->tx_addr[i];
		dma->tx[i].length = 0;
		dma->tx[i].cmd = 0;
		dma->tx[i].status = E1000_TXD_STA_DD;
	}
	uint64_t txp = phys(n, dma->tx);
	wr(n, E1000_TDBAL, (uint32_t)txp);
	wr(n, E1000_TDBAH, (uint32_t)(txp >> 32));
	wr(n, E1000_TDLEN, sizeof(dma->tx));
	wr(n, E1000_TDH, 0);
	wr(n, E1000_TDT, 0);
	wr(n, E1000_TIPG, 10 | 8u << 10 | 6u << 20);
	wr(n, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT(0x10) |
	   E1000_TCTL_COLD(0x40));
	return 0;
}

static bool tx_free(struct e1000 *n)
{
	const volatile struct e1000_tx_desc *tx = n->dma->tx;

	return (tx[n->tx_tail].status & E1000_TXD_STA_DD) &&
	       (tx[(n->tx_tail + 1) % E1000_NTX].status & E1000_TXD_STA_DD);
}

/* Wait (bounded) until the descriptor at the tail and the one after are free:
 * at most N-1 descriptors in flight, since TDT == TDH means "empty" to the
 * device. A full ring is given a bounded time to drain (a 1.5 KB frame takes
 * ~12 us at 1 Gb/s). */
static int tx_reserve(struct e1000 *n)
{
	for (unsigned w = 0; w < E1000_TX_WAIT_US && !tx_free(n); w++) {
		delay(n, 1);
		barrier();
	}
	if (!tx_free(n)) {
		n->stats.tx_full++;
		return -1;
	}
	return 0;
}

static void tx_push(struct e1000 *n)
{
	barrier();
	n->tx_tail = (n->tx_tail + 1) % E1000_NTX;
	wr(n, E1000_TDT, n->tx_tail);
}

/* One frame in one descriptor: legacy (popts 0) or a TCP/IP data descriptor
 * with POPTS (8254x SDM §3.3; the legacy layout's CSO/CSS bytes become DTYP
 * and POPTS). */
static int tx_frame(struct e1000 *n, const void *frame, size_t len, uint8_t popts)
{
	struct e1000_tx_desc *d = &n->dma->tx[n->tx_tail];

	if (len < 14 || len > 1518) {
		n->stats.tx_toobig++;
		return -1;
	}
	if (tx_reserve(n))
		return -1;
	memcpy(n->dma->txbuf[n->tx_tail], frame, len);
	d->addr = n->tx_addr[n->tx_tail];          /* a context descriptor may have used the slot */
	d->length = (uint16_t)len;
	d->cso = popts ? E1000_TXD_DTYP_DATA : 0;
	d->css = popts;
	d->special = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS |
		 (popts ? E1000_TXD_CMD_DEXT : 0);
	d->status = 0;
	tx_push(n);
	n->stats.tx_frames++;
	return 0;
}

int e1000_tx(struct e1000 *n, const void *frame, size_t len)
{
	return tx_frame(n, frame, len, 0);
}

/* The TCP/IP context descriptor for a UDP checksum over [css, end) stored at
 * cso (TUCSE 0: to the end of the packet); no IP checksum (IPCSx describe the
 * IPv4 header only for completeness: IXSM is never set). RS so that the
 * device writes DD back and the slot becomes free again. */
static int tx_load_ctx(struct e1000 *n, unsigned css, unsigned cso)
{
	struct e1000_tx_ctx *c = (struct e1000_tx_ctx *)&n->dma->tx[n->tx_tail];

	if (tx_reserve(n))
		return -1;
	c->ipcss = 14;
	c->ipcso = 14 + 10;
	c->ipcse = (uint16_t)(css - 1);
	c->tucss = (uint8_t)css;
	c->tucso = (uint8_t)cso;
	c->tucse = 0;
	c->cmd_len = E1000_TXC_CMD_DEXT | E1000_TXC_CMD_RS | E1000_TXC_CMD_IP;   /* UDP: TUCMD.TCP clear */
	c->hdrlen = 0;
	c->mss = 0;
	c->status = 0;
	tx_push(n);
	n->tx_css = (int)css;
	n->tx_cso = (int)cso;
	n->stats.tx_ctx++;
	return 0;
}

int e1000_tx_csum(struct e1000 *n, const void *frame, size_t len, unsigned css, unsigned cso)
{
	if (css < 15 || css > 255 || cso > 255 || cso < css || (size_t)cso + 2 > len || css >= len)
		return -1;
	if (((int)css != n->tx_css || (int)cso != n->tx_cso) && tx_load_ctx(n, css, cso))
		return -1;
	if (tx_frame(n, frame, len, E1000_TXD_POPTS_TXSM))
		return -1;
	n->stats.tx_csum++;
	return 0;
}

int e1000_rx(struct e1000 *n, void *buf, size_t cap)
{
	unsigned i = n->rx_next;
	struct e1000_rx_desc *d = &n->dma->rx[i];
	uint8_t *dst = buf;
	int ret;

	if (!(d->status & E1000_RXD_DD))
		return 0;
	barrier();
	if (!(d->status & E1000_RXD_EOP)) {
		/* cannot happen with 2 KiB buffers and long packets off; drop */
		n->stats.rx_fragmented++;
		ret = -1;
	} else if (d->errors) {
		n->stats.rx_errors++;
		ret = -1;
	} else if (d->length > cap || d->length > E1000_BUFSZ) {
		n->stats.rx_toobig++;
		ret = -1;
	} else {
		for (unsigned k = 0; k < d->length; k++)
			dst[k] = n->dma->rxbuf[i][k];
		ret = d->length;
		n->stats.rx_frames++;
	}
	d->status = 0;
	d->errors = 0;
	barrier();
	/* give the descriptor back: it becomes the new tail */
	wr(n, E1000_RDT, i);
	n->rx_next = (i + 1) % E1000_NRX;
	return ret;
}

bool e1000_link_up(struct e1000 *n)
{
	return rd(n, E1000_STATUS) & E1000_STATUS_LU;
}

static int glue_tx(void *ctx, const void *frame, size_t len) { return e1000_tx(ctx, frame, len); }
static int glue_tx_csum(void *ctx, const void *frame, size_t len, unsigned css, unsigned cso)
{
	return e1000_tx_csum(ctx, frame, len, css, cso);
}
static int glue_rx(void *ctx, void *buf, size_t cap) { return e1000_rx(ctx, buf, cap); }
static bool glue_link(void *ctx) { return e1000_link_up(ctx); }

void e1000_hvnet_nic(struct e1000 *n, struct hvnet_nic *out)
{
	out->ctx = n;
	for (int i = 0; i < 6; i++)
		out->mac[i] = n->mac[i];
	out->tx = glue_tx;
	out->tx_csum = glue_tx_csum;        /* every 8254x offloads TCP/UDP checksums */
	out->rx = glue_rx;
	out->link_up = glue_link;
}
