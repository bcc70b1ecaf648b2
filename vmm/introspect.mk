# vmm/introspect.mk — the inference engine in ring -1 (docs/INFER-RING1.md; owner: ring -1
# introspection engineer). docs/INFER-RING1.md.
HV_SRCS += vmm/introspect.c

# Bochs tests (KASLR on): ring -1 profile, slide removed == hvinfer --json; infer=off
# path (reported, guest not stopped). infer/build.mk adds tests/integration/infer_*.sh
# by wildcard; keep one entry each.
INTROSPECT_IT := tests/integration/infer_ring1.sh tests/integration/infer_ring1_off.sh
INTEGRATION_TESTS := $(filter-out $(INTROSPECT_IT),$(INTEGRATION_TESTS)) $(INTROSPECT_IT)

# cached guest-virtual reader (pure logic) + its host test
HV_SRCS += vmm/gvread.c
UNIT_TESTS += test_gvread
test_gvread_SRCS := tests/unit/test_gvread.c vmm/gvread.c vmm/gmem.c

# libFuzzer: gvread vs uncached gmem over arbitrary page tables
FUZZ_TARGETS += fuzz_gvread
fuzz_gvread_SRCS := tests/fuzz/fuzz_gvread.c vmm/gvread.c vmm/gmem.c
