/* Unit tests for vmm/net_hide.c: which guest PCI configuration accesses
 * (0xCF8/0xCFC, MMCONFIG/ECAM) and which BAR ranges hvmon hides (docs/NETWORK.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/net_hide.h"
#include "drivers/pci.h"

static struct pci_dev nic = { .bus = 0, .dev = 4, .fn = 0, .vendor = 0x8086, .device = 0x100e };
static struct pci_dev nic2 = { .bus = 3, .dev = 0x1f, .fn = 7 };

static int setup(void **st)
{
	(void)st;
	static int done;
	if (!done) {
		assert_int_equal(pci_hide(&nic), 0);
		assert_int_equal(pci_hide(&nic2), 0);
		done = 1;
	}
	return 0;
}

static void test_pio_all_ports_sizes(void **st)
{
	(void)st;
	uint32_t hid = pci_cf8(0, 4, 0, 0), other = pci_cf8(0, 3, 0, 0), fn1 = pci_cf8(0, 4, 1, 0);
	/* every data port, every size, every register of the hidden function */
	for (unsigned reg = 0; reg < 256; reg += 4)
		for (unsigned port = 0xcfc; port <= 0xcff; port++)
			for (unsigned size = 1; size <= 4; size *= 2) {
				uint32_t l = pci_cf8(0, 4, 0, reg);
				assert_int_equal(net_hide_pio_decide(l, (uint16_t)port, size, true), NH_ONES);
				assert_int_equal(net_hide_pio_decide(l, (uint16_t)port, size, false), NH_DROP);
				/* same register of a visible device: passed through */
				l = pci_cf8(0, 3, 0, reg);
				assert_int_equal(net_hide_pio_decide(l, (uint16_t)port, size, true), NH_PASS);
				assert_int_equal(net_hide_pio_decide(l, (uint16_t)port, size, false), NH_PASS);
			}
	/* another function of the same device is not hidden */
	assert_int_equal(net_hide_pio_decide(fn1, 0xcfc, 4, true), NH_PASS);
	/* enable bit clear: not a configuration cycle */
	assert_int_equal(net_hide_pio_decide(hid & 0x7fffffff, 0xcfc, 4, true), NH_PASS);
	/* the second hidden function (bus 3, dev 1f, fn 7) */
	assert_int_equal(net_hide_pio_decide(pci_cf8(3, 0x1f, 7, 0x10), 0xcfe, 2, true), NH_ONES);
	assert_int_equal(net_hide_pio_decide(pci_cf8(3, 0x1f, 6, 0x10), 0xcfe, 2, true), NH_PASS);
	/* 0xCF8: only a dword write is the latch; 0xCF9 (reset control) etc. pass */
	assert_int_equal(net_hide_pio_decide(other, 0xcf8, 4, false), NH_LATCH);
	assert_int_equal(net_hide_pio_decide(hid, 0xcf8, 4, true), NH_PASS);
	assert_int_equal(net_hide_pio_decide(hid, 0xcf9, 1, false), NH_PASS);
	assert_int_equal(net_hide_pio_decide(hid, 0xcf8, 2, false), NH_PASS);
	assert_int_equal(net_hide_pio_decide(hid, 0xcfb, 1, true), NH_PASS);
	/* not ours */
	assert_int_equal(net_hide_pio_decide(hid, 0xcf7, 1, true), NH_NOT_MINE);
	assert_int_equal(net_hide_pio_decide(hid, 0xd00, 4, true), NH_NOT_MINE);
	assert_int_equal(net_hide_pio_decide(hid, 0x3f8, 1, false), NH_NOT_MINE);
}

/* MCFG: ACPI header (36) + 8 reserved + 16-byte allocations */
static uint32_t mk_mcfg(uint8_t *t, const uint64_t *base, const uint8_t *bs, const uint8_t *be,
			const uint16_t *seg, int n)
{
	uint32_t len = 44 + 16 * (uint32_t)n;
	memset(t, 0, len);
	memcpy(t, "MCFG", 4);
	memcpy(t + 4, &len, 4);
	for (int i = 0; i < n; i++) {
		memcpy(t + 44 + 16 * i, &base[i], 8);
		memcpy(t + 44 + 16 * i + 8, &seg[i], 2);
		t[44 + 16 * i + 10] = bs[i];
		t[44 + 16 * i + 11] = be[i];
	}
	return len;
}

static void test_mcfg_parse(void **st)
{
	(void)st;
	uint8_t t[256];
	struct net_hide_ecam w[8];
	uint64_t base[4] = { 0xb0000000, 0xe0000000, 0xc0000800 /* not 1 MiB aligned */, 0xd0000000 };
	uint8_t bs[4] = { 0, 0x10, 0, 5 }, be[4] = { 0xff, 0x1f, 0xff, 4 /* end < start */ };
	uint16_t seg[4] = { 0, 1, 0, 0 };
	uint32_t len = mk_mcfg(t, base, bs, be, seg, 4);
	assert_int_equal(net_hide_mcfg_parse(t, len, w, 8), 2);
	assert_int_equal(w[0].base, 0xb0000000);
	assert_int_equal(w[0].bus_end, 0xff);
	assert_int_equal(w[1].segment, 1);
	assert_int_equal(w[1].bus_start, 0x10);
	/* max respected */
	assert_int_equal(net_hide_mcfg_parse(t, len, w, 1), 1);
	/* malformed: wrong signature, length disagreeing with the header, too short */
	assert_int_equal(net_hide_mcfg_parse(t, len - 1, w, 8), -1);
	assert_int_equal(net_hide_mcfg_parse(t, 20, w, 8), -1);
	t[0] = 'X';
	assert_int_equal(net_hide_mcfg_parse(t, len, w, 8), -1);
	assert_int_equal(net_hide_mcfg_parse(NULL, len, w, 8), -1);
}

static void test_ecam(void **st)
{
	(void)st;
	/* segment 0, buses 0..0x3f at 0xb0000000; segment 1 must be ignored */
	struct net_hide_ecam w[2] = { { 0xe0000000, 1, 0, 0xff }, { 0xb0000000, 0, 0, 0x3f } };
	uint64_t pg = net_hide_ecam_page(w, 2, 0, 4, 0);
	assert_int_equal(pg, 0xb0000000 + (4 << 15));
	for (uint64_t off = 0; off < 4096; off += 1)
		assert_true(net_hide_ecam_hidden(w, 2, pg + off));
	assert_false(net_hide_ecam_hidden(w, 2, pg - 1));          /* 00:03.7 */
	assert_false(net_hide_ecam_hidden(w, 2, pg + 4096));       /* 00:04.1 */
	assert_false(net_hide_ecam_hidden(w, 2, 0xe0000000 + (4 << 15)));   /* segment 1 */
	/* bus 3 is inside the window: 03:1f.7 hidden */
	uint64_t pg2 = net_hide_ecam_page(w, 2, 3, 0x1f, 7);
	assert_int_equal(pg2, 0xb0000000 + (3 << 20) + (0x1f << 15) + (7 << 12));
	assert_true(net_hide_ecam_hidden(w, 2, pg2 + 0x100));
	/* bus 0x40 beyond the window: no page; an address past the window is not hidden */
	assert_int_equal(net_hide_ecam_page(w, 2, 0x40, 0, 0), 0);
	assert_false(net_hide_ecam_hidden(w, 2, 0xb0000000 + (0x40ULL << 20) + (4 << 15)));
	/* a window starting at bus 2: its base is bus 2's config space */
	struct net_hide_ecam w2 = { 0xc0000000, 0, 2, 9 };
	assert_int_equal(net_hide_ecam_page(&w2, 1, 0, 4, 0), 0);
	assert_int_equal(net_hide_ecam_page(&w2, 1, 3, 0x1f, 7), 0xc0000000 + (1 << 20) + (0x1f << 15) + (7 << 12));
	assert_true(net_hide_ecam_hidden(&w2, 1, 0xc0000000 + (1 << 20) + (0x1f << 15) + (7 << 12)));
	assert_false(net_hide_ecam_hidden(&w2, 1, 0xc0000000 + (3 << 20) + (0x1f << 15) + (7 << 12)));
	assert_false(net_hide_ecam_hidden(&w2, 1, 0xc0000000 + (4 << 15)));   /* 02:04.0: not hidden */
}

static void test_bar_ranges(void **st)
{
	(void)st;
	struct pci_dev d = { 0 };
	struct net_hide_range r[6];
	d.bar[0] = 0xfebc0000; d.bar_size[0] = 0x20000;                  /* e1000 BAR0 */
	d.bar[1] = 0xc000; d.bar_size[1] = 0x40; d.bar_io[1] = 1;          /* I/O BAR */
	d.bar[2] = 0x800000001000ULL; d.bar_size[2] = 0x800; d.bar_64[2] = 1; /* 64-bit, small */
	d.bar[3] = 0x8000; d.bar_size[3] = 0x1000;                         /* upper half: skipped */
	d.bar[5] = 0; d.bar_size[5] = 0x1000;                              /* unassigned */
	int n = net_hide_bar_ranges(&d, r, 6);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].base, 0xfebc0000);
	assert_int_equal(r[0].size, 0x20000);
	assert_false(r[0].io);
	assert_true(r[1].io);
	assert_int_equal(r[1].base, 0xc000);
	assert_int_equal(r[1].size, 0x40);
	assert_int_equal(r[2].base, 0x800000001000ULL);
	assert_int_equal(r[2].size, 0x1000);                               /* page-rounded */
	assert_int_equal(net_hide_bar_ranges(&d, r, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pio_all_ports_sizes),
		cmocka_unit_test(test_mcfg_parse),
		cmocka_unit_test(test_ecam),
		cmocka_unit_test(test_bar_ranges),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
