#!/usr/bin/env python3
"""Behaviour of the htsr command line: exit codes, formats, --layers, describe, bad input.

Fixtures are written here with the stdlib (safetensors is a JSON header plus raw bytes), so
the expectations are independent of htsr's own readers.

    cli_test.py HTSR_BIN
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from safetensors_writer import write_safetensors, write_safetensors_raw  # noqa: E402

HTSR = None
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "synthetic", "fixtures")


def e4m3_to_float(b):
    """OCP float8 e4m3fn, decoded from the spec (independently of htsr's C++)."""
    sign = -1.0 if b & 0x80 else 1.0
    exp, mant = (b >> 3) & 0xF, b & 0x7
    if exp == 0:
        return sign * mant * 2.0 ** -9
    return sign * (1 + mant / 8) * 2.0 ** (exp - 7)


def gaussian(n, seed):
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(n)]


def run(*args):
    return subprocess.run([HTSR, *args], capture_output=True, text=True, timeout=300)


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.good = os.path.join(cls.tmp.name, "good.safetensors")
        write_safetensors(cls.good, [("a.weight", (60, 40), gaussian(2400, 1)),
                                     ("b.weight", (50, 30), gaussian(1500, 2)),
                                     ("small.weight", (5, 30), gaussian(150, 3)),
                                     ("a.bias", (60,), gaussian(60, 4))])
        cls.nan = os.path.join(cls.tmp.name, "nan.safetensors")
        bad = gaussian(2400, 5)
        bad[123] = math.nan
        write_safetensors(cls.nan, [("a.weight", (60, 40), bad), ("b.weight", (50, 30), gaussian(1500, 6))])

    def test_help_and_usage(self):
        p = run("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("analyze", p.stdout)
        p = run("analyze", "--help")
        self.assertEqual(p.returncode, 0)
        for flag in ("--format", "--layers", "--fix-fingers", "--mp-fit", "--randomize", "--device"):
            self.assertIn(flag, p.stdout)
        self.assertEqual(run("analyze").returncode, 2)
        p = run("analyze", self.good, "--bogus")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--bogus", p.stderr)
        self.assertEqual(run("frobnicate").returncode, 2)

    def test_unreadable_input_exit_2_names_file(self):
        missing = os.path.join(self.tmp.name, "nope.safetensors")
        p = run("analyze", missing)
        self.assertEqual(p.returncode, 2)
        self.assertIn("nope.safetensors", p.stderr)
        trunc = os.path.join(self.tmp.name, "trunc.safetensors")
        with open(self.good, "rb") as f, open(trunc, "wb") as g:
            g.write(f.read()[:500])
        p = run("analyze", trunc)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("trunc.safetensors", p.stderr)

    def test_csv_rows_and_skips(self):
        p = run("analyze", self.good, "--format", "csv")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.strip().splitlines()
        header = lines[0].split(",")
        self.assertEqual(header[:2], ["layer_id", "name"])
        for col in ("alpha", "alpha_weighted", "log_norm", "log_spectral_norm", "D", "xmin"):
            self.assertIn(col, header)
        rows = [dict(zip(header, l.split(","))) for l in lines[1:]]
        self.assertEqual([r["name"] for r in rows], ["a", "b", "small"])
        self.assertEqual(rows[2]["status"], "skipped")
        self.assertIn("min_evals", rows[2]["reason"])
        # N, M from the shape: max and min.
        self.assertEqual((rows[0]["N"], rows[0]["M"]), ("60", "40"))

    def test_json_is_valid_and_has_summary(self):
        out = os.path.join(self.tmp.name, "out.json")
        p = run("analyze", self.good, "--format", "json", "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            doc = json.load(f)
        m = doc["models"][0]
        self.assertEqual(m["summary"]["num_analyzed"], 2)
        self.assertEqual(m["summary"]["num_skipped"], 1)
        alphas = [l["alpha"] for l in m["layers"] if l["status"] == "success"]
        self.assertAlmostEqual(m["summary"]["alpha"], sum(alphas) / len(alphas), places=12)

    def test_layers_filter(self):
        p = run("analyze", self.good, "--format", "csv", "--layers", "!b")
        names = [l.split(",")[1] for l in p.stdout.strip().splitlines()[1:]]
        self.assertEqual(names, ["a", "small"])
        # Names match as substrings: "a" is in "a" and in "small".
        p = run("analyze", self.good, "--format", "csv", "--layers", "a,!2")
        names = [l.split(",")[1] for l in p.stdout.strip().splitlines()[1:]]
        self.assertEqual(names, ["a", "small"])
        p = run("analyze", self.good, "--format", "csv", "--layers", "dense,!1-2")
        names = [l.split(",")[1] for l in p.stdout.strip().splitlines()[1:]]
        self.assertEqual(names, ["small"])
        p = run("analyze", self.good, "--format", "csv", "--layers", "1")
        names = [l.split(",")[1] for l in p.stdout.strip().splitlines()[1:]]
        self.assertEqual(names, ["a"])

    def test_nan_layer_is_one_failed_row(self):
        p = run("analyze", self.nan, "--format", "csv")
        self.assertEqual(p.returncode, 1)
        self.assertIn("a.weight", p.stderr)
        lines = p.stdout.strip().splitlines()
        header = lines[0].split(",")
        rows = [dict(zip(header, l.split(","))) for l in lines[1:]]
        self.assertEqual(rows[0]["status"], "failed")
        self.assertEqual(rows[1]["status"], "success")

    def test_describe_reads_no_weights(self):
        p = run("describe", self.good)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("skip", p.stdout)
        self.assertIn("2 layers to analyse, 1 to skip", p.stdout)
        p = run("describe", self.good, "--format", "json")
        doc = json.loads(p.stdout)
        self.assertEqual([l["action"] for l in doc["models"][0]["layers"]], ["analyse", "analyse", "skip"])

    def test_table_output(self):
        p = run("analyze", self.good)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("summary: 2 analysed, 1 skipped, 0 failed", p.stdout)
        self.assertIn("alpha_weighted", p.stdout)

    def test_several_paths_csv_has_model_column(self):
        p = run("analyze", self.good, os.path.join(FIX, "named_arrays.npz"), "--format", "csv")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("model,layer_id,name"))

    def test_folder_of_checkpoints_is_every_model_in_it(self):
        # A plain folder: each checkpoint under it is one model (as scan finds them), in
        # sorted order, each with the rows it has when analysed alone.
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "sub"))
            a = os.path.join(d, "a.safetensors")
            b = os.path.join(d, "sub", "b.pt")
            with open(os.path.join(FIX, "mixed.safetensors"), "rb") as src, open(a, "wb") as dst:
                dst.write(src.read())
            with open(os.path.join(FIX, "state_dict.pt"), "rb") as src, open(b, "wb") as dst:
                dst.write(src.read())
            with open(os.path.join(d, "notes.txt"), "w") as f:
                f.write("not a checkpoint")
            folder = run("analyze", d, "--format", "csv", "--quiet")
            self.assertEqual(folder.returncode, 0, folder.stderr)
            alone = run("analyze", a, b, "--format", "csv", "--quiet")
            self.assertEqual(folder.stdout, alone.stdout)
            self.assertEqual(len({line.split(",")[0] for line in folder.stdout.splitlines()[1:]}), 2)
            desc = run("describe", d, "--format", "json")
            self.assertEqual([m["path"] for m in json.loads(desc.stdout)["models"]], [a, b])
            empty = os.path.join(d, "empty")
            os.makedirs(empty)
            r = run("analyze", empty)
            self.assertEqual(r.returncode, 2)
            self.assertIn("no checkpoints in this directory", r.stderr)

    def test_float8_layers_equal_their_float32_twin(self):
        rng = random.Random(7)
        codes = bytes(rng.choice([c for c in range(256) if c & 0x7F != 0x7F]) for _ in range(80 * 50))
        f8 = os.path.join(self.tmp.name, "f8.safetensors")
        f32 = os.path.join(self.tmp.name, "f32.safetensors")
        write_safetensors_raw(f8, [("q.weight", "F8_E4M3", (80, 50), codes)])
        write_safetensors(f32, [("q.weight", (80, 50), [e4m3_to_float(c) for c in codes])])
        a = run("analyze", f8, "--format", "csv")
        b = run("analyze", f32, "--format", "csv")
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertEqual(a.stdout, b.stdout)
        self.assertIn(",success,", a.stdout)
        p = run("describe", f8)
        self.assertIn("F8_E4M3", p.stdout)

    def test_files_that_crash_libhdf5_are_errors(self):
        # tests/fuzz/known_hdf5_issues/ crash Debian's HDF5 1.10.8 itself; htsr parses HDF5 in a
        # child process, so the command fails on the file (exit 2, named) instead of dying.
        known = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "known_hdf5_issues")
        files = [f for f in sorted(os.listdir(known)) if not f.endswith(".md")]
        self.assertTrue(files)
        for name in files:
            for command in ("analyze", "describe"):
                p = run(command, os.path.join(known, name))
                self.assertIn(p.returncode, (1, 2), (command, name, p.returncode, p.stderr))
                self.assertIn(name, p.stderr)
            # Next to a good checkpoint: the good one is still analysed.
            p = run("analyze", os.path.join(known, name), self.good, "--format", "csv")
            self.assertIn(p.returncode, (1, 2), p.stderr)
            self.assertIn(name, p.stderr)
            self.assertIn(",success,", p.stdout)

    def test_device_cuda_without_gpu_is_an_error(self):
        if os.path.exists("/dev/nvidia0"):
            self.skipTest("a GPU is present")
        p = run("analyze", self.good, "--device", "cuda")
        self.assertEqual(p.returncode, 2)
        self.assertIn("cuda", p.stderr.lower())
        p = run("analyze", self.good, "--device", "auto", "--format", "csv")
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    HTSR = sys.argv.pop(1)
    unittest.main(verbosity=2)
