# monitors/integrity.mk — the kernel integrity monitor (issue 15; docs/MONITORS.md "Integrity monitor").
HV_SRCS += monitors/integrity.c monitors/integrity_core.c

UNIT_TESTS += test_integrity
test_integrity_SRCS := tests/unit/test_integrity.c monitors/integrity_core.c
