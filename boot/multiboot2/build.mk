# Multiboot2 front end (core engineer).
HV_SRCS += boot/multiboot2/head32.S boot/multiboot2/mb2.c boot/multiboot2/mb2_parse.c

# the pure parser: unit tests and fuzzing (issue 18)
UNIT_TESTS += test_mb2
test_mb2_SRCS := tests/unit/test_mb2.c boot/multiboot2/mb2_parse.c
FUZZ_TARGETS += fuzz_mb2
fuzz_mb2_SRCS := tests/fuzz/fuzz_mb2.c boot/multiboot2/mb2_parse.c
