#!/usr/bin/env python3
"""Compare the process tracer's events (hvmon console) with the guest workload's own
record (tests/guest/tracer/tracer-work.c), one to one, for the workload's process tree.
Usage: tracer_compare.py [--cpus=C0,C1,...] [--abi [--int80-64]] HVMON_LOG GUEST_LOG   -> exit 0 when they match, 1 otherwise.
--cpus: the guest ran the workload once per CPU in that order, pinned with taskset (issue 11): each run is
compared on its own and every event of its tree must carry that `cpu`.
--abi (issue 15): every event of the (64-bit) workload's tree says "abi":"x64"; and the guest's
i386 program (tests/guest/tracer/hv32.c, "HVMON-GUEST: I386 parent=P child=C ...") and usermode
helper (tests/guest/hvumh, "HVMON-GUEST: UMH pid=H ret=R") ran, and the events of their tasks are
exactly the expected ones, ABI and syscall number included.
--int80-64 (with --abi): also the 64-bit program that forks/execs/exits through int $0x80
(tests/guest/tracer/hv64i80.c, "HVMON-GUEST: I80X64 parent=P child=C status=0xS")."""
import json, re, sys
from collections import Counter

ARGV_MAX, ARG_LEN, ARGV_BYTES, PATH_LEN = 16, 128, 768, 256   # events/event.h


def lines(path):
    with open(path, 'rb') as f:
        for raw in f.read().replace(b'\0', b'').replace(b'\r', b'').split(b'\n'):
            yield raw.decode('utf-8', 'replace')


def trunc_argv(argv):
    """what hv_exec_add_arg keeps (events/event.c)"""
    out, used, cut = [], 0, False
    for a in argv:
        if len(out) >= ARGV_MAX or used >= ARGV_BYTES:
            cut = True
            break
        room = min(ARGV_BYTES - used, ARG_LEN)
        b = a.encode()
        if len(b) + 1 > room:
            b = b[:room - 1]
            cut = True
        out.append(b.decode())
        used += len(b) + 1
    return tuple(out), cut


def key(e, from_record):
    t = e['event']
    if t == 'fork':
        return ('fork', e['parent_pid'], e['child_pid'], e['kind'])
    if t == 'exit':
        # code, signal and core flag as the kernel records them (docs/EVENTS.md);
        # a task of the workload's tree is never a kernel thread
        return ('exit', e['pid'], e['tgid'], e['code'], e.get('signal'), bool(e.get('core_dumped')),
                bool(e.get('kthread')))
    if from_record:
        argv, cut = trunc_argv(e['argv'])
        fn = e['filename'].encode()[:PATH_LEN - 1].decode()
    else:
        argv, cut = tuple(e['argv']), bool(e.get('argv_truncated'))
        fn = e['filename']
        if e.get('read_failed'):
            cut = 'read_failed'
    return ('exec', e['pid'], e['ppid'], e['uid'], fn, argv, cut, e['ok'], e['err'], e['comm'])


def compare(recs, evs, cpu=None):
    """one run of the workload: its record against the tracer's events for its tree;
    with @cpu (the run was pinned there, issue 11) every one of them must say that cpu"""
    root = next((r['pid'] for r in recs if r['event'] == 'exec' and r['filename'] == '/modules/tracer-work'), None)
    if root is None:
        print('the record has no exec of /modules/tracer-work')
        return 1
    tree = {root} | {r['child_pid'] for r in recs if r['event'] == 'fork'}
    mine = [e for e in evs if (e['event'] == 'fork' and e['child_pid'] in tree) or
            (e['event'] != 'fork' and e['pid'] in tree)]
    want = Counter(key(r, True) for r in recs)
    got = Counter(key(e, False) for e in mine)
    missing, invented = want - got, got - want
    print('workload pid %d%s: %d recorded operations, %d tracer events for its tree (%d proctrace events in all)'
          % (root, '' if cpu is None else ' (pinned to CPU %d)' % cpu, sum(want.values()), sum(got.values()), len(evs)))
    by = Counter(k[0] for k in want.elements())
    print('  recorded: %s' % ', '.join('%s %d' % kv for kv in sorted(by.items())))
    sig = Counter(k[4] for k in want.elements() if k[0] == 'exit' and k[4])
    print('  recorded exits by a signal: %s' % (', '.join('signal %d: %d' % kv for kv in sorted(sig.items())) or 'none'))
    dup = Counter((e['pid']) for e in mine if e['event'] == 'exit')
    for pid, n in sorted(dup.items()):
        if n > 1:
            print('DUPLICATE: %d exit events for task %d' % (n, pid))
    for k in missing.elements():
        print('MISSING (recorded by the guest, no tracer event): %r' % (k,))
    for k in invented.elements():
        print('INVENTED (tracer event, not in the record): %r' % (k,))
    bad_cpu = 0
    if cpu is not None:
        cpus = Counter(e.get('cpu') for e in mine)
        print('  events by cpu: %s' % ', '.join('cpu %s: %d' % kv for kv in sorted(cpus.items(), key=str)))
        for e in mine:
            if e.get('cpu') != cpu:
                bad_cpu += 1
                print('WRONG CPU (want %d): %s' % (cpu, json.dumps(e)[:200]))
    if any(n > 1 for n in dup.values()):
        return 1
    return 1 if missing or invented or bad_cpu else 0


def abi_key(e):
    t = e['event']
    k = (t, e.get('abi'), e.get('syscall'))
    if t == 'fork':
        return k + (e['parent_pid'], e['child_pid'])
    if t == 'exit':
        return k + (e['pid'], e['code'], e['signal'])
    return k + (e['pid'], e['filename'], tuple(e['argv']), e['ok'])


def check_set(label, want, evs, pids):
    """the events whose task (or fork child) is one of @pids equal @want (abi_key multiset);
    a fork whose parent is not in @pids is keyed without its syscall number and parent"""
    mine = [e for e in evs if (e['event'] == 'fork' and e['child_pid'] in pids) or
            (e['event'] != 'fork' and e['pid'] in pids)]
    got = Counter()
    for e in mine:
        k = abi_key(e)
        if e['event'] == 'fork' and e['parent_pid'] not in pids:
            k = k[:2] + (None, None) + k[4:]  # the parent is outside (a shell, a kworker): its call
                                              # (fork, clone...) is not this test's
        got[k] += 1
    want = Counter(want)
    print('%s: %d events for pids %s, %d expected' % (label, sum(got.values()), sorted(pids), sum(want.values())))
    for k in (want - got).elements():
        print('MISSING (%s): %r' % (label, k))
    for k in (got - want).elements():
        print('INVENTED (%s): %r' % (label, k))
    for e in mine:
        print('  ' + json.dumps({k: e[k] for k in e if k not in ('tsc', 'monitor', 'cpu')}))
    return 1 if want != got else 0


def check_abis(guest, evs, recs, i80x64=None):
    """issue 15: the 64-bit workload says x64; the i386 program and the usermode helper are exact"""
    rc = 0
    root = {r['pid'] for r in recs if r['event'] == 'exec' and r['filename'] == '/modules/tracer-work'}
    tree = root | {r['child_pid'] for r in recs if r['event'] == 'fork'}
    x64 = [e for e in evs if ((e['event'] == 'fork' and e['child_pid'] in tree) or
                              (e['event'] != 'fork' and e['pid'] in tree))]
    bad = [e for e in x64 if e.get('abi') != 'x64' or (e['event'] != 'exit' and e.get('syscall', -1) < 0)]
    print('workload: %d events, %d with "abi":"x64" and a syscall number' % (len(x64), len(x64) - len(bad)))
    for e in bad[:10]:
        print('NOT X64: ' + json.dumps(e)[:240])
    rc |= bool(bad) or not x64
    i386 = umh = None
    for l in lines(guest):
        m = re.search(r'HVMON-GUEST: I386 parent=(\d+) child=(\d+) status=0x([0-9a-f]+) sysinfo=(\d)', l)
        if m:
            i386 = [int(m.group(1)), int(m.group(2)), int(m.group(3), 16), int(m.group(4))]
        m = re.search(r'HVMON-GUEST: UMH pid=(\d+) ret=(-?\d+)', l)
        if m:
            umh = [int(m.group(1)), int(m.group(2))]
    if not i386:
        print('no "HVMON-GUEST: I386" line: the i386 program did not run')
        return 1
    p, c, st, sysinfo = i386
    print('i386 program: parent %d, child %d, wait status %#x, vDSO entry %s' % (p, c, st, 'used' if sysinfo else 'absent'))
    if st != 0x400:
        print('WRONG STATUS: the child exited with status %#x (want 0x400)' % st)
        rc = 1
    rc |= check_set('i386', [
        ('fork', 'x64', None, None, p),                 # the shell forks the program (64-bit)
        ('exec', 'x64', 59, p, '/modules/hv32', ('/modules/hv32',), True),
        ('fork', 'i386', 2, p, c),                      # int $0x80: fork = 2
        ('exec', 'i386', 11, c, '/modules/hv32', ('hv32', 'child'), True),   # execve = 11
        ('exit', 'i386', 1, c, 4, 0),                   # exit = 1 (vDSO entry or int $0x80)
        ('exit', 'i386', 1, p, 3, 0),
    ], evs, {p, c})
    if i80x64 is not None:
        m = None
        for l in lines(guest):
            m = re.search(r'HVMON-GUEST: I80X64 parent=(\d+) child=(\d+) status=0x([0-9a-f]+)', l) or m
        if not m:
            print('no "HVMON-GUEST: I80X64" line: the 64-bit int $0x80 program did not run')
            return 1
        p, c, st = int(m.group(1)), int(m.group(2)), int(m.group(3), 16)
        print('64-bit int $0x80 program: parent %d, child %d, wait status %#x' % (p, c, st))
        if st != 0:
            print('WRONG STATUS: the child (busybox true) exited with status %#x (want 0)' % st)
            rc = 1
        rc |= check_set('int $0x80 from 64-bit code', [
            ('fork', 'x64', None, None, p),             # the shell forks the program
            ('exec', 'x64', 59, p, '/modules/hv64i80', ('/modules/hv64i80',), True),
            ('fork', 'i386', 2, p, c),                  # CS 0x33, i386 fork = 2: told apart
            ('exec', 'i386', 11, c, '/bin/busybox', ('/bin/busybox', 'true', 'hv64i80-child'), True),
            ('exit', 'x64', 231, c, 0, 0),              # busybox: a 64-bit exit_group
            ('exit', 'i386', 1, p, 6, 0),               # int $0x80 exit: TS_COMPAT in thread_info.status
        ], evs, {p, c})
    if not umh:
        print('no "HVMON-GUEST: UMH" line: the usermode helper module did not run')
        return 1
    h, ret = umh
    print('usermode helper: pid %d, wait status %#x' % (h, ret))
    if ret != 0x500:
        print('WRONG STATUS: call_usermodehelper returned %#x (want 0x500)' % ret)
        rc = 1
    rc |= check_set('usermode helper', [
        ('fork', 'kernel', None, None, h),              # kernel_clone from a kworker
        ('exec', 'kernel', -1, h, '/bin/sh', ('/bin/sh', '-c', 'echo $$ > /tmp/hvumh.pid; exit 5'), True),
        ('exit', 'x64', 231, h, 5, 0),                  # busybox sh: exit_group(5)
    ], evs, {h})
    return rc


def main():
    args = sys.argv[1:]
    cpus = None
    abi = False
    if '--abi' in args:
        abi = True
        args.remove('--abi')
    i80x64 = None
    if '--int80-64' in args:          # also tests/guest/tracer/hv64i80 (k510_bochs.sh)
        i80x64 = True
        args.remove('--int80-64')
    if args and args[0].startswith('--cpus='):
        # the guest ran the workload once per listed CPU, pinned (taskset), in this order
        cpus = [int(c) for c in args[0][len('--cpus='):].split(',')]
        args = args[1:]
    hv, guest = args[0], args[1]
    runs = [[]]
    for l in lines(guest):
        if cpus is not None and 'HVMON-GUEST: tracer-work pinned cpu=' in l:
            if runs[-1]:
                runs.append([])                 # the next run of the workload (tracer.sh's marker)
            continue
        i = l.find('HVMON-GUEST: REC ')
        if i >= 0:
            runs[-1].append(json.loads(l[i + len('HVMON-GUEST: REC '):]))
    evs = []
    for l in lines(hv):
        if l.startswith('{"event":"'):
            try:
                e = json.loads(l)
            except ValueError:
                print('unparsable event line: ' + l[:200])
                return 1
            if e.get('monitor') == 'proctrace' and e['event'] in ('exec', 'fork', 'exit'):
                evs.append(e)
    if not runs[0]:
        print('no REC lines in the guest log')
        return 1
    rc = check_abis(guest, evs, [r for run in runs for r in run], i80x64) if abi else 0
    if cpus is None:
        return max(rc, compare([r for run in runs for r in run], evs))
    if len(runs) != len(cpus):
        print('expected %d runs of the workload (one per CPU %s), the record has %d' % (len(cpus), cpus, len(runs)))
        return 1
    return max([rc] + [compare(run, evs, c) for run, c in zip(runs, cpus)])


if __name__ == '__main__':
    sys.exit(main())
