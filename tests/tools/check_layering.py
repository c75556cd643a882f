#!/usr/bin/env python3
"""Fails when an #include crosses the client's layers upward (docs/architecture.md).

Each folder of client/ is one library and may include only itself and the folders listed
for it below; the engine (kernels/) and the server include no client folder. A new folder
must be added here, which is the point: its place in the layers is decided on purpose.

Usage: check_layering.py [REPO_ROOT]     exit 0 clean, 1 with one line per violation.
"""
import pathlib
import re
import sys

# folder -> folders it may include (besides itself). Lower layers first.
ALLOWED = {
    "readers": set(),
    "model": set(),
    "output": {"model"},
    "remote": {"readers"},
    "analysis": {"readers", "remote", "model", "output"},
    "scan": {"analysis", "readers", "model", "output"},
    "results": {"scan", "readers", "model", "output"},
    "policy": {"readers", "model", "output"},
    "trends": {"results", "readers", "model", "output"},
    "report": {"trends", "results", "readers", "model", "output"},
    "cli": {"report", "trends", "policy", "results", "scan", "analysis", "remote",
            "readers", "model", "output"},
}
# Trees outside client/ that must include no client folder at all.
NO_CLIENT = ("kernels", "server", "proto")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/', re.M)
SOURCES = ("*.h", "*.cc", "*.cu", "*.cuh")


def files(root: pathlib.Path):
    for pattern in SOURCES:
        yield from root.rglob(pattern)


def violations(repo: pathlib.Path):
    client = repo / "client"
    for folder in sorted(p for p in client.iterdir() if p.is_dir()):
        if folder.name == "python":
            continue
        if folder.name not in ALLOWED:
            yield f"client/{folder.name}/: folder not in check_layering.py's ALLOWED table"
            continue
        allowed = ALLOWED[folder.name] | {folder.name}
        for f in files(folder):
            for m in INCLUDE.finditer(f.read_text(errors="replace")):
                target = m.group(1)
                if target in ALLOWED and target not in allowed:
                    line = f.read_text(errors="replace")[: m.start()].count("\n") + 1
                    yield (f"{f.relative_to(repo)}:{line}: includes {target}/ "
                           f"({folder.name} may include {', '.join(sorted(allowed))})")
    for top in NO_CLIENT:
        for f in files(repo / top):
            for m in INCLUDE.finditer(f.read_text(errors="replace")):
                if m.group(1) in ALLOWED:
                    line = f.read_text(errors="replace")[: m.start()].count("\n") + 1
                    yield f"{f.relative_to(repo)}:{line}: {top}/ includes client/{m.group(1)}/"


def main() -> int:
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])
    bad = list(violations(repo.resolve()))
    for v in bad:
        print(v)
    if not bad:
        print(f"layering ok ({len(ALLOWED)} client folders)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
