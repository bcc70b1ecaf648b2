/* Speculation hygiene before each VM entry (vmm/spec.h): the mode is chosen
 * once per CPU at its vCPU's start; the action is one WRMSR or one VERW. */
#include "vmm/vcpu.h"
#include "vmm/spec.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

#define IA32_ARCH_CAPABILITIES 0x10a
#define IA32_FLUSH_CMD         0x10b

void spec_vcpu_setup(struct vcpu *v)
{
	struct x86_cpuid r;
	uint64_t caps = 0;
	cpuid_count(0, 0, &r);
	uint32_t edx = 0;
	if (r.eax >= 7) {
		cpuid_count(7, 0, &r);
		edx = r.edx;
	}
	if ((edx & CPUID7_EDX_ARCH_CAPS) && rdmsr_safe(IA32_ARCH_CAPABILITIES, &caps))
		caps = 0;
	v->spec_entry = (uint8_t)spec_entry_mode(edx, caps);
	pr_info("speculation: CPU%u: %s (CPUID.7:EDX %#x, ARCH_CAPABILITIES %#lx)\n", v->id,
		spec_entry_name((enum spec_entry)v->spec_entry), edx, (unsigned long)caps);
}

void spec_before_entry(struct vcpu *v)
{
	static const uint16_t ds = KERNEL_DS;
	switch (v->spec_entry) {
	case SPEC_ENTRY_L1D_FLUSH:
		wrmsr(IA32_FLUSH_CMD, 1);
		break;
	case SPEC_ENTRY_VERW:
		asm volatile("verw %0" : : "m"(ds) : "cc");
		break;
	default:
		break;
	}
}
