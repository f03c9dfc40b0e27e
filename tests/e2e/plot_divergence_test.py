#!/usr/bin/python3
"""End-to-end test of tools/plot_divergence on two real runs of the `repro` binary.

    /usr/bin/python3 tests/e2e/plot_divergence_test.py REPRO_BINARY SOURCE_DIR
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

REPRO = None
SOURCE_DIR = None
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


class PlotDivergenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plot-divergence-test-")
        # A private cache for the generated protobuf modules: the test leaves $HOME alone.
        cls.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"))
        cls.tool = os.path.join(SOURCE_DIR, "tools", "plot_divergence")
        config = os.path.join(SOURCE_DIR, "models", "configs", "mlp_synthetic.textproto")
        runs_dir = os.path.join(cls.tmp, "runs")
        cls.run_dirs = []
        for extra in ([], ["--set", "optimizer.lr=0.05"]):
            r = run([REPRO, "run", "--config", config, "--runs-dir", runs_dir,
                     "--set", "train.steps=40"] + extra, env=cls.env)
            if r.returncode != 0:
                raise AssertionError("repro run failed (%d): %s" % (r.returncode, r.stderr))
            run_dir = r.stdout.strip().splitlines()[-1]
            if not os.path.isdir(run_dir):
                raise AssertionError("repro run printed %r, not a directory" % run_dir)
            cls.run_dirs.append(run_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def plot(self, *args):
        # The tool's shebang is /usr/bin/python3; run it as a program, as a user would.
        return run([self.tool] + list(args), env=self.env)

    def test_writes_png_and_svg(self):
        prefix = os.path.join(self.tmp, "out", "divergence")
        r = self.plot(self.run_dirs[0], self.run_dirs[1], "--out", prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        lines = r.stdout.strip().splitlines()
        # The tool's own first divergent step, from the loss bits: step 0's loss is computed
        # before the first update, so a different lr shows first at step 1.
        self.assertTrue(lines[0].startswith("diverged at step 1"), r.stdout)
        png, svg = prefix + ".png", prefix + ".svg"
        self.assertEqual(lines[1:], [png, svg])

        with open(png, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(PNG_SIGNATURE))
        self.assertGreater(len(data), 10000)

        root = ET.parse(svg).getroot()
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        with open(svg, encoding="utf-8") as f:
            self.assertIn("diverged at step 1", f.read())

    def test_identical_runs(self):
        prefix = os.path.join(self.tmp, "out", "same")
        r = self.plot(self.run_dirs[0], self.run_dirs[0], "--out", prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0], "identical over 40 steps")

    def test_torn_last_frame_is_dropped(self):
        torn = os.path.join(self.tmp, "torn-run")
        shutil.copytree(self.run_dirs[0], torn)
        steps = os.path.join(torn, "steps.bin")
        os.truncate(steps, os.path.getsize(steps) - 3)  # a crash in the middle of the last frame
        r = self.plot(self.run_dirs[0], torn, "--out", os.path.join(self.tmp, "out", "torn"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0], "identical over 39 steps")

    def test_report_marks_its_steps(self):
        report = os.path.join(self.tmp, "report.json")
        with open(report, "w") as f:
            # As protobuf's JSON mapping writes it: int64 as strings, the enum by name.
            json.dump({"run_a": self.run_dirs[0], "run_b": self.run_dirs[1], "verdict": "DIVERGED",
                       "first_divergent_step": "1", "first_param_digest_divergent_step": "10"}, f)
        prefix = os.path.join(self.tmp, "out", "from-report")
        r = self.plot("--report", report, "--out", prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("diverged at step 1; parameter digests first differ at step 10"),
                        r.stdout)
        self.assertTrue(os.path.getsize(prefix + ".png") > 10000)

    def test_missing_directory_is_bad_input(self):
        missing = os.path.join(self.tmp, "no-such-run")
        r = self.plot(missing, self.run_dirs[1], "--out", os.path.join(self.tmp, "out", "bad"))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(missing, r.stderr)
        self.assertEqual(r.stdout, "")

    def test_corrupt_record_is_bad_input(self):
        bad = os.path.join(self.tmp, "corrupt-run")
        shutil.copytree(self.run_dirs[1], bad)
        with open(os.path.join(bad, "record.pb"), "wb") as f:
            f.write(b"\xff" * 64)
        r = self.plot(self.run_dirs[0], bad, "--out", os.path.join(self.tmp, "out", "bad"))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(os.path.join(bad, "record.pb"), r.stderr)

    def test_unreadable_report_is_bad_input(self):
        report = os.path.join(self.tmp, "broken.json")
        with open(report, "w") as f:
            f.write("{not json")
        r = self.plot("--report", report, "--out", os.path.join(self.tmp, "out", "bad"))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(report, r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write("usage: plot_divergence_test.py REPRO_BINARY SOURCE_DIR\n")
        sys.exit(2)
    REPRO, SOURCE_DIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
