# tests/guest/hvtamper.mk — issue 15's guest side of the probe-tampering proof
# (docs/PROBES.md "Tampering"): the hvtamper module (built by tests/guest/build-module.sh from
# this directory's Kbuild) and hvvfork, a static program that blocks 20 vforks at once (the
# tracer's pending-table overflow, docs/TRACER.md); both packed by core_hvtest.sh.
HVVFORK := $(BUILD)/tests/guest/hvvfork
$(HVVFORK): tests/guest/hvtamper/hvvfork.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -Wall -o $@ $<
INTEGRATION_PREREQS += $(HVVFORK)
