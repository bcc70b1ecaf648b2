# Multiboot2 front end (core engineer).
HV_SRCS += boot/multiboot2/head32.S boot/multiboot2/mb2.c
