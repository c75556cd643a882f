"""htsr.analyze: the engine in process (or on htsr-server with server=...)."""

from __future__ import annotations

import sys
from typing import Any, Iterable, Optional, Union

from . import _tensors

# The options the engine takes, as the CLI's flags (docs/spec.md); None = the default.
OPTIONS = ("min_evals", "max_evals", "max_n", "fix_fingers", "mp_fit", "randomize", "seed",
           "detx", "precision", "normalize", "pool", "device", "fit", "all_tensors",
           "reference_layer_set", "threads", "max_fingers", "finger_thresh", "xmax_drop")


def layer_spec(layers: Union[None, str, int, Iterable[Any]]) -> str:
    """The CLI's --layers text: a str as is; ids (negative: excluded) and names joined."""
    if layers is None:
        return ""
    if isinstance(layers, str):
        return layers
    if isinstance(layers, int) and not isinstance(layers, bool):
        layers = [layers]
    terms = []
    for x in layers:
        if isinstance(x, bool) or not isinstance(x, (int, str)):
            raise TypeError(f"layers: expected layer ids (int) or names (str), got {x!r}")
        terms.append(f"!{-x}" if isinstance(x, int) and x < 0 else str(x))
    return ",".join(terms)


def _progress_factory(progress: Optional[bool]):
    if progress is False:
        return None, []
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("progress=True needs tqdm (pip install tqdm)") from None
        return None, []
    if progress is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None, []
    bars = []

    def factory(total):
        bar = tqdm(total=total, desc="htsr", unit="layer")
        bars.append(bar)

        def advance(name):
            bar.set_postfix_str(name, refresh=False)
            bar.update(1)

        return advance

    return factory, bars


def run(model: Any, layers: Any = None, progress: Optional[bool] = None,
        base_model: Any = None, **options: Any):
    """The engine's Report for `model` (see analyze); with base_model, of W - W_base."""
    from . import _htsr

    unknown = sorted(set(options) - set(OPTIONS) - {"keep_evals"})
    if unknown:
        raise TypeError(f"htsr.analyze: unknown option(s): {', '.join(unknown)}")
    opts = {k: v for k, v in options.items() if v is not None}
    if opts.get("fix_fingers") is False:
        del opts["fix_fingers"]
    spec = layer_spec(layers)
    src = _tensors.prepare(model)
    base = None if base_model is None else _tensors.prepare(base_model)
    factory, bars = _progress_factory(progress)
    try:
        if base is not None:
            return _htsr.analyze_against_base(src, base, opts, spec, factory)
        if src[0] == "path":
            return _htsr.analyze_path(src[1], opts, spec, factory)
        return _htsr.analyze_tensors(src[1], src[2], src[3], opts, spec, factory)
    finally:
        for b in bars:
            b.close()


def to_dataframe(report, keep_skipped: bool = False):
    """The reference's analyze() DataFrame: its column names in its order, one row per
    analysed layer (skipped layers only with keep_skipped, with htsr's `reason`)."""
    import pandas as pd

    cols = dict(report.columns())
    status = cols["status"]
    keep = [i for i, s in enumerate(status) if keep_skipped or s != "skipped"]
    data = {}
    for name, values in cols.items():
        if name == "reason" and not keep_skipped:
            continue
        data[name] = [values[i] for i in keep]
    df = pd.DataFrame(data)
    df.attrs["summary"] = report.summary()
    return df


def analyze(model: Any, *, layers: Any = None, min_evals: int = 8, max_evals: int = 15000,
            max_n: int = 50000, fix_fingers: Optional[str] = None, mp_fit: bool = False,
            randomize: bool = False, seed: int = 0, detx: bool = False,
            precision: str = "f64", normalize: bool = False, pool: bool = True,
            device: str = "cpu", fit: str = "pl", threads: int = 0,
            format: str = "dataframe", keep_skipped: bool = False,
            progress: Optional[bool] = None, server: Optional[str] = None,
            base_model: Any = None, **more: Any):
    """Analyses `model` and returns a pandas DataFrame with weightwatcher 0.7.7's analyze()
    columns (df.attrs["summary"]: the summary), or with format="csv" the text of
    `htsr analyze --format csv`, or with format="report" the engine's Report.

    model: a torch nn.Module, a state dict (torch tensors or numpy arrays), a dict of numpy
    arrays, or a path (every format the CLI reads). Options are the CLI's (docs/spec.md);
    more: all_tensors, reference_layer_set, max_fingers, finger_thresh, xmax_drop.
    server="host:port" runs the same analysis on htsr-server (needs htsr[remote]).
    base_model (a model of any kind above): the rows are W - W_base for every layer of the
    same name and shape (the others skipped with a reason), with dist_* and delta_* columns
    (docs/spec.md §4a); a LoRA adapter directory with its base model: the updates, and the
    merged W + s B A against the base (§1c). In process only.
    """
    options = dict(min_evals=min_evals, max_evals=max_evals, max_n=max_n,
                   fix_fingers=fix_fingers, mp_fit=mp_fit, randomize=randomize, seed=seed,
                   detx=detx, precision=precision, normalize=normalize, pool=pool,
                   device=device, fit=fit, threads=threads, **more)
    if format not in ("dataframe", "csv", "report"):
        raise ValueError(f"format is 'dataframe', 'csv' or 'report', got {format!r}")
    if server is not None:
        if base_model is not None:
            raise ValueError("base_model is analysed in process only (not with server=...)")
        return _remote(model, server, layers, format, keep_skipped, options)
    report = run(model, layers=layers, progress=progress, base_model=base_model, **options)
    if format == "csv":
        return report.to_csv()
    if format == "report":
        return report
    return to_dataframe(report, keep_skipped)


def _remote(model, server, layers, format, keep_skipped, options):
    try:
        import htsr_client
    except ImportError as e:
        raise ImportError(f"server=... needs the gRPC client: pip install 'htsr[remote]' ({e})") from None
    if format != "dataframe":
        raise ValueError("server=... returns a DataFrame only (format='dataframe')")
    if layers is not None and not (isinstance(layers, (list, tuple)) and
                                   all(isinstance(x, int) and x > 0 for x in layers)):
        raise ValueError("server=...: layers must be a list of positive layer ids")
    device = options.pop("device", "cpu")
    if device != "cpu":
        raise ValueError("server=...: the server chooses its device")
    options.pop("threads", None)
    if isinstance(options.get("fit"), str):
        options["fit"] = options["fit"].lower()
    if isinstance(model, str):
        raise TypeError("server=...: pass the model's tensors (a module or state dict), not a path")
    result = htsr_client.analyze(model, server=server, layers=layers,
                                 **{k: v for k, v in options.items() if v is not None})
    df = htsr_client.to_dataframe(result)
    if not keep_skipped and "status" in df.columns:
        df = df[df["status"] != "skipped"].reset_index(drop=True)
    # The in-process frame's columns: the reference's (lambda_max = spectral_norm, longname
    # = name), layer_id and name first, the rest sorted as pandas sorts them; reason last.
    if "spectral_norm" in df.columns:
        df["lambda_max"] = df["spectral_norm"]
    df["longname"] = df["name"]
    drop = {"seconds", "evals"} | (set() if keep_skipped else {"reason"})
    rest = sorted(c for c in df.columns if c not in drop | {"layer_id", "name", "reason"})
    tail = ["reason"] if keep_skipped and "reason" in df.columns else []
    df = df[["layer_id", "name"] + rest + tail]
    df.attrs["summary"] = result["summary"]
    return df
