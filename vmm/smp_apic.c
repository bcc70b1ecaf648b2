/*
 * The guest's ICR writes (issue 11; vmm/smp.h). INIT and STARTUP IPIs are
 * taken from the guest and handled by vmm/smp.c; every other APIC write is
 * performed on this CPU's local APIC unchanged.
 *
 * xAPIC: the APIC page (IA32_APIC_BASE) is read/execute-only in EPT, so reads
 * go straight to the hardware and every write exits (EPT violation, SDM Vol.
 * 3C 28.3.3.2). The exit gives the address but not the value, so the
 * instruction is decoded (vmm/apic_icr.c, Zydis): Linux writes APIC registers with MOV (or
 * XCHG on old Pentium erratum 11AP parts) from a register or an immediate.
 * Cost: one exit per APIC write (EOI, timer, IPIs), none per read.
 * x2APIC: only MSR 0x830 (ICR) is in the MSR bitmap: one exit per IPI sent,
 * none per interrupt or EOI (MSR 0x80B stays direct).
 */
#include "vmm/smp.h"
#include "vmm/vcpu.h"
#include "vmm/guest.h"
#include "vmm/apic_icr.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/layout.h"

static uint64_t apic_page;
static uint32_t warnings;

static void warn(const char *what, const char *why, uint64_t a)
{
	if (__atomic_fetch_add(&warnings, 1, __ATOMIC_RELAXED) < 8)
		pr_warn("smp: guest %s (%s, %#lx)\n", what, why, (unsigned long)a);
}

/* An ICR write: INIT / STARTUP go to vmm/smp.c (true: taken from the guest). */
static bool icr_write(struct vcpu *v, uint32_t lo, uint32_t dest, bool x2)
{
	struct icr_req r = icr_classify(lo, dest, x2);
	switch (r.act) {
	case ICR_PASS:
		return false;
	case ICR_DROP:
		warn("INIT/STARTUP dropped", r.why, lo);
		return true;
	case ICR_INIT:
		smp_guest_init(v, r.dest, r.all);
		return true;
	case ICR_SIPI:
		smp_guest_sipi(v, r.dest, r.all, r.vector);
		return true;
	}
	return true;
}

static uint64_t reg_get(struct vcpu *v, int i)
{
	return i == 4 ? vmread(VMCS_GUEST_RSP) : v->regs->by_index[i];
}

static void reg_set32(struct vcpu *v, int i, uint32_t val)   /* a 32-bit destination zero-extends */
{
	if (i == 4)
		vmwrite(VMCS_GUEST_RSP, val);
	else
		v->regs->by_index[i] = val;
}

static int refuse_write(struct vcpu *v, const char *why)
{
	warn("write to the APIC page not emulated: #GP", why, vmread(VMCS_GUEST_RIP));
	vcpu_inject_gp(v);
	return HV_ICPT_DONE;
}

/* EPT violation on the APIC page (read/execute allowed: a write). */
static int xapic_write(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	if (!(x->page.qual & 2))
		return refuse_write(v, "not a write");
	uint8_t buf[15];
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_GUEST_CS_BASE);
	uint32_t n = sizeof(buf);
	while (n && guest_read(v, rip, buf, n, false))
		n--;                          /* the instruction may end before an unmapped page */
	uint32_t ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
	struct apic_store st;
	const char *why;
	if (!n)
		return refuse_write(v, "instruction unreadable");
	if (apic_store_decode(buf, n, (ar & (1u << 13)) ? 64 : (ar & (1u << 14)) ? 32 : 16, &st, &why))
		return refuse_write(v, why);
	uint32_t val = st.reg >= 0 ? (uint32_t)reg_get(v, st.reg) : st.imm;
	uint32_t off = (uint32_t)(x->page.gpa & 0xfff) & ~3u;
	volatile uint32_t *reg = (volatile uint32_t *)hv_phys_to_ptr((x->page.gpa & ~0xfffULL) + off);
	v->nr_apic_writes++;
	uint32_t old = st.xchg ? *reg : 0;
	/* ICR high was written through before: the hardware register holds the
	 * guest's destination (this CPU's APIC; hvmon restores it after its own IPIs) */
	if (!(off == APIC_REG_ICR_LO && icr_write(v, val, *lapic_reg(APIC_REG_ICR_HI) >> 24, false)))
		*reg = val;
	if (st.xchg)
		reg_set32(v, st.reg, old);
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + st.len);
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & 3)                                     /* STI / MOV SS blocking ends */
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ULL);
	return HV_ICPT_DONE;
}

/* WRMSR 0x830 (x2APIC ICR: destination in bits 63:32). With the APIC in
 * xAPIC mode the x2APIC MSRs do not exist (SDM Vol. 3A 11.12.1.2): the write
 * is performed on the hardware, which raises #GP, reflected to the guest as
 * on bare metal — an xAPIC guest cannot start a CPU through this MSR. */
static int x2apic_icr(struct vcpu *v, struct hv_icpt *x, void *ctx)
{
	(void)ctx;
	if (!lapic_x2apic())
		return HV_ICPT_PASS;
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
