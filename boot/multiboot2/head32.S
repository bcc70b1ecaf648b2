/*
 * Multiboot2 header and 32-bit entry. GRUB loads hvmon.elf (relocated to a
 * 2 MiB aligned base below 4 GiB, or at p_paddr = HV_PHYS_DEFAULT) and
 * jumps here in 32-bit protected mode, paging off,
 * EAX = 0x36d76289, EBX = physical address of the MBI.
 *
 * The code is position independent with respect to its physical base: it
 * derives phys_base from its own address, builds hvmon's boot page tables
 * (arch/x86/head64.S: identity 0..4 GiB + HV_VBASE -> phys_base), enters
 * long mode and continues at hv_start64 (high VA) with
 * RDI = magic, RSI = MBI, RDX = phys_base.
 */
#include "arch/x86/layout.h"

#define MB2_HEADER_MAGIC   0xe85250d6
#define MB2_BOOT_MAGIC     0x36d76289
#define MB2_ARCH_I386      0
#define OFF(sym)           ((sym) - HV_VBASE)

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* entry address tag: physical address of hv_entry32 */
	.balign 8
	.short 3, 0
	.long 12
	.long hv_entry32 - HV_VBASE + HV_PHYS_DEFAULT

	/* relocatable tag: GRUB may load the image anywhere in [16 MiB, 4 GiB), 2 MiB aligned,
	 * preferring high addresses (away from where the guest kernel goes). The code only
	 * needs a 2 MiB aligned base below 4 GiB; without relocation support GRUB uses
	 * p_paddr (HV_PHYS_DEFAULT). */
	.balign 8
	.short 10, 0
	.long 24
	.long 0x01000000		/* min_addr */
	.long 0xffffffff		/* max_addr */
	.long 0x00200000		/* align */
	.long 2				/* preference: highest */

	/* module alignment tag: page-aligned modules */
	.balign 8
	.short 6, 0
	.long 8

	/* end tag */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl hv_entry32
hv_entry32:
	cli
	cld
	mov	%eax, %edi			/* magic */
	mov	%ebx, %esi			/* MBI */

	call	1f
1:	pop	%ebp
	sub	$OFF(1b), %ebp			/* ebp = physical base of the image */

	/* earliest sign of life on the Bochs debug port */
	mov	$0xe9, %dx
	mov	$'h', %al
	outb	%al, %dx

	cmp	$MB2_BOOT_MAGIC, %edi
	jne	.Lbad_magic

	/* long mode available? */
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	jb	.Lno_lm
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx
	jnc	.Lno_lm

	lea	OFF(hv_boot_stack_top)(%ebp), %esp

	/* ---- boot page tables (see arch/x86/head64.S for the layout) ---- */
	lea	OFF(hv_boot_pml4)(%ebp), %ebx
	lea	OFF(hv_boot_pdpt_lo + 3)(%ebp), %eax
	mov	%eax, (%ebx)
	lea	OFF(hv_boot_pdpt_hi + 3)(%ebp), %eax
	mov	%eax, 511*8(%ebx)

	lea	OFF(hv_boot_pdpt_lo)(%ebp), %ebx
	lea	OFF(hv_boot_pd_lo + 3)(%ebp), %eax
	mov	$4, %ecx
2:	mov	%eax, (%ebx)
	add	$4096, %eax
	add	$8, %ebx
	loop	2b

	lea	OFF(hv_boot_pd_lo)(%ebp), %ebx	/* 2048 x 2 MiB identity, 0..4 GiB */
	mov	$0x83, %eax
	xor	%edx, %edx
	mov	$2048, %ecx
3:	mov	%eax, (%ebx)
	mov	%edx, 4(%ebx)
	add	$0x200000, %eax
	adc	$0, %edx
	add	$8, %ebx
	loop	3b

	lea	OFF(hv_boot_pdpt_hi)(%ebp), %ebx
	lea	OFF(hv_boot_pd_hi + 3)(%ebp), %eax
	mov	%eax, 510*8(%ebx)		/* 0xffffffff80000000 */

	lea	OFF(hv_boot_pd_hi)(%ebp), %ebx	/* 512 x 2 MiB from phys_base */
	lea	0x83(%ebp), %eax
	xor	%edx, %edx
	mov	$512, %ecx
4:	mov	%eax, (%ebx)
	mov	%edx, 4(%ebx)
	add	$0x200000, %eax
	adc	$0, %edx
	add	$8, %ebx
	loop	4b

	/* ---- enter long mode ---- */
	lea	OFF(hv_boot_pml4)(%ebp), %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	$0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr

	lea	OFF(mb2_gdt)(%ebp), %eax
	mov	%eax, OFF(mb2_gdtr + 2)(%ebp)
	lgdt	OFF(mb2_gdtr)(%ebp)

	mov	%cr0, %eax
	or	$0x80000001, %eax		/* PG | PE */
	mov	%eax, %cr0

	lea	OFF(.Llong)(%ebp), %eax
	push	$KERNEL_CS
	push	%eax
	lret

.Lbad_magic:
	lea	OFF(msg_magic)(%ebp), %ebx
	jmp	.Lfail
.Lno_lm:
	lea	OFF(msg_nolm)(%ebp), %ebx
.Lfail:
	mov	$0xe9, %dx
5:	movb	(%ebx), %al
	test	%al, %al
	jz	6f
	outb	%al, %dx
	inc	%ebx
	jmp	5b
6:	hlt
	jmp	6b

	.code64
.Llong:
	mov	$KERNEL_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%edi, %edi			/* zero-extend magic, MBI, base */
	mov	%esi, %esi
	mov	%ebp, %edx
	movabs	$hv_start64_mb2, %rax
	jmp	*%rax

	.section .rodata
msg_magic:
	.asciz "hvmon: not started by a Multiboot2 loader (bad EAX magic)\n"
msg_nolm:
	.asciz "hvmon: this CPU has no long mode\n"

	.section .data
	.balign 16
mb2_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
mb2_gdt_end:
mb2_gdtr:
	.short mb2_gdt_end - mb2_gdt - 1
	.long 0				/* patched with the physical address */
