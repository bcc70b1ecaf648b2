# vmm/probe.mk — ring -1 probes (owner: probes-and-tracer engineer; docs/PROBES.md).
HV_SRCS += vmm/probe.c vmm/probe_vmx.c vmm/page_guard.c
$(BUILD)/hv/vmm/probe.o: HV_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/hv/vmm/probe.o: $(ZYDIS_HV_LIB)

UNIT_TESTS += test_probe
test_probe_SRCS := tests/unit/test_probe.c vmm/probe.c
test_probe_DEPS := $(ZYDIS_HOST_LIB)
test_probe_LIBS := $(ZYDIS_HOST_LIB)
$(BUILD)/host/vmm/probe.o $(BUILD)/host/tests/unit/test_probe.o: HOST_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/host/vmm/probe.o: $(ZYDIS_HOST_LIB)

# libFuzzer: instruction classification / emulation decisions
FUZZ_TARGETS += fuzz_probe
fuzz_probe_SRCS := tests/fuzz/fuzz_probe.c vmm/probe.c
fuzz_probe_CFLAGS := $(ZYDIS_DEFS) $(ZYDIS_INC)
fuzz_probe_LIBS := $(ZYDIS_HOST_LIB)

# libFuzzer (issue 15): the tamper checks over hostile guest text and page tables
FUZZ_TARGETS += fuzz_probe_tamper
fuzz_probe_tamper_SRCS := tests/fuzz/fuzz_probe_tamper.c vmm/probe.c
fuzz_probe_tamper_CFLAGS := $(ZYDIS_DEFS) $(ZYDIS_INC)
fuzz_probe_tamper_LIBS := $(ZYDIS_HOST_LIB)

# issue 16: probe_gpa_probed's lock-free filter (header only)
UNIT_TESTS += test_probe_filter
test_probe_filter_SRCS := tests/unit/test_probe_filter.c
