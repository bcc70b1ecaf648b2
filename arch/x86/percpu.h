/*
 * Per-CPU data of ring -1. One struct percpu per physical CPU, allocated
 * from the heap; host GS base points at it (this_cpu()). Nothing CPU-local
 * lives in globals, so bringing up more CPUs later is an addition.
 */
#ifndef HVMON_ARCH_PERCPU_H
#define HVMON_ARCH_PERCPU_H

#include <stdint.h>

#define HV_STACK_SIZE   0x8000      /* ring -1 stack of a CPU (VM-exit handling) */
#define HV_IST_SIZE     0x2000
#define HV_MAX_CPUS     64

struct __attribute__((packed)) tss64 {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1;
	uint64_t ist[7];
	uint64_t rsvd2;
	uint16_t rsvd3;
	uint16_t iomap_base;
};

struct vcpu;

struct percpu {
	struct percpu *self;                /* %gs:0 */
	uint32_t cpu_id;                    /* 0 = boot CPU */
	uint32_t apic_id;
	struct vcpu *vcpu;                  /* the vCPU this CPU runs */
	volatile uint32_t nmi_pending;      /* the guest's NMIs seen by hvmon, owed to the guest */
	volatile uint32_t nmi_kick;         /* a kick NMI is in flight to this CPU (arch/x86/nmi.h) */
	volatile uint32_t kick_nmi_root;    /* kick NMIs taken in ring -1 (statistics) */
	uint8_t kick_timer;                 /* its VMCS is current: a kick in ring -1 zeroes the preemption timer */
	void *vmxon_region;                 /* VA, 4 KiB */
	uint64_t vmxon_pa;
	uint64_t gdt[6] __attribute__((aligned(16)));  /* null, code, data, TSS (2), spare */
	struct tss64 tss __attribute__((aligned(16)));
	uint8_t ist_df[HV_IST_SIZE] __attribute__((aligned(16)));
	uint8_t ist_nmi[HV_IST_SIZE] __attribute__((aligned(16)));
	uint8_t ist_mc[HV_IST_SIZE] __attribute__((aligned(16)));
	uint8_t stack[HV_STACK_SIZE] __attribute__((aligned(16)));
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Allocate and set up GDT/TSS/IDT, GS base for @cpu_id on the calling CPU. */
struct percpu *percpu_setup(uint32_t cpu_id);
/* The two halves (SMP: the boot CPU allocates an AP's block, the AP loads it). */
struct percpu *percpu_alloc(uint32_t cpu_id);
void percpu_load(struct percpu *p);

/* Top of this CPU's ring -1 stack (16-byte aligned). */
static inline uint64_t percpu_stack_top(struct percpu *p)
{
	return (uint64_t)(p->stack + HV_STACK_SIZE);
}

#endif
