/* Speculation hygiene (vmm/spec.h): chosen once per CPU at its vCPU's start.
 * Before each VM entry: one WRMSR or one VERW. At each VM exit: IA32_SPEC_CTRL
 * switched by the VMCS MSR lists (no code), the RSB filled by the exit stub
 * (arch/x86/vmx_entry.S) when spec_rsb_fill is set. */
#include "vmm/vcpu.h"
#include "vmm/spec.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/tick.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"

#define IA32_ARCH_CAPABILITIES 0x10a
#define IA32_FLUSH_CMD         0x10b

/* read by vmx_exit_stub at every exit: fill the RSB (set when any CPU needs it) */
uint8_t spec_rsb_fill;

/* The guest's IA32_SPEC_CTRL saved at every exit (VM-exit MSR-store list) and
 * loaded at every entry from the same slot (VM-entry MSR-load list); hvmon's
 * own loaded at every exit (VM-exit MSR-load list): SDM Vol. 3C 24.7.2,
 * 24.8.2, 27.4, 26.4. Cost: one MSR access in microcode per transition
 * (three per exit/entry pair), paid on every exit; KVM instead reads the MSR
 * with RDMSR after an exit and writes only on a change, which needs code before
 * the first indirect branch after the exit; the lists leave no window at all. */
static void spec_ctrl_lists(struct vcpu *v, uint64_t host)
{
	uint64_t *m = page_alloc();
	if (!m) {
		pr_err("speculation: CPU%u: no page for the MSR lists: SPEC_CTRL not switched\n", v->id);
		return;
	}
	m[0] = MSR_IA32_SPEC_CTRL;      /* entry: bits 31:0 the MSR, 127:64 the value */
	m[1] = 0;                       /* the guest's: 0 as after a reset (SDM Vol. 4) */
	m[2] = MSR_IA32_SPEC_CTRL;
	m[3] = host;
	uint64_t pa = hv_virt_to_phys(m);
	if (vmwrite(VMCS_EXIT_MSR_STORE, pa) || vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 1) ||
	    vmwrite(VMCS_ENTRY_MSR_LOAD, pa) || vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 1) ||
	    vmwrite(VMCS_EXIT_MSR_LOAD, pa + 16) || vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 1)) {
		pr_err("speculation: CPU%u: VMWRITE of the MSR lists failed: SPEC_CTRL not switched\n", v->id);
		vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
		vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
		vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
		return;
	}
	wrmsr(MSR_IA32_SPEC_CTRL, host);   /* hvmon's value from now on, before the first entry */
	v->spec_msrs = m;
}

/*
 * The guest's IA32_SPEC_CTRL as the exits store it, looked at once a second: a
 * change is logged with the exit count, an unchanged value at 1, 2, 4, 8... s.
 * Linux writes SPEC_CTRL at boot (its mitigation base) and again only on a
 * task's speculation-control change; a value it set that the exits keep
 * storing across thousands of exits is the guest's value surviving them (the
 * entries load it back): had hvmon's own value stayed in force, the next exit
 * would store hvmon's (docs/SECURITY.md, tests/campaign/spec_icelake.sh).
 */
#define SPEC_WATCH_MS 1000
static void spec_watch(struct vcpu *v, uint64_t now, void *ctx)
{
	(void)now; (void)ctx;
	if (!v->spec_msrs)
		return;
	uint64_t g = v->spec_msrs[1];
	if (g != v->spec_seen || !v->spec_seen_exit) {
		pr_info("speculation: vCPU%u: guest IA32_SPEC_CTRL %#lx at exit %lu (was %#lx); hvmon's %#lx in "
			"root operation\n", v->id, (unsigned long)g, (unsigned long)v->nr_exits,
			(unsigned long)v->spec_seen, (unsigned long)rdmsr(MSR_IA32_SPEC_CTRL));
		v->spec_seen = g;
		v->spec_seen_exit = v->nr_exits;
		v->spec_watch_n = 0;
		return;
	}
	uint32_t n = ++v->spec_watch_n;
	if (!(n & (n - 1)))
		pr_info("speculation: vCPU%u: guest IA32_SPEC_CTRL %#lx unchanged from exit %lu to exit %lu "
			"(%lu exits, %u s); hvmon's %#lx in root operation\n", v->id, (unsigned long)g,
			(unsigned long)v->spec_seen_exit, (unsigned long)v->nr_exits,
			(unsigned long)(v->nr_exits - v->spec_seen_exit), n, (unsigned long)rdmsr(MSR_IA32_SPEC_CTRL));
}

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

	struct spec_exit e;
	spec_exit_policy(edx, caps, &e);
	if (e.rsb_fill)
		spec_rsb_fill = 1;
	if (e.switch_spec_ctrl)
		spec_ctrl_lists(v, e.host_spec_ctrl);
	static bool watching;           /* one tick client for all vCPUs: registered on the boot CPU */
	if (v->spec_msrs && v->id == 0 && !watching && tick_register("spec-watch", SPEC_WATCH_MS, spec_watch, NULL) == 0)
		watching = true;
	pr_info("speculation: CPU%u: at VM exit: %s%s; %s\n", v->id,
		!v->spec_msrs ? "IA32_SPEC_CTRL absent, not switched"
			      : "IA32_SPEC_CTRL switched by the VMCS MSR lists, hvmon's ",
		!v->spec_msrs ? "" : e.host_spec_ctrl == 0 ? "0"
			      : e.legacy_ibrs ? "IBRS (legacy: rewritten at every exit)" : "IBRS (enhanced)",
		e.rsb_fill ? "RSB filled at every exit (no enhanced IBRS)"
			   : "no RSB filling (enhanced IBRS; no unbalanced RET after an exit)");
}

void spec_print_stats(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		if (v && v->spec_msrs)
			hv_printf("hvmon: speculation: vCPU %u: guest IA32_SPEC_CTRL %#lx (saved at the last exit), "
				  "hvmon's %#lx (in force now)\n", v->id, (unsigned long)v->spec_msrs[1],
				  (unsigned long)rdmsr(MSR_IA32_SPEC_CTRL));
	}
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
