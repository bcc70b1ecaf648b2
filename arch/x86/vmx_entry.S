/*
 * VM entry and the VM-exit stub. HOST_RSP is the top of the CPU's ring -1
 * stack minus sizeof(union guest_regs): the 16 saved guest GPRs sit at the
 * very top of the stack (Jailhouse style) and are the C handler's view.
 *
 *   void vmx_launch(union guest_regs *regs)   -- loads GPRs, VMLAUNCH;
 *        returns only into vmx_entry_failed(regs, 0) on failure
 *   vmx_exit_stub                              -- HOST_RIP
 */
	.text
.macro POP_GUEST_GPRS
	pop	%rax
	pop	%rcx
	pop	%rdx
	pop	%rbx
	add	$8, %rsp		/* RSP slot: the VMCS holds guest RSP */
	pop	%rbp
	pop	%rsi
	pop	%rdi
	pop	%r8
	pop	%r9
	pop	%r10
	pop	%r11
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
.endm

	.globl vmx_launch
vmx_launch:
	mov	%rdi, %rsp
	POP_GUEST_GPRS
	vmlaunch
	/* VMfail: back on the frame and report */
	sub	$128, %rsp
	mov	%rsp, %rdi
	xor	%esi, %esi
	call	vmx_entry_failed
1:	cli
	hlt
	jmp	1b

	.globl vmx_exit_stub
vmx_exit_stub:
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%r11
	push	%r10
	push	%r9
	push	%r8
	push	%rdi
	push	%rsi
	push	%rbp
	push	$0
	push	%rbx
	push	%rdx
	push	%rcx
	push	%rax
	cld
	/* RSB filling (vmm/spec.h, without enhanced IBRS): 32 return-stack entries
	 * that point at speculation traps, so a return that underflows the RSB in
	 * the handler never uses an entry (or, RSBA, a branch target) the guest
	 * left. Two CALLs per round, their return addresses dropped from the stack
	 * (the RSB keeps them); a final LFENCE stops a mispredicted loop exit.
	 * As Linux's __FILL_RETURN_BUFFER (arch/x86/include/asm/nospec-branch.h),
	 * run by KVM after every VM exit (arch/x86/kvm/vmx/vmenter.S). */
	cmpb	$0, spec_rsb_fill(%rip)
	je	4f
	mov	$16, %ecx
3:	call	5f
6:	pause
	lfence
	jmp	6b
5:	call	7f
8:	pause
	lfence
	jmp	8b
7:	add	$16, %rsp
	dec	%ecx
	jnz	3b
	lfence
4:	call	vmexit_handler		/* returns when the guest may resume */
	POP_GUEST_GPRS
	vmresume
	sub	$128, %rsp
	mov	%rsp, %rdi
	mov	$1, %esi
	call	vmx_entry_failed
2:	cli
	hlt
	jmp	2b
