"""htsr.WeightWatcher: a drop-in for weightwatcher 0.7.7's WeightWatcher on what htsr
computes. `import htsr as ww` in a script written for `import weightwatcher as ww` gives
the same numbers; an option htsr does not support, set to anything but the reference's
default, raises NotImplementedError naming it."""

from __future__ import annotations

from typing import Any, Dict, Optional

from . import _analyze

# The reference's analyze() options that htsr does not implement, with their defaults:
# accepted at the default, refused otherwise.
_UNSUPPORTED = {"min_size": None, "max_size": None, "glorot_fix": False, "plot": False,
                "conv2d_norm": True, "conv2d_fft": False, "fft": False, "deltas": False,
                "intra": False, "vectors": False, "channels": None, "stacked": False,
                "xmin_max": None, "ERG": False, "tolerance": 1e-06, "start_ids": 0,
                "pl_package": "ww", "xmax": None, "peft": False,
                "inverse": False}
# Accepted and without effect on the numbers.
_IGNORED = {"savefig", "sparsify", "svd_method"}


def _check(kwargs: Dict[str, Any], method: str) -> None:
    for k, v in kwargs.items():
        if k in _IGNORED:
            continue
        if k not in _UNSUPPORTED:
            raise TypeError(f"WeightWatcher.{method}() got an unexpected keyword argument '{k}'")
        default = _UNSUPPORTED[k]
        if not (v is default or v == default):
            raise NotImplementedError(
                f"htsr.WeightWatcher.{method}: {k}={v!r} is not supported by htsr "
                f"(only the default {default!r}); see htsr's docs/compatibility.md")


def _fix_fingers(v: Any) -> Optional[str]:
    if v in (False, None):
        return None
    if v == "clip_xmax":
        return v
    raise NotImplementedError(f"htsr.WeightWatcher: fix_fingers={v!r} is not supported "
                              "(False or 'clip_xmax')")


class WeightWatcher:
    """As weightwatcher.WeightWatcher(model=...): analyze(), get_summary(), describe(),
    get_ESD(), get_details()."""

    def __init__(self, model: Any = None, framework: Any = None, base_model: Any = None,
                 log_level: Any = None):
        self.model = model
        # As the reference: analyze() compares with this base unless given its own.
        self.base_model = base_model
        self.details = None
        self.results = None

    def _model(self, model: Any) -> Any:
        model = self.model if model is None else model
        if model is None:
            raise ValueError("htsr.WeightWatcher: no model (pass model=...)")
        return model

    def analyze(self, model=None, layers=[], min_evals=8, max_evals=15000, max_N=50000,
                randomize=False, mp_fit=False, ww2x=False, pool=True, fix_fingers=False,
                max_fingers=10, finger_thresh=1.0, fit="PL", detX=False, base_model=None,
                **kwargs):
        """With base_model (here or in the constructor): the rows of W - W_base, paired by
        exact name and shape (the reference pairs by name containment; docs/compatibility.md),
        plus htsr's dist_* and delta_* columns."""
        _check(kwargs, "analyze")
        report = _analyze.run(
            self._model(model), layers=layers or None, min_evals=min_evals,
            base_model=self.base_model if base_model is None else base_model,
            max_evals=max_evals, max_n=max_N, randomize=randomize, mp_fit=mp_fit,
            pool=pool and not ww2x, fix_fingers=_fix_fingers(fix_fingers),
            max_fingers=max_fingers, finger_thresh=float(finger_thresh), fit=fit, detx=detX)
        self.details = _analyze.to_dataframe(report)
        return self.details

    def get_details(self):
        return self.details

    def get_summary(self, details=None) -> Dict[str, float]:
        """Means of the reference's summary metrics over `details` (its rule)."""
        if details is None:
            details = self.details
        summary = {}
        if details is None:
            return summary
        for metric in ("log_norm", "alpha", "alpha_weighted", "log_alpha_norm",
                       "log_spectral_norm", "stable_rank", "mp_softrank"):
            if metric in details.columns:
                summary[metric] = details[metric].mean()
        return summary

    def describe(self, model=None, layers=[], min_evals=8, max_evals=15000, max_N=50000,
                 ww2x=False, pool=True, **kwargs):
        """The layers analyze() would analyse, without their metrics."""
        _check({k: v for k, v in kwargs.items() if k != "savefig"}, "describe")
        # Planning only: every layer is put outside the size filter (no eigenvalue is
        # computed), then the real filter is applied to the planned sizes.
        big = 2**31 - 1
        report = _analyze.run(self._model(model), layers=layers or None, min_evals=big,
                              max_evals=big, max_n=big, pool=pool and not ww2x)
        df = _analyze.to_dataframe(report, keep_skipped=True)
        keep = ((df["num_evals"] >= min_evals) & (df["num_evals"] <= max_evals) &
                (df["N"] <= max_N))
        df = df[keep].reset_index(drop=True)
        return df[["layer_id", "name", "M", "N", "Q", "layer_type", "longname", "num_evals",
                   "rf"]]

    def get_ESD(self, model=None, layer=None, random=False, params=None):
        """The eigenvalues of one layer (its layer_id, or its name), ascending."""
        if random:
            raise NotImplementedError("htsr.WeightWatcher.get_ESD: random=True is not supported")
        if layer is None or isinstance(layer, bool) or not isinstance(layer, (int, str)):
            raise ValueError("htsr.WeightWatcher.get_ESD: layer must be a layer_id or a name")
        report = _analyze.run(self._model(model), layers=[layer], keep_evals=True)
        cols = dict(report.columns())
        for lid, status in zip(cols["layer_id"], cols["status"]):
            evals = report.evals(lid)
            if evals is not None:
                return evals
        raise ValueError(f"htsr.WeightWatcher.get_ESD: layer {layer!r} was not analysed "
                         f"(status: {', '.join(cols['status']) or 'no such layer'})")
