#!/usr/bin/env python3
"""Compare the process tracer's events (hvmon console) with the guest workload's own
record (tests/guest/tracer/tracer-work.c), one to one, for the workload's process tree.
Usage: tracer_compare.py [--cpus=C0,C1,...] HVMON_LOG GUEST_LOG   -> exit 0 when they match, 1 otherwise.
--cpus: the guest ran the workload once per CPU in that order, pinned with taskset (issue 11): each run is
compared on its own and every event of its tree must carry that `cpu`."""
import json, sys
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


def main():
    args = sys.argv[1:]
    cpus = None
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
    if cpus is None:
        return compare([r for run in runs for r in run], evs)
    if len(runs) != len(cpus):
        print('expected %d runs of the workload (one per CPU %s), the record has %d' % (len(cpus), cpus, len(runs)))
        return 1
    return max(compare(run, evs, c) for run, c in zip(runs, cpus))


if __name__ == '__main__':
    sys.exit(main())
