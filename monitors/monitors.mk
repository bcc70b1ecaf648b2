# monitors/monitors.mk — the monitor registry (monitors/monitors.c: one line per
# monitor) and every monitor's option descriptors (monitors/*_options.c, pure).
# MONITOR_TABLE_SRCS builds on the host too (unit tests, the UEFI loader's
# option check); a new monitors/<name>_options.c is picked up here.
MONITOR_TABLE_SRCS := monitors/monitors.c $(sort $(wildcard monitors/*_options.c))
HV_SRCS += $(MONITOR_TABLE_SRCS)
