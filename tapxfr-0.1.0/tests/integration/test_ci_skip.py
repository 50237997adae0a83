#!/usr/bin/env python3
"""CI never hides a skip: tapxfr_test.skip() ends a test with 77 (SKIP) for
a developer, but with 1 (FAIL) and the same reason under CI=true, so that
an install step missing from contrib/setup-debian.sh turns CI red. The same
for Test.skip_part(), a part of a test that cannot run here."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

t = tt.Test("test_ci_skip")

SNIPPETS = {
    "skip()": "import tapxfr_test as tt\ntt.skip('needs root')\n",
    "skip_part()": "import tapxfr_test as tt\nt = tt.Test('part')\nt.check(True, 'x')\n"
                   "t.skip_part('needs root')\nt.done()\n",
}


def run(code, ci):
    env = dict(os.environ, PYTHONPATH=tt.HERE)
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    p = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    return p.returncode, p.stdout


for what, code in SNIPPETS.items():
    want_rc = 77 if what == "skip()" else 0
    rc, out = run(code, None)
    t.eq(rc, want_rc, "%s, CI unset: exit status" % what)
    t.check("needs root" in out and "FAIL" not in out, "%s, CI unset: the reason, no FAIL" % what, out)
    rc, out = run(code, "true")
    t.eq(rc, 1, "%s, CI=true: exit status" % what)
    t.check("FAIL (CI=true, would skip): needs root" in out,
            "%s, CI=true: 'FAIL (CI=true, would skip): needs root'" % what, out)

t.done()
