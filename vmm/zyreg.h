/*
 * vmm/zyreg.h — Zydis register → union guest_regs / exit-qualification
 * register number (RAX 0, RCX 1, ... R15 15; SDM Vol. 3C Table 28-3). Pure,
 * header-only: used by the probe classifier (vmm/probe.c) and the xAPIC store
 * decoder (vmm/apic_icr.c), both host-tested.
 */
#ifndef HVMON_VMM_ZYREG_H
#define HVMON_VMM_ZYREG_H

#include <Zydis/Zydis.h>

/* A 64-bit general register's number, or -1 (any other register). */
static inline int zyreg_gpr64(ZydisRegister r)
{
	static const ZydisRegister map[16] = {
		ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
		ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
		ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
		ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
	};
	for (int i = 0; i < 16; i++)
		if (map[i] == r)
			return i;
	return -1;
}

/* The number of the 64-bit register that holds @r (EAX, AX, AL → RAX; 0), or -1. */
static inline int zyreg_gpr_enclosing(ZydisRegister r)
{
	return zyreg_gpr64(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r));
}

#endif
