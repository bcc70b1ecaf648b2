/* Unit tests for vmm/acpi_sleep.c: \_Sx packages in AML, PM1_CNT writes
 * (power-off, refused sleep, byte/word/dword and overlapping forms), WAK_STS,
 * P_BLK and _CST C-state registers. */
#define _GNU_SOURCE                     /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>

#include "vmm/acpi_sleep.h"

/* The \_S3_ \_S4_ \_S5_ packages as they are in Bochs 2.7's BIOS-bochs-latest
 * DSDT and in SeaBIOS 1.16's (Debian's /usr/share/bochs, /usr/share/seabios). */
static const uint8_t bochs_aml[] = {
	0x33, 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00,
	0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x43, 0x50,
};
static const uint8_t seabios_aml[] = {
	0x00, 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00,
	0x08, '_', 'S', '4', '_', 0x12, 0x08, 0x04, 0x0a, 0x02, 0x0a, 0x02, 0x00, 0x00,
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x10, 0x40,
};

static void test_sleep_types(void **st)
{
	(void)st;
	uint8_t a = 9, b = 9;
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 5, &a, &b), 0);
	assert_int_equal(a, 0); assert_int_equal(b, 0);
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 3, &a, &b), 0);
	assert_int_equal(a, 1); assert_int_equal(b, 1);
	assert_int_equal(acpi_sleep_type(seabios_aml, sizeof(seabios_aml), 4, &a, &b), 0);
	assert_int_equal(a, 2); assert_int_equal(b, 2);
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 1, &a, &b), -1);   /* absent */
	assert_int_equal(acpi_sleep_type(bochs_aml, sizeof(bochs_aml), 6, &a, &b), -1);
	/* root prefix, word and dword constants, a one-element package */
	static const uint8_t rooted[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x02, 0x0b, 0x07, 0x00,
					  0x0c, 0x05, 0, 0, 0 };
	assert_int_equal(acpi_sleep_type(rooted, sizeof(rooted), 5, &a, &b), 0);
	assert_int_equal(a, 7); assert_int_equal(b, 5);
	static const uint8_t one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x0a, 0x06 };
	assert_int_equal(acpi_sleep_type(one, sizeof(one), 5, &a, &b), 0);
	assert_int_equal(a, 6); assert_int_equal(b, 0);
	/* a name that is not a NameOp'd package (e.g. a method call) is skipped */
	static const uint8_t call[] = { 0x14, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00 };
	assert_int_equal(acpi_sleep_type(call, sizeof(call), 5, &a, &b), -1);
	/* every cut of the Bochs table: never read past len, never a wrong value */
	for (size_t n = 0; n < sizeof(bochs_aml); n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, bochs_aml, n);
		a = b = 9;
		int rc = acpi_sleep_type(cut, n, 5, &a, &b);
		if (rc == 0)
			assert_int_equal(a, 0);
		else
			assert_int_equal(a, 9);
		assert_int_equal(rc == 0, n >= 35);     /* complete once both elements are in */
		free(cut);
	}
	assert_int_equal(acpi_sleep_type(NULL, 10, 5, &a, &b), -1);
}

#define PM1A 0xb004

static void test_pm1_cnt(void **st)
{
	(void)st;
	uint32_t m;
	unsigned typ;
	/* Linux's S5 under Bochs: word 0x2001 (SLP_TYP 0, SLP_EN, SCI_EN): power-off */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2001, 0, &m, &typ), PM1_POWER_OFF);
	/* the S3 of issue 17: word 0x2401 refused, performed as 0x0401 */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2401, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x0401); assert_int_equal(typ, 1);
	/* SLP_TYP written first without SLP_EN (ACPICA's write #1): performed */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x0401, 0, &m, &typ), PM1_PASS);
	assert_int_equal(m, 0x0401);
	/* byte to PM1a_CNT+1 (the unseen write of issue 17) */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A + 1, 1, 0x24, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x04);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A + 1, 1, 0x20, 0, &m, &typ), PM1_POWER_OFF);
	/* byte to the low half: no SLP_EN there */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 1, 0xff, 0, &m, &typ), PM1_PASS);
	/* dword at the base, word/dword starting below it, word at +1 */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 4, 0xffff2c01, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0xffff0c01); assert_int_equal(typ, 3);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A - 2, 4, 0x24010000, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x04010000);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A - 1, 2, 0x2400, 0, &m, &typ), PM1_PASS);   /* low byte only */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A + 1, 2, 0x0024, 0, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 0x0004);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A - 3, 4, 0x24000000, 0, &m, &typ), PM1_PASS);
	/* S5 unknown: every sleep refused, power-off included */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2001, -1, &m, &typ), PM1_REFUSE);
	/* another S5 type (SeaBIOS on real boards can say 7) */
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x3c00, 7, &m, &typ), PM1_POWER_OFF);
	assert_int_equal(pm1_cnt_classify(PM1A, PM1A, 2, 0x2000, 7, &m, &typ), PM1_REFUSE);
	/* port wrap at 0xffff */
	assert_int_equal(pm1_cnt_classify(0xffff, 0xfffe, 4, 0x2400, 0, &m, &typ), PM1_PASS);
	assert_int_equal(pm1_cnt_classify(0xfffe, 0xfffe, 2, 0x2400, 0, &m, &typ), PM1_REFUSE);
	/* exhaustive: every byte write to base+1 is refused iff SLP_EN and type != S5 */
	for (uint32_t v = 0; v < 256; v++) {
		enum pm1_verdict r = pm1_cnt_classify(PM1A, PM1A + 1, 1, v, 5, &m, &typ);
		enum pm1_verdict want = !(v & 0x20) ? PM1_PASS : ((v >> 2) & 7) == 5 ? PM1_POWER_OFF : PM1_REFUSE;
		assert_int_equal(r, want);
		assert_int_equal(m, r == PM1_REFUSE ? (v & ~0x20u) : v);
	}
}

static void test_wak_mask(void **st)
{
	(void)st;
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb000, 2), 0x8000);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb000, 4), 0x8000);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb001, 1), 0x80);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb000, 1), 0);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xafff, 4), 0x800000);
	assert_int_equal(pm1_sts_wak_mask(0xb000, 0xb002, 2), 0);
}

/* Bochs 2.7's processor SSDT for 2 CPUs (bios/rombios32.c acpi_build_processor_ssdt,
 * after the table header): Scope(_PR_) { Processor(CPU0, 0, 0xb010, 6) Processor(CPU1, 1, 0xb010, 6) } */
static const uint8_t bochs_ssdt[] = {
	0x10, 0x1f, '_', 'P', 'R', '_',
	0x5b, 0x83, 0x0b, 'C', 'P', 'U', '0', 0x00, 0x10, 0xb0, 0x00, 0x00, 0x06,
	0x5b, 0x83, 0x0b, 'C', 'P', 'U', '1', 0x01, 0x10, 0xb0, 0x00, 0x00, 0x06,
};

static void test_pblk(void **st)
{
	(void)st;
	uint16_t p[4] = { 0 };
	assert_int_equal(acpi_pblk_find(bochs_ssdt, sizeof(bochs_ssdt), p, 4), 1);   /* one block, shared */
	assert_int_equal(p[0], 0xb010);
	/* rooted and dual names, two blocks, a processor without P_BLK (len 0), a 2-byte PkgLength */
	static const uint8_t many[] = {
		0x5b, 0x83, 0x11, '\\', 0x2e, '_', 'P', 'R', '_', 'C', '0', '0', '0', 0x00, 0x10, 0x04, 0, 0, 0x06,
		0x5b, 0x83, 0x0b, 'C', '0', '0', '1', 0x01, 0x20, 0x04, 0, 0, 0x00,          /* no P_BLK */
		0x5b, 0x83, 0x4d, 0x00, '^', 'C', '0', '0', '2', 0x02, 0x20, 0x04, 0, 0, 0x06,
		0x5b, 0x83, 0x0b, 'C', '0', '0', '3', 0x03, 0x00, 0x00, 0, 0, 0x06,          /* address 0 */
		0x5b, 0x83, 0x0b, 'C', '0', '0', '4', 0x04, 0xfc, 0xff, 0, 0, 0x06,          /* would pass 0xffff */
		0x5b, 0x83, 0x0b, 'C', '0', '0', '5', 0x05, 0x10, 0x00, 1, 0, 0x06,          /* above the I/O space */
	};
	memset(p, 0, sizeof(p));
	assert_int_equal(acpi_pblk_find(many, sizeof(many), p, 4), 2);
	assert_int_equal(p[0], 0x410);
	assert_int_equal(p[1], 0x420);
	assert_int_equal(acpi_pblk_find(many, sizeof(many), p, 1), 1);                 /* bounded by max */
	assert_int_equal(acpi_pblk_find(NULL, 10, p, 4), 0);
	/* every cut of Bochs's SSDT: found only once the first object is complete */
	for (size_t n = 0; n <= sizeof(bochs_ssdt); n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, bochs_ssdt, n);
		p[0] = 0;
		unsigned k = acpi_pblk_find(cut, n, p, 4);
		assert_int_equal(k, n >= 19 ? 1 : 0);
		if (k)
			assert_int_equal(p[0], 0xb010);
		free(cut);
	}
}

/* ---- _CST (ACPI 6.5, 8.4.1.1), synthetic AML as iasl encodes ASL ---- */

/* Package(4) { ResourceTemplate() { Register(space, width, 0, addr, access) }, type, 100, 500 }:
 * bytes written at out, count returned (31 bytes, 30 with type One). */
static size_t cst_state(uint8_t *out, uint8_t space, uint8_t width, uint8_t access, uint64_t addr, uint8_t type)
{
	size_t o = 0;
	out[o++] = 0x12; out[o++] = 30; out[o++] = 4;                 /* PackageOp PkgLength NumElements */
	out[o++] = 0x11; out[o++] = 20; out[o++] = 0x0a; out[o++] = 17;  /* BufferOp PkgLength BufferSize */
	out[o++] = 0x82; out[o++] = 0x0c; out[o++] = 0x00;             /* Generic Register Descriptor */
	out[o++] = space; out[o++] = width; out[o++] = 0; out[o++] = access;
	for (unsigned i = 0; i < 8; i++)
		out[o++] = (uint8_t)(addr >> (8 * i));
	out[o++] = 0x79; out[o++] = 0x00;                             /* End Tag */
	if (type == 1)
		out[o++] = 0x01;                                          /* One */
	else {
		out[o++] = 0x0a; out[o++] = type;
	}
	out[o++] = 0x0a; out[o++] = 100;                              /* latency */
	out[o++] = 0x0b; out[o++] = 0xf4; out[o++] = 0x01;            /* power 500 */
	out[1] = (uint8_t)(o - 1);                                    /* PkgLength: 30, or 29 with One */
	return o;
}

/* Scope(\_PR.CPU0) { Method(_CST) { Return(Package() { 3, C1 FFH, C2 SystemIO 0x414, C3 SystemIO 0x415 }) } }
 * (Intel reference code's shape: a method returning a package), then the same as
 * Name(CST2, Package() {...}) returned by reference elsewhere. */
static size_t cst_table(uint8_t *t, uint16_t c2, uint16_t c3)
{
	size_t o = 0;
	t[o++] = 0x14; size_t mlen = o; t[o++] = 0x40; t[o++] = 0;    /* MethodOp, 2-byte PkgLength */
	memcpy(t + o, "_CST", 4); o += 4; t[o++] = 0x00;              /* flags */
	t[o++] = 0xa4;                                                /* ReturnOp */
	t[o++] = 0x12; size_t plen = o; t[o++] = 0x40; t[o++] = 0; t[o++] = 4;   /* Package, 4 elements */
	t[o++] = 0x0a; t[o++] = 3;                                    /* Count */
	o += cst_state(t + o, 0x7f, 1, 1, 0x00, 1);                    /* C1: FFH (MWAIT hint 0) */
	o += cst_state(t + o, 1, 8, 1, c2, 2);                         /* C2: SystemIO */
	o += cst_state(t + o, 1, 8, 1, c3, 3);                         /* C3: SystemIO */
	size_t n = o - plen;                                          /* 2-byte PkgLength */
	t[plen] = (uint8_t)(0x40 | (n & 0x0f)); t[plen + 1] = (uint8_t)(n >> 4);
	n = o - mlen;
	t[mlen] = (uint8_t)(0x40 | (n & 0x0f)); t[mlen + 1] = (uint8_t)(n >> 4);
	return o;
}

static void test_cst(void **st)
{
	(void)st;
	uint8_t t[512];
	struct acpi_cst_reg r[8];
	size_t n = cst_table(t, 0x414, 0x415);
	assert_int_equal(acpi_cst_find(t, n, r, 8), 3);
	assert_int_equal(r[0].space, ACPI_SPACE_FFH); assert_int_equal(r[0].type, 1);
	assert_int_equal(r[1].space, ACPI_SPACE_SYSTEM_IO); assert_int_equal(r[1].addr, 0x414);
	assert_int_equal(r[1].type, 2); assert_int_equal(r[1].width, 8); assert_int_equal(r[1].access, 1);
	assert_int_equal(r[2].addr, 0x415); assert_int_equal(r[2].type, 3);
	assert_int_equal(acpi_cst_find(t, n, r, 2), 2);                  /* bounded by max */
	/* two processors' copies of the same registers: stored once */
	memcpy(t + n, t, n);
	assert_int_equal(acpi_cst_find(t, 2 * n, r, 8), 3);
	/* a register in memory space, a 4-byte access, a type out of range, a GRD of another length */
	size_t o = 0;
	o += cst_state(t + o, 0, 32, 3, 0xfed00000ULL, 2);
	o += cst_state(t + o, 1, 32, 3, 0x1800, 3);
	size_t bad = o; o += cst_state(t + o, 1, 8, 1, 0x1810, 4);      /* type 4: not a _CST entry */
	size_t grd = o; o += cst_state(t + o, 1, 8, 1, 0x1820, 2);
	t[grd + 8] = 0x0d;                                              /* GRD length 13 */
	(void)bad;
	assert_int_equal(acpi_cst_find(t, o, r, 8), 2);
	assert_int_equal(r[0].space, 0); assert_int_equal(r[0].addr, 0xfed00000ULL);
	assert_int_equal(r[1].addr, 0x1800); assert_int_equal(r[1].access, 3);
	/* every cut of the method: nothing past the end is read, and a state is found only whole */
	n = cst_table(t, 0x414, 0x415);
	for (size_t k = 0; k <= n; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		memcpy(cut, t, k);
		unsigned f = acpi_cst_find(cut, k, r, 8);
		assert_true(f <= 3);
		free(cut);
	}
	assert_int_equal(acpi_cst_find(NULL, 10, r, 8), 0);
	/* a package claiming more than the table holds */
	static const uint8_t lie[] = { 0x12, 0x3f, 4, 0x11, 20, 0x0a, 17, 0x82, 0x0c, 0 };
	assert_int_equal(acpi_cst_find(lie, sizeof(lie), r, 8), 0);
}

/* Real firmware tables (installed by tools/deps.sh): Bochs 2.7's DSDT inside its BIOS
 * image and SeaBIOS's acpi-dsdt.aml. Neither has _CST (nor the Processor() objects:
 * Bochs builds them in an SSDT at boot): nothing is found. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static void real_dsdt(const uint8_t *d, size_t len, int s5)
{
	struct acpi_cst_reg r[8];
	uint16_t p[4];
	uint8_t a, b;
	uint32_t tl;
	assert_true(len > 36);
	assert_memory_equal(d, "DSDT", 4);
	memcpy(&tl, d + 4, 4);
	assert_true(tl <= len && tl > 36);
	assert_int_equal(acpi_cst_find(d + 36, tl - 36, r, 8), 0);
	assert_int_equal(acpi_pblk_find(d + 36, tl - 36, p, 4), 0);
	assert_int_equal(acpi_sleep_type(d + 36, tl - 36, 5, &a, &b), s5);   /* the scans read real AML */
	/* every prefix: bounded */
	for (size_t k = 0; k < tl - 36; k += 97)
		assert_int_equal(acpi_cst_find(d + 36, k, r, 8), 0);
}

static void test_cst_real_tables(void **st)
{
	(void)st;
	size_t len;
	uint8_t *rom = read_file("/usr/share/bochs/BIOS-bochs-latest", &len);
	uint8_t *d = memmem(rom, len, "DSDT", 4);
	assert_non_null(d);
	real_dsdt(d, len - (size_t)(d - rom), 0);        /* Bochs's DSDT has \_S5 */
	free(rom);
	uint8_t *sea = read_file("/usr/share/seabios/acpi-dsdt.aml", &len);
	real_dsdt(sea, len, -1);                         /* SeaBIOS's has none (QEMU adds it in an SSDT) */
	/* the synthetic _CST method placed inside SeaBIOS's DSDT (at its end) is found */
	uint32_t tl;
	memcpy(&tl, sea + 4, 4);
	size_t n = cst_table(sea + tl, 0x1814, 0x1815);
	struct acpi_cst_reg r[8];
	assert_int_equal(acpi_cst_find(sea + 36, tl - 36 + n, r, 8), 3);
	assert_int_equal(r[1].addr, 0x1814);
	free(sea);
}

static void test_fadt_sleep(void **st)
{
	(void)st;
	uint8_t f[276];
	struct fadt_sleep fs;
	memset(f, 0, sizeof(f));
	memcpy(f, "FACP", 4);
	f[96] = 0xff; f[97] = 0x0f;                 /* P_LVL2_LAT 0xfff: no C2 (Bochs, QEMU) */
	f[98] = 0x64;                               /* P_LVL3_LAT 100 */
	f[112 + 2] = 0x10;                          /* Flags bit 20: HW_REDUCED_ACPI */
	f[244] = GAS_SYSTEM_IO; f[245] = 8; f[248] = 0x04; f[249] = 0x04;   /* SLEEP_CONTROL_REG: port 0x404 */
	f[256] = GAS_SYSTEM_MEMORY; f[257] = 8; f[260] = 0x00; f[261] = 0x10; f[262] = 0xfe; f[263] = 0xfe;
	assert_int_equal(fadt_sleep_parse(f, sizeof(f), &fs), 0);
	assert_int_equal(fs.hw_reduced, 1);
	assert_int_equal(fs.plvl2_lat, 0xfff);
	assert_int_equal(fs.plvl3_lat, 100);
	assert_int_equal(fs.sleep_ctl.space, GAS_SYSTEM_IO);
	assert_int_equal(fs.sleep_ctl.addr, 0x404);
	assert_int_equal(fs.sleep_sts.space, GAS_SYSTEM_MEMORY);
	assert_int_equal(fs.sleep_sts.addr, 0xfefe1000ULL);
	/* a revision-1 FADT (Bochs: 116 bytes): no sleep registers, not hardware-reduced */
	assert_int_equal(fadt_sleep_parse(f, 116, &fs), 0);
	assert_int_equal(fs.hw_reduced, 1);         /* Flags is inside 116 bytes */
	assert_int_equal(fs.sleep_ctl.addr, 0);
	assert_int_equal(fs.sleep_sts.addr, 0);
	assert_int_equal(fadt_sleep_parse(f, 114, &fs), 0);
	assert_int_equal(fs.hw_reduced, 0);
	assert_int_equal(fs.plvl2_lat, 0xfff);
	assert_int_equal(fadt_sleep_parse(f, 267, &fs), 0);                  /* status GAS cut */
	assert_int_equal(fs.sleep_ctl.addr, 0x404);
	assert_int_equal(fs.sleep_sts.addr, 0);
	assert_int_equal(fadt_sleep_parse(f, 35, &fs), -1);
	assert_int_equal(fadt_sleep_parse(NULL, 276, &fs), -1);
}

static void test_sleep_ctl(void **st)
{
	(void)st;
	uint8_t m;
	unsigned typ;
	/* S5 type 5 (a hardware-reduced DSDT's \_S5), SLP_EN: power-off */
	assert_int_equal(sleep_ctl_classify(0x20 | (5 << 2), 5, &m, &typ), PM1_POWER_OFF);
	assert_int_equal(typ, 5);
	/* S3 (type 3): refused, exactly SLP_EN cleared */
	assert_int_equal(sleep_ctl_classify(0x20 | (3 << 2), 5, &m, &typ), PM1_REFUSE);
	assert_int_equal(m, 3 << 2);
	assert_int_equal(typ, 3);
	/* no SLP_EN: performed as written */
	assert_int_equal(sleep_ctl_classify(5 << 2, 5, &m, &typ), PM1_PASS);
	assert_int_equal(m, 5 << 2);
	/* S5 unknown: every sleep refused, the power-off too */
	assert_int_equal(sleep_ctl_classify(0x20 | (5 << 2), -1, &m, &typ), PM1_REFUSE);
	for (unsigned v = 0; v < 256; v++) {
		enum pm1_verdict r = sleep_ctl_classify((uint8_t)v, 0, &m, &typ);
		assert_int_equal(r == PM1_PASS, !(v & 0x20));
		assert_int_equal(m, r == PM1_REFUSE ? (v & ~0x20u) : v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_types),
		cmocka_unit_test(test_pm1_cnt),
		cmocka_unit_test(test_wak_mask),
		cmocka_unit_test(test_pblk),
		cmocka_unit_test(test_cst),
		cmocka_unit_test(test_cst_real_tables),
		cmocka_unit_test(test_fadt_sleep),
		cmocka_unit_test(test_sleep_ctl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
