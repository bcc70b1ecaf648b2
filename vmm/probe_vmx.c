/*
 * probe_vmx — the ring -1 side of the probes (vmm/probe.h, docs/PROBES.md):
 * EPT views of probed pages, the #BP and EPT-violation exits, emulation of the
 * displaced instruction and guest memory access for monitors. The event rings
 * are set up here (events/ring1.c) because the probes are their first users.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "lib/spinlock.h"
#include "vmm/ept_view.h"
#include "vmm/smp.h"
#include "vmm/page_guard.h"
#include "vmm/tick.h"
#include "vmm/probe_filter.h"

/*
 * Several vCPUs (issue 11, docs/PROBES.md "Several vCPUs"): each vCPU runs on
 * its own EPT root (vmm/ept_view.h, v->ept_view) that shares everything with
 * the VM's EPT except the probed pages, whose view is per vCPU. The VM's EPT
 * holds the exec view, so a vCPU that has no view yet (or runs a stale one)
 * still hits every int3. plock serialises the table, the views and the
 * statistics; it is never held across a wait for another CPU (the shootdown
 * runs after it is released) nor while a handler runs.
 */
static hv_spinlock_t plock = HV_SPINLOCK_INIT;
static struct probe_table probes;
static struct vm *pvm;
static bool bp_intercepted;
static uint64_t page_sub[PROBE_MAX_PAGES];   /* GPA with an EPT page intercept, per pages[] slot */
static uint8_t *free_pages[PROBE_MAX_PAGES];
static unsigned nfree;
/* under plock: shadows released during the current operation, freed once the
 * shootdown guarantees no CPU still executes them */
static uint8_t *dead_pages[2 * PROBE_MAX_PAGES];
static unsigned ndead;
static bool need_sync;                /* the VM's EPT or another vCPU's view changed */
static uint32_t views_gen;            /* bumped when views must be rebuilt (pages added/removed) */
/* the probed pages for probe_gpa_probed's lock-free first answer; rebuilt under
 * plock with every change of pages[] (filter_rebuild) */
static struct probe_filter pfilter;
/* a vCPU running the guest's bytes of a suspended site's page (bp_guest_bytes) */
static uint8_t gview_page[PROBE_MAX_VCPUS];   /* pages[] index + 1; 0: none */
static bool gview_fresh[PROBE_MAX_VCPUS];     /* set in this exit: end at the next one */
static void guest_view_end(struct vcpu *v);

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

/* A private kernel half's root entry put back (issue 15, docs/PROBES.md "A private
 * kernel half"): from the tick, plock held, on the vCPU that runs that address
 * space (its root cannot be freed meanwhile). One aligned 8-byte store, as the
 * CPU's own page-table writes are; guest RAM only, never hvmon's memory or a probed
 * page. The guest's TLB is flushed by the shootdown after the operation (INVEPT
 * invalidates combined mappings, SDM Vol. 3C 28.4.3.1). */
static int op_write_phys64(void *ctx, uint64_t gpa, uint64_t val)
{
	if ((gpa & 7) || !vm_is_guest_ram(pvm, gpa, 8) || probe_find_page(&probes, gpa & ~0xfffULL))
		return -1;
	__atomic_store_n((uint64_t *)hv_phys_to_ptr(gpa), val, __ATOMIC_RELEASE);
	need_sync = true;
	return 0;
}

static uint8_t *op_alloc_page(void *ctx, uint64_t *pa)
{
	uint8_t *p = nfree ? free_pages[--nfree] : page_alloc();
	if (p)
		*pa = hv_virt_to_phys(p);
	return p;
}

/* a shadow leaves the table: it is freed only after the next shootdown (another
 * CPU may still execute it until then) */
static void op_free_page(void *ctx, uint8_t *p)
{
	if (ndead < sizeof(dead_pages) / sizeof(dead_pages[0]))
		dead_pages[ndead++] = p;
}

static struct vcpu *this_vcpu(void)
{
	struct vcpu *v = hv_current_vcpu();
	return v && v->vm == pvm ? v : NULL;
}

static void map_failed(const struct probe_page *pg, const char *where, int rc)
{
	pr_err("probe: EPT update of GPA %#lx (%s) failed: %s\n", (unsigned long)pg->gpa, where, ept_strerror(rc));
}

/* the leaf of @pg in @cpu's view (probe_leaf_of) into the VM's EPT or a view */
static int map_shared(struct probe_page *pg)
{
	struct probe_leaf l;
	/* execute-only needs IA32_VMX_EPT_VPID_CAP bit 0 (Bochs: yes); without it
	 * the exec view must be readable: reads of the page then see the int3s
	 * (documented in docs/PROBES.md) */
	probe_leaf_of(pg, PROBE_SHARED, pvm->caps.ept_caps & EPT_CAP_EXEC_ONLY, &l);
	hv_spin_lock(&pvm->ept_lock);                 /* order: plock, then ept_lock */
	int rc = ept_remap_4k(&pvm->ept, pg->gpa, l.hpa, l.perms);   /* splits the VM's EPT to 4 KiB */
	hv_spin_unlock(&pvm->ept_lock);
	if (rc) {
		map_failed(pg, "shared", rc);
		return -1;
	}
	need_sync = true;
	return 0;
}

static int map_view(struct vcpu *v, struct probe_page *pg)
{
	struct probe_leaf l;
	if (!v->ept_view)
		return 0;                     /* runs on the VM's EPT until its first sync */
	probe_leaf_of(pg, (int)v->id, pvm->caps.ept_caps & EPT_CAP_EXEC_ONLY, &l);
	hv_spin_lock(&pvm->ept_lock);                 /* the view copies tables of the VM's EPT */
	int rc = ept_view_set(v->ept_view, pg->gpa, l.hpa, l.perms);
	hv_spin_unlock(&pvm->ept_lock);
	if (rc) {
		map_failed(pg, "vCPU view", rc);
		return -1;
	}
	if (v == this_vcpu())
		invept_global();              /* this CPU: at once */
	else
		need_sync = true;             /* another CPU: the shootdown after the operation */
	return 0;
}

static int op_map(void *ctx, struct probe_page *pg, int cpu)
{
	int rc = 0;
	if (cpu == PROBE_SHARED || cpu == PROBE_ALL)
		rc |= map_shared(pg);
	for (uint32_t i = 0; i < pvm->nr_vcpus && i < HV_MAX_CPUS; i++) {
		struct vcpu *v = pvm->vcpus[i];
		if (v && (cpu == PROBE_ALL || (int)v->id == cpu))
			rc |= map_view(v, pg);
	}
	return rc ? -1 : 0;
}

/* the last site of the page went: identity RWX everywhere (read+execute when
 * the page is write-protected for a subscriber: vmm/page_guard.h); the views
 * drop the page at their next rebuild */
static int op_map_plain(void *ctx, struct probe_page *pg)
{
	uint32_t perms = page_guard_perms(pg->gpa);
	hv_spin_lock(&pvm->ept_lock);
	int rc = ept_remap_4k(&pvm->ept, pg->gpa, pg->gpa, perms);
	for (uint32_t i = 0; i < pvm->nr_vcpus && i < HV_MAX_CPUS; i++) {
		struct vcpu *v = pvm->vcpus[i];
		if (v && v->ept_view && ept_view_set(v->ept_view, pg->gpa, pg->gpa, perms) == EPT_OK)
			ept_view_clear(v->ept_view, pg->gpa);
	}
	hv_spin_unlock(&pvm->ept_lock);
	if (rc)
		map_failed(pg, "shared", rc);
	need_sync = true;
	views_gen++;
	return rc ? -1 : 0;
}

/* INVEPT on every CPU (vmm/smp.h): returns when no CPU can still use a
 * translation from before. Never called with plock held: it waits for every
 * other CPU's next exit, and a CPU spinning on plock would never take one. */
static void ept_sync_all(void)
{
	smp_ept_sync(pvm);
}

/* End of an operation that took plock: release it, shoot down if the VM's EPT
 * or another vCPU's view changed, then recycle the shadows it released. */
static void op_end(void)
{
	bool sync = need_sync;
	need_sync = false;
	hv_spin_unlock(&plock);
	if (!sync && !ndead)
		return;
	ept_sync_all();
	hv_spin_lock(&plock);
	for (unsigned i = 0; i < ndead; i++)
		if (nfree < PROBE_MAX_PAGES)
			free_pages[nfree++] = dead_pages[i];
	ndead = 0;
	hv_spin_unlock(&plock);
}

/* issue 15: a probe blinded (or an attempt): event probe_tamper on the ring of
 * the CPU running this exit (a ring has one producer, its CPU), from the tick or
 * an EPT exit, under plock. The task is the writer for a write (int3, rewrite),
 * else the task running on this vCPU. */
static void op_tamper(void *ctx, const struct probe_tamper *tp)
{
	struct vcpu *v = hv_current_vcpu();
	unsigned cpu = v ? v->id : 0;
	pr_warn_queued("probe: tamper: %s at %#lx (%s, GPA %#lx%s%#lx)%s\n", tp->what, (unsigned long)tp->va,
		tp->site->name[0] ? tp->site->name : "?", (unsigned long)tp->gpa,
		tp->new_gpa ? " -> " : ", rip ", (unsigned long)(tp->new_gpa ? tp->new_gpa : tp->page->writer.rip),
		tp->rearmed ? ": re-established" : "");
	const struct probe_writer *w = &tp->page->writer;
	bool by_writer = w->known && (!strcmp(tp->what, "int3") || !strcmp(tp->what, "rewrite"));
	if (tp->pt_writer && tp->pt_writer->known) {   /* a remap seen at the page-table write */
		w = tp->pt_writer;
		by_writer = true;
	}
	struct hv_event *ev = v && !by_writer ? hv_event_reserve_task(v, HV_EV_PROBE_TAMPER, HV_EMON_CORE, NULL)
					      : hv_event_reserve(cpu, HV_EV_PROBE_TAMPER, HV_EMON_CORE);
	if (!ev)
		return;
	struct hv_ev_probe_tamper *e = &ev->u.probe_tamper;
	if (by_writer) {
		hv_event_set_task(ev, w->pid, w->tgid, w->comm, sizeof(w->comm));
		e->rip = w->rip;
	}
	e->va = tp->va;
	e->gpa = tp->gpa;
	e->new_gpa = tp->new_gpa;
	e->ms = tp->ms;
	e->new_mm = tp->new_mm;
	e->rearmed = tp->rearmed;
	e->nbytes = tp->nbytes < HV_TAMPER_BYTES ? tp->nbytes : HV_TAMPER_BYTES;
	memcpy(e->bytes, tp->bytes, e->nbytes);
	hv_strlcpy_bounded(e->what, sizeof(e->what), tp->what, HV_KIND_LEN);
	hv_strlcpy_bounded(e->probe, sizeof(e->probe), tp->site->name, PROBE_NAME_LEN);
	hv_event_commit(cpu);
}

/* Asked at every kernel-stack write hvmon makes (issue 16): the filter answers
 * "not probed" for almost every page without the lock; a possible hit is
 * checked exactly under plock. */
bool probe_gpa_probed(uint64_t gpa)
{
	if (!pvm || !probe_filter_maybe(&pfilter, gpa))
		return false;
	hv_spin_lock(&plock);
	bool r = probe_find_page(&probes, gpa) != NULL;
	hv_spin_unlock(&plock);
	return r;
}

/* ---- per-vCPU views ---------------------------------------------------------- */

/* (Re)build @v's view from the VM's EPT and its view of every probed page, and
 * run on it. On its own CPU, in an exit (its VMCS is current). plock held. */
static void view_rebuild(struct vcpu *v)
{
	if (!v->ept_view) {
		struct ept_view *w = malloc(sizeof(*w));
		int irc = -1;
		if (w) {
			hv_spin_lock(&pvm->ept_lock);
			irc = ept_view_init(w, &pvm->ept);
			hv_spin_unlock(&pvm->ept_lock);
		}
		if (irc) {
			/* without its own view a vCPU's data access to a probed page
			 * could never be served: end the run with the reason */
			free(w);
			hv_spin_unlock(&plock);
			pr_err("probe: out of memory for the EPT view of vCPU %u\n", v->id);
			vcpu_guest_crash(v, "probe: no EPT view for this vCPU");
		}
		v->ept_view = w;
	}
	struct ept_view *w = v->ept_view;
	for (unsigned i = 0; i < EPT_VIEW_MAX_PAGES; i++)
		w->ovr[i].used = false;
	hv_spin_lock(&pvm->ept_lock);
	int rc = ept_view_build(w);
	for (unsigned i = 0; i < PROBE_MAX_PAGES && !rc; i++) {
		struct probe_page *pg = &probes.pages[i];
		struct probe_leaf l;
		if (!pg->used)
			continue;
		probe_leaf_of(pg, (int)v->id, pvm->caps.ept_caps & EPT_CAP_EXEC_ONLY, &l);
		rc = ept_view_set(w, pg->gpa, l.hpa, l.perms);
	}
	hv_spin_unlock(&pvm->ept_lock);
	if (rc)
		pr_err("probe: EPT view of vCPU %u: %s\n", v->id, ept_strerror(rc));
	v->probe_gen = views_gen;
	vmwrite(VMCS_EPTP, rc ? pvm->eptp : ept_eptp(ept_view_root(w), false));
	invept_global();
}

/* The VM's EPT changed outside the probes (vmm/ept.c maps a page of hvmon's
 * memory to the sink): a view holds private copies of the tables along its
 * probed pages and would keep the old entry, so the guest would fault on it
 * forever. Every view is rebuilt from the VM's EPT at its vCPU's next exit
 * (the calling vCPU's at the end of this one). Call without ept_lock held. */
void probe_views_stale(void)
{
	if (!pvm)
		return;
	hv_spin_lock(&plock);
	views_gen++;
	hv_spin_unlock(&plock);
}

void probe_vcpu_sync(struct vcpu *v)
{
	if (__builtin_expect(v->id < PROBE_MAX_VCPUS && gview_page[v->id] != 0, 0))
		guest_view_end(v);
	/* one compare per exit: 0 until the first probe is placed */
	if (__atomic_load_n(&views_gen, __ATOMIC_RELAXED) == v->probe_gen || !pvm)
		return;
	hv_spin_lock(&plock);
	view_rebuild(v);
	hv_spin_unlock(&plock);
}

uint64_t probe_vcpu_leaf(struct vcpu *v, uint64_t gpa)
{
	struct ept_lookup l;
	uint64_t leaf = 0;
	hv_spin_lock(&plock);
	if (pvm)
		hv_spin_lock(&pvm->ept_lock);
	if (v->ept_view && pvm)
		leaf = ept_view_leaf(v->ept_view, gpa & ~0xfffULL);
	else if (pvm && !ept_lookup(&pvm->ept, gpa, &l))
		leaf = *l.entry;
	if (pvm)
		hv_spin_unlock(&pvm->ept_lock);
	hv_spin_unlock(&plock);
	return leaf;
}

/* ---- setup / placement ---------------------------------------------------- */

static int probe_bp(struct vcpu *v, struct hv_icpt *x, void *ctx);
static int probe_page(struct vcpu *v, struct hv_icpt *x, void *ctx);

int probe_vm_init(struct vm *vm)
{
	static const struct probe_ops ops = {
		.va_to_gpa = op_va_to_gpa, .read_phys = vm_guest_ram_read, .read_virt = op_read_virt,
		.alloc_page = op_alloc_page, .free_page = op_free_page,
		.map = op_map, .map_plain = op_map_plain,
		.tamper = op_tamper, .write_phys64 = op_write_phys64,
	};
	pvm = vm;
	probe_table_init(&probes, &ops);
	probes.ops.ctx = vm;
	if (!(vm->caps.ept_caps & EPT_CAP_EXEC_ONLY))
		pr_warn("probe: EPT has no execute-only pages: probed pages stay readable in the "
			"exec view (int3s visible to reads; docs/PROBES.md)\n");
	if (hv_events_setup(&vm->opt, acpi_madt_cpus(vm->bi->acpi_rsdp))) {
		pr_err("events: cannot set up the event rings\n");
		return -1;
	}
	/* #BP exits from the first VM entry of every vCPU on (reflected while no
	 * probe is placed; guest int3s are rare): with several vCPUs an int3 a
	 * placement makes visible must never reach a vCPU whose exception bitmap
	 * has not caught up yet */
	if (hv_intercept_exception(vm, X86_VEC_BP, 0, 0, probe_bp, NULL))
		pr_err("probe: cannot intercept #BP: probes cannot be placed\n");
	else
		bp_intercepted = true;
	return 0;
}


/* probe_gpa_probed's filter from pages[]. plock held. */
static void filter_rebuild(void)
{
	uint64_t gpas[PROBE_MAX_PAGES];
	bool used[PROBE_MAX_PAGES];
	for (unsigned i = 0; i < PROBE_MAX_PAGES; i++) {
		gpas[i] = probes.pages[i].gpa;
		used[i] = probes.pages[i].used;
	}
	probe_filter_build(&pfilter, gpas, used, PROBE_MAX_PAGES);
}

/* One EPT page intercept per probed page (vmm/intercept.h), following pages[]
 * (every change of pages[] comes here: the filter follows it too). */
static void sync_page_intercepts(struct vm *vm)
{
	filter_rebuild();
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

static int place(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who, bool quiet,
		 const char *what, uint32_t flags)
{
	char why[128];
	if (!pvm) {
		pr_err("probe: %s: probes not initialised\n", who);
		return -1;
	}
	if (!bp_intercepted) {
		pr_err("probe: %s: cannot place a probe at %#lx: #BP is not intercepted\n", who, (unsigned long)va);
		return -1;
	}
	hv_spin_lock(&plock);
	int rc = probe_add(&probes, va, fn, ctx, why, sizeof(why));
	if (!rc)
		views_gen++;                  /* every vCPU rebuilds its view at its next exit */
	struct probe_site *s = rc ? NULL : probe_find(&probes, va);
	if (s)
		probe_site_claim(s, who, what, flags);
	uint64_t gpa = s ? probes.pages[s->page].gpa + s->off : 0;
	struct probe_insn insn = s ? s->insn : (struct probe_insn){ 0 };
	if (!rc)
		sync_page_intercepts(vm);
	op_end();
	if (rc) {
		pr_err("probe: %s: cannot place a probe at %#lx: %s\n", who, (unsigned long)va, why);
		return -1;
	}
	if (!quiet)
		pr_info("probe: %s: probe at %#lx (GPA %#lx, %s, %u bytes)\n", who, (unsigned long)va,
			(unsigned long)gpa, insn.text, insn.len);
	return 0;
}

int probe_place(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who)
{
	return place(vm, va, fn, ctx, who, false, NULL, 0);
}

int probe_place_as(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who,
		   const char *what, uint32_t flags)
{
	return place(vm, va, fn, ctx, who, false, what, flags);
}

int probe_place_quiet(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who)
{
	return place(vm, va, fn, ctx, who, true, NULL, 0);
}

int probe_unplace(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx)
{
	hv_spin_lock(&plock);
	int rc = probe_remove(&probes, va, fn, ctx);
	sync_page_intercepts(vm);
	op_end();
	return rc;
}

/* ---- exits ----------------------------------------------------------------- */

static uint64_t exits_bp_ours, exits_bp_reflected, exits_ept_probe, exits_stale;   /* under plock */
/* ring -1 ticks per hit of each site, for medians (the measure; a mean
 * hides that most hits are cheap and a few are not); under plock */
static struct tickhist site_ticks[PROBE_MAX_SITES];
/* the same for the hits a handler redirected (a return trampoline's second
 * hit: the tracer's fork/exec returns), so an entry probe's two kinds of hit
 * have medians of their own (issue 16: the clone entry's target) */
static struct tickhist site_redir_ticks[PROBE_MAX_SITES];
static uint64_t site_redir_hits[PROBE_MAX_SITES];

/* An int3 that is no live site: the guest's own, or one of ours another CPU
 * removed (or re-synced away) between this exit and now. Ours if the guest's
 * own byte there is not an int3: then retry the instruction on the current
 * view (rebuilt), which no longer holds it. */
static bool stale_int3(struct vcpu *v, uint64_t rip)
{
	uint64_t gpa;
	uint8_t b;
	if (op_va_to_gpa(NULL, rip, &gpa) || vm_guest_ram_read(pvm, gpa, &b, 1) || b == 0xcc)
		return false;
	hv_spin_lock(&plock);
	exits_stale++;
	view_rebuild(v);
	hv_spin_unlock(&plock);
	return true;
}

/* the guest's own int3: the core reflects it */
static int bp_reflect(void)
{
	hv_spin_lock(&plock);
	exits_bp_reflected++;
	probes.reflected++;
	hv_spin_unlock(&plock);
	return HV_ICPT_PASS;
}

/* An entry at a site suspended by a rewrite runs the guest's bytes: this vCPU
 * maps the guest's page R|X until its next exit (probe_vcpu_sync ends it). No
 * MTF on Bochs to end it after one instruction; meanwhile this vCPU misses the
 * other probes of that page (docs/PROBES.md "Returns at a suspended site"). */

static int bp_guest_bytes(struct vcpu *v, uint64_t rip)
{
	if (v->id >= PROBE_MAX_VCPUS)
		return bp_reflect();
	hv_spin_lock(&plock);
	struct probe_site *s = probe_find(&probes, rip);
	int rc = 0;
	if (s && probe_bp_action(s, true) == PROBE_BP_RETURN_OR_GUEST) {
		rc = probe_guest_view(&probes, &probes.pages[s->page], (int)v->id);
		gview_page[v->id] = (uint8_t)(s->page + 1);
		gview_fresh[v->id] = true;
	}
	op_end();
	if (rc)
		vcpu_guest_crash(v, "probe: EPT view switch failed");
	/* RIP unchanged: the guest's bytes run (or, when the site changed
	 * meanwhile, the instruction is retried on what is there now) */
	return HV_ICPT_DONE;
}

static void guest_view_end(struct vcpu *v)
{
	if (gview_fresh[v->id]) {
		gview_fresh[v->id] = false;   /* the exit that switched it: the guest runs first */
		return;
	}
	hv_spin_lock(&plock);
	struct probe_page *pg = &probes.pages[gview_page[v->id] - 1];
	gview_page[v->id] = 0;
	int rc = probe_guest_view_end(&probes, pg, (int)v->id);
	op_end();
	if (rc)
		vcpu_guest_crash(v, "probe: EPT view switch failed");
}

/* A #BP at a suspended site (issue 15): the tracer's return trampoline may
 * send a return here while the guest's int3 or a rewrite sits on the entry.
 * The handlers may take it (ret_only: a return, never an entry); otherwise the
 * guest's int3 is reflected, or the guest's bytes run (a rewrite). */
static int bp_suspended(struct vcpu *v, struct probe_site *s, uint64_t rip, enum probe_bp_action act)
{
	hv_spin_lock(&plock);
	if (!s->used || s->va != rip) {       /* removed between the two locks */
		hv_spin_unlock(&plock);
		return HV_ICPT_DONE;
	}
	uint32_t n = s->nhandlers < PROBE_MAX_HANDLERS ? s->nhandlers : PROBE_MAX_HANDLERS;
	struct { probe_handler_fn fn; void *ctx; } h[PROBE_MAX_HANDLERS];
	memcpy(h, s->h, sizeof(h));
	hv_spin_unlock(&plock);
	struct probe_hit hit = { .va = rip, .regs = v->regs, .rsp = vmread(VMCS_GUEST_RSP), .ret_only = true };
	for (uint32_t i = 0; i < n && !hit.redirect_rip; i++)
		if (h[i].fn)
			h[i].fn(v, &hit, h[i].ctx);
	if (hit.redirect_rip) {
		vmwrite(VMCS_GUEST_RIP, hit.redirect_rip);
		vmwrite(VMCS_GUEST_RSP, hit.redirect_rsp);
		hv_spin_lock(&plock);
		probes.ret_suspended++;
		hv_spin_unlock(&plock);
		hv_events_ring1_kick(v->id);
		return HV_ICPT_DONE;
	}
	if (act == PROBE_BP_RETURN_OR_REFLECT)
		return bp_reflect();
	return bp_guest_bytes(v, rip);
}

/* #BP subscriber: a probe site runs its handlers and the displaced instruction is
 * emulated; any other int3 is the guest's own (kprobes, text_poke_bp, a debugger)
 * and the core reflects it. The handlers run without plock (they may place or
 * remove probes), on a copy of the site's handler list. */
static int probe_bp(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	uint64_t t0 = rdtsc();
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	hv_spin_lock(&plock);
	struct probe_site *s = probe_find(&probes, rip);
	enum probe_bp_action act = probe_bp_action(s, x->exc.software);
	if (act == PROBE_BP_REFLECT) {
		bool live = s != NULL;
		hv_spin_unlock(&plock);
		if (!live && x->exc.software && stale_int3(v, rip))
			return HV_ICPT_DONE;      /* resume at the same RIP */
		return bp_reflect();
	}
	if (act != PROBE_BP_ENTRY) {
		hv_spin_unlock(&plock);
		return bp_suspended(v, s, rip, act);
	}
	exits_bp_ours++;
	struct probe_insn insn = s->insn;
	uint32_t n = s->nhandlers < PROBE_MAX_HANDLERS ? s->nhandlers : PROBE_MAX_HANDLERS;
	struct { probe_handler_fn fn; void *ctx; } h[PROBE_MAX_HANDLERS];
	memcpy(h, s->h, sizeof(h));
	hv_spin_unlock(&plock);
	union guest_regs *r = v->regs;
	struct probe_hit hit = { .va = rip, .regs = r, .rsp = vmread(VMCS_GUEST_RSP) };
	for (uint32_t i = 0; i < n; i++) {
		if (h[i].fn)
			h[i].fn(v, &hit, h[i].ctx);
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
			pr_warn_queued("probe: emulating %s at %#lx: cannot write the guest stack at %#lx: #PF to the guest\n",
				insn.text, (unsigned long)rip, (unsigned long)c.rsp);
			vcpu_inject_pf(v, c.rsp, 0x2);
			return HV_ICPT_DONE;
		}
		vmwrite(VMCS_GUEST_RIP, c.rip);
		vmwrite(VMCS_GUEST_RSP, c.rsp);
	}
	hv_spin_lock(&plock);
	if (s->used && s->va == rip) {  /* a handler (or another CPU) may have removed it */
		uint64_t dt = rdtsc() - t0;
		unsigned si = (unsigned)(s - probes.sites);
		struct tickhist *th = &site_ticks[si];
		if (!s->hits) {               /* a new site in this slot */
			memset(th, 0, sizeof(*th));
			memset(&site_redir_ticks[si], 0, sizeof(site_redir_ticks[si]));
			site_redir_hits[si] = 0;
		}
		s->hits++;
		s->ticks += dt;
		tickhist_add(th, dt);
		if (hit.redirect_rip) {
			site_redir_hits[si]++;
			tickhist_add(&site_redir_ticks[si], dt);
		}
	}
	hv_spin_unlock(&plock);
	hv_events_ring1_kick(v->id);   /* the sinks run from the tick, unless the ring is nearly full */
	return HV_ICPT_DONE;
}

/* EPT violation on a probed page: switch its view (docs/PROBES.md). */
static int probe_page(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	uint64_t q = x->page.qual;
	bool fetch = q & 4, write = q & 2;
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	/* a write to probed text (one exit per re-sync and vCPU): who wrote, for a
	 * probe_tamper report (issue 15); read before plock (guest memory) */
	struct guest_task wt = { 0 };
	bool wt_ok = write && guest_task_of(v, GUEST_TASK_CURRENT, &wt) == 0;
	hv_spin_lock(&plock);
	struct probe_page *pg = probe_find_page(&probes, x->page.gpa);
	if (!pg) {
		hv_spin_unlock(&plock);
		return HV_ICPT_PASS;
	}
	if (write && !pg->dirty) {        /* the first write since the last re-sync */
		pg->writer.known = true;
		pg->writer.rip = rip;
		pg->writer.pid = wt_ok ? wt.pid : -1;
		pg->writer.tgid = wt_ok ? wt.tgid : -1;
		memcpy(pg->writer.comm, wt_ok ? wt.comm : "", wt_ok ? sizeof(wt.comm) : 1);
		pg->writer.comm[sizeof(pg->writer.comm) - 1] = 0;
	}
	if (v->probe_gen != views_gen) {
		/* this vCPU's view predates a placement or removal (or it has none
		 * yet): rebuild and retry */
		view_rebuild(v);
		exits_stale++;
		hv_spin_unlock(&plock);
		return HV_ICPT_DONE;
	}
	exits_ept_probe++;
	bool rip_on_page = (rip & ~0xfffULL) == pg->va;
	/* (a probe blinded by a rewrite keeps its page: no intercept changes, issue 15) */
	int rc = probe_page_fault(&probes, pg, (int)v->id, fetch, write, rip_on_page);
	op_end();
	if (rc)
		vcpu_guest_crash(v, "probe: EPT view switch failed");
	hv_events_ring1_kick(v->id);   /* a blinded probe reports through an event */
	return HV_ICPT_DONE;
}

/* ---- tamper checks on the tick (issue 15, docs/PROBES.md "Tampering") -------- */

#define PROBE_TICK_MS 100
static struct tickhist tamper_ticks;      /* ring -1 ticks per check, under plock */
static uint64_t tamper_runs;

/* The kernel's own page tables (issue 15, docs/PROBES.md "Page tables"): the
 * table pages below the root on each probed address's walk are write-protected
 * through the core's page_guard; a write to one is let through and noted here
 * (who wrote it), and the next tick on any vCPU protects the page again, then
 * walks every probed address. Guarded pages are never unguarded (page_guard
 * has no removal): at most PROBE_PT_MAX, kept across moves. */
static uint64_t pt_guarded[PROBE_PT_MAX];
static unsigned npt_guarded;                  /* under pt_busy */
static bool pt_dirty;                         /* atomic: a guarded table was written */
static uint32_t pt_busy;                      /* atomic: one vCPU runs the page-table part */
static uint32_t pt_sig = ~0u;                 /* views_gen + known tops at the last collect */
/* The write -> re-walk delay (the window in which a remapped probed address runs
 * unprobed, docs/PROBES.md "Page tables"): TSC of the first write exit since the
 * last re-walk (atomic, 0: none), and the delays measured at the re-walks. */
static uint64_t pt_write_tsc;
static uint64_t pt_delay_last, pt_delay_max;  /* under pt_busy: write exit -> re-walk done */
static uint64_t pt_wait_max, pt_work_max;     /* its parts: until the re-walk starts; the re-walk's own */

static int pt_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	struct guest_task wt;
	bool ok = guest_task_of(v, GUEST_TASK_CURRENT, &wt) == 0;   /* guest memory: before plock */
	hv_spin_lock(&plock);
	struct probe_writer *w = &probes.pt.writer;
	w->known = true;
	w->rip = vcpu_rip(v);
	w->pid = ok ? wt.pid : -1;
	w->tgid = ok ? wt.tgid : -1;
	memcpy(w->comm, ok ? wt.comm : "", ok ? sizeof(wt.comm) : 1);
	w->comm[sizeof(w->comm) - 1] = 0;
	probes.pt.writes++;
	hv_spin_unlock(&plock);
	uint64_t none = 0;
	__atomic_compare_exchange_n(&pt_write_tsc, &none, rdtsc(), false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	__atomic_store_n(&pt_dirty, true, __ATOMIC_RELEASE);
	return HV_ICPT_PASS;                  /* page_guard opens the page; the write is retried */
}

static bool pt_is_guarded(uint64_t gpa)
{
	for (unsigned i = 0; i < npt_guarded; i++)
		if (pt_guarded[i] == gpa)
			return true;
	return false;
}

/* pt_busy held, plock NOT held (page_guard shoots down every CPU's EPT): after
 * a write to a guarded table, protect the tables again (a later write exits
 * again), then re-walk every probed address. True when a probed page moved. */
static bool pt_recheck(struct vcpu *v)
{
	if (!__atomic_exchange_n(&pt_dirty, false, __ATOMIC_ACQ_REL))
		return false;
	uint64_t t1 = rdtsc();
	for (unsigned i = 0; i < npt_guarded; i++)
		hv_page_guard_close(pvm, pt_guarded[i]);
	uint64_t t0 = __atomic_exchange_n(&pt_write_tsc, 0, __ATOMIC_RELAXED);
	hv_spin_lock(&plock);
	struct probe_writer w = probes.pt.writer;
	bool moved = probe_pt_check(&probes, &w) > 0;
	if (moved) {
		views_gen++;
		need_sync = true;
		sync_page_intercepts(v->vm);
	}
	op_end();
	uint64_t t2 = rdtsc();
	if (t2 - t1 > pt_work_max)
		pt_work_max = t2 - t1;
	if (t0) {
		pt_delay_last = t2 - t0;
		if (pt_delay_last > pt_delay_max)
			pt_delay_max = pt_delay_last;
		if (t1 - t0 > pt_wait_max)
			pt_wait_max = t1 - t0;
	}
	pt_sig = ~0u;                         /* the walks may have changed: collect again */
	return moved;
}

/* The re-walk 1 ms after a write (issue 15 item 2): a lazy tick client armed only
 * while a guarded table was written (pt_dirty), so a remap of a probed address
 * leaves the copy unprobed for ~1 ms of guest time instead of up to a 100 ms
 * period; no exit at all while the tables are quiet. (The write itself cannot be
 * judged in its own exit: page_guard lets it run after the exit, no MTF.) */
static bool pt_want(void *ctx)
{
	return __atomic_load_n(&pt_dirty, __ATOMIC_RELAXED);
}

static void pt_soon_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	if (__atomic_exchange_n(&pt_busy, 1, __ATOMIC_ACQUIRE))
		return;                       /* another vCPU is at it */
	pt_recheck(v);
	__atomic_store_n(&pt_busy, 0, __ATOMIC_RELEASE);
	hv_events_ring1_kick(v->id);
}

/* From the tick, plock NOT held: re-walk after a write (if the 1 ms client has
 * not yet), protect new table pages. Returns true when a probed page moved. */
static bool pt_tick(struct vcpu *v)
{
	if (!pvm->opt.probe_pt)
		return false;                 /* probe_pt=off (docs/OPTIONS.md) */
	if (__atomic_exchange_n(&pt_busy, 1, __ATOMIC_ACQUIRE))
		return false;                 /* another vCPU is at it */
	bool moved = pt_recheck(v);
	uint64_t tabs[PROBE_PT_MAX];
	unsigned n = 0;
	hv_spin_lock(&plock);
	uint32_t sig = views_gen;
	for (int i = 0; i < PROBE_MAX_PAGES; i++)
		sig += probes.pt.top[i] != 0;
	if (sig != pt_sig) {
		pt_sig = sig;
		n = probe_pt_tables(&probes, tabs, PROBE_PT_MAX);
	}
	hv_spin_unlock(&plock);
	for (unsigned i = 0; i < n; i++) {
		if (pt_is_guarded(tabs[i]))
			continue;
		if (npt_guarded >= PROBE_PT_MAX) {
			hv_spin_lock(&plock);
			probes.pt.over++;
			hv_spin_unlock(&plock);
			continue;
		}
		if (hv_page_guard(pvm, tabs[i], 4096, pt_write, NULL) == 1)
			pt_guarded[npt_guarded++] = tabs[i];
	}
	__atomic_store_n(&pt_busy, 0, __ATOMIC_RELEASE);
	return moved;
}

/* Every PROBE_TICK_MS on each vCPU, never in a probe hit: the sites' bytes in
 * guest memory, the guest's page tables for each probed page (with this vCPU's
 * CR3, in kernel mode), an address-space sample. Bounded: 32 sites, 16 walks. */
static void probe_tamper_tick(struct vcpu *v, uint64_t now, void *ctx)
{
	if (!pvm || !__atomic_load_n(&views_gen, __ATOMIC_RELAXED))
		return;                       /* no probe was ever placed */
	uint64_t t0 = rdtsc();
	struct probe_tick_in in = {
		.now = now, .tsc_per_ms = tick_tsc_hz() / 1000, .kernel_cr3 = vcpu_cpl(v) == 0,
		.cr3 = vmread(VMCS_GUEST_CR3), .halted = vcpu_halted(v),
	};
	hv_spin_lock(&plock);
	/* the kernel's own tables below the root, learnt whatever probe_pt says: the
	 * remap check tells a private kernel half of one address space (remap_mm)
	 * from a remap in the tables every process shares */
	if (in.kernel_cr3)
		probe_pt_learn(&probes, in.cr3, vcpu_la57(v));
	if (probe_tick(&probes, &in)) {
		views_gen++;                  /* a page moved: every view is rebuilt */
		need_sync = true;
		sync_page_intercepts(v->vm);
	}
	tamper_runs++;
	tickhist_add(&tamper_ticks, rdtsc() - t0);
	op_end();
	pt_tick(v);
	hv_events_ring1_kick(v->id);
}

int probe_checks_start(void)
{
	if (!pvm)
		return -1;
	if (tick_register("probe", PROBE_TICK_MS, probe_tamper_tick, NULL)) {
		pr_err("probe: no tick slot: probe tampering is only seen at re-syncs (no int3, remap or silent check)\n");
		return -1;
	}
	if (pvm->opt.probe_pt && tick_register_lazy("probe_pt", 1, pt_soon_tick, NULL, pt_want))
		pr_warn("probe: no tick slot for the 1 ms page-table re-walk: a remap is acted on at the 100 ms tick\n");
	return 0;
}

static uint64_t tsc_us(uint64_t d)
{
	uint64_t mhz = tick_tsc_hz() / 1000000;
	return mhz ? d / mhz : 0;
}

static unsigned views_count(void)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < pvm->nr_vcpus && i < HV_MAX_CPUS; i++)
		n += pvm->vcpus[i] && pvm->vcpus[i]->ept_view;
	return n;
}

/* A site some of whose hits a handler redirected: the medians of the two kinds
 * (emulated = the probed instruction ran, e.g. a syscall's entry; redirected =
 * the return trampoline's hit). The emulated histogram is all minus redirected. */
static void probe_print_split(const struct probe_site *s, const struct tickhist *all,
			      const struct tickhist *redir, uint64_t nredir)
{
	static struct tickhist emu;           /* power-off only, one CPU prints */
	for (unsigned b = 0; b < TICKHIST_BUCKETS; b++)
		emu.b[b] = all->b[b] - redir->b[b];
	hv_printf("hvmon: probe %#lx: emulated hits %lu (median %lu, p90 %lu), redirected hits %lu (median %lu, "
		  "p90 %lu)\n", (unsigned long)s->va, (unsigned long)(s->hits - nredir),
		  (unsigned long)tickhist_median(&emu), (unsigned long)tickhist_percentile(&emu, 90),
		  (unsigned long)nredir, (unsigned long)tickhist_median(redir),
		  (unsigned long)tickhist_percentile(redir, 90));
}

void probe_print_stats(void)
{
	if (!pvm)
		return;
	hv_printf("hvmon: probes: %lu int3 exits handled, %lu reflected to the guest, %lu EPT exits on probed "
		  "pages, %lu probes followed a rewrite, %lu dropped\n", (unsigned long)exits_bp_ours, (unsigned long)exits_bp_reflected,
		  (unsigned long)exits_ept_probe, (unsigned long)probes.followed, (unsigned long)probes.dropped);
	hv_printf("hvmon: probes: %lu exits retried on a rebuilt vCPU view (stale after another CPU's change), "
		  "%u vCPU views\n", (unsigned long)exits_stale, views_count());
	if (pvm->opt.probe_pt)
		hv_printf("hvmon: probes: page tables: %u table pages write-protected (%lu beyond %u), %lu writes seen, "
		  "%lu walks after a write, %lu remaps found at a write; write exit to re-walk: last %lu us, max %lu us "
		  "(waiting max %lu us, re-walk max %lu us)\n",
		  npt_guarded, (unsigned long)probes.pt.over,
		  PROBE_PT_MAX, (unsigned long)probes.pt.writes, (unsigned long)probes.pt.checks,
		  (unsigned long)probes.pt.changes, (unsigned long)tsc_us(pt_delay_last), (unsigned long)tsc_us(pt_delay_max),
		  (unsigned long)tsc_us(pt_wait_max), (unsigned long)tsc_us(pt_work_max));
	hv_printf("hvmon: probes: suspended sites: %lu returns taken, %lu entries ran the guest's bytes\n",
		  (unsigned long)probes.ret_suspended, (unsigned long)probes.guest_runs);
	hv_printf("hvmon: probes: tampering: %lu reports, %lu probes re-armed, %lu pages re-placed after a remap, "
		  "%lu new address spaces; %lu checks, median %lu TSC ticks (p90 %lu); %lu private copies of probed pages "
		  "(remap_mm); %lu private kernel halves put back, %lu seen in user mode\n", (unsigned long)probes.tampers,
		  (unsigned long)probes.rearmed, (unsigned long)probes.moves, (unsigned long)probes.newmm,
		  (unsigned long)tamper_runs, (unsigned long)tickhist_median(&tamper_ticks),
		  (unsigned long)tickhist_percentile(&tamper_ticks, 90), (unsigned long)probes.mm_remaps,
		  (unsigned long)probes.mm_restores, (unsigned long)probes.mm_user);
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
		if (site_redir_hits[i])
			probe_print_split(s, h, &site_redir_ticks[i], site_redir_hits[i]);
	}
	hv_events_print_stats();
}
