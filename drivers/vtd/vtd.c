/*
 * vtd — VT-d remapping unit driver. See vtd.h. Register offsets and bits:
 * VT-d spec rev 4.1, section 11.4. Every wait on the hardware is bounded by
 * plat->timeout_ticks.
 */
#include <string.h>
#include "drivers/vtd/vtd.h"

#define R_VER     0x00
#define R_CAP     0x08
#define R_ECAP    0x10
#define R_GCMD    0x18
#define R_GSTS    0x1c
#define R_RTADDR  0x20
#define R_CCMD    0x28
#define R_FSTS    0x34
#define R_FECTL   0x38
#define R_IQH     0x80
#define R_IQT     0x88
#define R_IQA     0x90

#define GCMD_TE    (1u << 31)
#define GCMD_SRTP  (1u << 30)
#define GCMD_WBF   (1u << 27)
#define GCMD_QIE   (1u << 26)
/* GSTS bits that are one-shot commands in GCMD: never write them back (10.4.4) */
#define GSTS_ONESHOT_MASK 0x96ffffffu

#define FSTS_PFO   (1u << 0)
#define FSTS_PPF   (1u << 1)
#define FECTL_IM   (1u << 31)

#define CCMD_ICC        (1ULL << 63)
#define CCMD_GLOBAL     (1ULL << 61)
#define IOTLB_IVT       (1ULL << 63)
#define IOTLB_GLOBAL    (1ULL << 60)
#define IOTLB_DOMAIN    (2ULL << 60)
#define IOTLB_PAGE      (3ULL << 60)
#define IOTLB_DR        (1ULL << 49)
#define IOTLB_DW        (1ULL << 48)

/* queued-invalidation descriptors (6.5.2) */
#define QI_CC       0x1ULL
#define QI_IOTLB    0x2ULL
#define QI_WAIT     0x5ULL
#define QI_G_GLOBAL (1ULL << 4)
#define QI_G_DOMAIN (2ULL << 4)
#define QI_G_PAGE   (3ULL << 4)
#define QI_IOTLB_DR (1ULL << 7)
#define QI_IOTLB_DW (1ULL << 6)
#define QI_WAIT_SW  (1ULL << 5)   /* status write only: SW together with IF aborts QEMU 7.2 */
#define QI_ENTRIES  256

static uint32_t rd32(const struct vtd_unit *u, uint32_t off) { return *(volatile uint32_t *)(u->regs + off); }
static uint64_t rd64(const struct vtd_unit *u, uint32_t off) { return *(volatile uint64_t *)(u->regs + off); }
static void wr32(struct vtd_unit *u, uint32_t off, uint32_t v) { *(volatile uint32_t *)(u->regs + off) = v; }
static void wr64(struct vtd_unit *u, uint32_t off, uint64_t v) { *(volatile uint64_t *)(u->regs + off) = v; }

uint32_t vtd_read_gsts(const struct vtd_unit *u) { return rd32(u, R_GSTS); }

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -1;
}

/* Wait until (GSTS & bit) == (want ? bit : 0). */
static int wait_gsts(struct vtd_unit *u, uint32_t bit, bool want)
{
	uint64_t t0 = u->plat->now();
	while (((rd32(u, R_GSTS) & bit) != 0) != want) {
		if (u->plat->now() - t0 > u->plat->timeout_ticks) {
			u->timeouts++;
			return -1;
		}
		__asm__ volatile("pause");
	}
	return 0;
}

static int gcmd(struct vtd_unit *u, uint32_t bit, bool on, uint32_t status_bit)
{
	uint32_t v = rd32(u, R_GSTS) & GSTS_ONESHOT_MASK;
	wr32(u, R_GCMD, on ? v | bit : v & ~bit);
	return wait_gsts(u, status_bit, on);
}

static int wait_reg64_clear(struct vtd_unit *u, uint32_t off, uint64_t bit)
{
	uint64_t t0 = u->plat->now();
	while (rd64(u, off) & bit) {
		if (u->plat->now() - t0 > u->plat->timeout_ticks) {
			u->timeouts++;
			return -1;
		}
		__asm__ volatile("pause");
	}
	return 0;
}

int vtd_unit_probe(struct vtd_unit *u, const struct vtd_platform *p, uint64_t base,
		   unsigned size_field, const char **why)
{
	memset(u, 0, sizeof(*u));
	u->plat = p;
	u->base = base;
	u->reg_bytes = 4096u << (size_field & 7);
	u->regs = p->map_mmio(base, u->reg_bytes);
	if (!u->regs)
		return fail(why, "VT-d: cannot map the unit's registers");
	uint32_t ver = rd32(u, R_VER);
	if (ver == 0xffffffffu || ver == 0)
		return fail(why, "VT-d: no unit answers at the DRHD register base");
	if (vtd_caps_decode(rd64(u, R_CAP), rd64(u, R_ECAP), u->reg_bytes, &u->caps, why))
		return -1;
	uint32_t st = rd32(u, R_GSTS);
	if ((st & GCMD_TE) && gcmd(u, GCMD_TE, false, GCMD_TE))
		return fail(why, "VT-d: cannot turn off translation left on by firmware");
	if ((rd32(u, R_GSTS) & GCMD_QIE) && gcmd(u, GCMD_QIE, false, GCMD_QIE))
		return fail(why, "VT-d: cannot turn off queued invalidation left on by firmware");
	return 0;
}

/* ---- queued invalidation ---- */
static int qi_submit(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	/* a descriptor, then a wait descriptor writing a fresh sequence number */
	uint32_t seq = ++u->wait_seq;
	uint64_t wait_pa = u->plat->virt_to_phys((const void *)u->wait_word);
	uint32_t t = u->iq_tail;
	u->iq[2 * t] = lo;
	u->iq[2 * t + 1] = hi;
	t = (t + 1) % QI_ENTRIES;
	u->iq[2 * t] = QI_WAIT | QI_WAIT_SW | ((uint64_t)seq << 32);
	u->iq[2 * t + 1] = wait_pa & ~3ULL;
	t = (t + 1) % QI_ENTRIES;
	if (!u->caps.coherent)
		u->plat->flush(u->iq, QI_ENTRIES * 16);
	u->iq_tail = t;
	__asm__ volatile("sfence" ::: "memory");
	wr64(u, R_IQT, (uint64_t)t << 4);
	uint64_t t0 = u->plat->now();
	while (*u->wait_word != seq) {
		if (u->plat->now() - t0 > u->plat->timeout_ticks) {
			u->timeouts++;
			return -1;
		}
		__asm__ volatile("pause" ::: "memory");
	}
	return 0;
}

static int qi_enable(struct vtd_unit *u)
{
	u->iq = u->plat->alloc_page();
	u->wait_word = u->plat->alloc_page();
	if (!u->iq || !u->wait_word)
		return -1;
	u->iq_tail = 0;
	wr64(u, R_IQT, 0);
	wr64(u, R_IQA, u->plat->virt_to_phys(u->iq) & ~0xfffULL);   /* DW = 0 (128-bit), QS = 0 (256) */
	if (gcmd(u, GCMD_QIE, true, GCMD_QIE))
		return -1;
	u->qi = true;
	return 0;
}

static int timed(struct vtd_unit *u, int rc, uint64_t t0)
{
	u->invalidations++;
	u->inv_ticks += u->plat->now() - t0;
	return rc;
}

int vtd_inv_context_global(struct vtd_unit *u)
{
	uint64_t t0 = u->plat->now();
	if (u->qi)
		return timed(u, qi_submit(u, QI_CC | QI_G_GLOBAL, 0), t0);
	wr64(u, R_CCMD, CCMD_ICC | CCMD_GLOBAL);
	return timed(u, wait_reg64_clear(u, R_CCMD, CCMD_ICC), t0);
}

static int iotlb_reg(struct vtd_unit *u, uint64_t cmd)
{
	wr64(u, u->caps.iro + 8, IOTLB_IVT | IOTLB_DR | IOTLB_DW | cmd);
	return wait_reg64_clear(u, u->caps.iro + 8, IOTLB_IVT);
}

int vtd_inv_iotlb_global(struct vtd_unit *u)
{
	uint64_t t0 = u->plat->now();
	if (u->qi)
		return timed(u, qi_submit(u, QI_IOTLB | QI_G_GLOBAL | QI_IOTLB_DR | QI_IOTLB_DW, 0), t0);
	return timed(u, iotlb_reg(u, IOTLB_GLOBAL), t0);
}

int vtd_inv_iotlb_page(struct vtd_unit *u, uint16_t did, uint64_t addr)
{
	uint64_t t0 = u->plat->now();
	uint64_t d = (uint64_t)did;
	addr &= ~0xfffULL;
	if (u->qi) {
		uint64_t g = u->caps.psi ? QI_G_PAGE : QI_G_DOMAIN;
		return timed(u, qi_submit(u, QI_IOTLB | g | QI_IOTLB_DR | QI_IOTLB_DW | (d << 16),
					  u->caps.psi ? addr : 0), t0);   /* AM = 0: one page */
	}
	if (u->caps.psi) {
		wr64(u, u->caps.iro, addr);
		return timed(u, iotlb_reg(u, IOTLB_PAGE | (d << 32)), t0);
	}
	return timed(u, iotlb_reg(u, IOTLB_DOMAIN | (d << 32)), t0);
}

/* ---- faults ---- */
unsigned vtd_fault_poll(struct vtd_unit *u, void (*cb)(void *ctx, const struct vtd_fault *f),
			void *ctx, unsigned max)
{
	unsigned n = 0;
	uint32_t fsts = rd32(u, R_FSTS);
	if (fsts & FSTS_PPF) {
		uint32_t first = (fsts >> 8) & 0xff;
		for (uint32_t i = 0; i < u->caps.nfr && n < max; i++) {
			uint32_t off = u->caps.fro + 16 * ((first + i) % u->caps.nfr);
			struct vtd_fault f;
			uint64_t hi = rd64(u, off + 8);
			if (!vtd_fault_decode(rd64(u, off), hi, &f))
				continue;
			wr32(u, off + 12, 0x80000000u);    /* F is write-1-to-clear */
			u->faults_seen++;
			n++;
			if (cb)
				cb(ctx, &f);
		}
	}
	if (fsts & FSTS_PFO) {
		u->fault_overflows++;
		wr32(u, R_FSTS, FSTS_PFO);
	}
	return n;
}

static void clear_faults(struct vtd_unit *u)
{
	for (uint32_t i = 0; i < u->caps.nfr; i++)
		wr32(u, u->caps.fro + 16 * i + 12, 0x80000000u);
	wr32(u, R_FSTS, rd32(u, R_FSTS) & 0x7fu);
}

int vtd_unit_enable(struct vtd_unit *u, uint64_t root_pa, const char **why)
{
	wr32(u, R_FECTL, FECTL_IM);                 /* no fault interrupt: hvmon polls */
	clear_faults(u);
	if (u->caps.rwbf) {                         /* WBF completes when GSTS.WBFS clears */
		wr32(u, R_GCMD, (rd32(u, R_GSTS) & GSTS_ONESHOT_MASK) | GCMD_WBF);
		if (wait_gsts(u, GCMD_WBF, false))
			return fail(why, "VT-d: write-buffer flush timed out");
	}
	wr64(u, R_RTADDR, root_pa & ~0xfffULL);     /* TTM = 00: legacy root/context tables */
	if (gcmd(u, GCMD_SRTP, true, GCMD_SRTP))
		return fail(why, "VT-d: root table pointer not latched");
	if (u->caps.qi && qi_enable(u))
		return fail(why, "VT-d: cannot enable queued invalidation");
	if (vtd_inv_context_global(u) || vtd_inv_iotlb_global(u))
		return fail(why, "VT-d: global invalidation timed out");
	if (gcmd(u, GCMD_TE, true, GCMD_TE))
		return fail(why, "VT-d: translation did not turn on");
	return 0;
}
