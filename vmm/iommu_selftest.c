/*
 * iommu_selftest — iommu_selftest=on: hvmon's real VT-d set-up (vmm/iommu.c,
 * drivers/vtd/) checked against QEMU's intel-iommu with the `edu` device as a
 * DMA engine (QEMU q35, TCG: no VMX, so this runs before the VT-x check and
 * never starts a guest). tests/integration/vtd_qemu.sh boots it. Each check
 * prints "VTD-SELFTEST: ok|FAIL <name>: ..."; the end is "VTD-SELFTEST: PASS
 * n/n" or "VTD-SELFTEST: FAIL k/n", then QEMU's isa-debug-exit port ends the run.
 *
 * edu (QEMU hw/misc/edu.c): BAR0 registers 0x80 src, 0x88 dst, 0x90 count,
 * 0x98 command (bit 0 run, bit 1 direction: 1 = buffer -> RAM); a 4 KiB buffer
 * at device address 0x40000; each transfer completes after ~100 ms.
 */
#include <stdio.h>
#include <string.h>
#include "vmm/iommu.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "drivers/pci.h"
#include "events/event.h"
#include "events/ring1.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

#define EDU_VENDOR   0x1234
#define EDU_DEVICE   0x11e8
#define EDU_SRC      0x80
#define EDU_DST      0x88
#define EDU_CNT      0x90
#define EDU_CMD      0x98
#define EDU_RUN      0x1
#define EDU_TO_RAM   0x2
#define EDU_BUF      0x40000ULL
#define XFER         64
#define DEBUG_EXIT   0xf4

static uint8_t image_target[4096] __attribute__((aligned(4096))) = { 0x5a, 0xa5, 'h', 'v', 'm', 'o', 'n' };

static volatile uint8_t *edu;
static uint16_t edu_sid;
static unsigned nr_ok, nr_fail;
static struct vtd_fault last;
static unsigned nr_faults;

static void check(bool ok, const char *name, const char *fmt, unsigned long a, unsigned long b)
{
	char msg[160];
	snprintf(msg, sizeof(msg), fmt, a, b);
	pr_info("VTD-SELFTEST: %s %s: %s\n", ok ? "ok" : "FAIL", name, msg);
	if (ok)
		nr_ok++;
	else
		nr_fail++;
}

static void w64(unsigned off, uint64_t v) { *(volatile uint64_t *)(edu + off) = v; }
static uint32_t r32(unsigned off) { return *(volatile uint32_t *)(edu + off); }

static void on_fault(void *ctx, const struct vtd_fault *f)
{
	last = *f;
	nr_faults++;
}

static void drain_faults(void)
{
	struct iommu_state *s = iommu_get();
	for (unsigned i = 0; i < s->nr_units; i++)
		vtd_fault_poll(&s->units[i], on_fault, NULL, 64);
}

/* One transfer of XFER bytes between the edu buffer and @ram; returns the
 * number of faults recorded for it (the last one in `last`). */
static int dma(uint64_t ram, bool to_ram)
{
	drain_faults();
	nr_faults = 0;
	w64(EDU_SRC, to_ram ? EDU_BUF : ram);
	w64(EDU_DST, to_ram ? ram : EDU_BUF);
	w64(EDU_CNT, XFER);
	w64(EDU_CMD, EDU_RUN | (to_ram ? EDU_TO_RAM : 0));
	for (uint64_t i = 0; (r32(EDU_CMD) & EDU_RUN); i++) {
		if (i > 4000000000ULL) {
			pr_err("VTD-SELFTEST: edu transfer never completed\n");
			return -1;
		}
		__asm__ volatile("pause");
	}
	drain_faults();
	return (int)nr_faults;
}

static bool find_edu(void)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = pci_read32(0, dev, 0, 0);
		if ((id & 0xffff) != EDU_VENDOR || (id >> 16) != EDU_DEVICE)
			continue;
		uint32_t bar = pci_read32(0, dev, 0, 0x10) & ~0xfu;
		pci_write16(0, dev, 0, 4, pci_read16(0, dev, 0, 4) | 0x6);   /* memory + bus master */
		edu = hv_phys_to_ptr(bar);
		edu_sid = (uint16_t)(dev << 3);
		pr_info("VTD-SELFTEST: edu at 00:%02x.0, BAR0 %#x\n", dev, bar);
		return bar != 0;
	}
	return false;
}

static void dump_dmar(const struct vm *vm)
{
	const uint8_t *t = acpi_find_table(vm->bi->acpi_rsdp, "DMAR");
	uint32_t len = 0;
	if (!t)
		return;
	memcpy(&len, t + 4, 4);
	for (uint32_t off = 0; off < len && off < 4096; off += 32) {
		char line[80];
		int n = 0;
		for (uint32_t i = off; i < len && i < off + 32; i++)
			n += snprintf(line + n, sizeof(line) - n, "%02x", t[i]);
		pr_info("VTD-SELFTEST: dmar %04x %s\n", off, line);
	}
}

/* A DMA write into hvmon memory at @pa must fault (reason 5, edu's source id,
 * that page) and leave the bytes as they were. */
static void expect_blocked_write(const char *name, uint64_t pa)
{
	uint8_t before[XFER];
	memcpy(before, hv_phys_to_ptr(pa), XFER);
	int n = dma(pa, true);
	bool same = !memcmp(before, hv_phys_to_ptr(pa), XFER);
	check(n == 1 && last.reason == 5 && last.write && last.sid == edu_sid &&
	      last.addr == (pa & ~0xfffULL), name, "fault reason %lu at %#lx", n == 1 ? last.reason : 0,
	      (unsigned long)last.addr);
	check(same, name, "target bytes unchanged (%lu faults, page %#lx)", (unsigned long)n, (unsigned long)pa);
}

static uint64_t guest_page(const struct vm *vm, uint64_t pa)
{
	while (!vm_is_guest_ram(vm, pa, 4096))
		pa += 4096;
	return pa;
}

static void time_invalidations(struct vtd_unit *u)
{
	uint64_t t0 = rdtsc();
	for (int i = 0; i < 100; i++)
		vtd_inv_iotlb_page(u, IOMMU_DID_GUEST, 0x2000000 + i * 4096ULL);
	uint64_t page = (rdtsc() - t0) / 100;
	t0 = rdtsc();
	for (int i = 0; i < 20; i++) {
		vtd_inv_context_global(u);
		vtd_inv_iotlb_global(u);
	}
	uint64_t global = (rdtsc() - t0) / 20;
	pr_info("VTD-SELFTEST: cost page-invalidation %lu TSC ticks, global context+IOTLB %lu TSC ticks (%s)\n",
		(unsigned long)page, (unsigned long)global, u->qi ? "queued" : "register");
}

static void stale_mapping(struct iommu_state *s, uint64_t a, uint64_t c)
{
	dma(a, false);                          /* refill edu's buffer with a's non-zero pattern */
	memset(hv_phys_to_ptr(c), 0, XFER);
	int n = dma(c, true);
	check(n == 0 && ((uint8_t *)hv_phys_to_ptr(c))[0] != 0, "stale-before", "mapped page written (%lu faults) %#lx",
	      (unsigned long)n, (unsigned long)c);
	memset(hv_phys_to_ptr(c), 0, XFER);
	vtd_domain_unmap(&s->guest, c, 4096);
	__asm__ volatile("wbinvd" ::: "memory");
	n = dma(c, true);
	/* QEMU caches the translation: without the invalidation the DMA still lands,
	 * so the fault below is the invalidation's doing */
	check(n == 0 && ((uint8_t *)hv_phys_to_ptr(c))[0] != 0, "stale-cached",
	      "removed but not invalidated: DMA still lands (%lu faults) %#lx", (unsigned long)n, c);
	memset(hv_phys_to_ptr(c), 0, XFER);
	for (unsigned i = 0; i < s->nr_units; i++)
		vtd_inv_iotlb_page(&s->units[i], IOMMU_DID_GUEST, c);
	n = dma(c, true);
	check(n == 1 && last.reason == 5 && last.addr == c && ((uint8_t *)hv_phys_to_ptr(c))[0] == 0,
	      "stale-after-invalidation", "removed page faults (reason %lu) at %#lx", n == 1 ? last.reason : 0, c);
	vtd_domain_map(&s->guest, c, 4096);
	__asm__ volatile("wbinvd" ::: "memory");
	for (unsigned i = 0; i < s->nr_units; i++)
		vtd_inv_iotlb_page(&s->units[i], IOMMU_DID_GUEST, c);
	n = dma(c, true);
	check(n == 0 && ((uint8_t *)hv_phys_to_ptr(c))[0] != 0, "remapped", "page written again (%lu faults) %#lx",
	      (unsigned long)n, c);
}

/* The production path: a blocked DMA read through iommu_poll_faults (what the
 * tick calls) becomes one dma_fault event on the console sink. */
static struct hv_event seen;
static unsigned nr_seen;
static void grab(struct hv_event_sink *sk, const struct hv_event *ev)
{
	if (ev->hdr.type == HV_EV_DMA_FAULT) {
		seen = *ev;
		nr_seen++;
	}
}

/* a DMA read of @target (blocked), then the tick's poll and a drain */
static void blocked_read(uint64_t target)
{
	w64(EDU_SRC, target);
	w64(EDU_DST, EDU_BUF);
	w64(EDU_CNT, XFER);
	w64(EDU_CMD, EDU_RUN);
	for (uint64_t i = 0; (r32(EDU_CMD) & EDU_RUN) && i < 4000000000ULL; i++)
		__asm__ volatile("pause");
	iommu_poll_faults(0);
	hv_event_drain(0);
}

static void fault_event(struct iommu_state *s, uint64_t target)
{
	static struct hv_event_sink sink = { .name = "selftest", .emit = grab };
	static struct hv_options eo;      /* the event core's console echo: defaults */
	hv_options_defaults(&eo);
	if (hv_events_setup(&eo, 1) || hv_event_sink_register(&sink)) {
		check(false, "dma_fault-event", "event core set-up failed (%lu %lu)", 0, 0);
		return;
	}
	drain_faults();
	blocked_read(target);
	check(nr_seen == 1 && seen.u.dma_fault.source == edu_sid && !seen.u.dma_fault.write &&
	      seen.u.dma_fault.reason == 6 && seen.u.dma_fault.addr == (target & ~0xfffULL),
	      "dma_fault-event", "%lu event(s), address %#lx", nr_seen, (unsigned long)seen.u.dma_fault.addr);

	/* a flood: with one report allowed per window, 4 faults give 1 event and 3
	 * counted; the first report of the next window carries the 3 */
	struct vtd_ratelimit saved = s->rl;
	s->rl = (struct vtd_ratelimit){ .window_ticks = ~0ULL >> 1, .per_window = 1, .window_start = rdtsc() };
	uint64_t f0 = s->faults;
	nr_seen = 0;
	for (int i = 0; i < 4; i++)
		blocked_read(target);
	check(nr_seen == 1 && s->faults - f0 == 4 && s->rl.suppressed == 3, "fault-flood",
	      "4 faults: %lu event(s), %lu suppressed", nr_seen, (unsigned long)s->rl.suppressed);
	s->rl.window_ticks = 1;                 /* next window */
	blocked_read(target);
	check(nr_seen == 2 && seen.u.dma_fault.suppressed == 3, "fault-flood",
	      "next report carries suppressed=%lu (%lu events)", (unsigned long)seen.u.dma_fault.suppressed, nr_seen);
	s->rl = saved;
}

static void run(struct vm *vm)
{
	struct iommu_state *s = iommu_get();
	uint64_t a = guest_page(vm, 0x2000000), b = guest_page(vm, a + 4096), c = guest_page(vm, b + 4096);
	uint8_t *pa = hv_phys_to_ptr(a), *pb = hv_phys_to_ptr(b);

	for (int i = 0; i < XFER; i++)
		pa[i] = (uint8_t)(0xc3 ^ i);
	memset(pb, 0, XFER);
	int n1 = dma(a, false), n2 = dma(b, true);
	check(n1 == 0 && n2 == 0 && !memcmp(pa, pb, XFER), "guest-ram", "RAM %#lx -> edu -> RAM %#lx copied", a, b);

	expect_blocked_write("image", hv_virt_to_phys(image_target));
	uint8_t *heap = page_alloc();
	memset(heap, 0x77, 4096);
	expect_blocked_write("heap", hv_virt_to_phys(heap));
	expect_blocked_write("ept-tables", vm->ept.pml4_pa);
	expect_blocked_write("iommu-root-table", hv_virt_to_phys(s->root));
	expect_blocked_write("iommu-context-table", hv_virt_to_phys(s->ctx_guest));
	expect_blocked_write("iommu-second-level-table", s->guest.root_pa);
	expect_blocked_write("iommu-queue", s->units[0].iq ? hv_virt_to_phys(s->units[0].iq) : s->guest.pt.pml4_pa);

	/* a read of hvmon's image: faults (reason 6) and the secret never reaches RAM */
	int n = dma(hv_virt_to_phys(image_target), false);
	check(n == 1 && last.reason == 6 && !last.write && last.sid == edu_sid, "image-read",
	      "read fault reason %lu at %#lx", n == 1 ? last.reason : 0, (unsigned long)last.addr);
	memset(pb, 0, XFER);
	dma(b, true);
	check(memcmp(pb, image_target, 7) != 0, "image-read", "secret not copied out (%#lx %#lx)", pb[0], pb[1]);

	check(acpi_find_table(vm->bi->acpi_rsdp, "DMAR") == NULL, "dmar-hidden", "guest ACPI has no DMAR (%lu units, %lu)",
	      s->nr_units, 0);
	struct ept_lookup l;
	check(ept_lookup(&vm->ept, s->units[0].base, &l) != 0, "ept-unmapped", "unit registers %#lx not in EPT (%lu)",
	      (unsigned long)s->units[0].base, 0);

	stale_mapping(s, a, c);
	fault_event(s, hv_virt_to_phys(image_target));
	time_invalidations(&s->units[0]);
}

void iommu_selftest(struct vm *vm)
{
	pr_info("VTD-SELFTEST: start (hvmon's VT-d code, no guest)\n");
	dump_dmar(vm);
	vm->caps.ept_caps = EPT_CAP_WALK4 | EPT_CAP_2M | EPT_CAP_1G;   /* EPT tables are only memory here */
	if (ept_setup(vm))
		hv_panic("VTD-SELFTEST: EPT set-up failed");
	vm->opt.iommu = HV_IOMMU_REQUIRED;
	iommu_setup(vm);
	if (!find_edu()) {
		pr_err("VTD-SELFTEST: no edu device (QEMU -device edu,dma_mask=0xffffffffffff)\n");
		nr_fail++;
	} else {
		run(vm);
	}
	struct iommu_state *s = iommu_get();
	pr_info("VTD-SELFTEST: table pages %lu (%lu KiB), set-up %lu TSC ticks, levels %u, %s invalidation, caching mode %s\n",
		(unsigned long)s->table_pages, (unsigned long)s->table_pages * 4, (unsigned long)s->setup_ticks,
		s->common.levels, s->units[0].qi ? "queued" : "register", s->units[0].caps.cm ? "on" : "off");
	if (nr_fail)
		pr_info("VTD-SELFTEST: FAIL %u/%u\n", nr_fail, nr_ok + nr_fail);
	else
		pr_info("VTD-SELFTEST: PASS %u/%u\n", nr_ok, nr_ok);
	outb(DEBUG_EXIT, nr_fail ? 1 : 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}
