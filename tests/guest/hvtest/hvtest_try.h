/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by hvtest.ko and hvinteg.ko (tests/guest/hvtest): run one instruction
 * that may fault. */
#ifndef HVTEST_TRY_H
#define HVTEST_TRY_H

#include <asm/asm.h>

/* Run one instruction; a fault on it (#GP, #UD, #PF) sets `faulted` (operand %0)
 * and resumes after it (the kernel's exception table, as the *_safe MSR
 * accessors do). The instruction's operands are %1, %2, ... (__VA_ARGS__). */
#define HVTEST_TRY(faulted, insn, ...)						\
	asm volatile("1: " insn "\n"						\
		     "2:\n"							\
		     _ASM_EXTABLE(1b, 3f)					\
		     ".pushsection .fixup_hvtest, \"ax\"\n"			\
		     "3: movl $1, %0\n"						\
		     "   jmp 2b\n"						\
		     ".popsection\n"						\
		     : "+r"(faulted) : __VA_ARGS__ : "memory", "cc")

#endif
