/* Ring -1 exceptions are bugs: print everything useful and halt. */
#include "arch/x86/idt.h"
#include "arch/x86/percpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/nmi.h"
#include "arch/x86/vmx.h"
#include "lib/console.h"
#include "lib/stop.h"

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

extern const uint64_t __extable_start[], __extable_end[];

/* Returns only when the faulting instruction has a fixup (rdmsr_safe...). */
void exception_handler(struct exc_frame *f)
{
	/* An NMI while in ring -1: hvmon's kick (arch/x86/nmi.h) or the guest's.
	 * The guest's is remembered; vmexit_handler injects it before a VM entry.
	 * A kick may come after this exit's last look at the cross-CPU requests
	 * (smp_exit_poll): a zero VMX-preemption timer makes the guest exit again
	 * right after the entry (SDM Vol. 3C 26.7.4), so the request is answered
	 * now, not at the next tick. tick_after_exit re-arms the timer. */
	if (f->vector == 2) {
		uint64_t gs = rdmsr(IA32_GS_BASE);
		if (gs) {
			struct percpu *p = (struct percpu *)gs;
			if (nmi_kick_take(&p->nmi_kick)) {
				p->kick_nmi_root++;
				if (p->kick_timer)
					vmwrite(VMCS_PREEMPTION_TIMER, 0);
			} else {
				__atomic_fetch_add(&p->nmi_pending, 1, __ATOMIC_RELAXED);
			}
			return;
		}
	}
	if (f->vector == 13 || f->vector == 6)
		for (const uint64_t *e = __extable_start; e + 1 < __extable_end; e += 2)
			if (e[0] == f->rip) {
				f->rip = e[1];
				return;
			}
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "reserved";
	hv_printf("\nhvmon: EXCEPTION in ring -1: vector %lu (%s) error 0x%lx\n",
		  (unsigned long)f->vector, name, (unsigned long)f->error);
	hv_printf("  RIP %04lx:%016lx RFLAGS %016lx RSP %04lx:%016lx CR2 %016lx\n",
		  (unsigned long)f->cs, (unsigned long)f->rip, (unsigned long)f->rflags,
		  (unsigned long)f->ss, (unsigned long)f->rsp, (unsigned long)read_cr2());
	hv_printf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n",
		  (unsigned long)f->rax, (unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
	hv_printf("  RSI %016lx RDI %016lx RBP %016lx\n",
		  (unsigned long)f->rsi, (unsigned long)f->rdi, (unsigned long)f->rbp);
	hv_printf("  R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n",
		  (unsigned long)f->r8, (unsigned long)f->r9, (unsigned long)f->r10, (unsigned long)f->r11);
	hv_printf("  R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n",
		  (unsigned long)f->r12, (unsigned long)f->r13, (unsigned long)f->r14, (unsigned long)f->r15);
	hv_printf("  CR0 %016lx CR3 %016lx CR4 %016lx\n",
		  (unsigned long)read_cr0(), (unsigned long)read_cr3(), (unsigned long)read_cr4());
	hv_stop(HV_STOP_HOST_FAULT, NULL, "exception in ring -1");
}
