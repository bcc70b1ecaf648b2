/*
 * vmm/cr0.h — the guest's CR0 under VMX, as pure rules (host-tested:
 * tests/unit/test_cr0.c). vmm/vmcs.c takes the guest/host mask from here,
 * vmm/cr.c applies a CR-access exit's write through cr0_guest_write().
 *
 * Why CD and NW are always owned by hvmon: VM entry does not load CR0.CD/NW
 * from the guest-state area and VM exit does not load them from the host-state
 * area (SDM Vol. 3C 28.3.2.1 "Loading Guest Control Registers...", 29.5.1
 * "Loading Host Control Registers..."): the processor has one CD/NW pair that
 * host and guest share. A guest reading them unmasked sees whatever the host
 * left there (Bochs' reset value CD=NW=1 stays in hvmon's CR0), and Linux's
 * MTRR/PAT sequence (read CR0, set CD; ...; read CR0, clear CD; write) then
 * writes NW=1 with CD=0 and takes #GP (SDM Vol. 3A 2.5: "setting NW while
 * clearing CD" is invalid). Masked, the guest reads its own CD/NW from the read
 * shadow, every write that changes them exits, and the hardware's caching
 * mode stays as the host set it.
 */
#ifndef HVMON_VMM_CR0_H
#define HVMON_VMM_CR0_H

#include <stdbool.h>
#include <stdint.h>

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)

/* Guest/host mask (VMCS 0x6000): the bits VMX fixes (IA32_VMX_CR0_FIXED0 set,
 * FIXED1 clear; pass fixed0 with PE/PG removed for an unrestricted guest),
 * plus CD and NW (see above). */
uint64_t cr0_guest_mask(uint64_t fixed0, uint64_t fixed1);

/* What the guest reads: its own (shadow) value for owned bits, the hardware's
 * (VMCS guest CR0) for the others (SDM Vol. 3C 26.3 "MOV from CR0"). */
uint64_t cr0_guest_view(uint64_t guest_cr0, uint64_t shadow, uint64_t mask);

struct cr0_write {
	bool     gp;        /* the write raises #GP in the guest; nothing changes */
	uint64_t shadow;    /* new read shadow: the value the guest wrote */
	uint64_t guest;     /* new VMCS guest CR0: fixed bits forced, CD/NW clear
	                     * (not loaded by VM entry; the field records that the
	                     * guest's cache mode is virtual) */
};

/* A guest MOV to CR0 (or LMSW, already merged) of @val, checked as the
 * processor would: #GP for bits 63:32, PG without PE, NW without CD
 * (SDM Vol. 3A 2.5; MOV CR0 in Vol. 2B). fixed0/fixed1 as for the mask. */
struct cr0_write cr0_guest_write(uint64_t val, uint64_t fixed0, uint64_t fixed1);

#endif
