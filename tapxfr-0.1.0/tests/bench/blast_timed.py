#!/usr/bin/env python3
"""blast_timed.py FSTRM_BLAST SOCKET FILE - runs the shared fstrm_blast.py
unchanged (in this process, so no extra interpreter start) and prints one
JSON line: {"t0": first byte sent, "t_finish": FINISH received} in
time.time() seconds. fstrm_blast.py sets t0 after the READY/ACCEPT
handshake, right before its first sendfile(); its globals are read back."""
import json
import runpy
import sys
import time

blast, sock, fname = sys.argv[1:4]
sys.argv = [blast, sock, fname]
g = runpy.run_path(blast, run_name="__main__")
t_finish = time.time()
print(json.dumps({"t0": g["t0"], "t_finish": t_finish}), flush=True)
