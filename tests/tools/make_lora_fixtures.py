#!/usr/bin/env python3
"""Writes the LoRA adapter fixtures of tests/data/lora/ and their goldens.

Run with the oracle's interpreter (weightwatcher 0.7.7, torch, safetensors):
    /opt/ww-oracle/bin/python tests/tools/make_lora_fixtures.py MINILM_SAFETENSORS

MINILM_SAFETENSORS is the all-MiniLM-L6-v2 model.safetensors that tests/tools/fetch_real_model.sh
prints. Writes, in the PEFT layout (adapter_config.json + adapter_model.safetensors, tensors
base_model.model.<module>.lora_A.weight (r x in) and .lora_B.weight (out x r)):

  minilm_r8/      rank-8 LoRA on four real MiniLM linear layers: B0 A0 is the best rank-8
                  approximation of the layer's weight W (top singular triplets, sqrt(S) on each
                  side), times 0.5 on each factor, plus seeded Gaussian noise of 5% of each factor's RMS, so the
                  update has W's leading spectrum but is not exactly it. r = 8, lora_alpha = 16:
                  the update is 2 B A.
  closed_form/    a 16 x 64 update with known singular values: B = H16[:, :8] / 4 * diag(1..8),
                  A = H64[:8] / 8 (Sylvester-Hadamard rows: orthonormal, exact in float32), with
                  use_rslora, r = 8, lora_alpha = 4: scale 4 / sqrt(8), so its 8 nonzero
                  eigenvalues are exactly 2 k^2, k = 1..8.
  expected/minilm_r8.csv         weightwatcher 0.7.7 analyze(peft=True) on the adapter's state
                                 dict with B replaced by 2 B (the scale folded in, exact in
                                 float32), as float64 arrays so that its B A is formed in float64
                                 (in float32 its product alone is off by ~1e-7).
  expected/minilm_r8_evals.npz   numpy's eigenvalues of (2 B A)^T (2 B A) (eigvalsh of the
                                 formed update in float64), keyed by the layer name, all
                                 min(out, in) of them: the r nonzero ones on top.
"""
import json
import logging
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "lora")
MODULES = ["encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value",
           "encoder.layer.1.intermediate.dense", "encoder.layer.1.output.dense"]
R, ALPHA = 8, 16
PREFIX = "base_model.model."


def hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


def write_adapter(dirname, tensors, config):
    os.makedirs(dirname, exist_ok=True)
    save_file(tensors, os.path.join(dirname, "adapter_model.safetensors"))
    with open(os.path.join(dirname, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def minilm(weights_path):
    w = load_file(weights_path)
    rng = np.random.default_rng(12)
    tensors = {}
    for m in MODULES:
        W = w[m + ".weight"].astype(np.float64)
        U, S, Vt = np.linalg.svd(W, full_matrices=False)
        B = U[:, :R] * np.sqrt(S[:R]) * 0.5
        A = np.sqrt(S[:R])[:, None] * Vt[:R] * 0.5
        B += rng.standard_normal(B.shape) * 0.05 * np.sqrt(np.mean(B * B))
        A += rng.standard_normal(A.shape) * 0.05 * np.sqrt(np.mean(A * A))
        tensors[PREFIX + m + ".lora_A.weight"] = A.astype(np.float32)
        tensors[PREFIX + m + ".lora_B.weight"] = B.astype(np.float32)
    config = {"peft_type": "LORA", "r": R, "lora_alpha": ALPHA, "use_rslora": False,
              "target_modules": ["query", "value", "dense"], "lora_dropout": 0.0,
              "bias": "none", "task_type": "FEATURE_EXTRACTION",
              "base_model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2"}
    write_adapter(os.path.join(OUT, "minilm_r8"), tensors, config)
    return tensors


def goldens(tensors):
    logging.disable(logging.WARNING)
    import weightwatcher as ww
    scale = ALPHA / R
    sd, evals = {}, {}
    for k, v in tensors.items():
        sd[k] = v.astype(np.float64) * (scale if k.endswith("lora_B.weight") else 1.0)
    for m in MODULES:
        upd = sd[PREFIX + m + ".lora_B.weight"] @ sd[PREFIX + m + ".lora_A.weight"]
        small = upd @ upd.T if upd.shape[0] <= upd.shape[1] else upd.T @ upd
        evals[PREFIX + m + ".lora_BA"] = np.linalg.eigvalsh(small)
    details = ww.WeightWatcher(model=sd).analyze(peft=True)
    os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
    details.to_csv(os.path.join(OUT, "expected", "minilm_r8.csv"), index=False,
                   float_format="%.17g")
    np.savez(os.path.join(OUT, "expected", "minilm_r8_evals.npz"), **evals)


def closed_form():
    B = (hadamard(16)[:, :R] / 4.0) * np.arange(1, R + 1)
    A = hadamard(64)[:R] / 8.0
    tensors = {PREFIX + "block.proj.lora_A.weight": A.astype(np.float32),
               PREFIX + "block.proj.lora_B.weight": B.astype(np.float32)}
    config = {"peft_type": "LORA", "r": R, "lora_alpha": 4, "use_rslora": True,
              "target_modules": ["proj"]}
    write_adapter(os.path.join(OUT, "closed_form"), tensors, config)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tensors = minilm(sys.argv[1])
    goldens(tensors)
    closed_form()


if __name__ == "__main__":
    main()
