"""What holds when chainrule is run long or roughly, each in a real subprocess: memory stays flat over
thousands of training steps (and the same measurement does see a leak of 16 KiB a step); mutated
checkpoint files never crash or hang ``chainrule.load``, they load or raise ValueError; saves SIGKILLed
again and again at random moments never leave a file that fails to load whole."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from fuzzing import examples
from oracle import ROOT

import chainrule


def this_checkout() -> dict[str, str]:
    """The environment of a subprocess that imports this checkout's chainrule."""
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def python(code: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """``python -c code *args`` with this checkout's chainrule, its output captured."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=this_checkout(),
    )


# ---- memory over many steps --------------------------------------------------------------------------
TRAIN = textwrap.dedent("""
    import json, sys
    import chainrule as torch
    import chainrule.nn as nn
    import chainrule.nn.functional as F
    from chainrule.utils.data import DataLoader, TensorDataset

    steps, every, leak = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "leak"

    def rss_kib():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=steps)
    data = TensorDataset(torch.randn(1024, 64), torch.randint(0, 10, (1024,)))
    loader = DataLoader(data, batch_size=32, shuffle=True)
    losses, kept, samples, step = [], [], [], 0
    while step < steps:
        for x, y in loader:
            hidden = model[1](model[0](x))
            loss = F.cross_entropy(model[3](model[2](hidden)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if leak:  # what a leak of one activation a step looks like: 32 x 128 float32, 16 KiB
                kept.append(hidden.detach().clone())
            step += 1
            if step % every == 0:
                samples.append(rss_kib())
            if step == steps:
                break
    print(json.dumps(samples))
""")


def rss_growth_kib_per_step(steps: int, every: int, leak: bool) -> tuple[float, list[int]]:
    """Train ``steps`` steps in a fresh process; the growth of its resident memory per step, from the
    first sample (after ``every`` steps: allocations have settled) to the largest later one, and the
    samples (KiB)."""
    result = python(TRAIN, str(steps), str(every), "leak" if leak else "none", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    samples = json.loads(result.stdout)
    return (max(samples) - samples[0]) / (steps - every), samples


def test_memory_is_flat_over_thousands_of_steps() -> None:
    # measured: ~0.13 KiB a step (the list of losses, 32 bytes a step, and allocator noise); a leak
    # of 3 KiB a step, a fifth of one small activation, would fail this
    growth, samples = rss_growth_kib_per_step(2000, 500, leak=False)
    assert growth < 3, f"resident memory grew {growth:.2f} KiB a step over 2000 steps: {samples}"
    # the control: the same measurement sees a leak of 16 KiB a step as such
    growth, samples = rss_growth_kib_per_step(600, 200, leak=True)
    assert 12 < growth < 24, f"a leak of 16 KiB a step measured as {growth:.2f}: {samples}"


# ---- mutated files -----------------------------------------------------------------------------------
# Writes a checkpoint, then loads many mutated copies of it, in one process: the outcome of each
# (loaded, or the exception's type) is counted; a segfault or a hang shows as the process's fate.
MUTATE = textwrap.dedent("""
    import collections, json, os, random, struct, sys
    import numpy as np
    import chainrule

    folder, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    model = {
        "fc.weight": chainrule.from_numpy(rng.standard_normal((16, 8)).astype(np.float32)),
        "fc.bias": chainrule.from_numpy(rng.standard_normal(16).astype(np.float32)),
        "bn.num_batches_tracked": chainrule.tensor(7),
        "mask": chainrule.from_numpy(rng.random((3, 3)) < 0.5),
        "empty": chainrule.zeros(0, 4),
    }
    optimizer = {"state": {0: {"step": chainrule.tensor(3.0), "exp_avg": chainrule.ones(16, 8)}},
                 "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}]}
    good = os.path.join(folder, "good.safetensors")
    chainrule.save({"model": model, "optimizer": optimizer, "step": 7, "name": "run", "loss": 0.25}, good)
    raw = open(good, "rb").read()
    header_end = 8 + struct.unpack("<Q", raw[:8])[0]

    def mutate(r):
        data = bytearray(raw)
        # half the mutations hit the length and header, which are small beside the tensor data
        end = header_end if r.random() < 0.5 else len(data)
        at = r.randrange(end)
        kind = r.choice(["flip", "byte", "cut", "insert", "delete", "copy", "digit"])
        if kind == "flip":
            data[at] ^= 1 << r.randrange(8)
        elif kind == "byte":
            data[at] = r.randrange(256)
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes(r.randrange(256) for _ in range(r.randint(1, 16)))
        elif kind == "delete":
            del data[at : at + r.randint(1, 16)]
        elif kind == "copy":  # a piece of the file pasted over another place
            start = r.randrange(len(data))
            piece = data[start : start + r.randint(1, 64)]
            data[at : at + len(piece)] = piece
        else:  # a digit of the header changed: numbers, offsets and shapes
            digits = [i for i in range(8, header_end) if chr(data[i]).isdigit()]
            data[r.choice(digits)] = ord(str(r.randrange(10)))
        return kind, at, bytes(data)

    outcomes = collections.Counter()
    unexpected = []
    bad = os.path.join(folder, "bad.safetensors")
    for i in range(count):
        r = random.Random(seed * 1_000_003 + i)
        kind, at, data = mutate(r)
        with open(bad, "wb") as f:
            f.write(data)
        try:
            chainrule.load(bad)
            outcomes["loaded"] += 1
        except ValueError:
            outcomes["ValueError"] += 1
        except Exception as e:
            outcomes[type(e).__name__] += 1
            unexpected.append(f"mutation {i} ({kind} at byte {at}): {type(e).__name__}: {e}"[:300])
    print(json.dumps({"outcomes": outcomes, "unexpected": unexpected[:10]}))
""")


@pytest.mark.fuzz
def test_mutated_checkpoints_never_crash_or_hang(tmp_path) -> None:
    count = examples(800)
    seed = random.Random(os.urandom(8)).randrange(2**31)
    try:
        result = python(MUTATE, str(tmp_path), str(count), str(seed), timeout=120 + 0.05 * count)
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading {count} mutated files (seed {seed}) hung")
    assert result.returncode == 0, f"seed {seed}: the loading process died: {result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    assert not report["unexpected"], f"seed {seed}: not ValueError: {report['unexpected']}"
    assert sum(report["outcomes"].values()) == count
    assert report["outcomes"]["ValueError"] > count // 2, report  # the mutations do break files


# ---- kill -9 during save, again and again ------------------------------------------------------------
# Each saver first loads what the previous (killed) one left, whole, then saves a 32 MB checkpoint over
# and over until it is killed.
SAVER = textwrap.dedent("""
    import os, sys
    import numpy as np
    import chainrule
    path = sys.argv[1]
    step = chainrule.load(path)["step"] + 1 if os.path.exists(path) else 0
    w = np.empty(8_000_000, np.float32)
    while True:
        w.fill(step)
        print("saving", step, flush=True)
        chainrule.save({"step": step, "model": {"w": chainrule.from_numpy(w)}}, path)
        step += 1
""")


def test_repeated_sigkill_during_save_never_breaks_the_checkpoint(tmp_path) -> None:
    path = tmp_path / "ck.safetensors"
    draw = random.Random(os.urandom(8))
    last = -1
    for kill in range(3):
        delay = draw.uniform(0, 0.15)
        command = [sys.executable, "-c", SAVER, str(path)]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=this_checkout())
        try:
            started = [int(proc.stdout.readline().split()[1]) for _ in range(2)]  # one whole save, then more
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            proc.kill()
            proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, f"kill {kill}: {proc.returncode}"
        back = chainrule.load(path)  # whole, every time
        assert back["step"] >= started[0] > last, (kill, back["step"], started)
        w = back["model"]["w"].numpy()
        assert w.shape == (8_000_000,) and (w == back["step"]).all(), f"kill {kill} after {delay:.3f} s"
        last = back["step"]
