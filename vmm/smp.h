/*
 * vmm/smp.h — every CPU under hvmon (issue 11): bring-up of the application
 * processors, the guest's INIT/SIPI, cross-CPU calls, EPT shootdown and the
 * stop of all CPUs. docs/ARCHITECTURE.md "Several CPUs".
 *
 * Every function here runs in ring -1 (during bring-up or inside a VM exit).
 * A cross-CPU request reaches a CPU that runs the guest at its next VM exit:
 * the periodic tick (vmm/tick.h; halt-watch registers 100 ms, so at most one
 * period later, also in HLT) or any other exit; a CPU that waits for the
 * guest's SIPI in ring -1 answers at once. The caller waits until every vCPU
 * has answered (smp_call_all) — so after smp_ept_sync() returns, no CPU can
 * still use a translation from before it.
 */
#ifndef HVMON_VMM_SMP_H
#define HVMON_VMM_SMP_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* hv_main, after vCPU 0 is set up (VMCS, monitors' vcpu_start) and before the
 * guest boots: find the CPUs (ACPI MADT), start each AP (INIT-SIPI-SIPI to a
 * trampoline), which enters VMX root with its own stack/GDT/TSS/VMXON/VMCS
 * and then waits in ring -1 for the guest's SIPI. The boot CPU waits for each
 * AP's answer (the rendezvous); an AP that fails stops the boot with a clear
 * message (policy: docs/BOOT.md "Several CPUs"). Also subscribes the guest's
 * ICR writes (xAPIC page, x2APIC MSR 0x830). Returns the number of CPUs. */
uint32_t smp_boot_aps(struct vm *vm);

/* vmm/vmexit.c, last thing before VM entry: stop request, cross-CPU calls,
 * intercept controls changed on another CPU, the guest's INIT for this vCPU
 * (then it waits for the SIPI and restarts at its vector). */
void smp_exit_poll(struct vcpu *v);

/* The guest (vCPU @from) sent INIT / STARTUP to physical APIC id @dest
 * (all other vCPUs when @all). Never forwarded to the hardware. */
void smp_guest_init(struct vcpu *from, uint32_t dest, bool all);
void smp_guest_sipi(struct vcpu *from, uint32_t dest, bool all, uint8_t vector);

/* Run @fn(v, arg) on every started vCPU, on its own CPU (the caller's vCPU
 * at once), and return when all have run it. Callable from any exit. */
typedef void (*smp_call_fn)(struct vcpu *v, void *arg);
void smp_call_all(struct vm *vm, smp_call_fn fn, void *arg);

/* INVEPT (all contexts) on every CPU: call after an EPT change that removes
 * access or changes a mapping, before relying on it. */
void smp_ept_sync(struct vm *vm);

/* hv_stop: every other CPU stops (halts in ring -1) before the report;
 * bounded wait, returns how many did not answer. */
uint32_t smp_stop_others(void);

/* Number of vCPUs hvmon runs (started or waiting for SIPI). */
uint32_t smp_nr_vcpus(void);

/* Statistics (end of run). */
void smp_print_stats(void);

#endif
