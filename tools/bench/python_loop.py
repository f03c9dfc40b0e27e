#!/usr/bin/python3
"""One measured training process in plain Python PyTorch, for tools/bench/side_by_side.

    /usr/bin/python3 tools/bench/python_loop.py SPEC_JSON

SPEC_JSON (one argument) names the model ("mlp", "cnn", "ts-cnn" eager, or "jit" with "file":
a TorchScript file loaded with torch.jit.load), the data directory (gzip IDX files), the master
seed, threads, steps, batch size, split fraction and optimizer. The loop is the one the harness
runs (harness/include/repro/trainer.h, README "Wrapping your model"): the same seeds derived
from the master seed, the same split, normalisation, epoch orders and batches, zero_grad /
forward / cross_entropy / backward / step; no evaluations, no records.

Prints one JSON object: first_step_s (from the kernel's start time of this process to the end
of step 0), steps_per_s (steps after the warm-up), loss0 and steps.
"""

import json
import os
import sys

if __name__ == "__main__":  # the thread count before torch starts (also imported for its classes)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(json.loads(sys.argv[1])["threads"])

import gzip  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

MASK64 = (1 << 64) - 1


def since_process_start():
    """Seconds since the kernel started this process (/proc/self/stat field 22, boot clock)."""
    with open("/proc/self/stat") as f:
        stat = f.read()
    start_ticks = int(stat[stat.rindex(")") + 2:].split()[19])
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")


def derive_seed(master, purpose):
    """repro/determinism.h: FNV-1a 64 of the purpose, XOR the master seed, one SplitMix64 step."""
    h = 0xcbf29ce484222325
    for b in purpose.encode():
        h = ((h ^ b) * 0x100000001b3) & MASK64
    z = (master ^ h) & MASK64
    z = (z + 0x9e3779b97f4a7c15) & MASK64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK64
    return (z ^ (z >> 31)) & 0x7fffffffffffffff


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    sizes = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8).view(sizes)


class Mlp(torch.nn.Module):
    """models/mlp.cc: flatten, Linear + ReLU per hidden width, Linear to the classes."""

    def __init__(self, widths, classes):
        super().__init__()
        layers, width = [], 784
        for w in widths:
            layers.append(torch.nn.Linear(width, w))
            width = w
        self.hidden = torch.nn.ModuleList(layers)
        self.output = torch.nn.Linear(width, classes)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.output(x)


class Cnn(torch.nn.Module):
    """models/cnn.cc: 2 x (Conv 3x3 pad 1, BatchNorm2d, ReLU, MaxPool 2), then Flatten, Dropout,
    Linear, ReLU, Dropout, Linear. Also the TorchScript model of the benchmark (scripted)."""

    def __init__(self, c1, c2, hidden, dropout, classes):
        super().__init__()

        def block(i, o):
            return [torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.BatchNorm2d(o), torch.nn.ReLU(),
                    torch.nn.MaxPool2d(2)]

        self.features = torch.nn.Sequential(*block(1, c1), *block(c1, c2))
        self.classifier = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(dropout),
                                              torch.nn.Linear(c2 * 7 * 7, hidden), torch.nn.ReLU(),
                                              torch.nn.Dropout(dropout), torch.nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def make_model(spec):
    kind = spec["model"]
    if kind == "mlp":
        return Mlp(spec["hidden"], 10)
    if kind in ("cnn", "ts-cnn"):
        return Cnn(spec["channels1"], spec["channels2"], spec["hidden"], spec["dropout"], 10)
    if kind == "jit":
        return torch.jit.load(spec["file"])
    sys.exit("python_loop.py: unknown model %r" % kind)


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.set_num_interop_threads(1)
    seed = spec["seed"]
    torch.manual_seed(derive_seed(seed, "torch.default"))
    d = spec["data"]
    images = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).long()
    n = images.shape[0]
    g = torch.Generator()
    g.manual_seed(derive_seed(seed, "data.split"))
    perm = torch.randperm(n, generator=g)
    n_train = int(math.floor(n * spec["split"] + 0.5))
    x = images.index_select(0, perm[:n_train]).unsqueeze(1).float()
    y = labels.index_select(0, perm[:n_train])
    mean, std = x.mean().item(), x.std().item()
    x.sub_(mean).div_(std)
    model = make_model(spec)
    model.train()
    params = list(model.parameters())
    o = spec["optimizer"]
    if o["name"] == "sgd":
        opt = torch.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0.0))
    else:
        opt = torch.optim.Adam(params, lr=o["lr"])
    batch, steps, warmup = spec["batch"], spec["steps"], spec.get("warmup", 0)
    epoch, pos, order = -1, n_train, None
    first_step_s, loss0, t_warm = None, None, None
    for step in range(steps):
        if step == warmup:
            t_warm = time.perf_counter()
        if pos + batch > n_train:
            epoch, pos = epoch + 1, 0
            eg = torch.Generator()
            eg.manual_seed(derive_seed(seed, "data.shuffle/epoch/%d" % epoch))
            order = torch.randperm(n_train, generator=eg)
        idx = order[pos:pos + batch]
        pos += batch
        opt.zero_grad()
        loss = F.cross_entropy(model(x.index_select(0, idx)), y.index_select(0, idx))
        loss.backward()
        opt.step()
        value = loss.item()  # as the harness records it, every step
        if step == 0:
            first_step_s, loss0 = since_process_start(), value
    timed = steps - warmup
    rate = timed / (time.perf_counter() - t_warm) if timed > 0 else None
    print(json.dumps({"first_step_s": first_step_s, "steps_per_s": rate, "loss0": loss0, "steps": steps}))


if __name__ == "__main__":
    main()
