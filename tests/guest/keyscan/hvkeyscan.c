// SPDX-License-Identifier: GPL-2.0
/*
 * hvkeyscan: scans ALL guest RAM (every e820 RAM page, reserved ones included)
 * for hvmon's event key, as a compromised guest kernel would (issue 17).
 * It must be told what to look for without that text being in guest RAM
 * itself, so it is given the key REVERSED:
 *   echo <reversed key> > /sys/module/hvkeyscan/parameters/scan
 * and prints
 *   HVMON-GUEST: keyscan hits=<copies of the key> control=<copies of the
 *   reversed text> pages=<pages scanned> unreadable=<pages skipped>
 * control > 0 proves the scan reaches the memory the reversed text was
 * written to (command line, environment, sysfs buffer); hits must be 0.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/ioport.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/swab.h>
#include <linux/sched.h>
#include <linux/pfn.h>

#define PL 64
static char pat[PL + 1];
static u64 win_rev[8], win_fwd[8];
static u8 buf[PL + PAGE_SIZE] __aligned(8);

static bool match_rev(const u8 *s)
{
	for (int i = 0; i < PL; i++)
		if (s[i] != (u8)pat[PL - 1 - i])
			return false;
	return true;
}

static bool match_fwd(const u8 *s)
{
	return !memcmp(s, pat, PL);
}

/* occurrences ending inside buf[PL..len): each is counted once */
static void scan_buf(size_t len, unsigned long *hits, unsigned long *ctl)
{
	for (size_t a = 0; a + 8 <= len; a += 8) {
		u64 q = *(const u64 *)(buf + a), r;
		if (!q)
			continue;
		r = swab64(q);
		for (int j = 0; j < 8; j++) {
			long s = (long)a - j;
			if (s <= 0 || s + PL > (long)len)
				continue;
			if (r == win_rev[j] && match_rev(buf + s))
				(*hits)++;
			if (q == win_fwd[j] && match_fwd(buf + s))
				(*ctl)++;
		}
	}
}

static unsigned long hits, ctl, pages, bad, prev;

static int scan_range(unsigned long start, unsigned long nr, void *arg)
{
	for (unsigned long pfn = start; pfn < start + nr; pfn++) {
		if (!pfn_valid(pfn))
			continue;
		if (pfn != prev + 1)
			memset(buf, 0, PL);
		else
			memmove(buf, buf + PAGE_SIZE, PL);
		prev = pfn;
		if (copy_from_kernel_nofault(buf + PL, pfn_to_kaddr(pfn), PAGE_SIZE)) {
			bad++;
			memset(buf + PL, 0, PAGE_SIZE);
			continue;
		}
		pages++;
		scan_buf(PL + PAGE_SIZE, &hits, &ctl);
		if (!(pfn & 1023))
			cond_resched();
	}
	return 0;
}

static int scan_set(const char *val, const struct kernel_param *kp)
{
	size_t n = strcspn(val, "\n");

	if (n != PL)
		return -EINVAL;
	memcpy(pat, val, PL);
	pat[PL] = 0;
	for (int j = 0; j < 8; j++) {
		u8 t[8];
		/* aligned qword at s+j holds key[j..j+8) = pat[63-j .. 56-j]; its
		 * byte swap is pat[56-j .. 64-j) in order */
		memcpy(t, pat + PL - 8 - j, 8);
		memcpy(&win_rev[j], t, 8);
		memcpy(&win_fwd[j], pat + j, 8);
	}
	hits = ctl = pages = bad = 0;
	prev = ~0ul;
	/* top-level "System RAM" resources = the e820 RAM (walk_system_ram_range
	 * is not exported; a test module may read the tree unlocked at boot) */
	for (struct resource *r = iomem_resource.child; r; r = r->sibling)
		if ((r->flags & IORESOURCE_SYSTEM_RAM) == IORESOURCE_SYSTEM_RAM)
			scan_range(PFN_UP(r->start), PFN_DOWN(r->end + 1) - PFN_UP(r->start), NULL);
	memset(pat, 0, sizeof(pat));
	pr_info("HVMON-GUEST: keyscan hits=%lu control=%lu pages=%lu unreadable=%lu\n", hits, ctl, pages, bad);
	return 0;
}

static const struct kernel_param_ops scan_ops = { .set = scan_set, .get = NULL };
module_param_cb(scan, &scan_ops, NULL, 0200);

static int __init hvkeyscan_init(void) { return 0; }
static void __exit hvkeyscan_exit(void) { }
module_init(hvkeyscan_init);
module_exit(hvkeyscan_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmon test: scan all guest RAM for the event key");
