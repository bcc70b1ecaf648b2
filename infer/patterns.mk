# infer/patterns.mk — the design-patterns strategy's unit tests (the library
# sources and Zydis flags are wired in infer/build.mk's marked section).
UNIT_TESTS += test_patterns
test_patterns_SRCS := tests/unit/test_patterns.c
test_patterns_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS)
test_patterns_LIBS := $(INFER_LIB)

.PHONY: zydis
zydis: $(ZYDIS_HOST_LIB) $(ZYDIS_HV_LIB)

UNIT_TESTS += test_patterns_dispatch
test_patterns_dispatch_SRCS := tests/unit/test_patterns_dispatch.c
test_patterns_dispatch_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS)
test_patterns_dispatch_LIBS := $(INFER_LIB)

# patterns-rt: the strategy in ring -1 conditions (bare reader + hints) on the host
HOST_TOOLS += patterns-rt
patterns-rt_SRCS := tools/patterns-rt.c tools/kimage.c
patterns-rt_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS)
patterns-rt_LIBS := $(INFER_LIB) $(KIMAGE_LIBS)

# libFuzzer: the patterns strategy over a mutated synthetic kernel
FUZZ_TARGETS += fuzz_patterns
fuzz_patterns_SRCS := tests/fuzz/fuzz_patterns.c $(INFER_SRCS) $(INFER_FUZZ_SRCS)
fuzz_patterns_CFLAGS := $(INFER_DEFS) $(INFER_FUZZ_CFLAGS)
fuzz_patterns_LIBS :=
