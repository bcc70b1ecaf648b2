/*
 * Intel 82540EM (e1000) driver for hvmon's management NIC: reset, MAC from
 * the EEPROM (EERD) or RAL0/RAH0, one RX and one TX descriptor ring with
 * their buffers in hvmon memory, polled (all interrupts masked). Register
 * numbers from the PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual (8254x), ch. 13.
 */
#ifndef HVMON_DRIVERS_E1000_H
#define HVMON_DRIVERS_E1000_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "drivers/pci.h"

#define E1000_VENDOR        0x8086
#define E1000_DEV_82540EM   0x100e

/* registers (byte offsets in BAR0) */
#define E1000_CTRL     0x0000
#define E1000_STATUS   0x0008
#define E1000_EECD     0x0010
#define E1000_EERD     0x0014
#define E1000_ICR      0x00c0
#define E1000_IMS      0x00d0
#define E1000_IMC      0x00d8
#define E1000_RCTL     0x0100
#define E1000_TCTL     0x0400
#define E1000_TIPG     0x0410
#define E1000_RDBAL    0x2800
#define E1000_RDBAH    0x2804
#define E1000_RDLEN    0x2808
#define E1000_RDH      0x2810
#define E1000_RDT      0x2818
#define E1000_TDBAL    0x3800
#define E1000_TDBAH    0x3804
#define E1000_TDLEN    0x3808
#define E1000_TDH      0x3810
#define E1000_TDT      0x3818
#define E1000_MTA      0x5200     /* 128 x 32 bit */
#define E1000_RAL0     0x5400
#define E1000_RAH0     0x5404
#define E1000_MPC      0x4010     /* missed packets (RX ring full) */
#define E1000_GPRC     0x4074
#define E1000_GPTC     0x4080

#define E1000_CTRL_ASDE      (1u << 5)
#define E1000_CTRL_SLU       (1u << 6)
#define E1000_CTRL_LRST      (1u << 3)
#define E1000_CTRL_ILOS      (1u << 7)
#define E1000_CTRL_VME       (1u << 30)
#define E1000_CTRL_RST       (1u << 26)
#define E1000_CTRL_PHY_RST   (1u << 31)
#define E1000_STATUS_LU      (1u << 1)
#define E1000_EERD_START     (1u << 0)
#define E1000_EERD_DONE      (1u << 4)
#define E1000_RCTL_EN        (1u << 1)
#define E1000_RCTL_BAM       (1u << 15)
#define E1000_RCTL_SECRC     (1u << 26)     /* BSIZE 00 = 2048 bytes */
#define E1000_TCTL_EN        (1u << 1)
#define E1000_TCTL_PSP       (1u << 3)
#define E1000_TCTL_CT(x)     ((uint32_t)(x) << 4)
#define E1000_TCTL_COLD(x)   ((uint32_t)(x) << 12)
#define E1000_RAH_AV         (1u << 31)

#define E1000_RXD_DD         0x01
#define E1000_RXD_EOP        0x02
#define E1000_TXD_CMD_EOP    0x01
#define E1000_TXD_CMD_IFCS   0x02
#define E1000_TXD_CMD_RS     0x08
#define E1000_TXD_CMD_DEXT   0x20       /* extended (context/data) descriptor */
#define E1000_TXD_STA_DD     0x01
/* TCP/IP data descriptor (8254x SDM §3.3, "TCP/IP Data Descriptor"): the
 * legacy layout's byte 10 holds DTYP in bits 7:4 (0001 = data), byte 13 POPTS */
#define E1000_TXD_DTYP_DATA  0x10
#define E1000_TXD_POPTS_IXSM 0x01       /* insert the IP checksum */
#define E1000_TXD_POPTS_TXSM 0x02       /* insert the TCP/UDP checksum */
/* TCP/IP context descriptor (8254x SDM §3.3, "TCP/IP Context Descriptor"):
 * TUCMD bits of its command/length word */
#define E1000_TXC_CMD_IP     (1u << 25) /* IPv4 (else IPv6) */
#define E1000_TXC_CMD_RS     (1u << 27) /* report status: DD written back */
#define E1000_TXC_CMD_DEXT   (1u << 29)

#define E1000_NRX            32
#define E1000_NTX            32
#define E1000_BUFSZ          2048
#define E1000_TX_WAIT_US     200        /* longest wait for a TX descriptor */

struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t  status;
	uint8_t  errors;
	uint16_t special;
} __attribute__((packed));

struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t  cso;            /* extended data descriptor: DTYP << 4 */
	uint8_t  cmd;
	uint8_t  status;
	uint8_t  css;            /* extended data descriptor: POPTS */
	uint16_t special;
} __attribute__((packed));

/* The same 16 bytes as a TCP/IP context descriptor: where the checksums of
 * the following data descriptors start, go and end (CSE 0: end of packet). */
struct e1000_tx_ctx {
	uint8_t  ipcss, ipcso;
	uint16_t ipcse;
	uint8_t  tucss, tucso;
	uint16_t tucse;
	uint32_t cmd_len;        /* PAYLEN 19:0, DTYP 23:20 (0000 = context), TUCMD 31:24 */
	uint8_t  status;
	uint8_t  hdrlen;
	uint16_t mss;
} __attribute__((packed));

/* Descriptor rings and buffers: in hvmon memory, DMA-visible at the
 * physical address virt_to_phys() reports. */
struct e1000_dma {
	struct e1000_rx_desc rx[E1000_NRX] __attribute__((aligned(128)));
	struct e1000_tx_desc tx[E1000_NTX] __attribute__((aligned(128)));
	uint8_t rxbuf[E1000_NRX][E1000_BUFSZ] __attribute__((aligned(16)));
	uint8_t txbuf[E1000_NTX][E1000_BUFSZ] __attribute__((aligned(16)));
};

/* Register and platform access; defaults do MMIO on `mmio`. Host tests
 * plug in a fake register file. */
struct e1000_platform {
	uint32_t (*rd)(void *ctx, uint32_t reg);
	void (*wr)(void *ctx, uint32_t reg, uint32_t val);
	void (*delay_us)(unsigned us);           /* may be NULL: busy loop */
	uint64_t (*virt_to_phys)(const void *p); /* NULL: identity */
	void *ctx;
};

struct e1000_stats {
	uint64_t rx_frames, rx_errors, rx_toobig, rx_fragmented;
	uint64_t tx_frames, tx_full, tx_toobig;
	uint64_t tx_csum, tx_ctx;       /* frames with the NIC's UDP checksum; context descriptors */
};

struct e1000 {
	volatile uint8_t *mmio;
	struct e1000_platform plat;
	struct e1000_dma *dma;
	uint8_t mac[6];
	bool mac_from_eeprom;
	unsigned rx_next;        /* next RX descriptor to look at */
	unsigned tx_tail;        /* next TX descriptor to fill */
	int tx_css, tx_cso;      /* checksum context loaded in the NIC (-1: none) */
	uint64_t tx_addr[E1000_NTX];   /* each TX buffer's DMA address (a context descriptor overwrites it) */
	struct e1000_stats stats;
};

/* Choose hvmon's NIC: net= option ("BB:DD.F", or NULL/"" for the first
 * 82540EM). Returns an index into devs or -1 (*err says why). */
int e1000_pick(const struct pci_dev *devs, int n, const char *net_opt, const char **err);

/* Reset and bring up. mmio: BAR0 mapped uncached (ring -1), or NULL with
 * plat->rd/wr set. dma: zeroed or not, owned by the driver from now on.
 * Returns 0 or -1 (*err). */
int e1000_init(struct e1000 *nic, volatile void *mmio, const struct e1000_platform *plat,
	       struct e1000_dma *dma, const char **err);
/* Queue one frame (14..1518 bytes, no FCS). If the ring is full, waits up to
 * E1000_TX_WAIT_US for the device to complete one. 0, or -1 (still full /
 * bad length; counted). */
int e1000_tx(struct e1000 *nic, const void *frame, size_t len);
/* Queue one frame with the NIC computing a TCP/UDP-style checksum: the
 * ones'-complement sum of frame[css..len) (the field at cso preloaded with the
 * pseudo-header sum) complemented and stored at cso (TCP/IP context + data
 * descriptors, POPTS.TXSM). A context descriptor goes first whenever css/cso
 * differ from the loaded one. Same returns as e1000_tx; -1 if css/cso are out
 * of the frame or above 255. */
int e1000_tx_csum(struct e1000 *nic, const void *frame, size_t len, unsigned css, unsigned cso);
/* Copy the next good received frame into buf. Returns its length, 0 when
 * none is pending, -1 when a bad/oversized descriptor was dropped (call
 * again for the next one). */
int e1000_rx(struct e1000 *nic, void *buf, size_t cap);
bool e1000_link_up(struct e1000 *nic);

/* hvnet glue: fills a struct hvnet_nic (drivers/net/hvnet.h) for nic. */
struct hvnet_nic;
void e1000_hvnet_nic(struct e1000 *nic, struct hvnet_nic *out);

#endif
