#!/usr/bin/env python3
"""tapxfr --help and the tapxfr(8) man page list the same options, and so do
tapxfr-collect --help and tapxfr-collect(1)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

SRC = os.environ.get("TESTS_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))


def help_options(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        sys.exit("FAIL: %s --help exited %d" % (binary, out.returncode))
    longs = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", out.stdout))
    shorts = set(re.findall(r"(?m)^\s+(-[A-Za-z])\b", out.stdout))
    shorts |= set(re.findall(r"(?m)^\s+-[A-Za-z], (-[A-Za-z])\b", out.stdout))
    return longs, shorts


def man_options(path):
    text = open(path).read().replace("\\-", "-")
    # Options are documented on .TP paragraphs; their first line names them.
    heads = re.findall(r"(?m)^\.TP\n(\.B[IR]? [^\n]*)", text)
    longs, shorts = set(), set()
    for h in heads:
        longs |= set(re.findall(r"--[a-z][a-z0-9-]*", h))
        shorts |= set(re.findall(r"(?<![\w-])(-[A-Za-z])\b", h))
    return longs, shorts


def main():
    failed = 0
    pairs = [(os.environ.get("TAPXFR"), os.path.join(SRC, "..", "doc", "tapxfr.8")),
             (os.environ.get("TAPXFR_COLLECT"), os.path.join(SRC, "..", "doc", "tapxfr-collect.1"))]
    for binary, man in pairs:
        if not binary or not os.path.exists(man):
            tt.skip("%s / %s missing" % (binary, man))
        hl, hs = help_options(binary)
        ml, ms = man_options(man)
        for what, h, m in (("long", hl, ml), ("short", hs, ms)):
            if h != m:
                failed += 1
                print("FAIL - %s: %s options differ: only in --help %s, only in the man page %s"
                      % (os.path.basename(man), what, sorted(h - m), sorted(m - h)))
            else:
                print("ok   - %s: the same %d %s options in --help and the man page"
                      % (os.path.basename(man), len(h), what))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
