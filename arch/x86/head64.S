/*
 * 64-bit side of boot: the handoff header (boot/handoff.h), the 64-bit
 * handoff entry for loaders already in long mode, hvmon's boot page tables
 * and the common high-VA start that calls into C.
 *
 * Boot page tables (in bss, zeroed by every loader):
 *   hv_boot_pml4[0]   -> hv_boot_pdpt_lo -> 4 x hv_boot_pd_lo: 0..4 GiB identity, 2 MiB pages
 *   hv_boot_pml4[511] -> hv_boot_pdpt_hi[510] -> hv_boot_pd_hi: HV_VBASE.. -> phys_base.. (1 GiB)
 * C code (arch/x86/paging.c) replaces them with the final tables.
 */
#include "arch/x86/layout.h"
#include "boot/handoff.h"

	.section .handoff, "a"
	.balign 8
	.globl hv_handoff_header
hv_handoff_header:
	.ascii "HVMON64\0"
	.long HV_HANDOFF_VERSION
	.long 48
	.quad hv_entry64 - HV_VBASE
	.quad HV_IMAGE_SIZE
	.quad HV_HEAP_BYTES
	.quad HV_HANDOFF_ALIGN

	.section .text.boot, "ax"
	.code64
/* RDI = boot_info (physical), RSI = phys_base; long mode, identity map. */
	.globl hv_entry64
hv_entry64:
	cli
	cld
	mov	%rdi, %r12
	lea	__image_start(%rip), %rbp	/* running identity-mapped: RIP-relative = physical */
	mov	$0xe9, %dx
	mov	$'H', %al
	outb	%al, %dx

	lea	hv_boot_pml4(%rip), %rbx
	lea	hv_boot_pdpt_lo+3(%rip), %rax
	mov	%rax, (%rbx)
	lea	hv_boot_pdpt_hi+3(%rip), %rax
	mov	%rax, 511*8(%rbx)

	lea	hv_boot_pdpt_lo(%rip), %rbx
	lea	hv_boot_pd_lo+3(%rip), %rax
	mov	$4, %ecx
1:	mov	%rax, (%rbx)
	add	$4096, %rax
	add	$8, %rbx
	loop	1b

	lea	hv_boot_pd_lo(%rip), %rbx
	mov	$0x83, %eax
	mov	$2048, %ecx
2:	mov	%rax, (%rbx)
	add	$0x200000, %rax
	add	$8, %rbx
	loop	2b

	lea	hv_boot_pdpt_hi(%rip), %rbx
	lea	hv_boot_pd_hi+3(%rip), %rax
	mov	%rax, 510*8(%rbx)

	lea	hv_boot_pd_hi(%rip), %rbx
	lea	0x83(%rbp), %rax
	mov	$512, %ecx
3:	mov	%rax, (%rbx)
	add	$0x200000, %rax
	add	$8, %rbx
	loop	3b

	lea	hv_boot_pml4(%rip), %rax
	mov	%rax, %cr3

	mov	%r12, %rdi
	mov	%rbp, %rsi
	movabs	$hv_start64_handoff, %rax
	jmp	*%rax

	.text
/* High VA from here on. */
	.globl hv_start64_mb2
hv_start64_mb2:				/* RDI = magic, RSI = MBI, RDX = phys_base */
	lea	hv_boot_stack_top(%rip), %rsp
	xor	%ebp, %ebp
	mov	%rdx, hv_phys_base(%rip)
	call	mb2_main
	jmp	hv_dead

	.globl hv_start64_handoff
hv_start64_handoff:			/* RDI = boot_info, RSI = phys_base */
	lea	hv_boot_stack_top(%rip), %rsp
	xor	%ebp, %ebp
	mov	%rsi, hv_phys_base(%rip)
	call	hv_main
hv_dead:
	cli
	hlt
	jmp	hv_dead

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
	.globl hv_boot_pml4, hv_boot_pdpt_lo, hv_boot_pd_lo, hv_boot_pdpt_hi, hv_boot_pd_hi
hv_boot_pml4:	 .skip 4096
hv_boot_pdpt_lo: .skip 4096
hv_boot_pd_lo:	 .skip 4 * 4096
hv_boot_pdpt_hi: .skip 4096
hv_boot_pd_hi:	 .skip 4096

	.section .bss, "aw", @nobits
	.balign 16
	.globl hv_boot_stack_top
hv_boot_stack:
	.skip HV_BOOT_STACK_SIZE
hv_boot_stack_top:
