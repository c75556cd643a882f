"""What htsr.analyze accepts, turned into what the engine reads: a path, or tensor
metadata up front (name, dtype, shape) and a loader that hands over one tensor's buffer
at a time (read in place: numpy arrays and CPU torch tensors are not copied)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import Any, Callable, List, Tuple

import numpy as np

Info = Tuple[str, str, List[int]]

_NUMPY = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64",
          "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
          # ml_dtypes' names
          "bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2"}
# numpy views for dtypes numpy cannot hold natively: same bytes, an integer type.
_BITS = {"BF16": np.uint16, "F8_E4M3": np.uint8, "F8_E5M2": np.uint8}

_USAGE = ("pass a torch nn.Module, a state dict (name -> torch tensor or numpy array), "
          "or the path of a checkpoint")


def _torch():
    return sys.modules.get("torch")


def _is_torch_tensor(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _torch_dtypes(torch) -> dict:
    d = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
         torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.int16: "I16",
         torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
    for attr, name in (("float8_e4m3fn", "F8_E4M3"), ("float8_e5m2", "F8_E5M2")):
        if hasattr(torch, attr):
            d[getattr(torch, attr)] = name
    return d


def _torch_info(name: str, t) -> Tuple[str, Callable[[], Any]] | None:
    torch = _torch()
    if t.is_meta or t.device.type == "meta":
        raise ValueError(f"htsr.analyze: '{name}' is a meta tensor (it has no data): load the "
                         "weights before analysing (e.g. not with device_map='meta')")
    if t.layout != torch.strided:
        raise ValueError(f"htsr.analyze: '{name}' is a sparse tensor ({t.layout}): pass "
                         "t.to_dense()")
    if t.is_complex():
        raise TypeError(f"htsr.analyze: '{name}' is a complex tensor ({t.dtype}): htsr "
                        "analyses real weights only")
    if getattr(t, "is_quantized", False):
        raise TypeError(f"htsr.analyze: '{name}' is a quantized tensor: pass t.dequantize()")
    dtype = _torch_dtypes(torch).get(t.dtype)
    if dtype is None:
        if t.is_floating_point():
            raise TypeError(f"htsr.analyze: '{name}' has dtype {t.dtype}, which htsr does not read")
        return None  # an integer type the engine does not know: never a layer

    def load():
        # A CUDA (or other device) tensor is copied to the CPU here, one layer at a time.
        x = t.detach()
        if x.device.type != "cpu":
            x = x.to("cpu")
        x = x.contiguous()
        if dtype in _BITS:
            x = x.view(torch.int16 if dtype == "BF16" else torch.uint8)
        return x.numpy()

    converts = t.device.type != "cpu" or not t.is_contiguous()
    return dtype, load, converts


def _numpy_info(name: str, a: np.ndarray) -> Tuple[str, Callable[[], Any]] | None:
    if a.dtype.kind == "c":
        raise TypeError(f"htsr.analyze: '{name}' is a complex array ({a.dtype}): htsr "
                        "analyses real weights only")
    if a.dtype.kind in "OSUV":
        raise TypeError(f"htsr.analyze: '{name}' is an array of {a.dtype}, not numbers")
    dtype = _NUMPY.get(a.dtype.name)
    if dtype is None:
        if a.dtype.kind == "f":
            raise TypeError(f"htsr.analyze: '{name}' has dtype {a.dtype}, which htsr does not read")
        return None

    def load():
        x = a
        if x.dtype.byteorder == ">":
            x = x.astype(x.dtype.newbyteorder("<"))
        if dtype in _BITS:
            x = x.view(_BITS[dtype])
        return np.ascontiguousarray(x)  # no copy when it already is

    converts = a.dtype.byteorder == ">" or not a.flags.c_contiguous
    return dtype, load, converts


def _one_at_a_time(load: Callable[[], Any], slot: threading.Semaphore) -> Callable[[], Any]:
    def converted():
        slot.acquire()  # waits without the GIL
        try:
            return load(), slot.release
        except BaseException:
            slot.release()
            raise

    return converted


def _named_values(model: Any) -> Tuple[str, List[Tuple[str, Any]]]:
    torch = _torch()
    if torch is not None and isinstance(model, torch.nn.Module):
        return type(model).__name__, list(model.state_dict().items())
    if isinstance(model, Mapping):
        return "state_dict", list(model.items())
    raise TypeError(f"htsr.analyze: cannot analyse a {type(model).__module__}."
                    f"{type(model).__qualname__}: {_USAGE}")


def prepare(model: Any):
    """("path", path) or ("tensors", label, infos, load)."""
    if isinstance(model, (str, os.PathLike)):
        return ("path", os.fspath(model))
    label, items = _named_values(model)
    infos: List[Info] = []
    loaders: List[Callable[[], Any]] = []
    # At most one converted (copied) layer alive at a time: a loader that has to copy takes
    # the slot, and the engine gives it back when it is done with that layer's buffer.
    slot = threading.Semaphore(1)
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"htsr.analyze: state dict keys must be strings, got {name!r}")
        if _is_torch_tensor(value):
            got = _torch_info(name, value)
        elif isinstance(value, np.ndarray):
            got = _numpy_info(name, value)
        elif name.endswith(".weight"):
            raise TypeError(f"htsr.analyze: '{name}' is a {type(value).__name__}, not a tensor "
                            f"or array: {_USAGE}")
        else:
            continue  # extra state (counters, configs): never a layer
        if got is None:
            continue
        infos.append((name, got[0], [int(d) for d in value.shape]))
        loaders.append(_one_at_a_time(got[1], slot) if got[2] else got[1])
    if not infos:
        raise ValueError(f"htsr.analyze: the {label} holds no tensor to analyse")
    return ("tensors", label, infos, lambda i: loaders[i]())
