/*
 * Just enough ACPI to find the guest's power-off port: RSDP -> XSDT/RSDT ->
 * FADT -> PM1a/PM1b control blocks. Firmware tables are read through the
 * identity map with bounded loops, checksums and length checks.
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "vmm/madt.h"

struct __attribute__((packed)) acpi_rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum;
	uint8_t rsvd[3];
};

struct __attribute__((packed)) acpi_hdr {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_rev;
	uint32_t creator, creator_rev;
};

#define ACPI_TABLE_MAX  (1u << 20)
#define FADT_PM1A_CNT   64
#define FADT_PM1B_CNT   68
#define FADT_X_PM1A_CNT 172    /* GAS: space(1) width(1) offset(1) access(1) address(8) */
#define FADT_X_PM1B_CNT 184

static bool sum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s += b[i];
	return s == 0;
}

static const struct acpi_hdr *table_at(uint64_t pa, const char *sig)
{
	if (!pa || pa >= (1ULL << 46))
		return NULL;
	const struct acpi_hdr *h = (const void *)pa;
	if (memcmp(h->sig, sig, 4) || h->length < sizeof(*h) || h->length > ACPI_TABLE_MAX ||
	    !sum_ok(h, h->length))
		return NULL;
	return h;
}

static uint16_t gas_io_port(const uint8_t *fadt, uint32_t len, uint32_t off)
{
	if (len < off + 12 || fadt[off] != 1 /* system I/O */)
		return 0;
	uint64_t a;
	memcpy(&a, fadt + off + 4, 8);
	return a && a <= 0xffff ? (uint16_t)a : 0;
}

int acpi_find_pm1_cnt(uint64_t rsdp_pa, uint16_t *pm1a, uint16_t *pm1b)
{
	*pm1a = *pm1b = 0;
	const struct acpi_hdr *fadt = acpi_find_table(rsdp_pa, "FACP");
	if (!fadt)
		return -1;
	const uint8_t *f = (const void *)fadt;
	uint32_t len = fadt->length;
	uint32_t a32 = 0, b32 = 0;
	if (len >= FADT_PM1A_CNT + 4)
		memcpy(&a32, f + FADT_PM1A_CNT, 4);
	if (len >= FADT_PM1B_CNT + 4)
		memcpy(&b32, f + FADT_PM1B_CNT, 4);
	*pm1a = gas_io_port(f, len, FADT_X_PM1A_CNT);
	if (!*pm1a && a32 <= 0xffff)
		*pm1a = (uint16_t)a32;
	*pm1b = gas_io_port(f, len, FADT_X_PM1B_CNT);
	if (!*pm1b && b32 <= 0xffff)
		*pm1b = (uint16_t)b32;
	return *pm1a ? 0 : -1;
}

/* Any table by signature (first match), checksummed; NULL if absent.
 * vmm/net_hide_vmx.c uses it for MCFG. */
const void *acpi_find_table(uint64_t rsdp_pa, const char *sig)
{
	return acpi_find_table_nth(rsdp_pa, sig, 0);
}

/* The nth (from 0) table with this signature (SSDTs come several). */
const void *acpi_find_table_nth(uint64_t rsdp_pa, const char *sig, unsigned nth)
{
	if (!rsdp_pa)
		return NULL;
	const struct acpi_rsdp *rsdp = (const void *)rsdp_pa;
	if (memcmp(rsdp->sig, "RSD PTR ", 8) || !sum_ok(rsdp, 20))
		return NULL;
	const struct acpi_hdr *root = NULL;
	unsigned int esize = 4;
	if (rsdp->revision >= 2 && rsdp->length >= sizeof(*rsdp) && rsdp->length < 4096 &&
	    sum_ok(rsdp, rsdp->length) && (root = table_at(rsdp->xsdt, "XSDT")))
		esize = 8;
	else
		root = table_at(rsdp->rsdt, "RSDT");
	if (!root)
		return NULL;
	const uint8_t *ent = (const uint8_t *)root + sizeof(*root);
	uint32_t n = (root->length - sizeof(*root)) / esize;
	for (uint32_t i = 0; i < n && i < 1024; i++) {
		uint64_t pa = 0;
		memcpy(&pa, ent + i * esize, esize);
		const struct acpi_hdr *t = table_at(pa, sig);
		if (t && nth-- == 0)
			return t;
	}
	return NULL;
}

#define FADT_DSDT          40
#define FADT_PM1A_EVT      56
#define FADT_PM1B_EVT      60
#define FADT_X_DSDT        140
#define FADT_X_PM1A_EVT    148
#define FADT_X_PM1B_EVT    160

/* What vmm/power.c needs to judge sleep requests (issue 17): the PM1 status
 * ports (WAK_STS) and the DSDT's AML, from the FADT. -1 without a FADT. */
int acpi_find_sleep_regs(uint64_t rsdp_pa, struct acpi_sleep_regs *r)
{
	memset(r, 0, sizeof(*r));
	const struct acpi_hdr *fadt = acpi_find_table(rsdp_pa, "FACP");
	if (!fadt)
		return -1;
	const uint8_t *f = (const void *)fadt;
	uint32_t len = fadt->length;
	uint32_t a32 = 0, b32 = 0, d32 = 0;
	uint64_t d64 = 0;
	if (len >= FADT_PM1A_EVT + 4)
		memcpy(&a32, f + FADT_PM1A_EVT, 4);
	if (len >= FADT_PM1B_EVT + 4)
		memcpy(&b32, f + FADT_PM1B_EVT, 4);
	if (len >= FADT_DSDT + 4)
		memcpy(&d32, f + FADT_DSDT, 4);
	if (len >= FADT_X_DSDT + 8)
		memcpy(&d64, f + FADT_X_DSDT, 8);
	r->pm1a_evt = gas_io_port(f, len, FADT_X_PM1A_EVT);
	if (!r->pm1a_evt && a32 <= 0xffff)
		r->pm1a_evt = (uint16_t)a32;
	r->pm1b_evt = gas_io_port(f, len, FADT_X_PM1B_EVT);
	if (!r->pm1b_evt && b32 <= 0xffff)
		r->pm1b_evt = (uint16_t)b32;
	const struct acpi_hdr *dsdt = table_at(d64 ? d64 : d32, "DSDT");
	if (dsdt) {
		r->aml = (const uint8_t *)dsdt + sizeof(*dsdt);
		r->aml_len = dsdt->length - sizeof(*dsdt);
	}
	return 0;
}

/* Sizes the per-CPU event rings before smp_boot_aps() reads the same table
 * (the vCPU ids it gives are 0..nr_cpus-1): the parse result on the stack. */
unsigned acpi_madt_cpus(uint64_t rsdp)
{
	struct madt_info m;
	char err[MADT_ERR_LEN];
	const uint8_t *t = acpi_find_table(rsdp, "APIC");
	uint32_t len;
	if (!t)
		return 1;
	memcpy(&len, t + 4, 4);
	if (madt_parse(t, len, &m, err))
		return HV_MAX_CPUS;
	return m.nr_cpus ? m.nr_cpus : 1;
}
