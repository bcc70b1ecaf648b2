/*
 * The guest's ICR writes (issue 11; vmm/smp.h). INIT and STARTUP IPIs are
 * taken from the guest and handled by vmm/smp.c; every other APIC write is
 * performed on this CPU's local APIC unchanged.
 *
 * xAPIC: the APIC page (IA32_APIC_BASE) is read/execute-only in EPT, so reads
 * go straight to the hardware and every write exits (EPT violation, SDM Vol.
 * 3C 28.3.3.2). The exit gives the address but not the value, so the
 * instruction is decoded (Zydis): Linux writes APIC registers with MOV (or
 * XCHG on old Pentium erratum 11AP parts) from a register or an immediate.
 * Cost: one exit per APIC write (EOI, timer, IPIs), none per read.
 * x2APIC: only MSR 0x830 (ICR) is in the MSR bitmap: one exit per IPI sent,
 * none per interrupt or EOI (MSR 0x80B stays direct).
 */
#include <Zydis/Zydis.h>
#include "vmm/smp.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/layout.h"

static uint64_t apic_page;
static uint32_t bad_writes;

/* An ICR write: INIT / STARTUP go to vmm/smp.c (true: swallowed). */
static bool icr_write(struct vcpu *v, uint32_t lo, uint32_t dest, bool x2)
{
	uint32_t dm = lo & 0x700;
	if (dm != APIC_DM_INIT && dm != APIC_DM_STARTUP)
		return false;
	uint32_t shorthand = (lo >> 18) & 3;
	bool logical = (lo & (1u << 11)) != 0;
	bool bcast = x2 ? dest == 0xffffffffu : dest == 0xff;
	bool all = shorthand >= 2 || (!logical && bcast);
	if (shorthand == 1)                       /* self: dropped */
		return true;
	if (logical && !all) {
		if (bad_writes++ < 8)
			pr_warn("smp: guest INIT/STARTUP in logical destination mode (ICR %#x) dropped\n", lo);
		return true;
	}
	if (dm == APIC_DM_INIT) {
		/* level-triggered de-assert: no effect on P6 and later (SDM Vol. 3A 11.6.1) */
		if (!(lo & APIC_ICR_ASSERT) && (lo & APIC_ICR_LEVEL))
			return true;
		smp_guest_init(v, dest, all);
	} else {
		smp_guest_sipi(v, dest, all, (uint8_t)(lo & 0xff));
	}
	return true;
}

static int gpr(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	static const ZydisRegister map[16] = {
		ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
		ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
		ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
		ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
	};
	for (int i = 0; i < 16; i++)
		if (map[i] == big)
			return i;
	return -1;
}

static uint64_t reg_get(struct vcpu *v, int i)
{
	return i == 4 ? vmread(VMCS_GUEST_RSP) : v->regs->by_index[i];
}

static int refuse_write(struct vcpu *v, const char *why)
{
	if (bad_writes++ < 8)
		pr_warn("smp: guest write to the APIC page at RIP %#lx not emulated (%s): #GP\n",
			(unsigned long)vmread(VMCS_GUEST_RIP), why);
	vcpu_inject_gp(v);
	return HV_ICPT_DONE;
}

/* EPT violation on the APIC page (read/execute allowed: a write). */
static int xapic_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	if (!(x->page.qual & 2))
		return refuse_write(v, "not a write");
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_GUEST_CS_BASE);
	uint32_t n = sizeof(buf);
	while (n && guest_read(v, rip, buf, n, false))
		n--;                          /* the instruction may end before an unmapped page */
	if (!n)
		return refuse_write(v, "instruction unreadable");
	uint32_t ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
	ZydisMachineMode mode = (ar & (1u << 13)) ? ZYDIS_MACHINE_MODE_LONG_64 :
				(ar & (1u << 14)) ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
	ZydisStackWidth sw = mode == ZYDIS_MACHINE_MODE_LONG_64 ? ZYDIS_STACK_WIDTH_64 :
			     mode == ZYDIS_MACHINE_MODE_LEGACY_32 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
	ZydisDecoder dec;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, mode, sw)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, n, &zi, zo)))
		return refuse_write(v, "undecodable");
	if ((zi.mnemonic != ZYDIS_MNEMONIC_MOV && zi.mnemonic != ZYDIS_MNEMONIC_XCHG) ||
	    zi.operand_count_visible < 2 || zo[0].type != ZYDIS_OPERAND_TYPE_MEMORY || zo[0].size != 32)
		return refuse_write(v, "not a 32-bit MOV/XCHG to memory");
	uint32_t val;
	int ri = -1;
	if (zo[1].type == ZYDIS_OPERAND_TYPE_REGISTER && (ri = gpr(zo[1].reg.value)) >= 0)
		val = (uint32_t)reg_get(v, ri);
	else if (zo[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && zi.mnemonic == ZYDIS_MNEMONIC_MOV)
		val = (uint32_t)zo[1].imm.value.u;
	else
		return refuse_write(v, "source is not a general register or an immediate");

	uint32_t off = (uint32_t)(x->page.gpa & 0xfff) & ~3u;
	volatile uint32_t *reg = (volatile uint32_t *)hv_phys_to_ptr((x->page.gpa & ~0xfffULL) + off);
	v->nr_apic_writes++;
	uint32_t old = zi.mnemonic == ZYDIS_MNEMONIC_XCHG ? *reg : 0;
	/* ICR high was written through before: the hardware register holds the
	 * guest's destination (this CPU's APIC; hvmon restores it after its own IPIs) */
	if (!(off == APIC_REG_ICR_LO && icr_write(v, val, *lapic_reg(APIC_REG_ICR_HI) >> 24, false)))
		*reg = val;
	if (zi.mnemonic == ZYDIS_MNEMONIC_XCHG) {        /* 32-bit destination: zero-extended */
		if (ri == 4)
			vmwrite(VMCS_GUEST_RSP, old);
		else
			v->regs->by_index[ri] = old;
	}
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + zi.length);
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & 3)                                     /* STI / MOV SS blocking ends */
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ULL);
	return HV_ICPT_DONE;
}

/* WRMSR 0x830 (x2APIC ICR: destination in bits 63:32). */
static int x2apic_icr(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	return icr_write(v, (uint32_t)x->msr.value, (uint32_t)(x->msr.value >> 32), true) ? HV_ICPT_DONE
											 : HV_ICPT_PASS;
}

int smp_icpt_setup(struct vm *vm)
{
	apic_page = lapic_base_pa();
	int rc = ept_set_perms_4k(&vm->ept, apic_page, EPT_R | EPT_X);
	if (rc) {
		pr_err("smp: EPT for the APIC page %#lx: %s\n", (unsigned long)apic_page, ept_strerror(rc));
		return -1;
	}
	invept_global();
	if (hv_intercept_page(vm, apic_page, xapic_write, NULL) ||
	    hv_intercept_msr_write(vm, X2APIC_MSR_ICR, x2apic_icr, NULL))
		return -1;
	pr_info("smp: guest INIT/STARTUP intercepted: xAPIC page %#lx write-protected in EPT, "
		"x2APIC ICR (MSR 0x830) in the MSR bitmap\n", (unsigned long)apic_page);
	return 0;
}
