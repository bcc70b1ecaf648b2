# monitors/integrity.mk — the kernel integrity monitor (issue 15; docs/MONITORS.md "Integrity monitor").
HV_SRCS += monitors/integrity.c monitors/integrity_core.c monitors/integrity_sites.c

UNIT_TESTS += test_integrity
test_integrity_SRCS := tests/unit/test_integrity.c monitors/integrity_core.c monitors/integrity_sites.c

FUZZ_TARGETS += fuzz_integrity_sites
fuzz_integrity_sites_SRCS := tests/fuzz/fuzz_integrity_sites.c monitors/integrity_sites.c monitors/integrity_core.c

# integ-sites: the classifier on a real kernel image (tools/integ_sites.c; run by
# tests/integration/infer_truth_kallsyms_btf.sh on the fixture kernels)
HOST_TOOLS += integ-sites
integ-sites_SRCS := tools/integ_sites.c tools/kimage.c monitors/integrity_sites.c monitors/integrity_core.c
integ-sites_DEPS := $(BUILD)/host/libinfer.a $(INFER_HOST_DEPS)
integ-sites_LIBS := $(INFER_LIB) $(KIMAGE_LIBS)
INTEGRATION_PREREQS += $(BUILD)/tools/integ-sites
