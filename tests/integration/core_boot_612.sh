#!/usr/bin/env bash
# docs/TESTING.md (core boot): core_boot.sh with the 6.12 kernel (see core_boot.sh for the checks).
exec "$(dirname "$0")/core_boot.sh" 6.12
