/*
 * Guest requests hvmon refuses (issue 17, docs/SECURITY.md): a sleep state
 * that would drop VMX, an MSR that reaches host-physical memory or hvmon's
 * clock, a bad XCR0... Each is refused (the request dropped, or #GP/#UD
 * reflected) and reported: a `denied` event (docs/EVENTS.md) and a console
 * line at the 1st, 2nd, 4th, 8th... occurrence of a kind on a vCPU, so a
 * storm costs O(log n) reports.
 */
#ifndef HVMON_VMM_DENY_H
#define HVMON_VMM_DENY_H

#include <stdint.h>

enum hv_deny_kind {
	HV_DENY_SLEEP,        /* SLP_EN with a sleep type other than S5 */
	HV_DENY_MSR_READ,     /* RDMSR of an MSR hvmon does not expose (#GP) */
	HV_DENY_MSR_WRITE,    /* WRMSR refused (#GP) */
	HV_DENY_XCR0,         /* XSETBV with an invalid value (#GP) */
	HV_DENY_VMX,          /* a VMX instruction (#UD) */
	HV_DENY_MMIO,         /* an access beyond every guest-physical address mapped (#GP) */
	HV_DENY__COUNT
};

struct vcpu;
/* Report a refused request of kind k on v (reg: port/MSR/XCR; value: what the
 * guest asked for). Never fails; the caller refuses the request itself. */
void hv_deny(struct vcpu *v, enum hv_deny_kind k, uint64_t reg, uint64_t value);

struct vm;
/* "hvmon: denied: sleep N, msr_read N, ..." per vCPU with any (end of run). */
void hv_deny_print_stats(struct vm *vm);

#endif
