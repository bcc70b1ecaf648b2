# boot/uefi — hvmon.efi (gnu-efi), the ESP, QEMU/Bochs runs, tests (docs/UEFI.md).
#
#   make efi        build/uefi/hvmon.efi
#   make esp        build/esp/ (folder) and build/esp.img (FAT16, mtools)
#   make run-qemu   boot build/esp in QEMU + OVMF (KVM + nested VT-x if present)
#   make run-bochs-uefi  boot build/esp.img in Bochs + OVMF (VT-x emulated)

EFI_BUILD   := $(BUILD)/uefi
EFI_INC     := /usr/include/efi
EFI_LIBDIR  := /usr/lib
EFI_CFLAGS  := -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter \
	-fpic -ffreestanding -fno-stack-protector -fno-stack-check -fshort-wchar \
	-mno-red-zone -maccumulate-outgoing-args -mgeneral-regs-only \
	-DEFI_FUNCTION_WRAPPER -I$(EFI_INC) -I$(EFI_INC)/x86_64 -I. -Iinclude
EFI_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic \
	-T $(EFI_LIBDIR)/elf_x86_64_efi.lds -L$(EFI_LIBDIR)
# pure modules (host-tested) + the firmware glue
EFI_PURE    := boot/uefi/config.c boot/uefi/memmap.c boot/uefi/elfload.c boot/uefi/vtx.c boot/uefi/tpm2.c
# the monitors' option descriptors: the same keys as the core's parser knows
EFI_SRCS    := boot/uefi/main.c $(EFI_PURE) vmm/options.c monitors/monitors.c \
	$(sort $(wildcard monitors/*_options.c))
EFI_OBJS    := $(patsubst %.c,$(EFI_BUILD)/%.o,$(EFI_SRCS))

$(EFI_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(EFI_BUILD)/hvmon.so: $(EFI_OBJS)
	ld $(EFI_LDFLAGS) $(EFI_LIBDIR)/crt0-efi-x86_64.o $^ -o $@ -lefi -lgnuefi

$(EFI_BUILD)/hvmon.efi: $(EFI_BUILD)/hvmon.so
	objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

.PHONY: efi esp run-qemu run-bochs-uefi
efi: $(EFI_BUILD)/hvmon.efi
all: efi

# ---- ESP --------------------------------------------------------------------
# Guest kernel/initrd: tests/fixtures.sh (harness) when present, else
# boot/uefi/esp-fixtures.sh (same pinned kernel from cache/debs, busybox initrd).
ESP_DIR   := $(BUILD)/esp
ESP_IMG   := $(BUILD)/esp.img
ESP_CFG   ?= boot/uefi/hvmon.cfg.esp
ESP_ELF   := $(if $(HV_SRCS),$(BUILD)/hvmon.elf)

esp: deps $(EFI_BUILD)/hvmon.efi $(ESP_ELF)
	boot/uefi/make-esp.sh $(ESP_DIR) $(ESP_IMG) $(EFI_BUILD)/hvmon.efi $(ESP_CFG) "$(ESP_ELF)"

QEMU_OVMF ?= /usr/share/OVMF/OVMF_CODE.fd
run-qemu: esp
	boot/uefi/run-qemu.sh $(ESP_DIR)

# ends when the guest's scenario is over (no ACPI power-off under OVMF on Bochs)
# or hvmon.efi stopped; prints COM1
run-bochs-uefi: esp
	BOCHS_DONE_RE="$${BOCHS_DONE_RE-HVMON-GUEST: scenario [a-z0-9-]+ exit=|reboot: |STOPPED: no guest}" \
		boot/uefi/run-bochs.sh $(ESP_IMG) $(BUILD)/bochs-uefi
	@tr -d '\r' < $(BUILD)/bochs-uefi/com1.log

# ---- tests ------------------------------------------------------------------
UNIT_TESTS += test_uefi_config test_uefi_memmap test_uefi_elfload test_uefi_vtx test_tpm2
test_tpm2_SRCS         := tests/unit/test_tpm2.c boot/uefi/tpm2.c
test_uefi_config_SRCS  := tests/unit/test_uefi_config.c boot/uefi/config.c
test_uefi_memmap_SRCS  := tests/unit/test_uefi_memmap.c boot/uefi/memmap.c vmm/e820.c
test_uefi_elfload_SRCS := tests/unit/test_uefi_elfload.c boot/uefi/elfload.c
test_uefi_vtx_SRCS     := tests/unit/test_uefi_vtx.c boot/uefi/vtx.c

FUZZ_TARGETS += fuzz_uefi_config fuzz_uefi_elfload fuzz_tpm2
fuzz_tpm2_SRCS         := tests/fuzz/fuzz_tpm2.c boot/uefi/tpm2.c
fuzz_uefi_config_SRCS  := tests/fuzz/fuzz_uefi_config.c boot/uefi/config.c
fuzz_uefi_elfload_SRCS := tests/fuzz/fuzz_uefi_elfload.c boot/uefi/elfload.c boot/uefi/memmap.c

INTEGRATION_TESTS += tests/integration/uefi_qemu.sh tests/integration/uefi_bochs.sh \
	tests/integration/uefi_bochs_guest.sh tests/integration/tpm_qemu.sh

# ---- handoff probe (tests only): a stand-in hvmon.elf that checks the handoff
PROBE_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -ffreestanding -fno-stack-protector -fpie \
	-mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables -I.
$(EFI_BUILD)/handoff-probe.elf: boot/uefi/probe/probe_head.S boot/uefi/probe/probe.c boot/uefi/probe/probe.ld boot/boot_info.h
	@mkdir -p $(@D)
	$(CC) $(PROBE_CFLAGS) -c boot/uefi/probe/probe_head.S -o $(EFI_BUILD)/probe_head.o
	$(CC) $(PROBE_CFLAGS) -c boot/uefi/probe/probe.c -o $(EFI_BUILD)/probe.o
	ld -nostdlib -static -no-pie -z max-page-size=0x1000 --no-warn-rwx-segments -T boot/uefi/probe/probe.ld \
		-o $@ $(EFI_BUILD)/probe_head.o $(EFI_BUILD)/probe.o
	@! readelf -r $@ | grep -q 'R_X86' || { echo "handoff-probe.elf has relocations" >&2; rm -f $@; exit 1; }
efi: $(EFI_BUILD)/handoff-probe.elf
