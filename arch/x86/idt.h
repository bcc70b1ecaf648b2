/* Exceptions in ring -1: every vector prints state and halts the CPU. */
#ifndef HVMON_ARCH_IDT_H
#define HVMON_ARCH_IDT_H

#include <stdint.h>

/* Frame built by arch/x86/isr.S (lowest address first). */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void exception_handler(struct exc_frame *f);

#endif
