# lib/lib.mk — the bottom layer of ring -1: console (printf, log levels), heap
# (pages + newlib's sbrk) and newlib's syscall glue. It includes only arch/x86
# and drivers/uart; nothing above it (vmm/, monitors/) is visible from here.
HV_SRCS += lib/console.c lib/heap.c lib/newlib_glue.c
