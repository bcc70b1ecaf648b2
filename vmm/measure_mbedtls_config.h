/*
 * mbedTLS configuration for hvmon's boot measurement (vmm/measure.c): only
 * SHA-256 (issue 18). Separate from events/wire_mbedtls_config.h so that the
 * shared wire library (tools/build-mbedtls.sh) is not rebuilt; sha256.c is
 * compiled into hvmon directly from the Debian mbedTLS source.
 */
#ifndef HVMON_MEASURE_MBEDTLS_CONFIG_H
#define HVMON_MEASURE_MBEDTLS_CONFIG_H
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#include "mbedtls/check_config.h"
#endif
