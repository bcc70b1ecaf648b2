# events/build.mk — the event core and wire format (below the core and the monitors; docs/EVENTS.md).
EVENT_SRCS := events/event.c events/event_ring.c events/event_json.c events/echo.c
EVENT_RING1_SRCS := events/ring1.c

HV_SRCS += $(EVENT_SRCS) $(EVENT_RING1_SRCS)

UNIT_TESTS += test_event
test_event_SRCS := tests/unit/test_event.c $(EVENT_SRCS)
test_event_LIBS := -lpthread

# The sender's seal (events/wire_seal.c, issue 16): BearSSL's ChaCha20 + Poly1305
# compiled into that one object from the Debian source (tools/deps.sh), faster
# than mbedTLS's for the same AEAD. Every program that links events/wire.c
# links events/wire_seal.c too (tools/collect.mk, drivers/net.mk).
BEARSSL_CFLAGS := -I$(TPSRC)/bearssl -I$(TPSRC)/bearssl/inc -I$(TPSRC)/bearssl/src
WIRE_SEAL_CFLAGS := $(BEARSSL_CFLAGS) -O3 -funroll-loops -fbuiltin
$(BUILD)/hv/events/wire_seal.o: HV_CFLAGS += $(WIRE_SEAL_CFLAGS)
$(BUILD)/host/events/wire_seal.o: HOST_CFLAGS += $(WIRE_SEAL_CFLAGS)
# BearSSL's SSE2 ChaCha20 (events/wire_seal_sse2.c): the only ring -1 object with
# SSE (-msse2 after -mgeneral-regs-only re-enables SSE/SSE2 for this file only;
# -mno-red-zone stays). It runs only inside the vector guard (arch/x86/fpu.h);
# tools/check-ring1-simd.sh checks hvmon.elf for vector registers elsewhere.
$(BUILD)/hv/events/wire_seal_sse2.o: HV_CFLAGS += $(WIRE_SEAL_CFLAGS) -msse2
$(BUILD)/host/events/wire_seal_sse2.o: HOST_CFLAGS += $(WIRE_SEAL_CFLAGS)
# BearSSL's AES-NI AES + PCLMULQDQ GHASH (events/wire_seal_aesni.c): AES-256-GCM
# of wire version 2, the second (and last) ring -1 object with vector code, under
# the same guard. -mssse3/-msse4.1 besides -maes -mpclmul -msse2: BearSSL's
# AES-NI CTR is compiled for "sse2,sse4.1,aes" and its GHASH for "ssse3,pclmul"
# (target attributes that -mgeneral-regs-only would otherwise refuse); CPUID is
# checked for all five (hv_wire_gcm_hw) before any of it runs.
WIRE_SEAL_AESNI_FLAGS := -msse2 -mssse3 -msse4.1 -maes -mpclmul
$(BUILD)/hv/events/wire_seal_aesni.o: HV_CFLAGS += $(WIRE_SEAL_CFLAGS) $(WIRE_SEAL_AESNI_FLAGS)
$(BUILD)/host/events/wire_seal_aesni.o: HOST_CFLAGS += $(WIRE_SEAL_CFLAGS) $(WIRE_SEAL_AESNI_FLAGS)
# every program that seals or opens datagrams links these three
WIRE_SEAL_SRCS := events/wire_seal.c events/wire_seal_sse2.c events/wire_seal_aesni.c
WIRE_SIMD_OBJS := $(BUILD)/hv/events/wire_seal_sse2.o $(BUILD)/hv/events/wire_seal_aesni.o

# Issue 16: no vector register outside the two guarded seal objects (the SSE2
# ChaCha20, the AES-NI/PCLMULQDQ GCM; tools/check-ring1-simd.sh allows the
# functions those objects define, no other); part of `all`, so every full build
# checks the linked hvmon.elf.
$(BUILD)/hvmon.simd-ok: $(BUILD)/hvmon.elf tools/check-ring1-simd.sh $(WIRE_SIMD_OBJS)
	tools/check-ring1-simd.sh $< $(WIRE_SIMD_OBJS) > $@.tmp || { cat $@.tmp; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@
all: $(BUILD)/hvmon.simd-ok
