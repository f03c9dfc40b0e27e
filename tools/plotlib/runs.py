"""Reading run directories: record.pb and the steps.bin record stream (proto/README.md, "Streams")."""

import ctypes
import ctypes.util
import os
import struct

STREAM_MAGIC = b"RPRSTRM1"
FRAME_HEADER = struct.Struct("<II")  # length, checksum (low 32 bits of XXH3-64 of the payload)
MAX_FRAME_PAYLOAD = 64 << 20


class InputError(Exception):
    """Bad input; the message is one line that names the path."""


def _load_xxh3():
    """XXH3_64bits from libxxhash (libxxhash0 is part of every Debian 12: apt links it), or None."""
    for name in ("libxxhash.so.0", ctypes.util.find_library("xxhash")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            fn = lib.XXH3_64bits
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_uint64
        fn.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        return fn
    return None


_XXH3 = _load_xxh3()


def checksums_verified():
    """Whether frame checksums are checked (libxxhash found); otherwise they are skipped."""
    return _XXH3 is not None


class StreamScan:
    def __init__(self):
        self.messages = []
        self.valid_bytes = 0
        self.torn = False


def read_stream(path, message_type):
    """Reads a record stream as the C++ reader does: stops without error at the first
    incomplete, oversized, mismatching or unparsable frame, and says whether it was torn."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError("%s: no such file" % path)
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (path, e.strerror))
    scan = StreamScan()
    if len(data) < len(STREAM_MAGIC):
        if STREAM_MAGIC[: len(data)] != data:
            raise InputError("%s: not a record stream (bad magic)" % path)
        scan.torn = True
        return scan
    if data[: len(STREAM_MAGIC)] != STREAM_MAGIC:
        raise InputError("%s: not a record stream (bad magic)" % path)
    pos = len(STREAM_MAGIC)
    while pos < len(data):
        if len(data) - pos < FRAME_HEADER.size:
            break
        length, checksum = FRAME_HEADER.unpack_from(data, pos)
        if length > MAX_FRAME_PAYLOAD or len(data) - pos - FRAME_HEADER.size < length:
            break
        payload = data[pos + FRAME_HEADER.size : pos + FRAME_HEADER.size + length]
        if _XXH3 is not None and (_XXH3(payload, len(payload)) & 0xFFFFFFFF) != checksum:
            break
        message = message_type()
        try:
            message.ParseFromString(payload)
        except Exception:  # google.protobuf.message.DecodeError, or RuntimeWarning-ish errors
            break
        scan.messages.append(message)
        pos += FRAME_HEADER.size + length
    scan.valid_bytes = pos
    scan.torn = pos < len(data)
    return scan


def loss_of(step):
    """(value as a Python float, kind "f32"/"f64"/None, exact IEEE-754 bits as an int)."""
    kind = step.WhichOneof("loss")
    if kind == "loss_f32":
        # A float32 widened to a double is exact, so packing it back recovers its bits.
        return step.loss_f32, "f32", struct.unpack("<I", struct.pack("<f", step.loss_f32))[0]
    if kind == "loss_f64":
        return step.loss_f64, "f64", struct.unpack("<Q", struct.pack("<d", step.loss_f64))[0]
    return None, None, None


def value_of(step, index):
    """A named value of a step (record_step with named values) as loss_of; index None: the loss."""
    if index is None:
        return loss_of(step)
    if index >= len(step.values):
        return None, None, None
    v = step.values[index]
    kind = v.WhichOneof("value")
    if kind == "f32":
        return v.f32, "f32", struct.unpack("<I", struct.pack("<f", v.f32))[0]
    if kind == "f64":
        return v.f64, "f64", struct.unpack("<Q", struct.pack("<d", v.f64))[0]
    return None, None, None


class Run:
    """One run directory: its RunRecord header and its steps, ordered as recorded."""

    def __init__(self, directory, record, steps, torn):
        self.directory = directory
        self.record = record
        self.steps = steps
        self.steps_torn = torn

    @property
    def label(self):
        return self.record.run_id or os.path.basename(os.path.normpath(self.directory))

    def series(self):
        """The series the run recorded, in order: [(name, index into each step's values)];
        a run with one loss is [("loss", None)]."""
        names = list(self.record.series)
        if not names and self.steps and len(self.steps[0].values) > 0:
            names = [v.name for v in self.steps[0].values]
        if not names:
            return [("loss", None)]
        return [(n, i) for i, n in enumerate(names)]

    def by_step(self):
        """step number -> StepRecord (a repeated step number keeps its first record)."""
        out = {}
        for s in self.steps:
            out.setdefault(s.step, s)
        return out


def read_run(directory, pb2):
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise InputError("%s: not a directory" % directory)
        raise InputError("%s: no such run directory" % directory)
    record_path = os.path.join(directory, "record.pb")
    try:
        with open(record_path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise InputError("%s: no such file (not a run directory?)" % record_path)
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (record_path, e.strerror))
    record = pb2.RunRecord()
    try:
        record.ParseFromString(raw)
    except Exception:
        raise InputError("%s: corrupt RunRecord (cannot parse)" % record_path)
    if not raw or record.schema_version == 0:
        raise InputError("%s: not a RunRecord (empty, or no schema_version)" % record_path)
    scan = read_stream(os.path.join(directory, "steps.bin"), pb2.StepRecord)
    return Run(directory, record, scan.messages, scan.torn)
