/*
 * Ring -1 spinlocks (SMP, issue 11). One shape for every lock shared by
 * several CPUs: a ticket lock (FIFO, so no CPU starves while another keeps
 * re-taking it on its exit path). Ring -1 runs with interrupts off; NMIs
 * only set a flag (arch/x86/exception.c), so an NMI handler never takes a
 * lock and no irq-save variant is needed.
 *
 * Rules: hold a lock only for bounded work (no guest-memory walk of unbounded
 * length, no console output, no wait for another CPU); take at most one at a
 * time unless a comment at both sites states the order.
 */
#ifndef HVMON_LIB_SPINLOCK_H
#define HVMON_LIB_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	volatile uint16_t next;   /* ticket handed to the next taker */
	volatile uint16_t owner;  /* ticket now served */
} hv_spinlock_t;

#define HV_SPINLOCK_INIT { 0, 0 }

static inline void hv_spin_lock(hv_spinlock_t *l)
{
	uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		__builtin_ia32_pause();
}

static inline bool hv_spin_trylock(hv_spinlock_t *l)
{
	uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint16_t expect = owner;
	/* take only if nobody holds or waits: next == owner */
	return __atomic_compare_exchange_n(&l->next, &expect, (uint16_t)(owner + 1), false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void hv_spin_unlock(hv_spinlock_t *l)
{
	__atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif
