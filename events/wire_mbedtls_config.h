/*
 * mbedTLS configuration for hvmon (MBEDTLS_CONFIG_FILE): only what the wire
 * protocol needs — ChaCha20-Poly1305 AEAD (RFC 8439). No platform layer, no
 * entropy, no time, no assembly, no threading, no heap: builds freestanding
 * for ring -1 (-mgeneral-regs-only, newlib headers) and hosted for the
 * collector. Used by tools/build-mbedtls.sh.
 */
#ifndef HVMON_WIRE_MBEDTLS_CONFIG_H
#define HVMON_WIRE_MBEDTLS_CONFIG_H

#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

#include "mbedtls/check_config.h"

#endif
