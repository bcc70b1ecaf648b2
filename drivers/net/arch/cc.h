/* lwIP architecture glue for hvmon (x86-64, freestanding against newlib, or hosted). */
#ifndef HVMON_LWIP_ARCH_CC_H
#define HVMON_LWIP_ARCH_CC_H

#define LWIP_NO_CTYPE_H   1       /* lwIP's own isdigit etc.: no locale tables */
/* a hosted build (bench_net, test_e1000) already has glibc's BYTE_ORDER (the same
 * value, __LITTLE_ENDIAN 1234): define it only where nothing did */
#ifndef BYTE_ORDER
#define BYTE_ORDER        LITTLE_ENDIAN
#endif

/* Diagnostics go nowhere (LWIP_DEBUG is 0). An assertion is a bug in lwIP
 * or in hvmon's use of it, never a reaction to input: hv_lwip_assert()
 * stops (ring -1: hvmon's panic hook; hosted: abort()). */
void hv_lwip_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x)     do { } while (0)
#define LWIP_PLATFORM_ASSERT(x)   hv_lwip_assert((x), __FILE__, __LINE__)

#endif
