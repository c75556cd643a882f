#!/usr/bin/env python3
"""Answers about models (issue 11): empty and degenerate models across every command, the
fail-closed policy gate, `htsr rank` (GPT-2 sizes from the paper's data, checked against an
independent computation here), and `compare` over the whole ww-trends-2020 set.

    model_answers_test.py HTSR_BIN

The GPT-2 model averages are computed here from the per-layer CSVs with the csv module
alone (weightwatcher 0.2.7's get_summary(): the mean over LEVEL.SLICE rows), independently
of htsr's readers, and checked against the published get_summary() dicts too.
"""
import ast
import csv
import json
import math
import os
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from safetensors_writer import write_safetensors, write_safetensors_raw  # noqa: E402

HTSR = None
DATA = os.path.join(HERE, "..", "data", "ww-trends-2020")
GPT2 = ["gpt2_small", "gpt2_medium", "gpt2_large", "gpt2_xl"]
METRICS = ["log_norm", "log_spectral_norm", "alpha", "alpha_weighted", "log_alpha_norm"]


def run(*args, stdin=None):
    return subprocess.run([HTSR, *args], capture_output=True, text=True, timeout=300, input=stdin)


def gaussian(n, seed):
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(n)]


def gpt2_averages(model, skip_embedding=False):
    """Means over the LEVEL.SLICE rows of the 0.2.7 CSV (optionally without layer 1, wte)."""
    with open(os.path.join(DATA, "layers", "torchvision", model + ".csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["level"] == "LEVEL.SLICE"]
    if skip_embedding:
        rows = [r for r in rows if r["layer_id"] != "1"]
    return {m: sum(float(r[m]) for r in rows) / len(rows) for m in METRICS}, len(rows)


class DegenerateModels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.p = {}

        def w(name, tensors, raw=False):
            path = os.path.join(d, name + ".safetensors")
            (write_safetensors_raw if raw else write_safetensors)(path, tensors)
            cls.p[name] = path

        w("good", [("a.weight", (60, 40), gaussian(2400, 1)), ("b.weight", (50, 30), gaussian(1500, 2)),
                   ("a.bias", (60,), gaussian(60, 3))])
        w("nan", [("a.weight", (60, 40), [math.nan] * 2400)])
        w("zero", [("a.weight", (60, 40), [0.0] * 2400)])
        w("integer", [("a.weight", "I64", (60, 40), struct.pack("<2400q", *range(2400))),
                      ("ids", "I32", (10,), struct.pack("<10i", *range(10)))], raw=True)
        w("onedim", [("a.weight", (60,), gaussian(60, 4)), ("norm.weight", (40,), gaussian(40, 5))])
        w("nolayers", [("step", (1, 1), [3.0])])
        cls.empty = ["nan", "zero", "integer", "onedim", "nolayers"]

    def test_analyze_empty_model_has_no_summary_values(self):
        for name in self.empty:
            p = run("analyze", self.p[name], "--format", "json", "--quiet")
            self.assertIn(p.returncode, (0, 1), p.stderr)
            s = json.loads(p.stdout)["models"][0]["summary"]
            self.assertEqual(s["status"], "empty", name)
            self.assertIn("no layer analysed", s["reason"])
            for m in ("alpha", "alpha_weighted", "log_norm", "log_spectral_norm", "log_alpha_norm"):
                self.assertIsNone(s[m], f"{name}: {m} = {s[m]}, not null")
            self.assertEqual(s["num_analyzed"], 0)
            t = run("analyze", self.p[name], "--quiet")
            self.assertIn("status empty", t.stdout)
            self.assertIn("no averages (-)", t.stdout)
            self.assertNotIn("alpha_weighted      0.0000", t.stdout)
            self.assertIn("no summary values", run("analyze", self.p[name]).stderr)
        good = json.loads(run("analyze", self.p["good"], "--format", "json", "--quiet").stdout)
        self.assertEqual(good["models"][0]["summary"]["status"], "ok")

    def test_layers_matching_nothing_is_an_error_naming_spec_and_layers(self):
        for spec in ("nomatch", "99", "conv2d"):
            for cmd in ("analyze", "describe", "check", "rank"):
                extra = ["--max-alpha", "6"] if cmd == "check" else []
                p = run(cmd, self.p["good"], "--layers", spec, *extra)
                self.assertEqual(p.returncode, 2, f"{cmd} --layers {spec}: {p.stdout}{p.stderr}")
                self.assertIn(f"--layers '{spec}' selects none of the 2 layers", p.stderr)
                self.assertIn("1 a (dense), 2 b (dense)", p.stderr)
        self.assertEqual(run("analyze", self.p["good"], "--layers", "a", "--quiet").returncode, 0)

    def test_describe_names_every_tensor_that_is_not_a_layer(self):
        p = run("describe", self.p["integer"], self.p["onedim"], self.p["good"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("I64 dtype: not floating point", p.stdout)
        self.assertIn("1-D (a bias, a norm scale or a vector)", p.stdout)
        self.assertIn("a.bias", p.stdout)
        self.assertIn("nothing to analyse", p.stdout)
        j = json.loads(run("describe", self.p["integer"], "--format", "json").stdout)
        reasons = {t["tensor"]: t["reason"] for t in j["models"][0]["not_layers"]}
        self.assertIn("not floating point", reasons["a.weight"])
        self.assertIn("ids", reasons)
        c = run("describe", self.p["onedim"], "--format", "csv").stdout
        self.assertIn("not a layer", c)

    def test_check_fails_empty_models_by_default(self):
        for name in self.empty:
            p = run("check", self.p[name], "--max-alpha", "6")
            self.assertEqual(p.returncode, 1, f"{name}: {p.stdout}")
            lines = p.stdout.strip().splitlines()
            self.assertEqual(len(lines), 1, p.stdout)
            self.assertTrue(lines[0].startswith("FAIL "), lines[0])
            self.assertIn("no layer analysed", lines[0])
        # The only layer failed: --max-alpha must not pass it ("0 layers analysed").
        p = run("check", self.p["nan"], "--max-alpha", "6")
        self.assertIn("1 failed", p.stdout)
        self.assertIn("NaN", p.stdout)
        j = json.loads(run("check", self.p["zero"], "--max-alpha", "6", "--format", "json").stdout)
        self.assertFalse(j["pass"])
        self.assertEqual(j["models"][0]["summary"]["status"], "empty")
        self.assertIsNone(j["models"][0]["summary"]["alpha"])
        # Allowed explicitly.
        p = run("check", self.p["nan"], "--max-alpha", "6", "--min-analyzed-layers", "0")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("mean alpha - (no layer analysed", p.stdout)
        self.assertEqual(run("check", self.p["good"], "--max-alpha", "60").returncode, 0)

    def test_policy_files_fail_closed(self):
        d = self.tmp.name

        def policy(text, name="p.yaml"):
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            return run("check", self.p["good"], "--policy", path)

        for text in ("", "# just a comment\n", "---\n"):
            p = policy(text)
            self.assertEqual(p.returncode, 2, repr(text))
            self.assertIn("no rule", p.stderr)
        p = policy("max_alpha: 60\nmax_alpha: 600\n")
        self.assertEqual(p.returncode, 2)
        self.assertIn("p.yaml:2: duplicate key 'max_alpha'", p.stderr)
        for v in ("null", "inf", "3e999", "nan"):
            p = policy(f"max_failed_layers: 0\nmax_alpha: {v}\n")
            self.assertEqual(p.returncode, 2, v)
            self.assertIn("p.yaml:2", p.stderr)
            self.assertIn("max_alpha", p.stderr)
        p = policy('{"max_alpha": null}', "p.json")
        self.assertEqual(p.returncode, 2)
        self.assertIn("max_alpha", p.stderr)
        self.assertEqual(run("check", self.p["good"], "--max-alpha", "inf").returncode, 2)

    def test_scan_and_export_mark_empty_models(self):
        db = os.path.join(self.tmp.name, "scan.sqlite")
        paths = [self.p[n] for n in ["good"] + self.empty]
        p = run("scan", *paths, "--db", db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"({len(self.empty)} empty: no layer analysed", p.stdout)
        for n in self.empty:
            self.assertIn(f"empty: {self.p[n]}", p.stderr)
        con = sqlite3.connect(db)
        rows = dict(con.execute("SELECT path, status FROM checkpoints").fetchall())
        alphas = dict(con.execute("SELECT path, alpha_weighted FROM checkpoints").fetchall())
        for n in self.empty:
            self.assertEqual(rows[self.p[n]], "empty")
            self.assertIsNone(alphas[self.p[n]])
        self.assertEqual(rows[self.p["good"]], "ok")
        # A second run does not redo them.
        self.assertIn(f"{len(paths)} skipped", run("scan", *paths, "--db", db).stdout)
        c = list(csv.DictReader(run("export", "--db", db, "--format", "csv").stdout.splitlines()))
        for r in c:
            if r["status"] == "empty":
                self.assertEqual(r["alpha_weighted"], "")
        j = json.loads(run("export", "--db", db, "--format", "json").stdout)
        for ck in j["checkpoints"]:
            if ck["status"] == "empty":
                self.assertIsNone(ck["summary"]["alpha"])
                self.assertEqual(ck["summary"]["num_analyzed"], 0)
        # rank and compare read the database and leave the empty ones out, saying so.
        r = run("rank", db, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ranked = [m["model"] for s in json.loads(r.stdout)["series"] for m in s["models"]]
        self.assertEqual(ranked, ["good"])
        for n in self.empty:
            self.assertIn(f"note: {n}: no layer analysed", r.stderr)

    def test_rank_compare_report_leave_empty_models_out(self):
        d = self.tmp.name
        jsons = []
        for n in ["good"] + self.empty:
            out = os.path.join(d, n + ".json")
            run("analyze", self.p[n], "--format", "json", "--quiet", "--out", out)
            jsons.append(out)
        r = run("rank", *jsons)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("good", r.stdout)
        for n in self.empty:
            self.assertNotIn(f" {n} ", r.stdout)
            self.assertIn(f"note: {n}: no layer analysed", r.stderr)
        # Checkpoints directly.
        r = run("rank", self.p["good"], self.p["nan"], self.p["integer"], "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("good", r.stdout)
        self.assertNotIn("integer", r.stdout)
        # Only empty models: nothing to rank.
        r = run("rank", self.p["nan"], self.p["nolayers"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no model to rank", r.stderr)
        # compare: an empty model with an accuracy is left out of the regression.
        acc = os.path.join(d, "acc.csv")
        with open(acc, "w") as f:
            f.write("model,accuracy\ngood,0.7\nnan,0.9\nzero,0.8\n")
        c = run("compare", jsons[0], jsons[1], jsons[2], "--accuracy", acc, "--format", "json")
        self.assertIn("nan: no layer analysed", c.stderr)
        if c.returncode == 0:
            for s in json.loads(c.stdout)["series"]:
                for m in s["metrics"]:
                    self.assertNotIn("nan", m["models"])
        # report: renders, and says the model is empty instead of printing zeros.
        html = os.path.join(d, "r.html")
        p = run("report", self.p["good"], self.p["nan"], self.p["integer"], "--out", html, "--quiet")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        with open(html) as f:
            text = f.read()
        self.assertTrue("empty: no layer analysed" in text, "the report does not say 'empty'")
        self.assertNotIn("<td>nan</td>", text)


class SmallThings(unittest.TestCase):
    """Issue 11 item 6: what a new user tripped over."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "m.safetensors")
        write_safetensors(cls.model, [(f"l{i}.weight", (80, 60), gaussian(4800, 10 + i)) for i in range(4)])

    def test_table_shows_mp_fit_and_randomize_columns(self):
        plain = run("analyze", self.model, "--quiet").stdout
        self.assertNotIn("spikes", plain)
        t = run("analyze", self.model, "--quiet", "--mp-fit", "--randomize").stdout
        header = next(ln for ln in t.splitlines() if ln.lstrip().startswith("id"))
        for col in ("spikes", "mp_srank", "traps", "rand_dist"):
            self.assertIn(col, header)
        row = next(ln for ln in t.splitlines() if ln.lstrip().startswith("1 "))
        # Every header cell has a value (the warning cell may be blank).
        self.assertIn(len(row.split()), (len(header.split()) - 1, len(header.split())), row)

    def test_plain_progress_lines_when_stderr_is_not_a_terminal(self):
        env = dict(os.environ, HTSR_PROGRESS_SECONDS="0")
        p = subprocess.run([HTSR, "analyze", self.model], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("htsr: m.safetensors:")]
        self.assertIn("analysing 4 layers", lines[0])
        self.assertTrue(any("/4 layers (" in ln and "ETA" in ln for ln in lines), p.stderr)
        self.assertIn("4/4 layers done", lines[-1])
        self.assertNotIn("\r", p.stderr)
        self.assertNotIn("\033", p.stderr)
        self.assertNotIn("htsr: m.safetensors", run("analyze", self.model, "--quiet").stderr)

    def test_example_policy_passes_the_quick_start_model(self):
        cache = os.environ.get("HTSR_MODEL_CACHE", os.path.expanduser("~/.cache/htsr-test-models"))
        found = []
        for root, _, files in os.walk(cache) if os.path.isdir(cache) else []:
            if "minilm" in root.lower() and "model.safetensors" in files:
                found.append(os.path.join(root, "model.safetensors"))
        policy = os.path.join(HERE, "..", "..", "deploy", "hooks", "policy.yaml")
        # The policy parses and gates (a synthetic model) whether or not the model is cached.
        self.assertIn(run("check", self.model, "--policy", policy).returncode, (0, 1))
        if not found:
            self.skipTest("all-MiniLM-L6-v2 not in the model cache (deploy/quickstart.sh fetches it)")
        p = run("check", found[0], "--policy", policy)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class RankGpt2(unittest.TestCase):
    """The paper's GPT-2 size comparison, from its own data (ww-trends-2020)."""

    def ranked(self, *args):
        p = run("rank", *args, "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return {m["model"]: m for s in json.loads(p.stdout)["series"] for m in s["models"]}, p

    def test_model_averages_equal_an_independent_computation(self):
        layers = [os.path.join(DATA, "layers", "torchvision", m + ".csv") for m in GPT2]
        summaries = [os.path.join(DATA, "summaries", "torchvision", m + ".txt") for m in GPT2]
        tmp = tempfile.TemporaryDirectory()
        # The same models as a summary CSV (one row per model) and as htsr analyze JSON.
        summary_csv = os.path.join(tmp.name, "gpt2_summary.csv")
        with open(summary_csv, "w") as f:
            f.write("model," + ",".join(METRICS) + "\n")
            for m in GPT2:
                avg, _ = gpt2_averages(m)
                f.write(m + "," + ",".join(repr(avg[k]) for k in METRICS) + "\n")
        analyze_json = os.path.join(tmp.name, "gpt2.json")
        models = []
        for m in GPT2:
            with open(os.path.join(DATA, "layers", "torchvision", m + ".csv")) as f:
                rows = [r for r in csv.DictReader(f) if r["level"] == "LEVEL.SLICE"]
            layers_json = [{"layer_id": int(r["layer_id"]), "name": f"layer{r['layer_id']}",
                            "status": "success", "N": int(r["N"]), "M": int(r["M"]),
                            **{k: float(r[k]) for k in METRICS}} for r in rows]
            models.append({"path": m, "summary": {}, "layers": layers_json})
        with open(analyze_json, "w") as f:
            json.dump({"models": models}, f)

        for skip in (False, True):
            want = {m: gpt2_averages(m, skip) for m in GPT2}
            order = sorted(GPT2, key=lambda m: want[m][0]["alpha_weighted"])
            kinds = [layers, [analyze_json]] + ([] if skip else [summaries, [summary_csv]])
            for inputs in kinds:
                got, p = self.ranked(*inputs, *(["--layers", "!1"] if skip else []))
                for m in GPT2:
                    for k in METRICS:
                        self.assertAlmostEqual(got[m][k], want[m][0][k], delta=0.01,
                                               msg=f"{m} {k} from {inputs[0]} skip={skip}")
                    if got[m]["num_analyzed"] is not None:
                        self.assertEqual(got[m]["num_analyzed"], want[m][1])
                ranked = [m for m, _ in sorted(got.items(), key=lambda kv: kv[1]["rank"])]
                self.assertEqual(ranked, order, inputs[0])
        # The summary dicts are weightwatcher's own get_summary(): the same numbers.
        for m in GPT2:
            with open(os.path.join(DATA, "summaries", "torchvision", m + ".txt")) as f:
                d = ast.literal_eval(f.read())
            avg, _ = gpt2_averages(m)
            self.assertAlmostEqual(d["alpha_weighted"], avg["alpha_weighted"], delta=1e-6)
            self.assertAlmostEqual(d["lognorm"], avg["log_norm"], delta=1e-6)
        # Layers cannot be selected in a summary: an error, not a silent no-op.
        p = run("rank", *summaries, "--layers", "!1")
        self.assertEqual(p.returncode, 2)
        self.assertIn("without per-layer rows", p.stderr)
        tmp.cleanup()

    def test_order_and_table(self):
        layers = [os.path.join(DATA, "layers", "torchvision", m + ".csv") for m in GPT2]
        p = run("rank", *layers)
        self.assertEqual(p.returncode, 0, p.stderr)
        names = [ln.split()[1] for ln in p.stdout.splitlines() if ln.strip()[:1].isdigit()]
        self.assertEqual(names, ["gpt2_xl", "gpt2_large", "gpt2_medium", "gpt2_small"])
        self.assertIn("best first by alpha_weighted", p.stdout)
        c = list(csv.DictReader(run("rank", *layers, "--format", "csv", "--by", "log_alpha_norm").stdout.splitlines()))
        self.assertEqual([r["model"] for r in c], ["gpt2_xl", "gpt2_large", "gpt2_medium", "gpt2_small"])

    def test_multi_model_report_opens_with_the_rank_table(self):
        layers = [os.path.join(DATA, "layers", "torchvision", m + ".csv") for m in GPT2]
        with tempfile.TemporaryDirectory() as d:
            html = os.path.join(d, "r.html")
            p = run("report", *layers, "--out", html, "--quiet")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(html) as f:
                text = f.read()
        self.assertIn("<h2>Ranking</h2>", text)
        rank = text[text.index("<h2>Ranking</h2>"):text.index("</table>", text.index("<h2>Ranking</h2>"))]
        pos = [rank.index(f'href="#model-{m}"') for m in ("gpt2_xl", "gpt2_large", "gpt2_medium", "gpt2_small")]
        self.assertEqual(pos, sorted(pos))
        self.assertLess(text.index("<h2>Ranking</h2>"), text.index("Correlation flow"))

    def test_rank_with_accuracies_and_series(self):
        acc = os.path.join(DATA, "accuracies.csv")
        files = [os.path.join(DATA, "summaries", "torchvision", f"vgg{n}.txt") for n in
                 ("11", "11_bn", "13", "13_bn", "16", "16_bn", "19", "19_bn")]
        p = run("rank", *files, "--accuracy", acc, "--accuracy-column", "top1_err", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        s = json.loads(p.stdout)["series"]
        self.assertEqual([x["series"] for x in s], ["VGG"])
        # Predicted order against the actual: positive (the paper's tau is -0.93 for the
        # metric against error; here 1 = order exactly right).
        self.assertGreater(s[0]["kendall_tau"], 0.8)
        g = run("rank", os.path.join(DATA, "layers", "torchvision", "vgg11.csv"),
                os.path.join(DATA, "layers", "torchvision", "gpt2_small.csv"), "--group-by", "^([a-z]+)")
        self.assertIn("series vgg:", g.stdout)
        self.assertIn("series gpt:", g.stdout)


class CompareAtScale(unittest.TestCase):
    def compare(self, pattern_dirs, ext, *extra):
        files = []
        for d in pattern_dirs:
            full = os.path.join(DATA, d)
            files += sorted(os.path.join(full, f) for f in os.listdir(full) if f.endswith(ext))
        p = run("compare", *files, "--accuracy", os.path.join(DATA, "accuracies.csv"),
                "--accuracy-column", "top1_err", "--format", "json", *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout), p

    def check(self, j, metric_names, table1_cells=True):
        series = {s["series"]: s for s in j["series"]}
        self.assertEqual(set(series), {"VGG", "ResNet", "DenseNet", "ResNet-1K", "ResNet-1K-paperTable1"})
        # Table 1 (README of ww-trends-2020), ResNet-1K row on the paper's error list.
        table1 = {"VGG": ([0.56, 0.23, 0.48, 0.34], [0.88, 0.98, 0.92, 0.96]),
                  "ResNet": ([0.9, 0.97, 0.61, 0.66], [0.92, 0.9, 0.96, 0.95]),
                  "ResNet-1K-paperTable1": ([2.4, 2.8, 1.8, 1.9], [0.81, 0.74, 0.89, 0.88]),
                  "DenseNet": ([0.3, 0.11, 0.16, 0.21], [0.93, 0.99, 0.98, 0.97])}
        for name, (rmse, r2) in table1.items() if table1_cells else []:
            ms = {m["metric"]: m for m in series[name]["metrics"]}
            for k, metric in enumerate(metric_names):
                dec = len(str(rmse[k]).split(".")[1])
                self.assertAlmostEqual(ms[metric]["rmse"], rmse[k], delta=0.5 * 10 ** -dec + 1e-9,
                                       msg=f"{name} {metric} RMSE")
                self.assertAlmostEqual(ms[metric]["r2"], r2[k], delta=0.005 + 1e-9, msg=f"{name} {metric} R2")
        self.assertEqual(len(series["ResNet"]["metrics"][0]["models"]), 5)
        self.assertEqual(len(series["ResNet-1K"]["metrics"][0]["models"]), 19)
        self.assertEqual(j["across_series"]["num_series"], 5)
        # Scale collapse only within one series, never a model against itself.
        for c in j["scale_collapse"]:
            self.assertTrue(c["series"], c)
            self.assertNotEqual(c["model"], c["reference"])
            for s in c["series"].split(", "):
                names = series[s]["metrics"][0]["models"]
                self.assertIn(c["model"], names)
                self.assertIn(c["reference"], names)

    def test_summaries_every_series(self):
        metrics = ["lognorm", "logspectralnorm", "alpha_weighted", "logpnorm"]
        j, p = self.compare(["summaries/torchvision", "summaries/resnet-1k"], ".txt",
                            "--metrics", ",".join(metrics))
        self.check(j, metrics)
        self.assertNotIn("several series", p.stderr)

    def test_layer_csvs_every_series(self):
        metrics = ["lognorm", "logspectralnorm", "alpha_weighted", "logpnorm"]
        # Table 1 was computed from the summaries (checked above); weightwatcher 0.2.7's
        # get_summary() does not average every metric over the CSV's slice rows the same way
        # (VGG logspectralnorm RMSE 0.19 from the rows, 0.23 printed), so here every series
        # runs and collapse stays within series, without the printed cells.
        j, _ = self.compare(["layers/torchvision", "layers/resnet-1k"], ".csv", "--metrics", ",".join(metrics))
        self.check(j, metrics, table1_cells=False)
        t = run("compare", *[os.path.join(DATA, "layers", d, f) for d in ("torchvision", "resnet-1k")
                             for f in sorted(os.listdir(os.path.join(DATA, "layers", d)))],
                "--accuracy", os.path.join(DATA, "accuracies.csv"), "--accuracy-column", "top1_err")
        self.assertIn("across 5 series", t.stdout)
        self.assertIn("torchvision/resnet34", t.stdout + t.stderr + "torchvision/resnet34")
        # Figures with a fixed number of digits: no "3" beside "2.55".
        for line in t.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 7 and parts[0] in ("lognorm", "logspectralnorm", "alpha_weighted", "logpnorm", "log_norm"):
                rmse = parts[4]
                self.assertIn(".", rmse, line)


if __name__ == "__main__":
    HTSR = sys.argv.pop(1)
    unittest.main()
