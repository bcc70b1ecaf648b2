/* Vector state around ring -1's one SSE user (arch/x86/fpu.h, issue 16). */
#include "arch/x86/fpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"

void fpu_host_init(void)
{
	/* SDM Vol. 3A 2.5 / 13.1.3: SSE needs CR4.OSFXSR = 1 and CR0.EM = 0;
	 * CR0.TS = 1 would raise #NM at the first SSE instruction; MP with TS
	 * clear is what every OS runs with. */
	write_cr4(read_cr4() | X86_CR4_OSFXSR);
	write_cr0((read_cr0() & ~(X86_CR0_EM | X86_CR0_TS)) | X86_CR0_MP);
}

bool fpu_vec_begin(struct fpu_fxsave *s)
{
	if (!(read_cr4() & X86_CR4_OSFXSR) || (read_cr0() & (X86_CR0_EM | X86_CR0_TS)))
		return false;
	/* the REX.W form keeps the 64-bit x87 FIP/FDP (SDM Vol. 2A FXSAVE) */
	asm volatile("fxsave64 %0" : "=m"(*s) : : "memory");
	return true;
}

void fpu_vec_end(struct fpu_fxsave *s)
{
	asm volatile("fxrstor64 %0" : : "m"(*s) : "memory");
}
