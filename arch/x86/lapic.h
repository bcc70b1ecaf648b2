/*
 * The local APIC of the calling CPU, as ring -1 uses it (issue 11): its id
 * and sending INIT/SIPI/NMI. xAPIC (MMIO at IA32_APIC_BASE, identity-mapped
 * by hvmon's page tables) or x2APIC (MSRs 0x800+) by IA32_APIC_BASE.EXTD,
 * which the guest may change: read it at each use (SDM Vol. 3A 11.4.4, 11.12).
 */
#ifndef HVMON_ARCH_LAPIC_H
#define HVMON_ARCH_LAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/cpu.h"

#define IA32_APIC_BASE_MSR   0x1b
#define APIC_BASE_EXTD       (1ULL << 10)
#define APIC_BASE_EN         (1ULL << 11)
#define APIC_REG_ID          0x20
#define APIC_REG_ICR_LO      0x300
#define APIC_REG_ICR_HI      0x310
#define X2APIC_MSR_ID        0x802
#define X2APIC_MSR_ICR       0x830
#define APIC_ICR_BUSY        (1u << 12)
#define APIC_DM_NMI          (4u << 8)
#define APIC_DM_INIT         (5u << 8)
#define APIC_DM_STARTUP      (6u << 8)
#define APIC_ICR_ASSERT      (1u << 14)
#define APIC_ICR_LEVEL       (1u << 15)

static inline uint64_t lapic_base_pa(void)
{
	return rdmsr(IA32_APIC_BASE_MSR) & 0xffffff000ULL;
}

static inline bool lapic_x2apic(void)
{
	return (rdmsr(IA32_APIC_BASE_MSR) & APIC_BASE_EXTD) != 0;
}

static inline volatile uint32_t *lapic_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(lapic_base_pa() + off);   /* identity map */
}

static inline uint32_t lapic_id(void)
{
	return lapic_x2apic() ? (uint32_t)rdmsr(X2APIC_MSR_ID) : *lapic_reg(APIC_REG_ID) >> 24;
}

/* Send @icr_lo to physical @dest. xAPIC: waits (bounded) for the previous
 * IPI to leave, and restores ICR high, which the guest may have set up. */
static inline void lapic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
	if (lapic_x2apic()) {
		wrmsr(X2APIC_MSR_ICR, ((uint64_t)dest << 32) | icr_lo);
		return;
	}
	for (int i = 0; i < 1000000 && (*lapic_reg(APIC_REG_ICR_LO) & APIC_ICR_BUSY); i++)
		cpu_relax();
	uint32_t hi = *lapic_reg(APIC_REG_ICR_HI);
	*lapic_reg(APIC_REG_ICR_HI) = dest << 24;
	*lapic_reg(APIC_REG_ICR_LO) = icr_lo;
	for (int i = 0; i < 1000000 && (*lapic_reg(APIC_REG_ICR_LO) & APIC_ICR_BUSY); i++)
		cpu_relax();
	*lapic_reg(APIC_REG_ICR_HI) = hi;
}

#endif
