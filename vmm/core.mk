# vmm/core.mk — the vmm core of ring -1 (owner: core engineer). The pure-logic
# modules (e820, linux_boot, ept_map, policy, options, gmem) are in vmm/pure.mk.
HV_SRCS += vmm/main.c \
	vmm/vmx.c vmm/vmcs.c vmm/vmexit.c vmm/cpuid.c vmm/msr.c vmm/cr.c vmm/insn.c \
	vmm/io.c vmm/power.c vmm/stop.c vmm/monitor.c vmm/intercept.c vmm/guest.c vmm/acpi.c vmm/deny.c vmm/msr_guard.c vmm/reinject.c vmm/spec_vmx.c vmm/ept.c vmm/guest_boot.c \
	vmm/smp.c vmm/smp_apic.c vmm/apic_icr.c vmm/cstate_vmx.c vmm/dtr.c
$(BUILD)/hv/vmm/apic_icr.o: HV_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/hv/vmm/apic_icr.o: $(ZYDIS_HV_LIB)

# Pure rules of the intercepted APIC writes (issue 11): ICR classification, store decoding.
UNIT_TESTS += test_apic_icr
test_apic_icr_SRCS := tests/unit/test_apic_icr.c vmm/apic_icr.c
test_apic_icr_DEPS := $(ZYDIS_HOST_LIB)
test_apic_icr_LIBS := $(ZYDIS_HOST_LIB)
$(BUILD)/host/vmm/apic_icr.o $(BUILD)/host/tests/unit/test_apic_icr.o: HOST_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/host/vmm/apic_icr.o: $(ZYDIS_HOST_LIB)
FUZZ_TARGETS += fuzz_apic_icr
fuzz_apic_icr_SRCS := tests/fuzz/fuzz_apic_icr.c vmm/apic_icr.c
fuzz_apic_icr_CFLAGS := $(ZYDIS_DEFS) $(ZYDIS_INC)
fuzz_apic_icr_LIBS := $(ZYDIS_HOST_LIB)

# The example monitor of docs/ARCHITECTURE.md "Adding a monitor", on the core's
# registry loop, option parser and intercept table (host).
UNIT_TESTS += test_monitor_example
test_monitor_example_SRCS := tests/unit/test_monitor_example.c vmm/monitor.c vmm/intercept.c vmm/options.c

# hvmon's kick NMIs told apart from the guest's (issue 11): arch/x86/nmi.h's bookkeeping.
UNIT_TESTS += test_nmi_kick
test_nmi_kick_SRCS := tests/unit/test_nmi_kick.c
