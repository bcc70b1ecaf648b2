/*
 * iommu — VT-d set-up and fault reporting for the one guest (see iommu.h,
 * docs/VTD.md). Runs on the BSP before the guest's first instruction; the
 * fault poll runs from the BSP's tick.
 */
#include <string.h>
#include "vmm/iommu.h"
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/tick.h"
#include "vmm/net_hide.h"
#include "drivers/net/hvnet_setup.h"
#include "drivers/pci.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "events/event.h"

#define IOMMU_POLL_MS        10
#define IOMMU_POLL_MAX       16      /* fault records read per unit per poll */
#define IOMMU_REPORTS_PER_S  20      /* dma_fault events per second; the rest counted */

static struct iommu_state st;

struct iommu_state *iommu_get(void) { return &st; }

/* ---- platform ops for drivers/vtd ---- */
static void *p_map_mmio(uint64_t pa, uint64_t len)
{
	/* hvmon's page tables identity-map 0..max(4 GiB, RAM top); the MTRRs make
	 * the PCI hole UC (as for the e1000's BAR, docs/NETWORK.md) */
	return pa + len <= (4ULL << 30) ? hv_phys_to_ptr(pa) : NULL;
}
static uint64_t p_v2p(const void *p) { return hv_virt_to_phys(p); }
static void *p_page(void) { return page_alloc(); }
static uint64_t p_now(void) { return rdtsc(); }

void iommu_flush(const void *p, size_t len)
{
	const uint8_t *b = (const uint8_t *)((uintptr_t)p & ~63ULL), *e = (const uint8_t *)p + len;
	for (; b < e; b += 64)
		__asm__ volatile("clflush (%0)" : : "r"(b) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

static struct vtd_platform plat = {
	.map_mmio = p_map_mmio, .virt_to_phys = p_v2p, .alloc_page = p_page,
	.flush = iommu_flush, .now = p_now,
};

/* table pages come from hvmon's heap: excluded from the guest domain */
static void *dom_page(void *ctx, uint64_t *pa)
{
	void *p = page_alloc();
	if (p) {
		*pa = hv_virt_to_phys(p);
		st.table_pages++;
	}
	return p;
}
static void *dom_p2v(void *ctx, uint64_t pa)
{
	uint64_t base = hv_virt_to_phys(__heap_start), size = (uint64_t)(__heap_end - __heap_start);
	return pa >= base && pa - base < size ? __heap_start + (pa - base) : NULL;
}

/* ---- the policy when there is no usable VT-d ---- */
static void no_remapping(const struct vm *vm, const char *why)
{
	if (vm->opt.iommu == HV_IOMMU_REQUIRED)
		hv_panic("iommu=required: no working DMA remapping (%s); refusing to boot the guest", why);
	pr_warn("****************************************************************\n");
	pr_warn("* iommu=auto: NO DMA REMAPPING (%s)\n", why);
	pr_warn("* guest devices can DMA into hvmon's memory; boot with\n");
	pr_warn("* iommu=required to refuse this machine\n");
	pr_warn("****************************************************************\n");
}

/* ---- exclusions: what no guest device may reach ---- */
static void excl_add(uint64_t base, uint64_t len, const char *what)
{
	if (len && st.nr_excl < IOMMU_MAX_EXCL)
		st.excl[st.nr_excl++] = (struct vtd_range){ base, base + len, what };
}

static void collect_exclusions(const struct vm *vm)
{
	const struct boot_info *bi = vm->bi;
	for (uint32_t i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++)
		excl_add(bi->reserved[i].base, bi->reserved[i].length,
			 bi->reserved[i].what ? bi->reserved[i].what : "hvmon");
	for (unsigned i = 0; i < st.nr_units; i++)
		excl_add(st.units[i].base, st.units[i].reg_bytes, "VT-d registers");
	const struct pci_dev *nic = hvnet_pci_dev();
	struct net_hide_range r[6];
	int n = nic ? net_hide_bar_ranges(nic, r, 6) : 0;
	for (int i = 0; i < n; i++)
		if (!r[i].io)
			excl_add(r[i].base, r[i].size, "management NIC BAR");
}

/* ---- units ---- */
static int probe_units(const struct vm *vm, const char **why)
{
	for (uint32_t i = 0; i < st.dmar.nr_drhd; i++) {
		const struct dmar_drhd *d = &st.dmar.drhd[i];
		if (d->segment != 0) {
			pr_warn("VT-d: unit %#lx on PCI segment %u ignored (segment 0 only)\n",
				(unsigned long)d->base, d->segment);
			continue;
		}
		struct vtd_unit *u = &st.units[st.nr_units];
		if (vtd_unit_probe(u, &plat, d->base, d->size, why))
			return -1;
		if (vm->opt.iommu_selftest == 2)        /* test: the register-based path */
			u->caps.qi = false;
		pr_info("VT-d: unit %#lx%s cap %#lx ecap %#lx: %u-level, mgaw %u, 2M %s, 1G %s, %s invalidation, %u fault records%s\n",
			(unsigned long)d->base, d->flags & DRHD_F_INCLUDE_PCI_ALL ? " (all PCI)" : "",
			(unsigned long)u->caps.cap, (unsigned long)u->caps.ecap, u->caps.levels,
			u->caps.mgaw, u->caps.sllps & 1 ? "yes" : "no", u->caps.sllps & 2 ? "yes" : "no",
			u->caps.qi ? "queued" : "register", u->caps.nfr, u->caps.cm ? ", caching mode" : "");
		st.nr_units++;
	}
	if (!st.nr_units) {
		*why = "no remapping unit on segment 0";
		return -1;
	}
	/* one set of tables for every unit: what they all support */
	st.common = st.units[0].caps;
	for (unsigned i = 1; i < st.nr_units; i++) {
		const struct vtd_caps *c = &st.units[i].caps;
		if (c->levels < st.common.levels) {
			if (!(st.common.sagaw & 0x2) || !(c->sagaw & 0x2)) {
				*why = "units without a common table depth";
				return -1;
			}
			st.common.levels = 3;
			st.common.aw = 1;
		}
		st.common.large &= c->large;
		if (c->limit < st.common.limit)
			st.common.limit = c->limit;
	}
	if (st.common.levels == 3 && st.common.limit > (1ULL << 39))
		st.common.limit = 1ULL << 39;
	return 0;
}

/* ---- tables ---- */
static int build_tables(const struct vm *vm, const char **why)
{
	struct ept_alloc a = { .ctx = NULL, .alloc_page = dom_page, .phys_to_virt = dom_p2v };
	uint64_t top = vm->phys_top < (4ULL << 30) ? (4ULL << 30) : vm->phys_top;

	st.root = page_alloc();
	st.ctx_guest = page_alloc();
	if (!st.root || !st.ctx_guest) {
		*why = "out of heap for the root/context tables";
		return -1;
	}
	st.table_pages += 2;
	if (vtd_guest_domain_build(&st.guest, &a, &st.common, top, st.excl, st.nr_excl, &st.dmar, why))
		return -1;
	for (unsigned fn = 0; fn < 256; fn++)
		vtd_ctx_set(st.ctx_guest, fn, st.guest.root_pa, st.common.aw, IOMMU_DID_GUEST);
	for (unsigned bus = 0; bus < 256; bus++)
		vtd_root_set(st.root, bus, hv_virt_to_phys(st.ctx_guest));

	const struct pci_dev *nic = hvnet_pci_dev();
	uint64_t npa, nlen;
	hvnet_dma_range(&npa, &nlen);
	if (nic && nlen) {
		struct vtd_range r = { npa, npa + nlen, "management NIC rings and buffers" };
		if (vtd_only_domain_build(&st.nic, &a, &st.common, &r, 1, why))
			return -1;
		st.ctx_nic = page_alloc();
		if (!st.ctx_nic) {
			*why = "out of heap for the NIC's context table";
			return -1;
		}
		st.table_pages++;
		memcpy(st.ctx_nic, st.ctx_guest, 4096);
		st.nic_sid = (uint16_t)(nic->bus << 8 | nic->dev << 3 | nic->fn);
		vtd_ctx_set(st.ctx_nic, st.nic_sid & 0xff, st.nic.root_pa, st.common.aw, IOMMU_DID_NIC);
		vtd_root_set(st.root, nic->bus, hv_virt_to_phys(st.ctx_nic));
		st.nic_domain = true;
	}
	if (st.guest.rmrr_conflicts)
		pr_warn("VT-d: %u RMRR(s) overlap hvmon memory: that part is not mapped\n", st.guest.rmrr_conflicts);
	if (st.guest.rmrr_beyond)
		pr_warn("VT-d: %u RMRR(s) beyond the address width: not mapped\n", st.guest.rmrr_beyond);
	__asm__ volatile("wbinvd" ::: "memory");   /* every table page reaches memory (ECAP.C = 0 walks) */
	return 0;
}

/* ---- the guest cannot take the units back ---- */
static void rename_table(uint8_t *t)
{
	/* "DMAR" -> "HVDR": the guest's ACPI code ignores an unknown signature;
	 * the checksum is kept valid by moving the difference into its byte. */
	static const char nsig[4] = { 'H', 'V', 'D', 'R' };
	uint8_t d = 0;
	for (int i = 0; i < 4; i++) {
		d = (uint8_t)(d + t[i] - (uint8_t)nsig[i]);
		t[i] = (uint8_t)nsig[i];
	}
	t[9] = (uint8_t)(t[9] + d);
}

bool iommu_hide_gpa(uint64_t gpa)
{
	for (unsigned i = 0; st.on && i < st.nr_units; i++)
		if (gpa >= st.units[i].base && gpa < st.units[i].base + st.units[i].reg_bytes)
			return true;
	return false;
}

static int hide_from_guest(struct vm *vm, uint8_t *dmar)
{
	rename_table(dmar);
	for (unsigned i = 0; i < st.nr_units; i++) {
		int rc = ept_unmap(&vm->ept, st.units[i].base, st.units[i].reg_bytes);
		if (rc) {
			pr_err("VT-d: cannot remove unit %#lx from EPT: %s\n", (unsigned long)st.units[i].base,
			       ept_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* ---- faults ---- */
/* One dma_fault event (docs/EVENTS.md); the console and network sinks carry it. */
static void iommu_report_fault(unsigned cpu, unsigned unit, const struct vtd_fault *f, uint64_t skipped)
{
	struct hv_event *ev = hv_event_reserve(cpu, HV_EV_DMA_FAULT, HV_EMON_CORE);
	if (!ev)
		return;                         /* ring full: counted by the event core */
	ev->u.dma_fault.source = f->sid;
	ev->u.dma_fault.addr = f->addr;
	ev->u.dma_fault.write = f->write;
	ev->u.dma_fault.reason = f->reason;
	ev->u.dma_fault.unit = unit;
	ev->u.dma_fault.suppressed = skipped;
	hv_event_commit(cpu);
}

struct poll_ctx { unsigned cpu, unit; };

static void fault_cb(void *ctx, const struct vtd_fault *f)
{
	const struct poll_ctx *pc = ctx;
	uint64_t skipped = 0;
	st.faults++;
	if (!vtd_ratelimit_allow(&st.rl, rdtsc(), &skipped))
		return;
	st.events++;
	iommu_report_fault(pc->cpu, pc->unit, f, skipped);
}

/* Bounded work per call (IOMMU_POLL_MAX records per unit): a fault flood costs
 * the guest at most that much ring -1 time per tick and is counted, not queued. */
void iommu_poll_faults(unsigned cpu)
{
	for (unsigned i = 0; st.on && i < st.nr_units; i++) {
		struct poll_ctx pc = { cpu, i };
		vtd_fault_poll(&st.units[i], fault_cb, &pc, IOMMU_POLL_MAX);
	}
}

static void iommu_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	iommu_poll_faults(v->id);
}

void iommu_print_stats(void)
{
	if (!st.on)
		return;
	uint64_t inv = 0, ticks = 0, ovf = 0;
	for (unsigned i = 0; i < st.nr_units; i++) {
		inv += st.units[i].invalidations;
		ticks += st.units[i].inv_ticks;
		ovf += st.units[i].fault_overflows;
	}
	pr_info("VT-d: %lu DMA faults (%lu reported, %lu suppressed, %lu record overflows), %lu invalidations (%lu TSC ticks)\n",
		(unsigned long)st.faults, (unsigned long)st.events, (unsigned long)st.rl.suppressed,
		(unsigned long)ovf, (unsigned long)inv, (unsigned long)ticks);
}

/* ---- set-up ---- */
static int setup(struct vm *vm, const char **why)
{
	uint64_t t0 = rdtsc();
	const uint8_t *dmar = acpi_find_table(vm->bi->acpi_rsdp, "DMAR");
	if (!dmar) {
		*why = "no ACPI DMAR table";
		return -1;
	}
	uint32_t len;
	memcpy(&len, dmar + 4, 4);
	if (dmar_parse(dmar, len, &st.dmar, why))
		return -1;
	pr_info("VT-d: DMAR %u bytes, host address width %u, %u unit(s), %u RMRR(s)%s\n", len,
		st.dmar.haw, st.dmar.nr_drhd, st.dmar.nr_rmrr,
		st.dmar.flags & DMAR_F_INTR_REMAP ? ", interrupt remapping offered (not used)" : "");
	uint64_t t1 = rdtsc();
	if (probe_units(vm, why))
		return -1;
	collect_exclusions(vm);
	uint64_t t2 = rdtsc();
	if (build_tables(vm, why))
		return -1;
	uint64_t t3 = rdtsc();
	for (unsigned i = 0; i < st.nr_units; i++)
		if (vtd_unit_enable(&st.units[i], hv_virt_to_phys(st.root), why))
			return -1;
	st.on = true;
	uint64_t t4 = rdtsc();
	pr_info("VT-d: set-up TSC ticks: DMAR %lu, units %lu, tables %lu, enable %lu\n", (unsigned long)(t1 - t0),
		(unsigned long)(t2 - t1), (unsigned long)(t3 - t2), (unsigned long)(t4 - t3));
	if (hide_from_guest(vm, (uint8_t *)dmar)) {
		*why = "cannot hide the remapping hardware from the guest";
		return -1;
	}
	st.setup_ticks = rdtsc() - t0;
	return 0;
}

void iommu_setup(struct vm *vm)
{
	const char *why = "unknown";
	if (vm->opt.iommu == HV_IOMMU_OFF) {
		pr_warn("iommu=off: no DMA remapping; guest devices can DMA into hvmon's memory\n");
		return;
	}
	plat.timeout_ticks = tick_tsc_hz() ? tick_tsc_hz() / 10 : 1000000000ULL;   /* 100 ms */
	st.rl.per_window = IOMMU_REPORTS_PER_S;
	st.rl.window_ticks = tick_tsc_hz() ? tick_tsc_hz() : 2000000000ULL;
	if (setup(vm, &why)) {
		if (st.on)          /* translation is on but the guest could undo it */
			hv_panic("VT-d: %s", why);
		no_remapping(vm, why);
		return;
	}
	if (tick_register("iommu", IOMMU_POLL_MS, iommu_tick, NULL))
		pr_warn("VT-d: no tick slot: faults are not reported\n");
	pr_info("VT-d: DMA remapping on: %u unit(s), guest domain %u-level 0..%#lx minus %u hvmon range(s)%s, %lu table pages (%lu KiB), set-up %lu TSC ticks\n",
		st.nr_units, st.guest.levels, (unsigned long)st.guest.top, st.nr_excl,
		st.nic_domain ? ", management NIC in its own domain" : "",
		(unsigned long)st.table_pages, (unsigned long)st.table_pages * 4,
		(unsigned long)st.setup_ticks);
	for (unsigned i = 0; i < st.nr_excl; i++)
		pr_info("VT-d: not reachable by guest DMA: %#lx-%#lx %s\n", (unsigned long)st.excl[i].base,
			(unsigned long)st.excl[i].end - 1, st.excl[i].what);
}
