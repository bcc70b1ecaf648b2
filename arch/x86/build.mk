# x86 ring -1 primitives (core engineer).
HV_SRCS += arch/x86/head64.S arch/x86/isr.S arch/x86/msr_safe.S arch/x86/vmx_entry.S arch/x86/ap_boot.S \
	arch/x86/segment.c arch/x86/exception.c arch/x86/paging.c arch/x86/fpu.c
