/*
 * Guest boot: load the bzImage per the Linux x86 boot protocol (checks and
 * boot_params by vmm/linux_boot), build a GDT and identity page tables in
 * guest memory, and set the vCPU's initial state for the 64-bit entry
 * (startup_64 of the compressed kernel, load address + 0x200, RSI =
 * boot_params). The decompressor does KASLR itself.
 *
 * Guest "boot area" (16 pages of guest RAM, preferably below 640 KiB):
 *   +0x0000 GDT (0x10 code64, 0x18 data, 0x20 TSS)   +0x0f00 dummy TSS
 *   +0x1000 boot_params   +0x2000 command line (<= 8 KiB)
 *   +0x4000 PML4  +0x5000 PDPT  +0x6000..0x9fff 4 PDs (0..4 GiB, 2 MiB pages)
 *   +0x10000 top of the initial stack
 */
#include <string.h>
#include "vmm/vcpu.h"
#include "vmm/linux_boot.h"
#include "vmm/policy.h"
#include "lib/console.h"
#include "arch/x86/cpu.h"

#define BOOT_AREA_SIZE 0x10000
#define GUEST_CS 0x10
#define GUEST_DS 0x18
#define GUEST_TR 0x20

static void vw(uint64_t f, uint64_t v)
{
	if (vmwrite(f, v))
		pr_err("VMWRITE guest field %#lx failed\n", (unsigned long)f);
}

static void set_seg(uint32_t sel_f, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	/* field layout: selector 0x08xx, limit 0x48xx, AR 0x48xx+0x14, base 0x68xx+6 */
	unsigned int i = (sel_f - VMCS_GUEST_ES_SEL) / 2;
	vw(VMCS_GUEST_ES_SEL + 2 * i, sel);
	vw(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
	vw(VMCS_GUEST_ES_AR + 2 * i, ar);
	vw(VMCS_GUEST_ES_BASE + 2 * i, base);
}

/*
 * The guest state both starts share, the boot CPU's 64-bit entry above and an
 * AP's start at the guest's SIPI (vmm/smp.c): the values after RESET/INIT
 * (SDM Vol. 3A 9.1.1 Table 9-1) — RFLAGS 2, DR7 0x400, DEBUGCTL 0, PAT
 * 0x0007040600070406, SYSENTER 0 — active, nothing blocked (also no stale
 * NMI/SMI blocking: interruptibility bits 2/3), no pending debug exception or
 * injected event, every GPR 0. Runs on the vCPU's current VMCS.
 */
void vcpu_reset_common_state(struct vcpu *v)
{
	vw(VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED);
	vw(VMCS_GUEST_DR7, 0x400);
	vw(VMCS_GUEST_DEBUGCTL, 0);
	vw(VMCS_GUEST_PAT, 0x0007040600070406ULL);
	vw(VMCS_GUEST_SYSENTER_CS, 0);
	vw(VMCS_GUEST_SYSENTER_ESP, 0);
	vw(VMCS_GUEST_SYSENTER_EIP, 0);
	vw(VMCS_GUEST_ACTIVITY_STATE, 0);
	vw(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vw(VMCS_GUEST_PENDING_DBG, 0);
	vw(VMCS_ENTRY_INTR_INFO, 0);
	memset(v->regs, 0, sizeof(*v->regs));
}

int guest_boot_prepare(struct vm *vm, struct vcpu *v)
{
	const struct boot_info *bi = vm->bi;
	const void *kernel = (const void *)bi->guest_kernel.base;
	uint64_t ksize = bi->guest_kernel.size;
	struct lb_image img;
	int rc;

	if (!bi->guest_kernel.base || !ksize) {
		pr_err("no guest kernel: boot hvmon with 'module2 /vmlinuz guest-kernel <cmdline>'\n");
		return -1;
	}
	if ((rc = lb_parse(kernel, ksize, &img))) {
		pr_err("guest kernel at %#lx (%lu bytes) rejected: %s\n", (unsigned long)bi->guest_kernel.base,
		       (unsigned long)ksize, lb_strerror(rc));
		return -1;
	}
	pr_info("guest kernel: boot protocol %u.%02u, %lu bytes, init_size %#x, alignment %#x%s\n",
		img.version >> 8, img.version & 0xff, (unsigned long)ksize, img.init_size,
		img.kernel_alignment, img.relocatable ? ", relocatable" : "");

	struct e820_range avoid[4];
	uint32_t navoid = 0;
	avoid[navoid++] = (struct e820_range){ bi->guest_kernel.base, ksize };
	if (bi->guest_initrd.base && bi->guest_initrd.size)
		avoid[navoid++] = (struct e820_range){ bi->guest_initrd.base, bi->guest_initrd.size };

	uint64_t load;
	if ((rc = lb_place_kernel(&img, vm->e820, vm->nr_e820, avoid, navoid, &load))) {
		pr_err("no room for the guest kernel (init_size %#x): %s\n", img.init_size, lb_strerror(rc));
		return -1;
	}
	avoid[navoid++] = (struct e820_range){ load, img.init_size };

	uint64_t area;
	if (e820_find_free(vm->e820, vm->nr_e820, avoid, navoid, BOOT_AREA_SIZE, 4096, 0x10000,
			   0x9f000, 0, &area) &&
	    e820_find_free(vm->e820, vm->nr_e820, avoid, navoid, BOOT_AREA_SIZE, 4096, 0x10000,
			   1ULL << 32, 0, &area)) {
		pr_err("no guest RAM below 4 GiB for boot_params and boot page tables\n");
		return -1;
	}
	vm->guest_boot_area = area;
	vm->kernel_load = load;

	memcpy((void *)load, (const uint8_t *)kernel + img.setup_size, img.payload_file_size);

	uint8_t *a = (uint8_t *)area;
	memset(a, 0, BOOT_AREA_SIZE);
	size_t clen = strnlen(bi->guest_cmdline, BOOT_CMDLINE_MAX - 1);
	memcpy(a + 0x2000, bi->guest_cmdline, clen);

	struct lb_params p = {
		.load_addr = load,
		.cmdline_addr = area + 0x2000,
		.cmdline_len = (uint32_t)clen,
		.initrd_addr = bi->guest_initrd.base,
		.initrd_size = bi->guest_initrd.size,
		.acpi_rsdp = bi->acpi_rsdp,
		.e820 = vm->e820,
		.nr_e820 = vm->nr_e820,
	};
	if ((rc = lb_build_boot_params(kernel, ksize, &img, &p, a + 0x1000, 0x1000))) {
		pr_err("boot_params: %s\n", lb_strerror(rc));
		return -1;
	}

	/* GDT */
	uint64_t *gdt = (uint64_t *)a;
	uint64_t tss = area + 0xf00;
	gdt[GUEST_CS / 8] = 0x00af9b000000ffffULL;
	gdt[GUEST_DS / 8] = 0x00cf93000000ffffULL;
	gdt[GUEST_TR / 8] = 0x67 | ((tss & 0xffffff) << 16) | (0x8bULL << 40) | (((tss >> 24) & 0xff) << 56);
	gdt[GUEST_TR / 8 + 1] = tss >> 32;

	/* identity page tables 0..4 GiB */
	uint64_t *pml4 = (uint64_t *)(a + 0x4000), *pdpt = (uint64_t *)(a + 0x5000);
	pml4[0] = (area + 0x5000) | 3;
	for (int g = 0; g < 4; g++) {
		uint64_t *pd = (uint64_t *)(a + 0x6000 + 0x1000 * g);
		pdpt[g] = (area + 0x6000 + 0x1000 * (uint64_t)g) | 3;
		for (int i = 0; i < 512; i++)
			pd[i] = (((uint64_t)g << 30) + ((uint64_t)i << 21)) | 0x83;
	}

	/* vCPU state for the 64-bit entry */
	const struct vmx_caps *c = &vm->caps;
	uint64_t cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	uint64_t cr4 = X86_CR4_PAE;
	vw(VMCS_CR0_SHADOW, cr0);
	vw(VMCS_GUEST_CR0, (cr0 | vmx_cr0_fixed0_unrestricted(c->cr0_fixed0)) & c->cr0_fixed1);
	vw(VMCS_CR4_SHADOW, cr4);
	vw(VMCS_GUEST_CR4, (cr4 | c->cr4_fixed0 | X86_CR4_VMXE) & c->cr4_fixed1);
	vw(VMCS_GUEST_CR3, area + 0x4000);
	vw(VMCS_GUEST_EFER, X86_EFER_LME | X86_EFER_LMA);
	vw(VMCS_ENTRY_CTLS, c->entry | ENTRY_IA32E_GUEST);

	set_seg(VMCS_GUEST_CS_SEL, GUEST_CS, 0, 0xffffffff, 0xa09b);
	set_seg(VMCS_GUEST_DS_SEL, GUEST_DS, 0, 0xffffffff, 0xc093);
	set_seg(VMCS_GUEST_ES_SEL, GUEST_DS, 0, 0xffffffff, 0xc093);
	set_seg(VMCS_GUEST_SS_SEL, GUEST_DS, 0, 0xffffffff, 0xc093);
	set_seg(VMCS_GUEST_FS_SEL, GUEST_DS, 0, 0xffffffff, 0xc093);
	set_seg(VMCS_GUEST_GS_SEL, GUEST_DS, 0, 0xffffffff, 0xc093);
	set_seg(VMCS_GUEST_LDTR_SEL, 0, 0, 0, 0x10000);              /* unusable */
	set_seg(VMCS_GUEST_TR_SEL, GUEST_TR, tss, 0x67, 0x8b);       /* busy 64-bit TSS */
	vw(VMCS_GUEST_GDTR_BASE, area);
	vw(VMCS_GUEST_GDTR_LIMIT, 6 * 8 - 1);
	vw(VMCS_GUEST_IDTR_BASE, 0);
	vw(VMCS_GUEST_IDTR_LIMIT, 0);

	vw(VMCS_GUEST_RIP, lb_entry64(load));
	vw(VMCS_GUEST_RSP, area + BOOT_AREA_SIZE - 16);
	vcpu_reset_common_state(v);
	v->regs->rsi = area + 0x1000;

	pr_info("guest: kernel at %#lx (entry %#lx), boot_params %#lx, cmdline \"%s\"\n",
		(unsigned long)load, (unsigned long)lb_entry64(load), (unsigned long)(area + 0x1000),
		bi->guest_cmdline);
	if (bi->guest_initrd.base)
		pr_info("guest: initrd at %#lx, %lu bytes\n", (unsigned long)bi->guest_initrd.base,
			(unsigned long)bi->guest_initrd.size);
	return 0;
}
