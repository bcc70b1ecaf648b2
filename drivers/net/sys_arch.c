/*
 * lwIP NO_SYS platform functions for hvmon: sys_now() from hvmon's clock,
 * LWIP_RAND() and assertion handling through hooks the core sets.
 */
#include <stdint.h>
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "drivers/net/hvnet.h"

static uint32_t (*now_ms)(void);
static uint32_t (*rand_fn)(void);
static void (*panic_fn)(const char *msg, const char *file, int line);
static uint32_t xorshift = 0x9e3779b9u;

void hv_lwip_set_hooks(uint32_t (*now)(void), uint32_t (*rnd)(void),
		       void (*panic)(const char *msg, const char *file, int line))
{
	now_ms = now;
	rand_fn = rnd;
	panic_fn = panic;
}

u32_t sys_now(void)
{
	return now_ms ? now_ms() : 0;
}

uint32_t hv_lwip_rand(void)
{
	if (rand_fn)
		return rand_fn();
	xorshift ^= xorshift << 13;
	xorshift ^= xorshift >> 17;
	xorshift ^= xorshift << 5;
	return xorshift;
}

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
#include <stdlib.h>
#endif

void hv_lwip_assert(const char *msg, const char *file, int line)
{
	if (panic_fn)
		panic_fn(msg, file, line);
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
	abort();
#else
	for (;;)
		__asm__ volatile("cli; hlt");
#endif
}
