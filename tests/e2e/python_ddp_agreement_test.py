#!/usr/bin/python3
"""Two ranks of the harness against two ranks of Python's DistributedDataParallel (Gloo): the
same TorchScript file, data order, seeds and optimizer give bitwise equal per-step losses, the
mean over the ranks and each rank's own.

    /usr/bin/python3 tests/e2e/python_ddp_agreement_test.py REPRO_BINARY

Exits 77 (ctest: skipped) with a message when Debian's python3-torch is not installed.

The Python side is the loop of python_agreement_test.py made data-parallel the way
harness/include/repro/distributed.h documents it: every rank seeds torch with
seeds["torch.default"] (the same on every rank) and takes the one epoch order, stepping through
it in global batches of 2 x BATCH, rank r taking positions r, r + 2, ... of each; the model is
wrapped in torch.nn.parallel.DistributedDataParallel (parameters broadcast from rank 0, BatchNorm
buffers broadcast from rank 0 at each forward, gradients averaged over the ranks); the recorded
loss is all_reduce(SUM) of the ranks' losses divided by 2. DDP divides each gradient by the world
size before its all-reduce and the harness after; with two ranks the division by 2 is exact, so
both give the same bits (README, "Data-parallel runs").
"""

import os
import sys

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import json
import math
import shutil
import socket
import struct
import subprocess
import tempfile

try:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
except ImportError as e:
    print("SKIP: %s cannot import torch (%s); install Debian's python3-torch (tools/bootstrap)"
          % (sys.executable, e))
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import python_agreement_test as plain  # noqa: E402  (the CSV, the model, the loop's data rules)

STEPS = 40
BATCH = 8  # per rank
WORLD = 2


def worker(spec_path):
    """One rank of the Python job: writes its losses (local and mean) to <spec>.rank<r>.json."""
    with open(spec_path) as f:
        spec = json.load(f)
    rank = int(os.environ["RANK"])
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    seeds = spec["seeds"]
    torch.manual_seed(seeds["torch.default"])
    xs = torch.tensor(spec["xs"], dtype=torch.float32)
    ys = torch.tensor(spec["ys"], dtype=torch.long)
    n = xs.shape[0]
    split = torch.Generator()
    split.manual_seed(seeds["data.split"])
    perm = torch.randperm(n, generator=split)
    n_train = int(math.floor(n * plain.SPLIT + 0.5))
    train_x, train_y = xs.index_select(0, perm[:n_train]), ys.index_select(0, perm[:n_train])
    mean, std = train_x.mean().item(), train_x.std().item()
    train_x = (train_x - mean) / std
    model = torch.nn.parallel.DistributedDataParallel(torch.jit.load(spec["model"]))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, foreach=False)
    local, mean_losses, epoch, pos, order = [], [], -1, n_train, None
    glob = BATCH * WORLD
    for _ in range(STEPS):
        if pos + glob > n_train:
            epoch, pos = epoch + 1, 0
            g = torch.Generator()
            g.manual_seed(seeds["data.shuffle/epoch/%d" % epoch])
            order = torch.randperm(n_train, generator=g)
        idx = order[pos:pos + glob][rank::WORLD]
        pos += glob
        optimizer.zero_grad()
        loss = F.cross_entropy(model(train_x.index_select(0, idx)), train_y.index_select(0, idx))
        loss.backward()
        optimizer.step()
        total = loss.detach().clone().reshape(1)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        local.append(loss.item())
        mean_losses.append((total / WORLD).item())
    with open("%s.rank%d.json" % (spec_path, rank), "w") as out:
        json.dump({"local": local, "mean": mean_losses}, out)
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        return worker(sys.argv[2])
    plain.REPRO = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="python-ddp-agreement-")
    try:
        csv_path = os.path.join(tmp, "points.csv")
        xs, ys = plain.write_csv(csv_path)
        model_path = os.path.join(tmp, "net.pt")
        torch.manual_seed(0)
        torch.jit.script(plain.Net(len(plain.FEATURES), 4)).save(model_path)
        config = os.path.join(tmp, "ddp.textproto")
        with open(config, "w") as out:
            out.write('seed: 2024\nmodel { torchscript { path: "%s" } }\n' % model_path)
            out.write('data { source: "csv" path: "%s" %s split_fraction: %g }\n'
                      % (csv_path, " ".join('csv_features: "%s"' % f for f in plain.FEATURES), plain.SPLIT))
            out.write('optimizer { name: "sgd" lr: 0.05 momentum: 0.9 }\n')
            out.write("train { steps: %d batch_size: %d final_eval: false }\n" % (STEPS, BATCH))
        run_dir = plain.repro("run", "--config", config, "--runs-dir", os.path.join(tmp, "runs"),
                              "--nproc", str(WORLD)).strip().splitlines()[-1]
        views = [json.loads(plain.repro("show", d, "--json", "--steps"))
                 for d in (run_dir, os.path.join(run_dir, "ranks", "1"))]
        seeds = {s["purpose"]: int(s["seed"]) for s in views[0]["record"]["seeds"]}

        spec_path = os.path.join(tmp, "spec.json")
        with open(spec_path, "w") as out:
            json.dump({"seeds": seeds, "model": model_path, "xs": xs.tolist(), "ys": ys.tolist()}, out)
        env = dict(os.environ, WORLD_SIZE=str(WORLD), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
        procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", spec_path],
                                  env=dict(env, RANK=str(r))) for r in range(WORLD)]
        for r, p in enumerate(procs):
            if p.wait(timeout=240) != 0:
                sys.exit("Python DDP rank %d exited %d" % (r, p.returncode))
        python = []
        for r in range(WORLD):
            with open("%s.rank%d.json" % (spec_path, r)) as f:
                python.append(json.load(f))

        for r, view in enumerate(views):
            steps = view["steps"]
            if len(steps) != STEPS:
                sys.exit("rank %d: the harness recorded %d steps, expected %d" % (r, len(steps), STEPS))
            for step, s in enumerate(steps):
                for what, ours, theirs in (("mean", s["loss_f32"], python[r]["mean"][step]),
                                           ("local", s["local_loss"]["f32"], python[r]["local"][step])):
                    if bits(ours) != bits(theirs):
                        sys.exit("rank %d step %d: %s loss differs: harness %r (0x%08x), Python DDP %r (0x%08x)"
                                 % (r, step, what, ours, bits(ours), theirs, bits(theirs)))
        print("2 ranks, %d steps: every mean and local loss bitwise equal to Python DDP (first %r, last %r)"
              % (STEPS, python[0]["mean"][0], python[0]["mean"][-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
