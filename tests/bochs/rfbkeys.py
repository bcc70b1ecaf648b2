#!/usr/bin/env python3
"""Type keys into a Bochs guest through Bochs's RFB (VNC) server (display_library: rfb).

Bochs 2.7's RFB server speaks RFB 3.3 with security type 1 (none). After ServerInit it pushes screen
updates, so the client keeps reading them (a thread drains the socket). A KeyEvent is the 8 bytes
`4, down-flag, 0, 0, keysym (u32 big-endian)`; an ASCII character's keysym is its code, Return is
0xff0d, Shift_L 0xffe1. Keys sent before the guest's driver and readers are ready are lost: wait for a
guest marker first (--wait-file/--wait-re).

Usage:
  rfbkeys.py --bochs-log RUN/bochs.log [--wait-file RUN/guest.log --wait-re REGEX] [--timeout S]
             [--delay S] [--hold] --text TEXT          (\\n in TEXT = Return)
The RFB port is read from the Bochs log line "listening for connections on port N" (each Bochs
instance takes the first free port 5900..5949). Prints "rfbkeys: typed N keys" on success; exit 1 on
timeout or protocol error.

--ack-re REGEX (with one group, e.g. a reader's pid) paces the first text by the guest, not by the
wall clock: key i is sent only when some group value has matched at least i - --ack-lag times in
--wait-file (a reader printed one line per key it got). Bochs's i8042 keeps at most 16 scan-code bytes
(keyboard.cc: "internal keyboard buffer full, ignoring scancode") and emulates at ~0.1-0.2x real
time, so a guest that falls behind a fraction of a second of its own time lets a wall-clock typist put
8+ keys (16+ bytes) into it and lose one (issue 15 item 3 A: in keylogger_bochs hvmon's nine report
warnings, each printed synchronously in its exit, ~17 ms at 115200 baud, plus the readers' own serial
lines per key). With the default lag of 3, at most 4 keys (8 bytes) are ever waiting.
"""
import argparse, re, socket, struct, sys, threading, time

KEYSYM_RETURN = 0xff0d


def wait_for(path, regex, deadline):
    rx = re.compile(regex.encode())
    while time.time() < deadline:
        try:
            with open(path, 'rb') as f:
                m = rx.search(f.read().replace(b'\0', b''))
                if m:
                    return m
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    return None


def recv_exact(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError('RFB server closed the connection')
        b += c
    return b


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(('127.0.0.1', port), timeout=5)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def handshake(s):
    ver = recv_exact(s, 12)
    if not ver.startswith(b'RFB 003.'):
        raise ValueError('not an RFB server: %r' % ver)
    s.sendall(b'RFB 003.003\n')
    sec, = struct.unpack('>I', recv_exact(s, 4))
    if sec != 1:
        raise ValueError('RFB security type %d (expected 1: none)' % sec)
    s.sendall(b'\x01')                      # ClientInit: shared
    w, h = struct.unpack('>HH', recv_exact(s, 4))
    recv_exact(s, 16)                       # pixel format
    nlen, = struct.unpack('>I', recv_exact(s, 4))
    name = recv_exact(s, nlen)
    return w, h, name


def drain(s, stop):
    s.settimeout(0.5)
    while not stop.is_set():
        try:
            if not s.recv(65536):
                return
        except socket.timeout:
            continue
        except OSError:
            return


def acked(path, rx):
    """The largest number of matches of rx for one value of its group in path."""
    try:
        with open(path, 'rb') as f:
            data = f.read().replace(b'\0', b'')
    except FileNotFoundError:
        return 0
    counts = {}
    for m in rx.finditer(data):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return max(counts.values(), default=0)


def wait_acked(path, rx, want, deadline):
    while time.time() < deadline:
        if acked(path, rx) >= want:
            return True
        time.sleep(0.05)
    return False


def keysyms(text):
    for ch in text:
        yield KEYSYM_RETURN if ch == '\n' else ord(ch)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bochs-log', required=True)
    ap.add_argument('--wait-file')
    ap.add_argument('--wait-re')
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--delay', type=float, default=0.05, help='seconds between key events')
    ap.add_argument('--text', required=True)
    ap.add_argument('--then', nargs=2, action='append', default=[], metavar=('RE', 'TEXT'),
                    help='afterwards wait for RE in --wait-file and type TEXT (repeatable; same connection)')
    ap.add_argument('--ack-re', help='pace the first text by the guest: REGEX with one group (see above)')
    ap.add_argument('--hold', action='store_true',
                    help='after typing, keep the connection (and drain it) until Bochs closes it')
    ap.add_argument('--ack-lag', type=int, default=3, help='keys typed ahead of the last one acknowledged')
    a = ap.parse_args()
    text = a.text.replace('\\n', '\n')
    deadline = time.time() + a.timeout
    m = wait_for(a.bochs_log, r'listening for connections on port (\d+)', deadline)
    if not m:
        print('rfbkeys: no RFB port in %s' % a.bochs_log, file=sys.stderr)
        return 1
    port = int(m.group(1))
    s = connect(port, deadline)
    w, h, name = handshake(s)
    stop = threading.Event()
    t = threading.Thread(target=drain, args=(s, stop), daemon=True)
    t.start()
    print('rfbkeys: connected to port %d (%dx%d, %r)' % (port, w, h, name), flush=True)
    if a.wait_file and a.wait_re and not wait_for(a.wait_file, a.wait_re, deadline):
        print('rfbkeys: marker /%s/ not seen in %s' % (a.wait_re, a.wait_file), file=sys.stderr)
        return 1
    n = 0
    phases = [(None, text)] + [(re_, t.replace('\\n', '\n')) for re_, t in a.then]
    ack = re.compile(a.ack_re.encode()) if a.ack_re else None
    waited = 0.0
    for phase, (re_, txt) in enumerate(phases):
        if re_ and not wait_for(a.wait_file, re_, deadline):
            print('rfbkeys: marker /%s/ not seen in %s' % (re_, a.wait_file), file=sys.stderr)
            return 1
        for i, ks in enumerate(keysyms(txt)):
            if ack and phase == 0 and i > a.ack_lag:
                t0 = time.time()
                if not wait_acked(a.wait_file, ack, i - a.ack_lag, deadline):
                    print('rfbkeys: key %d of %d: the guest acknowledged only %d (/%s/)' %
                          (i + 1, len(txt), acked(a.wait_file, ack), a.ack_re), file=sys.stderr)
                    return 1
                waited += time.time() - t0
            s.sendall(struct.pack('>BBxxI', 4, 1, ks))
            time.sleep(a.delay)
            s.sendall(struct.pack('>BBxxI', 4, 0, ks))
            time.sleep(a.delay)
            n += 1
    print('rfbkeys: typed %d keys' % n + (' (%.1f s waited for the guest)' % waited if ack else ''), flush=True)
    if a.hold:
        # keep reading until Bochs closes the connection (it exits): a client that closes first
        # leaves Bochs writing screen updates (the guest still echoes the last keys) to a closed
        # socket, and the SIGPIPE ends Bochs before the guest's power-off (bochs rc 141)
        t.join(max(0.0, deadline - time.time()))
    else:
        time.sleep(0.5)
    stop.set()
    s.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
