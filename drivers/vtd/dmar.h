/*
 * dmar — pure logic for Intel VT-d (Intel VT-d spec rev 4.1, "the spec"):
 * the ACPI DMAR table (section 8), CAP/ECAP decoding (11.4.2, 11.4.3),
 * fault-recording decoding (11.4.14) and root/context entries (9.1-9.3).
 * Freestanding, no allocation, bounded on its input: the DMAR comes from
 * firmware memory and is parsed as hostile. Host-tested (tests/unit/test_vtd.c)
 * and fuzzed (tests/fuzz/fuzz_dmar.c).
 */
#ifndef HVMON_DRIVERS_VTD_DMAR_H
#define HVMON_DRIVERS_VTD_DMAR_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define DMAR_MAX_DRHD     8
#define DMAR_MAX_RMRR     16
#define DMAR_MAX_SCOPES   16     /* per DRHD / RMRR; more are counted, not kept */
#define DMAR_MAX_PATH     4      /* (dev, fn) hops kept per scope */
#define DMAR_TABLE_MAX    (64u * 1024)

/* DMAR header flags (spec 8.1) */
#define DMAR_F_INTR_REMAP     0x1
#define DMAR_F_X2APIC_OPT_OUT 0x2
#define DMAR_F_DMA_CTRL_OPT_IN 0x4
/* DRHD flags (8.3) */
#define DRHD_F_INCLUDE_PCI_ALL 0x1

/* device scope types (8.3.1) */
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1, DMAR_SCOPE_BRIDGE = 2, DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4, DMAR_SCOPE_ACPI_NS = 5,
};

struct dmar_scope {
	uint8_t type;            /* enum dmar_scope_type */
	uint8_t enum_id;         /* IOAPIC/HPET id */
	uint8_t bus;             /* start bus number */
	uint8_t nr_path;         /* hops in path[] (<= DMAR_MAX_PATH) */
	uint8_t path[DMAR_MAX_PATH][2];   /* (device, function) from the start bus down */
};

struct dmar_drhd {
	uint64_t base;           /* register base, 4 KiB aligned */
	uint16_t segment;
	uint8_t  flags;          /* DRHD_F_* */
	uint8_t  size;           /* register set is 2^size 4 KiB pages (rev 3; 0 = one page) */
	uint32_t nr_scopes;      /* kept (<= DMAR_MAX_SCOPES) */
	uint32_t scopes_dropped;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

struct dmar_rmrr {
	uint64_t base;           /* 4 KiB aligned */
	uint64_t limit;          /* inclusive; limit + 1 is 4 KiB aligned */
	uint16_t segment;
	uint32_t nr_scopes;
	uint32_t scopes_dropped;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

struct dmar_info {
	uint8_t  haw;            /* host address width (field + 1) */
	uint8_t  flags;          /* DMAR_F_* */
	uint32_t nr_drhd, nr_rmrr;
	uint32_t other;          /* ATSR, RHSA, ANDD, SATC, unknown: skipped */
	struct dmar_drhd drhd[DMAR_MAX_DRHD];
	struct dmar_rmrr rmrr[DMAR_MAX_RMRR];
};

/*
 * dmar_parse - parse a DMAR table of @len bytes (what is readable at @tbl).
 * Checks signature, header length against @len, checksum, every structure's
 * length and bounds, alignment of unit bases and RMRR ranges. Returns 0, or -1
 * with *why set to a constant message ("DMAR: truncated remapping structure").
 * On error @out is left with what was parsed so far, never with unchecked data.
 */
int dmar_parse(const void *tbl, size_t len, struct dmar_info *out, const char **why);

/* ---- capability registers (spec 11.4.2 / 11.4.3) ---- */
struct vtd_caps {
	uint64_t cap, ecap;      /* raw */
	uint8_t  nd;             /* domain-id bits: 4 + 2 * ND */
	uint8_t  mgaw;           /* maximum guest address width (bits) */
	uint8_t  sagaw;          /* bit 1: 39-bit (3-level), bit 2: 48-bit (4-level), bit 3: 57-bit */
	uint8_t  sllps;          /* bit 0: 2 MiB, bit 1: 1 GiB second-level pages */
	bool     rwbf, cm, psi, qi, coherent, ir, eim, pt, afl;
	uint32_t fro;            /* fault-recording registers: byte offset from the base */
	uint32_t nfr;            /* number of them (field + 1) */
	uint32_t iro;            /* IOTLB registers: byte offset */
	uint8_t  mamv;           /* max address mask for page-selective IOTLB invalidation */
	/* the choice hvmon makes */
	uint8_t  levels;         /* 3 or 4 */
	uint8_t  aw;             /* context-entry AW field: 1 (39-bit) or 2 (48-bit) */
	uint64_t limit;          /* addresses the domain can map: min(2^mgaw, 2^(12+9*levels)) */
	uint32_t large;          /* EPT_CAP_2M / EPT_CAP_1G subset for the table builder */
};

/* Decode @cap/@ecap and choose the table depth: 4 levels if SAGAW offers it,
 * else 3. Returns 0, or -1 (*why: no 3- or 4-level support, fault registers
 * or IOTLB registers outside the unit's register page(s) of @reg_bytes). */
int vtd_caps_decode(uint64_t cap, uint64_t ecap, uint32_t reg_bytes, struct vtd_caps *c,
		    const char **why);

/* ---- fault recording (spec 11.4.14, 7.1.3) ---- */
struct vtd_fault {
	uint16_t sid;            /* requester id: bus << 8 | dev << 3 | fn */
	uint64_t addr;           /* faulting page address (FI, bits 63:12) */
	bool     write;          /* T = 0: write request; T = 1: read request */
	uint8_t  reason;         /* FR */
};
/* Decode one fault-recording register (@lo = bits 63:0, @hi = 127:64).
 * Returns false when its F bit (127) is clear (no fault recorded). */
bool vtd_fault_decode(uint64_t lo, uint64_t hi, struct vtd_fault *f);
const char *vtd_fault_reason_name(uint8_t reason);   /* never NULL */
/* "bb:dd.f" into @buf (>= 8 bytes) */
void vtd_sid_format(uint16_t sid, char *buf);

/* ---- fault flood limiter: at most per_window reports per window_ticks ---- */
struct vtd_ratelimit {
	uint64_t window_ticks;   /* window length (TSC ticks) */
	uint32_t per_window;     /* reports allowed per window */
	uint64_t window_start;
	uint32_t used;           /* reports in the current window */
	uint64_t pending;        /* suppressed since the last report */
	uint64_t suppressed;     /* suppressed since boot */
};
/* true: report this fault; *skipped then holds the faults suppressed since the
 * previous report (carried in the event). false: counted, not reported. */
bool vtd_ratelimit_allow(struct vtd_ratelimit *r, uint64_t now, uint64_t *skipped);

/* ---- root and context entries, legacy mode (spec 9.1, 9.3) ---- */
/* root table: 256 x 128-bit entries (one per bus); context table: 256 x 128-bit (dev:fn). */
void vtd_root_set(uint64_t *root, unsigned bus, uint64_t ctx_pa);
/* Present context entry, translation type 00 (untranslated requests through the
 * second-level table @slpt_pa), address width @aw, domain @did. */
void vtd_ctx_set(uint64_t *ctx, unsigned devfn, uint64_t slpt_pa, uint8_t aw, uint16_t did);

#endif
