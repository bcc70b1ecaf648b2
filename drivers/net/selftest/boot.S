/*
 * Bare-metal boot for the network self-test kernel (no hvmon core, no VMX):
 * Multiboot2 entry in 32-bit protected mode → identity-mapped long mode
 * (0..4 GiB with 2 MiB pages, the top GiB uncached for MMIO) → nettest_main.
 */
#define MB2_MAGIC 0xe85250d6

	.section .multiboot2, "a"
	.align 8
mb2_hdr:
	.long MB2_MAGIC
	.long 0
	.long mb2_end - mb2_hdr
	.long -(MB2_MAGIC + (mb2_end - mb2_hdr))
	.short 0, 0
	.long 8
mb2_end:

	.section .bss
	.align 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pds:	.skip 4 * 4096
stack:	.skip 65536
stack_top:
	.global mb2_info
mb2_info: .skip 8

	.section .rodata
	.align 16
gdt:	.quad 0
	.quad 0x00209a0000000000      /* 0x08: 64-bit code */
	.quad 0x0000920000000000      /* 0x10: data */
gdt_ptr:
	.short gdt_ptr - gdt - 1
	.long gdt

	.section .text
	.code32
	.global _start
_start:
	cli
	mov $stack_top, %esp
	mov %ebx, mb2_info
	/* pml4[0] → pdpt; pdpt[i] → pds + i*4096; pd entries: 2 MiB pages */
	mov $pdpt, %eax
	or $0x3, %eax
	mov %eax, pml4
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $12, %eax
	add $pds, %eax
	or $0x3, %eax
	mov %eax, pdpt(,%ecx,8)
	inc %ecx
	cmp $4, %ecx
	jne 1b
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax                 /* present, writable, 2 MiB */
	cmp $(3 * 512), %ecx
	jb 3f
	or $0x18, %eax                 /* 3..4 GiB (MMIO): PCD|PWT */
3:	mov %eax, pds(,%ecx,8)
	movl $0, pds+4(,%ecx,8)
	inc %ecx
	cmp $(4 * 512), %ecx
	jne 2b
	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax                 /* PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx          /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax           /* PG | PE */
	mov %eax, %cr0
	lgdt gdt_ptr
	ljmp $0x08, $long_mode

	.code64
long_mode:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $stack_top, %rsp
	call nettest_main
4:	cli
	hlt
	jmp 4b
	.section .note.GNU-stack, "", @progbits
