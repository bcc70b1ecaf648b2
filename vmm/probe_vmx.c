/*
 * probe_vmx — the ring -1 side of the probes (vmm/probe.h, docs/PROBES.md):
 * EPT views of probed pages, the #BP and EPT-violation exits, emulation of the
 * displaced instruction and guest memory access for monitors. The event rings
 * are set up here (events/ring1.c) because the probes are their first users.
 */
#include <string.h>
#include <stdio.h>
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/gmem.h"
#include "vmm/probe.h"
#include "vmm/introspect.h"
#include "vmm/guest.h"
#include "events/event.h"
#include "events/ring1.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "lib/tickhist.h"

static struct probe_table probes;
static struct vm *pvm;
static bool bp_intercepted;
static uint64_t page_sub[PROBE_MAX_PAGES];   /* GPA with an EPT page intercept, per pages[] slot */
static uint8_t *free_pages[PROBE_MAX_PAGES];
static unsigned nfree;

/* ---- physical / virtual access ------------------------------------------- */


static void mmu_for(struct gmem_mmu *m, uint64_t cr3)
{
	memset(m, 0, sizeof(*m));
	m->read_phys = vm_guest_ram_read;
	m->ctx = pvm;
	m->cr3 = cr3;
	m->la57 = (vmread(VMCS_GUEST_CR4) & X86_CR4_LA57) != 0;
	m->nxe = (vmread(VMCS_GUEST_EFER) & X86_EFER_NXE) != 0;
}

/* Kernel text is translated with the CR3 the guest runs now: at a probe hit or
 * the LSTAR exit that is a kernel CR3 (KPTI's user CR3 maps only the entry
 * trampoline, and probes are placed from kernel-mode exits). */
static int op_va_to_gpa(void *ctx, uint64_t va, uint64_t *gpa)
{
	struct gmem_mmu m;
	struct gmem_walk w;
	mmu_for(&m, vmread(VMCS_GUEST_CR3));
	if (gmem_translate(&m, va, GMEM_KERNEL_ONLY, &w))
		return -1;
	*gpa = w.gpa;
	return 0;
}

static int op_read_virt(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	struct gmem_mmu m;
	mmu_for(&m, vmread(VMCS_GUEST_CR3));
	return gmem_read(&m, va, buf, len, GMEM_KERNEL_ONLY, NULL) ? -1 : 0;
}

static uint8_t *op_alloc_page(void *ctx, uint64_t *pa)
{
	uint8_t *p = nfree ? free_pages[--nfree] : page_alloc();
	if (p)
		*pa = hv_virt_to_phys(p);
	return p;
}

static void op_free_page(void *ctx, uint8_t *p)
{
	if (nfree < PROBE_MAX_PAGES)
		free_pages[nfree++] = p;
}

static int remap(struct probe_page *pg, uint64_t hpa, uint32_t perms)
{
	int rc = ept_remap_4k(&pvm->ept, pg->gpa, hpa, perms);
	if (rc) {
		pr_err("probe: EPT remap of GPA %#lx failed: %s\n", (unsigned long)pg->gpa, ept_strerror(rc));
		return -1;
	}
	invept_global();
	return 0;
}

static int op_map_exec(void *ctx, struct probe_page *pg)
{
	/* execute-only needs IA32_VMX_EPT_VPID_CAP bit 0 (Bochs: yes); without it
	 * the exec view must be readable: reads of the page then see the int3s
	 * (documented in docs/PROBES.md) */
	uint32_t perms = (pg->mixed || !(pvm->caps.ept_caps & EPT_CAP_EXEC_ONLY)) ? (EPT_R | EPT_X) : EPT_X;
	return remap(pg, pg->shadow_pa, perms);
}

static int op_map_data(void *ctx, struct probe_page *pg, bool write)
{
	return remap(pg, pg->gpa, write ? (EPT_R | EPT_W) : EPT_R);
}

static int op_map_plain(void *ctx, struct probe_page *pg)
{
	return remap(pg, pg->gpa, EPT_RWX);
}

static void op_dropped(void *ctx, const struct probe_site *s, const char *why)
{
	pr_warn("probe: probe at %#lx dropped: %s\n", (unsigned long)s->va, why);
	/* the ring of the CPU running this exit: a ring has one producer, its CPU */
	struct vcpu *v = hv_current_vcpu();
	unsigned cpu = v ? v->id : 0;
	struct hv_event *ev = hv_event_reserve(cpu, HV_EV_MONITOR_STATE, HV_EMON_CORE);
	if (ev) {
		ev->u.monitor_state.enabled = 0;
		snprintf(ev->u.monitor_state.reason, sizeof(ev->u.monitor_state.reason),
			 "probe at %#lx dropped: %s", (unsigned long)s->va, why);
		hv_event_commit(cpu);
	}
}

bool probe_gpa_probed(uint64_t gpa)
{
	return pvm && probe_find_page(&probes, gpa);
}

/* ---- setup / placement ---------------------------------------------------- */

int probe_vm_init(struct vm *vm)
{
	static const struct probe_ops ops = {
		.va_to_gpa = op_va_to_gpa, .read_phys = vm_guest_ram_read, .read_virt = op_read_virt,
		.alloc_page = op_alloc_page, .free_page = op_free_page,
		.map_exec = op_map_exec, .map_data = op_map_data, .map_plain = op_map_plain,
		.dropped = op_dropped,
	};
	pvm = vm;
	probe_table_init(&probes, &ops);
	probes.ops.ctx = vm;
	if (!(vm->caps.ept_caps & EPT_CAP_EXEC_ONLY))
		pr_warn("probe: EPT has no execute-only pages: probed pages stay readable in the "
			"exec view (int3s visible to reads; docs/PROBES.md)\n");
	if (hv_events_setup(&vm->opt)) {
		pr_err("events: cannot set up the event rings\n");
		return -1;
	}
	return 0;
}

static int probe_bp(struct vcpu *v, struct hv_icpt *x, void *ctx);
static int probe_page(struct vcpu *v, struct hv_icpt *x, void *ctx);

/* One EPT page intercept per probed page (vmm/intercept.h), following pages[]. */
static void sync_page_intercepts(struct vm *vm)
{
	for (unsigned i = 0; i < PROBE_MAX_PAGES; i++) {
		const struct probe_page *pg = &probes.pages[i];
		uint64_t want = pg->used ? pg->gpa : 0;
		if (page_sub[i] == want)
			continue;
		if (page_sub[i])
			hv_intercept_page_remove(vm, page_sub[i], probe_page, NULL);
		page_sub[i] = 0;
		if (want && !hv_intercept_page(vm, want, probe_page, NULL))
			page_sub[i] = want;
	}
}

static int place(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who, bool quiet)
{
	char why[128];
	if (!pvm) {
		pr_err("probe: %s: probes not initialised\n", who);
		return -1;
	}
	if (probe_add(&probes, va, fn, ctx, why, sizeof(why))) {
		pr_err("probe: %s: cannot place a probe at %#lx: %s\n", who, (unsigned long)va, why);
		return -1;
	}
	if (!bp_intercepted) {
		/* from now on int3 exits (applied before the next VM entry) */
		if (hv_intercept_exception(vm, X86_VEC_BP, 0, 0, probe_bp, NULL))
			pr_err("probe: %s: cannot intercept #BP\n", who);
		bp_intercepted = true;
	}
	struct probe_site *s = probe_find(&probes, va);
	sync_page_intercepts(vm);
	if (!quiet)
		pr_info("probe: %s: probe at %#lx (GPA %#lx, %s, %u bytes)\n", who, (unsigned long)va,
			(unsigned long)(probes.pages[s->page].gpa + s->off), s->insn.text, s->insn.len);
	return 0;
}

int probe_place(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who)
{
	return place(vm, va, fn, ctx, who, false);
}

int probe_place_quiet(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who)
{
	return place(vm, va, fn, ctx, who, true);
}

int probe_unplace(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx)
{
	int rc = probe_remove(&probes, va, fn, ctx);
	sync_page_intercepts(vm);
	return rc;
}

/* ---- exits ----------------------------------------------------------------- */

static uint64_t exits_bp_ours, exits_bp_reflected, exits_ept_probe;
/* ring -1 ticks per hit of each site, for medians (the measure; a mean
 * hides that most hits are cheap and a few are not) */
static struct tickhist site_ticks[PROBE_MAX_SITES];

/* #BP subscriber: a probe site runs its handlers and the displaced instruction is
 * emulated; any other int3 is the guest's own (kprobes, text_poke_bp, a debugger)
 * and the core reflects it. */
static int probe_bp(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	uint64_t t0 = rdtsc();
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	struct probe_site *s = probe_find(&probes, rip);
	if (!s || s->suspended || !x->exc.software) {
		exits_bp_reflected++;
		probes.reflected++;
		return HV_ICPT_PASS;
	}
	exits_bp_ours++;
	union guest_regs *r = v->regs;
	struct probe_hit hit = { .va = rip, .regs = r, .rsp = vmread(VMCS_GUEST_RSP) };
	struct probe_insn insn = s->insn;
	uint32_t n = s->nhandlers;
	for (uint32_t i = 0; i < n && i < PROBE_MAX_HANDLERS; i++) {
		if (s->h[i].fn)
			s->h[i].fn(v, &hit, s->h[i].ctx);
		if (hit.redirect_rip)
			break;
	}
	if (hit.redirect_rip) {
		vmwrite(VMCS_GUEST_RIP, hit.redirect_rip);
		vmwrite(VMCS_GUEST_RSP, hit.redirect_rsp);
	} else {
		struct probe_cpu c = { .rip = rip, .rsp = hit.rsp };
		memcpy(c.gpr, r->by_index, sizeof(c.gpr));
		c.gpr[4] = hit.rsp;
		bool push;
		uint64_t val;
		probe_emulate(&insn, &c, &push, &val);
		if (push && guest_write_u64(v, c.rsp, val)) {
			/* what the CPU would have done: a #PF on the push, the
			 * instruction not executed (issue 17: never a halt of ring -1) */
			pr_warn("probe: emulating %s at %#lx: cannot write the guest stack at %#lx: #PF to the guest\n",
				insn.text, (unsigned long)rip, (unsigned long)c.rsp);
			vcpu_inject_pf(v, c.rsp, 0x2);
			return HV_ICPT_DONE;
		}
		vmwrite(VMCS_GUEST_RIP, c.rip);
		vmwrite(VMCS_GUEST_RSP, c.rsp);
	}
	if (s->used && s->va == rip) {  /* a handler may have removed it */
		uint64_t dt = rdtsc() - t0;
		struct tickhist *h = &site_ticks[s - probes.sites];
		if (!s->hits)                 /* a new site in this slot */
			memset(h, 0, sizeof(*h));
		s->hits++;
		s->ticks += dt;
		tickhist_add(h, dt);
	}
	hv_events_ring1_kick(v->id);   /* the sinks run from the tick, unless the ring is nearly full */
	return HV_ICPT_DONE;
}

/* EPT violation on a probed page: switch its view (docs/PROBES.md). */
static int probe_page(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct probe_page *pg = probe_find_page(&probes, x->page.gpa);
	if (!pg)
		return HV_ICPT_PASS;
	exits_ept_probe++;
	uint64_t q = x->page.qual;
	bool fetch = q & 4, write = q & 2;
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	bool rip_on_page = (rip & ~0xfffULL) == pg->va;
	uint64_t dropped = probes.dropped;
	if (probe_page_fault(&probes, pg, fetch, write, rip_on_page))
		vcpu_guest_crash(v, "probe: EPT view switch failed");
	if (probes.dropped != dropped)
		sync_page_intercepts(v->vm);   /* a dropped probe may have freed its page */
	hv_events_ring1_kick(v->id);   /* a dropped probe reports through an event */
	return HV_ICPT_DONE;
}

void probe_print_stats(void)
{
	if (!pvm)
		return;
	hv_printf("hvmon: probes: %lu int3 exits handled, %lu reflected to the guest, %lu EPT exits on probed "
		  "pages, %lu probes followed a rewrite, %lu dropped\n", (unsigned long)exits_bp_ours, (unsigned long)exits_bp_reflected,
		  (unsigned long)exits_ept_probe, (unsigned long)probes.followed, (unsigned long)probes.dropped);
	for (int i = 0; i < PROBE_MAX_SITES; i++) {
		const struct probe_site *s = &probes.sites[i];
		if (!s->used)
			continue;
		const struct probe_page *pg = &probes.pages[s->page];
		const struct tickhist *h = &site_ticks[i];
		hv_printf("hvmon: probe %#lx (%s%s): %lu hits, %lu TSC ticks/hit (median %lu, p90 %lu); page %#lx: "
			  "%lu view switches, %lu re-syncs\n", (unsigned long)s->va, s->insn.text,
			  s->suspended ? ", suspended" : "", (unsigned long)s->hits,
			  (unsigned long)(s->hits ? s->ticks / s->hits : 0), (unsigned long)tickhist_median(h),
			  (unsigned long)tickhist_percentile(h, 90), (unsigned long)pg->gpa,
			  (unsigned long)pg->switches, (unsigned long)pg->resyncs);
	}
	hv_events_print_stats();
}
