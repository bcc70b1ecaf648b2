/*
 * x86 architectural constants (SDM Vol. 3A 2.5 control registers, 2.3 RFLAGS,
 * 6.3 exception vectors, 4.7 page-fault error code; Vol. 4 MSRs). Constants
 * only: host code (unit tests, tools) may include this header.
 */
#ifndef HVMON_ARCH_REGS_H
#define HVMON_ARCH_REGS_H

#define X86_CR0_PE   (1ULL << 0)
#define X86_CR0_MP   (1ULL << 1)
#define X86_CR0_EM   (1ULL << 2)
#define X86_CR0_TS   (1ULL << 3)
#define X86_CR0_ET   (1ULL << 4)
#define X86_CR0_NE   (1ULL << 5)
#define X86_CR0_WP   (1ULL << 16)
#define X86_CR0_NW   (1ULL << 29)
#define X86_CR0_CD   (1ULL << 30)
#define X86_CR0_PG   (1ULL << 31)

#define X86_CR4_PAE     (1ULL << 5)
#define X86_CR4_PGE     (1ULL << 7)
#define X86_CR4_OSFXSR  (1ULL << 9)
#define X86_CR4_LA57    (1ULL << 12)
#define X86_CR4_VMXE    (1ULL << 13)
#define X86_CR4_SMXE    (1ULL << 14)
#define X86_CR4_OSXSAVE (1ULL << 18)
#define X86_CR4_SMEP    (1ULL << 20)
#define X86_CR4_SMAP    (1ULL << 21)

#define X86_EFER_SCE  (1ULL << 0)
#define X86_EFER_LME  (1ULL << 8)
#define X86_EFER_LMA  (1ULL << 10)
#define X86_EFER_NXE  (1ULL << 11)

#define X86_RFLAGS_FIXED (1ULL << 1)
#define X86_RFLAGS_TF    (1ULL << 8)
#define X86_RFLAGS_IF    (1ULL << 9)
#define X86_RFLAGS_DF    (1ULL << 10)

/* exception vectors */
#define X86_VEC_UD 6
#define X86_VEC_GP 13
#define X86_VEC_PF 14
#define X86_VEC_BP 3

/* #PF error code */
#define X86_PFEC_P    0x01u
#define X86_PFEC_WR   0x02u
#define X86_PFEC_US   0x04u
#define X86_PFEC_RSVD 0x08u
#define X86_PFEC_ID   0x10u

#define MSR_KERNEL_GS_BASE 0xc0000102   /* IA32_KERNEL_GS_BASE (SWAPGS) */

#endif
