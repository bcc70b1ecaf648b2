# vmm/measure.mk — boot measurement (issue 18): SHA-256 from the Debian
# mbedTLS source, compiled into hvmon with its own small config.
MEASURE_MBEDTLS_CFLAGS := -I$(TPSRC)/mbedtls/include -I$(TPSRC)/mbedtls/library -Ivmm \
	-DMBEDTLS_CONFIG_FILE='"measure_mbedtls_config.h"'
HV_SRCS += vmm/measure.c $(TPSRC)/mbedtls/library/sha256.c
$(BUILD)/hv/vmm/measure.o: HV_CFLAGS += $(MEASURE_MBEDTLS_CFLAGS)
$(BUILD)/hv/$(TPSRC)/mbedtls/library/sha256.o: HV_CFLAGS += $(MEASURE_MBEDTLS_CFLAGS) -Wno-error
