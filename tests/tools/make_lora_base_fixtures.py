#!/usr/bin/env python3
"""Fixtures and goldens for `htsr analyze ADAPTER --base BASE` (a LoRA adapter with its base).

    /opt/ww-oracle/bin/python tests/tools/make_lora_base_fixtures.py     # ~20 s on 2 cores

Needs only committed files: the base is tests/data/real/delta/base.safetensors (three real
all-MiniLM-L6-v2 layers, tests/tools/make_delta_fixtures.py). Writes, under tests/data/lora/:

  minilm_delta_r8/    a PEFT adapter (r = 8, lora_alpha = 16: s = 2) on those three layers,
                      made as a fine-tune would look: the update's directions are W's top
                      singular vectors (0.3 sqrt(S) on each side) plus seeded Gaussian noise of
                      20% of each factor's RMS, so the merged weight is W with its leading
                      spectrum lifted, not a copy of it.
  expected/minilm_delta_merged.csv
                      weightwatcher 0.7.7 analyze() of the merged model W + s B A (formed in
                      float64, rounded to float32 once, as htsr merges); with the base's own
                      tests/data/real/delta/base.csv its differences are the delta_* columns.
  expected/minilm_delta_distances_{euclidean,cka}.csv
                      distances(merged, base, method=...): dist_euclidean and dist_cka.
  closed_form_base.safetensors
                      a base for closed_form/ (16 x 64 'block.proj.weight'): W = sum_{j=9..16}
                      j u_j v_j^T with the Hadamard vectors closed_form's update does not use,
                      so the merged weight's eigenvalues are exactly 2 k^2 (k = 1..8, the update)
                      and j^2 (j = 9..16, the base), up to float32 rounding.
  closed_form_fan_in/ the same factors with fan_in_fan_out = true, and
  closed_form_base_t.safetensors
                      its base stored (in, out) = W^T, as GPT-2's Conv1D stores weights: every
                      number must equal closed_form's.
"""
import json
import logging
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_lora_fixtures import hadamard, write_adapter  # noqa: E402
DATA = os.path.join(HERE, "..", "data")
OUT = os.path.join(DATA, "lora")
PREFIX = "base_model.model."
R, ALPHA = 8, 16


def merge(w, a, b, scale, fan_in_fan_out=False):
    """W + s B A in float64, rounded to float32 once (what htsr's --base merge computes)."""
    upd = scale * (b.astype(np.float64) @ a.astype(np.float64))
    return (w.astype(np.float64) + (upd.T if fan_in_fan_out else upd)).astype(np.float32)


def minilm_delta():
    base = load_file(os.path.join(DATA, "real", "delta", "base.safetensors"))
    rng = np.random.default_rng(2026)
    tensors, merged = {}, {}
    for name in sorted(base):
        module = name[: -len(".weight")]
        W = base[name].astype(np.float64)
        U, S, Vt = np.linalg.svd(W, full_matrices=False)
        B = U[:, :R] * np.sqrt(S[:R]) * 0.3
        A = np.sqrt(S[:R])[:, None] * Vt[:R] * 0.3
        B += rng.standard_normal(B.shape) * 0.2 * np.sqrt(np.mean(B * B))
        A += rng.standard_normal(A.shape) * 0.2 * np.sqrt(np.mean(A * A))
        a, b = A.astype(np.float32), B.astype(np.float32)
        tensors[PREFIX + module + ".lora_A.weight"] = a
        tensors[PREFIX + module + ".lora_B.weight"] = b
        merged[name] = merge(base[name], a, b, ALPHA / R)
    config = {"peft_type": "LORA", "r": R, "lora_alpha": ALPHA, "use_rslora": False,
              "target_modules": ["query", "value", "dense"], "lora_dropout": 0.0,
              "bias": "none", "fan_in_fan_out": False,
              "base_model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2"}
    write_adapter(os.path.join(OUT, "minilm_delta_r8"), tensors, config)
    return base, merged


def goldens(base, merged):
    logging.disable(logging.WARNING)
    import torch
    import weightwatcher as ww

    def sd(d):
        return {k: torch.from_numpy(v.copy()) for k, v in d.items()}

    def write(df, name):
        with open(os.path.join(OUT, "expected", name), "w") as f:
            f.write(df.to_csv(index=False, float_format="%.17g"))

    np.random.seed(0)
    os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
    write(ww.WeightWatcher().analyze(model=sd(merged), plot=False), "minilm_delta_merged.csv")
    for method in ("euclidean", "cka"):
        _, _, dist = ww.WeightWatcher().distances(sd(merged), sd(base), method=method)
        write(dist.reset_index(), f"minilm_delta_distances_{method}.csv")


def closed_form_base():
    u = hadamard(16) / 4.0   # orthonormal columns
    v = hadamard(64) / 8.0   # orthonormal rows
    W = sum(j * np.outer(u[:, j - 1], v[j - 1]) for j in range(9, 17))  # integers / 32: exact
    save_file({"block.proj.weight": W.astype(np.float32)},
              os.path.join(OUT, "closed_form_base.safetensors"))
    save_file({"block.proj.weight": np.ascontiguousarray(W.T).astype(np.float32)},
              os.path.join(OUT, "closed_form_base_t.safetensors"))
    src = os.path.join(OUT, "closed_form")
    tensors = load_file(os.path.join(src, "adapter_model.safetensors"))
    with open(os.path.join(src, "adapter_config.json")) as f:
        config = json.load(f)
    config["fan_in_fan_out"] = True
    write_adapter(os.path.join(OUT, "closed_form_fan_in"), tensors, config)


def main():
    base, merged = minilm_delta()
    goldens(base, merged)
    closed_form_base()


if __name__ == "__main__":
    main()
