#!/usr/bin/env python3
"""The shape of src/, checked from the source (no build needed):

1. No cycle: a module is a .c file and its .h; module A depends on B when
   A's .c or .h includes B's .h. The graph of src/ has no cycle, so no
   file includes or calls back into a file that includes or calls it
   (callbacks go through function pointers set by the owner).
2. Collector kinds are named only in their own file and the kinds table:
   the ops tables (coll_*_ops) appear in output/kinds.c and their own
   file only, and the stage, the collector set and the collector base
   name no kind (no udp/tcp identifier).
3. Codecs are pure: nothing in src/codec/ includes uv.h, pcap or a
   module outside src/codec/ other than record.h and config.h.
4. Inputs call only the stage: src/input/ includes nothing of
   src/output/.
"""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

t = tt.Test("structure")
src = os.path.join(os.environ.get("TESTS_SRCDIR") or
                   os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."), "..", "src")
src = os.path.normpath(src)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def files():
    for d, _dirs, names in os.walk(src):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, n), src)


def text(rel):
    with open(os.path.join(src, rel), encoding="utf-8") as f:
        return f.read()


def code(rel):
    """The file without comments and string literals."""
    s = re.sub(r"/\*.*?\*/", " ", text(rel), flags=re.S)
    s = re.sub(r"//[^\n]*", " ", s)
    return re.sub(r'"(\\.|[^"\\])*"', '""', s)


def module(rel):
    return os.path.splitext(rel)[0]


all_files = list(files())
t.check(len(all_files) > 20, "found the sources in %s: %d files" % (src, len(all_files)))
mods = {module(f) for f in all_files}
deps = {m: set() for m in mods}
for f in all_files:
    for inc in INCLUDE.findall(text(f)):
        m = module(inc)
        if m in mods and m != module(f):
            deps[module(f)].add(m)

# 1. cycles (depth-first search, reporting the first cycle found)
state, cycle = {}, []


def visit(m, path):
    state[m] = 1
    for d in sorted(deps[m]):
        if state.get(d) == 1:
            cycle.extend(path[path.index(d):] + [d] if d in path else [m, d])
            return True
        if d not in state and visit(d, path + [d]):
            return True
    state[m] = 2
    return False


for m in sorted(mods):
    if m not in state and visit(m, [m]):
        break
t.check(not cycle, "no include cycle among %d modules" % len(mods), " -> ".join(cycle))

# 2. collector kinds
kind_files = {"output/udp.c": "coll_udp_ops", "output/tcp.c": "coll_tcp_ops"}
for f in all_files:
    c = code(f)
    for own, ops in kind_files.items():
        if re.search(r"\b%s\b" % ops, c) and f not in (own, "output/kinds.c"):
            t.check(False, "%s is named only in %s and output/kinds.c" % (ops, own), "also in " + f)
# PKT_NOT_UDP is a packet-decoding reason, not a collector kind.
neutral = ["stage/stage.c", "stage/stage.h", "output/outputs.c", "output/outputs.h",
           "output/coll.c", "output/coll.h", "main.c"]
for f in neutral:
    hits = sorted(set(re.findall(r"\b(?!PKT_NOT_UDP\b)\w*(?:udp|tcp|UDP|TCP)\w*\b", code(f))))
    t.check(not hits, "%s names no collector kind" % f, ", ".join(hits))

# 3. pure codecs
for f in all_files:
    if not f.startswith("codec/"):
        continue
    for inc in INCLUDE.findall(text(f)):
        ok = inc.startswith("codec/") or inc in ("config.h", "record.h") or \
            inc.endswith(".pb-c.h")
        t.check(ok, "%s includes only codecs (%s)" % (f, inc))
    t.check(not re.search(r"#\s*include\s*<(uv|pcap)", text(f)), "%s uses no libuv or pcap" % f)

# 4. inputs reach the collectors only through the stage
for f in all_files:
    if f.startswith("input/"):
        bad = [i for i in INCLUDE.findall(text(f)) if i.startswith("output/")]
        t.check(not bad, "%s does not include the collectors" % f, ", ".join(bad))

t.done()
