#!/usr/bin/env bash
# hvmon.efi -> hvmon.elf -> monitored guest to userspace, under Bochs + OVMF
# (VT-x + EPT emulated). The "hvmon" and "guest" scenarios of uefi_bochs.sh,
# in a script of their own so each gets the full integration time budget.
exec env UEFI_BOCHS_ONLY=hvmon "$(dirname "$0")/uefi_bochs.sh"
