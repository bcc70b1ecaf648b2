# tests/guest/hvdtr.mk — issue 15: a static program that runs the descriptor-table instructions in user
# mode under hvmon's emulation (docs/ARCHITECTURE.md "Descriptor-table exiting"); packed by core_hvtest.sh.
HVDTR := $(BUILD)/tests/guest/hvdtr
$(HVDTR): tests/guest/hvdtr/hvdtr.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -Wall -o $@ $<
INTEGRATION_PREREQS += $(HVDTR)
