/*
 * guest — what a monitor may read of the guest: the state of the vCPU it runs
 * on (accessors; only the core touches the VMCS) and guest memory through the
 * guest's own page tables (vmm/gmem), bounded, refusing hvmon's memory.
 * Called from an exit (the guest is stopped) on the vCPU @v of that exit.
 */
#ifndef HVMON_VMM_GUEST_H
#define HVMON_VMM_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/vmx.h"

struct vcpu;

/* ---- vCPU state (SDM 24.4.1 guest register state) ---- */
static inline uint64_t vcpu_rip(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_RIP); }
static inline uint64_t vcpu_rsp(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_RSP); }
static inline uint64_t vcpu_rflags(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_RFLAGS); }
/* Current privilege level: SS.DPL (SDM 24.4.1: the CPL is SS's DPL). */
static inline unsigned vcpu_cpl(const struct vcpu *v) { (void)v; return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3; }
static inline bool vcpu_if(const struct vcpu *v) { return (vcpu_rflags(v) & X86_RFLAGS_IF) != 0; }
/* In the HLT activity state (SDM 24.4.2: activity state 1). */
static inline bool vcpu_halted(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_ACTIVITY_STATE) == 1; }
/* The descriptor-table registers (SDM 24.4.1: base and limit fields). */
static inline uint64_t vcpu_idtr_base(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_IDTR_BASE); }
static inline uint32_t vcpu_idtr_limit(const struct vcpu *v) { (void)v; return (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT); }
static inline uint64_t vcpu_gdtr_base(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_GDTR_BASE); }
static inline uint32_t vcpu_gdtr_limit(const struct vcpu *v) { (void)v; return (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT); }
/* The guest-linear address of the access that caused the exit (EPT violation
 * with qualification bit 7 set, SDM 28.2.1). */
static inline uint64_t vcpu_guest_linear(const struct vcpu *v) { (void)v; return vmread(VMCS_GUEST_LINEAR_ADDR); }
/* 5-level paging in force (the real CR4.LA57, SDM 4.1.1): the user half of a linear
 * address ends at 2^56 instead of 2^47 (gmem_user_va). */
static inline bool vcpu_la57(const struct vcpu *v) { (void)v; return (vmread(VMCS_GUEST_CR4) & X86_CR4_LA57) != 0; }
/* CR4 as the guest sees it (read shadow for the bits hvmon owns). */
uint64_t vcpu_guest_cr4(struct vcpu *v);
/* Set @bits in the real CR4 from now on (the guest's view is unchanged). */
void vcpu_force_cr4(struct vcpu *v, uint64_t bits);

/* ---- guest memory (the vCPU's current CR3) ---- */
/* Read guest-virtual memory; user addresses allowed when @user. 0 or -1. A kernel
 * read that fails on a KPTI user CR3 is retried on its kernel half. */
int guest_read(struct vcpu *v, uint64_t va, void *buf, uint32_t len, bool user);
/* A kernel virtual address through the current CR3 (its kernel half under
 * KPTI): its guest-physical address and how the guest maps it. 0 or -1. */
struct guest_xlat {
	uint64_t gpa;
	uint64_t page_size;             /* 4K, 2M, 1G */
	bool writable, nx;              /* R/W at every level; XD at some level */
};
int guest_kernel_translate(struct vcpu *v, uint64_t va, struct guest_xlat *out);
/* Read guest-physical memory (guest RAM only, never hvmon's). 0 or -1. */
int guest_read_gpa(struct vcpu *v, uint64_t gpa, void *buf, uint32_t len);
/* A pointer to the @len bytes at guest-virtual @va (user addresses allowed),
 * all on one page and all guest RAM (the checks of guest_read), read in place
 * through hvmon's map; NULL when not (the caller reads a copy instead). The
 * bytes are the guest's own and may change while read (another vCPU): bound
 * every use by @len, never by their contents. Issue 16: the exec return's stack. */
const void *guest_view(struct vcpu *v, uint64_t va, uint32_t len);
/* Read a NUL-terminated string (<= max-1 chars). 0, 1 when cut, -1 unreadable. */
int guest_read_str(struct vcpu *v, uint64_t va, char *buf, uint32_t max, bool user);
/* Read a kernel slab object (task_struct, cred, mm_struct: the kernel's direct
 * map, which Linux maps once at boot with 2 MiB / 1 GiB pages and never moves).
 * The large-page translations these reads find are kept per vCPU across exits
 * (GUEST_KOBJ_PAGES of them, one per 2 MiB slot of the address, vmm/vcpu.h), so a probe hit pays no page walk for
 * the task it reports; every read still goes through the guest-RAM check. Other
 * addresses (4 KiB pages) are read as guest_read does. 0 or -1. */
int guest_read_kobj(struct vcpu *v, uint64_t va, void *buf, uint32_t len);
/* Read kernel memory on a 4 KiB page whose mapping may change when its owner
 * goes away (a task's vmalloc'd stack: pt_regs, return addresses). The
 * translation and the page-table entry that made it are kept per vCPU across
 * exits (GUEST_KSTACK_PAGES, vmm/vcpu.h); a later read re-reads that one entry
 * and uses the translation only while the entry is unchanged, else walks again.
 * Reads crossing a page, user addresses and large pages: as guest_read. 0 or -1. */
int guest_read_kstack(struct vcpu *v, uint64_t va, void *buf, uint32_t len);
/* Write 8 bytes at a kernel address on a writable supervisor page (not a
 * probed page). A kernel-stack page goes through the translation
 * guest_read_kstack keeps (and a 4 KiB page walked here is kept for it). 0 or -1. */
int guest_write_u64(struct vcpu *v, uint64_t va, uint64_t val);
/* Read the u64 at a kernel-stack address into *old and write @val there (one
 * look-up of the translation guest_read_kstack keeps). 0, or -1 (nothing written). */
int guest_kstack_swap_u64(struct vcpu *v, uint64_t va, uint64_t val, uint64_t *old);

/* ---- guest tasks (offsets from the inferred profile, vmm/introspect.h) ---- */
struct guest_task {
	uint64_t ptr;                   /* task_struct; 0 = unknown */
	int32_t  pid, tgid;             /* -1 when unreadable */
	char     comm[16];              /* "" when unreadable */
};
#define GUEST_TASK_CURRENT 0
/* @task: a task_struct pointer, or GUEST_TASK_CURRENT for the task running on
 * @v (%gs:current_task through the kernel's GS base: the VMCS GS base in kernel
 * mode, IA32_KERNEL_GS_BASE while the guest runs user code). Fills @t.
 * Returns 0 when t->ptr and its ids are valid, 1 when only t->ptr is, -1 when
 * the task is unknown. */
int guest_task_of(struct vcpu *v, uint64_t task, struct guest_task *t);
/* An event of @type from @monitor on @v's ring, named after a task: @t (one the
 * caller read already, e.g. for its log line), or with @t NULL the task running
 * on @v, read now. A task whose ids are unreadable (pid < 0) names nothing.
 * NULL when the ring is full (counted by the event core); else fill the body and
 * hv_event_commit(v->id). (One helper for what every monitor's report did.) */
struct hv_event;
struct hv_event *hv_event_reserve_task(struct vcpu *v, unsigned type, unsigned monitor,
				       const struct guest_task *t);
/* Only the pointer of the task running on @v (one guest read: probe hits). 0 or -1. */
int guest_current_task(struct vcpu *v, uint64_t *task);
/* Read @len bytes of this vCPU's per-CPU variable at offset @off of the kernel's
 * GS base (an inferred INFER_K_PERCPU value): through guest_current_task's page
 * when it is on that page, else as guest_read_kobj (the per-CPU area is in the
 * direct map). 0 or -1. */
int guest_read_percpu(struct vcpu *v, uint64_t off, void *buf, uint32_t len);

#endif
