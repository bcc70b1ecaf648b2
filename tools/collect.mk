# tools/collect.mk — hvmon-collect, its test sender, wire tests and fuzzing
# (owned by the events/network engineer). The wire protocol needs mbedTLS
# (tools/build-mbedtls.sh → third_party/build/mbedtls-{host,hv}).
MBEDTLS_HOST := $(TPBUILD)/mbedtls-host
MBEDTLS_HV   := $(TPBUILD)/mbedtls-hv
MBEDTLS_DEFS := -DMBEDTLS_CONFIG_FILE='"wire_mbedtls_config.h"'

$(MBEDTLS_HOST)/libmbedcrypto.a $(MBEDTLS_HV)/libmbedcrypto.a: events/wire_mbedtls_config.h tools/build-mbedtls.sh
	tools/build-mbedtls.sh

WIRE_SRCS := events/wire.c $(WIRE_SEAL_SRCS) $(EVENT_SRCS)

# ring -1: wire.c with the freestanding mbedTLS (the seal: BearSSL, events/build.mk)
HV_SRCS += events/wire.c $(WIRE_SEAL_SRCS)
HV_LIBS += $(MBEDTLS_HV)/libmbedcrypto.a
$(BUILD)/hv/events/wire.o: HV_CFLAGS += -I$(MBEDTLS_HV)/include $(MBEDTLS_DEFS)
$(BUILD)/hv/events/wire.o: $(MBEDTLS_HV)/libmbedcrypto.a

# host objects that include mbedTLS headers
$(BUILD)/host/events/wire.o: HOST_CFLAGS += -I$(MBEDTLS_HOST)/include $(MBEDTLS_DEFS)
$(BUILD)/host/events/wire.o: $(MBEDTLS_HOST)/libmbedcrypto.a

HOST_TOOLS += hvmon-collect hvmon-collect-sim
# --make-profile (issue 18): hvmon's option parser and monitor table, and the
# SHA-256 hvmon measures with (mbedTLS sha256.c, vmm/measure.mk's config)
COLLECT_PROFILE_SRCS := tools/hvmon-collect-profile.c vmm/options.c $(MONITOR_TABLE_SRCS) \
	$(TPSRC)/mbedtls/library/sha256.c
COLLECT_PROFILE_LIBS := -lz -llzma
$(BUILD)/host/tools/hvmon-collect-profile.o $(BUILD)/host/$(TPSRC)/mbedtls/library/sha256.o: \
	HOST_CFLAGS += $(MEASURE_MBEDTLS_CFLAGS)
$(BUILD)/host/$(TPSRC)/mbedtls/library/sha256.o: HOST_CFLAGS += -Wno-error
hvmon-collect_SRCS := tools/hvmon-collect.c tools/hvmon-collect-track.c tools/hvmon-collect-key.c $(WIRE_SRCS) \
	$(COLLECT_PROFILE_SRCS)
hvmon-collect_LIBS := $(MBEDTLS_HOST)/libmbedcrypto.a $(COLLECT_PROFILE_LIBS)
hvmon-collect_DEPS := $(MBEDTLS_HOST)/libmbedcrypto.a
hvmon-collect-sim_SRCS := tools/hvmon-collect-sim.c tools/hvmon-collect-key.c $(WIRE_SRCS)
hvmon-collect-sim_LIBS := $(MBEDTLS_HOST)/libmbedcrypto.a
hvmon-collect-sim_DEPS := $(MBEDTLS_HOST)/libmbedcrypto.a

UNIT_TESTS += test_wire
test_wire_SRCS := tests/unit/test_wire.c tools/hvmon-collect-track.c tools/hvmon-collect-key.c $(WIRE_SRCS)
test_wire_LIBS := $(MBEDTLS_HOST)/libmbedcrypto.a
test_wire_DEPS := $(MBEDTLS_HOST)/libmbedcrypto.a

FUZZ_TARGETS += fuzz_wire
fuzz_wire_SRCS := tests/fuzz/fuzz_wire.c $(WIRE_SRCS) \
	$(addprefix $(TPSRC)/mbedtls/library/,chacha20.c poly1305.c chachapoly.c platform_util.c)
fuzz_wire_CFLAGS := -I$(MBEDTLS_HOST)/include -I$(TPSRC)/mbedtls/library $(MBEDTLS_DEFS) $(BEARSSL_CFLAGS)
fuzz_wire_DEPS := $(MBEDTLS_HOST)/libmbedcrypto.a

INTEGRATION_TESTS += tests/integration/collect_e2e.sh tests/integration/collect_bochs_net.sh tests/integration/tamper_bochs.sh
$(BUILD)/host/tests/unit/test_wire.o: HOST_CFLAGS += -I$(MBEDTLS_HOST)/include $(MBEDTLS_DEFS)
$(BUILD)/host/tests/unit/test_wire.o: $(MBEDTLS_HOST)/libmbedcrypto.a

FUZZ_TARGETS += fuzz_wire_collect
fuzz_wire_collect_SRCS := tests/fuzz/fuzz_wire_collect.c tools/hvmon-collect-track.c tools/hvmon-collect-key.c \
	$(WIRE_SRCS) $(addprefix $(TPSRC)/mbedtls/library/,chacha20.c poly1305.c chachapoly.c platform_util.c) \
	$(COLLECT_PROFILE_SRCS)
fuzz_wire_collect_CFLAGS := -I$(MBEDTLS_HOST)/include -I$(TPSRC)/mbedtls/library -Ivmm -Itools $(BEARSSL_CFLAGS) \
	-DMBEDTLS_CONFIG_FILE='"collect_fuzz_mbedtls_config.h"'
fuzz_wire_collect_LIBS := $(COLLECT_PROFILE_LIBS)
fuzz_wire_collect_DEPS := $(MBEDTLS_HOST)/libmbedcrypto.a
# the target #includes tools/hvmon-collect.c (its statics); a .c prerequisite
# would be compiled a second time by the fuzz rule, so rebuild via a stamp
$(BUILD)/fuzz/fuzz_wire_collect: $(BUILD)/fuzz/.hvmon-collect.c.stamp
$(BUILD)/fuzz/.hvmon-collect.c.stamp: tools/hvmon-collect.c
	@mkdir -p $(@D) && touch $@

# --make-profile's file readers (ELF walk, gzip/xz)
FUZZ_TARGETS += fuzz_collect_profile
fuzz_collect_profile_SRCS := tests/fuzz/fuzz_collect_profile.c tools/hvmon-collect-profile.c vmm/options.c \
	$(MONITOR_TABLE_SRCS) $(TPSRC)/mbedtls/library/sha256.c $(TPSRC)/mbedtls/library/platform_util.c
fuzz_collect_profile_CFLAGS = $(MEASURE_MBEDTLS_CFLAGS)
fuzz_collect_profile_LIBS := $(COLLECT_PROFILE_LIBS)

# hvmon-collect's own logic (includes tools/hvmon-collect.c for its statics)
UNIT_TESTS += test_collect
test_collect_SRCS := tests/unit/test_collect.c tools/hvmon-collect-track.c tools/hvmon-collect-key.c $(WIRE_SRCS) \
	$(COLLECT_PROFILE_SRCS)
test_collect_LIBS := $(MBEDTLS_HOST)/libmbedcrypto.a $(COLLECT_PROFILE_LIBS)
test_collect_DEPS := $(MBEDTLS_HOST)/libmbedcrypto.a
$(BUILD)/host/tests/unit/test_collect.o: tools/hvmon-collect.c
$(BUILD)/host/tests/unit/test_collect.o: HOST_CFLAGS += $(MEASURE_MBEDTLS_CFLAGS)
