/* Per-CPU GDT and TSS, the (shared, read-only) IDT, GS base. */
#include <string.h>
#include "arch/x86/percpu.h"
#include "arch/x86/layout.h"
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "lib/heap.h"
#include "lib/console.h"

struct __attribute__((packed)) idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t rsvd;
};

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint64_t isr_stubs[32];        /* arch/x86/isr.S */

static void idt_build(void)
{
	for (int v = 0; v < 32; v++) {
		uint64_t a = isr_stubs[v];
		idt[v] = (struct idt_gate){
			.off0 = (uint16_t)a, .sel = KERNEL_CS,
			.ist = v == 2 ? 2 : v == 8 ? 1 : v == 18 ? 3 : 0,
			.type = 0x8e, .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32),
		};
	}
}

struct percpu *percpu_alloc(uint32_t cpu_id)
{
	size_t pages = (sizeof(struct percpu) + 4095) / 4096;
	struct percpu *p = pages_alloc(pages);
	if (!p)
		hv_panic("no heap memory for per-CPU data of CPU %u", cpu_id);
	p->self = p;
	p->cpu_id = cpu_id;

	p->tss.ist[0] = (uint64_t)(p->ist_df + HV_IST_SIZE);
	p->tss.ist[1] = (uint64_t)(p->ist_nmi + HV_IST_SIZE);
	p->tss.ist[2] = (uint64_t)(p->ist_mc + HV_IST_SIZE);
	p->tss.rsp[0] = percpu_stack_top(p);
	p->tss.iomap_base = sizeof(struct tss64);

	uint64_t tss = (uint64_t)&p->tss, lim = sizeof(struct tss64) - 1;
	p->gdt[0] = 0;
	p->gdt[1] = 0x00af9b000000ffffULL;    /* KERNEL_CS: 64-bit code, accessed */
	p->gdt[2] = 0x00cf93000000ffffULL;    /* KERNEL_DS */
	p->gdt[3] = (lim & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ULL << 40) |
		    (((lim >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	p->gdt[4] = tss >> 32;

	if (cpu_id == 0)
		idt_build();
	return p;
}

/* On the CPU that owns @p: GDT, segments, IDT (shared), TSS, GS base. */
void percpu_load(struct percpu *p)
{
	struct desc_ptr gdtr = { sizeof(p->gdt) - 1, (uint64_t)p->gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };
	asm volatile(
		"lgdt %0\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"mov %3, %%eax\n\t"
		"mov %%eax, %%ds\n\t"
		"mov %%eax, %%es\n\t"
		"mov %%eax, %%ss\n\t"
		"xor %%eax, %%eax\n\t"
		"mov %%eax, %%fs\n\t"
		"mov %%eax, %%gs\n\t"
		"lidt %1\n\t"
		"mov %4, %%eax\n\t"
		"ltr %%ax\n\t"
		: : "m"(gdtr), "m"(idtr), "i"(KERNEL_CS), "i"(KERNEL_DS), "i"(KERNEL_TSS)
		: "rax", "memory");
	wrmsr(IA32_GS_BASE, (uint64_t)p);
	wrmsr(IA32_FS_BASE, 0);
}

struct percpu *percpu_setup(uint32_t cpu_id)
{
	struct percpu *p = percpu_alloc(cpu_id);
	percpu_load(p);
	return p;
}
