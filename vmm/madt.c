/* vmm/madt.c — ACPI MADT → CPU list (vmm/madt.h). Pure: no ring -1 state. */
#include <stdio.h>
#include <string.h>
#include "vmm/madt.h"

#define MADT_HDR 44

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static int fail(char *err, const char *why, unsigned long a)
{
	snprintf(err, MADT_ERR_LEN, why, a);
	return -1;
}

int madt_find(const struct madt_info *m, uint32_t apic_id)
{
	for (uint32_t i = 0; i < m->nr_cpus; i++)
		if (m->cpus[i].apic_id == apic_id)
			return (int)i;
	return -1;
}

static int add_cpu(struct madt_info *m, uint32_t apic_id, uint32_t acpi_id, uint32_t flags, int x2,
		   char *err)
{
	if (!(flags & 3)) {                  /* neither enabled nor online capable */
		m->nr_disabled++;
		return 0;
	}
	int i = madt_find(m, apic_id);
	if (i >= 0) {
		/* ACPI 6.5 5.2.12.12: an id below 255 may be listed as both types
		 * only by firmware that lists it twice; a true duplicate is an error */
		if (m->cpus[i].x2apic == x2)
			return fail(err, "MADT: APIC id %#lx listed twice", apic_id);
		return 0;
	}
	if (m->nr_cpus >= MADT_MAX_CPUS) {
		m->nr_dropped++;
		return 0;
	}
	struct madt_cpu *c = &m->cpus[m->nr_cpus++];
	c->apic_id = apic_id;
	c->acpi_id = acpi_id;
	c->x2apic = (uint8_t)x2;
	c->enabled = (flags & 1) != 0;
	return 0;
}

int madt_parse(const void *tbl, size_t len, struct madt_info *out, char err[MADT_ERR_LEN])
{
	const uint8_t *t = tbl;
	memset(out, 0, sizeof(*out));
	err[0] = 0;
	if (!t || len < MADT_HDR)
		return fail(err, "MADT: %lu bytes, shorter than its 44-byte header", (unsigned long)len);
	if (memcmp(t, "APIC", 4))
		return fail(err, "MADT: signature is not \"APIC\"%.0lu", 0);
	uint32_t tl = rd32(t + 4);
	if (tl < MADT_HDR || tl > len)
		return fail(err, "MADT: length %lu out of range", tl);
	uint8_t sum = 0;
	for (uint32_t i = 0; i < tl; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum)
		return fail(err, "MADT: bad checksum (sum %#lx)", sum);
	out->lapic_addr = rd32(t + 36);
	for (uint32_t off = MADT_HDR; off < tl;) {
		if (tl - off < 2)
			return fail(err, "MADT: truncated entry at offset %lu", off);
		uint8_t type = t[off], el = t[off + 1];
		if (el < 2 || el > tl - off)
			return fail(err, "MADT: entry at offset %lu has a bad length", off);
		const uint8_t *e = t + off;
		int rc = 0;
		if (type == 0) {                         /* Processor Local APIC */
			if (el < 8)
				return fail(err, "MADT: local APIC entry at offset %lu shorter than 8", off);
			rc = add_cpu(out, e[3], e[2], rd32(e + 4), 0, err);
		} else if (type == 9) {                  /* Processor Local x2APIC */
			if (el < 16)
				return fail(err, "MADT: x2APIC entry at offset %lu shorter than 16", off);
			rc = add_cpu(out, rd32(e + 4), rd32(e + 12), rd32(e + 8), 1, err);
		}
		if (rc)
			return rc;
		off += el;
	}
	return 0;
}
