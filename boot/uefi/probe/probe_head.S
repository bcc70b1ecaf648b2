/* handoff header + entry of the handoff probe (see probe.c) */
	.section .handoff, "a"
	.balign 8
	.globl probe_header
probe_header:
	.ascii "HVMON64\0"
	.long 1                         /* HV_HANDOFF_VERSION */
	.long 48
	.quad probe_entry              /* linked at 0: symbol = offset */
	.quad PROBE_IMAGE_SIZE
	.quad 0x100000                  /* heap: 1 MiB, checked to be zero */
	.quad 0x200000                  /* align: 2 MiB */

	.text
	.globl probe_entry
probe_entry:
	pushfq
	pop	%rdx                    /* RFLAGS at entry -> 3rd argument */
	mov	%rsp, %rcx              /* RSP at entry -> 4th argument */
	and	$-16, %rsp
	call	probe_main
1:	cli
	hlt
	jmp	1b

	.section .note.GNU-stack,"",@progbits
