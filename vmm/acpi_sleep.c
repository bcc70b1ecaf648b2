/* ACPI sleep requests, pure logic: vmm/acpi_sleep.h. */
#include <string.h>
#include "vmm/acpi_sleep.h"

#define AML_NAME_OP    0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01
#define AML_BYTE_PFX   0x0a
#define AML_WORD_PFX   0x0b
#define AML_DWORD_PFX  0x0c
#define AML_ONES_OP    0xff

/* One integer element of a package (ACPI 6.5, 20.2.3 ComputationalData):
 * its value's low byte, bytes used, or 0 if not a constant. */
static size_t aml_const(const uint8_t *p, size_t n, uint8_t *val)
{
	if (n < 1)
		return 0;
	switch (p[0]) {
	case AML_ZERO_OP: *val = 0; return 1;
	case AML_ONE_OP:  *val = 1; return 1;
	case AML_ONES_OP: *val = 0xff; return 1;
	case AML_BYTE_PFX:  if (n < 2) return 0; *val = p[1]; return 2;
	case AML_WORD_PFX:  if (n < 3) return 0; *val = p[1]; return 3;
	case AML_DWORD_PFX: if (n < 5) return 0; *val = p[1]; return 5;
	default: return 0;
	}
}

/* PkgLength (ACPI 6.5, 20.2.4): bytes of the encoding, 0 if malformed. */
static size_t aml_pkglen(const uint8_t *p, size_t n)
{
	if (n < 1)
		return 0;
	size_t follow = p[0] >> 6;
	if (follow && (p[0] & 0x30))
		return 0;               /* bits 5:4 must be 0 with following bytes */
	return 1 + follow <= n ? 1 + follow : 0;
}

int acpi_sleep_type(const uint8_t *aml, size_t len, unsigned state, uint8_t *typa, uint8_t *typb)
{
	if (!aml || state > 5)
		return -1;
	const uint8_t name[4] = { '_', 'S', (uint8_t)('0' + state), '_' };
	for (size_t i = 1; i + 4 <= len; i++) {
		if (memcmp(aml + i, name, 4))
			continue;
		/* NameOp, optionally a root prefix '\' before the name */
		if (aml[i - 1] != AML_NAME_OP && !(aml[i - 1] == '\\' && i >= 2 && aml[i - 2] == AML_NAME_OP))
			continue;
		size_t o = i + 4;
		if (o >= len || aml[o] != AML_PACKAGE_OP)
			continue;
		o++;
		size_t pl = aml_pkglen(aml + o, len - o);
		if (!pl)
			continue;
		o += pl;
		if (o >= len || aml[o] < 1)        /* NumElements */
			continue;
		unsigned nel = aml[o++];
		uint8_t a, b = 0;
		size_t k = aml_const(aml + o, len - o, &a);
		if (!k)
			continue;
		o += k;
		if (nel >= 2 && !aml_const(aml + o, len - o, &b))
			continue;
		*typa = a & 7;
		*typb = b & 7;
		return 0;
	}
	return -1;
}

/* The byte of the access that lands on base + off, or -1. */
static int access_byte(uint16_t base, unsigned off, uint16_t port, unsigned size)
{
	for (unsigned i = 0; i < size && i < 4; i++)
		if ((uint16_t)(port + i) == (uint16_t)(base + off))
			return (int)i;
	return -1;
}

enum pm1_verdict pm1_cnt_classify(uint16_t base, uint16_t port, unsigned size, uint32_t value,
				  int s5_typ, uint32_t *masked, unsigned *typ)
{
	*masked = value;
	*typ = 0;
	/* SLP_EN and SLP_TYP are all in the register's high byte (bits 13, 12:10) */
	int hb = access_byte(base, 1, port, size);
	if (hb < 0)
		return PM1_PASS;
	uint32_t byte = (value >> (8 * hb)) & 0xff;
	if (!(byte & (PM1_CNT_SLP_EN >> 8)))
		return PM1_PASS;
	*typ = (byte >> (PM1_CNT_SLP_TYP_SHIFT - 8)) & 7;
	if (s5_typ >= 0 && *typ == (unsigned)s5_typ)
		return PM1_POWER_OFF;
	*masked = value & ~((uint32_t)(PM1_CNT_SLP_EN >> 8) << (8 * hb));
	return PM1_REFUSE;
}

uint32_t pm1_sts_wak_mask(uint16_t base, uint16_t port, unsigned size)
{
	int hb = access_byte(base, 1, port, size);
	return hb < 0 ? 0 : (uint32_t)(PM1_STS_WAK >> 8) << (8 * hb);
}
