/* hvmon's own page tables: identity map of physical memory + the image high. */
#include "arch/x86/paging.h"
#include "arch/x86/layout.h"
#include "arch/x86/cpu.h"
#include "lib/heap.h"
#include "lib/console.h"

#define PTE_P   0x1ULL
#define PTE_W   0x2ULL
#define PTE_PS  0x80ULL
#define GIB     (1ULL << 30)

bool cpu_has_1g_pages(void)
{
	struct x86_cpuid r;
	cpuid_count(0x80000000, 0, &r);
	if (r.eax < 0x80000001)
		return false;
	cpuid_count(0x80000001, 0, &r);
	return r.edx & (1u << 26);
}

int paging_init(uint64_t phys_top)
{
	uint64_t top = phys_top < 4 * GIB ? 4 * GIB : (phys_top + GIB - 1) & ~(GIB - 1);
	if (top > 512 * GIB)
		top = 512 * GIB;                /* one PML4 slot of identity map */
	bool big = cpu_has_1g_pages();

	uint64_t *pml4 = page_alloc(), *pdpt = page_alloc(), *pdpt_hi = page_alloc(), *pd_hi = page_alloc();
	if (!pml4 || !pdpt || !pdpt_hi || !pd_hi)
		return -1;
	pml4[0] = hv_virt_to_phys(pdpt) | PTE_P | PTE_W;
	for (uint64_t g = 0; g < top / GIB; g++) {
		if (big) {
			pdpt[g] = (g * GIB) | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		uint64_t *pd = page_alloc();
		if (!pd)
			return -1;
		for (int i = 0; i < 512; i++)
			pd[i] = (g * GIB + ((uint64_t)i << 21)) | PTE_P | PTE_W | PTE_PS;
		pdpt[g] = hv_virt_to_phys(pd) | PTE_P | PTE_W;
	}
	pml4[511] = hv_virt_to_phys(pdpt_hi) | PTE_P | PTE_W;
	pdpt_hi[510] = hv_virt_to_phys(pd_hi) | PTE_P | PTE_W;
	for (int i = 0; i < 512; i++)
		pd_hi[i] = (hv_phys_base + ((uint64_t)i << 21)) | PTE_P | PTE_W | PTE_PS;

	write_cr3(hv_virt_to_phys(pml4));
	write_cr0(read_cr0() | X86_CR0_WP);
	pr_debug("page tables: identity 0..%#lx (%s pages), image at %#lx -> %#lx\n",
		 (unsigned long)top, big ? "1 GiB" : "2 MiB", (unsigned long)HV_VBASE,
		 (unsigned long)hv_phys_base);
	return 0;
}
