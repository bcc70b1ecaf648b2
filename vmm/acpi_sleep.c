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

#define FADT_HDR_LEN        36
#define FADT_P_LVL2_LAT     96
#define FADT_P_LVL3_LAT     98
#define FADT_FLAGS          112
#define FADT_FLAG_HW_REDUCED (1u << 20)
#define FADT_SLEEP_CONTROL  244
#define FADT_SLEEP_STATUS   256

static void gas_at(const uint8_t *f, uint32_t len, uint32_t off, struct acpi_gas *g)
{
	memset(g, 0, sizeof(*g));
	if (len < off + 12)
		return;
	g->space = f[off];
	g->width = f[off + 1];
	g->offset = f[off + 2];
	g->access = f[off + 3];
	memcpy(&g->addr, f + off + 4, 8);
}

int fadt_sleep_parse(const uint8_t *f, uint32_t len, struct fadt_sleep *out)
{
	memset(out, 0, sizeof(*out));
	if (!f || len < FADT_HDR_LEN)
		return -1;
	if (len >= FADT_P_LVL2_LAT + 2)
		memcpy(&out->plvl2_lat, f + FADT_P_LVL2_LAT, 2);
	if (len >= FADT_P_LVL3_LAT + 2)
		memcpy(&out->plvl3_lat, f + FADT_P_LVL3_LAT, 2);
	if (len >= FADT_FLAGS + 4) {
		uint32_t flags;
		memcpy(&flags, f + FADT_FLAGS, 4);
		out->hw_reduced = !!(flags & FADT_FLAG_HW_REDUCED);
	}
	gas_at(f, len, FADT_SLEEP_CONTROL, &out->sleep_ctl);
	gas_at(f, len, FADT_SLEEP_STATUS, &out->sleep_sts);
	return 0;
}

enum pm1_verdict sleep_ctl_classify(uint8_t value, int s5_typ, uint8_t *masked, unsigned *typ)
{
	*masked = value;
	*typ = 0;
	if (!(value & SLEEP_CTL_SLP_EN))
		return PM1_PASS;
	*typ = (value >> SLEEP_CTL_SLP_TYP_SHIFT) & 7;
	if (s5_typ >= 0 && *typ == (unsigned)s5_typ)
		return PM1_POWER_OFF;
	*masked = (uint8_t)(value & ~SLEEP_CTL_SLP_EN);
	return PM1_REFUSE;
}

/* PkgLength (ACPI 6.5, 20.2.4) value and encoding size; 0 if malformed. */
static size_t aml_pkglen_val(const uint8_t *p, size_t n, uint32_t *val)
{
	size_t k = aml_pkglen(p, n);
	if (!k)
		return 0;
	if (k == 1) {
		*val = p[0] & 0x3f;
		return 1;
	}
	uint32_t v = p[0] & 0x0f;
	for (size_t i = 1; i < k; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*val = v;
	return k;
}

/* NameString (ACPI 6.5, 20.2.2): bytes used, 0 if malformed. */
static size_t aml_namestring(const uint8_t *p, size_t n)
{
	size_t o = 0;
	if (o < n && p[o] == '\\')
		o++;
	else
		while (o < n && p[o] == '^')
			o++;
	if (o >= n)
		return 0;
	unsigned segs;
	if (p[o] == 0x00)               /* NullName */
		return o + 1;
	if (p[o] == 0x2e) {             /* DualNamePrefix */
		segs = 2;
		o++;
	} else if (p[o] == 0x2f) {      /* MultiNamePrefix SegCount */
		if (o + 1 >= n)
			return 0;
		segs = p[o + 1];
		o += 2;
	} else {
		segs = 1;
	}
	if (segs == 0 || (n - o) / 4 < segs)
		return 0;
	return o + 4 * (size_t)segs;
}

/* A constant integer term (ACPI 6.5, 20.2.3): Zero, One, Ones, Byte/Word/DWord/QWord
 * prefixed. Bytes used, 0 if it is none of those. */
static size_t aml_const_int(const uint8_t *p, size_t n, uint64_t *val)
{
	static const uint8_t size_of[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	if (!n)
		return 0;
	if (p[0] == 0x00 || p[0] == 0x01) {
		*val = p[0];
		return 1;
	}
	if (p[0] == 0xff) {
		*val = ~0ULL;
		return 1;
	}
	if (p[0] >= sizeof(size_of) || !size_of[p[0]] || n < 1u + size_of[p[0]])
		return 0;
	uint64_t v = 0;
	for (unsigned i = 0; i < size_of[p[0]]; i++)
		v |= (uint64_t)p[1 + i] << (8 * i);
	*val = v;
	return 1u + size_of[p[0]];
}

/* Generic Register Descriptor (ACPI 6.5, 6.4.3.7): 0x82, length 12 (2 bytes),
 * space, bit width, bit offset, access size, address (8). */
#define GRD_LEN 15
/* A Buffer element at aml[0..n) holding exactly one GRD and an End Tag: its end
 * offset (bytes used), 0 if it is something else. */
static size_t aml_grd_buffer(const uint8_t *p, size_t n, struct acpi_cst_reg *r)
{
	if (n < 2 || p[0] != 0x11)      /* BufferOp */
		return 0;
	uint32_t plen;
	size_t k = aml_pkglen_val(p + 1, n - 1, &plen);
	if (!k || plen < k || plen > n - 1)
		return 0;
	size_t end = 1 + plen, o = 1 + k;
	uint64_t bsize;
	size_t b = aml_const_int(p + o, end - o, &bsize);
	if (!b)
		return 0;
	o += b;
	if (end - o < GRD_LEN + 2 || bsize < GRD_LEN + 2)
		return 0;
	const uint8_t *g = p + o;
	if (g[0] != 0x82 || g[1] != 12 || g[2] != 0 || g[GRD_LEN] != 0x79)
		return 0;
	r->space = g[3];
	r->width = g[4];
	r->access = g[6];
	memcpy(&r->addr, g + 7, 8);
	return end;
}

unsigned acpi_cst_find(const uint8_t *aml, size_t len, struct acpi_cst_reg *out, unsigned max)
{
	unsigned found = 0;
	if (!aml || !out)
		return 0;
	for (size_t i = 0; i + 2 <= len && found < max; i++) {
		if (aml[i] != 0x12)             /* PackageOp */
			continue;
		size_t o = i + 1;
		uint32_t plen;
		size_t k = aml_pkglen_val(aml + o, len - o, &plen);
		if (!k || plen < k || plen > len - o)
			continue;
		size_t end = o + plen;
		o += k;
		if (o >= end || aml[o] != 4)    /* NumElements */
			continue;
		o++;
		struct acpi_cst_reg r;
		size_t b = aml_grd_buffer(aml + o, end - o, &r);
		if (!b)
			continue;
		o += b;
		uint64_t type;
		if (!aml_const_int(aml + o, end - o, &type) || type < 1 || type > 3)
			continue;
		r.type = (uint8_t)type;
		unsigned j;
		for (j = 0; j < found; j++)
			if (out[j].space == r.space && out[j].addr == r.addr)
				break;
		if (j == found)
			out[found++] = r;
	}
	return found;
}

unsigned acpi_pblk_find(const uint8_t *aml, size_t len, uint16_t *pblk, unsigned max)
{
	unsigned found = 0;
	if (!aml || !pblk)
		return 0;
	for (size_t i = 0; i + 2 <= len && found < max; i++) {
		if (aml[i] != 0x5b || aml[i + 1] != 0x83)
			continue;
		size_t o = i + 2;
		uint32_t plen;
		size_t k = aml_pkglen_val(aml + o, len - o, &plen);
		if (!k || plen < k)
			continue;
		size_t end = o + plen;          /* PkgLength counts its own bytes */
		if (end > len)
			end = len;
		o += k;
		if (o >= end)
			continue;
		k = aml_namestring(aml + o, end - o);
		if (!k)
			continue;
		o += k;
		if (end - o < 6)                /* ProcID(1) PblkAddr(4) PblkLen(1) */
			continue;
		uint32_t addr;
		memcpy(&addr, aml + o + 1, 4);
		if (aml[o + 5] != 6 || addr == 0 || addr > 0xfffa)
			continue;
		unsigned j;
		for (j = 0; j < found; j++)
			if (pblk[j] == addr)
				break;
		if (j == found)
			pblk[found++] = (uint16_t)addr;
	}
	return found;
}
