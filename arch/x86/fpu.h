/*
 * Vector registers in ring -1 (issue 16): hvmon's C code is built with
 * -mgeneral-regs-only, so the guest's x87/SSE/AVX state stays live in the
 * registers across every VM exit (VM exits and entries save and load no
 * x87/SSE/AVX state and no XCR0: SDM Vol. 3C ch. 28, "VM Exits"). The one exception is the wire
 * sender's ChaCha20 (events/wire_seal_sse2.c, the only object built with
 * -msse2), which runs only between fpu_vec_begin() and fpu_vec_end():
 *
 *  - FXSAVE64/FXRSTOR64 of the interrupted context (the guest, or whatever
 *    ring -1 code interrupted) into a 512-byte, 16-aligned area on the
 *    caller's stack, i.e. per CPU and per nesting level: x87, MXCSR, XMM0-15
 *    (SDM Vol. 1 10.5, "FXSAVE and FXRSTOR Instructions"). That is all legacy
 *    SSE code can change: a legacy (non-VEX) SSE instruction leaves the bits
 *    above 127 of the YMM/ZMM register it writes unchanged (SDM Vol. 1 ch. 14,
 *    "Programming with AVX": the upper bits of the destination are
 *    unmodified by legacy SSE instructions), and XMM16-31, the opmask
 *    registers and AMX tiles cannot be named without VEX/EVEX. So the
 *    guest's YMM/ZMM upper halves, XMM16-31 and k0-k7 are never written and
 *    need no save. XCR0 is irrelevant to legacy SSE: it gates XSAVE-managed
 *    state and VEX/EVEX instructions, while legacy SSE execution depends on
 *    CR4.OSFXSR, CR0.EM and CR0.TS only (SDM Vol. 3A 13.1, "Provisions for
 *    SSE"; Vol. 1 13.3). XCR0 is neither read nor changed here, so a guest
 *    XCR0 without SSE (x87 only) changes nothing for this code.
 *  - It refuses (returns false: the caller takes its general-register path)
 *    unless this CPU's CR4.OSFXSR is set and CR0.EM/CR0.TS are clear: an SSE
 *    instruction would #UD/#NM otherwise, and a fault in ring -1 halts hvmon.
 *    After a VM exit CR0/CR4 are the VMCS host-state fields (SDM Vol. 3C
 *    "Loading Host Control Registers, Debug Registers, MSRs", 28.5.1 in
 *    recent editions), which vmm/vmcs.c copies from the CPU at setup:
 *    fpu_host_init() sets them on the BSP before any VMCS is written, and the
 *    APs start with the BSP's CR0/CR4 (vmm/smp.c).
 *  - MXCSR stays as the context had it: SSE2 integer instructions neither
 *    read it nor raise SIMD floating-point exceptions (SDM Vol. 1 11.4 / 11.5).
 */
#ifndef HVMON_ARCH_FPU_H
#define HVMON_ARCH_FPU_H

#include <stdbool.h>
#include <stdint.h>

#define FPU_FXSAVE_SIZE 512

struct fpu_fxsave {
	uint8_t b[FPU_FXSAVE_SIZE];
} __attribute__((aligned(16)));

/* BSP, at boot, before the first VMCS: CR4.OSFXSR on, CR0.EM/TS off, CR0.MP on. */
void fpu_host_init(void);

/* Save the live vector state into @s; false (nothing saved, no vector code
 * allowed) if this CPU cannot run SSE without a fault. */
bool fpu_vec_begin(struct fpu_fxsave *s);

/* Put @s back (after a true fpu_vec_begin only). */
void fpu_vec_end(struct fpu_fxsave *s);

#endif
