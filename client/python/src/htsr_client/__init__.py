"""Python client for htsr-server (htsr.v1.AnalysisService).

``analyze(model, server=...)`` streams the weights of a torch module, a state dict or a
list of (name, array) pairs and returns plain Python data: ``{"layers": [...], "summary":
{...}}`` with the same column names as ``htsr analyze``. pandas is optional
(``to_dataframe``); torch is optional (numpy arrays work alike).
"""

from __future__ import annotations

import queue
import threading
import time
from typing import (Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import grpc
import numpy as np

from ._gen import analysis_pb2 as pb
from ._gen import analysis_pb2_grpc as pb_grpc

__all__ = ["analyze", "server_info", "to_dataframe", "AnalysisError", "__version__"]
__version__ = "0.1.0"

# Well below the server's per-stream window (4 MiB by default), so several chunks are in
# flight at once (as the C++ client).
DEFAULT_CHUNK_BYTES = 1 << 20
# A call that fails UNAVAILABLE before the server answered it (no connection yet: refused,
# reset, a server restarting) did nothing there: it is made again after each of these
# pauses, on a fresh connection, within the timeout. As the C++ client.
CONNECT_RETRY_SECONDS = (0.25, 1.0)
# timeout="auto" (the default): a deadline of 120 s plus one second per MiB sent, as the C++
# client (RemoteOptions), so a server that stops answering cannot hold a training job forever;
# a real analysis far slower than 1 MiB/s means something is wrong. None: no deadline.
AUTO_TIMEOUT_BASE_SECONDS = 120.0
AUTO_TIMEOUT_BYTES_PER_SECOND = float(1 << 20)
# HTTP/2 keepalive pings (htsr-server permits them this often): a connection whose peer stops
# answering (a frozen process, a dead host behind an open socket) is closed after
# keepalive_seconds + keepalive_seconds, failing the call UNAVAILABLE instead of waiting for
# the deadline. As the C++ client.
DEFAULT_KEEPALIVE_SECONDS = 10.0


class AnalysisError(RuntimeError):
    """The call failed as a whole (auth, limits, protocol, deadline, unreachable server).

    Per-layer problems are not errors: they are rows with status "failed" and a reason.
    """

    def __init__(self, code: str, details: str):
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


# ---------------------------------------------------------------------------------------
# Tensors

_NUMPY_DTYPES = {
    "float64": pb.DTYPE_F64,
    "float32": pb.DTYPE_F32,
    "float16": pb.DTYPE_F16,
    "bfloat16": pb.DTYPE_BF16,  # ml_dtypes
    "int64": pb.DTYPE_I64,
    "int32": pb.DTYPE_I32,
    "int16": pb.DTYPE_I16,
    "int8": pb.DTYPE_I8,
    "uint8": pb.DTYPE_U8,
    "bool": pb.DTYPE_BOOL,
    "float8_e4m3fn": pb.DTYPE_F8_E4M3,  # ml_dtypes
    "float8_e5m2": pb.DTYPE_F8_E5M2,
}

_TORCH_DTYPES = {
    "torch.float64": pb.DTYPE_F64,
    "torch.float32": pb.DTYPE_F32,
    "torch.float16": pb.DTYPE_F16,
    "torch.bfloat16": pb.DTYPE_BF16,
    "torch.int64": pb.DTYPE_I64,
    "torch.int32": pb.DTYPE_I32,
    "torch.int16": pb.DTYPE_I16,
    "torch.int8": pb.DTYPE_I8,
    "torch.uint8": pb.DTYPE_U8,
    "torch.bool": pb.DTYPE_BOOL,
    "torch.float8_e4m3fn": pb.DTYPE_F8_E4M3,
    "torch.float8_e5m2": pb.DTYPE_F8_E5M2,
}


def _is_torch_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _meta(name: str, value: Any) -> Optional[pb.TensorMeta]:
    """Metadata without touching the bytes (no device copy). None for unsupported types."""
    if _is_torch_tensor(value):
        dtype = _TORCH_DTYPES.get(str(value.dtype))
        shape = list(value.shape)
    else:
        arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
        dtype = _NUMPY_DTYPES.get(arr.dtype.name)
        shape = list(arr.shape)
    if dtype is None:
        return None
    return pb.TensorMeta(name=name, dtype=dtype, shape=[int(d) for d in shape])


def _as_bytes(value: Any) -> np.ndarray:
    """Row-major little-endian bytes of a tensor as a flat uint8 array (one CPU copy at most)."""
    if _is_torch_tensor(value):
        t = value.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        t = t.contiguous().reshape(-1)
        import torch  # only reached with torch tensors

        return t.view(torch.uint8).numpy()
    arr = np.asarray(value)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    arr = np.ascontiguousarray(arr)
    return arr.reshape(-1).view(np.uint8)


def _named_tensors(model: Any) -> List[Tuple[str, Any]]:
    if hasattr(model, "state_dict") and callable(model.state_dict):
        model = model.state_dict()
    if isinstance(model, Mapping):
        return [(str(k), v) for k, v in model.items()]
    pairs = list(model)
    for p in pairs:
        if not (isinstance(p, tuple) and len(p) == 2):
            raise TypeError("model must be a torch module, a mapping or (name, array) pairs")
    return [(str(k), v) for k, v in pairs]


# ---------------------------------------------------------------------------------------
# Results

_LAYER_TYPES = {pb.LAYER_TYPE_DENSE: "dense", pb.LAYER_TYPE_CONV1D: "conv1d",
                pb.LAYER_TYPE_CONV2D: "conv2d"}
_STATUSES = {pb.LAYER_STATUS_SUCCESS: "success", pb.LAYER_STATUS_SKIPPED: "skipped",
             pb.LAYER_STATUS_FAILED: "failed"}
_WARNINGS = {pb.LAYER_WARNING_NONE: "", pb.LAYER_WARNING_OVER_TRAINED: "over-trained",
             pb.LAYER_WARNING_UNDER_TRAINED: "under-trained", pb.LAYER_WARNING_FAILED: "failed"}

# Wire field -> column name (docs/spec.md §4 / the CSV header).
_COLUMNS = [
    ("q", "Q"), ("norm", "norm"), ("log_norm", "log_norm"), ("spectral_norm", "spectral_norm"),
    ("log_spectral_norm", "log_spectral_norm"), ("alpha", "alpha"),
    ("alpha_weighted", "alpha_weighted"), ("log_alpha_norm", "log_alpha_norm"), ("d", "D"),
    ("sigma", "sigma"), ("xmin", "xmin"), ("xmax", "xmax"), ("num_pl_spikes", "num_pl_spikes"),
    ("stable_rank", "stable_rank"), ("matrix_rank", "matrix_rank"), ("entropy", "entropy"),
    ("sv_max", "sv_max"), ("sv_min", "sv_min"), ("rank_loss", "rank_loss"),
    ("weak_rank_loss", "weak_rank_loss"), ("has_esd", "has_esd"),
]
_OPTIONAL_COLUMNS = [
    ("num_fingers", "num_fingers"), ("raw_alpha", "raw_alpha"), ("num_spikes", "num_spikes"),
    ("sigma_mp", "sigma_mp"), ("mp_softrank", "mp_softrank"), ("bulk_min", "bulk_min"),
    ("bulk_max", "bulk_max"), ("w_scale", "W_scale"), ("max_rand_eval", "max_rand_eval"),
    ("rand_distance", "rand_distance"), ("ww_softrank", "ww_softrank"),
    ("ww_maxdist", "ww_maxdist"), ("rand_num_spikes", "rand_num_spikes"),
    ("num_traps", "num_traps"), ("rand_sigma_mp", "rand_sigma_mp"),
    ("rand_mp_softrank", "rand_mp_softrank"), ("rand_bulk_max", "rand_bulk_max"),
    ("rand_bulk_min", "rand_bulk_min"), ("rand_w_scale", "rand_W_scale"),
    ("detx_num", "detX_num"), ("detx_val", "detX_val"),
    ("detx_val_unrescaled", "detX_val_unrescaled"), ("num_erg_spikes", "num_ERG_spikes"),
    ("erg_gap", "ERG_gap"), ("slice_id", "slice_id"),
]


def _layer_row(r: pb.LayerResult) -> Dict[str, Any]:
    p = r.plan
    row: Dict[str, Any] = {
        "layer_id": p.layer_id, "name": p.name,
        "layer_type": _LAYER_TYPES.get(p.type, str(p.type)),
        "N": p.n, "M": p.m, "rf": p.rf, "num_evals": p.num_evals,
        "status": _STATUSES.get(r.status, str(r.status)),
        "warning": _WARNINGS.get(r.warning, str(r.warning)),
        "reason": r.reason,
    }
    for field, column in _COLUMNS:
        row[column] = getattr(r, field)
    for field, column in _OPTIONAL_COLUMNS:
        if r.HasField(field):
            row[column] = getattr(r, field)
    if len(r.evals):
        row["evals"] = np.asarray(r.evals, dtype=np.float64)
    row["seconds"] = r.seconds
    return row


def _summary(s: pb.ModelSummary) -> Dict[str, Any]:
    out = {f: getattr(s, f) for f in (
        "num_layers", "num_analyzed", "num_skipped", "num_failed", "num_under_trained",
        "num_over_trained", "log_norm", "alpha", "alpha_weighted", "log_alpha_norm",
        "log_spectral_norm", "stable_rank", "model_name")}
    if s.HasField("mp_softrank"):
        out["mp_softrank"] = s.mp_softrank
    return out


def to_dataframe(result: Mapping[str, Any]):
    """The per-layer rows as a pandas DataFrame (pandas is optional)."""
    import pandas as pd  # noqa: deferred optional dependency

    rows = [{k: v for k, v in r.items() if k != "evals"} for r in result["layers"]]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Calls

def _channel(server: str, tls_ca: Optional[str], tls_cert: Optional[str],
             tls_key: Optional[str], tls_server_name: Optional[str],
             attempt: int = 0,
             keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS) -> grpc.Channel:
    options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
    if keepalive_seconds and keepalive_seconds > 0:
        ms = max(1, int(keepalive_seconds * 1000))
        # Newer gRPC cores time a keepalive ping out by the generic ping timeout (60 s by
        # default), not keepalive_timeout_ms alone: both are set (seen with grpcio 1.85).
        options += [("grpc.keepalive_time_ms", ms), ("grpc.keepalive_timeout_ms", ms),
                    ("grpc.http2.ping_timeout_ms", ms),
                    ("grpc.keepalive_permit_without_calls", 1),
                    ("grpc.http2.max_pings_without_data", 0)]
    if attempt:
        # Different arguments, different connection: not one still backing off (1 s and up)
        # after the failure that this attempt retries.
        options.append(("htsr.connect_attempt", attempt))
    if tls_ca is None and tls_cert is None:
        return grpc.insecure_channel(server, options=options)

    def read(path: Optional[str]) -> Optional[bytes]:
        if path is None:
            return None
        with open(path, "rb") as f:
            return f.read()

    creds = grpc.ssl_channel_credentials(read(tls_ca), read(tls_key), read(tls_cert))
    if tls_server_name:
        options.append(("grpc.ssl_target_name_override", tls_server_name))
    return grpc.secure_channel(server, creds, options=options)


def _metadata(token: Optional[str], token_file: Optional[str]) -> List[Tuple[str, str]]:
    if token_file is not None:
        with open(token_file, "r", encoding="utf-8") as f:
            token = f.readline().strip()
    return [("authorization", f"Bearer {token}")] if token else []


def _options(kw: Dict[str, Any]) -> pb.AnalysisOptions:
    o = pb.AnalysisOptions()
    for name in ("min_evals", "max_evals", "max_n", "pool", "all_tensors", "finger_thresh",
                 "max_fingers", "xmax_drop", "mp_fit", "randomize", "seed", "detx",
                 "normalize", "reference_layer_set"):
        value = kw.pop(name, None)
        if value is not None:
            setattr(o, name, value)
    fix_fingers = kw.pop("fix_fingers", None)
    if fix_fingers is not None:
        o.fix_fingers = {"clip_xmax": pb.FIX_FINGERS_CLIP_XMAX,
                         "none": pb.FIX_FINGERS_NONE}[str(fix_fingers)]
    fit = kw.pop("fit", None)
    if fit is not None:
        o.fit = {"pl": pb.FIT_TYPE_POWER_LAW, "tpl": pb.FIT_TYPE_TRUNCATED_POWER_LAW,
                 "e_tpl": pb.FIT_TYPE_EXTENDED_TPL}[str(fit)]
    precision = kw.pop("precision", None)
    if precision is not None:
        o.precision = {"f64": pb.PRECISION_F64, "f32": pb.PRECISION_F32}[str(precision)]
    if kw:
        raise TypeError(f"unknown option(s): {', '.join(sorted(kw))}")
    return o


def _raise(e: grpc.RpcError) -> None:
    code = e.code().name if e.code() is not None else "UNKNOWN"
    raise AnalysisError(code, e.details() or "") from None


_DTYPE_BYTES = {pb.DTYPE_F64: 8, pb.DTYPE_F32: 4, pb.DTYPE_F16: 2, pb.DTYPE_BF16: 2,
                pb.DTYPE_I64: 8, pb.DTYPE_I32: 4, pb.DTYPE_I16: 2, pb.DTYPE_I8: 1,
                pb.DTYPE_U8: 1, pb.DTYPE_BOOL: 1, pb.DTYPE_F8_E4M3: 1, pb.DTYPE_F8_E5M2: 1}


def _resolve_timeout(timeout: Union[float, str, None], header: pb.AnalyzeHeader
                     ) -> Optional[float]:
    """Seconds for the call: "auto" from the bytes the model could send (every tensor the
    header lists, the upper bound of what the server asks for)."""
    if timeout is None:
        return None
    if isinstance(timeout, str):
        if timeout != "auto":
            raise ValueError(f'timeout must be seconds, "auto" or None, not {timeout!r}')
        total = 0
        for t in header.tensors:
            n = _DTYPE_BYTES.get(t.dtype, 8)
            for d in t.shape:
                n *= int(d)
            total += n
        return AUTO_TIMEOUT_BASE_SECONDS + total / AUTO_TIMEOUT_BYTES_PER_SECOND
    if not timeout > 0:
        raise ValueError("timeout must be > 0 seconds")
    return float(timeout)


class _NotAnswered(Exception):
    """The call failed UNAVAILABLE before the server's plan: safe to make again."""

    def __init__(self, error: grpc.RpcError):
        super().__init__(str(error))
        self.error = error


def analyze(model: Any, server: str = "127.0.0.1:50051", *, model_name: str = "model",
            token: Optional[str] = None, token_file: Optional[str] = None,
            tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
            tls_key: Optional[str] = None, tls_server_name: Optional[str] = None,
            timeout: Union[float, str, None] = "auto",
            chunk_bytes: int = DEFAULT_CHUNK_BYTES,
            keep_evals: bool = False, layers: Optional[Sequence[int]] = None,
            connect_retries: Sequence[float] = CONNECT_RETRY_SECONDS,
            keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS,
            **options: Any) -> Dict[str, Any]:
    """Analyses ``model`` on the server; returns {"layers": [row dicts], "summary": dict}.

    Rows are ordered by layer_id (then slice_id), as ``htsr analyze`` prints them.
    Raises AnalysisError when the call fails as a whole. A call that fails UNAVAILABLE
    before the server answered is made again after each pause of ``connect_retries``
    (seconds), within ``timeout``. ``timeout``: seconds for the whole call, retries
    included; "auto" (default) is 120 s plus 1 s per MiB of the tensors the model holds;
    None waits forever. ``keepalive_seconds``: ping interval (and the time a ping may go
    unanswered) before a silent server's connection is dropped; 0 turns pings off.
    """
    if chunk_bytes <= 0:
        raise ValueError("chunk_bytes must be > 0")
    named = _named_tensors(model)
    header = pb.AnalyzeHeader(model_name=model_name, options=_options(dict(options)),
                              keep_evals=keep_evals, layer_ids=list(layers or []))
    sendable: List[Tuple[str, Any]] = []
    for name, value in named:
        meta = _meta(name, value)
        if meta is None:
            continue  # not a tensor type the contract knows: never a layer
        header.tensors.append(meta)
        sendable.append((name, value))
    timeout = _resolve_timeout(timeout, header)

    start = time.monotonic()
    for attempt in range(len(connect_retries) + 1):
        remaining = None if timeout is None else timeout - (time.monotonic() - start)
        try:
            return _analyze_once(server, header, sendable, token, token_file, tls_ca, tls_cert,
                                 tls_key, tls_server_name, remaining, chunk_bytes, attempt,
                                 keepalive_seconds)
        except _NotAnswered as e:
            last = attempt == len(connect_retries)
            if last or (timeout is not None and
                        time.monotonic() - start + connect_retries[attempt] >= timeout):
                _raise(e.error)
            time.sleep(connect_retries[attempt])
    raise AssertionError("not reached")


def _analyze_once(server: str, header: pb.AnalyzeHeader, sendable: List[Tuple[str, Any]],
                  token: Optional[str], token_file: Optional[str], tls_ca: Optional[str],
                  tls_cert: Optional[str], tls_key: Optional[str],
                  tls_server_name: Optional[str], timeout: Optional[float], chunk_bytes: int,
                  attempt: int, keepalive_seconds: float) -> Dict[str, Any]:
    plan_box: "queue.Queue[Optional[pb.ModelPlan]]" = queue.Queue(maxsize=1)

    def requests() -> Iterator[pb.AnalyzeRequest]:
        yield pb.AnalyzeRequest(header=header)
        plan = plan_box.get()
        if plan is None:
            return  # the call ended before the plan
        for index in plan.requested_tensors:
            name, value = sendable[index]
            data = _as_bytes(value)
            total = int(data.shape[0])
            offset = 0
            first = True
            while True:
                n = min(chunk_bytes, total - offset)
                chunk = pb.TensorChunk(tensor_index=index, offset=offset,
                                       data=data[offset:offset + n].tobytes())
                if first:
                    chunk.name = name
                    meta = header.tensors[index]
                    chunk.dtype = meta.dtype
                    chunk.shape.extend(meta.shape)
                    first = False
                yield pb.AnalyzeRequest(chunk=chunk)
                offset += n
                if offset >= total:
                    break
            del data  # one tensor's CPU copy alive at a time

    channel = _channel(server, tls_ca, tls_cert, tls_key, tls_server_name, attempt,
                       keepalive_seconds)
    rows: List[Dict[str, Any]] = []
    summary: Optional[Dict[str, Any]] = None
    plan_sent = False
    try:
        stub = pb_grpc.AnalysisServiceStub(channel)
        responses = stub.Analyze(requests(), metadata=_metadata(token, token_file),
                                 timeout=timeout)
        try:
            for resp in responses:
                kind = resp.WhichOneof("kind")
                if kind == "plan":
                    plan_box.put(resp.plan)
                    plan_sent = True
                elif kind == "layer":
                    rows.append(_layer_row(resp.layer))
                elif kind == "summary":
                    summary = _summary(resp.summary)
        except grpc.RpcError as e:
            if not plan_sent and e.code() == grpc.StatusCode.UNAVAILABLE:
                raise _NotAnswered(e) from None
            _raise(e)
        finally:
            if not plan_sent:
                plan_box.put(None)  # unblocks the request generator
    finally:
        channel.close()
    if summary is None:
        raise AnalysisError("INTERNAL", "server ended the call without a summary")
    rows.sort(key=lambda r: (r["layer_id"], r.get("slice_id", 0)))
    return {"layers": rows, "summary": summary}


def server_info(server: str = "127.0.0.1:50051", *, token: Optional[str] = None,
                token_file: Optional[str] = None, tls_ca: Optional[str] = None,
                tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
                tls_server_name: Optional[str] = None,
                timeout: Optional[float] = 30) -> Dict[str, Any]:
    """Version, backend and limits of the server."""
    channel = _channel(server, tls_ca, tls_cert, tls_key, tls_server_name)
    try:
        stub = pb_grpc.AnalysisServiceStub(channel)
        try:
            info = stub.GetServerInfo(pb.GetServerInfoRequest(),
                                      metadata=_metadata(token, token_file), timeout=timeout)
        except grpc.RpcError as e:
            _raise(e)
    finally:
        channel.close()
    limits = info.limits
    return {
        "version": info.version, "api_version": info.api_version, "backend": info.backend,
        "backend_description": info.backend_description, "auth_required": info.auth_required,
        "tls": info.tls, "bytes_in_use": info.bytes_in_use, "active_calls": info.active_calls,
        "peak_bytes_in_use": info.peak_bytes_in_use,
        "limits": {f: getattr(limits, f) for f in (
            "max_layer_bytes", "queue_bytes", "max_concurrent_calls", "max_message_bytes",
            "max_chunk_bytes", "workers")},
    }
