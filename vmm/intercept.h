/*
 * intercept — the guest events the core traps for its subscribers
 * (docs/ARCHITECTURE.md "Intercepts"; the Xen hvm_monitor_* / DRAKVUF
 * trap-kind idea): an exception vector, a MOV to CR4, a WRMSR, a
 * guest-physical page (EPT violation), an I/O port. One callback shape for
 * all. The VMX controls follow from the subscriptions: the exception bitmap
 * and the #PF error-code mask/match, the CR4 guest/host mask (per vCPU), the
 * MSR and I/O bitmaps. exit_table[] points only at core handlers, which call
 * the subscribers and then do the core's default.
 *
 * Subscribe before the first VM entry (setup), or from an exit (the guest is
 * stopped: probes subscribe their pages and #BP when placed): the controls
 * reach the VMCS of that exit's vCPU at once.
 */
#ifndef HVMON_VMM_INTERCEPT_H
#define HVMON_VMM_INTERCEPT_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

enum hv_icpt_kind {
	HV_ICPT_EXCEPTION = 0,
	HV_ICPT_CR4_WRITE,
	HV_ICPT_MSR_WRITE,
	HV_ICPT_PAGE,
	HV_ICPT_IO,
	HV_ICPT_CR0_WRITE,      /* appended (issue 15): MOV to CR0 changing a subscribed bit */
	HV_ICPT_DTR_LOAD,       /* appended (issue 15): LGDT/LIDT/LLDT/LTR (descriptor-table exiting) */
	HV_ICPT__COUNT
};

/* What the subscriber sees, and may change where noted. */
struct hv_icpt {
	enum hv_icpt_kind kind;
	union {
		struct {               /* exception or NMI exit (SDM 27.2.2) */
			uint8_t  vector;
			bool     has_error;
			bool     software;      /* INT3/INTO: re-injected as a software exception */
			uint32_t error;         /* #PF: the page-fault error code */
			uint64_t qual;          /* #PF: the linear address (CR2) */
		} exc;
		struct {               /* MOV to CR4, after the core's own checks */
			uint64_t old;           /* the guest's view before */
			uint64_t val;           /* in: what it writes; out: what it reads back */
			uint64_t force;         /* out: bits OR'ed into the real CR4 */
		} cr4;
		struct {               /* WRMSR, before it is performed */
			uint32_t msr;
			uint64_t value;
		} msr;
		struct {               /* EPT violation on a subscribed page */
			uint64_t gpa;
			uint64_t qual;          /* exit qualification (SDM Table 28-7) */
		} page;
		struct {               /* MOV to CR0 (or LMSW), after the core's #GP checks */
			uint64_t old;           /* the guest's view before */
			uint64_t val;           /* in: what it writes; out: what is performed
						 * (and what the guest reads back) */
		} cr0;
		struct {               /* LGDT/LIDT/LLDT/LTR emulated by the core (vmm/dtr.c), after every
					* check of the instruction, before the register is loaded */
			uint8_t  op;            /* enum dtr_op (vmm/dtr_insn.h): DTR_LGDT, DTR_LIDT, DTR_LLDT, DTR_LTR */
			uint16_t sel;           /* LLDT/LTR: the selector */
			uint64_t old_base;      /* the register now */
			uint32_t old_limit;
			uint64_t base;          /* what the instruction loads (LLDT with a null selector: 0/0) */
			uint32_t limit;
		} dtr;
		struct {               /* IN/OUT (not string), before anything is performed */
			uint16_t port;
			uint8_t  size;          /* 1, 2, 4 */
			bool     in;
			uint32_t value;         /* OUT: the value; IN (HV_ICPT_DONE): what the guest gets */
		} io;
	};
};

/* Return values of a subscriber. */
#define HV_ICPT_PASS 0      /* not handled: the next subscriber, then the core's default */
#define HV_ICPT_DONE 1      /* handled: nothing more (exception: not reflected; MSR: not
			     * performed; IO: not performed, RIP advanced; page: resumed) */

typedef int (*hv_icpt_fn)(struct vcpu *v, struct hv_icpt *x, void *ctx);

#define HV_MAX_ICPT 64      /* subscriptions of all kinds together (a bit each: icpt_of_kind) */

/* Exception @vector (0..31). For #PF, only faults with (error & pf_mask) ==
 * pf_match reach @fn; the VMCS filter is the widest that serves every #PF
 * subscriber (SDM 25.2 "exception bitmap", PFEC_MASK/MATCH). 0 or -1. */
int hv_intercept_exception(struct vm *vm, unsigned vector, uint32_t pf_mask, uint32_t pf_match,
			   hv_icpt_fn fn, void *ctx);
/* Every MOV to CR4 that exits; @bits join the CR4 guest/host mask, so that
 * writes changing them exit (the guest reads its own values from the read
 * shadow, x->cr4.val). */
int hv_intercept_cr4(struct vm *vm, uint64_t bits, hv_icpt_fn fn, void *ctx);
/* Every MOV to CR0 / LMSW that exits; @bits join the CR0 guest/host mask, so
 * that writes changing them exit (the read shadow is what the guest wrote, or
 * what a subscriber left in x->cr0.val). A subscriber may change x->cr0.val
 * (e.g. keep CR0.WP set); the core re-checks the result for #GP. */
int hv_intercept_cr0(struct vm *vm, uint64_t bits, hv_icpt_fn fn, void *ctx);
/* WRMSR to @msr (its write bit is set in the MSR bitmap). For MSRs that VMX
 * switches through the VMCS guest-state area (IA32_SYSENTER_CS/ESP/EIP) the
 * core's default performs the write into that field (SDM 25.4.1). */
int hv_intercept_msr_write(struct vm *vm, uint32_t msr, hv_icpt_fn fn, void *ctx);
/* Every LGDT, LIDT, LLDT and LTR (appended, issue 15): turns on
 * descriptor-table exiting (secondary control bit 2, SDM 25.6.2) on every
 * vCPU (at once on the vCPU of the calling exit, at their next exit on the
 * others), so that all eight descriptor-table instructions exit and the core
 * emulates them (vmm/dtr.c); the loads reach @fn first (HV_ICPT_DONE: not
 * performed, the guest resumes after the instruction). -1 when the processor
 * lacks the control (IA32_VMX_PROCBASED_CTLS2 allowed-1 bit 2). */
int hv_intercept_dtr(struct vm *vm, hv_icpt_fn fn, void *ctx);
/* EPT violations in the 4 KiB guest-physical page @gpa (the subscriber also
 * owns its EPT mapping). Removed by hv_intercept_page_remove. */
int hv_intercept_page(struct vm *vm, uint64_t gpa, hv_icpt_fn fn, void *ctx);
/* The same for the pages of [gpa, gpa + size) (e.g. a hidden device's BAR). */
int hv_intercept_gpa_range(struct vm *vm, uint64_t gpa, uint64_t size, hv_icpt_fn fn, void *ctx);
int hv_intercept_page_remove(struct vm *vm, uint64_t gpa, hv_icpt_fn fn, void *ctx);
/* IN/OUT to ports [port, port + n) (set in the I/O bitmap). */
int hv_intercept_io(struct vm *vm, uint16_t port, uint32_t n, hv_icpt_fn fn, void *ctx);
/* Does the I/O bitmap make guest accesses to @port exit? */
bool io_port_intercepted(const struct vm *vm, uint16_t port);

/* ---- the core's side (vmm/intercept.c) ---- */
/* Call the subscribers of @x->kind (and of its vector/msr/page/port) in
 * subscription order until one returns HV_ICPT_DONE. */
int hv_intercept_call(struct vcpu *v, struct hv_icpt *x);
/* @v's VMCS takes the controls (its start; after a change on its CPU). */
void hv_intercept_apply(struct vcpu *v);
/* vmm/vmexit.c: the controls changed: apply them to the vCPU of this CPU's exit. */
void hv_intercept_changed(struct vm *vm);

#endif
