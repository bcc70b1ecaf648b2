#include <string.h>
#include "lib/heap.h"
#include "arch/x86/layout.h"

static struct {
	char *lo;           /* sbrk break */
	char *hi;           /* lowest page handed out */
	volatile int lock;
} heap;

static void heap_lock(void)
{
	while (__atomic_exchange_n(&heap.lock, 1, __ATOMIC_ACQUIRE))
		asm volatile("pause");
}

static void heap_unlock(void)
{
	__atomic_store_n(&heap.lock, 0, __ATOMIC_RELEASE);
}

void heap_init(void)
{
	heap.lo = __heap_start;
	heap.hi = __heap_end;
}

void *pages_alloc(size_t n)
{
	void *p = NULL;
	size_t bytes = n * 4096;
	heap_lock();
	if (n && (size_t)(heap.hi - heap.lo) >= bytes) {
		heap.hi -= bytes;
		p = heap.hi;
	}
	heap_unlock();
	if (p)
		memset(p, 0, bytes);
	return p;
}

void *page_alloc(void)
{
	return pages_alloc(1);
}

void *heap_sbrk(intptr_t incr)
{
	void *old = (void *)-1;
	heap_lock();
	if (incr >= 0 ? (size_t)incr <= (size_t)(heap.hi - heap.lo)
		      : (size_t)-incr <= (size_t)(heap.lo - __heap_start)) {
		old = heap.lo;
		heap.lo += incr;
	}
	heap_unlock();
	return old;
}

void heap_get_stats(struct heap_stats *s)
{
	s->base_pa = hv_virt_to_phys(__heap_start);
	s->size = (uint64_t)(__heap_end - __heap_start);
	s->pages_used = (uint64_t)(__heap_end - heap.hi) / 4096;
	s->sbrk_used = (uint64_t)(heap.lo - __heap_start);
}
