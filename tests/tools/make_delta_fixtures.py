#!/usr/bin/env python3
"""Fixtures and reference goldens for `htsr analyze MODEL --base BASE` (issue 12 item 1).

    PY=/opt/ww-oracle/bin/python
    W=$(tests/tools/fetch_real_model.sh "" minilm)
    $PY tests/tools/make_delta_fixtures.py $W      # ~1 min on 2 cores

The "fine-tuned" model is made honestly from real weights: three layers of all-MiniLM-L6-v2
(the base, written unchanged) and a copy changed by a rank-8 update A B^T plus Gaussian noise
(numpy seed 12), both F32 safetensors in tests/data/real/delta/. The reference
(weightwatcher 0.7.7, state-dict path, torch tensors as in run_ww.py) then writes:

  base_deltas.csv      analyze(model=finetuned, base_model=base): the metrics of W - W_base
  distances_euclidean.csv, distances_cka.csv
                       distances(finetuned, base, method=...): per-layer delta_W
  finetuned.csv, base.csv
                       analyze() of each model alone; htsr's delta_alpha, delta_log_norm and
                       delta_log_spectral_norm are finetuned minus base of these columns

All with details.to_csv(float_format='%.17g'). CI compares htsr's output with these files
(tests/integration/base_delta_compare.py); no oracle is needed there.
"""
import logging, os, sys

os.environ.setdefault("MPLBACKEND", "Agg")
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "data", "real", "delta")
# Square and rectangular layers of one transformer block (3.5 MB per file).
TENSORS = [
    "encoder.layer.0.attention.self.query.weight",
    "encoder.layer.0.attention.self.value.weight",
    "encoder.layer.0.intermediate.dense.weight",
]
RANK = 8


def finetune(W, rng):
    """W + A B^T + noise: the update has 5% of W's Frobenius norm, the noise 1%."""
    out_dim, in_dim = W.shape
    A = rng.standard_normal((out_dim, RANK))
    B = rng.standard_normal((in_dim, RANK))
    U = A @ B.T
    U *= 0.05 * np.linalg.norm(W) / np.linalg.norm(U)
    noise = rng.standard_normal(W.shape)
    noise *= 0.01 * np.linalg.norm(W) / np.linalg.norm(noise)
    return (W.astype(np.float64) + U + noise).astype(np.float32)


def main():
    src = sys.argv[1]
    logging.disable(logging.WARNING)
    import torch
    from safetensors import safe_open
    from safetensors.numpy import save_file
    import weightwatcher as ww

    with safe_open(src, framework="np") as f:
        base = {k: np.ascontiguousarray(f.get_tensor(k), dtype=np.float32) for k in TENSORS}
    rng = np.random.default_rng(12)
    tuned = {k: finetune(v, rng) for k, v in base.items()}
    os.makedirs(OUT, exist_ok=True)
    save_file(base, os.path.join(OUT, "base.safetensors"))
    save_file(tuned, os.path.join(OUT, "finetuned.safetensors"))

    def sd(d):
        return {k: torch.from_numpy(v.copy()) for k, v in d.items()}

    def write(df, name):
        with open(os.path.join(OUT, name), "w") as f:
            f.write(df.to_csv(index=False, float_format="%.17g"))

    np.random.seed(0)
    watcher = ww.WeightWatcher()
    write(watcher.analyze(model=sd(tuned), base_model=sd(base), plot=False), "base_deltas.csv")
    for method in ("euclidean", "cka"):
        _, _, dist = ww.WeightWatcher().distances(sd(tuned), sd(base), method=method)
        write(dist.reset_index(), f"distances_{method}.csv")
    write(ww.WeightWatcher().analyze(model=sd(tuned), plot=False), "finetuned.csv")
    write(ww.WeightWatcher().analyze(model=sd(base), plot=False), "base.csv")


if __name__ == "__main__":
    main()
