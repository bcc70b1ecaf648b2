/*
 * hv_main: the one C entry both front ends end in (boot/multiboot2 and the
 * 64-bit handoff). Brings up the boot CPU, VMX and EPT, boots the guest.
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "lib/console.h"
#include "lib/heap.h"
#include "vmm/options.h"
#include "vmm/e820.h"
#include "vmm/introspect.h"
#include "vmm/probe.h"
#include "vmm/monitor.h"
#include "vmm/tick.h"
#include "vmm/netdev.h"
#include "vmm/iommu.h"
#include "vmm/smp.h"
#include "events/ring1.h"
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/layout.h"
#include "arch/x86/paging.h"

#define HVMON_VERSION "0.1"

uint64_t hv_phys_base;

static void print_memory(const struct vm *vm)
{
	const struct boot_info *bi = vm->bi;
	uint64_t image = (uint64_t)(__image_end - __image_start);
	uint64_t heap = (uint64_t)(__heap_end - __heap_start);
	pr_info("image %#lx-%#lx (%lu KiB), heap %lu KiB; %u firmware map entries, top %#lx\n",
		(unsigned long)hv_phys_base, (unsigned long)(hv_phys_base + image + heap - 1),
		(unsigned long)(image / 1024), (unsigned long)(heap / 1024), bi->nr_mem,
		(unsigned long)vm->phys_top);
	uint64_t rsvd = 0;
	for (uint32_t i = 0; i < bi->nr_reserved && i < BOOT_RSVD_MAX; i++) {
		pr_info("reserved for hvmon: %#lx-%#lx %s\n", (unsigned long)bi->reserved[i].base,
			(unsigned long)(bi->reserved[i].base + bi->reserved[i].length - 1),
			bi->reserved[i].what ? bi->reserved[i].what : "");
		rsvd += bi->reserved[i].length;
	}
	pr_info("hvmon reserves %lu KiB in total; guest RAM %lu MiB\n", (unsigned long)(rsvd / 1024),
		(unsigned long)(e820_ram_bytes(vm->e820, vm->nr_e820) >> 20));
	for (uint32_t i = 0; i < vm->nr_e820; i++)
		pr_debug("guest e820: %#014lx-%#014lx %s\n", (unsigned long)vm->e820[i].addr,
			 (unsigned long)(vm->e820[i].addr + vm->e820[i].size - 1),
			 e820_type_name(vm->e820[i].type));
}

/* issue 17: the key as typed on the command line, kept only until every copy
 * in what becomes guest RAM is wiped (hvmon's own memory is hidden by EPT) */
static char key_text[HV_OPT_WORD_MAX * 2];

/* Before the first VM entry: zero every copy of the key text in guest RAM
 * (the boot loader's config, heap and boot information: GRUB keeps several) */
static void wipe_key_copies(struct vm *vm)
{
	size_t n = 0, kl = 0;
	uint64_t bytes = 0, t0 = rdtsc();
	while (kl < sizeof(key_text) && key_text[kl])
		kl++;
	if (!kl)
		return;
	for (uint32_t i = 0; i < vm->nr_e820; i++) {
		if (vm->e820[i].type != E820_TYPE_RAM)
			continue;
		uint64_t a = vm->e820[i].addr, sz = vm->e820[i].size;
		if (a >= HV_IDENTITY_LIMIT)
			continue;               /* not mapped in ring -1; no loader puts the key there */
		if (sz > HV_IDENTITY_LIMIT - a)
			sz = HV_IDENTITY_LIMIT - a;
		n += hv_wipe_text((uint8_t *)(uintptr_t)a, sz, key_text, kl);
		bytes += sz;
	}
	for (size_t i = 0; i < sizeof(key_text); i++)
		((volatile char *)key_text)[i] = 0;
	pr_info("key: %lu cop%s of key= wiped from guest RAM (%lu MiB scanned, %lu ms)\n", (unsigned long)n,
		n == 1 ? "y" : "ies", (unsigned long)(bytes >> 20), (unsigned long)tick_tsc_to_ms(rdtsc() - t0));
}

void __attribute__((noreturn)) hv_main(struct boot_info *bi)
{
	heap_init();
	struct vm *vm = pages_alloc((sizeof(struct vm) + 4095) / 4096);
	if (!vm)
		hv_panic("heap too small for struct vm");
	vm->bi = bi;

	struct hv_opt_errors *errs = page_alloc();
	hv_options_defaults(&vm->opt);
	int own = hv_monitors_options(&vm->opt);    /* each monitor's keys (vmm/monitor.h) */
	int nerr = hv_options_parse(bi->hv_cmdline, sizeof(bi->hv_cmdline), &vm->opt, errs);
	hv_options_redact(bi->hv_cmdline, sizeof(bi->hv_cmdline), key_text, sizeof(key_text));
	if (console_init(vm->opt.console_port, vm->opt.log_level))
		hv_printf("hvmon: no UART at port %#x; console stays on port 0xe9\n", vm->opt.console_port);

	hv_printf("\nhvmon " HVMON_VERSION " - thin VT-x/EPT hypervisor (%s boot, command line \"%s\")\n",
		  bi->source == BOOT_SRC_UEFI ? "UEFI" : "Multiboot2", bi->hv_cmdline);
	if (own)
		pr_err("monitor option descriptors refused: monitors' keys are unknown\n");
	for (uint32_t i = 0; errs && i < errs->count; i++)
		pr_err("option \"%s\": %s\n", errs->e[i].word, errs->e[i].why);
	/* fail closed, the policy of hvmon.efi: a typo must not silently turn a
	 * monitor or the event channel off (issue 18) */
	if (nerr)
		hv_panic("%d bad option(s) on the command line; refusing to boot (docs/OPTIONS.md)", nerr);
	if (bi->version != BOOT_INFO_VERSION)
		hv_panic("boot_info version %u, expected %u", bi->version, BOOT_INFO_VERSION);

	struct percpu *cpu = percpu_setup(0);
	for (uint32_t i = 0; i < bi->nr_mem && i < BOOT_MEM_MAX; i++)
		if (bi->mem[i].base + bi->mem[i].length > vm->phys_top)
			vm->phys_top = bi->mem[i].base + bi->mem[i].length;
	if (paging_init(vm->phys_top))
		hv_panic("cannot build hvmon's page tables");

	struct x86_cpuid r;
	cpuid_count(1, 0, &r);
	if (r.ecx & (1u << 26))                 /* XSAVE: lets hvmon execute XSETBV for the guest */
		write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	fpu_host_init();                        /* before any VMCS: host CR0/CR4 for the seal's SSE2 */

	int rc = e820_build_guest(bi->mem, bi->nr_mem, bi->reserved, bi->nr_reserved,
				  vm->e820, E820_MAX_ENTRIES_ZEROPAGE, &vm->nr_e820);
	if (rc)
		hv_panic("guest memory map: %s", e820_strerror(rc));
	print_memory(vm);
	if (vm->opt.iommu_selftest)             /* QEMU q35 + intel-iommu + edu: no VT-x there */
		iommu_selftest(vm);

	if (vmx_probe_and_derive(&vm->caps)) {
		if (vm->opt.no_vtx == HV_NOVTX_BOOT_UNMONITORED)
			pr_err("no_vtx=boot_unmonitored is not implemented by this build\n");
		hv_panic("VT-x with EPT and unrestricted guest is required; refusing to boot the guest");
	}
	if (vmx_enable_on_cpu(cpu, &vm->caps))
		hv_panic("cannot enter VMX operation");
	if (ept_setup(vm) || msr_setup(vm) || io_setup(vm))
		hv_panic("VM setup failed");
	introspect_init(vm);                    /* failure is logged; the guest boots anyway */
	probe_vm_init(vm);                      /* probes + event rings (docs/PROBES.md) */
	tick_init(vm);                          /* periodic tick (VMX-preemption timer) */
	hv_events_start();                      /* drain tick + console pump (events/ring1.h) */
	probe_checks_start();                   /* probe tampering checks (docs/PROBES.md) */
	power_setup(vm);                        /* power-off ports; the guest's final halt ends the run */
	hv_monitors_setup(vm);                  /* monitors= (vmm/monitor.h, docs/MONITORS.md) */
	netdev_init(vm);                        /* collector=: management NIC, hidden (docs/NETWORK.md) */
	iommu_setup(vm);                        /* iommu=: VT-d for every device (docs/VTD.md) */

	struct vcpu *v = pages_alloc((sizeof(struct vcpu) + 4095) / 4096);
	if (!v)
		hv_panic("heap too small for struct vcpu");
	v->vm = vm;
	v->cpu = cpu;
	v->id = 0;
	cpu->vcpu = v;
	vm->vcpus[vm->nr_vcpus++] = v;

	if (vmcs_setup(v))
		hv_panic("VMCS setup failed");
	tick_vcpu_start(v);
	if (hv_monitors_vcpu_start(v))
		hv_panic("cannot start the monitors on vCPU %u", v->id);
	hv_intercept_apply(v);                  /* exception bitmap, #PF filter, CR4 mask */
	smp_boot_aps(vm);                       /* every other CPU: VMX root, waiting for the guest's SIPI */
	if (guest_boot_prepare(vm, v))
		hv_panic("cannot boot the guest");
	wipe_key_copies(vm);
	pr_info("entering the guest\n");
	vcpu_run(v);
}
