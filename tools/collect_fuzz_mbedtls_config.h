/* mbedTLS configuration of fuzz_wire_collect, which compiles every mbedTLS
 * source it needs in one command: the wire protocol's ciphers
 * (events/wire_mbedtls_config.h) and the SHA-256 of --make-profile
 * (vmm/measure_mbedtls_config.h). */
#include "wire_mbedtls_config.h"
#include "measure_mbedtls_config.h"
