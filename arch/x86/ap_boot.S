/*
 * AP start-up trampoline (issue 11). hvmon's boot CPU copies the bytes from
 * ap_tramp_start to ap_tramp_end to a 4 KiB page below 1 MiB, fills the
 * parameter block (struct ap_params, arch/x86/ap_boot.h) and sends
 * INIT-SIPI-SIPI with that page's number as the vector. The AP starts here in
 * real mode at CS = page >> 4, IP = 0 (SDM Vol. 3A 9.4.4 "MP Initialization
 * Example"), goes through 32-bit protected mode to long mode on hvmon's own
 * page tables (below 4 GiB: the heap is), and jumps to the C entry at its high
 * address with RSP and RDI from the block. Position-independent: every
 * address is the page base (EBX) plus an offset.
 */
#define OFF(x) ((x) - ap_tramp_start)
#define P_CR3   0
#define P_CR4   8
#define P_EFER  16
#define P_CR0   24
#define P_STACK 32
#define P_ENTRY 40
#define P_ARG   48

	.section .rodata, "a"
	.balign 16
	.globl ap_tramp_start, ap_tramp_end, ap_tramp_params
	.code16
ap_tramp_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	xor	%ebx, %ebx
	mov	%ax, %bx
	shl	$4, %ebx			/* EBX = page base (linear) */
	lea	OFF(ap_gdt)(%ebx), %eax
	mov	%eax, OFF(ap_gdtr) + 2		/* DS-relative */
	lgdtl	OFF(ap_gdtr)
	lea	OFF(ap_pm32)(%ebx), %eax
	mov	%eax, OFF(ap_far32)
	mov	%cr0, %eax
	or	$1, %eax			/* PE */
	mov	%eax, %cr0
	ljmpl	*OFF(ap_far32)

	.code32
ap_pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	OFF(ap_tramp_params) + P_CR3(%ebx), %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx		/* IA32_EFER: hvmon's value (LME, NXE...) */
	mov	OFF(ap_tramp_params) + P_EFER(%ebx), %eax
	and	$~0x400, %eax			/* LMA is set by the CPU */
	xor	%edx, %edx
	wrmsr
	mov	%cr0, %eax
	or	$0x80000001, %eax		/* PG | PE: IA-32e mode */
	mov	%eax, %cr0
	lea	OFF(ap_lm64)(%ebx), %eax
	mov	%eax, OFF(ap_far64)(%ebx)
	ljmpl	*OFF(ap_far64)(%ebx)

	.code64
ap_lm64:
	mov	%ebx, %ebx			/* zero-extend */
	mov	OFF(ap_tramp_params) + P_CR0(%rbx), %rax
	mov	%rax, %cr0
	mov	OFF(ap_tramp_params) + P_CR4(%rbx), %rax
	mov	%rax, %cr4
	mov	OFF(ap_tramp_params) + P_STACK(%rbx), %rsp
	mov	OFF(ap_tramp_params) + P_ARG(%rbx), %rdi
	mov	OFF(ap_tramp_params) + P_ENTRY(%rbx), %rax
	xor	%ebp, %ebp
	push	$0				/* no return address: a C frame as after a call */
	jmp	*%rax

	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff		/* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff		/* 0x10: data */
	.quad 0x00af9b000000ffff		/* 0x18: 64-bit code */
ap_gdtr:
	.word 4 * 8 - 1
	.long 0					/* patched: linear address of ap_gdt */
	.balign 4
ap_far32:
	.long 0
	.word 0x08
	.balign 4
ap_far64:
	.long 0
	.word 0x18
	.balign 8
ap_tramp_params:
	.skip 64
ap_tramp_end:
