#!/usr/bin/env python3
"""pkg_unit_argv.py EXECSTART ENVFILE [NAME=VALUE...]: print the argv systemd builds from a
unit's ExecStart= line, one argument per line (systemd.service(5) "Command lines"):
EnvironmentFile= lines KEY=value (# comments, optional quotes); "${VAR}" is replaced inside
a word and never split; a word that is exactly "$VAR" is split on whitespace (and vanishes
when empty). Extra NAME=VALUE arguments are variables systemd sets itself
(CREDENTIALS_DIRECTORY). Used by tests/integration/pkg_deb.sh to start the collector with
the unit's own command line."""
import re
import shlex
import sys

line, envfile, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
env = {}
for raw in open(envfile):
    s = raw.strip()
    if not s or s.startswith(("#", ";")):
        continue
    k, _, v = s.partition("=")
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        v = v[1:-1]
    env[k.strip()] = v
for e in extra:
    k, _, v = e.partition("=")
    env[k] = v
argv = []
for word in shlex.split(line):
    m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
    if m:
        argv += env.get(m.group(1), "").split()
        continue
    argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word))
print("\n".join(argv))
