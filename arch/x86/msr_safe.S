/*
 * RDMSR/WRMSR that survive #GP: the fault RIP is listed in the exception
 * fixup table (section .extable: pairs of fault RIP, fixup RIP) and
 * exception_handler resumes at the fixup, which returns -1.
 *   int rdmsr_safe(uint32_t msr, uint64_t *val)   0 or -1
 *   int wrmsr_safe(uint32_t msr, uint64_t val)    0 or -1
 *   int xsetbv_safe(uint32_t xcr, uint64_t val)   0 or -1 (issue 17: a value the
 *       validator let through by mistake must not halt ring -1)
 */
	.text
	.globl rdmsr_safe
rdmsr_safe:
	mov	%edi, %ecx
1:	rdmsr
	shl	$32, %rdx
	mov	%eax, %eax
	or	%rdx, %rax
	mov	%rax, (%rsi)
	xor	%eax, %eax
	ret
2:	mov	$-1, %eax
	ret

	.globl wrmsr_safe
wrmsr_safe:
	mov	%edi, %ecx
	mov	%rsi, %rax
	mov	%rsi, %rdx
	shr	$32, %rdx
3:	wrmsr
	xor	%eax, %eax
	ret
4:	mov	$-1, %eax
	ret

	.globl xsetbv_safe
xsetbv_safe:
	mov	%edi, %ecx
	mov	%rsi, %rax
	mov	%rsi, %rdx
	shr	$32, %rdx
5:	xsetbv
	xor	%eax, %eax
	ret
6:	mov	$-1, %eax
	ret

	.section .rodata.extable, "a"
	.balign 8
	.globl __extable_start, __extable_end
__extable_start:
	.quad 1b, 2b
	.quad 3b, 4b
	.quad 5b, 6b
__extable_end:
