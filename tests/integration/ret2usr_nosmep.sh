#!/usr/bin/env bash
# docs/MONITORS.md "ret2usr detector": the ret2usr detector holds for a guest booted without SMEP (`clearcpuid=smep`; 6.1 dropped the old `nosmep` option, kept on the line for older kernels): hvmon keeps SMEP in the
# real CR4 (the guest reads it clear) and catches the supervisor instruction fetch through the
# #PF filter. Same attacks as ret2usr_bochs.sh.
R2U_NAME=ret2usr-nosmep R2U_CMDLINE="nosmep clearcpuid=smep" R2U_NOSMEP=1 \
R2U_CAUGHT="hvmon's SMEP" exec "$(dirname "$0")/ret2usr_bochs.sh"
