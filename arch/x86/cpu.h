/*
 * x86 CPU primitives for ring -1: control registers, MSRs, CPUID, port I/O,
 * TSC. Inline wrappers only; no state.
 */
#ifndef HVMON_ARCH_CPU_H
#define HVMON_ARCH_CPU_H

#include <stdint.h>
#include <stdbool.h>

#include "arch/x86/regs.h"

#define IA32_FEATURE_CONTROL  0x3a
#define   IA32_FC_LOCK                  (1ULL << 0)
#define   IA32_FC_VMX_IN_SMX      (1ULL << 1)
#define   IA32_FC_VMX_OUT_SMX     (1ULL << 2)
#define IA32_SYSENTER_CS      0x174
#define IA32_SYSENTER_ESP     0x175
#define IA32_SYSENTER_EIP     0x176
#define IA32_DEBUGCTL         0x1d9
#define IA32_MTRRCAP          0xfe
#define IA32_MTRR_PHYSBASE0   0x200
#define IA32_MTRR_FIX64K      0x250
#define IA32_MTRR_FIX16K_80   0x258
#define IA32_MTRR_FIX16K_A0   0x259
#define IA32_MTRR_FIX4K_C0    0x268
#define IA32_PAT              0x277
#define IA32_MTRR_DEF_TYPE    0x2ff
#define IA32_VMX_BASIC        0x480
#define IA32_VMX_PINBASED     0x481
#define IA32_VMX_PROCBASED    0x482
#define IA32_VMX_EXIT         0x483
#define IA32_VMX_ENTRY        0x484
#define IA32_VMX_MISC         0x485
#define IA32_VMX_CR0_FIXED0   0x486
#define IA32_VMX_CR0_FIXED1   0x487
#define IA32_VMX_CR4_FIXED0   0x488
#define IA32_VMX_CR4_FIXED1   0x489
#define IA32_VMX_VMCS_ENUM    0x48a
#define IA32_VMX_PROCBASED2   0x48b
#define IA32_VMX_EPT_VPID_CAP 0x48c
#define IA32_VMX_TRUE_PIN     0x48d
#define IA32_VMX_TRUE_PROC    0x48e
#define IA32_VMX_TRUE_EXIT    0x48f
#define IA32_VMX_TRUE_ENTRY   0x490
#define IA32_VMX_VMFUNC       0x491
#define IA32_VMX_PROCBASED3   0x492
#define IA32_EFER             0xc0000080
#define IA32_STAR             0xc0000081
#define IA32_LSTAR            0xc0000082
#define IA32_FS_BASE          0xc0000100
#define IA32_GS_BASE          0xc0000101

struct x86_cpuid { uint32_t eax, ebx, ecx, edx; };

static inline void cpuid_count(uint32_t leaf, uint32_t sub, struct x86_cpuid *r)
{
	asm volatile("cpuid" : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
		     : "a"(leaf), "c"(sub));
}

/* XGETBV: #UD unless CR4.OSXSAVE is set (check read_cr4() first) */
static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

#define DEFINE_CR(n) \
static inline uint64_t read_cr##n(void) { uint64_t v; asm volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
static inline void write_cr##n(uint64_t v) { asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_dr7(void) { uint64_t v; asm volatile("mov %%dr7, %0" : "=r"(v)); return v; }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* IN/OUT of @size bytes (1, 2 or 4), as an I/O exit qualification gives them. */
static inline uint32_t port_in(uint16_t port, unsigned int size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}
static inline void port_out(uint16_t port, unsigned int size, uint32_t v)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static inline void cpu_relax(void) { asm volatile("pause" ::: "memory"); }

static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline uint16_t read_tr(void) { uint16_t v; asm volatile("str %0" : "=r"(v)); return v; }
static inline void sgdt(struct desc_ptr *p) { asm volatile("sgdt %0" : "=m"(*p)); }
static inline void sidt(struct desc_ptr *p) { asm volatile("sidt %0" : "=m"(*p)); }
#define read_seg(s) ({ uint16_t __v; asm volatile("mov %%" #s ", %0" : "=r"(__v)); __v; })

/* CPUID.80000001:EDX.Page1GB */
bool cpu_has_1g_pages(void);

/* arch/x86/msr_safe.S: 0 on success, -1 when the access faulted (#GP). */
int rdmsr_safe(uint32_t msr, uint64_t *val);
int wrmsr_safe(uint32_t msr, uint64_t val);
int xsetbv_safe(uint32_t xcr, uint64_t val);

#endif
