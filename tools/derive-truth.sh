#!/usr/bin/env bash
# tools/derive-truth.sh PKG — ground truth for the inference engine (docs/INFER.md).
#
# PKG is a Debian kernel image package name, e.g. linux-image-6.1.0-56-cloud-amd64
# (an -unsigned or -dbg suffix is accepted and stripped). Downloads the matching
# linux-image-<ver>-dbg package (large: 300 MB-1 GB) into cache/debs/, extracts
# System.map and the DWARF vmlinux into cache/truth/<ver>/, and writes
# tests/truth/<ver>.json in the shape of `hvinfer --json`:
#   symbols  from System.map (link-time addresses),
#   percpu   from System.map (per-CPU symbols are zero-based offsets on x86-64)
#            plus DWARF member offsets for pcpu_hot (6.2+),
#   offsets  from DWARF through gdb (offsetof of each member),
#   banner   linux_banner from DWARF vmlinux (gdb).
# Needs: apt-get, dpkg-deb, gdb, python3. Run with nice: it is slow and big.
# Set KEEP=1 to keep the extracted 600 MB vmlinux in cache/truth/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 linux-image-<version>" >&2; exit 2; }
pkg=${1%-dbg}
pkg=${pkg%-unsigned}
ver=${pkg#linux-image-}
dbg="linux-image-$ver-dbg"
debs="$top/cache/debs"
work="$top/cache/truth/$ver"
out="$top/tests/truth/linux-image-$ver.json"
mkdir -p "$debs" "$work" "$top/tests/truth"

deb=$(ls "$debs/${dbg}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  echo "derive-truth: downloading $dbg (large)" >&2
  # Debian 11 (5.10) packages come through tests/fixtures.sh's private bullseye apt configuration.
  case $ver in
    5.10.0-*) (cd "$debs" && nice -n 10 "$top/tests/fixtures.sh" apt-bullseye apt-get download -qq "$dbg") ;;
    *) (cd "$debs" && nice -n 10 apt-get download -qq "$dbg") ;;
  esac
  deb=$(ls "$debs/${dbg}_"*.deb | head -n1)
fi

map="$work/System.map"
vml="$work/vmlinux"
if [ ! -s "$map" ] || [ ! -s "$vml" ]; then
  echo "derive-truth: extracting System.map and vmlinux from $(basename "$deb")" >&2
  nice -n 10 dpkg-deb --fsys-tarfile "$deb" | nice -n 10 tar -x -C "$work" \
    --wildcards './usr/lib/debug/boot/System.map-*' './usr/lib/debug/boot/vmlinux-*'
  mv "$work"/usr/lib/debug/boot/System.map-* "$map"
  mv "$work"/usr/lib/debug/boot/vmlinux-* "$vml"
  rm -rf "$work/usr"
fi

# Struct member offsets and sizes from DWARF (gdb). Each line: "key value".
gdbcmds="$work/gdb.cmds"
: > "$gdbcmds"
for m in pid tgid comm real_parent parent mm cred real_cred tasks group_leader; do
  echo "printf \"task_struct.$m %lu\\n\", (unsigned long)&((struct task_struct *)0)->$m" >> "$gdbcmds"
done
for m in uid euid gid; do
  echo "printf \"cred.$m %lu\\n\", (unsigned long)&((struct cred *)0)->$m" >> "$gdbcmds"
done
echo "printf \"mm_struct.pgd %lu\\n\", (unsigned long)&((struct mm_struct *)0)->pgd" >> "$gdbcmds"
# issue 15: where every fork path meets (kernel_clone's argument)
echo "printf \"kernel_clone_args.exit_signal %lu\\n\", (unsigned long)&((struct kernel_clone_args *)0)->exit_signal" >> "$gdbcmds"
# issue 15 item 5: the keylogger's reader terminal (controlling tty, foreground group)
echo "printf \"task_struct.signal %lu\\n\", (unsigned long)&((struct task_struct *)0)->signal" >> "$gdbcmds"
for m in tty pids; do
  echo "printf \"signal_struct.$m %lu\\n\", (unsigned long)&((struct signal_struct *)0)->$m" >> "$gdbcmds"
done
echo "printf \"tty_struct.name %lu\\n\", (unsigned long)&((struct tty_struct *)0)->name" >> "$gdbcmds"
# issue 15 item 1: TS_COMPAT's word, as an offset from the task pointer (thread_info is task_struct's first member)
echo "printf \"thread_info.status %lu\\n\", (unsigned long)&((struct task_struct *)0)->thread_info.status" >> "$gdbcmds"
# pcpu_hot exists on 6.2+ only: separate command files, since gdb stops a
# sourced file at its first error but goes on with the next -x file.
gx=(-x "$gdbcmds")
for m in current_task top_of_stack; do
  echo "printf \"pcpu_hot.$m %lu\\n\", (unsigned long)&((struct pcpu_hot *)0)->$m" > "$work/pcpu_$m.cmds"
  gx+=(-x "$work/pcpu_$m.cmds")
done
# 5.9 .. 5.15 have no cpu_current_top_of_stack variable: the syscall entry loads
# RSP from cpu_tss_rw.x86_tss.sp1 (PER_CPU_VAR(cpu_tss_rw + TSS_sp1)).
echo "printf \"tss.sp1 %lu\\n\", (unsigned long)&((struct tss_struct *)0)->x86_tss.sp1" > "$work/tss_sp1.cmds"
gx+=(-x "$work/tss_sp1.cmds")
# tty_struct.pgrp: tty->ctrl.pgrp on 5.11+, tty->pgrp before (one of the two files fails)
echo "printf \"tty_struct.pgrp %lu\\n\", (unsigned long)&((struct tty_struct *)0)->ctrl.pgrp" > "$work/tty_pgrp_ctrl.cmds"
echo "printf \"tty_struct.pgrp %lu\\n\", (unsigned long)&((struct tty_struct *)0)->pgrp" > "$work/tty_pgrp.cmds"
gx+=(-x "$work/tty_pgrp_ctrl.cmds" -x "$work/tty_pgrp.cmds")
echo 'printf "banner %s", linux_banner' > "$work/banner.cmds"
gx+=(-x "$work/banner.cmds")
echo "derive-truth: reading DWARF with gdb" >&2
nice -n 10 gdb -nx -batch "${gx[@]}" "$vml" > "$work/gdb.out" 2> "$work/gdb.err" || true

python3 - "$map" "$work/gdb.out" "$out" "$ver" <<'PY'
import json, sys
mapf, gdbf, outf, ver = sys.argv[1:]
syms = {}
for line in open(mapf):
    parts = line.split()
    if len(parts) >= 3:
        syms.setdefault(parts[2], []).append(int(parts[0], 16))
facts = {}
for line in open(gdbf):
    k, _, v = line.rstrip("\n").partition(" ")
    facts[k] = v

def sym(name):
    v = syms.get(name)
    if not v or len(set(v)) != 1:
        return None
    return v[0]

def addr(name):
    v = sym(name)
    return None if v is None else "0x%x" % v

symbols = {n: addr(n) for n in ["entry_SYSCALL_64", "sys_call_table", "x64_sys_call",
                                "__switch_to", "init_task", "do_exit"]}
# issue 15: the meeting points of every exec/fork path; do_execveat_common is
# static and GCC may clone it (NAME.isra.0, NAME.constprop.0; NAME.cold is a
# split-off cold part, not the entry)
symbols["kernel_clone"] = addr("kernel_clone")
symbols["kernel_execve"] = addr("kernel_execve")
dec = [addr(n) for n in ("do_execveat_common", "do_execveat_common.isra.0",
                         "do_execveat_common.constprop.0") if addr(n)]
symbols["do_execveat_common"] = dec[0] if len(dec) == 1 else None
# issue 15 item 5: the keylogger's evdev copy point and the active VT's index
symbols["input_event_to_user"] = addr("input_event_to_user")
symbols["fg_console"] = addr("fg_console")
# issue 15 item 3 B: the integrity monitor's patch-site lists and ftrace_caller's two call sites
for n in ["__start_mcount_loc", "__stop_mcount_loc", "__start___jump_table", "__stop___jump_table",
          "__start_static_call_sites", "__stop_static_call_sites", "__static_call_text_start",
          "__static_call_text_end", "ftrace_call", "ftrace_regs_call"]:
    symbols[n] = addr(n)
# issue 15 item 5 gap A: every tty's read_iter (the keylogger's tty copy point is found in it)
symbols["tty_read"] = addr("tty_read")
# issue 15 item 3 B: 5.10's function-graph jump inside ftrace_caller (absent from 5.16 on)
symbols["ftrace_graph_call"] = addr("ftrace_graph_call")
sc = {}
for n in ["execve", "execveat", "exit", "exit_group", "clone", "clone3", "fork", "vfork",
          "kill", "setuid", "setresuid", "init_module", "finit_module", "read"]:
    sc[n] = addr("__x64_sys_" + n) or addr("sys_" + n)
symbols["syscalls"] = sc

percpu = {}
if sym("current_task") is not None:
    percpu["current_task"] = sym("current_task")
elif sym("pcpu_hot") is not None and "pcpu_hot.current_task" in facts:
    percpu["current_task"] = sym("pcpu_hot") + int(facts["pcpu_hot.current_task"])
else:
    percpu["current_task"] = None
if sym("cpu_current_top_of_stack") is not None:
    percpu["top_of_stack"] = sym("cpu_current_top_of_stack")
elif sym("pcpu_hot") is not None and "pcpu_hot.top_of_stack" in facts:
    percpu["top_of_stack"] = sym("pcpu_hot") + int(facts["pcpu_hot.top_of_stack"])
elif sym("cpu_tss_rw") is not None and "tss.sp1" in facts:
    percpu["top_of_stack"] = sym("cpu_tss_rw") + int(facts["tss.sp1"])
else:
    percpu["top_of_stack"] = None

offsets = {"task_struct": {}, "cred": {}, "mm_struct": {}, "kernel_clone_args": {},
           "signal_struct": {}, "tty_struct": {}, "thread_info": {}}
for k, v in facts.items():
    s, _, m = k.partition(".")
    if s in offsets and k != "tss.sp1":
        offsets[s][m] = int(v)
banner = facts.get("banner", "")
missing = {}
for grp in (symbols, symbols["syscalls"], percpu):
    for k, v in grp.items():
        if v is None:
            missing[k] = "absent from System.map/DWARF"
for s, d in offsets.items():
    for m in d:
        pass
need = {"task_struct": ["pid", "tgid", "comm", "real_parent", "parent", "mm", "cred",
                        "real_cred", "tasks", "group_leader", "signal"],
        "cred": ["uid", "euid", "gid"], "mm_struct": ["pgd"],
        "kernel_clone_args": ["exit_signal"],
        "signal_struct": ["tty", "pids"], "tty_struct": ["name", "pgrp"],
        "thread_info": ["status"]}
for s, ms in need.items():
    for m in ms:
        if m not in offsets[s]:
            sys.exit("derive-truth: gdb gave no offset for %s.%s (see gdb.err)" % (s, m))
for k in ("entry_SYSCALL_64", "sys_call_table", "__switch_to", "init_task"):
    if symbols[k] is None:
        sys.exit("derive-truth: %s missing from System.map" % k)
# issue 15 item 5 gap A (not inferred parameters: the independent check of the keylogger's tty copy
# point, tests/integration/infer_cli.sh): where tty_read ends (the next text symbol) and the target
# of the call the copy point must be
text = sorted(int(l.split()[0], 16) for l in open(mapf) if len(l.split()) >= 3 and l.split()[1] in "tTwW")
tr = sym("tty_read")
keylogger = {"tty_read_end": None if tr is None else "0x%x" % min(a for a in text if a > tr),
             "_copy_to_iter": addr("_copy_to_iter"),
             # issue 15 item 5 (5.10): the syscall exit site's function and its target
             "do_syscall_64": addr("do_syscall_64"),
             "syscall_exit_to_user_mode": addr("syscall_exit_to_user_mode")}
obj = {"banner": banner, "strategy": "truth", "package": "linux-image-%s" % ver,
       "source": "System.map + DWARF (gdb) of linux-image-%s-dbg" % ver,
       "symbols": symbols, "percpu": percpu, "offsets": offsets, "missing": missing,
       "keylogger": keylogger}
with open(outf, "w") as f:
    json.dump(obj, f, indent=1, sort_keys=False)
    f.write("\n")
print("derive-truth: wrote", outf)
PY
[ "${KEEP:-0}" = 1 ] || rm -f "$vml"
