#!/usr/bin/env python3
"""weightwatcher 0.7.7's analyze() DataFrame for a checkpoint, as CSV (every float with 17
digits), for test_htsr_inprocess.py. Run with the oracle's interpreter:
    /opt/ww-oracle/bin/python ww_reference.py FILE OUT.csv [JSON kwargs for analyze()]
A .pt is torch.load'ed (a state dict); a .safetensors is read with safetensors (torch)."""
import json
import logging
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
logging.disable(logging.WARNING)
import torch  # noqa: E402
import weightwatcher as ww  # noqa: E402


def load(path):
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return load_file(path)
    sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    return sd


def main():
    path, out = sys.argv[1], sys.argv[2]
    kwargs = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    details = ww.WeightWatcher(model=load(path)).analyze(**kwargs)
    details.to_csv(out, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
