# Drivers used by ring -1 (core engineer: uart).
HV_SRCS += drivers/uart.c
