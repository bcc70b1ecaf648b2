# monitors/hang.mk — hang and ret2usr detectors + hvmon's periodic tick
# (owner: hang-and-ret2usr monitors engineer; docs/MONITORS.md).
HV_SRCS += vmm/tick.c monitors/hang.c monitors/hang_core.c monitors/ret2usr.c monitors/ret2usr_core.c

UNIT_TESTS += test_hang test_ret2usr
test_hang_SRCS := tests/unit/test_hang.c monitors/hang_core.c
test_ret2usr_SRCS := tests/unit/test_ret2usr.c monitors/ret2usr_core.c

INTEGRATION_TESTS += tests/integration/hang_bochs.sh tests/integration/ret2usr_bochs.sh \
	tests/integration/ret2usr_nosmep.sh tests/integration/ret2usr_kill.sh tests/integration/ret2usr_halt.sh

# guest helper for the no_switch injection (static; put in the initramfs by tests/integration/hang_bochs.sh)
HANG_RTSPIN := $(BUILD)/tests/guest/rtspin
$(HANG_RTSPIN): tests/guest/faultinj/rtspin.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -Wall -o $@ $<
rtspin: $(HANG_RTSPIN)
INTEGRATION_PREREQS += $(HANG_RTSPIN)
.PHONY: rtspin
