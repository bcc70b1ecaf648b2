/*
 * probe — invisible ring -1 probes on guest kernel code (docs/PROBES.md).
 *
 * A probe is an int3 (0xCC) written into a hvmon-owned SHADOW copy of the
 * guest-physical page that holds the probed instruction. The page has two EPT
 * views:
 *   exec view : guest page -> shadow, execute-only (EPT_X)  [needs EPT exec-only]
 *   data view : guest page -> original, read (+write after the first write), no X
 * A data access in the exec view exits (EPT violation) and switches to the data
 * view; the next instruction fetch from the page exits and switches back (after
 * re-syncing the shadow from the original if the guest wrote the page: text
 * patching keeps working; a probe whose instruction bytes changed is dropped).
 * The int3 exits through the exception bitmap (#BP); only probe sites are handled,
 * any other int3 is reflected to the guest unchanged. After the handlers ran,
 * the displaced instruction is EMULATED (no monitor trap flag on Bochs):
 * endbr64 and NOPs (RIP += len), push r64, call rel32. Any other instruction is
 * refused at placement with a clear error.
 *
 * This file: the pure part (decoding/emulation decisions, site and page
 * bookkeeping with reference counts, shadow re-sync), host-testable through
 * struct probe_ops. vmm/probe_vmx.c: the ring -1 part (EPT, exits, guest memory).
 */
#ifndef HVMON_VMM_PROBE_H
#define HVMON_VMM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_MAX_SITES     32
#define PROBE_MAX_PAGES     16
#define PROBE_MAX_HANDLERS  4       /* per site */
#define PROBE_INSN_MAX      15

/* How the displaced instruction is stepped over. */
enum probe_emul {
	PROBE_EMUL_NONE = 0,
	PROBE_EMUL_SKIP,        /* endbr64, nop: RIP += len */
	PROBE_EMUL_PUSH,        /* push r64: RSP -= 8, [RSP] = reg, RIP += len */
	PROBE_EMUL_CALL,        /* call rel32: RSP -= 8, [RSP] = RIP + len, RIP = RIP + len + rel */
};

struct probe_insn {
	enum probe_emul kind;
	uint8_t len;
	uint8_t reg;            /* PUSH: GPR index 0..15 (union guest_regs order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15) */
	int32_t rel;            /* CALL */
	char    text[24];       /* mnemonic, for logs */
};

/* Decode @n bytes (the instruction at a probe site) and decide how to emulate it.
 * Returns 0, or -1 with a reason in @why (refused: we cannot emulate it). */
int probe_classify(const uint8_t *bytes, size_t n, struct probe_insn *out, char *why, size_t whylen);

/* Register state an emulation needs / changes (pure, testable). */
struct probe_cpu {
	uint64_t rip, rsp;
	uint64_t gpr[16];
};
/* Compute the effect of emulating @in at cpu->rip: new rip/rsp in @cpu, and if
 * *push is set, the 8-byte value to store at the NEW rsp. */
void probe_emulate(const struct probe_insn *in, struct probe_cpu *cpu, bool *push, uint64_t *value);

struct probe_hit;
struct vcpu;
struct probe_site;
struct probe_page;
struct probe_tamper;
/* Handler: runs in the #BP exit with the guest's registers (hit->regs, hit->rsp).
 * It may set hit->redirect_rip to resume the guest elsewhere (then the displaced
 * instruction is NOT emulated; used by return trampolines). */
typedef void (*probe_handler_fn)(struct vcpu *v, struct probe_hit *hit, void *ctx);

struct probe_hit {
	uint64_t va;            /* probe address */
	void *regs;             /* union guest_regs * (ring -1) */
	uint64_t rsp;
	uint64_t redirect_rip;  /* 0: emulate and continue */
	uint64_t redirect_rsp;  /* with redirect_rip */
	/* the site is suspended (the guest's int3 or bytes hvmon cannot emulate
	 * are there, docs/PROBES.md "Tampering"): a handler may take a RETURN it
	 * armed here (redirect_rip), never act on an entry (issue 15) */
	bool ret_only;
};

/* Views are per vCPU (issue 11, docs/PROBES.md "Several vCPUs"): each vCPU has
 * its own EPT root (vmm/ept_view.h) and its own view of each probed page; the
 * shared EPT holds the exec view (what a vCPU without its own view runs). */
#define PROBE_MAX_VCPUS 64
#define PROBE_SHARED    (-1)    /* the shared EPT */
#define PROBE_ALL       (-2)    /* the shared EPT and every vCPU's view */
enum probe_view {
	PROBE_VIEW_EXEC = 0,    /* shadow, execute-only (R|X without exec-only EPT) */
	PROBE_VIEW_DATA,        /* original, R */
	PROBE_VIEW_DATA_RW,     /* original, R|W (this vCPU wrote the page) */
	PROBE_VIEW_MIXED,       /* shadow R|X: code on the page reads the page */
	PROBE_VIEW_GUEST,       /* original R|X until this vCPU's next exit: an entry at a
				 * site suspended by a rewrite runs the guest's bytes */
};

struct probe_page {
	bool     used;
	uint64_t gpa;           /* guest-physical page */
	uint64_t va;            /* guest-virtual page (kernel text) */
	uint8_t *shadow;        /* hvmon copy with the int3s (replaced, never rewritten, by a re-sync) */
	uint64_t shadow_pa;
	uint32_t nsites;        /* sites on this page (refcount) */
	bool     dirty;         /* the guest wrote the original since the shadow was built:
				 * no vCPU may execute the shadow until a re-sync */
	uint8_t  view[PROBE_MAX_VCPUS];   /* enum probe_view, per vCPU */
	uint64_t resyncs, switches;
	/* tampering (issue 15): the writer of the first write since the last
	 * re-sync (set by ring -1 at the write's EPT exit), and a remap seen by the
	 * tick that is not acted on until a second check agrees */
	struct probe_writer {
		bool     known;
		uint64_t rip;
		int32_t  pid, tgid;
		char     comm[16];
	} writer;
	uint64_t remap_gpa;     /* where the tick last saw the VA point (0: at gpa) */
	uint32_t remap_seen;    /* consecutive checks that saw remap_gpa */
	uint64_t remap_failed;  /* a remap reported whose page the probes could not move to */
	uint64_t moves;         /* re-placed on another physical page after a remap */
	uint64_t mm_remap;      /* the last target of a remap in ONE address space (remap_mm) reported */
};

/* The EPT leaf of @pg in vCPU @cpu's view (PROBE_SHARED: the shared EPT).
 * @exec_only: the CPU supports execute-only EPT pages. */
struct probe_leaf {
	uint64_t hpa;
	uint32_t perms;         /* EPT_R/W/X bits (1, 2, 4) */
};
void probe_leaf_of(const struct probe_page *pg, int cpu, bool exec_only, struct probe_leaf *out);

#define PROBE_NAME_LEN 32
/* The site must fire whenever the guest creates an address space (a fork or an
 * exec): the "silent" check watches the group of such sites (docs/PROBES.md). */
#define PROBE_F_EXPECT_NEWMM 0x1
/* Its handlers send returns to the site (a return trampoline: the tracer swaps
 * a call's return address for the site's address). While the site is
 * suspended the shadow keeps hvmon's int3 there (a "catcher"), so a return
 * that lands on it is still taken and never re-runs the function
 * (docs/PROBES.md "Returns at a suspended site"). */
#define PROBE_F_RETURNS      0x2

struct probe_site {
	bool     used;
	uint64_t va;
	uint32_t page;          /* index into pages[] */
	uint16_t off;           /* offset in the page */
	uint8_t  orig[PROBE_INSN_MAX];
	uint8_t  origlen;       /* bytes of orig[] on this page (>= 1) */
	struct probe_insn insn;
	uint32_t nhandlers;     /* refcount */
	struct { probe_handler_fn fn; void *ctx; } h[PROBE_MAX_HANDLERS];
	bool     suspended;     /* the guest's int3 or an instruction hvmon cannot emulate is
				 * there: reflect/run the guest's bytes until they change back */
	char     name[PROBE_NAME_LEN];   /* "who:what" for reports (probe_place_as) */
	uint32_t flags;         /* PROBE_F_* */
	uint64_t int3_since;    /* TSC when the tick first saw the guest's int3 here (0: none) */
	bool     int3_reported, rewrite_reported;
	uint64_t hits;
	uint64_t ticks;         /* TSC ticks in ring -1 for hits (handler + emulation) */
};

/* A tampering report (issue 15, docs/PROBES.md "Tampering"): the event
 * probe_tamper's members. */
struct probe_tamper {
	const char *what;               /* "int3", "rewrite", "remap", "silent", "remap_mm" */
	const struct probe_site *site;
	const struct probe_page *page;  /* page->writer: who wrote (int3, rewrite) */
	uint64_t va, gpa, new_gpa, ms;
	uint32_t new_mm;
	bool     rearmed;               /* the probe is live again */
	uint8_t  nbytes;
	uint8_t  bytes[8];              /* the guest's bytes at the site now */
	/* remap seen at a write to a protected page-table page: who wrote it
	 * (NULL: seen by the tick's walk, the task is the one at the check) */
	const struct probe_writer *pt_writer;
};

/* Hardware side (vmm/probe_vmx.c; fakes in tests/unit/test_probe.c). */
struct probe_ops {
	void *ctx;
	/* translate a kernel text VA: gpa of its page. 0 or -1 */
	int (*va_to_gpa)(void *ctx, uint64_t va, uint64_t *gpa);
	/* read @len bytes of guest-physical memory (may not cross a page) */
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, uint32_t len);
	/* read guest-virtual kernel memory (may cross pages) */
	int (*read_virt)(void *ctx, uint64_t va, void *buf, uint32_t len);
	/* a zeroed 4 KiB page; NULL when out of memory */
	uint8_t *(*alloc_page)(void *ctx, uint64_t *pa);
	void (*free_page)(void *ctx, uint8_t *p);
	/* EPT: apply probe_leaf_of(pg, cpu) to vCPU @cpu's view, to the shared
	 * EPT (PROBE_SHARED) or to both and every vCPU (PROBE_ALL); or restore the
	 * plain identity RWX mapping everywhere. 0 or -1 */
	int (*map)(void *ctx, struct probe_page *pg, int cpu);
	int (*map_plain)(void *ctx, struct probe_page *pg);
	/* the guest blinded (or tried to blind) a probe (issue 15): report it */
	void (*tamper)(void *ctx, const struct probe_tamper *tp);
	/* store one aligned 8-byte page-table entry into guest RAM, atomically (a private
	 * kernel half's root entry put back, docs/PROBES.md "A private kernel half");
	 * NULL: never restored. 0 or -1 (refused: not guest RAM, a probed page) */
	int (*write_phys64)(void *ctx, uint64_t gpa, uint64_t val);
};

/* Tampering rules (docs/PROBES.md "Tampering"). */
#define PROBE_INT3_GRACE_MS   500   /* the guest's int3 on a site longer than this: an attack (text_poke_bp keeps it for microseconds) */
#define PROBE_REMAP_CHECKS    2     /* consecutive checks that must see a remap before the probe moves */
#define PROBE_SILENT_WIN_MS   1000  /* window of the silent check */
#define PROBE_SILENT_NEWMM    3     /* new address spaces in a window with no hit of the group (this and the last window) */
#define PROBE_MM_SLOTS        256   /* address spaces remembered (least recently seen forgotten first) */

/* The kernel's own page tables (issue 15, docs/PROBES.md "Page tables"): the
 * table pages below the root on the walk of each probed address — shared by
 * every address space, unlike the per-mm root — are write-protected through
 * EPT (vmm/page_guard.h) so that a remap in them is seen at the write. */
#define PROBE_PT_MAX 8          /* table pages protected at most (PDPT, PD, PT: 2-3 for kernel text) */
struct probe_pt {
	uint64_t top[PROBE_MAX_PAGES];  /* per pages[]: the table the root's entry for its VA points to (0: unknown) */
	uint64_t root_e[PROBE_MAX_PAGES];   /* ... and that root entry itself (what pgd_alloc gives every mm) */
	bool     la57;
	uint64_t writes, checks, changes, over;   /* written pages seen, re-walks, remaps found, tables beyond PROBE_PT_MAX */
	struct probe_writer writer;     /* the last write's task and RIP */
};

struct probe_table {
	struct probe_ops ops;
	struct probe_pt pt;
	struct probe_page pages[PROBE_MAX_PAGES];
	struct probe_site sites[PROBE_MAX_SITES];
	uint64_t reflected;     /* int3s that were not ours */
	uint64_t dropped;       /* sites blinded by a rewrite hvmon cannot emulate (kept, suspended) */
	uint64_t followed;       /* sites re-decoded after the guest rewrote them */
	/* tampering checks (probe_tick) */
	/* address spaces seen (silent check): the root (KPTI pair as one) and a
	 * fingerprint of its user half, so that a root page freed and reused by a
	 * new process is a new address space; when full, the least recently seen
	 * is forgotten */
	struct {
		uint64_t key[PROBE_MM_SLOTS], fp[PROBE_MM_SLOTS], seen[PROBE_MM_SLOTS];
		uint32_t n;
	} mm;
	uint64_t win_start, win_hits_base, prev_win_hits;
	uint32_t win_newmm;
	bool     silent_reported;
	uint64_t tampers, moves, rearmed, newmm;
	uint64_t mm_remaps;     /* remap_mm reports: an address space with its own copy of a probed page */
	uint64_t mm_restores;   /* private kernel-half root entries put back to the kernel's (each time seen) */
	uint64_t mm_user;       /* private kernel halves found from a user-mode sample (KPTI pair) */
	/* returns taken at a suspended site; entries at a site suspended by a
	 * rewrite run on the guest's bytes (PROBE_VIEW_GUEST); by ring -1 */
	uint64_t ret_suspended, guest_runs;
};

/* What a #BP at a site means (pure; ring -1 acts on it, docs/PROBES.md). */
enum probe_bp_action {
	PROBE_BP_REFLECT = 0,   /* not ours: the guest's own int3, reflected */
	PROBE_BP_ENTRY,         /* a live site: handlers, then the displaced instruction emulated */
	PROBE_BP_RETURN_OR_REFLECT,  /* suspended under the guest's int3: a return is taken, anything else
				      * is the guest's breakpoint (text_poke_bp, an attack): reflected */
	PROBE_BP_RETURN_OR_GUEST,    /* suspended by a rewrite, hvmon's catcher int3: a return is taken,
				      * an entry runs the guest's bytes (probe_guest_view) */
};
/* @software: the #BP came from an int3 instruction (not INT1/an injected one). */
enum probe_bp_action probe_bp_action(const struct probe_site *s, bool software);
/* An entry at a site suspended by a rewrite: vCPU @cpu runs the guest's own
 * page (R|X) until its next exit, then probe_guest_view_end. 0 or -1. */
int probe_guest_view(struct probe_table *t, struct probe_page *pg, int cpu);
/* Back to the exec view after the exit that followed probe_guest_view (a no-op
 * when the view changed meanwhile, e.g. a write fault). 0 or -1. */
int probe_guest_view_end(struct probe_table *t, struct probe_page *pg, int cpu);


/* The tamper checks, from hvmon's tick on one vCPU (never from a probe hit). */
struct probe_tick_in {
	uint64_t now;           /* TSC */
	uint64_t tsc_per_ms;
	bool     kernel_cr3;    /* the vCPU is in kernel mode (CPL 0): its CR3 maps the kernel half */
	uint64_t cr3;           /* its CR3 (an address-space sample) */
	bool     halted;        /* in HLT: the idle task, on the last process's CR3 (lazy TLB) */
};
/* Reads each site's bytes in the guest page (int3 kept past the grace period,
 * rewrite), walks the guest's page tables for each probed page (remap: the
 * probe moves to the new page) and runs the silent check. Returns the number of
 * pages moved (ring -1 then updates its page intercepts and views). */
int probe_tick(struct probe_table *t, const struct probe_tick_in *in);
/* The root of the kernel half of the address space a vCPU runs (issue 15): in
 * kernel mode CR3's root; in user mode with KPTI (CR3 bit 12 set) the other page of
 * the 8 KiB pair when the two pages' user halves agree (Linux mirrors every user
 * entry into the user root, pti_set_user_pgtbl), else CR3's root (no KPTI: the
 * user CR3 maps the kernel too). 0: none. */
uint64_t probe_kernel_root(struct probe_table *t, uint64_t cr3, bool kernel_mode);
/* The kernel's page tables (struct probe_pt). From a tick in kernel mode: learn
 * the table below the root for each probed page from the root @cr3 (any kernel
 * CR3: the kernel half below the root is shared). */
void probe_pt_learn(struct probe_table *t, uint64_t cr3, bool la57);
/* Walk @va from @top (the table below the root) through guest-physical reads:
 * the 4 KiB page's GPA in *gpa and the table pages walked (top first) in
 * tables[] (*n of them, at most 4). 0, or -1 (not present / unreadable). */
int probe_pt_walk(struct probe_table *t, uint64_t top, uint64_t va, uint64_t *gpa, uint64_t tables[4],
		  unsigned *n);
/* The table pages on the walks of every probed page, without repeats, at most
 * @max (the rest counted in pt.over). Returns how many. */
unsigned probe_pt_tables(struct probe_table *t, uint64_t *out, unsigned max);
/* A protected table page was written (by @w): walk every probed page; one that
 * maps elsewhere now moves at once (an event "remap" naming the writer; the
 * tick's two-check rule is for per-mm roots seen with a vCPU's CR3). Returns
 * the number of pages moved. */
int probe_pt_check(struct probe_table *t, const struct probe_writer *w);

/* Name a site for reports ("who:what", cut to PROBE_NAME_LEN - 1) and set its flags. */
void probe_site_label(struct probe_site *s, const char *who, const char *what, uint32_t flags);
/* A placer @who adds its handler to site @s (several monitors may share a site): the
 * site's flags gain @flags; it is (re)named "who:what" when it has no name yet, or when
 * this placer names it and brings flags the site did not have (the tamper reports are
 * about that duty: the tracer's fork/exec group keeps its name when another monitor
 * probes the same entry, before or after it). */
void probe_site_claim(struct probe_site *s, const char *who, const char *what, uint32_t flags);

void probe_table_init(struct probe_table *t, const struct probe_ops *ops);

/* Place (or reference) a probe at kernel VA @va with handler @fn/@ctx.
 * Returns 0, or -1 with a reason in @why. A second add at the same VA adds a
 * handler (refcount); the same fn/ctx pair twice is refused. */
int probe_add(struct probe_table *t, uint64_t va, probe_handler_fn fn, void *ctx,
	      char *why, size_t whylen);
/* Remove one handler; the int3 goes when the last one goes, the shadow page and
 * its EPT views when the last site on the page goes. 0 or -1 (not found). */
int probe_remove(struct probe_table *t, uint64_t va, probe_handler_fn fn, void *ctx);

struct probe_site *probe_find(struct probe_table *t, uint64_t va);
struct probe_page *probe_find_page(struct probe_table *t, uint64_t gpa);

/* Build a NEW shadow from the original page, re-place the int3 at every site
 * and swap it in everywhere (ops.map(PROBE_ALL)); the old shadow goes to
 * ops.free_page and is never written (another vCPU may still execute it).
 * A site whose instruction bytes changed FOLLOWS the new instruction when it is
 * still emulatable (e.g. ftrace turning `call __fentry__` into a 5-byte NOP), is
 * SUSPENDED while the guest's own int3 sits on it (text_poke_bp in progress: the
 * guest's breakpoint is reflected; the tick reports it if it stays: "int3"), and
 * is SUSPENDED and reported otherwise (ops.tamper "rewrite"; issue 15: it was
 * dropped before) until its bytes become emulatable again: then it is re-armed.
 * Returns the number of sites blinded by such a rewrite now, or -1 on a read
 * failure (the shadow is then left as it was). */
int probe_resync(struct probe_table *t, struct probe_page *pg);

/* EPT violation on a probed page on vCPU @cpu (0..PROBE_MAX_VCPUS-1). @fetch:
 * instruction fetch; @write: data write; @rip_on_page: the faulting instruction
 * lies on that page (a data read from code on the same page: the shadow is
 * mapped R|X, see docs/PROBES.md). Only @cpu's view changes, except that the
 * first write after a re-sync takes the shadow away from every vCPU (dirty) and
 * a fetch of a dirty page re-syncs it for all. Returns 0 or -1. */
int probe_page_fault(struct probe_table *t, struct probe_page *pg, int cpu, bool fetch, bool write,
		     bool rip_on_page);

/* ---- ring -1 (vmm/probe_vmx.c) ------------------------------------------- */
struct vm;
/* hv_main, before the first VM entry: probe table, event core (rings + console
 * sink). Returns 0 or -1 (logged; the guest boots without probes). */
int probe_vm_init(struct vm *vm);
/* Place/remove a probe from a VM exit (the guest stopped). Errors are logged
 * with the reason. 0 or -1. */
int probe_place(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who);
/* The same without the info line on success (probes armed and disarmed often, e.g. the
 * keylogger detector's per-keystroke window); errors are still logged. */
int probe_place_quiet(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who);
/* The same, naming the site @what in tamper reports ("who:what") with PROBE_F_* @flags
 * (issue 15: PROBE_F_EXPECT_NEWMM for the sites of every fork and exec). */
int probe_place_as(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx, const char *who,
		   const char *what, uint32_t flags);
int probe_unplace(struct vm *vm, uint64_t va, probe_handler_fn fn, void *ctx);
/* After tick_init: the tamper checks' tick client (issue 15). 0 or -1 (logged). */
int probe_checks_start(void);
/* Several vCPUs: every exit of @v (vmm/vmexit.c) and before its first entry:
 * (re)build its EPT view when probes were placed or removed since (one compare
 * otherwise). */
void probe_vcpu_sync(struct vcpu *v);
/* The EPT leaf @v runs on for @gpa now (its view, else the VM's EPT); 0: none. */
uint64_t probe_vcpu_leaf(struct vcpu *v, uint64_t gpa);
/* The VM's EPT changed outside the probes: every vCPU rebuilds its view at its next exit. */
void probe_views_stale(void);
/* Is the guest-physical page of @gpa probed (its EPT views are hvmon's)? */
bool probe_gpa_probed(uint64_t gpa);
/* per-site statistics on the console (power-off) */
void probe_print_stats(void);

/* Guest memory and tasks for monitors: vmm/guest.h. */

#endif
