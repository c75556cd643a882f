#!/usr/bin/env python3
"""Reference goldens for the truncated power-law fits (issue 12 C): weightwatcher 0.7.7's
analyze(fit='TPL' | 'E_TPL', pl_package='powerlaw') on a few layers of all-MiniLM-L6-v2, plus
powerlaw's likelihood-ratio test PL vs TPL at the chosen xmin (the reference computes it only
in commented-out code; htsr reports it as tpl_R, tpl_p).

    PY=/opt/ww-oracle/bin/python
    W=$(tests/tools/fetch_real_model.sh "" minilm)
    $PY tests/tools/make_tpl_goldens.py $W        # ~2-5 min on 2 cores

Writes tests/data/real/all-MiniLM-L6-v2.fit-TPL.csv and .fit-E_TPL.csv: the reference's
columns (details.to_csv, float_format %.17g) plus, from the same powerlaw.Fit object,
`tpl_R, tpl_p` = fit.distribution_compare('power_law', 'truncated_power_law',
normalized_ratio=True) (weightwatcher's pl_compare) and `tpl_loglik` = the log-likelihood of
the reported (alpha, Lambda) over the tail (fit.truncated_power_law.loglikelihood, the value
its Nelder-Mead stopped at). The eigenvalues are those of all-MiniLM-L6-v2_evals.npz.
"""
import logging, os, sys, time

os.environ.setdefault("MPLBACKEND", "Agg")
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "data", "real")
# Layer ids of the reference's default table (tests/data/real/all-MiniLM-L6-v2.csv).
LAYERS = [2, 8, 10, 12, 22, 38, 41, 53]


def main():
    path = sys.argv[1]
    layers = [int(x) for x in sys.argv[2].split(",")] if len(sys.argv) > 2 else LAYERS
    logging.disable(logging.WARNING)
    import torch
    import weightwatcher as ww
    import weightwatcher.weightwatcher as wwmod
    from safetensors import safe_open
    with safe_open(path, framework="pt") as f:
        sd = {k: f.get_tensor(k) for k in f.keys()}
    fits = []
    orig = wwmod.pl_fit

    def capture(*a, **kw):
        fit = orig(*a, **kw)
        fits.append(fit)
        return fit

    wwmod.pl_fit = capture
    for tag in ("TPL", "E_TPL"):
        fits.clear()
        watcher = ww.WeightWatcher(model=sd)
        t0 = time.time()
        d = watcher.analyze(layers=layers, fit=tag, pl_package="powerlaw", plot=False, savefig=False)
        t = time.time() - t0
        assert len(fits) == len(d), (len(fits), len(d))
        rs, ps, lls = [], [], []
        for fit in fits:
            try:
                R, p = fit.distribution_compare("power_law", "truncated_power_law", normalized_ratio=True)
                ll = fit.truncated_power_law.loglikelihood
            except Exception as e:  # failed fit
                R, p, ll = np.nan, np.nan, np.nan
            rs.append(R); ps.append(p); lls.append(ll)
        d["tpl_R"] = rs
        d["tpl_p"] = ps
        d["tpl_loglik"] = lls
        out = os.path.join(OUT, f"all-MiniLM-L6-v2.fit-{tag}.csv")
        d.to_csv(out, index=False, float_format="%.17g")
        print(f"# {tag}: analyze {t:.1f}s, {len(d)} layers -> {os.path.relpath(out, REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
