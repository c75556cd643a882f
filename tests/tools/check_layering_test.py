#!/usr/bin/env python3
"""check_layering.py passes on this repository and fails on a copy with a back-edge."""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
CHECK = REPO / "tests" / "tools" / "check_layering.py"


def run(root):
    return subprocess.run([sys.executable, str(CHECK), str(root)], capture_output=True, text=True)


class LayeringTest(unittest.TestCase):
    def copy(self, tmp):
        root = pathlib.Path(tmp)
        for top in ("client", "kernels", "server", "proto"):
            shutil.copytree(REPO / top, root / top,
                            ignore=shutil.ignore_patterns("python", "*.py", "*.txt"))
        return root

    def test_repository_is_layered(self):
        r = run(REPO)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_back_edges_fail(self):
        cases = [
            ("client/readers/npy_reader.cc", '#include "analysis/layer_filter.h"', "readers/"),
            ("client/analysis/model_analysis.cc", '#include "cli/progress_bar.h"', "analysis/"),
            ("client/scan/scan_runner.cc", '#include "results/csv_table.h"', "scan/"),
            ("client/output/table_writer.cc", '#include "trends/trend_analysis.h"', "output/"),
            ("kernels/engine/engine.cc", '#include "model/model_report.h"', "kernels/"),
        ]
        for path, line, where in cases:
            with self.subTest(path=path), tempfile.TemporaryDirectory() as tmp:
                root = self.copy(tmp)
                f = root / path
                f.write_text(line + "\n" + f.read_text())
                r = run(root)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(where, r.stdout)
                self.assertIn(path.split("/", 1)[1] if path.startswith("client/") else path,
                              r.stdout)

    def test_unknown_folder_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = self.copy(tmp)
            (root / "client" / "newthing").mkdir()
            r = run(root)
            self.assertEqual(r.returncode, 1)
            self.assertIn("client/newthing/", r.stdout)


if __name__ == "__main__":
    unittest.main()
