/* Host tests for drivers/pci.c, drivers/e1000.c and the lwIP glue
 * (drivers/net/hvnet.c) over a fake PCI configuration space and a fake
 * 82540EM register file that plays the device's side of the rings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "drivers/pci.h"
#include "drivers/e1000.h"
#include "drivers/net/hvnet.h"
#include "drivers/net/hvnet_setup.h"
#include "vmm/options.h"

/* ---------------- fake PCI config space ---------------- */
struct fcfg { bool present; uint32_t regs[64]; uint32_t barmask[6]; };
static struct fcfg space[2][32][8];

static struct fcfg *fdev(uint32_t cf8)
{
	unsigned bus = (cf8 >> 16) & 0xff, dev = (cf8 >> 11) & 31, fn = (cf8 >> 8) & 7;
	return bus < 2 ? &space[bus][dev][fn] : NULL;
}
static uint32_t f_rd(uint32_t cf8)
{
	struct fcfg *d = fdev(cf8);
	return d && d->present ? d->regs[(cf8 & 0xfc) / 4] : 0xffffffffu;
}
static void f_wr(uint32_t cf8, uint32_t v)
{
	struct fcfg *d = fdev(cf8);
	unsigned r = (cf8 & 0xfc) / 4;
	if (!d || !d->present)
		return;
	if (r >= 4 && r < 10) {       /* BAR: size mask, type bits read-only */
		uint32_t m = d->barmask[r - 4];
		d->regs[r] = (v & m) | (d->regs[r] & ~m);
		return;
	}
	d->regs[r] = v;
}
static const struct pci_cfg_ops fops = { f_rd, f_wr };

static void mkdev(unsigned bus, unsigned dev, unsigned fn, uint16_t ven, uint16_t did,
		  uint32_t class_rev, uint8_t ht)
{
	struct fcfg *d = &space[bus][dev][fn];
	d->present = true;
	d->regs[0] = (uint32_t)did << 16 | ven;
	d->regs[2] = class_rev;
	d->regs[3] = (uint32_t)ht << 16;
	d->regs[15] = 11;    /* irq line */
}

static void setup_pci(void)
{
	memset(space, 0, sizeof(space));
	mkdev(0, 0, 0, 0x8086, 0x1237, 0x06000002, 0x00);                 /* i440FX host bridge */
	mkdev(0, 3, 0, 0x8086, 0x100e, 0x02000003, 0x00);                 /* 82540EM */
	space[0][3][0].regs[4] = 0xfebc0000; space[0][3][0].barmask[0] = 0xfffe0000; /* 128K mem */
	space[0][3][0].regs[5] = 0x0000c001; space[0][3][0].barmask[1] = 0xffffffc0; /* 64B I/O */
	space[0][3][0].regs[1] = 0x0;                                     /* command */
	mkdev(0, 4, 0, 0x1234, 0x0001, 0x01010000, 0x80);                 /* multi-function */
	mkdev(0, 4, 1, 0x1234, 0x0002, 0x0c030000, 0x00);
	mkdev(0, 5, 0, 0x8086, 0x2448, 0x06040000, 0x01);                 /* PCI-PCI bridge → bus 1 */
	space[0][5][0].regs[6] = 0x00010100;                              /* secondary bus 1 */
	mkdev(1, 0, 0, 0x8086, 0x100e, 0x02000003, 0x00);                 /* second e1000, 64-bit BAR */
	space[1][0][0].regs[4] = 0x00000004; space[1][0][0].barmask[0] = 0xfff00000; /* 1M, 64-bit */
	space[1][0][0].regs[5] = 0x00000001; space[1][0][0].barmask[1] = 0xffffffff;
	pci_set_ops(&fops);
}

static void test_pci_enumerate(void **state)
{
	struct pci_dev devs[PCI_MAX_DEVS];
	setup_pci();
	int n = pci_enumerate(devs, PCI_MAX_DEVS);
	assert_int_equal(n, 6);
	assert_int_equal(devs[1].dev, 3);
	assert_int_equal(devs[1].vendor, 0x8086);
	assert_int_equal(devs[1].device, 0x100e);
	assert_int_equal(devs[1].class_code, 0x02);
	assert_int_equal(devs[1].bar[0], 0xfebc0000);
	assert_int_equal(devs[1].bar_size[0], 128 * 1024);
	assert_true(devs[1].bar_io[1]);
	assert_int_equal(devs[1].bar[1], 0xc000);
	assert_int_equal(devs[1].bar_size[1], 64);
	assert_int_equal(devs[1].irq_line, 11);
	/* BARs restored after probing */
	assert_int_equal(space[0][3][0].regs[4], 0xfebc0000);
	assert_int_equal(devs[3].fn, 1);                  /* found function 1 */
	assert_int_equal(devs[5].bus, 1);                 /* behind the bridge */
	assert_true(devs[5].bar_64[0]);
	assert_int_equal(devs[5].bar[0], 0x100000000ull);
	assert_int_equal(devs[5].bar_size[0], 1024 * 1024);
	/* max respected */
	assert_int_equal(pci_enumerate(devs, 2), 2);   /* never more than max stored */
	pci_enable_device(&devs[1]);
	assert_int_equal(space[0][3][0].regs[1] & 0xffff,
			 PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF | PCI_CMD_IO);
}

static void test_pci_bdf_pick_hide(void **state)
{
	uint8_t b, d, f;
	struct pci_dev devs[PCI_MAX_DEVS];
	const char *err = NULL;
	assert_int_equal(pci_parse_bdf("00:03.0", &b, &d, &f), 0);
	assert_int_equal(d, 3);
	assert_int_equal(pci_parse_bdf("0000:01:1f.7", &b, &d, &f), 0);
	assert_int_equal(b, 1); assert_int_equal(d, 31); assert_int_equal(f, 7);
	assert_int_equal(pci_parse_bdf("00:20.0", &b, &d, &f), -1);
	assert_int_equal(pci_parse_bdf("00:03.8", &b, &d, &f), -1);
	assert_int_equal(pci_parse_bdf("00:03.0x", &b, &d, &f), -1);
	assert_int_equal(pci_parse_bdf("zz", &b, &d, &f), -1);
	setup_pci();
	int n = pci_enumerate(devs, PCI_MAX_DEVS);
	assert_int_equal(e1000_pick(devs, n, NULL, &err), 1);
	assert_int_equal(e1000_pick(devs, n, "01:00.0", &err), 5);
	assert_int_equal(e1000_pick(devs, n, "00:04.0", &err), -1);
	assert_non_null(strstr(err, "not an 82540EM"));
	assert_int_equal(e1000_pick(devs, n, "00:09.0", &err), -1);
	assert_int_equal(e1000_pick(devs, n, "bogus", &err), -1);
	assert_int_equal(e1000_pick(devs, 1, NULL, &err), -1);
	assert_false(pci_is_hidden(pci_cf8(0, 3, 0, 0)));
	assert_int_equal(pci_hide(&devs[1]), 0);
	assert_true(pci_is_hidden(pci_cf8(0, 3, 0, 0x10)));
	assert_false(pci_is_hidden(pci_cf8(0, 3, 0, 0) & 0x7fffffff));   /* enable bit off */
	assert_false(pci_is_hidden(pci_cf8(0, 3, 1, 0)));
	assert_false(pci_is_hidden(pci_cf8(1, 3, 0, 0)));
	assert_true(pci_hidden_ecam((0ull << 20) | (3ull << 15) | (0ull << 12) | 0x10));
	assert_false(pci_hidden_ecam((0ull << 20) | (4ull << 15)));
}

/* ---------------- fake 82540EM ---------------- */
static uint32_t regs[0x6000 / 4];
static uint16_t eeprom[64] = { 0x5452, 0x1200, 0x5634 };   /* 52:54:00:12:34:56 */
static bool eeprom_works = true, reset_sticks, complete_on_delay;
static void dev_transmit(void);
static struct e1000_dma dma;
static struct e1000 nic;

static uint32_t e_rd(void *ctx, uint32_t r) { return regs[r / 4]; }
static void e_wr(void *ctx, uint32_t r, uint32_t v)
{
	if (r == E1000_EERD) {
		if (eeprom_works && (v & E1000_EERD_START))
			v = E1000_EERD_DONE | (uint32_t)eeprom[(v >> 8) & 63] << 16 | (v & 0xff00);
		else
			v = 0;
	}
	if (r == E1000_ICR) { regs[r / 4] = 0; return; }
	regs[r / 4] = v;
}
static void e_delay(unsigned us)
{
	if (complete_on_delay)
		dev_transmit();            /* the device finishes frames while the driver waits */
	if (!reset_sticks)
		regs[E1000_CTRL / 4] &= ~E1000_CTRL_RST;
}
static const struct e1000_platform plat = { e_rd, e_wr, e_delay, NULL, NULL };

/* device side: put a frame into the descriptor at RDH if the ring has room */
static bool dev_receive(const void *frame, uint16_t len, uint8_t errors)
{
	uint32_t head = regs[E1000_RDH / 4], tail = regs[E1000_RDT / 4];
	if (head == tail)
		return false;                     /* ring full: device would count MPC */
	struct e1000_rx_desc *d = &dma.rx[head];
	assert_int_equal(d->addr, (uint64_t)(uintptr_t)dma.rxbuf[head]);
	memcpy((void *)(uintptr_t)d->addr, frame, len);
	d->length = len;
	d->errors = errors;
	d->status = E1000_RXD_DD | E1000_RXD_EOP;
	regs[E1000_RDH / 4] = (head + 1) % E1000_NRX;
	return true;
}

/* device side: transmit everything between TDH and TDT */
static uint8_t txed[64][1600];
static size_t txed_len[64];
static unsigned ntxed;
/* the device's checksum context (8254x SDM §3.3: TCP/IP context descriptor) */
static unsigned dev_tucss, dev_tucso, dev_tucse, dev_ctx_loaded;
static uint32_t ones_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}
static void dev_transmit(void)
{
	while (regs[E1000_TDH / 4] != regs[E1000_TDT / 4]) {
		struct e1000_tx_desc *d = &dma.tx[regs[E1000_TDH / 4]];
		if ((d->cmd & E1000_TXD_CMD_DEXT) && (d->cso >> 4) == 0) {
			/* context descriptor: remember where checksums go; no frame */
			const struct e1000_tx_ctx *c = (const void *)d;
			assert_true(c->cmd_len & E1000_TXC_CMD_DEXT);
			dev_tucss = c->tucss; dev_tucso = c->tucso; dev_tucse = c->tucse;
			dev_ctx_loaded++;
			if (c->cmd_len & E1000_TXC_CMD_RS)
				d->status |= E1000_TXD_STA_DD;
			regs[E1000_TDH / 4] = (regs[E1000_TDH / 4] + 1) % E1000_NTX;
			continue;
		}
		assert_true(d->cmd & E1000_TXD_CMD_EOP);
		uint8_t f[1600];
		memcpy(f, (void *)(uintptr_t)d->addr, d->length);
		if (d->cmd & E1000_TXD_CMD_DEXT) {
			/* data descriptor: DTYP 0001; POPTS.TXSM inserts the sum from
			 * TUCSS to TUCSE (0: the end), the field's value included */
			assert_int_equal(d->cso >> 4, 1);
			assert_int_equal(d->css & E1000_TXD_POPTS_IXSM, 0);
			if (d->css & E1000_TXD_POPTS_TXSM) {
				assert_true(dev_ctx_loaded);
				size_t end = dev_tucse ? dev_tucse + 1u : d->length;
				uint16_t c = (uint16_t)~ones_sum(f + dev_tucss, end - dev_tucss, 0);
				f[dev_tucso] = (uint8_t)(c >> 8);
				f[dev_tucso + 1] = (uint8_t)c;
			}
		}
		if (ntxed < 64) {
			memcpy(txed[ntxed], f, d->length);
			txed_len[ntxed] = d->length;
		}
		ntxed++;
		d->status |= E1000_TXD_STA_DD;
		regs[E1000_TDH / 4] = (regs[E1000_TDH / 4] + 1) % E1000_NTX;
	}
}

/* an IPv4 UDP frame's checksum verifies (RFC 768: pseudo-header + datagram
 * sums to 0xffff), and is not the "no checksum" 0 */
static bool udp_csum_ok(const uint8_t *f, size_t len)
{
	size_t off = 14 + (size_t)(f[14] & 15) * 4, ulen = (size_t)(f[off + 4] << 8 | f[off + 5]);
	if (off + ulen != len || (f[off + 6] | f[off + 7]) == 0)
		return false;
	uint32_t sum = ones_sum(f + 26, 8, 17 + (uint32_t)ulen);
	return ones_sum(f + off, ulen, sum) == 0xffff;
}

static int setup_nic(void **state)
{
	const char *err = NULL;
	memset(regs, 0, sizeof(regs));
	memset(&dma, 0xa5, sizeof(dma));        /* driver must not rely on zeroed memory */
	eeprom_works = true;
	reset_sticks = false;
	ntxed = 0;
	dev_ctx_loaded = 0;
	regs[E1000_STATUS / 4] = E1000_STATUS_LU;
	int rc = e1000_init(&nic, NULL, &plat, &dma, &err);
	if (rc)
		fprintf(stderr, "init: %s\n", err);
	return rc;
}

static void test_e1000_init(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	assert_memory_equal(nic.mac, mac, 6);
	assert_true(nic.mac_from_eeprom);
	assert_int_equal(regs[E1000_RAL0 / 4], 0x12005452);
	assert_int_equal(regs[E1000_RAH0 / 4], 0x5634 | E1000_RAH_AV);
	assert_int_equal(regs[E1000_IMC / 4], 0xffffffff);
	assert_int_equal(regs[E1000_IMS / 4], 0);
	assert_true(regs[E1000_RCTL / 4] & E1000_RCTL_EN);
	assert_true(regs[E1000_TCTL / 4] & E1000_TCTL_EN);
	assert_true(regs[E1000_CTRL / 4] & E1000_CTRL_SLU);
	assert_int_equal(regs[E1000_RDLEN / 4], E1000_NRX * 16);
	assert_int_equal(regs[E1000_TDLEN / 4], E1000_NTX * 16);
	assert_int_equal(regs[E1000_RDT / 4], E1000_NRX - 1);
	assert_int_equal(regs[E1000_TDT / 4], 0);
	assert_int_equal(regs[E1000_RDBAL / 4], (uint32_t)(uintptr_t)dma.rx);
	assert_int_equal(regs[E1000_RDBAH / 4], (uint32_t)((uintptr_t)dma.rx >> 32));
	assert_int_equal(sizeof(struct e1000_rx_desc), 16);
	assert_int_equal(sizeof(struct e1000_tx_desc), 16);
	assert_int_equal((uintptr_t)dma.rx % 16, 0);
	assert_true(e1000_link_up(&nic));
	regs[E1000_STATUS / 4] = 0;
	assert_false(e1000_link_up(&nic));
}

static void test_e1000_init_fallbacks(void **state)
{
	const char *err = NULL;
	/* no EEPROM: MAC from RAL0/RAH0 */
	memset(regs, 0, sizeof(regs));
	eeprom_works = false;
	regs[E1000_RAL0 / 4] = 0x33221102;
	regs[E1000_RAH0 / 4] = 0x5544 | E1000_RAH_AV;
	assert_int_equal(e1000_init(&nic, NULL, &plat, &dma, &err), 0);
	assert_false(nic.mac_from_eeprom);
	assert_int_equal(nic.mac[0], 0x02);
	assert_int_equal(nic.mac[5], 0x55);
	/* neither: clear error */
	memset(regs, 0, sizeof(regs));
	assert_int_equal(e1000_init(&nic, NULL, &plat, &dma, &err), -1);
	assert_non_null(strstr(err, "MAC"));
	/* reset never completes: error, bounded */
	memset(regs, 0, sizeof(regs));
	eeprom_works = true;
	reset_sticks = true;
	assert_int_equal(e1000_init(&nic, NULL, &plat, &dma, &err), -1);
	assert_non_null(strstr(err, "reset"));
}

static void test_e1000_rx(void **state)
{
	uint8_t f[1600], buf[1600];
	assert_int_equal(e1000_rx(&nic, buf, sizeof(buf)), 0);
	/* 300 frames through a 32-descriptor ring, in bursts */
	unsigned sent = 0, got = 0;
	while (got < 300) {
		for (int k = 0; k < 7 && sent < 300; k++) {
			memset(f, (int)sent, sizeof(f));
			if (!dev_receive(f, (uint16_t)(60 + sent), 0))
				break;
			sent++;
		}
		int n;
		while ((n = e1000_rx(&nic, buf, sizeof(buf))) > 0) {
			assert_int_equal(n, 60 + got);
			assert_int_equal(buf[0], (uint8_t)got);
			assert_int_equal(buf[n - 1], (uint8_t)got);
			got++;
		}
		assert_int_equal(n, 0);
	}
	assert_int_equal(nic.stats.rx_frames, 300);
	/* ring can be filled to N-1 frames, then the device must stop */
	unsigned fill = 0;
	while (dev_receive(f, 64, 0))
		fill++;
	assert_int_equal(fill, E1000_NRX - 1);
	while (e1000_rx(&nic, buf, sizeof(buf)) > 0)
		;
	/* errored and oversized descriptors are dropped and counted */
	assert_true(dev_receive(f, 64, 0x01));
	assert_true(dev_receive(f, 1500, 0));
	assert_true(dev_receive(f, 70, 0));
	assert_int_equal(e1000_rx(&nic, buf, sizeof(buf)), -1);
	assert_int_equal(e1000_rx(&nic, buf, 100), -1);
	assert_int_equal(e1000_rx(&nic, buf, 100), 70);
	assert_int_equal(nic.stats.rx_errors, 1);
	assert_int_equal(nic.stats.rx_toobig, 1);
	/* a descriptor without EOP */
	assert_true(dev_receive(f, 64, 0));
	dma.rx[(regs[E1000_RDH / 4] + E1000_NRX - 1) % E1000_NRX].status = E1000_RXD_DD;
	assert_int_equal(e1000_rx(&nic, buf, sizeof(buf)), -1);
	assert_int_equal(nic.stats.rx_fragmented, 1);
}

static void test_e1000_tx(void **state)
{
	uint8_t f[1600];
	for (int i = 0; i < E1000_NTX - 1; i++) {
		memset(f, i, sizeof(f));
		assert_int_equal(e1000_tx(&nic, f, 60 + (size_t)i), 0);
	}
	/* every descriptor in flight: full, counted, nothing overwritten */
	assert_int_equal(e1000_tx(&nic, f, 60), -1);
	assert_int_equal(nic.stats.tx_full, 1);
	dev_transmit();
	assert_int_equal(ntxed, E1000_NTX - 1);
	for (unsigned i = 0; i < E1000_NTX - 1; i++) {
		assert_int_equal(txed_len[i], 60 + i);
		assert_int_equal(txed[i][0], (uint8_t)i);
	}
	for (int i = 0; i < 100; i++) {
		assert_int_equal(e1000_tx(&nic, f, 100), 0);
		dev_transmit();
	}
	assert_int_equal(ntxed, E1000_NTX - 1 + 100);
	assert_int_equal(e1000_tx(&nic, f, 13), -1);
	assert_int_equal(e1000_tx(&nic, f, 1519), -1);
	assert_int_equal(nic.stats.tx_toobig, 2);
	/* full ring, but the device completes while the driver waits: no loss */
	for (int i = 0; i < E1000_NTX - 1; i++)
		assert_int_equal(e1000_tx(&nic, f, 100), 0);
	complete_on_delay = true;
	unsigned before = ntxed;
	assert_int_equal(e1000_tx(&nic, f, 100), 0);
	complete_on_delay = false;
	dev_transmit();
	assert_int_equal(ntxed, before + E1000_NTX);
	assert_int_equal(nic.stats.tx_full, 1);
}

/* ---------------- lwIP over the fake e1000 ---------------- */
static uint32_t now;
static uint32_t clk(void) { return now; }

static void test_hvnet_udp_over_e1000(void **state)
{
	struct hvnet_nic hn;
	struct hvnet_config cfg;
	const char *err;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(hvnet_parse_ip_option("10.0.2.15/24,10.0.2.2", &cfg, &err), 0);
	assert_int_equal(cfg.netmask, 0xffffff00);
	assert_int_equal(hvnet_parse_collector_option("10.0.2.2:5140", &cfg, &err), 0);
	e1000_hvnet_nic(&nic, &hn);
	hv_lwip_set_hooks(clk, NULL, NULL);
	assert_int_equal(hvnet_init(&hn, &cfg), 0);
	assert_true(hvnet_ready());
	assert_int_equal(hvnet_ip(), 0x0a00020f);
	/* bring-up announces the address: one gratuitous ARP (sender = target = us) */
	dev_transmit();
	assert_int_equal(ntxed, 1);
	assert_int_equal(txed[0][12], 0x08); assert_int_equal(txed[0][13], 0x06);
	assert_memory_equal(&txed[0][28], "\x0a\x00\x02\x0f", 4);
	assert_memory_equal(&txed[0][38], "\x0a\x00\x02\x0f", 4);
	ntxed = 0;

	/* first send: lwIP ARPs for 10.0.2.2 and queues the datagram */
	assert_int_equal(hvnet_send("hello-collector", 15), 0);
	dev_transmit();
	assert_int_equal(ntxed, 1);
	assert_int_equal(txed[0][12], 0x08); assert_int_equal(txed[0][13], 0x06);   /* ARP */
	assert_int_equal(txed[0][21], 1);                                             /* request */
	assert_memory_equal(&txed[0][38], "\x0a\x00\x02\x02", 4);                      /* who-has 10.0.2.2 */
	/* slirp answers */
	uint8_t rep[60] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
			    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
			    0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 10, 0, 2, 2,
			    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15 };
	assert_true(dev_receive(rep, sizeof(rep), 0));
	hvnet_poll();
	dev_transmit();
	assert_int_equal(ntxed, 2);
	/* the queued UDP datagram went out to the gateway's MAC, port 5140 */
	uint8_t *u = txed[1];
	assert_memory_equal(u, "\x52\x55\x0a\x00\x02\x02", 6);
	assert_int_equal(u[12], 0x08); assert_int_equal(u[13], 0x00);
	assert_int_equal(u[23], 17);
	assert_memory_equal(&u[30], "\x0a\x00\x02\x02", 4);
	assert_int_equal(u[36] << 8 | u[37], 5140);
	assert_memory_equal(&u[42], "hello-collector", 15);
	assert_int_equal(txed_len[1], 42 + 15);   /* short frame: the device pads it (TCTL.PSP) */
	/* issue 16: lwIP left the UDP checksum to the NIC (one context
	 * descriptor, then TXSM data descriptors); what left the device verifies */
	assert_true(udp_csum_ok(u, txed_len[1]));
	assert_int_equal(nic.stats.tx_ctx, 1);
	assert_int_equal(nic.stats.tx_csum, 1);

	/* garbage frames: counted, nothing sent, still works */
	uint8_t junk[100];
	memset(junk, 0xff, sizeof(junk));
	for (int i = 0; i < 50; i++) {
		if (!dev_receive(junk, (uint16_t)(14 + i), 0)) {
			hvnet_poll();                  /* ring full: let hvmon drain it */
			assert_true(dev_receive(junk, (uint16_t)(14 + i), 0));
		}
	}
	hvnet_poll();
	hvnet_poll();
	dev_transmit();
	assert_int_equal(ntxed, 2);
	assert_int_equal(hvnet_send("again", 5), 0);
	dev_transmit();
	assert_int_equal(ntxed, 3);
	assert_memory_equal(&txed[2][42], "again", 5);
	assert_true(udp_csum_ok(txed[2], txed_len[2]));
	assert_int_equal(nic.stats.tx_ctx, 1);                 /* the context is kept */
	assert_int_equal(nic.stats.tx_csum, 2);
	struct hvnet_stats st;
	hvnet_get_stats(&st);
	assert_int_equal(st.udp_sent, 2);
	assert_int_equal(st.rx_frames, 51);            /* 1 ARP reply + 50 junk, all consumed */
}

/* hvnet_udp_csum_prep: the software checksum and the NIC's (pseudo-header sum
 * preloaded, sum over the datagram complemented) give the same verifying
 * value; other frames and truncated ones are left alone, never read past */
static void test_udp_csum_prep(void **state)
{
	static const uint8_t hdr[42] = {
		0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00,
		0x45, 0x00, 0x00, 0, 0x12, 0x34, 0x00, 0x00, 0xff, 17, 0, 0,
		10, 0, 2, 15, 10, 0, 2, 2,
		0x14, 0x14, 0x14, 0x14, 0, 0, 0xaa, 0xbb };
	uint8_t f[1514], g[1514];
	unsigned css;
	uint32_t x = 99;
	for (size_t plen = 0; plen <= 1472; plen += plen < 40 ? 1 : 97) {
		size_t len = 42 + plen, ulen = 8 + plen;
		memcpy(f, hdr, 42);
		f[16] = (uint8_t)((20 + ulen) >> 8); f[17] = (uint8_t)(20 + ulen);
		f[38] = (uint8_t)(ulen >> 8); f[39] = (uint8_t)ulen;
		for (size_t i = 0; i < plen; i++)
			f[42 + i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		memcpy(g, f, len);
		assert_int_equal(hvnet_udp_csum_prep(f, len, false, &css), HVNET_CSUM_SW);
		assert_int_equal(css, 34);
		assert_true(udp_csum_ok(f, len));
		assert_int_equal(hvnet_udp_csum_prep(g, len, true, &css), HVNET_CSUM_HW);
		uint16_t c = (uint16_t)~ones_sum(g + 34, len - 34, 0);   /* what the NIC does */
		if (!c)
			c = 0xffff;
		assert_int_equal(c, f[40] << 8 | f[41]);
		/* every truncation: not a full datagram, untouched */
		for (size_t t = 0; t < len; t += len > 200 ? 61 : 1) {
			memcpy(g, f, t);
			assert_int_equal(hvnet_udp_csum_prep(g, t, true, &css), HVNET_CSUM_NONE);
			assert_memory_equal(g, f, t);
		}
	}
	/* ARP, TCP, an IPv4 fragment, a padded frame: left alone */
	memcpy(f, hdr, 42);
	f[16] = 0; f[17] = 28; f[38] = 0; f[39] = 8;
	memcpy(g, f, 60);
	g[12] = 0x08; g[13] = 0x06;
	assert_int_equal(hvnet_udp_csum_prep(g, 42, true, &css), HVNET_CSUM_NONE);
	memcpy(g, f, 42); g[23] = 6;
	assert_int_equal(hvnet_udp_csum_prep(g, 42, true, &css), HVNET_CSUM_NONE);
	memcpy(g, f, 42); g[20] = 0x20;                 /* MF */
	assert_int_equal(hvnet_udp_csum_prep(g, 42, true, &css), HVNET_CSUM_NONE);
	memcpy(g, f, 42); memset(g + 42, 0, 18);
	assert_int_equal(hvnet_udp_csum_prep(g, 60, true, &css), HVNET_CSUM_NONE);
	assert_int_equal(hvnet_udp_csum_prep(f, 42, true, &css), HVNET_CSUM_HW);
}

/* e1000_tx_csum: argument checks; a new css/cso loads a new context */
static void test_e1000_tx_csum(void **state)
{
	uint8_t f[100];
	memset(f, 0, sizeof(f));
	assert_int_equal(e1000_tx_csum(&nic, f, 100, 34, 99), -1);       /* field past the end */
	assert_int_equal(e1000_tx_csum(&nic, f, 100, 34, 20), -1);       /* cso before css */
	assert_int_equal(e1000_tx_csum(&nic, f, 100, 300, 306), -1);
	assert_int_equal(e1000_tx_csum(&nic, f, 100, 34, 40), 0);
	assert_int_equal(e1000_tx_csum(&nic, f, 100, 34, 40), 0);
	assert_int_equal(e1000_tx_csum(&nic, f, 100, 38, 44), 0);
	assert_int_equal(e1000_tx(&nic, f, 100), 0);                     /* legacy between */
	dev_transmit();
	assert_int_equal(nic.stats.tx_ctx, 2);
	assert_int_equal(dev_ctx_loaded, 2);
	assert_int_equal(ntxed, 4);
	assert_int_equal(nic.stats.tx_csum, 3);
	/* the slots the context descriptors used carry frames again */
	for (int i = 0; i < 3 * E1000_NTX; i++) {
		assert_int_equal(e1000_tx(&nic, f, 100), 0);
		dev_transmit();
	}
	assert_int_equal(ntxed, 4 + 3 * E1000_NTX);
	assert_memory_equal(txed[10], f, 100);
}

static void test_options(void **state)
{
	struct hvnet_config c;
	const char *err;
	uint8_t k[32];
	memset(&c, 0, sizeof(c));
	assert_int_equal(hvnet_parse_ip_option("dhcp", &c, &err), 0);
	assert_true(c.dhcp);
	assert_int_equal(hvnet_parse_ip_option("192.168.1.7/16", &c, &err), 0);
	assert_false(c.dhcp);
	assert_int_equal(c.ip, 0xc0a80107); assert_int_equal(c.netmask, 0xffff0000); assert_int_equal(c.gw, 0);
	assert_int_equal(hvnet_parse_ip_option("256.1.1.1/24", &c, &err), -1);
	assert_int_equal(hvnet_parse_ip_option("10.0.2.15", &c, &err), -1);
	assert_int_equal(hvnet_parse_ip_option("10.0.2.15/33", &c, &err), -1);
	assert_int_equal(hvnet_parse_ip_option("10.0.2.15/24,10.0.2", &c, &err), -1);
	assert_int_equal(hvnet_parse_ip_option("10.0.2.15/24,10.0.2.2x", &c, &err), -1);
	assert_int_equal(hvnet_parse_collector_option("10.0.2.2:0", &c, &err), -1);
	assert_int_equal(hvnet_parse_collector_option("10.0.2.2:65536", &c, &err), -1);
	assert_int_equal(hvnet_parse_collector_option("10.0.2.2", &c, &err), -1);
	assert_int_equal(hvnet_parse_collector_option("1.2.3.4:9", &c, &err), 0);
	assert_int_equal(c.collector_port, 9);
	assert_int_equal(hvnet_parse_key_option("00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF", k, &err), 0);
	assert_int_equal(k[1], 0x11); assert_int_equal(k[31], 0xff);
	assert_int_equal(hvnet_parse_key_option("0011", k, &err), -1);
	assert_int_equal(hvnet_parse_key_option("00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF0", k, &err), -1);
	assert_int_equal(hvnet_parse_key_option("g0112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF", k, &err), -1);
}

/* hvmon's parsed options (vmm/options.c) → the network channel's options */
static void test_options_from_hv(void **state)
{
	struct hv_options o;
	struct hvnet_options n;
	const char *err = NULL;
	const char *cmd = "collector=10.0.2.2:5140 ip=10.0.2.15/24,10.0.2.2 net=00:03.0 "
		"key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse(cmd, strlen(cmd), &o, NULL), 0);
	assert_int_equal(hvnet_options_from_hv(&n, &o, &err), 0);
	assert_false(n.cfg.dhcp);
	assert_int_equal(n.cfg.ip, 0x0a00020f);
	assert_int_equal(n.cfg.netmask, 0xffffff00);
	assert_int_equal(n.cfg.gw, 0x0a000202);
	assert_int_equal(n.cfg.collector_ip, 0x0a000202);
	assert_int_equal(n.cfg.collector_port, 5140);
	assert_false(n.net_first);
	assert_int_equal(n.net_dev, 3);
	assert_int_equal(n.key[1], 0x11);
	assert_int_equal(n.key[31], 0xff);
	/* defaults: dhcp, first NIC */
	const char *cmd2 = "collector=1.2.3.4:9 key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse(cmd2, strlen(cmd2), &o, NULL), 0);
	assert_int_equal(hvnet_options_from_hv(&n, &o, &err), 0);
	assert_true(n.cfg.dhcp);
	assert_true(n.net_first);
	/* no collector / no key / a 16-byte key: refused with a reason */
	hv_options_defaults(&o);
	assert_int_equal(hvnet_options_from_hv(&n, &o, &err), -1);
	assert_non_null(strstr(err, "collector"));
	/* vmm/options.c itself refuses a key that is not 32 bytes (the key stays unset) */
	const char *cmd3 = "collector=1.2.3.4:9 key=00112233445566778899aabbccddeeff";
	hv_options_defaults(&o);
	assert_int_equal(hv_options_parse(cmd3, strlen(cmd3), &o, NULL), 1);
	assert_int_equal(o.key_len, 0);
	assert_int_equal(hvnet_options_from_hv(&n, &o, &err), -1);
	assert_non_null(strstr(err, "key="));
	o.key_len = 16;                 /* a caller that bypassed the parser */
	assert_int_equal(hvnet_options_from_hv(&n, &o, &err), -1);
	assert_non_null(strstr(err, "32 bytes"));
	/* the string form used by the self-test kernel */
	assert_int_equal(hvnet_options_from_strings(&n, NULL, NULL, "10.0.2.2:5140",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &err), 0);
	assert_true(n.cfg.dhcp && n.net_first && n.key_len == 32);
	assert_int_equal(hvnet_options_from_strings(&n, "zz", NULL, "10.0.2.2:5140",
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &err), -1);
	assert_int_equal(hvnet_options_from_strings(&n, NULL, NULL, NULL, NULL, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_enumerate),
		cmocka_unit_test(test_pci_bdf_pick_hide),
		cmocka_unit_test_setup(test_e1000_init, setup_nic),
		cmocka_unit_test(test_e1000_init_fallbacks),
		cmocka_unit_test_setup(test_e1000_rx, setup_nic),
		cmocka_unit_test_setup(test_e1000_tx, setup_nic),
		cmocka_unit_test_setup(test_hvnet_udp_over_e1000, setup_nic),
		cmocka_unit_test(test_udp_csum_prep),
		cmocka_unit_test_setup(test_e1000_tx_csum, setup_nic),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_options_from_hv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
