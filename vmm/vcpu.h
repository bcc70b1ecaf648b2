/*
 * struct vm (the one guest) and struct vcpu (one per guest CPU; today only
 * the boot CPU). Per-CPU state lives here or in struct percpu, never in
 * file-scope globals, so that more vCPUs are an addition.
 */
#ifndef HVMON_VMM_VCPU_H
#define HVMON_VMM_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/vmx.h"
#include "arch/x86/percpu.h"
#include "boot/boot_info.h"
#include "vmm/e820.h"
#include "vmm/ept_map.h"
#include "vmm/options.h"
#include "vmm/introspect.h"
#include "vmm/intercept.h"
#include "vmm/monitor.h"
#include "lib/stop.h"
#include "lib/spinlock.h"
#include "vmm/gmem.h"
#include "vmm/deny.h"

struct ept_view;

/* Guest GPRs as arch/x86/vmx_entry.S saves them at the top of the CPU's
 * stack; indexed by the register numbers of exit qualifications
 * (0 = RAX ... 4 = RSP (unused: RSP is in the VMCS) ... 15 = R15). */
union guest_regs {
	struct {
		uint64_t rax, rcx, rdx, rbx, rsp_unused, rbp, rsi, rdi;
		uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	};
	uint64_t by_index[16];
};

/* VMX capabilities and the controls derived from them (machine-wide). */
struct vmx_caps {
	uint64_t basic, misc, ept_vpid_cap;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint32_t pin, proc, proc2, exit, entry;     /* derived control values */
	uint32_t ept_caps;                          /* EPT_CAP_* */
	bool nmi_window;                            /* NMI-window exiting usable (virtual NMIs on) */
	bool dtr_exit;                              /* descriptor-table exiting allowed (secondary bit 2; vmm/dtr.c) */
};

struct exit_stat {
	uint64_t count;
	uint64_t ticks;          /* TSC ticks spent in ring -1 handling this reason */
};

/* One subscription (vmm/intercept.h); the key fields of its kind are set. */
struct hv_icpt_sub {
	uint8_t  kind;                         /* enum hv_icpt_kind */
	uint8_t  vector;                       /* EXCEPTION */
	uint16_t port;  uint32_t nports;       /* IO */
	uint32_t pf_mask, pf_match;            /* EXCEPTION #PF */
	uint32_t msr;                          /* MSR_WRITE */
	uint64_t gpa, gpa_size;                /* PAGE: [gpa, gpa + gpa_size), 4 KiB aligned */
	uint64_t cr4_bits;                     /* CR4_WRITE, CR0_WRITE: the bits watched */
	hv_icpt_fn fn;                         /* NULL: free slot */
	void *ctx;
};

struct vm {
	const struct boot_info *bi;
	struct hv_options opt;
	struct vmx_caps caps;
	struct ept ept;
	uint64_t eptp;
	struct e820_entry e820[E820_MAX_ENTRIES_ZEROPAGE];   /* guest's memory map */
	uint32_t nr_e820;
	uint64_t phys_top;                     /* end of the highest memory-map entry */
	/* shared bitmaps (identical for every vCPU) */
	uint8_t *msr_bitmap;  uint64_t msr_bitmap_pa;
	uint8_t *io_bitmap;   uint64_t io_bitmap_pa;   /* two pages: A (0-0x7fff), B */
	/* EPT violation sink: hvmon memory accessed by the guest maps here */
	uint8_t *sink_page;   uint64_t sink_pa;
	uint64_t nr_ept_violations;
	uint64_t ept_mapped_top;               /* identity-mapped at boot up to here (vmm/ept.c) */
	/* guest power-off */
	uint16_t pm1a_cnt_port;                /* 0 if no ACPI */
	uint16_t pm1b_cnt_port;
	uint8_t bochs_shutdown_state;          /* bytes of "Shutdown" seen on 0x8900 */
	struct { uint16_t port; uint8_t size; uint32_t value; } power_req;   /* the guest's power-off write */
	int8_t s5_typ[2];                      /* SLP_TYPa/b of \_S5 (-1 unknown): only these power off */
	uint16_t pm1_sts_port[2];              /* PM1a/PM1b status (WAK_STS faked after a refused sleep) */
	uint32_t wake_pending;                 /* a sleep was refused: WAK_STS reads 1 until cleared (atomic) */
	uint16_t sleep_ctl_port, sleep_sts_port; /* hardware-reduced ACPI sleep registers (SystemIO), 0 if none */
	uint32_t plvl_seen;                    /* vmm/power.c: P_LVLx ports already logged (bit: port % 32) */
	uint64_t plvl_reads;                   /* P_LVL2/P_LVL3 reads (atomic) */
	uint32_t cst_seen;                     /* _CST / I/O MWAIT ports already logged (bit: port % 32) */
	uint64_t cst_reads;                    /* their reads (atomic) */
	/* intercepts (vmm/intercept.h) and the controls they imply */
	struct hv_icpt_sub icpt[HV_MAX_ICPT];
	uint32_t nr_icpt;                      /* slots in use are below this */
	uint64_t icpt_of_kind[HV_ICPT__COUNT]; /* bit i: icpt[i] is in use, of that kind (dispatch) */
	uint32_t exc_bitmap, pf_mask, pf_match;
	uint64_t cr4_icpt_bits;
	uint64_t cr0_icpt_bits;                /* appended (issue 15): CR0 subscribers' bits */
	bool dtr_exiting;                      /* appended (issue 15): descriptor-table exiting (hv_intercept_dtr) */
	uint32_t icpt_gen;                     /* bumped when the controls change */
	/* monitors (vmm/monitor.h): bit i = hv_monitors[i] is set up and running */
	uint32_t mon_active;
	/* guest boot */
	uint64_t guest_boot_area;              /* GDT, boot_params, cmdline, page tables */
	uint64_t kernel_load;
	uint64_t guest_entry_tsc;              /* TSC at first VM entry */
	uint32_t nr_vcpus;
	struct vcpu *vcpus[HV_MAX_CPUS];
	hv_spinlock_t ept_lock;                /* changes to ept (several CPUs take EPT violations) */
	/* guest kernel profile, inferred at the first LSTAR write (vmm/introspect.h) */
	struct vm_profile profile;
};

struct vcpu {
	struct vm *vm;
	struct percpu *cpu;
	uint32_t id;
	union guest_regs *regs;                /* at the top of cpu->stack */
	void *vmcs;  uint64_t vmcs_pa;
	/* the exit being handled */
	uint32_t exit_reason;                  /* full field */
	uint64_t exit_qual;
	uint64_t exit_tsc;                     /* TSC when the handler started */
	struct exit_stat stats[EXIT_REASON_MAX];
	uint64_t nr_exits;
	uint64_t exc_exits[32];                /* exception/NMI exits by vector (vmexit.c exc_note) */
	uint64_t lstar_writes;
	uint32_t icpt_gen;                     /* vm->icpt_gen applied to this VMCS */
	bool icpt_started;                     /* hv_intercept_apply ran: its VMCS follows changes */
	uint32_t halted_ms;                    /* vmm/power.c: time in HLT with IF=0 */
	bool cstate_wait;                      /* vmm/cstate_vmx.c: in a C-state port wait (HLT state) */
	uint64_t cstate_t0;                    /* TSC when it began */
	uint64_t denied[HV_DENY__COUNT];       /* vmm/deny.c: refused requests by kind */
	int64_t tsc_offset;                    /* vmm/msr_guard.c: guest TSC - host TSC (VMCS) */
	uint64_t tsc_adjust;                   /* the guest's IA32_TSC_ADJUST (emulated) */
	bool tsc_adjust_valid;
	uint8_t spec_entry;                    /* vmm/spec_vmx.c: enum spec_entry */
	uint64_t *spec_msrs;                   /* vmm/spec_vmx.c: VMCS MSR lists (SPEC_CTRL), or NULL */
	uint64_t spec_seen, spec_seen_exit;    /* spec_watch: the guest's value last seen, since that exit */
	uint32_t spec_watch_n;                 /* spec_watch: seconds it has been unchanged */
	void *mon_state[HV_MAX_MONITORS];      /* per-vCPU monitor state (vmm/monitor.h) */
	/* guest-virtual translations of the exit being handled (guest_read*):
	 * valid while gtc_exit == nr_exits, i.e. reset at every exit */
	struct gmem_tc gtc;
	uint64_t gtc_exit;
	/* SMP (vmm/smp.c) */
	uint32_t apic_id;                      /* physical local APIC id of its CPU */
	volatile uint32_t sipi;                /* the guest's INIT/SIPI for it (SMP_SIPI_*) */
	volatile uint32_t run_state;           /* SMP_VCPU_* */
	volatile uint32_t call_done;           /* last cross-CPU call generation it ran */
	uint64_t nr_starts;                    /* guest SIPIs that started it */
	uint64_t nr_apic_writes;               /* emulated xAPIC writes (ICR interception) */
	uint64_t nr_kick_exits;                /* NMI exits that were hvmon's kicks (arch/x86/nmi.h) */
	uint64_t nr_guest_nmis;                /* the guest's NMIs hvmon injected (seen in an NMI exit or in ring -1) */
	uint32_t call_activity;                /* guest activity state when it answered the last call */
	/* the page of %gs:current_task, kept across exits (guest_current_task):
	 * valid while the kernel GS base is pcpu_gs */
	uint64_t pcpu_gs, pcpu_page, pcpu_gpa;
	/* the kernel GS base as read in exit kgs_exit (kernel_gs, vmm/guest.c) */
	uint64_t kgs, kgs_exit;
	/* large pages of the kernel's direct map that held slab objects
	 * (guest_read_kobj, vmm/guest.h), kept across exits; direct-mapped by
	 * the 2 MiB slot of the address (one look-up per read: issue 16) */
#define GUEST_KOBJ_PAGES 64
	struct { uint64_t va, size, gpa; bool ram; } kobj[GUEST_KOBJ_PAGES];   /* ram: all guest RAM */
	/* 4 KiB kernel pages (stacks: pt_regs, return addresses) with the entry
	 * that mapped them (guest_read_kstack), kept across exits; direct-mapped
	 * by the page number */
#define GUEST_KSTACK_PAGES 16
	struct { uint64_t va, gpa, pte_pa, pte; bool writable; } kstk[GUEST_KSTACK_PAGES];
	/* the kernel-stack page last checked in this exit (kstack_cached): valid
	 * while kstk_memo.exit == nr_exits; its leaf is not re-read again in the
	 * same exit unless hvmon itself wrote the page that holds the leaf */
	struct { uint64_t exit, va, gpa, pte_page; bool writable, ram; } kstk_memo;
	/* its own EPT root over vm->ept (vmm/ept_view.h): the probes' per-vCPU
	 * views (vmm/probe_vmx.c); NULL until the first probe, then its EPTP */
	struct ept_view *ept_view;
	uint32_t probe_gen;                    /* probe views generation it was built for */
};

/* A monitor's state on this vCPU (vmm/monitor.h), NULL when it is off or has none. */
static inline void *hv_vcpu_state(const struct vcpu *v, const struct hv_monitor_ops *ops)
{
	return ops->slot ? v->mon_state[ops->slot - 1] : (void *)0;
}

/* Exit handlers return HV_RESUME (guest continues) or HV_FATAL. */
#define HV_RESUME 0
#define HV_FATAL  (-1)

/* ---- helpers used by every exit handler (vmm/vmexit.c) ---- */
void vcpu_skip_instruction(struct vcpu *v);
void vcpu_inject_exception(struct vcpu *v, unsigned int vector, bool has_err, uint32_t err);
static inline void vcpu_inject_ud(struct vcpu *v) { vcpu_inject_exception(v, X86_VEC_UD, false, 0); }
static inline void vcpu_inject_gp(struct vcpu *v) { vcpu_inject_exception(v, X86_VEC_GP, true, 0); }

/* vmm/spec_vmx.c: speculation hygiene before VM entry (issue 17) */
void spec_vcpu_setup(struct vcpu *v);
void spec_before_entry(struct vcpu *v);
void spec_print_stats(struct vm *vm);
void power_print_stats(struct vm *vm);   /* vmm/power.c: C-state port reads */
/* vmm/cstate_vmx.c: the HLT-like wait of a C-state port read (vmm/cstate.h) */
bool cstate_wait_begin(struct vcpu *v);
int external_intr_exit(struct vcpu *v);
int cstate_wait_setup(void);
void cstate_print_stats(void);

/* vmm/reinject.c: events across exits */
void vcpu_reinject_idt_vectoring(struct vcpu *v);
bool vcpu_nmi_injectable(struct vcpu *v);
/* vmm/reinject.c: NMIs (arch/x86/nmi.h) — an NMI exit, the NMI-window exit,
 * and the delivery of the guest's owed NMIs before an entry */
int vcpu_nmi_exit(struct vcpu *v);
int nmi_window_exit(struct vcpu *v);
void vcpu_deliver_nmi(struct vcpu *v);
void vcpu_inject_pf(struct vcpu *v, uint64_t addr, uint32_t err);
/* vmm/dtr.c: exit reasons 46/47 (descriptor-table exiting, hv_intercept_dtr) */
int dtr_exit(struct vcpu *v);
void dtr_print_stats(void);

/* Full guest state on the console (fatal paths, crash reports). */
void vcpu_dump_state(struct vcpu *v, const char *why);

/* Fatal guest event: hv_stop(HV_STOP_GUEST_CRASH): dump, then halt or reset per on_guest_crash=. */
static inline void __attribute__((noreturn)) vcpu_guest_crash(struct vcpu *v, const char *why)
{
	hv_stop(HV_STOP_GUEST_CRASH, v, why);
}

/* ---- vmm entry points (one file each) ---- */
/* vmm/vmx.c */
int vmx_probe_and_derive(struct vmx_caps *caps);       /* BSP: checks + controls */
int vmx_enable_on_cpu(struct percpu *p, const struct vmx_caps *caps);
int vmx_instruction_exit(struct vcpu *v);
/* vmm/vmcs.c */
int vmcs_setup(struct vcpu *v);
void __attribute__((noreturn)) vcpu_run(struct vcpu *v);
void vmx_report_entry_failure(struct vcpu *v, const char *what);
/* vmm/ept.c */
int ept_setup(struct vm *vm);
int ept_violation_exit(struct vcpu *v);
/* hvmon-owned memory touched by the guest: report, map the sink page. HV_RESUME/HV_FATAL. */
int ept_deny_access(struct vcpu *v, uint64_t gpa, uint64_t q);
int ept_misconfig_exit(struct vcpu *v);
bool vm_is_hvmon_memory(const struct vm *vm, uint64_t pa, uint64_t len);
bool vm_is_guest_ram(const struct vm *vm, uint64_t pa, uint64_t len);
int vm_guest_ram_read(void *ctx, uint64_t gpa, void *buf, uint32_t len);   /* ctx = struct vm * */
/* Pointer to [gpa, gpa + len) through hvmon's identity map when all of it is guest
 * RAM (vm_is_guest_ram), else NULL: zero-copy reads (gvread_view). ctx = struct vm * */
const uint8_t *vm_guest_ram_ptr(void *ctx, uint64_t gpa, uint64_t len);
/* vmm/cpuid.c */
int cpuid_exit(struct vcpu *v);
/* vmm/msr.c */
int msr_setup(struct vm *vm);
int rdmsr_exit(struct vcpu *v);
int wrmsr_exit(struct vcpu *v);
/* vmm/cr.c */
int cr_access_exit(struct vcpu *v);
int xsetbv_exit(struct vcpu *v);
uint64_t vcpu_guest_cr0(struct vcpu *v);   /* as the guest sees it */
uint64_t vcpu_guest_cr4(struct vcpu *v);
/* vmm/insn.c */
int invd_exit(struct vcpu *v);
int wbinvd_exit(struct vcpu *v);
int getsec_exit(struct vcpu *v);
int monitor_mwait_exit(struct vcpu *v);
/* vmm/io.c */
int io_setup(struct vm *vm);
int io_exit(struct vcpu *v);
/* vmm/power.c */
void __attribute__((noreturn)) vm_power_off(struct vcpu *v, uint16_t port, uint32_t value, unsigned size);
int power_setup(struct vm *vm);     /* after io_setup, tick_init: power-off ports, the guest's final halt */
/* vmm/stop.c */
void __attribute__((noreturn)) machine_reset(void);
void vm_print_exit_stats(struct vm *vm);
void power_bochs_exit(struct vm *vm, bool force);   /* "Shutdown" to port 0x8900 if force or bochs_exit=on */
/* vmm/acpi.c */
int acpi_find_pm1_cnt(uint64_t rsdp, uint16_t *pm1a, uint16_t *pm1b);
struct acpi_sleep_regs { uint16_t pm1a_evt, pm1b_evt; const uint8_t *aml; uint32_t aml_len; };
int acpi_find_sleep_regs(uint64_t rsdp, struct acpi_sleep_regs *r);

/* vmm/msr_guard.c: MSR_CHECK lines of the MSR table (0, or -1 = #GP) */
int msr_check_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int msr_check_write(struct vcpu *v, uint32_t msr, uint64_t val);
const void *acpi_find_table(uint64_t rsdp, const char *sig);   /* checksummed table or NULL */
const void *acpi_find_table_nth(uint64_t rsdp, const char *sig, unsigned nth);   /* the nth such table */
/* CPUs the MADT lists as usable (enabled or online-capable), at least 1; 1 without a
 * MADT, HV_MAX_CPUS when it does not parse (smp_boot_aps refuses it later) */
unsigned acpi_madt_cpus(uint64_t rsdp);
/* vmm/guest_boot.c */
int guest_boot_prepare(struct vm *vm, struct vcpu *bsp);
/* The guest state every start shares (boot CPU and an AP's SIPI): RFLAGS,
 * DR7, DEBUGCTL, PAT, SYSENTER, active, nothing blocked, GPRs 0. */
void vcpu_reset_common_state(struct vcpu *v);
/* vmm/vmexit.c */
const char *exit_reason_name(uint32_t basic);
int exception_exit(struct vcpu *v);        /* exception bitmap exits: subscribers, else reflected */
/* Deliver the exception of an exception exit to the guest unchanged. */
void vcpu_reflect_exception(struct vcpu *v, const struct hv_icpt *x);

#endif
