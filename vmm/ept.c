/*
 * The guest's EPT: every RAM and MMIO range identity-mapped (large pages
 * where possible; WB for RAM, MTRR-derived types elsewhere) EXCEPT hvmon's
 * own memory, which is never mapped. A guest access to hvmon memory exits
 * with an EPT violation: it is reported and that 4 KiB guest-physical page
 * is pointed at a sink page (0xFF-filled, hvmon-owned, holding no hvmon
 * data), so the guest never reads or writes a single hvmon byte.
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/iommu.h"
#include "vmm/probe.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

#define EPT_REPORT_MAX 32     /* detailed reports; later violations are only counted */

static void *ept_page(void *ctx, uint64_t *pa)
{
	void *p = page_alloc();
	if (p)
		*pa = hv_virt_to_phys(p);
	return p;
}

static void *ept_p2v(void *ctx, uint64_t pa)
{
	uint64_t base = hv_virt_to_phys(__heap_start);
	uint64_t size = (uint64_t)(__heap_end - __heap_start);
	if (pa < base || pa - base >= size)
		return NULL;
	return __heap_start + (pa - base);
}

static void mtrr_read(struct mtrr_state *m)
{
	static const uint32_t fixed[11] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
					     0x26c, 0x26d, 0x26e, 0x26f };
	memset(m, 0, sizeof(*m));
	struct x86_cpuid r;
	cpuid_count(1, 0, &r);
	if (!(r.edx & (1u << 12)))              /* no MTRRs: everything UC by the rules */
		return;
	m->cap = rdmsr(IA32_MTRRCAP);
	m->def_type = rdmsr(IA32_MTRR_DEF_TYPE);
	if (m->cap & (1u << 8))
		for (int i = 0; i < 11; i++)
			m->fixed[i] = rdmsr(fixed[i]);
	unsigned int n = m->cap & 0xff;
	for (unsigned int i = 0; i < n && i < MTRR_MAX_VAR; i++) {
		m->var_base[i] = rdmsr(IA32_MTRR_PHYSBASE0 + 2 * i);
		m->var_mask[i] = rdmsr(IA32_MTRR_PHYSBASE0 + 2 * i + 1);
	}
	cpuid_count(0x80000000, 0, &r);
	if (r.eax >= 0x80000008) {
		cpuid_count(0x80000008, 0, &r);
		m->phys_bits = r.eax & 0xff;
	}
}

/* Guest RAM only (the guest's e820 RAM), never hvmon memory: what ring -1 may read for a monitor. */
/* Guest RAM minus hvmon's memory (e820_ram_minus), computed once in ept_setup
 * and read-only afterwards, so every vCPU reads it without a lock. Each physical
 * read of a guest page walk is checked against it (a probe hit makes dozens):
 * largest range first, usually one comparison instead of the two tables. */
#define RAM_OK_MAX 64
static struct e820_range ram_ok[RAM_OK_MAX];
static int nr_ram_ok = -1;            /* -1: not built (or too many): the tables */
static const struct vm *ram_ok_vm;

static void ram_ok_build(const struct vm *vm)
{
	const struct boot_info *bi = vm->bi;
	uint32_t nr = bi->nr_reserved < BOOT_RSVD_MAX ? bi->nr_reserved : BOOT_RSVD_MAX;
	nr_ram_ok = e820_ram_minus(vm->e820, vm->nr_e820, bi->reserved, nr, ram_ok, RAM_OK_MAX);
	ram_ok_vm = vm;
}

bool vm_is_guest_ram(const struct vm *vm, uint64_t pa, uint64_t len)
{
	/* above hvmon's identity map a guest address is no pointer (issue 17) */
	if (len == 0 || pa + len < pa || pa + len > HV_IDENTITY_LIMIT)
		return false;
	if (nr_ram_ok >= 0 && vm == ram_ok_vm) {
		for (int i = 0; i < nr_ram_ok; i++)
			if (pa - ram_ok[i].base < ram_ok[i].length &&
			    len <= ram_ok[i].length - (pa - ram_ok[i].base))
				return true;
		return false;
	}
	if (vm_is_hvmon_memory(vm, pa, len))
		return false;
	for (uint32_t i = 0; i < vm->nr_e820; i++) {
		const struct e820_entry *e = &vm->e820[i];
		if (e->type == E820_TYPE_RAM && pa >= e->addr && pa + len <= e->addr + e->size)
			return true;
	}
	return false;
}

/* gmem read_phys callback (ctx = struct vm *): guest RAM through hvmon's identity map. */
int vm_guest_ram_read(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	const struct vm *vm = ctx;
	if (!vm_is_guest_ram(vm, gpa, len))
		return -1;
	if (len == 8)                         /* page-table entries, pointers: no call */
		__builtin_memcpy(buf, hv_phys_to_ptr(gpa), 8);
	else
		memcpy(buf, hv_phys_to_ptr(gpa), len);
	return 0;
}

const uint8_t *vm_guest_ram_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	const struct vm *vm = ctx;
	if (!vm_is_guest_ram(vm, gpa, len))
		return NULL;
	return hv_phys_to_ptr(gpa);
}

bool vm_is_hvmon_memory(const struct vm *vm, uint64_t pa, uint64_t len)
{
	const struct boot_info *bi = vm->bi;
	for (uint32_t i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++) {
		uint64_t b = bi->reserved[i].base & ~0xfffULL;
		uint64_t e = (bi->reserved[i].base + bi->reserved[i].length + 0xfff) & ~0xfffULL;
		if (pa < e && pa + len > b)
			return true;
	}
	return false;
}

/* The span above the boot map: to 2^MAXPHYADDR (at most the 4-level EPT's
 * 256 TiB) with 1 GiB pages (1 table page per 512 GiB); with 2 MiB pages only
 * (1 table page per GiB) at most 64 GiB of it. */
#define EPT_ABOVE_2M_MAX (64ULL << 30)
static int ept_map_above(struct vm *vm, uint64_t top, const struct mtrr_state *mtrr)
{
	unsigned bits = mtrr->phys_bits ? mtrr->phys_bits : 36;
	uint64_t end = bits >= 48 ? EPT_GPA_LIMIT : 1ULL << bits;
	if (!(vm->ept.caps & EPT_CAP_1G) && end > top + EPT_ABOVE_2M_MAX)
		end = top + EPT_ABOVE_2M_MAX;
	vm->ept_mapped_top = end > top ? end : top;
	if (end <= top)
		return 0;
	uint64_t before = vm->ept.tables;
	int rc = ept_map_identity(&vm->ept, top, end - top, EPT_RWX, MT_UC);
	if (!rc)
		pr_info("EPT: above RAM %#lx-%#lx identity, uncached (%lu table pages)\n", (unsigned long)top,
			(unsigned long)end - 1, (unsigned long)(vm->ept.tables - before));
	return rc;
}

int ept_setup(struct vm *vm)
{
	struct mtrr_state mtrr;
	struct ept_alloc a = { .ctx = vm, .alloc_page = ept_page, .phys_to_virt = ept_p2v };
	int rc;

	mtrr_read(&mtrr);
	rc = ept_init(&vm->ept, &a, vm->caps.ept_caps);
	if (rc)
		goto fail;

	uint64_t top = vm->phys_top < (4ULL << 30) ? (4ULL << 30) : vm->phys_top;
	top = (top + EPT_PAGE_1G - 1) & ~(EPT_PAGE_1G - 1);
	/* 1. everything, with the type the MTRRs give it (MMIO: UC/WC...) */
	rc = ept_map_identity_mtrr(&vm->ept, 0, top, EPT_RWX, &mtrr);
	if (rc)
		goto fail;
	/* 2. the guest's RAM, write-back */
	for (uint32_t i = 0; i < vm->nr_e820; i++) {
		const struct e820_entry *e = &vm->e820[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		uint64_t b = (e->addr + 0xfff) & ~0xfffULL, end = (e->addr + e->size) & ~0xfffULL;
		if (end > b && (rc = ept_map_identity(&vm->ept, b, end - b, EPT_RWX, MT_WB)))
			goto fail;
	}
	/* 2b. everything above, up to the CPU's physical-address width (64-bit
	 * BARs...), identity and uncached, now: with large pages this costs a few
	 * table pages, and an EPT violation never has to allocate one (issue 17:
	 * a guest touching 10,000 distinct MMIO pages used to exhaust the heap) */
	if ((rc = ept_map_above(vm, top, &mtrr)))
		goto fail;
	/* 3. hvmon's memory: not mapped at all */
	const struct boot_info *bi = vm->bi;
	for (uint32_t i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++) {
		uint64_t b = bi->reserved[i].base & ~0xfffULL;
		uint64_t e = (bi->reserved[i].base + bi->reserved[i].length + 0xfff) & ~0xfffULL;
		if ((rc = ept_unmap(&vm->ept, b, e - b)))
			goto fail;
		pr_info("EPT: hvmon memory %#lx-%#lx (%s) not mapped\n", (unsigned long)b,
			(unsigned long)e - 1, bi->reserved[i].what ? bi->reserved[i].what : "?");
	}
	ram_ok_build(vm);
	vm->eptp = ept_eptp(vm->ept.pml4_pa, false);
	vm->sink_page = page_alloc();
	if (!vm->sink_page)
		return -1;
	memset(vm->sink_page, 0xff, 4096);
	vm->sink_pa = hv_virt_to_phys(vm->sink_page);
	pr_info("EPT: identity map 0..%#lx, %lu paging-structure pages, EPTP %#lx\n",
		(unsigned long)top, (unsigned long)vm->ept.tables, (unsigned long)vm->eptp);
	return 0;
fail:
	pr_err("EPT setup failed: %s\n", ept_strerror(rc));
	return -1;
}

/* A guest access to memory that is hvmon's: reported (the first EPT_REPORT_MAX),
 * then the page maps to the sink page so the guest reads zeros and its writes
 * vanish (it never sees hvmon's memory). */
static void report_violation(struct vcpu *v, uint64_t gpa, uint64_t q, const char *what)
{
	struct vm *vm = v->vm;
	char acc[4] = { q & 1 ? 'r' : '-', q & 2 ? 'w' : '-', q & 4 ? 'x' : '-', 0 };
	vm->nr_ept_violations++;
	if (vm->nr_ept_violations > EPT_REPORT_MAX)
		return;
	if (q & (1u << 7))
		pr_err("EPT violation: GPA %#lx linear %#lx access %s RIP %#lx%s (vCPU %u)\n",
		       (unsigned long)gpa, (unsigned long)vmread(VMCS_GUEST_LINEAR_ADDR), acc,
		       (unsigned long)vmread(VMCS_GUEST_RIP), what, v->id);
	else
		pr_err("EPT violation: GPA %#lx (no linear address) access %s RIP %#lx%s (vCPU %u)\n",
		       (unsigned long)gpa, acc, (unsigned long)vmread(VMCS_GUEST_RIP), what, v->id);
}

int ept_deny_access(struct vcpu *v, uint64_t gpa, uint64_t q)
{
	struct vm *vm = v->vm;
	uint64_t page = gpa & ~0xfffULL;
	report_violation(v, gpa, q, " -> hvmon memory: access denied");
	hv_spin_lock(&vm->ept_lock);
	int rc = ept_map(&vm->ept, page, vm->sink_pa, 4096, EPT_RWX, MT_WB);
	hv_spin_unlock(&vm->ept_lock);
	if (rc) {
		/* bounded (hvmon's memory was split at boot), but never fatal: the guest gets #GP */
		pr_err("EPT update for GPA %#lx failed: %s\n", (unsigned long)gpa, ept_strerror(rc));
		hv_deny(v, HV_DENY_MMIO, gpa, q);
		vcpu_inject_gp(v);
		return HV_RESUME;
	}
	probe_views_stale();    /* per-vCPU views copy the tables above this page (vmm/probe_vmx.c) */
	invept_global();
	return HV_RESUME;
}

int ept_violation_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t q = v->exit_qual;
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	uint64_t page = gpa & ~0xfffULL;
	/* a subscribed page (probes, the hidden NIC's BARs: vmm/intercept.h) */
	if (vm->nr_icpt) {
		struct hv_icpt x;
		x.kind = HV_ICPT_PAGE;
		x.page.gpa = gpa;
		x.page.qual = q;
		if (hv_intercept_call(v, &x) == HV_ICPT_DONE)
			return HV_RESUME;
	}
	/* Several CPUs: the mapping may have changed since this exit happened (a
	 * probe removed by another CPU, a page another CPU just mapped): if the
	 * EPT this vCPU runs on allows the access now, flush and retry. */
	uint64_t leaf = probe_vcpu_leaf(v, page);
	if (leaf && (leaf & q & 7) == (q & 7) && (q & 7)) {
		invept_global();
		return HV_RESUME;
	}
	/* hvmon memory, or the VT-d units' registers (vmm/iommu.h) */
	if (vm_is_hvmon_memory(vm, page, 4096) || iommu_hide_gpa(page))
		return ept_deny_access(v, gpa, q);
	report_violation(v, gpa, q, "");
	/* Every guest-physical address up to the CPU's width was mapped at boot
	 * (ept_map_above): this one is beyond it. Nothing is allocated for it
	 * (issue 17: no guest input exhausts the heap); the guest gets #GP. */
	hv_deny(v, HV_DENY_MMIO, gpa, q);
	vcpu_inject_gp(v);
	return HV_RESUME;
}

int ept_misconfig_exit(struct vcpu *v)
{
	pr_err("EPT misconfiguration at GPA %#lx (hvmon bug)\n",
	       (unsigned long)vmread(VMCS_GUEST_PHYS_ADDR));
	return HV_FATAL;
}
