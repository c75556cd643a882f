"""The Python client (client/python) against a real htsr-server binary.

Run: HTSR_SERVER_BIN=build/server/htsr-server PYTHONPATH=client/python/src \
     python3 -m pytest tests/integration/python -q
Needs grpcio, protobuf, numpy (PyPI); torch is optional (its tests skip without it).
Expected values are computed here independently with numpy (SVD + the docs/spec.md §3 fit).
"""

import math
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "client" / "python" / "src"))

import htsr_client  # noqa: E402

TOKEN = "py-test-token-42"


@pytest.fixture(scope="module")
def server():
    binary = os.environ.get("HTSR_SERVER_BIN")
    if not binary:
        pytest.fail("set HTSR_SERVER_BIN to the htsr-server binary")
    tmp = tempfile.mkdtemp(prefix="htsr_py_")
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([binary, "--listen=127.0.0.1:0", f"--port-file={port_file}",
                             f"--auth-token-file={token_file}", "--workers=2",
                             "--queue-bytes=64M", "--max-layer-bytes=16M"],
                            stderr=log)
    deadline = time.time() + 20
    port = None
    while time.time() < deadline and port is None:
        if os.path.exists(port_file):
            port = int(open(port_file).read().strip())
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.05)
    if port is None:
        proc.kill()
        pytest.fail("htsr-server did not start: " + open(log.name).read())
    yield {"address": f"127.0.0.1:{port}", "token_file": token_file, "log": log.name}
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- independent reference (numpy) ------------------------------------------------------

def reference_fit(evals):
    """docs/spec.md §3: continuous MLE alpha for each xmin candidate, first argmin of KS D."""
    x = np.sort(evals[evals > 1e-5])
    n = len(x)
    best = None
    for i in range(n - 1):
        tail = x[i:]
        k = n - i
        alpha = 1.0 + k / (np.sum(np.log(tail)) - k * math.log(x[i]))
        if alpha <= 1:
            d = 1.0
        else:
            cdf = 1.0 - (tail / x[i]) ** (1.0 - alpha)
            d = np.max(np.abs(cdf - np.arange(k) / k))
        if best is None or d < best[1]:
            best = (alpha, d, x[i])
    return best


def heavy_tailed(rng, rows, cols):
    return (rng.standard_t(3.0, size=(rows, cols)) * 0.05).astype(np.float32)


def model(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "fc1.weight": heavy_tailed(rng, 96, 64),
        "fc1.bias": np.zeros(96, np.float32),
        "fc2.weight": heavy_tailed(rng, 64, 80).astype(np.float16),
        "tiny.weight": heavy_tailed(rng, 4, 3),
        "head.weight": heavy_tailed(rng, 30, 128),  # M >= 20: docs/spec.md §3 standard fit
    }


# ---- tests --------------------------------------------------------------------------------

def test_numpy_state_dict_matches_independent_numpy(server):
    sd = model(1)
    result = htsr_client.analyze(sd, server["address"], token_file=server["token_file"],
                                 model_name="np", keep_evals=True, chunk_bytes=3000)
    rows = result["layers"]
    assert [r["layer_id"] for r in rows] == [1, 2, 3, 4]
    assert [r["status"] for r in rows] == ["success", "success", "skipped", "success"]
    assert rows[2]["reason"]
    for row, key in zip([rows[0], rows[1], rows[3]], ["fc1.weight", "fc2.weight", "head.weight"]):
        w = sd[key].astype(np.float32).astype(np.float64)
        evals = np.sort(np.linalg.svd(w, compute_uv=False) ** 2)
        np.testing.assert_allclose(row["evals"], evals, rtol=1e-9, atol=1e-12 * evals[-1])
        assert row["norm"] == pytest.approx(np.sum(evals), rel=1e-10)
        assert row["spectral_norm"] == pytest.approx(evals[-1], rel=1e-10)
        alpha, d, xmin = reference_fit(evals)
        assert row["alpha"] == pytest.approx(alpha, rel=1e-9)
        assert row["D"] == pytest.approx(d, rel=1e-9, abs=1e-12)
        assert row["xmin"] == pytest.approx(xmin, rel=1e-9)
        assert row["alpha_weighted"] == pytest.approx(alpha * math.log10(evals[-1]), rel=1e-9)
        assert row["N"] == max(w.shape) and row["M"] == min(w.shape)
        assert row["layer_type"] == "dense"
    s = result["summary"]
    ok = [r for r in rows if r["status"] == "success"]
    assert s["num_layers"] == 4 and s["num_analyzed"] == 3 and s["num_skipped"] == 1
    assert s["alpha"] == pytest.approx(np.mean([r["alpha"] for r in ok]), rel=1e-12)
    assert s["model_name"] == "np"


def test_options_layers_and_pairs(server):
    pairs = list(model(2).items())
    result = htsr_client.analyze(pairs, server["address"], token_file=server["token_file"],
                                 layers=[1, 4], mp_fit=True, min_evals=5)
    rows = result["layers"]
    assert [r["layer_id"] for r in rows] == [1, 4]
    assert all("sigma_mp" in r for r in rows if r["status"] == "success")


def test_wrong_and_missing_token(server):
    with pytest.raises(htsr_client.AnalysisError) as e:
        htsr_client.analyze(model(), server["address"], token="wrong")
    assert e.value.code == "UNAUTHENTICATED"
    assert "wrong" not in e.value.details
    with pytest.raises(htsr_client.AnalysisError) as e:
        htsr_client.analyze(model(), server["address"])
    assert e.value.code == "UNAUTHENTICATED"
    with pytest.raises(htsr_client.AnalysisError):
        htsr_client.server_info(server["address"])
    assert TOKEN not in open(server["log"]).read()


def test_server_info(server):
    info = htsr_client.server_info(server["address"], token=TOKEN)
    assert info["api_version"] == "htsr.v1"
    assert info["backend"] in ("cpu", "cuda")
    assert info["auth_required"] is True
    assert info["limits"]["queue_bytes"] == 64 << 20


def test_torch_module_and_bf16(server):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 16, 3))
    result = htsr_client.analyze(net, server["address"], token=TOKEN, keep_evals=True)
    rows = result["layers"]
    assert [r["layer_type"] for r in rows] == ["dense", "conv2d"]
    w = net[0].weight.detach().double().numpy()
    evals = np.sort(np.linalg.svd(w, compute_uv=False) ** 2)
    np.testing.assert_allclose(rows[0]["evals"], evals, rtol=1e-9)
    bf = {"x.weight": torch.randn(48, 32).to(torch.bfloat16)}
    r = htsr_client.analyze(bf, server["address"], token=TOKEN, keep_evals=True)["layers"][0]
    w = bf["x.weight"].float().double().numpy()
    np.testing.assert_allclose(r["evals"], np.sort(np.linalg.svd(w, compute_uv=False) ** 2),
                               rtol=1e-9)


def test_dataframe_optional(server):
    pd = pytest.importorskip("pandas")
    df = htsr_client.to_dataframe(htsr_client.analyze(model(), server["address"], token=TOKEN))
    assert isinstance(df, pd.DataFrame) and len(df) == 4


def test_committed_stubs_match_the_proto(tmp_path):
    """The stubs in client/python are regenerated from proto/ (needs grpcio-tools)."""
    pytest.importorskip("grpc_tools")
    gen = REPO / "client" / "python" / "src" / "htsr_client" / "_gen"
    out = tmp_path / "gen"
    out.mkdir()
    from grpc_tools import protoc
    rc = protoc.main(["protoc", f"-I{REPO / 'proto'}", f"--python_out={out}",
                      str(REPO / "proto" / "htsr" / "v1" / "analysis.proto")])
    assert rc == 0
    fresh = (out / "htsr" / "v1" / "analysis_pb2.py").read_text()
    committed = (gen / "analysis_pb2.py").read_text()
    # Compare the serialized descriptor (the contract), not version banners.
    def descriptor(text):
        start = text.index("AddSerializedFile(")
        return text[start:text.index(")", start)]
    assert descriptor(fresh) == descriptor(committed), "run client/python/generate_stubs.sh"


def test_health_and_reflection_need_no_token(server):
    """grpc.health.v1 (what load balancers probe) and reflection (grpcurl), spoken in raw
    bytes so the test needs no extra packages."""
    import grpc
    with grpc.insecure_channel(server["address"]) as ch:
        check = ch.unary_unary("/grpc.health.v1.Health/Check")
        # HealthCheckRequest{} -> HealthCheckResponse{status: SERVING (1)}
        assert check(b"", timeout=10) == b"\x08\x01"
        info = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        # ServerReflectionRequest{list_services: ""} (field 7)
        replies = list(info(iter([b"\x3a\x00"]), timeout=10))
        assert any(b"htsr.v1.AnalysisService" in r for r in replies)


def test_call_is_made_again_after_a_connection_failure(tmp_path):
    """A listener drops the first connection (a server still starting): the call fails
    UNAVAILABLE before any answer and is made again on a fresh connection, which the real
    server, started on that port meanwhile, answers. Without retries it is the error."""
    import socket
    import threading

    binary = os.environ["HTSR_SERVER_BIN"]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    address = f"127.0.0.1:{port}"
    box = {}

    def client():
        try:
            box["result"] = htsr_client.analyze(model(5), address, timeout=60,
                                                connect_retries=(0.5, 5.0))
        except Exception as e:  # noqa: BLE001 (reported by the assertion below)
            box["error"] = e

    t = threading.Thread(target=client)
    t.start()
    conn, _ = listener.accept()
    conn.close()
    listener.close()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([binary, f"--listen={address}", "--workers=2"], stderr=log)
    try:
        t.join(timeout=60)
        assert "error" not in box, box.get("error")
        got = box["result"]
        want = htsr_client.analyze(model(5), address, timeout=60)
        assert [r["alpha"] for r in got["layers"]] == [r["alpha"] for r in want["layers"]]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()

    dropper = socket.socket()
    dropper.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    dropper.bind(("127.0.0.1", 0))
    dropper.listen(8)

    def drop_one():
        c, _ = dropper.accept()
        c.close()

    d = threading.Thread(target=drop_one)
    d.start()
    with pytest.raises(htsr_client.AnalysisError) as e:
        htsr_client.analyze(model(5), f"127.0.0.1:{dropper.getsockname()[1]}", timeout=60,
                            connect_retries=())
    assert e.value.code == "UNAVAILABLE"
    d.join(timeout=10)
    dropper.close()


_SILENT_SERVER = r"""
import sys, threading, time
from concurrent import futures
import grpc

def analyze(request_iterator, context):
    next(request_iterator)              # the header has arrived: the call is under way
    open(sys.argv[2], "w").close()
    threading.Event().wait()            # and is never answered

handler = grpc.method_handlers_generic_handler("htsr.v1.AnalysisService", {
    "Analyze": grpc.stream_stream_rpc_method_handler(
        analyze, request_deserializer=None, response_serializer=None)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[
    ("grpc.http2.min_ping_interval_without_data_ms", 100),
    ("grpc.http2.max_ping_strikes", 0), ("grpc.keepalive_permit_without_calls", 1)])
server.add_generic_rpc_handlers((handler,))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
open(sys.argv[1], "w").write(str(port))
server.wait_for_termination()
"""


def test_a_frozen_server_fails_the_call_instead_of_hanging(tmp_path):
    """A server that took the call and then froze (SIGSTOP: its socket stays open, nothing
    answers) fails the call UNAVAILABLE through keepalive pings, with no deadline set. Without
    the pings the call would wait forever (the test's own guard: 30 s)."""
    import threading

    script = tmp_path / "silent.py"
    script.write_text(_SILENT_SERVER)
    port_file, started = tmp_path / "port", tmp_path / "started"
    proc = subprocess.Popen([sys.executable, str(script), str(port_file), str(started)])
    try:
        deadline = time.time() + 20
        while not port_file.exists() or not port_file.read_text():
            assert time.time() < deadline and proc.poll() is None, "silent server did not start"
            time.sleep(0.05)
        address = f"127.0.0.1:{port_file.read_text()}"
        box = {}

        def client():
            try:
                htsr_client.analyze(model(5), address, timeout=None, keepalive_seconds=1.0,
                                    connect_retries=())
            except Exception as e:  # noqa: BLE001 (asserted below)
                box["error"] = e

        t = threading.Thread(target=client, daemon=True)
        t.start()
        while not started.exists():
            assert time.time() < deadline, "the call never reached the silent server"
            time.sleep(0.05)
        begin = time.monotonic()
        proc.send_signal(signal.SIGSTOP)
        t.join(timeout=30)
        assert not t.is_alive(), "the call still waits on a frozen server after 30 s"
        assert isinstance(box.get("error"), htsr_client.AnalysisError), box
        assert box["error"].code == "UNAVAILABLE", box["error"]
        assert time.monotonic() - begin < 20
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(timeout=10)


def test_auto_timeout_grows_with_the_model_and_can_be_turned_off():
    header = htsr_client.pb.AnalyzeHeader()
    header.tensors.add(name="w", dtype=htsr_client.pb.DTYPE_F32, shape=[1024, 1024])  # 4 MiB
    header.tensors.add(name="h", dtype=htsr_client.pb.DTYPE_BF16, shape=[512, 1024])  # 1 MiB
    assert htsr_client._resolve_timeout("auto", header) == pytest.approx(120.0 + 5.0)
    assert htsr_client._resolve_timeout(None, header) is None
    assert htsr_client._resolve_timeout(7, header) == 7.0
    for bad in ("soon", 0, -1):
        with pytest.raises(ValueError):
            htsr_client._resolve_timeout(bad, header)
