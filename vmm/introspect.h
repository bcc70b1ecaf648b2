/*
 * introspect — the inference engine (infer/) in ring -1 (docs/INFER-RING1.md).
 *
 * At the guest's FIRST write to IA32_LSTAR (syscall_init, during start_kernel:
 * the kernel is decompressed, relocated, runs on its own page tables and its
 * per-CPU areas are set), hvmon runs infer_run over guest memory:
 *   - reader: guest-virtual addresses through the guest's current CR3 (vmm/gmem),
 *     physical memory through hvmon's identity map, refusing hvmon's memory and
 *     anything that is not RAM in the guest's memory map; a small TLB caches
 *     translations (positive and negative) for the duration of the run;
 *   - hints: the LSTAR value and the guest's kernel GS base (VMCS GUEST_GS_BASE;
 *     IA32_KERNEL_GS_BASE as a fallback);
 *   - arena: malloc'ed from hvmon's heap for the run, freed afterwards;
 *   - strategies: option infer= (docs/OPTIONS.md), default all.
 * The result (runtime addresses) and the KASLR slide stay in vm->profile for
 * the monitors. A failed or partial inference never stops the guest.
 * docs/INFER-RING1.md describes the method, the console output and the limits.
 */
#ifndef HVMON_VMM_INTROSPECT_H
#define HVMON_VMM_INTROSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include "infer/infer.h"

struct vm;

#define INTROSPECT_MAX_READY 8

typedef void (*introspect_ready_fn)(struct vm *vm, void *ctx);

/* The guest kernel profile, kept in struct vm (vm->profile). */
struct vm_profile {
	bool     done;            /* the first LSTAR write was handled (ran or not) */
	bool     ran;             /* infer_run was executed (first LSTAR write, infer != off) */
	bool     complete;        /* every parameter found */
	uint32_t nfound;          /* parameters found */
	char     why[96];         /* when !ran: why; else a summary */
	/* the KASLR slide: runtime - link address (see docs/INFER-RING1.md) */
	bool     slide_valid;
	uint64_t kaslr_slide;
	uint64_t runtime_text;    /* first present 2 MiB page of the kernel map (_text) */
	uint64_t link_text;       /* 0xffffffff80000000 + bzImage pref_address */
	uint64_t image_end;       /* end of the mapped run from runtime_text (0 = unknown) */
	/* inputs */
	uint64_t lstar, gs_base, cr3;
	uint32_t strategies;      /* INFER_S_* that ran */
	/* cost */
	uint64_t tsc_ticks;       /* rdtsc around infer_run */
	uint64_t reader_ticks;    /* of which inside the reader (translation + copy) */
	uint64_t reads, bytes;    /* reader calls / bytes returned */
	uint64_t walks;           /* page-table walks (TLB misses) */
	uint64_t pages;           /* 4 KiB guest pages copied from (per call, per page) */
	uint64_t failed_reads;
	uint64_t views, view_bytes;     /* zero-copy reads (gvread_view) and their bytes */
	uint64_t arena_size, arena_peak;
	/* the engine's result, addresses as the guest runs them (slide included);
	 * p.p[param].found is the per-parameter valid flag */
	struct infer_profile p;
	/* set up by introspect_init */
	uint64_t pref_address;    /* bzImage setup header (LOAD_PHYSICAL_ADDR), 0 = unknown */
	uint32_t kernel_alignment;
	uint32_t nr_ready;
	struct { introspect_ready_fn fn; void *ctx; } ready[INTROSPECT_MAX_READY];
};

/* Called once from hv_main before the first VM entry: records what the bzImage
 * header says about the link address and registers the LSTAR hook.
 * Returns 0, or -1 (logged; the guest still boots, without inference). */
int introspect_init(struct vm *vm);

/* Is parameter @p known (inference ran and found it)? */
bool introspect_have(const struct vm *vm, enum infer_param p);

/* Value of @p (runtime address or offset); 0 when !introspect_have. */
uint64_t introspect_value(const struct vm *vm, enum infer_param p);

/* A monitor declares the parameters it needs. Returns true when all are known;
 * logs "<monitor>: on" or "<monitor>: off: needs <param> (<reason>)" and writes a
 * monitor_state event line (docs/EVENTS.md). @monitor: enum hv_monitor_id. */
bool introspect_require(const struct vm *vm, unsigned monitor,
			const enum infer_param *need, unsigned n);

/* Run @fn once inference is over (successful or not), from the LSTAR exit;
 * called at once if it is already over. Returns 0, or -1 when the table is full. */
int introspect_on_ready(struct vm *vm, introspect_ready_fn fn, void *ctx);

#endif
