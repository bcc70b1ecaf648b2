# lib/lib.mk — the bottom layer of ring -1: console (printf, log levels), heap
# (pages + newlib's sbrk) and newlib's syscall glue. It includes only arch/x86
# and drivers/uart; nothing above it (vmm/, monitors/) is visible from here.
HV_SRCS += lib/console.c lib/heap.c lib/newlib_glue.c

# lib/tickhist.h (header only): histogram medians for ring -1 statistics
UNIT_TESTS += test_tickhist
test_tickhist_SRCS := tests/unit/test_tickhist.c
