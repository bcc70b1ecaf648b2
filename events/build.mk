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

# Issue 16: no vector register outside the SSE2 ChaCha20 (tools/check-ring1-simd.sh);
# part of `all`, so every full build checks the linked hvmon.elf.
$(BUILD)/hvmon.simd-ok: $(BUILD)/hvmon.elf tools/check-ring1-simd.sh
	tools/check-ring1-simd.sh $< > $@.tmp || { cat $@.tmp; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@
all: $(BUILD)/hvmon.simd-ok
