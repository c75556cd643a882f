#!/usr/bin/env python3
"""`htsr analyze --server` prints exactly what embedded `htsr analyze` prints.

Starts a real htsr-server on 127.0.0.1 (ephemeral port), analyses the golden fixtures both
ways in every output format, and compares the outputs byte for byte (the table's first
line, which names the backend and the elapsed time, excepted).

    remote_cli_test.py HTSR_BIN HTSR_SERVER_BIN
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_server import local_server  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "synthetic", "fixtures")
CASES = [("mixed.safetensors", []), ("state_dict.pt", []), ("legacy_state_dict.pt", []),
         ("named_arrays.npz", ["--mp-fit", "--detx"]), ("mixed.safetensors", ["--fix-fingers", "clip_xmax"]),
         ("mixed.safetensors", ["--layers", "conv2d,!k1"]),
         # --streams splits a model over concurrent calls: still the same output.
         ("mixed.safetensors", ["--streams", "3"]), ("state_dict.pt", ["--streams", "2"])]


def without_remote_flags(args):
    """The embedded command line: drops `--streams N` (a remote-only flag)."""
    out, i = [], 0
    while i < len(args):
        if args[i] == "--streams":
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def server_help_lists_flags(server):
    """`htsr-server --help` explains every option (the server uses htsr's own parser and
    option table, server/server_options.cc)."""
    p = subprocess.run([server, "--help"], capture_output=True, text=True, timeout=60)
    text = p.stdout + p.stderr
    missing = [f for f in ("--listen", "--queue-bytes", "--buffer-cache-bytes", "--device",
                           "--tls-cert", "--auth-token-file") if f not in text]
    print(f"htsr-server --help: {'lists the flags' if not missing else f'MISSING {missing}'}")
    return not missing


def main():
    htsr, server = sys.argv[1], sys.argv[2]
    if not server_help_lists_flags(server):
        return 1
    with tempfile.TemporaryDirectory() as tmp, local_server(server, tmp) as addr:
        failures = 0
        for fixture, extra in CASES:
            for fmt in ("csv", "json", "table"):
                base = [htsr, "analyze", os.path.join(FIX, fixture), "--format", fmt, "--quiet"] + extra
                emb = subprocess.run(without_remote_flags(base), capture_output=True, text=True,
                                     timeout=300)
                rem = subprocess.run(base + ["--server", addr], capture_output=True, text=True, timeout=300)
                a, b = emb.stdout, rem.stdout
                if fmt == "table":
                    a, b = a.split("\n", 1)[1], b.split("\n", 1)[1]
                if fmt == "json":  # backend and elapsed time differ by design
                    import json
                    ja, jb = json.loads(a), json.loads(b)
                    for m in ja["models"] + jb["models"]:
                        m.pop("backend"), m.pop("seconds")
                    a, b = json.dumps(ja, sort_keys=True), json.dumps(jb, sort_keys=True)
                ok = emb.returncode == rem.returncode and a == b and a
                print(f"{fixture} {' '.join(extra)} [{fmt}]: {'identical' if ok else 'DIFFERENT'}")
                if not ok:
                    failures += 1
                    print("embedded rc", emb.returncode, emb.stderr[-500:])
                    print("remote rc", rem.returncode, rem.stderr[-500:])
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
