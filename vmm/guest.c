/*
 * The guest-access module (vmm/guest.h): guest memory through the guest's
 * page tables, the current task, vCPU state the monitors may change.
 */
#include <string.h>
#include "vmm/guest.h"
#include "events/event.h"
#include "vmm/vcpu.h"
#include "vmm/gmem.h"
#include "vmm/probe.h"
#include "vmm/introspect.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

/* Copy from guest RAM already checked (a kept translation): 8-byte reads
 * (pointers, offsets) inline, no call */
static inline void copy_in(void *buf, const void *src, uint32_t len)
{
	if (len == 8)
		__builtin_memcpy(buf, src, 8);
	else
		memcpy(buf, src, len);
}

/* Monitors' reads in one exit walk the same few pages (task_struct, pt_regs,
 * the user stack) again and again: cache their translations for that exit only
 * (the guest cannot change its page tables before the next VM entry). */
static struct gmem_tc *exit_tc(struct vcpu *v)
{
	if (v->gtc_exit != v->nr_exits) {
		gmem_tc_reset(&v->gtc);
		v->gtc_exit = v->nr_exits;
	}
	return &v->gtc;
}

static void mmu_for(struct vcpu *v, struct gmem_mmu *m, uint64_t cr3)
{
	*m = (struct gmem_mmu){
		.read_phys = vm_guest_ram_read,
		.ctx = v->vm,
		.cr3 = cr3,
		.la57 = (vmread(VMCS_GUEST_CR4) & X86_CR4_LA57) != 0,
		.nxe = (vmread(VMCS_GUEST_EFER) & X86_EFER_NXE) != 0,
		.tc = exit_tc(v),
	};
}

/* KPTI: a user CR3 is the kernel CR3 with bit 12 set (PTI_USER_PGTABLE_BIT; each
 * mm's PGD pair is 8 KiB-aligned, kernel half first) and maps only the entry
 * trampoline of the kernel. A kernel read that fails on it (an exit taken in user
 * mode, e.g. the hang monitor's sample) is retried on the kernel half. */
#define PTI_USER_PGTABLE_BIT (1ULL << 12)

int guest_read(struct vcpu *v, uint64_t va, void *buf, uint32_t len, bool user)
{
	struct gmem_mmu m;
	uint64_t cr3 = vmread(VMCS_GUEST_CR3);
	mmu_for(v, &m, cr3);
	if (!gmem_read(&m, va, buf, len, user ? 0 : GMEM_KERNEL_ONLY, NULL))
		return 0;
	if (user || !(cr3 & PTI_USER_PGTABLE_BIT))
		return -1;
	mmu_for(v, &m, cr3 & ~PTI_USER_PGTABLE_BIT);
	return gmem_read(&m, va, buf, len, GMEM_KERNEL_ONLY, NULL) ? -1 : 0;
}

const void *guest_view(struct vcpu *v, uint64_t va, uint32_t len)
{
	struct gmem_mmu m;
	struct gmem_walk w;
	if (!len || len > 0x1000 - (va & 0xfff))
		return NULL;
	mmu_for(v, &m, vmread(VMCS_GUEST_CR3));
	if (gmem_translate(&m, va, 0, &w))
		return NULL;
	return vm_guest_ram_ptr(v->vm, w.gpa, len);
}

int guest_read_str(struct vcpu *v, uint64_t va, char *buf, uint32_t max, bool user)
{
	struct gmem_mmu m;
	mmu_for(v, &m, vmread(VMCS_GUEST_CR3));
	int rc = gmem_read_str(&m, va, buf, max, user ? 0 : GMEM_KERNEL_ONLY, NULL);
	if (rc == GMEM_ERR_TOO_LONG)
		return 1;
	if (rc) {
		if (max)
			buf[0] = 0;
		return -1;
	}
	return 0;
}

/* The kernel's GS base: the VMCS GS base in kernel mode; while the guest runs
 * user code IA32_KERNEL_GS_BASE holds it (SWAPGS; hvmon never touches that MSR). */
static uint64_t kernel_gs(struct vcpu *v)
{
	/* once per exit: a probe hit asks for current and the top of stack */
	if (v->kgs_exit == v->nr_exits && v->kgs)
		return v->kgs;
	uint64_t gs = vmread(VMCS_GUEST_GS_BASE);
	if (!(gs >> 63) || vcpu_cpl(v) != 0)
		gs = rdmsr(MSR_KERNEL_GS_BASE);
	v->kgs = gs >> 63 ? gs : 0;
	v->kgs_exit = v->nr_exits;
	return v->kgs;
}

/* Kernel VA -> GPA through the current CR3 (its kernel half under KPTI). */
static int kernel_walk(struct vcpu *v, uint64_t va, struct gmem_walk *w)
{
	struct gmem_mmu m;
	uint64_t cr3 = vmread(VMCS_GUEST_CR3);
	mmu_for(v, &m, cr3);
	if (!gmem_translate(&m, va, GMEM_KERNEL_ONLY, w))
		return 0;
	if (!(cr3 & PTI_USER_PGTABLE_BIT))
		return -1;
	mmu_for(v, &m, cr3 & ~PTI_USER_PGTABLE_BIT);
	return gmem_translate(&m, va, GMEM_KERNEL_ONLY, w) ? -1 : 0;
}

int guest_kernel_translate(struct vcpu *v, uint64_t va, struct guest_xlat *out)
{
	struct gmem_walk w;
	if (kernel_walk(v, va, &w))
		return -1;
	out->gpa = w.gpa;
	out->page_size = w.page_size;
	out->writable = w.writable;
	out->nx = w.nx;
	return 0;
}

int guest_read_gpa(struct vcpu *v, uint64_t gpa, void *buf, uint32_t len)
{
	return vm_guest_ram_read(v->vm, gpa, buf, len) ? -1 : 0;
}

static int kernel_gpa(struct vcpu *v, uint64_t va, uint64_t *gpa)
{
	struct gmem_walk w;
	if (kernel_walk(v, va, &w))
		return -1;
	*gpa = w.gpa;
	return 0;
}

/* the slot of @va in the vCPU's direct-mapped kobj table */
static unsigned kobj_slot(uint64_t va)
{
	return (unsigned)(va >> 21) % GUEST_KOBJ_PAGES;
}

int guest_read_kobj(struct vcpu *v, uint64_t va, void *buf, uint32_t len)
{
	if (!len || len > 4096 || va + len < va)
		return -1;
	unsigned i = kobj_slot(va);
	uint64_t off = va - v->kobj[i].va;
	if (off < v->kobj[i].size && len <= v->kobj[i].size - off) {
		if (!v->kobj[i].ram)      /* a page that is not all guest RAM: check each read */
			return vm_guest_ram_read(v->vm, v->kobj[i].gpa + off, buf, len);
		copy_in(buf, hv_phys_to_ptr(v->kobj[i].gpa + off), len);
		return 0;
	}
	struct gmem_walk w;
	if (!kernel_walk(v, va, &w) && w.page_size >= (2ULL << 20)) {
		v->kobj[i].va = va & ~(w.page_size - 1);
		v->kobj[i].gpa = w.gpa & ~(w.page_size - 1);
		v->kobj[i].size = w.page_size;
		/* checked once (the RAM map never changes after boot) */
		v->kobj[i].ram = vm_is_guest_ram(v->vm, v->kobj[i].gpa, w.page_size);
		off = va - v->kobj[i].va;
		if (len <= w.page_size - off)
			return vm_guest_ram_read(v->vm, w.gpa, buf, len);
	}
	return guest_read(v, va, buf, len, false);
}

/* Remember the kernel-stack page just checked for the rest of this exit: a
 * probe hit touches the same page several times (the saved user registers,
 * the caller's arguments, the return-address swap, the emulated push), and
 * within one exit the guest does not run on this vCPU, so only hvmon's own
 * write into the page holding the leaf entry can change the translation
 * (kstack_wrote forgets it then). Issue 16: one leaf check per page per hit. */
static void kstack_memo(struct vcpu *v, uint64_t page, uint64_t gpa, uint64_t pte_pa, bool writable)
{
	v->kstk_memo.exit = v->nr_exits;
	v->kstk_memo.va = page;
	v->kstk_memo.gpa = gpa;
	v->kstk_memo.pte_page = pte_pa & ~0xfffULL;
	v->kstk_memo.writable = writable;
	/* the whole page is guest RAM (the RAM map never changes): the reads and
	 * writes of this exit on it need no check each */
	v->kstk_memo.ram = vm_is_guest_ram(v->vm, gpa, 0x1000);
}

/* A host pointer to kernel-stack page @page when the memo of this exit holds
 * it and all of it is guest RAM, else NULL. */
static uint8_t *kstack_memo_ram(struct vcpu *v, uint64_t page)
{
	if (v->kstk_memo.exit == v->nr_exits && v->kstk_memo.va == page && v->kstk_memo.ram)
		return hv_phys_to_ptr(v->kstk_memo.gpa);
	return NULL;
}

/* hvmon wrote guest RAM at @gpa: forget the memo if that was its leaf's page */
static void kstack_wrote(struct vcpu *v, uint64_t gpa)
{
	if ((gpa & ~0xfffULL) == v->kstk_memo.pte_page)
		v->kstk_memo.exit = ~0ULL;
}

/* The kernel-stack page of @va (kernel half, 4 KiB leaf) as kept across exits:
 * its guest-physical page, or -1 when it is not kept or its leaf entry changed
 * (then it is dropped and the caller walks). Linux never moves a live kernel
 * stack; a freed one has its entry cleared. */
static int kstack_cached(struct vcpu *v, uint64_t page, uint64_t *gpa, bool *writable)
{
	uint64_t pte;
	if (v->kstk_memo.exit == v->nr_exits && v->kstk_memo.va == page) {
		*gpa = v->kstk_memo.gpa;
		*writable = v->kstk_memo.writable;
		return 0;
	}
	unsigned i = (unsigned)(page >> 12) % GUEST_KSTACK_PAGES;
	if (v->kstk[i].va != page)
		return -1;
	if (!vm_guest_ram_read(v->vm, v->kstk[i].pte_pa, &pte, 8) && pte == v->kstk[i].pte) {
		*gpa = v->kstk[i].gpa;
		*writable = v->kstk[i].writable;
		kstack_memo(v, page, *gpa, v->kstk[i].pte_pa, *writable);
		return 0;
	}
	v->kstk[i].va = 0;                        /* stale: walk again */
	return -1;
}

/* keep the translation of a 4 KiB kernel-stack page the walk @w found */
static void kstack_keep(struct vcpu *v, uint64_t page, const struct gmem_walk *w)
{
	if (w->page_size != 0x1000)
		return;
	unsigned i = (unsigned)(page >> 12) % GUEST_KSTACK_PAGES;
	v->kstk[i].va = page;
	v->kstk[i].gpa = w->gpa & ~0xfffULL;
	v->kstk[i].pte_pa = w->leaf_pa;
	v->kstk[i].pte = w->leaf;
	v->kstk[i].writable = w->writable;
	kstack_memo(v, page, v->kstk[i].gpa, w->leaf_pa, w->writable);
}

int guest_read_kstack(struct vcpu *v, uint64_t va, void *buf, uint32_t len)
{
	uint64_t page = va & ~0xfffULL, off = va & 0xfff, gpa;
	bool wr;
	if (!(va >> 63) || !len || len > 0x1000 - off)
		return guest_read(v, va, buf, len, false);
	if (!kstack_cached(v, page, &gpa, &wr)) {
		const uint8_t *p = kstack_memo_ram(v, page);
		if (p) {
			copy_in(buf, p + off, len);
			return 0;
		}
		return vm_guest_ram_read(v->vm, gpa | off, buf, len);
	}
	struct gmem_walk w;
	if (kernel_walk(v, va, &w))
		return guest_read(v, va, buf, len, false);   /* the plain path says why */
	kstack_keep(v, page, &w);
	return vm_guest_ram_read(v->vm, w.gpa, buf, len);
}

/* Probe emulation's push and the tracer's return-address swap write the
 * kernel stack at every hit: through the kernel-stack translation kept across
 * exits (issue 16: the walk was most of a clone entry's cost), else a walk of
 * the current CR3 (whose 4 KiB result is kept). Writable on every level of the
 * walk that made the translation; the leaf is re-checked at each use (a guest
 * that later write-protects the page above the leaf only gets its own RAM
 * written, never hvmon's: the guest-RAM and probed-page checks below). */
int guest_write_u64(struct vcpu *v, uint64_t va, uint64_t val)
{
	uint64_t page = va & ~0xfffULL, gpa;
	bool writable;
	if (va & 7)                       /* aligned: never crosses a page */
		return -1;
	if (!(va >> 63) || kstack_cached(v, page, &gpa, &writable)) {
		struct gmem_mmu m;
		struct gmem_walk w;
		mmu_for(v, &m, vmread(VMCS_GUEST_CR3));
		if (gmem_translate(&m, va, GMEM_KERNEL_ONLY, &w))
			return -1;
		if (va >> 63)
			kstack_keep(v, page, &w);
		gpa = w.gpa & ~0xfffULL;
		writable = w.writable;
	}
	gpa |= va & 0xfff;
	if (!writable || !vm_is_guest_ram(v->vm, gpa, 8) || probe_gpa_probed(gpa))
		return -1;
	__builtin_memcpy(hv_phys_to_ptr(gpa), &val, 8);
	gmem_tc_reset(exit_tc(v));        /* the page written might be a page table */
	kstack_wrote(v, gpa);
	return 0;
}

/* Read the 8 bytes at a kernel-stack address and write @val there, with one
 * look-up of the kept translation (the tracer's return-address swap: issue 16,
 * the clone entry). The same checks as guest_read_kstack + guest_write_u64. */
int guest_kstack_swap_u64(struct vcpu *v, uint64_t va, uint64_t val, uint64_t *old)
{
	uint64_t page = va & ~0xfffULL, gpa;
	bool writable;
	if ((va & 7) || !(va >> 63) || kstack_cached(v, page, &gpa, &writable))
		return guest_read_kstack(v, va, old, 8) || guest_write_u64(v, va, val) ? -1 : 0;
	gpa |= va & 0xfff;
	if (!writable || (!kstack_memo_ram(v, page) && !vm_is_guest_ram(v->vm, gpa, 8)) ||
	    probe_gpa_probed(gpa))
		return -1;
	__builtin_memcpy(old, hv_phys_to_ptr(gpa), 8);
	__builtin_memcpy(hv_phys_to_ptr(gpa), &val, 8);
	gmem_tc_reset(exit_tc(v));        /* the page written might be a page table */
	kstack_wrote(v, gpa);
	return 0;
}

/* introspect_have + introspect_value in one inline look-up (issue 16: a probe
 * hit asks for half a dozen parameters; this file sees struct vm). The same
 * rules as vmm/introspect.c: a parameter counts once the inference ran and
 * found it. */
static inline bool prof_get(const struct vm *vm, enum infer_param p, uint64_t *val)
{
	const struct vm_profile *pr = &vm->profile;
	if (!pr->ran || (unsigned)p >= INFER_NPARAMS || !pr->p.p[p].found)
		return false;
	*val = pr->p.p[p].value;
	return true;
}

/*
 * %gs:current_task, read at every probe hit. The per-CPU area does not move
 * while the kernel runs (set up once at boot, before the first LSTAR write that
 * starts the monitors; Linux never remaps it), so the translation of its page is
 * kept per vCPU across exits, keyed by the kernel GS base, and each hit pays a
 * bounded physical read instead of a page walk. The kept page was checked as
 * guest RAM when it was kept (the RAM map never changes after boot); a guest
 * that remapped that page would only keep hvmon reading the page the kernel set
 * up (and %gs:current_task is guest data either way).
 */
int guest_current_task(struct vcpu *v, uint64_t *task)
{
	uint64_t gs, t, va, off;
	if (!prof_get(v->vm, INFER_P_PCPU_CURRENT_TASK, &off) || !(gs = kernel_gs(v)))
		return -1;
	va = gs + off;
	if ((va & 0xfff) > 0x1000 - 8) {          /* crosses a page: the plain way */
		if (guest_read(v, va, &t, 8, false))
			return -1;
	} else {
		if (v->pcpu_gs != gs || v->pcpu_page != (va & ~0xfffULL)) {
			uint64_t gpa;
			if (kernel_gpa(v, va & ~0xfffULL, &gpa))
				return -1;
			if (!vm_is_guest_ram(v->vm, gpa & ~0xfffULL, 0x1000))
				return -1;
			v->pcpu_gs = gs;
			v->pcpu_page = va & ~0xfffULL;
			v->pcpu_gpa = gpa & ~0xfffULL;
		}
		/* the kept page was checked as guest RAM when it was kept */
		copy_in(&t, hv_phys_to_ptr(v->pcpu_gpa | (va & 0xfff)), 8);
	}
	if (!(t >> 63))
		return -1;
	*task = t;
	return 0;
}

int guest_read_percpu(struct vcpu *v, uint64_t off, void *buf, uint32_t len)
{
	uint64_t gs = kernel_gs(v), va = gs + off;
	if (!gs || va < gs || !len || len > 0x1000)
		return -1;
	/* the page of %gs:current_task that guest_current_task keeps across exits:
	 * on 6.1+ pcpu_hot/top_of_stack share it, so a probe hit pays no walk */
	if (v->pcpu_gs == gs && v->pcpu_page == (va & ~0xfffULL) && (va & 0xfff) + len <= 0x1000) {
		copy_in(buf, hv_phys_to_ptr(v->pcpu_gpa | (va & 0xfff)), len);   /* checked when kept */
		return 0;
	}
	return guest_read_kobj(v, va, buf, len);
}

/* pid and tgid: one read when they are adjacent (Linux: pid_t pid; pid_t tgid;) */
static int read_ids(struct vcpu *v, uint64_t task, uint64_t pid_off, uint64_t tgid_off,
		    struct guest_task *t)
{
	int32_t ids[2];
	if (tgid_off == pid_off + 4) {
		if (guest_read_kobj(v, task + pid_off, ids, 8))
			return -1;
		t->pid = ids[0];
		t->tgid = ids[1];
		return 0;
	}
	return guest_read_kobj(v, task + pid_off, &t->pid, 4) ||
	       guest_read_kobj(v, task + tgid_off, &t->tgid, 4) ? -1 : 0;
}

int guest_task_of(struct vcpu *v, uint64_t task, struct guest_task *t)
{
	const struct vm *vm = v->vm;
	uint64_t pid_off, tgid_off, comm_off;
	t->ptr = 0;
	t->pid = t->tgid = -1;
	t->comm[0] = 0;
	if (task == GUEST_TASK_CURRENT && guest_current_task(v, &task))
		return -1;
	t->ptr = task;
	/* straight into @t: on a failed read the ids are reset below */
	if (!prof_get(vm, INFER_P_TASK_PID, &pid_off) || !prof_get(vm, INFER_P_TASK_TGID, &tgid_off) ||
	    !prof_get(vm, INFER_P_TASK_COMM, &comm_off) || read_ids(v, task, pid_off, tgid_off, t) ||
	    guest_read_kobj(v, task + comm_off, t->comm, 16)) {
		t->pid = t->tgid = -1;
		t->comm[0] = 0;
		return 1;
	}
	t->comm[15] = 0;
	return 0;
}

void vcpu_force_cr4(struct vcpu *v, uint64_t bits)
{
	(void)v;
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | bits);
}

struct hv_event *hv_event_reserve_task(struct vcpu *v, unsigned type, unsigned monitor,
				       const struct guest_task *t)
{
	struct guest_task cur;
	if (!t) {
		guest_task_of(v, GUEST_TASK_CURRENT, &cur);   /* pid -1 when unreadable */
		t = &cur;
	}
	struct hv_event *ev = hv_event_reserve(v->id, type, monitor);
	if (ev && t->pid >= 0)
		hv_event_set_task(ev, t->pid, t->tgid, t->comm, sizeof(t->comm));
	return ev;
}
