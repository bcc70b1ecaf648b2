#!/usr/bin/env bash
# Issue 2: core_boot.sh with the generic kernel (see core_boot.sh for the checks).
exec "$(dirname "$0")/core_boot.sh" generic
