"""tools/plot_divergence: a divergence plot of two runs, from their directories or a compare report.

    plot_divergence RUN_A RUN_B --out PREFIX [--proto-dir DIR]
    plot_divergence --report REPORT.json --out PREFIX [--proto-dir DIR]

Writes PREFIX.png and PREFIX.svg. Prints a one-line summary ("diverged at step K" or "identical
over N steps", as the title says), then the two paths. Exit codes: 0 ok, 2 usage or bad input
(one line on stderr naming the path), 3 anything unexpected.
"""

import math
import os
import sys

from . import runs, tool
from .runs import InputError

PROG = "plot_divergence"


class Series:
    """One series of both runs over their common steps: values, |difference|, first divergence."""

    def __init__(self, name):
        self.name = name
        self.a, self.b, self.abs_diff = [], [], []
        self.first_divergent_step = None


class Comparison:
    """Every series two runs both recorded, over their common steps, and where they first differ."""

    def __init__(self, run_a, run_b):
        self.run_a = run_a
        self.run_b = run_b
        a, b = run_a.by_step(), run_b.by_step()
        self.steps = sorted(set(a) & set(b))
        index_b = dict(run_b.series())
        pairs = [(name, ia, index_b[name]) for name, ia in run_a.series() if name in index_b]
        if not pairs:
            pairs = [("loss", None, None)]  # no series in common: the primary ones, the losses
        self.series = [Series(name) for name, _, _ in pairs]
        self.first_divergent_step = None
        self.first_divergent_series = None
        self.first_param_digest_divergent_step = None
        for step in self.steps:
            for s, (_, ia, ib) in zip(self.series, pairs):
                va, kind_a, bits_a = runs.value_of(a[step], ia)
                vb, kind_b, bits_b = runs.value_of(b[step], ib)
                s.a.append(float("nan") if va is None else va)
                s.b.append(float("nan") if vb is None else vb)
                s.abs_diff.append(abs(va - vb) if va is not None and vb is not None else float("nan"))
                if (kind_a, bits_a) != (kind_b, bits_b):
                    if s.first_divergent_step is None:
                        s.first_divergent_step = step
                    if self.first_divergent_step is None:
                        self.first_divergent_step = step
                        self.first_divergent_series = s.name
            da, db = a[step].param_digest, b[step].param_digest
            if self.first_param_digest_divergent_step is None and da and db and da != db:
                self.first_param_digest_divergent_step = step
        # The primary series, as the one-series plot shows it.
        self.loss_a, self.loss_b, self.abs_diff = self.series[0].a, self.series[0].b, self.series[0].abs_diff

    def named(self):
        """Whether the plot names its series (more than one, or one not called "loss")."""
        return len(self.series) > 1 or self.series[0].name != "loss"

    def summary(self):
        if not self.steps:
            return "incomparable: no common steps"
        if self.first_divergent_step is not None:
            where = " (%s)" % self.first_divergent_series if self.named() else ""
            return "diverged at step %d%s" % (self.first_divergent_step, where)
        return "identical over %d steps" % len(self.steps)


class ReportView:
    """What a ComparisonReport says, in the terms the plot uses."""

    VERDICTS = {"IDENTICAL": "identical", "WITHIN_TOLERANCE": "within tolerance",
                "DIVERGED": "diverged", "INCOMPARABLE": "incomparable"}

    def __init__(self, report, report_pb2):
        self.report = report
        self.verdict = report_pb2.Verdict.Name(report.verdict)
        self.first_divergent_step = (report.first_divergent_step
                                     if report.HasField("first_divergent_step") else None)
        self.first_param_digest_divergent_step = (
            report.first_param_digest_divergent_step
            if report.HasField("first_param_digest_divergent_step") else None)

    def summary(self, comparison):
        n = self.report.steps_compared or len(comparison.steps)
        k = self.first_divergent_step
        if self.verdict == "IDENTICAL":
            return "identical over %d steps" % n
        if self.verdict == "DIVERGED" and k is not None:
            name = self.report.first_divergent_series
            return "diverged at step %d%s" % (k, " (%s)" % name if name and name != "loss" else "")
        if self.verdict == "WITHIN_TOLERANCE":
            where = "" if k is None else " (loss bits first differ at step %d)" % k
            return "within tolerance over %d steps%s" % (n, where)
        text = self.VERDICTS.get(self.verdict, self.verdict.lower())
        if k is not None:
            text += " (loss bits first differ at step %d)" % k
        return text


def read_report(path, report_pb2):
    report = tool.read_json_message(path, report_pb2.ComparisonReport(), "ComparisonReport")
    if not report.run_a or not report.run_b:
        raise InputError("%s: report names no run_a/run_b directories" % path)
    return report


def resolve_run_dir(directory, report_path):
    """A relative directory in a report is taken from the current directory, else beside the report."""
    if os.path.isabs(directory) or os.path.exists(directory):
        return directory
    beside = os.path.join(os.path.dirname(os.path.abspath(report_path)), directory)
    return beside if os.path.exists(beside) else directory


def _fmt_step(step):
    return "step %d" % step


def draw(comparison, summary, first_div, first_digest_div, png_path, svg_path, source_note):
    plt = tool.pyplot()

    steps = comparison.steps
    label_a, label_b = comparison.run_a.label, comparison.run_b.label
    if label_a == label_b:
        label_a, label_b = "A: " + label_a, "B: " + label_b

    # One panel per series (a GAN's d_loss and g_loss), then |A - B| of every series.
    series = comparison.series
    n = len(series)
    fig, axes = plt.subplots(n + 1, 1, sharex=True, figsize=(9, 6.4 + 2.4 * (n - 1)), dpi=100,
                             gridspec_kw={"height_ratios": [3] * n + [2], "hspace": 0.08})
    panels, bottom = axes[:n], axes[n]
    colors = ["tab:red", "tab:green", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
    for ax, s in zip(panels, series):
        ax.plot(steps, s.a, color="tab:blue", lw=1.4, label=label_a)
        ax.plot(steps, s.b, color="tab:orange", lw=1.2, ls="--", label=label_b)
        name = s.name if comparison.named() else "loss"
        finite = [v for v in s.a + s.b if math.isfinite(v)]
        if finite and min(finite) > 0 and max(finite) / min(finite) > 100:
            # Losses spanning decades (a run that converges) read better on a log scale.
            ax.set_yscale("log")
            ax.set_ylabel("%s (log scale)" % name)
        else:
            ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)

    all_positive = [d for s in series for d in s.abs_diff if d > 0 and math.isfinite(d)]
    floor = 10.0 ** math.floor(math.log10(min(all_positive)) - 1) if all_positive else 1e-12
    any_drawn = False
    for i, s in enumerate(series):
        zero_steps = [st for st, d in zip(steps, s.abs_diff) if d == 0]
        nz_steps = [st for st, d in zip(steps, s.abs_diff) if d > 0 and math.isfinite(d)]
        nz_vals = [d for d in s.abs_diff if d > 0 and math.isfinite(d)]
        label = "|%s A − %s B|" % ((s.name,) * 2) if comparison.named() else "|loss A − loss B|"
        if nz_steps:
            bottom.plot(nz_steps, nz_vals, color=colors[i % len(colors)], lw=1.0, marker=".", ms=3, label=label)
        if zero_steps and i == 0:
            # Zeros have no place on a log scale: they are drawn at a floor below every nonzero value.
            bottom.plot(zero_steps, [floor] * len(zero_steps), ls="none", marker="|", ms=8, mew=1.5,
                        color="0.45", label="Δ = 0 (bitwise equal), drawn at the floor %.0e" % floor)
        any_drawn = any_drawn or bool(nz_steps or zero_steps)
    bottom.set_yscale("log")
    bottom.set_ylabel("|Δ|" if comparison.named() else "|Δ loss|")
    bottom.set_xlabel("step")
    bottom.grid(True, which="major", alpha=0.3)

    top = panels[0]
    for ax in list(panels) + [bottom]:
        if first_div is not None:
            ax.axvline(first_div, color="tab:red", ls="--", lw=1.1,
                       label="first loss divergence (%s)" % _fmt_step(first_div) if ax is top else None)
        if first_digest_div is not None:
            ax.axvline(first_digest_div, color="tab:purple", ls=":", lw=1.4,
                       label=("first parameter-digest divergence (%s)" % _fmt_step(first_digest_div)
                              if ax is top else None))
    for ax in panels:
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    if any_drawn:
        bottom.legend(loc="best", fontsize=8, framealpha=0.9)

    fig.suptitle(summary, fontsize=13, y=0.975)
    top.set_title("%s  vs  %s%s" % (comparison.run_a.label, comparison.run_b.label, source_note),
                  fontsize=8.5, color="0.3")
    fig.subplots_adjust(left=0.09, right=0.98, top=1 - 0.11 / (1 + 0.4 * (n - 1)), bottom=0.08)
    tool.save(plt, fig, png_path, svg_path)


def parse_args(argv):
    p = tool.Parser(PROG, "Plot where two reprotorch runs diverge.")
    p.add_argument("runs", nargs="*", metavar="RUN_DIR", help="two run directories, A then B")
    p.add_argument("--report", metavar="REPORT_JSON",
                   help="a `repro compare --json` report; plots its run_a and run_b")
    args = p.parse_args(argv)
    if args.report and args.runs:
        p.error("give either two run directories or --report, not both")
    if not args.report and len(args.runs) != 2:
        p.error("expected two run directories (or --report REPORT_JSON)")
    return args


def run(argv):
    args = parse_args(argv)
    modules = tool.schema(PROG, args.proto_dir, ("run_record", "report"))
    if modules is None:
        return 3
    run_record_pb2, report_pb2 = modules

    view = None
    if args.report:
        report = read_report(args.report, report_pb2)
        view = ReportView(report, report_pb2)
        dir_a = resolve_run_dir(report.run_a, args.report)
        dir_b = resolve_run_dir(report.run_b, args.report)
    else:
        dir_a, dir_b = args.runs
    comparison = Comparison(runs.read_run(dir_a, run_record_pb2), runs.read_run(dir_b, run_record_pb2))

    if view is not None:
        summary = view.summary(comparison)
        first_div = view.first_divergent_step
        first_digest_div = view.first_param_digest_divergent_step
        source_note = "   (steps marked from %s)" % os.path.basename(args.report)
        if first_div != comparison.first_divergent_step:
            sys.stderr.write("%s: note: the report's first divergent step (%s) differs from the "
                             "records' (%s)\n" % (PROG, first_div, comparison.first_divergent_step))
    else:
        summary = comparison.summary()
        first_div = comparison.first_divergent_step
        first_digest_div = comparison.first_param_digest_divergent_step
        source_note = ""
    for r in (comparison.run_a, comparison.run_b):
        if r.steps_torn:
            source_note += "   [%s: steps.bin ends in a torn frame, dropped]" % r.label

    png_path, svg_path = tool.write_figures(
        args.out, lambda png, svg: draw(comparison, summary, first_div, first_digest_div, png, svg, source_note))

    line = summary
    if first_digest_div is not None:
        line += "; parameter digests first differ at step %d" % first_digest_div
    print(line)
    print(png_path)
    print(svg_path)
    return 0


def main(argv=None):
    return tool.main(PROG, run, argv)
