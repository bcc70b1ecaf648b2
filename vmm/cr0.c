/* vmm/cr0.c — pure CR0 rules for the guest (see vmm/cr0.h). */
#include "vmm/cr0.h"

uint64_t cr0_guest_mask(uint64_t fixed0, uint64_t fixed1)
{
	return (fixed0 | ~fixed1 | CR0_CD | CR0_NW) & 0xffffffffULL;
}

uint64_t cr0_guest_view(uint64_t guest_cr0, uint64_t shadow, uint64_t mask)
{
	return (guest_cr0 & ~mask) | (shadow & mask);
}

struct cr0_write cr0_guest_write(uint64_t val, uint64_t fixed0, uint64_t fixed1)
{
	struct cr0_write w = { .gp = false, .shadow = val, .guest = 0 };
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD))) {
		w.gp = true;
		w.shadow = 0;
		return w;
	}
	w.guest = ((val | fixed0) & fixed1) & ~(CR0_CD | CR0_NW);
	return w;
}
