/*
 * netdev — hvmon's management NIC brought up from hv_main (docs/NETWORK.md
 * "Ring -1 bring-up"): platform hooks for drivers/net/hvnet_setup, the NIC
 * hidden from the guest (vmm/net_hide.h), hvnet_tick + hv_event_drain on the
 * periodic tick (vmm/tick.h), BSP only.
 */
#ifndef HVMON_VMM_NETDEV_H
#define HVMON_VMM_NETDEV_H

#include <stdint.h>

struct vm;

/* hv_main, after ept_setup/io_setup, probe_vm_init (event core) and
 * tick_init, before the first VM entry. No collector= : 0, nothing done.
 * Any failure is logged; events then stay on the console. 0 or -1. */
int netdev_init(struct vm *vm);

/* Statistics line(s) on the console (power-off). */
void netdev_print_stats(void);

#endif
