/*
 * integrity_sites — the kernel's own lists of the text it patches after boot
 * (issue 15 item 3 B, docs/MONITORS.md "Integrity monitor", "Patch sites"), and
 * the classifier that calls a write to protected kernel text `patch` only when
 * every changed byte lies in one of those sites AND the site then holds a form
 * the kernel itself writes there:
 *  - ftrace call sites (__start_mcount_loc .. __stop_mcount_loc, absolute VAs,
 *    in .init.data: read while the kernel boots, before free_initmem): a 5-byte
 *    NOP, or CALL rel32 to kernel text (ftrace_caller, ftrace_regs_caller) or to
 *    the module/executable area (ftrace and BPF trampolines);
 *  - ftrace_caller's own calls (ftrace_call, ftrace_regs_call): CALL rel32 to
 *    kernel text or the module area;
 *  - jump labels (__start___jump_table, struct jump_entry { s32 code, target;
 *    long key; }, PC-relative): the NOP of the site's size (2 or 5) or JMP rel8/
 *    rel32 to exactly the entry's target;
 *  - static calls (__start_static_call_sites, struct static_call_site { s32 addr,
 *    key; }, key bit 0 = tail call): CALL rel32 (not tail), JMP rel32 (tail),
 *    NOP5, `cs cs cs xor %eax,%eax` (6.x __static_call_return0 inlined), RET
 *    (c3, then int3s or the old bytes);
 *  - static-call trampolines (__static_call_text_start .. _end): JMP rel32, RET,
 *    NOP5. A trampoline is recognised by its `ud1 %esp,%ecx` (0f b9 cc) right
 *    after its 5 bytes (6.x); a kernel without that signature (5.10: the first
 *    trampoline has none) pads each trampoline to INTEG_TRAMP_STRIDE bytes
 *    (`.align 4` after 5 bytes), so one starts every 8 bytes from the section's
 *    start, and its 3 padding bytes never change. (Both layouts: every Debian
 *    5.10, 6.1 and 6.12 fixture kernel, tools/integ_sites.c.)
 * An int3 on the first byte of any site with the rest of a legitimate form is
 * text_poke_bp's middle step. 5.10's ftrace_graph_call (the graph tracer's jmp
 * in ftrace_caller): JMP rel32 into kernel text. A kprobe's int3, an optprobe's
 * jump or an SMP lock prefix off these sites is `unverified`
 * (integ_classify_sites); everything else in protected text is `attack`
 * (docs/MONITORS.md).
 * Pure logic over an ops reader: host-tested (tests/unit/test_integrity.c, with
 * the fixture kernels' real tables) and fuzzed (tests/fuzz/fuzz_integrity_sites.c).
 */
#ifndef HVMON_MONITORS_INTEGRITY_SITES_H
#define HVMON_MONITORS_INTEGRITY_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "monitors/integrity.h"

/* Reads @len bytes of guest kernel memory at @va; false when it cannot. */
struct integ_site_rd {
	bool (*read)(void *ctx, uint64_t va, void *buf, size_t len);
	void *ctx;
};

/* Where the lists are (runtime VAs from the inference; 0: unknown). */
struct integ_site_syms {
	uint64_t base, end;                   /* the kernel image: _text .. the end of its mapping */
	uint64_t mcount_start, mcount_stop;
	uint64_t jump_start, jump_stop;
	uint64_t scall_start, scall_stop;
	uint64_t tramp_start, tramp_end;      /* __static_call_text_start/_end */
	uint64_t ftrace_call, ftrace_regs_call;
	uint64_t ftrace_graph_call;           /* 5.10's function-graph jump in ftrace_caller (0: none) */
};

#define INTEG_SITES_MAX_MCOUNT (1u << 18)     /* 262,144 ftrace sites (the 6.12 kernel has ~43,000) */
#define INTEG_SITES_MAX_JUMP   (1u << 16)
#define INTEG_SITES_MAX_SCALL  (1u << 16)
#define INTEG_TRAMP_STRIDE     8u         /* a static-call trampoline without a signature: 5 bytes + padding */
#define INTEG_SC_TAIL          (1u << 31)     /* in integ_sites.scall[]: the site is a tail call */
#define INTEG_SITES_MAX_KP     64             /* kprobe int3s followed at once */

struct integ_jl { uint32_t code, target; };   /* offsets from base */

struct integ_sites {
	bool ok;                              /* built: the classifier uses the lists */
	uint64_t base, end;
	uint64_t text_lo, text_hi;            /* kernel text [lo, hi): call targets (set by the caller) */
	uint32_t *mcount, n_mcount;           /* offsets from base, sorted, unique */
	struct integ_jl *jump;                /* sorted by code */
	uint32_t n_jump;
	uint32_t *scall, n_scall;             /* offset | INTEG_SC_TAIL, sorted by offset */
	uint64_t tramp_start, tramp_end;
	bool tramp_sig;                       /* trampolines carry the ud1 signature (else: 8-byte stride) */
	uint64_t ftrace_call[2];
	uint64_t graph_call;                  /* ftrace_graph_call: JMP rel32 into kernel text (5.10) */
	uint32_t dropped;                     /* entries outside the image (not kept) */
	/* The int3s hvmon saw a text_poke write at addresses on none of the lists
	 * (kprobes): where, and the 5 bytes that were there before (the optprobe's
	 * jump covers them). hvmon's own record, not the kernel's kprobe table: a
	 * later change there is judged against what was there (integ_classify_sites). */
	struct integ_kp { uint64_t va; uint8_t orig[5]; } kp[INTEG_SITES_MAX_KP];
	uint32_t n_kp;
	uint64_t kp_full;                     /* int3s not recorded: the table was full */
};

/* Allocation for the tables: ring -1's heap or the host's. */
typedef void *(*integ_alloc_fn)(size_t size);

/*
 * Read the kernel's lists through @rd and build sorted tables in @s (zeroed
 * first). A list whose bounds are unknown, inverted, misaligned or larger than
 * its cap is left empty and named in *why (the others are still built); the
 * tables are usable (s->ok) when at least the ftrace or jump-label list was
 * read. Returns the number of sites kept. Bounded: reads each list once in
 * 4 KiB pieces; entries outside [base, end) are dropped (counted).
 */
uint32_t integ_sites_build(struct integ_sites *s, const struct integ_site_syms *sym,
			   const struct integ_site_rd *rd, integ_alloc_fn alloc, const char **why);

/* The verdict on one write window's page of kernel text (@n bytes from @page_va,
 * as before the first write and now): true = every changed byte is inside a
 * known site holding a legitimate form (`patch`), false = `attack`. Bytes of a
 * site outside the page are read (now) through @rd. */
bool integ_sites_patch(const struct integ_sites *s, uint64_t page_va, const uint8_t *old, const uint8_t *cur,
		       uint32_t n, const struct integ_site_rd *rd);

/* integ_classify with the lists: a write through text_poke's alias into text is
 * `patch` only when integ_sites_patch says so (or nothing changed); `unverified`
 * when every change outside the listed sites is one the kernel's kprobes or SMP
 * alternatives write there (below); any other write `attack`; the page
 * walker's A/D updates nothing. Without lists (@s NULL or not ok: a kernel
 * without them in kallsyms) it is integ_classify (the shape rule,
 * docs/MONITORS.md).
 * Unverified forms, each a run of changes inside 5 bytes from its first byte A,
 * none on a listed site, written through text_poke into text:
 *  - a kprobe armed: one byte, an int3 over what was not one (A recorded in
 *    s->kp with the 5 bytes before, unless the verdict is attack);
 *  - at a recorded A, the 5 bytes now: what was there (disarmed: the record
 *    goes), an int3 with the rest as it was (armed; optprobe undone), an int3
 *    or JMP rel32 with a jump into the module/executable area outside the image
 *    (an optprobe: text_poke_bp's steps and its result);
 *  - a new A whose 5 bytes went straight to an optprobe's jump or its middle
 *    step (armed and optimized within one window: the optimizer runs a few
 *    jiffies after the arm);
 *  - one byte from an int3 to another byte at an address hvmon holds no record
 *    of (a kprobe armed before boot done, or while the record was full);
 *  - one byte between the lock prefix (f0) and ds (3e): SMP alternatives.
 * @s is updated (the records) only when the verdict is not attack. */
enum integ_severity integ_classify_sites(struct integ_sites *s, enum integ_region r, enum integ_writer w,
					uint64_t page_va, const uint8_t *old, const uint8_t *cur, uint32_t n,
					const struct integ_diff *d, const struct integ_site_rd *rd);

/* For tests and logs: the kind of site at @va ("mcount", "ftrace_call", "jump_label",
 * "static_call", "static_call_tramp") or NULL. */
const char *integ_sites_kind(const struct integ_sites *s, uint64_t va, const struct integ_site_rd *rd);

#endif
