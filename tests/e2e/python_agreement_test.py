#!/usr/bin/python3
"""The harness against a plain Python PyTorch loop: same TorchScript file, data order, seeds and
optimizer settings give bitwise equal per-step losses (SGD with momentum, and Adam).

    /usr/bin/python3 tests/e2e/python_agreement_test.py REPRO_BINARY

Exits 77 (ctest: skipped) with a message when Debian's python3-torch is not installed.

The Python loop below is the one documented in harness/include/repro/trainer.h and README.md
("Wrapping your model"): split with randperm on a generator seeded with seeds["data.split"],
normalisation with the training split's mean and std, each epoch's order from randperm seeded
with seeds["data.shuffle/epoch/<e>"], consecutive batches (tail dropped), cross_entropy (mean),
zero_grad / backward / step, the default generator seeded with seeds["torch.default"].
"""

import os
import sys

# One thread everywhere, as the harness pins it (set before torch starts).
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import json
import math
import random
import shutil
import struct
import subprocess
import tempfile

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("SKIP: %s cannot import torch (%s); install Debian's python3-torch (tools/bootstrap)"
          % (sys.executable, e))
    sys.exit(77)

FEATURES = ["f%d" % i for i in range(6)]
SAMPLES = 400
STEPS = 60
BATCH = 16
SPLIT = 0.8


class Net(torch.nn.Module):
    """Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear."""

    def __init__(self, features, classes):
        super().__init__()
        self.fc1 = torch.nn.Linear(features, 32)
        self.bn = torch.nn.BatchNorm1d(32)
        self.drop = torch.nn.Dropout(0.2)
        self.fc2 = torch.nn.Linear(32, classes)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.bn(self.fc1(x)))))


def write_csv(path):
    """Features with three decimals (parsed to the same float32 by the harness and here)."""
    rng = random.Random(3)
    rows = []
    for _ in range(SAMPLES):
        f = [round(rng.gauss(0, 1), 3) for _ in FEATURES]
        label = int(f[0] + f[1] > 0) + 2 * int(f[2] - f[3] > 0)
        rows.append((f, label))
    with open(path, "w") as out:
        out.write(",".join(FEATURES + ["label"]) + "\n")
        for f, label in rows:
            out.write(",".join("%.3f" % v for v in f) + ",%d\n" % label)
    xs = torch.tensor([[float("%.3f" % v) for v in f] for f, _ in rows], dtype=torch.float32)
    ys = torch.tensor([label for _, label in rows], dtype=torch.long)
    return xs, ys


def repro(*args):
    r = subprocess.run([REPRO] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("repro %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def python_losses(model_path, xs, ys, seeds, make_optimizer):
    torch.manual_seed(seeds["torch.default"])  # dropout draws from the default generator
    n = xs.shape[0]
    split = torch.Generator()
    split.manual_seed(seeds["data.split"])
    perm = torch.randperm(n, generator=split)
    n_train = int(math.floor(n * SPLIT + 0.5))
    train_x, train_y = xs.index_select(0, perm[:n_train]), ys.index_select(0, perm[:n_train])
    mean, std = train_x.mean().item(), train_x.std().item()
    train_x = (train_x - mean) / std
    model = torch.jit.load(model_path)
    model.train()
    optimizer = make_optimizer(model.parameters())
    losses, epoch, pos, order = [], -1, n_train, None
    for _ in range(STEPS):
        if pos + BATCH > n_train:
            epoch, pos = epoch + 1, 0
            g = torch.Generator()
            g.manual_seed(seeds["data.shuffle/epoch/%d" % epoch])
            order = torch.randperm(n_train, generator=g)
        idx = order[pos:pos + BATCH]
        pos += BATCH
        optimizer.zero_grad()
        loss = F.cross_entropy(model(train_x.index_select(0, idx)), train_y.index_select(0, idx))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def check(name, optimizer_text, make_optimizer, tmp, model_path, csv_path, xs, ys, model_extra=""):
    config = os.path.join(tmp, name + ".textproto")
    with open(config, "w") as out:
        out.write('seed: 2024\nmodel { torchscript { path: "%s" %s } }\n' % (model_path, model_extra))
        out.write('data { source: "csv" path: "%s" %s split_fraction: %g }\n'
                  % (csv_path, " ".join('csv_features: "%s"' % f for f in FEATURES), SPLIT))
        out.write("optimizer { %s }\ntrain { steps: %d batch_size: %d }\n" % (optimizer_text, STEPS, BATCH))
    run_dir = repro("run", "--config", config, "--runs-dir", os.path.join(tmp, "runs")).strip().splitlines()[-1]
    view = json.loads(repro("show", run_dir, "--json", "--steps"))
    seeds = {s["purpose"]: int(s["seed"]) for s in view["record"]["seeds"]}
    harness = [s["loss_f32"] for s in view["steps"]]
    ours = python_losses(model_path, xs, ys, seeds, make_optimizer)
    if len(harness) != STEPS:
        sys.exit("%s: the harness recorded %d steps, expected %d" % (name, len(harness), STEPS))
    for step, (a, b) in enumerate(zip(harness, ours)):
        if bits(a) != bits(b):
            sys.exit("%s: step %d differs: harness %r (0x%08x), Python %r (0x%08x)"
                     % (name, step, a, bits(a), b, bits(b)))
    print("%s: %d steps, every loss bitwise equal (first %r, last %r)" % (name, STEPS, ours[0], ours[-1]))


def main():
    global REPRO
    REPRO = sys.argv[1]
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="python-agreement-")
    try:
        csv_path = os.path.join(tmp, "points.csv")
        xs, ys = write_csv(csv_path)
        model_path = os.path.join(tmp, "net.pt")
        torch.manual_seed(0)  # the three-line export of the README
        torch.jit.script(Net(len(FEATURES), 4)).save(model_path)
        check("sgd", 'name: "sgd" lr: 0.05 momentum: 0.9',
              lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, foreach=False), tmp, model_path, csv_path, xs, ys)
        check("adam", 'name: "adam" lr: 0.01 beta1: 0.9 beta2: 0.999 eps: 1e-8',
              lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, foreach=False),
              tmp, model_path, csv_path, xs, ys)
        # The harness runs the graph op by op by default; with torch.jit's own optimisations
        # (the Python loop's setting) the bits are the same for this net.
        check("adam-graph-optimize", 'name: "adam" lr: 0.01 beta1: 0.9 beta2: 0.999 eps: 1e-8',
              lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, foreach=False),
              tmp, model_path, csv_path, xs, ys, model_extra="graph_optimize: true")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
