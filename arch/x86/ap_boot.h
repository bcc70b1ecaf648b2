/*
 * AP start-up trampoline (arch/x86/ap_boot.S): the bytes to copy to a page
 * below 1 MiB and the parameter block inside them (issue 11).
 */
#ifndef HVMON_ARCH_AP_BOOT_H
#define HVMON_ARCH_AP_BOOT_H

#include <stdint.h>

struct ap_params {
	uint64_t cr3;        /* hvmon's page tables (below 4 GiB) */
	uint64_t cr4;        /* loaded once in long mode */
	uint64_t efer;
	uint64_t cr0;
	uint64_t stack;      /* initial RSP */
	uint64_t entry;      /* void entry(void *arg), high VA, never returns */
	uint64_t arg;
};

extern const uint8_t ap_tramp_start[], ap_tramp_end[], ap_tramp_params[];

#endif
