"""tools/plot_sweep: per-step loss bands across the seeds of a `repro sweep`.

    plot_sweep REPORT --out PREFIX [--envelope FILE] [--proto-dir DIR]

REPORT is a sweep report directory (its sweep.json) or the JSON `repro sweep --json` prints.
Writes PREFIX.png and PREFIX.svg: for each setting the mean loss over the seeds at every step
and the min-max band, and, with --envelope, the envelope's band (the yardstick of
`repro check --envelope`). Prints a one-line summary, then the two paths. Exit codes: 0 ok, 2
usage or bad input (one line on stderr naming the path), 3 anything unexpected.
"""

import math
import os

from . import tool
from .runs import InputError

PROG = "plot_sweep"


def read_report(path, sweep_pb2):
    if os.path.isdir(path):
        path = os.path.join(path, "sweep.json")
    report = tool.read_json_message(path, sweep_pb2.SweepReport(), "sweep report")
    if report.schema_version == 0 or not report.settings:
        raise InputError("%s: not a sweep report (no schema_version or no settings)" % path)
    return report


def read_envelope(path, sweep_pb2):
    envelope = tool.read_json_message(path, sweep_pb2.Envelope(), "envelope")
    if envelope.schema_version == 0 or not envelope.steps:
        raise InputError("%s: not an envelope (no schema_version or no steps)" % path)
    return envelope


def draw(report, envelope, png_path, svg_path, title):
    plt = tool.pyplot()

    bands = [[s for s in setting.steps if s.loss.n > 0] for setting in report.settings]
    values = [v for band in bands for s in band for v in (s.loss.min, s.loss.max)]
    if envelope is not None:
        values += [b.loss.high for b in envelope.steps]
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    # Losses spanning decades (a run that converges) read better on a log scale, where an
    # envelope's lower edge below zero is left out (it bounds nothing there).
    log_scale = bool(positive) and max(positive) / min(positive) > 100

    fig, ax = plt.subplots(figsize=(9, 5.6), dpi=100)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (setting, band) in enumerate(zip(report.settings, bands)):
        if not band:
            continue
        color = colors[i % len(colors)]
        steps = [s.step for s in band]
        n = max(s.loss.n for s in band)
        ax.fill_between(steps, [s.loss.min for s in band], [s.loss.max for s in band], color=color, alpha=0.22,
                        lw=0, label="%s: min–max over %d seeds" % (setting.label, n))
        ax.plot(steps, [s.loss.mean for s in band], color=color, lw=1.4, label="%s: mean" % setting.label)
    if envelope is not None:
        steps = [b.step for b in envelope.steps]
        low = [b.loss.low if b.loss.low > 0 or not log_scale else float("nan") for b in envelope.steps]
        ax.plot(steps, low, color="0.25", ls="--", lw=1.0,
                label="envelope (k=%g, floor=%g)" % (envelope.k, envelope.floor))
        ax.plot(steps, [b.loss.high for b in envelope.steps], color="0.25", ls="--", lw=1.0)
    if log_scale:
        ax.set_yscale("log")
        ax.set_ylim(bottom=min(positive) / 2)
        ax.set_ylabel("loss (log scale)")
    else:
        ax.set_ylabel("loss")
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    ax.set_title(title, fontsize=11)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.1)
    tool.save(plt, fig, png_path, svg_path)


def run(argv):
    p = tool.Parser(PROG, "Plot per-step loss bands across the seeds of a repro sweep.")
    p.add_argument("report", metavar="REPORT", help="sweep report directory, or its sweep.json")
    p.add_argument("--envelope", metavar="FILE", help="also draw this envelope (repro sweep --save-envelope)")
    args = p.parse_args(argv)
    modules = tool.schema(PROG, args.proto_dir, ("sweep",))
    if modules is None:
        return 3
    sweep_pb2, = modules

    report = read_report(args.report, sweep_pb2)
    envelope = read_envelope(args.envelope, sweep_pb2) if args.envelope else None
    steps = max(len(s.steps) for s in report.settings)
    summary = "%d setting(s) x %d seeds, %d steps" % (len(report.settings), len(report.seeds), steps)
    title = "loss across seeds: %s (%s)" % (os.path.basename(report.config), summary)

    png_path, svg_path = tool.write_figures(args.out, lambda png, svg: draw(report, envelope, png, svg, title))
    print(summary)
    print(png_path)
    print(svg_path)
    return 0


def main(argv=None):
    return tool.main(PROG, run, argv)
