"""What every plot tool shares: flag errors, the interpreter check, JSON inputs, writing the
PNG and SVG pair, and exit codes (0 ok, 2 usage or bad input, 3 anything unexpected)."""

import argparse
import os
import sys

from . import protos
from .runs import InputError


class Parser(argparse.ArgumentParser):
    """Usage errors as one line naming the tool, exit code 2; the flags every plot tool has
    (--out, --proto-dir) and the epilog that says what it writes."""

    def __init__(self, prog, description):
        super().__init__(prog=prog, description=description,
                         epilog="Writes PREFIX.png and PREFIX.svg; prints a one-line summary and both "
                                "paths. Exit codes: 0 ok, 2 usage or bad input, 3 internal error.")
        self.add_argument("--out", required=True, metavar="PREFIX", help="output path without extension")
        self.add_argument("--proto-dir", metavar="DIR",
                          help="directory of reprotorch's .proto files (default: the repository's proto/)")

    def error(self, message):
        sys.stderr.write("%s: %s (see --help)\n" % (self.prog, message))
        sys.exit(2)


def schema(prog, proto_dir, names):
    """The generated modules for `names`, or None after a one-line complaint (exit code 3)."""
    if missing_modules(prog):
        return None
    if proto_dir and not os.path.isdir(proto_dir):
        raise InputError("%s: no such proto directory" % proto_dir)
    try:
        return protos.load(proto_dir, names)
    except protos.ProtoError as e:
        sys.stderr.write("%s: %s\n" % (prog, e))
        return None


def pyplot():
    """matplotlib's pyplot without a display, with stable SVG ids (same input, same file)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "reprotorch"
    import matplotlib.pyplot as plt

    return plt


def save(plt, fig, png_path, svg_path):
    """Both files without time stamps or tool versions, then frees the figure."""
    try:
        fig.savefig(png_path, format="png", metadata={"Software": None})
        fig.savefig(svg_path, format="svg", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(fig)


def missing_modules(prog):
    """1-line complaint and True when matplotlib or protobuf cannot be imported."""
    try:
        import matplotlib  # noqa: F401
        import google.protobuf  # noqa: F401
    except ImportError as e:
        sys.stderr.write("%s: %s; run with Debian's /usr/bin/python3 after tools/bootstrap "
                         "(python3-matplotlib, python3-protobuf)\n" % (prog, e))
        return True
    return False


def read_json_message(path, message, what):
    """Parses protobuf's JSON mapping of `message` from `path`; InputError naming the path."""
    from google.protobuf import json_format

    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise InputError("%s: no such %s" % (path, what))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError("%s: cannot read %s: %s" % (path, what, getattr(e, "strerror", None) or e))
    try:
        # Unknown fields are allowed: `repro` may add fields a tool does not draw.
        json_format.Parse(text, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError) as e:
        first = (str(e).splitlines() or ["invalid"])[0]
        raise InputError("%s: not a %s in JSON: %s" % (path, what, first))
    return message


def write_figures(out, draw):
    """Calls draw(png_path, svg_path) for OUT.png and OUT.svg, creating OUT's directory."""
    png_path, svg_path = out + ".png", out + ".svg"
    parent = os.path.dirname(os.path.abspath(out))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise InputError("%s: cannot create output directory: %s" % (parent, e.strerror))
    try:
        draw(png_path, svg_path)
    except OSError as e:
        raise InputError("%s: cannot write: %s" % (e.filename or out, e.strerror or e))
    return png_path, svg_path


def main(prog, run, argv=None):
    """Runs run(argv) and turns its errors into the exit codes."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except InputError as e:
        sys.stderr.write("%s: %s\n" % (prog, e))
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:  # anything unexpected: say so, with the traceback for a bug report
        import traceback

        sys.stderr.write("%s: internal error\n" % prog)
        traceback.print_exc()
        return 3
