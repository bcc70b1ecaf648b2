# monitors/tracer.mk — the process tracer (owner: probes-and-tracer engineer; docs/TRACER.md).
HV_SRCS += monitors/tracer.c monitors/tracer_core.c

UNIT_TESTS += test_tracer
test_tracer_SRCS := tests/unit/test_tracer.c monitors/tracer_core.c events/event.c events/event_json.c

# guest workload (static, put in the initramfs by tests/integration/tracer_bochs.sh)
TRACER_WORK := $(BUILD)/tests/guest/tracer-work
$(TRACER_WORK): tests/guest/tracer/tracer-work.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -Wall -pthread -o $@ $<
tracer-work: $(TRACER_WORK)
.PHONY: tracer-work
INTEGRATION_PREREQS += $(TRACER_WORK)
# issue 15: a static i386 program (freestanding: no 32-bit libc needed, gcc -m32 only)
TRACER_HV32 := $(BUILD)/tests/guest/hv32
$(TRACER_HV32): tests/guest/tracer/hv32.c
	@mkdir -p $(dir $@)
	gcc -m32 -static -nostdlib -ffreestanding -fno-pic -fno-stack-protector -O2 -Wall -o $@ $<
INTEGRATION_PREREQS += $(TRACER_HV32)
# issue 15: a static x86-64 program whose fork/exec/exit go through int $0x80 (the i386 table from 64-bit code)
TRACER_HV64I80 := $(BUILD)/tests/guest/hv64i80
$(TRACER_HV64I80): tests/guest/tracer/hv64i80.c
	@mkdir -p $(dir $@)
	gcc -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -O2 -Wall -o $@ $<
INTEGRATION_PREREQS += $(TRACER_HV64I80)
INTEGRATION_TESTS += tests/integration/tracer_bochs.sh

# libFuzzer: guest-stack / argv parsing
FUZZ_TARGETS += fuzz_tracer
fuzz_tracer_SRCS := tests/fuzz/fuzz_tracer.c monitors/tracer_core.c events/event.c
