/*
 * ret2usr — the return-to-user detector (docs/MONITORS.md "ret2usr detector").
 *
 * 1. CR4 pinning: once the guest has set CR4.SMEP / CR4.SMAP, a guest MOV to CR4
 *    that clears them is an attack (event cr4_tamper, blocked=true) and does not
 *    take effect: SMEP/SMAP are in the CR4 guest/host mask, the read shadow keeps
 *    them set, so the guest reads back what it cannot change.
 * 2. Detection, with or without SMEP in the guest: hvmon keeps CR4.SMEP set in the
 *    REAL CR4 from the guest's first IA32_LSTAR write on (the kernel runs on its own
 *    page tables by then); the read shadow shows the guest's own value (nosmep:
 *    clear). #PF is intercepted with PFEC_MASK = I/D|U/S, PFEC_MATCH = I/D, so only
 *    supervisor instruction-fetch faults exit. A fetch of a user-half address (SMEP
 *    violation on a present user page, or a fetch of an unmapped user address) is a
 *    ret2usr (event ret2usr, how "exec"); anything else is reflected unchanged.
 * 3. ret2usr_action=: report/kill deliver the #PF the CPU raised (the kernel oopses
 *    and the offending task dies, as on a SMEP CPU); halt stops the guest with a
 *    final report.
 */
#ifndef HVMON_MONITORS_RET2USR_H
#define HVMON_MONITORS_RET2USR_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/regs.h"

/* #PF exits only for supervisor instruction fetches */
#define R2U_PFEC_MASK  (X86_PFEC_ID | X86_PFEC_US)
#define R2U_PFEC_MATCH (X86_PFEC_ID)

struct r2u_pin {
	uint64_t pinned;        /* SMEP/SMAP bits the guest has enabled (sticky) */
	bool     force_smep;    /* hvmon sets SMEP in the real CR4 */
};

struct r2u_cr4_result {
	uint64_t shadow;        /* value the guest reads back */
	uint64_t real_extra;    /* bits to OR into the real CR4 */
	bool     tamper;        /* the write tried to clear a pinned bit */
};

/* A guest MOV to CR4: @old = guest view before, @val = what it writes. */
void r2u_cr4_write(struct r2u_pin *p, uint64_t old, uint64_t val, struct r2u_cr4_result *out);

enum r2u_pf_verdict {
	R2U_PF_REFLECT = 0,     /* not ours: deliver unchanged */
	R2U_PF_SMEP,            /* present user page fetched in kernel mode */
	R2U_PF_USER_UNMAPPED,   /* kernel fetched an unmapped user-half address */
};
/* Classify a #PF exit (error code @pfec, linear address @addr). */
enum r2u_pf_verdict r2u_classify_pf(uint32_t pfec, uint64_t addr, bool la57);
const char *r2u_pf_verdict_name(enum r2u_pf_verdict v);

/* ---- options (monitors/ret2usr_options.c; docs/OPTIONS.md) ---- */
enum hv_ret2usr_action { HV_R2U_REPORT = 0, HV_R2U_KILL = 1, HV_R2U_HALT = 2 };
struct r2u_config {
	uint8_t action;         /* ret2usr_action=, enum hv_ret2usr_action; default report */
};
const char *hv_ret2usr_action_name(unsigned a);
struct hv_opt_owner;
extern const struct hv_opt_owner ret2usr_options;

/* ---- ring -1 (monitors/ret2usr.c): the registry entry's operations. It
 * subscribes (vmm/intercept.h) to MOV to CR4 (SMEP/SMAP in the guest/host mask)
 * and to #PF with the filter R2U_PFEC_MASK/MATCH. ---- */
struct hv_monitor_ops;
extern struct hv_monitor_ops ret2usr_ops;

#endif
