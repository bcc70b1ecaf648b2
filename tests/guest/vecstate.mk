# tests/guest/vecstate.mk — issue 16's guest side of the vector-state proof (arch/x86/fpu.h):
# hvvec holds a pattern in YMM0-15/XMM0-15 and MXCSR and checks it while hvmon seals datagrams
# with SSE2 ChaCha20 on its exits. Freestanding (no libc: glibc's string functions use the
# vector registers), packed by tests/integration/net_vmx.sh and run by scenario net.
HVVEC := $(BUILD)/tests/guest/hvvec
$(HVVEC): tests/guest/vecstate/hvvec.c
	@mkdir -p $(dir $@)
	gcc -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector -mgeneral-regs-only \
		-O2 -Wall -o $@ $<
INTEGRATION_PREREQS += $(HVVEC)
