#!/usr/bin/python3
"""End-to-end test of tools/plot_sweep on a real sweep of the `repro` binary.

    /usr/bin/python3 tests/e2e/plot_sweep_test.py REPRO_BINARY SOURCE_DIR
"""

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


class PlotSweepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plot-sweep-test-")
        # A private cache for the generated protobuf modules: the test leaves $HOME alone.
        cls.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"))
        cls.tool = os.path.join(SOURCE_DIR, "tools", "plot_sweep")
        config = os.path.join(SOURCE_DIR, "models", "configs", "mlp_synthetic.textproto")
        cls.report = os.path.join(cls.tmp, "sweep")
        cls.envelope = os.path.join(cls.tmp, "envelope.json")
        r = run([REPRO, "sweep", "--config", config, "--seeds", "3", "-j", "2", "--set", "train.steps=12",
                 "--report", cls.report, "--save-envelope", cls.envelope], env=cls.env)
        if r.returncode != 0:
            raise AssertionError("repro sweep failed (%d): %s" % (r.returncode, r.stderr))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def plot(self, *args):
        # The tool's shebang is /usr/bin/python3; run it as a program, as a user would.
        return run([self.tool] + list(args), env=self.env)

    def test_writes_png_and_svg(self):
        prefix = os.path.join(self.tmp, "out", "bands")
        r = self.plot(self.report, "--envelope", self.envelope, "--out", prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(lines, ["1 setting(s) x 3 seeds, 12 steps", prefix + ".png", prefix + ".svg"])
        with open(prefix + ".png", "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(PNG_SIGNATURE))
        self.assertGreater(len(data), 10000)
        root = ET.parse(prefix + ".svg").getroot()
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        with open(prefix + ".svg", encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("min–max over 3 seeds", svg)
        self.assertIn("envelope (k=4, floor=0.05)", svg)

    def test_report_file_as_well_as_directory(self):
        prefix = os.path.join(self.tmp, "out", "from-file")
        r = self.plot(os.path.join(self.report, "sweep.json"), "--out", prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.getsize(prefix + ".svg") > 1000)

    def test_bad_input_is_named(self):
        missing = os.path.join(self.tmp, "no-such-sweep")
        r = self.plot(missing, "--out", os.path.join(self.tmp, "out", "bad"))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(missing, r.stderr)
        # A run record is not an envelope.
        broken = os.path.join(self.tmp, "broken.json")
        with open(broken, "w") as f:
            f.write("{not json")
        r = self.plot(self.report, "--envelope", broken, "--out", os.path.join(self.tmp, "out", "bad"))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(broken, r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write("usage: plot_sweep_test.py REPRO_BINARY SOURCE_DIR\n")
        sys.exit(2)
    REPRO, SOURCE_DIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
