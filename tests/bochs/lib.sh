# shellcheck shell=bash
# tests/bochs/lib.sh — helpers for Bochs scenario scripts. Source it:
#   . "$(dirname "$0")/../bochs/lib.sh"
#
# Functions (all fail the script with a readable message + log tails on error):
#   hv_fixture_kernel [cloud|generic|6.12|PKG]     print the guest bzImage path (fetches if needed)
#   hv_fixture_initrd SCENARIO [fixtures opts...]  build an initramfs for SCENARIO; print its path
#   hv_iso NAME [mkiso.sh args...]                 build build/iso/NAME.iso; print its path
#   hv_boot NAME [--bare] [--kernel K] [--initrd I] [--scenario S] [--hv-opts O] [--cmdline C]
#           [--modules "a.ko b.ko"] [--kmods "evdev"] [run.sh args...]
#                                                  build ISO + run Bochs; sets RUN_DIR, RUN_STATUS
#                                                  (stops on guest power-off; fails fast on panics)
#   hv_run NAME [run.sh args...]                   run.sh wrapper; sets RUN_DIR, RUN_STATUS
#   assert_marker LOG REGEX [WHAT]                 LOG: guest|hvmon|e9|bochs (of the last run)
#   assert_no_marker LOG REGEX [WHAT]
#   assert_status STATUS...                        the run ended with one of these statuses
#   marker_value LOG REGEX                         print the first line matching REGEX
#   wait_marker FILE REGEX SECONDS                 poll a file until REGEX appears (0) or timeout (1)
#   json_events LOG [EVENT]                        print the JSON lines {"event":...} (optionally
#                                                  only those with "event":"EVENT"), one per line
#   hv_freeport                                    print a UDP port nothing listens on (chosen at run time)
#   hv_start_collector [hvmon-collect opts...]     key + hvmon-collect on 127.0.0.1 in the background; sets
#                                                  HV_COL_DIR (key, out, err), HV_COL_PORT, HV_COL_PID and
#                                                  HV_COL_OPTS (hvmon's collector=/key=/ip= options)
#   hv_stop_collector                              stop it; HV_COL_RC = its exit status
#   hv_fail MESSAGE                                print MESSAGE and the tails of the run's logs; exit 1
#   hv_pass MESSAGE                                print "PASS: MESSAGE"; exit 0
#
# Environment: HV_KERNEL / HV_INITRD override the guest of hv_boot (make test-boot KERNEL= INITRD=);
# HV_TIMEOUT (default 600) bounds each Bochs run; HV_TAIL (default 25) log lines shown on failure;
# HV_RUN_WRAPPER is a command prefix for run.sh (e.g. a lock that serialises emulators).
# HV_EXTRA_OPTS: options appended to every hv_boot's --hv-opts (the last value of a key wins, so this
# forces an option onto existing scenarios: HV_EXTRA_OPTS=integrity_ept=on tests/integration/X.sh);
# HV_EXTRA_MONITORS: monitors appended to an explicit monitors=LIST (not to all/none/absent, which
# already mean every monitor or none), e.g. HV_EXTRA_MONITORS=integrity.

HV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HV_BOCHS="$HV_TOP/tests/bochs"
RUN_DIR=""
RUN_STATUS=""
: "${HV_TIMEOUT:=600}"
: "${HV_TAIL:=25}"
# Guest markers that end a run early as a failure (the guest is gone; waiting is pointless).
HV_GUEST_FATAL='Kernel panic|BUG: unable to handle|general protection fault:|Kernel Offset:.*panic|HVMON-GUEST: poweroff failed'

_hv_log() { case $1 in guest|hvmon|e9|bochs) echo "$RUN_DIR/$1.log" ;; *) echo "$1" ;; esac; }

hv_fail() {
  echo "FAIL: $*" >&2
  if [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ]; then
    [ -f "$RUN_DIR/result" ] && echo "--- run: $(tr '\n' ' ' < "$RUN_DIR/result")" >&2
    local l
    for l in hvmon guest e9; do
      [ -s "$RUN_DIR/$l.log" ] || continue
      echo "--- last $HV_TAIL lines of $RUN_DIR/$l.log:" >&2
      tr -d '\000\r' < "$RUN_DIR/$l.log" | grep -av '^ALSA\|^[0-9]*i\[' | tail -n "$HV_TAIL" >&2
    done
  fi
  exit 1
}

hv_pass() { echo "PASS: $*"; exit 0; }

hv_fixture_kernel() {
  if [ -n "${HV_KERNEL:-}" ]; then
    [ -f "$HV_KERNEL" ] || hv_fail "KERNEL=$HV_KERNEL does not exist"
    echo "$HV_KERNEL"; return
  fi
  "$HV_TOP/tests/fixtures.sh" kernel "${1:-cloud}" || hv_fail "guest kernel fixture '${1:-cloud}' unavailable"
}

hv_fixture_initrd() {
  local s=$1; shift
  "$HV_TOP/tests/fixtures.sh" initramfs -s "$s" "$@" || hv_fail "initramfs for scenario '$s' failed"
}

hv_iso() {
  local name=$1; shift
  "$HV_BOCHS/mkiso.sh" -o "$HV_TOP/build/iso/$name.iso" "$@" >/dev/null || hv_fail "mkiso $name failed"
  echo "$HV_TOP/build/iso/$name.iso"
}

hv_run() {
  local name=$1; shift
  RUN_DIR="$HV_TOP/build/runs/$name"
  local rc=0
  # HV_RUN_WRAPPER: a command prefix for the emulator run only (e.g. a machine-wide slot lock),
  # so that a script's other work does not hold it
  ${HV_RUN_WRAPPER:-} "$HV_BOCHS/run.sh" --name "$name" "$@" || rc=$?
  RUN_STATUS=$(sed -n 's/^status=//p' "$RUN_DIR/result" 2>/dev/null || true)
  [ "$rc" = 2 ] && hv_fail "run.sh setup error for $name"
  return 0
}

# _hv_extra_opts OPTS: OPTS with HV_EXTRA_MONITORS and HV_EXTRA_OPTS applied (see the header).
_hv_extra_opts() {
  local o=$1 w out=""
  if [ -n "${HV_EXTRA_MONITORS:-}" ]; then
    for w in $o; do
      case $w in
        monitors=all|monitors=none) ;;
        monitors=*) w="$w,$HV_EXTRA_MONITORS" ;;
      esac
      out="${out:+$out }$w"
    done
    o=$out
  fi
  [ -n "${HV_EXTRA_OPTS:-}" ] && o="${o:+$o }$HV_EXTRA_OPTS"
  printf '%s' "$o"
}

hv_boot() {
  local name=$1; shift
  local bare="" kernel="" initrd="" scenario=boot hvopts="" cmdline="" mods="" kmods="" kflavour=cloud
  local rest=() fx=()
  while [ $# -gt 0 ]; do
    case $1 in
      --bare) bare=--bare; shift ;;
      --kernel) kernel=$2; shift 2 ;;
      --flavour) kflavour=$2; shift 2 ;;
      --initrd) initrd=$2; shift 2 ;;
      --scenario) scenario=$2; shift 2 ;;
      --hv-opts) hvopts=$2; shift 2 ;;
      --cmdline) cmdline=$2; shift 2 ;;
      --modules) mods=$2; shift 2 ;;
      --kmods) kmods=$2; shift 2 ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  [ -n "$kernel" ] || kernel=$(hv_fixture_kernel "$kflavour") || exit 1
  if [ -z "$initrd" ]; then
    initrd=${HV_INITRD:-}
    if [ -z "$initrd" ]; then
      local m; for m in $mods; do fx+=(-m "$m"); done
      for m in $kmods; do fx+=(-k "$m"); done
      [ -n "$kmods" ] && fx+=(--kernel "$kflavour")
      initrd=$(hv_fixture_initrd "$scenario" -o "$HV_TOP/build/initramfs/$name.cpio.gz" ${fx[@]+"${fx[@]}"}) || exit 1
    fi
  fi
  local isoargs=(--kernel "$kernel" --initrd "$initrd")
  [ -n "$bare" ] && isoargs+=(--bare)
  hvopts=$(_hv_extra_opts "$hvopts")
  [ -n "$hvopts" ] && isoargs+=(--hv-opts "$hvopts")
  [ -n "$cmdline" ] && isoargs+=(--cmdline "$cmdline")
  local iso; iso=$(hv_iso "$name" "${isoargs[@]}") || exit 1
  hv_run "$name" --iso "$iso" --timeout "$HV_TIMEOUT" --fail-on "guest:$HV_GUEST_FATAL" \
    ${rest[@]+"${rest[@]}"}
}

marker_value() {
  local f; f=$(_hv_log "$1")
  tr -d '\000\r' < "$f" 2>/dev/null | grep -aE -- "$2" | sed -n 1p
}

assert_marker() {
  local f; f=$(_hv_log "$1")
  tr -d '\000\r' < "$f" 2>/dev/null | grep -aE -- "$2" >/dev/null || hv_fail "${3:-expected /$2/ in $1 log}"
}

assert_no_marker() {
  local f; f=$(_hv_log "$1")
  if tr -d '\000\r' < "$f" 2>/dev/null | grep -aE -- "$2" >/dev/null; then
    hv_fail "${3:-unexpected /$2/ in $1 log}: $(tr -d '\000\r' < "$f" | grep -aE -m1 -- "$2")"
  fi
}

assert_status() {
  local s
  for s in "$@"; do [ "$RUN_STATUS" = "$s" ] && return 0; done
  hv_fail "run ended with status '$RUN_STATUS', expected one of: $*"
}

wait_marker() {
  local f=$1 re=$2 secs=$3 end
  end=$(( $(date +%s) + secs ))
  while [ "$(date +%s)" -le "$end" ]; do
    [ -f "$f" ] && tr -d '\000\r' < "$f" | grep -aE -- "$re" >/dev/null && return 0
    sleep 0.5
  done
  return 1
}

json_events() {
  local f; f=$(_hv_log "$1")
  local lines
  lines=$(tr -d '\000\r' < "$f" 2>/dev/null | grep -ao '{"event":.*}' || true)
  if [ -n "${2:-}" ]; then
    printf '%s\n' "$lines" | grep -F "\"event\":\"$2\"" || true
  else
    [ -n "$lines" ] && printf '%s\n' "$lines"
  fi
  return 0
}

# assert_probes_invisible N: the guest's `HVMON-GUEST: KTEXT sym addr bytes` lines (its
# /proc/kcore reads of probed functions) show original bytes, not int3, at N addresses where
# hvmon reports a live probe with hits. Prints one line per address.
# Issue 15 item 3 A (docs/MONITORS.md "Integrity monitor"): the integrity monitor's boot done is the
# kernel's own exec of init (a probe on kernel_execve, pid 1), not the first user mode a 100 ms tick
# samples: its line must say so, and it must come before init's first instruction — before the
# tracer's exec event of pid 1 (emitted at kernel_execve's return) in hvmon's console, with a lower TSC.
assert_boot_done_at_init() {
  local f l e n1 n2 t1 t2 khz
  f=$(_hv_log hvmon)
  l=$(tr -d '\000\r' < "$f" 2>/dev/null | grep -an 'integrity: boot done: ' | sed -n 1p)
  [ -n "$l" ] || hv_fail "no 'integrity: boot done' line"
  grep -qF "the kernel execs init (pid 1's kernel_execve)" <<<"$l" ||
    hv_fail "integrity's boot done is not the kernel's exec of init: ${l#*:}"
  e=$(tr -d '\000\r' < "$f" 2>/dev/null | grep -an '{"event":"exec",.*"pid":1,"tgid":1,' | sed -n 1p)
  [ -n "$e" ] || hv_fail "no exec event of pid 1 (init) from the tracer"
  n1=${l%%:*}; n2=${e%%:*}
  t1=$(sed -nE 's/.*, TSC ([0-9]+),.*/\1/p' <<<"$l"); t2=$(sed -nE 's/.*"tsc":([0-9]+),.*/\1/p' <<<"$e")
  [ -n "$t1" ] && [ -n "$t2" ] || hv_fail "no TSC in the boot-done line or init's exec event"
  [ "$n1" -lt "$n2" ] && [ "$t1" -lt "$t2" ] ||
    hv_fail "boot done (line $n1, TSC $t1) is not before init's exec event (line $n2, TSC $t2)"
  khz=$(marker_value hvmon 'tick: TSC [0-9]+ kHz' | sed -E 's/.*TSC ([0-9]+) kHz.*/\1/')
  echo "ok: integrity boot done at the kernel's exec of init (hvmon.log line $n1; $(grep -oE '[0-9]+ user-mode ticks before' <<<"$l")):" \
    "$(( (t2 - t1) / ${khz:-1} )) ms before init's exec event (line $n2)"
}

assert_probes_invisible() {
  local want=$1 n=0 sym addr bytes hits
  while read -r _ sym addr bytes; do
    [ -n "$bytes" ] || hv_fail "guest could not read $sym through /proc/kcore"
    case $bytes in cc*) hv_fail "guest sees an int3 at $sym ($addr: $bytes)";; esac
    hits=$(tr -d '\000\r' < "$RUN_DIR/hvmon.log" | sed -n "s/^hvmon: probe 0x$addr ([^)]*): \([0-9]*\) hits.*/\1/p")
    [ -n "$hits" ] && [ "$hits" -gt 0 ] || hv_fail "no live probe with hits at $sym ($addr)"
    echo "$sym at $addr: guest reads $bytes; probe hits $hits"
    n=$((n + 1))
  done < <(tr -d '\000\r' < "$RUN_DIR/guest.log" | grep -a 'HVMON-GUEST: KTEXT ' | sed 's/^.*HVMON-GUEST: //')
  [ "$n" = "$want" ] || hv_fail "expected $want KTEXT lines, got $n"
}

# assert_ret2usr_first_execuser: the first ret2usr report names faultinj's execuser attack
# (its user address, pid and comm: no event came before it), and the user page never ran
# in kernel mode. Sets addr, pid, comm (the attack) and first (the report) for the caller.
assert_ret2usr_first_execuser() {
  local ua
  ua=$(marker_value guest 'FAULTINJ: execuser exec user_addr=' | sed -E 's/.*user_addr=(0x[0-9a-f]+) pid=([0-9]+) comm=([^ ]+).*/\1 \2 \3/')
  [ -n "$ua" ] || hv_fail "execuser did not run"
  read -r addr pid comm <<<"$ua"
  first=$(marker_value hvmon 'ret2usr: (kernel executed|cr4_tamper)')
  grep -q "kernel executed user address $addr .* in task $pid ($comm)" <<<"$first" \
    || hv_fail "first ret2usr report is not the execuser attack ($addr $pid $comm): $first"
  assert_no_marker guest 'FAULTINJ: execuser returned' "the user page did not run in kernel mode"
}

# ---- a collector for scripts that boot hvmon with its network channel ----
# hv_freeport: a UDP port nothing listens on now (chosen at run time: scripts run two at a time)
hv_freeport() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 30000 ))
    ss -Hlun "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

# hv_start_collector [hvmon-collect options...]: a fresh key and hvmon-collect listening on
# 127.0.0.1 in the background (extra options: --timeout, --silence...). Sets HV_COL_DIR (a
# mktemp dir: key, out = the collector's events, err = its log; removed at exit unless KEEP
# is set), HV_COL_PORT, HV_COL_PID, and HV_COL_OPTS, hvmon's options for it
# ("collector=10.0.2.2:PORT key=KEY ip=dhcp": slirp's host address). Needs
# build/tools/hvmon-collect (the script's make). A script with its own EXIT trap calls
# hv_collector_cleanup from it.
hv_start_collector() {
  local col="$HV_TOP/build/tools/hvmon-collect"
  [ -x "$col" ] || hv_fail "no $col (make tools)"
  hv_collector_cleanup                    # a previous one of this script
  HV_COL_DIR=$(mktemp -d /tmp/hv-collector.XXXXXX) || hv_fail "mktemp"
  trap hv_collector_cleanup EXIT
  "$col" --genkey "$HV_COL_DIR/key" 2>/dev/null || hv_fail "hvmon-collect --genkey failed"
  HV_COL_PORT=$(hv_freeport)
  "$col" --listen "127.0.0.1:$HV_COL_PORT" --key "$HV_COL_DIR/key" --out "$HV_COL_DIR/out" "$@" \
    2>"$HV_COL_DIR/err" &
  HV_COL_PID=$!
  HV_COL_OPTS="collector=10.0.2.2:$HV_COL_PORT key=$(cat "$HV_COL_DIR/key") ip=dhcp"
}

# hv_stop_collector: SIGTERM, wait; HV_COL_RC = its exit status (0, or 65: loss reported)
hv_stop_collector() {
  HV_COL_RC=0
  [ -n "${HV_COL_PID:-}" ] || return 0
  kill -TERM "$HV_COL_PID" 2>/dev/null
  wait "$HV_COL_PID" || HV_COL_RC=$?
  HV_COL_PID=""
}

hv_collector_cleanup() {
  [ -n "${HV_COL_PID:-}" ] && kill "$HV_COL_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] || [ -z "${HV_COL_DIR:-}" ] || rm -rf "$HV_COL_DIR"
  return 0
}
