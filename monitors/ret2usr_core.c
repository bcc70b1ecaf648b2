/*
 * ret2usr_core — pure decisions of the ret2usr detector (monitors/ret2usr.h).
 */
#include <string.h>
#include "monitors/ret2usr.h"
#include "vmm/gmem.h"

void r2u_cr4_write(struct r2u_pin *p, uint64_t old, uint64_t val, struct r2u_cr4_result *out)
{
	memset(out, 0, sizeof(*out));
	const uint64_t prot = X86_CR4_SMEP | X86_CR4_SMAP;
	p->pinned |= old & prot;                        /* enabled earlier */
	uint64_t cleared = p->pinned & ~val;
	if (cleared) {
		out->tamper = true;
		val |= cleared;                          /* keep them: the write does not take effect */
	}
	p->pinned |= val & prot;                         /* enabled now */
	out->shadow = val;
	out->real_extra = (p->force_smep ? X86_CR4_SMEP : 0);
}

enum r2u_pf_verdict r2u_classify_pf(uint32_t pfec, uint64_t addr, bool la57)
{
	if ((pfec & R2U_PFEC_MASK) != R2U_PFEC_MATCH)   /* not a supervisor fetch */
		return R2U_PF_REFLECT;
	if (pfec & X86_PFEC_RSVD)
		return R2U_PF_REFLECT;
	if (!gmem_user_va(addr, la57))                    /* kernel half (or non-canonical) */
		return R2U_PF_REFLECT;
	return (pfec & X86_PFEC_P) ? R2U_PF_SMEP : R2U_PF_USER_UNMAPPED;
}

const char *r2u_pf_verdict_name(enum r2u_pf_verdict v)
{
	switch (v) {
	case R2U_PF_SMEP:          return "SMEP fault on a present user page";
	case R2U_PF_USER_UNMAPPED: return "fetch of an unmapped user address";
	default:                   return "reflected";
	}
}
