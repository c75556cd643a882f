#!/usr/bin/env python3
"""htsr-server's Prometheus endpoint (--metrics-listen) and tenants (--auth-token-file with
named tokens, per-tenant call limits, SIGHUP reload), driven through the `htsr` CLI on
127.0.0.1 with ephemeral ports. Stdlib only (urllib scrapes /metrics).

    metrics_tenants_test.py HTSR_BIN HTSR_SERVER_BIN [unittest args]
"""
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from safetensors_writer import write_safetensors_raw  # noqa: E402

HTSR = SERVER = None
TMP = None
SMALL = BIG = None
SMALL_BYTES = 96 * 64 * 4


def _die_with_parent():
    import ctypes
    import resource
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    resource.setrlimit(resource.RLIMIT_CPU, (600, 600))


def setUpModule():
    global TMP, SMALL, BIG
    TMP = tempfile.TemporaryDirectory(prefix="htsr_metrics_it_")
    rng = random.Random(11)
    SMALL = os.path.join(TMP.name, "small.safetensors")
    write_safetensors_raw(SMALL, [("a.weight", "F32", (96, 64),
                                   struct.pack("<6144f", *(rng.gauss(0, 1) for _ in range(6144))))])
    # Four 1024 x 768 layers: a call that takes a while (solves on one thread).
    base = struct.pack("<786432f", *(rng.gauss(0, 0.05) for _ in range(1024 * 768)))
    BIG = os.path.join(TMP.name, "big.safetensors")
    write_safetensors_raw(BIG, [(f"l{i}.weight", "F32", (1024, 768), base) for i in range(4)])


def tearDownModule():
    TMP.cleanup()


class Server:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(dir=TMP.name)
        port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SERVER, "--listen", "127.0.0.1:0", "--port-file", port_file, "--workers", "1",
             "--engine-threads", "1", "--device", "cpu", "--metrics-listen", "127.0.0.1:0",
             *extra], stdout=self.log, stderr=self.log, preexec_fn=_die_with_parent)
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and read(port_file).strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("htsr-server did not start: " + read(self.log_path))
            time.sleep(0.05)
        self.port = int(read(port_file))
        start = json.loads(read(self.log_path).splitlines()[0])
        self.metrics_port = start["metrics_port"]

    def address(self):
        return f"127.0.0.1:{self.port}"

    def scrape(self):
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            self.content_type = r.headers["Content-Type"]
            return r.read().decode()

    def metric(self, text, name, **labels):
        """The value of one sample (0 when absent, as Prometheus reads a missing counter)."""
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        pattern = "^" + re.escape(name + ("{" + want + "}" if want else "")) + r" (\S+)$"
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else 0.0

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.scrape()
            if predicate(text):
                return text
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}:\n{self.scrape()}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def read(path):
    with open(path) as f:
        return f.read()


def token_file(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return path


def analyze(server, model, token=None, wait=True):
    args = [HTSR, "analyze", model, "--server", server.address(), "--retries", "0"]
    if token is not None:
        args += ["--token-file", token]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate(timeout=300)
    return p.returncode, err


class MetricsTest(unittest.TestCase):
    def test_counters_move_by_exactly_one_call(self):
        s = Server()
        try:
            before = s.scrape()
            self.assertEqual(s.content_type, "text/plain; version=0.0.4; charset=utf-8")
            self.assertEqual(s.metric(before, "htsr_calls_finished_total", tenant="default",
                                      code="OK"), 0)
            self.assertEqual(s.metric(before, "htsr_queue_bytes_budget"), 2 << 30)
            for n in (1, 2):
                rc, err = analyze(s, SMALL)
                self.assertEqual(rc, 0, err)
                text = s.scrape()
                self.assertEqual(s.metric(text, "htsr_calls_started_total", tenant="default"), n)
                self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="default",
                                          code="OK"), n)
                self.assertEqual(s.metric(text, "htsr_received_bytes_total", tenant="default"),
                                 n * SMALL_BYTES)
                self.assertEqual(s.metric(text, "htsr_tensors_received_total",
                                          tenant="default"), n)
                self.assertEqual(s.metric(text, "htsr_layers_analyzed_total", tenant="default"),
                                 n)
                self.assertEqual(s.metric(text, "htsr_stage_seconds_count", stage="solve"), n)
                self.assertEqual(s.metric(text, "htsr_stage_seconds_count", stage="queue_wait"),
                                 n)
                self.assertEqual(s.metric(text, "htsr_stage_seconds_bucket", stage="solve",
                                          le="+Inf"), n)
                self.assertEqual(s.metric(text, "htsr_calls_in_flight", tenant="default"), 0)
                self.assertEqual(s.metric(text, "htsr_queue_bytes_in_use"), 0)

            # During a call: in flight 1, then back to 0 with the bytes counted.
            p = analyze(s, BIG, wait=False)
            s.wait_for(lambda t: s.metric(t, "htsr_calls_in_flight", tenant="default") == 1,
                       "a call in flight")
            out, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, err)
            text = s.scrape()
            self.assertEqual(s.metric(text, "htsr_calls_in_flight", tenant="default"), 0)
            self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="default",
                                      code="OK"), 3)
            self.assertEqual(s.metric(text, "htsr_received_bytes_total", tenant="default"),
                             2 * SMALL_BYTES + 4 * 1024 * 768 * 4)
            self.assertEqual(s.metric(text, "htsr_queue_bytes_peak") > 0, True)
            self.assertEqual(s.metric(text, "htsr_errors_total", tenant="default",
                                      code="INVALID_ARGUMENT"), 0)
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(f"http://127.0.0.1:{s.metrics_port}/other", timeout=10)
            self.assertEqual(e.exception.code, 404)
        finally:
            s.close()


class TenantTest(unittest.TestCase):
    def test_flooding_tenant_does_not_take_the_other_tenants_calls(self):
        tokens = token_file(os.path.join(TMP.name, "tenants"),
                            "# name token max-calls queue-bytes\nalpha tokA 2 6M\nbeta tokB\n")
        ta = token_file(os.path.join(TMP.name, "ta"), "tokA\n")
        tb = token_file(os.path.join(TMP.name, "tb"), "tokB\n")
        # Server-wide room for 3 calls: without the tenant limit alpha's flood would take all
        # three and beta would be refused.
        s = Server("--auth-token-file", tokens, "--tenant-max-calls", "1",
                   "--max-concurrent-calls", "3", "--queue-bytes", "64M", "--max-layer-bytes",
                   "4M", "--tenant-queue-bytes", "8M")
        try:
            flood = [analyze(s, BIG, ta, wait=False) for _ in range(6)]
            held = []  # alpha's queue bytes, sampled while it floods
            s.wait_for(lambda t: held.append(s.metric(t, "htsr_tenant_queue_bytes_in_use",
                                                      tenant="alpha")) or
                       s.metric(t, "htsr_calls_in_flight", tenant="alpha") == 2,
                       "alpha at its limit")
            start = time.time()
            rc, err = analyze(s, SMALL, tb)
            beta_seconds = time.time() - start
            self.assertEqual(rc, 0, err)
            while any(p.poll() is None for p in flood):
                held.append(s.metric(s.scrape(), "htsr_tenant_queue_bytes_in_use",
                                     tenant="alpha"))
                time.sleep(0.02)
            results = [(p.returncode, e) for p in flood
                       for _, e in [p.communicate(timeout=300)]]
            refused = [e for rc, e in results if rc != 0]
            text = s.scrape()
            print(f"\nbeta's call took {beta_seconds:.2f} s while alpha flooded "
                  f"({len(refused)} of 6 of alpha's calls refused; alpha held at most "
                  f"{max(held) / 2**20:.0f} MiB of its 6 MiB share)", file=sys.stderr)
            self.assertLess(beta_seconds, 20)
            # Alpha's share: 6 MiB (two 3 MiB layers) of the 64 MiB budget, never more.
            self.assertEqual(s.metric(text, "htsr_tenant_queue_bytes_budget", tenant="alpha"),
                             6 << 20)
            self.assertEqual(s.metric(text, "htsr_tenant_queue_bytes_budget", tenant="beta"),
                             8 << 20)
            self.assertLessEqual(max(held), 6 << 20)
            self.assertEqual(s.metric(text, "htsr_tenant_queue_bytes_in_use", tenant="alpha"), 0)
            self.assertGreaterEqual(len(refused), 1)
            for e in refused:
                self.assertIn("tenant 'alpha' busy", e)
            self.assertEqual(s.metric(text, "htsr_errors_total", tenant="alpha",
                                      code="RESOURCE_EXHAUSTED"), len(refused))
            self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="alpha",
                                      code="OK"), 6 - len(refused))
            self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="beta",
                                      code="OK"), 1)
            self.assertEqual(s.metric(text, "htsr_errors_total", tenant="beta",
                                      code="RESOURCE_EXHAUSTED"), 0)
            with open(s.log_path) as f:
                calls = [json.loads(l) for l in f if '"event":"call"' in l]
            self.assertEqual({c["tenant"] for c in calls}, {"alpha", "beta"})
        finally:
            s.close()

    def test_sighup_reloads_the_token_file(self):
        path = os.path.join(TMP.name, "reload_tokens")
        token_file(path, "alpha tokA\n")
        ta = token_file(os.path.join(TMP.name, "ra"), "tokA\n")
        tc = token_file(os.path.join(TMP.name, "rc"), "tokC\n")
        s = Server("--auth-token-file", path)
        try:
            self.assertEqual(analyze(s, SMALL, ta)[0], 0)
            rc, err = analyze(s, SMALL, tc)
            self.assertNotEqual(rc, 0)
            self.assertIn("invalid bearer token", err)
            token_file(path, "gamma tokC\n")
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 30
            while '"event":"reload","ok":true' not in read(s.log_path):
                self.assertLess(time.time(), deadline, "no reload logged")
                time.sleep(0.02)
            self.assertEqual(analyze(s, SMALL, tc)[0], 0)
            rc, err = analyze(s, SMALL, ta)
            self.assertNotEqual(rc, 0)
            self.assertIn("invalid bearer token", err)
            # A broken file keeps the tenants in place.
            token_file(path, "gamma tokC 0\n")
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 30
            while '"event":"reload","ok":false' not in read(s.log_path):
                self.assertLess(time.time(), deadline, "no failed reload logged")
                time.sleep(0.02)
            self.assertEqual(analyze(s, SMALL, tc)[0], 0)
            self.assertIsNone(s.proc.poll())
            text = s.scrape()
            self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="gamma",
                                      code="OK"), 2)
            self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="alpha",
                                      code="OK"), 1)
        finally:
            s.close()

    def test_a_bare_token_file_is_the_default_tenant(self):
        path = token_file(os.path.join(TMP.name, "bare"), "  oldtoken  \n")
        s = Server("--auth-token-file", path)
        try:
            self.assertEqual(analyze(s, SMALL, path)[0], 0)
            text = s.scrape()
            self.assertEqual(s.metric(text, "htsr_calls_finished_total", tenant="default",
                                      code="OK"), 1)
        finally:
            s.close()


if __name__ == "__main__":
    HTSR = os.path.abspath(sys.argv[1])
    SERVER = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])
