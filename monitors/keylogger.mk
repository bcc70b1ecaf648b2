# monitors/keylogger.mk — the keylogger detector (docs/MONITORS.md; owner: keylogger engineer;
# docs/MONITORS.md "Keylogger detector").
HV_SRCS += monitors/keylogger.c monitors/keylogger_core.c monitors/keylogger_site.c
$(BUILD)/hv/monitors/keylogger_site.o: HV_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/hv/monitors/keylogger_site.o: $(ZYDIS_HV_LIB)

UNIT_TESTS += test_keylogger
test_keylogger_SRCS := tests/unit/test_keylogger.c monitors/keylogger_core.c monitors/keylogger_site.c
test_keylogger_DEPS := $(ZYDIS_HOST_LIB)
test_keylogger_LIBS := $(ZYDIS_HOST_LIB)
$(BUILD)/host/monitors/keylogger_site.o $(BUILD)/host/tests/unit/test_keylogger.o: \
	HOST_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)
$(BUILD)/host/monitors/keylogger_site.o: $(ZYDIS_HOST_LIB)

# libFuzzer: read-buffer classification + consumer table, allow-list option parsing
FUZZ_TARGETS += fuzz_keylogger
fuzz_keylogger_SRCS := tests/fuzz/fuzz_keylogger.c monitors/keylogger_core.c vmm/options.c \
	monitors/keylogger_options.c

# guest test keylogger (static; put in the initramfs by tests/integration/keylogger_bochs.sh)
KL_GUEST := $(BUILD)/tests/guest/hvkeylog
$(KL_GUEST): tests/guest/keylogger/hvkeylog.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -Wall -o $@ $<
hvkeylog: $(KL_GUEST)
INTEGRATION_PREREQS += $(KL_GUEST)
.PHONY: hvkeylog
INTEGRATION_TESTS += tests/integration/keylogger_bochs.sh

# host tool: the probe sites ring -1 would find in a kernel image (checked on the fixture
# kernels by tests/integration/infer_cli.sh)
HOST_TOOLS += kl-sites
kl-sites_SRCS := tools/kl-sites.c tools/kimage.c monitors/keylogger_site.c
kl-sites_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS) $(ZYDIS_HOST_LIB)
kl-sites_LIBS := $(INFER_LIB) $(ZYDIS_HOST_LIB) $(KIMAGE_LIBS)
$(BUILD)/host/tools/kl-sites.o: HOST_CFLAGS += $(ZYDIS_DEFS) $(ZYDIS_INC)

# libFuzzer: the code finders (exit site, tty copy point) on arbitrary guest code
FUZZ_TARGETS += fuzz_keylogger_site
fuzz_keylogger_site_SRCS = tests/fuzz/fuzz_keylogger_site.c monitors/keylogger_site.c $(INFER_FUZZ_SRCS)
fuzz_keylogger_site_CFLAGS = $(INFER_FUZZ_CFLAGS)
