# hvmon — top-level Makefile.
#
# Each component adds what it owns in its own fragment <dir>/<name>.mk (HV_SRCS for ring -1,
# HOST_TOOLS, UNIT_TESTS, FUZZ_TARGETS, INTEGRATION_TESTS); this file holds
# the shared rules. `make help` lists the targets.

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD   ?= build
TP      := third_party
TPSRC   := $(TP)/src
TPBUILD := $(TP)/build

CC      ?= gcc
HOST_CC ?= gcc
FUZZ_CC ?= clang

# ---- ring -1 (freestanding) -------------------------------------------------
HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -DHV_RING1 \
	-ffreestanding -fno-stack-protector -fno-pic -fno-pie -fno-builtin \
	-mno-red-zone -mgeneral-regs-only -mcmodel=kernel \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-I. -Iinclude
HV_ASFLAGS := -g -I. -Iinclude -D__ASSEMBLY__
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -T linker.ld

HV_SRCS :=
HV_LIBS :=          # extra archives linked into hvmon.elf (newlib, lwip, zydis...)
HV_PREBUILT :=      # files (third-party builds) that must exist before ring -1 objects compile

# ---- host -------------------------------------------------------------------
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -I. -Iinclude $(HOST_EXTRA_CFLAGS)
HOST_LDFLAGS ?=     # `make deb` passes dpkg-buildflags' hardening flags in both
HOST_TOOLS :=       # names; each defines <name>_SRCS and optional <name>_LIBS
UNIT_TESTS :=       # names; each defines <name>_SRCS (cmocka) and <name>_LIBS
FUZZ_TARGETS :=     # names; each defines <name>_SRCS (libFuzzer entry point)
INTEGRATION_TESTS := # scripts run by `make test-integration` (two at a time, longest first)
INTEGRATION_PREREQS := # programs the scripts need, built before they start side by side

include $(sort $(wildcard */*.mk */*/*.mk))

# ---- rules ------------------------------------------------------------------
HV_OBJS := $(patsubst %.c,$(BUILD)/hv/%.o,$(filter %.c,$(HV_SRCS))) \
           $(patsubst %.S,$(BUILD)/hv/%.o,$(filter %.S,$(HV_SRCS)))
$(HV_OBJS): | $(HV_PREBUILT)

$(BUILD)/hv/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hv/%.o: %.S | deps
	@mkdir -p $(@D)
	$(CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hvmon.elf: $(HV_OBJS) $(HV_LIBS) linker.ld
	$(CC) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(HV_LIBS) -lgcc
	@size $@

$(BUILD)/host/%.o: %.c | deps
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

define host_tool_rule
$(BUILD)/tools/$(1): $$(patsubst %.c,$(BUILD)/host/%.o,$$($(1)_SRCS)) $$($(1)_DEPS)
	@mkdir -p $$(@D)
	$(HOST_CC) $(HOST_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$($(1)_LIBS)
endef
$(foreach t,$(HOST_TOOLS),$(eval $(call host_tool_rule,$(t))))

define unit_test_rule
$(BUILD)/tests/unit/$(1): $$(patsubst %.c,$(BUILD)/host/%.o,$$($(1)_SRCS)) $$($(1)_DEPS)
	@mkdir -p $$(@D)
	$(HOST_CC) -o $$@ $$(filter %.o,$$^) $$($(1)_LIBS) -lcmocka
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -I. -Iinclude
define fuzz_rule
$(BUILD)/fuzz/$(1): $$($(1)_SRCS) $$($(1)_DEPS) | deps
	@mkdir -p $$(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $$($(1)_CFLAGS) -o $$@ $$(filter %.c,$$^) $$($(1)_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

# (pruned: the package build and its test root hold Debian files named *.d, e.g. /etc/grub.d)
-include $(shell find $(BUILD) \( -path '$(BUILD)/deb/src' -o -path '$(BUILD)/pkgtest' \) -prune \
	-o -name '*.d' -type f -print 2>/dev/null)

# The deps step (tools/deps.sh: packages, fetched sources such as Zydis' headers, the
# third-party builds) runs before anything compiles, also under `make -j`: every compile
# rule above has `| deps` (order-only: it orders, it never forces a rebuild), and so do
# the rules that build third-party archives themselves (they would race deps.sh's own
# run of the same build script). A fresh clone therefore builds with one `make -j$(nproc)`.
$(HV_PREBUILT) $(filter $(TPBUILD)/%,$(HV_LIBS) $(INFER_HOST_LIBS) $(INFER_HV_LIBS)) \
  $(MBEDTLS_HOST)/libmbedcrypto.a $(MBEDTLS_HV)/libmbedcrypto.a $(LWIP_HOSTLIB) $(LWIP_HVLIB) \
  $(EFI_OBJS): | deps

# ---- entry points -----------------------------------------------------------
.PHONY: all deps hvmon tools unit-tests test test-unit test-fuzz test-integration run clean help deb

all: deps hvmon tools

hvmon: $(if $(HV_SRCS),$(BUILD)/hvmon.elf)

tools: $(addprefix $(BUILD)/tools/,$(HOST_TOOLS))

unit-tests: $(addprefix $(BUILD)/tests/unit/,$(UNIT_TESTS))

# Installs Debian packages and fetches/builds third-party sources; fast when done.
deps:
	@tools/deps.sh

# The README's test command. Host unit tests, bounded fuzzing, Bochs scenarios.
test: deps
	@tests/run-all.sh

test-unit: deps unit-tests
	@tests/run-unit.sh $(addprefix $(BUILD)/tests/unit/,$(UNIT_TESTS))

FUZZ_SECONDS ?= 10
test-fuzz: deps $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@tests/run-fuzz.sh $(FUZZ_SECONDS) $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

test-integration: deps all $(INTEGRATION_PREREQS)
	@tests/run-integration.sh $(INTEGRATION_TESTS)

# Debian package build/deb/hvmon_<version>_amd64.deb (tools/mkdeb.sh, pkg/, docs/OPTIONS.md)
deb: all
	@tools/mkdeb.sh

clean:
	rm -rf $(BUILD)

help:
	@echo "make            build hvmon.elf and host tools (runs 'make deps' first)"
	@echo "make deps       install Debian packages, fetch+build third-party sources"
	@echo "make run        boot hvmon + default guest in Bochs (headless)"
	@echo "make test       unit tests, bounded fuzzing, Bochs integration scenarios"
	@echo "make test-unit | test-fuzz | test-integration"
	@echo "make deb        Debian package build/deb/hvmon_<version>_amd64.deb"
