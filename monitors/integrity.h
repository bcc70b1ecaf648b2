/*
 * integrity — the kernel integrity monitor (issue 15, docs/MONITORS.md
 * "Integrity monitor"): registers a kernel sets once and a rootkit changes.
 *
 * - IA32_LSTAR, IA32_SYSENTER_CS/EIP: the first value written (the boot CPU's,
 *   in syscall_init) is the baseline of every vCPU; IA32_SYSENTER_ESP (a per-CPU
 *   entry stack) has one baseline per vCPU. A later write of another value is
 *   event syscall_hook; with integrity_action=block it is not performed.
 * - CR0.WP: in the CR0 guest/host mask; a MOV to CR0 that clears it (paging
 *   staying on) after boot is done is event cr0_wp; with block the real CR0 and
 *   the read shadow keep WP set.
 * - IDTR/GDTR: sampled on every vCPU's 100 ms tick once boot is done; a base or
 *   limit other than the vCPU's baseline (its first sample in user mode, taken
 *   again after the guest restarts the vCPU) is event idt_write (reported,
 *   never blocked).
 * "Boot done": the first tick that finds a vCPU at CPL 3 — user mode runs only
 * after the kernel has finished its init (mark_rodata_ro, free_initmem) and
 * started init; hvmon sees it from the VMCS, not from guest memory.
 * Pure logic here (monitors/integrity_core.c, host-tested by
 * tests/unit/test_integrity.c); ring -1 in monitors/integrity.c.
 */
#ifndef HVMON_MONITORS_INTEGRITY_H
#define HVMON_MONITORS_INTEGRITY_H

#include <stdbool.h>
#include <stdint.h>

#define INTEG_MSR_SYSENTER_CS  0x174u
#define INTEG_MSR_SYSENTER_ESP 0x175u
#define INTEG_MSR_SYSENTER_EIP 0x176u
#define INTEG_MSR_LSTAR        0xc0000082u

enum integ_reg { INTEG_LSTAR = 0, INTEG_SYSENTER_CS, INTEG_SYSENTER_ESP, INTEG_SYSENTER_EIP, INTEG_NREG };

/* The watched MSR's index (enum integ_reg), or -1. */
int integ_msr_index(uint32_t msr);
uint32_t integ_msr_of(unsigned idx);
const char *integ_reg_name(unsigned idx);        /* "lstar", "sysenter_cs", ... */
/* Does one baseline serve every vCPU (LSTAR, CS, EIP) or one per vCPU (ESP)? */
bool integ_reg_per_vcpu(unsigned idx);

struct integ_baseline {
	uint8_t  set;            /* 0: no write seen yet */
	uint64_t value;
};

enum integ_verdict {
	INTEG_SAME = 0,          /* the baseline value again (e.g. S3 resume, an AP) */
	INTEG_FIRST,             /* the first write: it becomes the baseline */
	INTEG_CHANGED,           /* another value: a hook */
};
/* A write of @value to a register with baseline @b (taken atomically: several
 * vCPUs may write at once). */
enum integ_verdict integ_check_write(struct integ_baseline *b, uint64_t value);

#define INTEG_CR0_WP (1ULL << 16)
#define INTEG_CR0_PG (1ULL << 31)
/* A MOV to CR0 from @old to @val: does it clear WP with paging on? */
bool integ_cr0_clears_wp(uint64_t old, uint64_t val);

/* A descriptor-table register sample against the vCPU's baseline. */
struct integ_dtr {
	uint8_t  set;
	uint8_t  reported;       /* the current deviation was reported */
	uint32_t limit;
	uint64_t base;
	uint32_t last_limit;     /* the deviation last reported */
	uint64_t last_base;
};
/* A sample of the register, taken at CPL 3 when @user. The baseline is the
 * first sample taken in user mode (a CPU the guest (re)starts loads transient
 * tables in its bring-up and reaches user mode only with its final ones; the
 * caller clears @d when the vCPU is restarted). Returns true when (base, limit)
 * differs from the baseline and from the deviation last reported (a change is
 * reported once; back to the baseline re-arms). */
bool integ_dtr_sample(struct integ_dtr *d, uint64_t base, uint32_t limit, bool user);

/* A trapped LGDT/LIDT (descriptor-table exiting, vmm/dtr.c) against the
 * vCPU's baseline @d. @same_table: the new base maps the same guest-physical
 * page as the baseline's, with the same limit (the kernel's own switch between
 * the read-only fixmap alias of a CPU's GDT and its writable direct-map
 * address around LTR, native_load_tr_desc: the same table). */
enum integ_dtr_verdict {
	INTEG_DTR_NONE = 0,      /* no baseline yet (before boot done, or a restarted vCPU before user mode) */
	INTEG_DTR_SAME,          /* the baseline again, or the same table through another address */
	INTEG_DTR_EMPTY,         /* limit 0: an empty table, which can only end the guest (a reboot
				  * by triple fault, kexec): reported, never refused */
	INTEG_DTR_CHANGED,       /* another table: event idt_write, refused under block */
};
enum integ_dtr_verdict integ_dtr_load(const struct integ_dtr *d, uint64_t base, uint32_t limit, bool same_table);
/* Take @d's baseline (base, limit) if it has none and may take one now: not
 * after a restart of the vCPU (@restarted) unless it runs user mode (@user).
 * True when @d has a baseline afterwards. */
bool integ_dtr_baseline(struct integ_dtr *d, uint64_t base, uint32_t limit, bool restarted, bool user);

/* Report the n-th (1-based) occurrence of a kind? The first 16, then powers of 2. */
bool integ_should_report(uint64_t n);

/* ---- EPT write protection of the kernel image (part B) ---- */
enum integ_region { INTEG_R_TEXT = 0, INTEG_R_RODATA, INTEG_R_SCT, INTEG_R_IDT, INTEG_R__COUNT };
const char *integ_region_name(unsigned r);       /* "text", "rodata", "syscall_table", "idt" */

/* Who wrote, from the EPT violation (SDM 28.2.1 Table 28-7) and the CPL. */
enum integ_writer {
	INTEG_W_KERNEL = 0,      /* kernel mode, through a kernel-half address */
	INTEG_W_POKE,            /* kernel mode, through a user-half address: text_poke's poking_mm alias */
	INTEG_W_USER,            /* user mode */
	INTEG_W_PAGING,          /* the CPU's page walker setting A/D bits in a paging structure */
};
const char *integ_writer_name(unsigned w);       /* "kernel", "text_poke", "user", "paging" */
/* @qual: the exit qualification; @linear: the guest-linear address (valid when
 * qualification bit 7 is set); @cpl. */
enum integ_writer integ_writer_of(uint64_t qual, uint64_t linear, unsigned cpl);

/* What changed on a page: the bytes that differ and the first changed span
 * (bytes from the first difference to the last one within 16). */
struct integ_diff {
	uint32_t changed;        /* differing bytes */
	uint32_t first;          /* offset of the first (n when none) */
	uint32_t span;           /* first .. last differing byte within [first, first + 16) */
	uint32_t in_span;        /* differing bytes inside the span */
};
void integ_diff(const uint8_t *old, const uint8_t *cur, uint32_t n, struct integ_diff *d);

/* Is every change on the page an instruction-sized step of the kernel's own
 * code patching (jump labels, static calls, ftrace, kprobes, text_poke_bp)? The
 * changes form sites of at most 5 bytes, and at each the bytes, before and
 * after, start a NOP, a call/jmp rel32, a jmp rel8, a ret, an int3, a lock/ds
 * prefix — or only the rel32/rel8 of an unchanged call/jmp changed, or the tail
 * behind an unchanged int3 (text_poke_bp's middle step). */
bool integ_patch_shape(const uint8_t *old, const uint8_t *cur, uint32_t n, const struct integ_diff *d);

/* INTEG_SEV_UNVERIFIED (appended, issue 15 item 3 B): a form the kernel writes
 * through text_poke at an address on none of its lists — a kprobe's int3, an
 * optprobe's jump into the executable area, an SMP lock prefix — which any
 * module may place through the same API: reported, never reverted
 * (monitors/integrity_sites.h, docs/MONITORS.md). */
enum integ_severity { INTEG_SEV_NONE = 0, INTEG_SEV_PATCH, INTEG_SEV_ATTACK, INTEG_SEV_UNVERIFIED };
const char *integ_severity_name(unsigned s);     /* "none", "patch", "attack", "unverified" */
/* The severity of a write window: "patch" only for text written through
 * text_poke's alias in a patch shape; paging-structure updates are not
 * reported; everything else is an attack. */
enum integ_severity integ_classify(enum integ_region r, enum integ_writer w, const uint8_t *old,
				   const uint8_t *cur, uint32_t n, const struct integ_diff *d);

/* integrity_action=block for image writes: put the page's changed bytes back
 * at the window's close? Only an attack (never a patch: the kernel's own code
 * patching must land, or its jump labels and ftrace state would lie), only
 * with block, and only when something changed. */
bool integ_should_revert(enum integ_severity s, bool block, uint32_t changed);
/* The next run of bytes that differ between @old and @cur at or after @from
 * (first difference to the last one before an equal byte): its offset in @off
 * and its length returned (0: none left). Reverting run by run writes only
 * what the guest changed. */
uint32_t integ_next_run(const uint8_t *old, const uint8_t *cur, uint32_t n, uint32_t from, uint32_t *off);

/* ---- options (monitors/integrity_options.c; docs/OPTIONS.md) ---- */
enum hv_integrity_action { HV_INTEG_REPORT = 0, HV_INTEG_BLOCK = 1 };
struct integrity_config {
	uint8_t action;          /* integrity_action=, enum hv_integrity_action; default report */
	uint8_t ept;             /* integrity_ept=on|off: EPT write protection of the kernel image (part B) */
};
const char *hv_integrity_action_name(unsigned a);
struct hv_opt_owner;
extern const struct hv_opt_owner integrity_options;

/* ---- ring -1 (monitors/integrity.c) ---- */
struct hv_monitor_ops;
extern struct hv_monitor_ops integrity_ops;

#endif
