#!/usr/bin/env bash
# Run one Bochs instance headless, bounded by a timeout, with every log in build/runs/<name>/:
#   bochsrc, dbg.rc      generated configuration (debugger: "c" then "quit")
#   guest.log            COM1 (the guest's console, GRUB messages)
#   hvmon.log            COM2 (hvmon's console with console=com2)
#   e9.log               Bochs stdout: bytes written to port 0xE9 (earliest prints) + Bochs messages
#   bochs.log            Bochs's own log
#   result               key=value: status (exit|marker|fail-marker|timeout), seconds, bochs_rc, marker
#
# Usage: tests/bochs/run.sh --name NAME (--iso ISO | --disk IMG --ovmf) [options]
#   --cpus N              emulated CPUs (default 1; Linux under Bochs: use <= 2)
#   --megs M              guest RAM in MiB (default 512)
#   --ips N               instructions per emulated second (default 200000000)
#   --cpu-model M         Bochs CPU model (default broadwell_ult)
#   --timeout S           host wall-clock limit in seconds (default 300)
#   --stop-on LOG:REGEX   stop Bochs once REGEX (grep -E) appears in LOG (guest|hvmon|e9|bochs); repeatable
#   --fail-on LOG:REGEX   stop Bochs and report failure once REGEX appears; repeatable
#   --extra LINE          append a bochsrc line (e.g. 'e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp');
#                         repeatable
#   --ovmf                UEFI firmware (/usr/share/OVMF/OVMF_CODE.fd) instead of the legacy BIOS
#   --rom FILE            other firmware image
#   --disk IMG            boot from a flat disk image (ata0-master) instead of a CD-ROM ISO
#   --triple-fault-reset  reset on guest triple fault (default: end, so the run stops)
#   --quiet               do not print the summary line
# Exit code: 0 = Bochs ended by itself or a --stop-on marker matched, 3 = a --fail-on marker matched,
# 124 = timeout, 2 = usage/setup error. Judge a run by its logs (lib.sh), not by the exit code alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

name="" iso="" disk="" cpus=1 megs=512 ips=200000000 model=broadwell_ult timeout_s=300
rom=/usr/share/bochs/BIOS-bochs-latest reset_tf=0 quiet=0
stops=() fails=() extras=()
die() { echo "bochs-run: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --iso) iso=$2; shift 2 ;;
    --disk) disk=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --megs) megs=$2; shift 2 ;;
    --ips) ips=$2; shift 2 ;;
    --cpu-model) model=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --stop-on) stops+=("$2"); shift 2 ;;
    --fail-on) fails+=("$2"); shift 2 ;;
    --extra) extras+=("$2"); shift 2 ;;
    --ovmf) rom=/usr/share/OVMF/OVMF_CODE.fd; shift ;;
    --rom) rom=$2; shift 2 ;;
    --triple-fault-reset) reset_tf=1; shift ;;
    --quiet) quiet=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -n "$name" ] || die "missing --name"
case $name in */*|.*|"") die "bad run name '$name'" ;; esac
command -v bochs >/dev/null || die "bochs not installed (run tools/deps.sh)"
[ -f "$rom" ] || die "firmware not found: $rom (run tools/deps.sh)"
[ -f /usr/share/vgabios/vgabios.bin ] || die "/usr/share/vgabios/vgabios.bin missing (vgabios)"
if [ -n "$iso" ]; then
  [ -f "$iso" ] || die "ISO not found: $iso"
  iso=$(cd "$(dirname "$iso")" && pwd)/$(basename "$iso")
  bootdev="ata0-master: type=cdrom, path=\"$iso\", status=inserted"$'\n'"boot: cdrom"
elif [ -n "$disk" ]; then
  [ -f "$disk" ] || die "disk image not found: $disk"
  disk=$(cd "$(dirname "$disk")" && pwd)/$(basename "$disk")
  bootdev="ata0-master: type=disk, path=\"$disk\", mode=flat"$'\n'"boot: disk"
else
  die "need --iso or --disk"
fi
for spec in ${stops[@]+"${stops[@]}"} ${fails[@]+"${fails[@]}"}; do
  case ${spec%%:*} in guest|hvmon|e9|bochs) ;; *) die "bad LOG in '$spec' (guest|hvmon|e9|bochs)";; esac
done

run="$top/build/runs/$name"
rm -rf "$run"
mkdir -p "$run"
extra_txt=$(printf '%s\n' ${extras[@]+"${extras[@]}"})
export MEGS=$megs CPU_MODEL=$model CPUS=$cpus IPS=$ips RESET_ON_TRIPLE=$reset_tf ROMIMAGE=$rom \
  VGAROM=/usr/share/vgabios/vgabios.bin BOOTDEV=$bootdev RUN=$run EXTRA=$extra_txt
python3 - "$here/bochsrc.in" "$run/bochsrc" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'@([A-Z_]+)@', lambda m: os.environ[m.group(1)], text)
open(sys.argv[2], 'w').write(text)
PY
printf 'c\nquit\n' > "$run/dbg.rc"
: > "$run/guest.log"; : > "$run/hvmon.log"

logfile() { case $1 in guest) echo "$run/guest.log";; hvmon) echo "$run/hvmon.log";;
  e9) echo "$run/e9.log";; bochs) echo "$run/bochs.log";; esac; }
# match SPEC: true when REGEX of LOG:REGEX is present (NUL/CR tolerant)
match() { local f; f=$(logfile "${1%%:*}"); [ -f "$f" ] && tr -d '\r\000' < "$f" | grep -Eq -- "${1#*:}"; }

start=$(date +%s.%N)
(cd "$run" && exec timeout -k 5 "$timeout_s" bochs -q -f "$run/bochsrc" -rc "$run/dbg.rc" \
   </dev/null >"$run/e9.log" 2>&1) &
pid=$!
# `timeout` runs Bochs in its own process group, so a signal to our caller's group would not reach
# it: if we are stopped (a scenario's own timeout, Ctrl-C), stop Bochs too.
trap 'kill -TERM "$pid" 2>/dev/null; exit 143' TERM INT HUP
status="" marker=""
while kill -0 "$pid" 2>/dev/null; do
  for spec in ${fails[@]+"${fails[@]}"}; do
    if match "$spec"; then status=fail-marker marker=$spec; break; fi
  done
  if [ -z "$status" ]; then
    for spec in ${stops[@]+"${stops[@]}"}; do
      if match "$spec"; then status=marker marker=$spec; break; fi
    done
  fi
  if [ -n "$status" ]; then
    sleep 0.3   # let the rest of the line(s) reach the log
    kill -TERM "$pid" 2>/dev/null || true   # $pid is `timeout` (exec'd): it forwards TERM to Bochs
    break
  fi
  sleep 0.5
done
set +e
wait "$pid"; rc=$?
set -e
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
if [ -z "$status" ]; then
  # Late check: the marker may have been written just before Bochs ended by itself.
  for spec in ${fails[@]+"${fails[@]}"}; do match "$spec" && { status=fail-marker marker=$spec; break; }; done
fi
if [ -z "$status" ]; then
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status="timeout"; else status="exit"; fi
fi
{ echo "status=$status"; echo "seconds=$secs"; echo "bochs_rc=$rc"; echo "marker=$marker"; } > "$run/result"
[ "$quiet" = 1 ] || echo "bochs-run: $name: $status after ${secs}s (bochs rc=$rc${marker:+, marker '$marker'}) logs: $run" >&2
case $status in exit|marker) exit 0 ;; fail-marker) exit 3 ;; timeout) exit 124 ;; esac
