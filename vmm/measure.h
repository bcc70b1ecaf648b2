/*
 * measure — what hvmon booted (issue 18): SHA-256 of hvmon's loaded code and
 * read-only data, of the guest kernel and initrd as the loader placed them,
 * and of the effective options, as a boot_config event (docs/EVENTS.md) that
 * the network channel sends in its first datagrams and the console prints.
 */
#ifndef HVMON_VMM_MEASURE_H
#define HVMON_VMM_MEASURE_H
#include <stddef.h>
#include <stdint.h>
#include "events/event.h"
struct vm;

/* hex SHA-256 of p[0..len) into out[65] */
void measure_sha256_hex(const void *p, size_t len, char out[HV_SHA256_HEX]);
/* Fill ev (type boot_config) for vm; run before the guest can touch the
 * kernel and initrd (they lie in guest RAM). */
void measure_boot(struct vm *vm, struct hv_event *ev);

#endif
