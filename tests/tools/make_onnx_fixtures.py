#!/usr/bin/env python3
"""Writes the ONNX reader's fixtures (tests/data/readers/onnx/) and the expected numbers of
the silero-vad golden, so that CI needs neither torch nor onnx.

    .venv/bin/python tests/tools/make_onnx_fixtures.py --htsr build/client/htsr

Needs torch (Debian's python3-torch 1.13) and onnx (pip, 1.16.2) in the interpreter, and the
real weights fetched by tests/tools/fetch_real_model.sh (minilm, silero).

* minilm_slice.*: a small module (Embedding -> Gather, two Linear on 3-d input -> MatMul with
  a transposed initializer, a Linear on 2-d input -> Gemm transB=1, Conv2d, Conv1d) whose
  weights are slices of all-MiniLM-L6-v2's real weights, exported with torch.onnx.export:
  minilm_slice.onnx (raw_data inside), minilm_slice_external.onnx + .data (the same graph with
  every initializer in external data, and the Gemm rewritten to transB=0 with its B stored
  (in, out)), minilm_slice.safetensors (the module's state dict, PyTorch names and layout) and
  minilm_slice.names.csv (ONNX layer name -> PyTorch layer name, found by value).
* typed_fields.onnx / typed_fields.safetensors: initializers stored in float_data,
  double_data, int32_data (FLOAT16 and BFLOAT16 bits), an INT64 one (left out) and a Gemm
  with transB=0 whose B is in float_data; the safetensors holds the same tensors as htsr
  should present them ('.weight' names, (out, in) layout).
* silero_vad_16k_op15.expected.csv: htsr's rows for silero-vad's ONNX weights written to an
  npz by onnx.numpy_helper (names as the ONNX reader presents them), the golden that
  tests/integration/onnx_compare.py compares the .onnx file itself with.
"""
import argparse
import csv
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "tests", "data", "readers", "onnx")
sys.path.insert(0, HERE)
from safetensors_writer import write_safetensors_raw  # noqa: E402

ST_DTYPE = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("float16"): "F16"}


def fetch(which):
    p = subprocess.run(["bash", os.path.join(HERE, "fetch_real_model.sh"),
                        os.path.expanduser("~/.cache/htsr-test-models"), which],
                       check=True, capture_output=True, text=True)
    return p.stdout.strip().splitlines()[-1]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        if h["dtype"] != "F32":
            continue
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(h["shape"])
    return out


def write_st(path, arrays):
    write_safetensors_raw(path, [(n, ST_DTYPE[a.dtype], a.shape, np.ascontiguousarray(a).tobytes())
                                 for n, a in arrays])


class Slice(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(128, 64)
        self.fc1 = torch.nn.Linear(64, 128)
        self.fc2 = torch.nn.Linear(128, 96)
        self.head = torch.nn.Linear(96, 32)
        self.conv = torch.nn.Conv2d(8, 16, 3)
        self.conv1d = torch.nn.Conv1d(16, 32, 3)

    def forward(self, tokens, image):
        h = torch.relu(self.fc1(self.emb(tokens)))  # (B, T, 64) -> MatMul
        h = self.fc2(h).mean(dim=1)                  # MatMul, then (B, 96)
        y = self.head(h)                             # 2-d input -> Gemm
        c = self.conv(image).flatten(2)              # (B, 16, L)
        return y + self.conv1d(c).mean(dim=2)


def minilm_slice():
    w = read_safetensors(fetch("minilm"))
    q = w["encoder.layer.0.attention.self.query.weight"]
    k = w["encoder.layer.0.attention.self.key.weight"]
    v = w["encoder.layer.0.attention.self.value.weight"]
    inter = w["encoder.layer.0.intermediate.dense.weight"]
    out = w["encoder.layer.1.output.dense.weight"]
    emb = w["embeddings.word_embeddings.weight"]
    m = Slice().eval()
    real = {
        "emb.weight": emb[2000:2128, :64],
        "fc1.weight": q[:128, :64], "fc1.bias": w["encoder.layer.0.attention.self.query.bias"][:128],
        "fc2.weight": inter[:96, :128], "fc2.bias": w["encoder.layer.0.intermediate.dense.bias"][:96],
        "head.weight": out[:32, :96], "head.bias": w["encoder.layer.1.output.dense.bias"][:32],
        "conv.weight": k[:16, :72].reshape(16, 8, 3, 3), "conv.bias": np.zeros(16, np.float32),
        "conv1d.weight": v[:32, :48].reshape(32, 16, 3), "conv1d.bias": np.zeros(32, np.float32),
    }
    m.load_state_dict({n: torch.from_numpy(np.ascontiguousarray(a)) for n, a in real.items()})
    sd = [(n, t.detach().numpy()) for n, t in m.state_dict().items()]
    write_st(os.path.join(OUT, "minilm_slice.safetensors"), sd)

    path = os.path.join(OUT, "minilm_slice.onnx")
    torch.onnx.export(m, (torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 8, 6, 6)), path,
                      input_names=["tokens", "image"], output_names=["y"], opset_version=13,
                      do_constant_folding=True)
    model = onnx.load(path)
    # Which ONNX initializer holds which torch weight (MatMul's B is the transpose).
    names = []
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        for n, t in sd:
            if not n.endswith(".weight"):
                continue
            if a.shape == t.shape and np.array_equal(a, t):
                names.append((init.name, n, "as stored"))
            elif a.ndim == 2 and a.T.shape == t.shape and np.array_equal(a.T, t):
                names.append((init.name, n, "transposed"))
    ops = {}
    for node in model.graph.node:
        for x in node.input:
            ops.setdefault(x, node.op_type)
    with open(os.path.join(OUT, "minilm_slice.names.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["onnx_layer", "torch_layer", "op", "layout"])
        for onnx_name, torch_name, layout in names:
            layer = onnx_name[:-7] if onnx_name.endswith(".weight") else onnx_name
            wr.writerow([layer, torch_name[:-7], ops.get(onnx_name, ""), layout])
    print("minilm_slice: initializer -> torch weight:", names)

    # The same graph with external data, and its Gemm switched to transB=0.
    for node in model.graph.node:
        if node.op_type == "Gemm":
            for a in node.attribute:
                if a.name == "transB":
                    a.i = 0
            for init in model.graph.initializer:
                if init.name == node.input[1]:
                    b = numpy_helper.to_array(init).T.copy()
                    init.CopyFrom(numpy_helper.from_array(b, init.name))
    onnx.checker.check_model(model)
    ext = os.path.join(OUT, "minilm_slice_external.onnx")
    onnx.save_model(model, ext, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="minilm_slice_external.data", size_threshold=0)


def typed_fields():
    w = read_safetensors(fetch("minilm"))
    q = w["encoder.layer.2.attention.self.query.weight"]
    f32 = np.ascontiguousarray(q[:24, :40])
    f64 = np.ascontiguousarray(q[24:48, :36]).astype(np.float64)
    f16 = np.ascontiguousarray(q[48:72, :32]).astype(np.float16)
    bf16_bits = (np.ascontiguousarray(q[72:96, :28]).view(np.uint32) >> 16).astype(np.uint16)
    gemm_b = np.ascontiguousarray(q[96:136, :20])  # (in=40, out=20) as stored, transB=0
    ints = np.arange(12, dtype=np.int64).reshape(3, 4)

    def typed(name, arr, dtype):
        t = onnx.TensorProto(name=name, data_type=dtype, dims=list(arr.shape))
        if dtype == onnx.TensorProto.FLOAT:
            t.float_data.extend(arr.ravel().tolist())
        elif dtype == onnx.TensorProto.DOUBLE:
            t.double_data.extend(arr.ravel().tolist())
        elif dtype in (onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16):
            t.int32_data.extend(arr.view(np.uint16).ravel().astype(np.int32).tolist())
        else:
            t.int64_data.extend(arr.ravel().tolist())
        return t

    inits = [typed("f32.weight", f32, onnx.TensorProto.FLOAT),
             typed("f64.weight", f64, onnx.TensorProto.DOUBLE),
             typed("f16.weight", f16, onnx.TensorProto.FLOAT16),
             typed("bf16.weight", bf16_bits, onnx.TensorProto.BFLOAT16),
             typed("gemm_b", gemm_b, onnx.TensorProto.FLOAT),
             typed("ints", ints, onnx.TensorProto.INT64)]
    nodes = [helper.make_node("Gemm", ["x", "gemm_b"], ["y"], transB=0)]
    graph = helper.make_graph(nodes, "typed_fields",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 40])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 20])],
                              initializer=inits)
    model = helper.make_model(graph, producer_name="htsr make_onnx_fixtures.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, os.path.join(OUT, "typed_fields.onnx"))
    write_safetensors_raw(os.path.join(OUT, "typed_fields.safetensors"), [
        ("f32.weight", "F32", f32.shape, f32.tobytes()),
        ("f64.weight", "F64", f64.shape, f64.tobytes()),
        ("f16.weight", "F16", f16.shape, f16.tobytes()),
        ("bf16.weight", "BF16", bf16_bits.shape, bf16_bits.tobytes()),
        ("gemm_b.weight", "F32", gemm_b.T.shape, np.ascontiguousarray(gemm_b.T).tobytes()),
    ])


def silero(htsr):
    path = fetch("silero")
    model = onnx.load(path)
    role = {}
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul") and len(node.input) > 1:
            role.setdefault(node.input[1], node.op_type)
        if node.op_type == "Gather":
            role.setdefault(node.input[0], node.op_type)
    arrays = {}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init)
        name = init.name
        if name in role and a.ndim in (3, 4) and not name.endswith(".weight"):
            name += ".weight"  # a Conv weight: the name the ONNX reader presents
        arrays[name] = a
    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "silero_vad_16k_op15.npz")
        np.savez(npz, **arrays)
        r = subprocess.run([htsr, "analyze", npz, "--format", "csv", "--quiet"],
                           capture_output=True, text=True)
        assert r.returncode in (0, 1), r.stderr
        with open(os.path.join(OUT, "silero_vad_16k_op15.expected.csv"), "w") as f:
            f.write(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--htsr", required=True)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    minilm_slice()
    typed_fields()
    silero(os.path.abspath(args.htsr))


if __name__ == "__main__":
    main()
