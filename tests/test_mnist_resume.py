"""examples/mnist.py --checkpoint-every / --resume, in real subprocesses on small IDX files: a run
SIGKILLed at a random step and resumed from its checkpoint folder ends with parameters bit-identical to
a run never interrupted; a run killed while writing a checkpoint leaves the previous one whole, and
--resume takes that one; a damaged latest checkpoint is skipped for the one before; --keep K keeps the
K latest; mismatched runs and reused folders are refused."""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from oracle import EXAMPLES, ROOT, run_example
from test_mnist_examples import write_idx

import chainrule

EPOCHS, BATCH = 2, 32
TRAIN, TEST = 150, 50
STEPS = EPOCHS * -(-TRAIN // BATCH)  # 5 batches an epoch, the last one short: 10 steps
CHECKPOINT = re.compile(r"step-(\d+)\.safetensors")


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory) -> Path:
    """150 training and 50 test 'digits' (class k: a bright bar in row band k)."""
    root = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(1)
    for train, n in ((True, TRAIN), (False, TEST)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 2 * k + 4 : 2 * k + 6, 4:24] = 250
        prefix = "train" if train else "t10k"
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, compress=False)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, compress=False)
    return root


def args(root: Path, runs: Path, *extra: str) -> list[str]:
    """examples/mnist.py's flags: the small data, 2 epochs of batches of 32, run folders under ``runs``."""
    sizes = ["--epochs", str(EPOCHS), "--batch-size", str(BATCH)]
    return ["--root", str(root), *sizes, "--runs", str(runs), "--skip-lecture", *extra]


def mnist(root: Path, runs: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_example("mnist.py", *args(root, runs, *extra))


def examples_module(name: str):
    """examples/<name>.py, imported (as the examples import each other) for a call in this process."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))


def in_process(root: Path, runs: Path, *extra: str) -> int:
    """examples/mnist.py's main() in this process: for the runs that stop before training."""
    return examples_module("mnist").main(args(root, runs, *extra))


def finished(result: subprocess.CompletedProcess, runs: Path) -> tuple[dict, dict]:
    """The final parameters (as arrays) and metrics of a run that completed."""
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (run_dir,) = runs.glob("mnist-2*")
    state = chainrule.load(run_dir / "model.safetensors")
    return {k: v.numpy() for k, v in state.items()}, json.loads((run_dir / "metrics.json").read_text())


def steps_in(folder: Path) -> list[int]:
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := CHECKPOINT.fullmatch(p.name)))


def assert_bit_identical(got: tuple[dict, dict], want: tuple[dict, dict], context: str) -> None:
    (params, metrics), (ref_params, ref_metrics) = got, want
    assert list(params) == list(ref_params)
    for name, value in ref_params.items():
        assert np.array_equal(params[name], value), f"{context}: {name} differs from the uninterrupted run"
    for key in ("final_train_loss", "test_accuracy", "epochs"):
        assert metrics[key] == ref_metrics[key], (context, key)


@pytest.fixture(scope="module")
def uninterrupted(tiny_mnist, tmp_path_factory) -> tuple[dict, dict]:
    """The plain run (no checkpoint flags): what every resumed run must reproduce bit for bit."""
    runs = tmp_path_factory.mktemp("plain")
    return finished(mnist(tiny_mnist, runs), runs)


@pytest.fixture(scope="module")
def killed(tiny_mnist, tmp_path_factory) -> tuple[Path, int]:
    """A run checkpointing every 2 steps, SIGKILLed at a random step after its second checkpoint: its
    checkpoint folder (tests resume from copies) and the step of its latest checkpoint."""
    every = 2
    kill_at = random.Random(os.urandom(8)).randint(2 * every + 1, STEPS - 1)
    folder, runs = tmp_path_factory.mktemp("killed") / "ck", tmp_path_factory.mktemp("killed-runs")
    extra = (
        "--checkpoint-every",
        str(every),
        "--checkpoint-dir",
        str(folder),
        "--kill-at-step",
        str(kill_at),
    )
    result = mnist(tiny_mnist, runs, *extra)
    assert result.returncode == -signal.SIGKILL, (kill_at, result.stderr[-2000:])
    assert not list(runs.glob("mnist-2*")), kill_at  # it never got to write its run folder
    latest = every * ((kill_at - 1) // every)  # the kill lands before the checkpoint its step is due
    assert steps_in(folder) == list(range(every, latest + 1, every))[-3:], kill_at  # the 3 latest kept
    return folder, latest


def test_sigkill_at_a_random_step_then_resume_is_bit_identical(
    tiny_mnist, uninterrupted, killed, tmp_path
) -> None:
    folder = shutil.copytree(killed[0], tmp_path / "ck")
    latest = killed[1]
    resumed = mnist(tiny_mnist, tmp_path / "a", "--resume", str(folder))
    context = f"resumed from step {latest}"
    assert f"resumed {folder / f'step-{latest:08d}.safetensors'}: step {latest}" in resumed.stdout, context
    assert_bit_identical(finished(resumed, tmp_path / "a"), uninterrupted, context)
    assert steps_in(folder) == [6, 8, 10]  # it went on checkpointing into the folder, keeping 3

    # the folder now holds a run's checkpoints: a fresh run may not mix its own in, nor may another
    # run continue them (both stop before training)
    with pytest.raises(SystemExit, match=f"{re.escape(str(folder))} already holds checkpoints"):
        in_process(tiny_mnist, tmp_path / "b", "--checkpoint-every", "4", "--checkpoint-dir", str(folder))
    with pytest.raises(SystemExit, match="lr 0.002 there, 0.01 here"):
        in_process(tiny_mnist, tmp_path / "c", "--resume", str(folder), "--lr", "0.01")
    assert not list(tmp_path.glob("[bc]/mnist-2*"))


def test_a_damaged_latest_checkpoint_is_skipped_for_the_one_before(killed, tmp_path, capsys) -> None:
    folder = shutil.copytree(killed[0], tmp_path / "ck")
    latest = folder / f"step-{killed[1]:08d}.safetensors"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # a disk or a copy failed it
    state, path = examples_module("training_checkpoints").load_checkpoint(folder)
    assert path == folder / f"step-{killed[1] - 2:08d}.safetensors"
    assert state["position"]["step"] == killed[1] - 2
    assert f"skipping checkpoint {latest}" in capsys.readouterr().err
    # named explicitly, the damaged file is chainrule.load's error, not a quiet fallback
    with pytest.raises(ValueError, match=re.escape(str(latest))):
        examples_module("training_checkpoints").load_checkpoint(latest)


# Run examples/mnist.py so that the kernel kills it in the middle of writing its NTH checkpoint: from
# that save on, files may not grow past half a checkpoint (RLIMIT_FSIZE), and SIGXFSZ, which Python
# ignores by default, is restored to its default action, so the write that crosses the limit ends the
# process on the spot, as SIGKILL would: no exception, no finally block, no cleanup.
DIE_MID_WRITE = textwrap.dedent("""
    import os, resource, runpy, signal, sys
    import chainrule
    nth, script, *argv = sys.argv[1:]
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    real_save, saved = chainrule.save, []
    def save(obj, f, *args, **kwargs):
        saved.append(f)
        if len(saved) == int(nth):
            limit = os.path.getsize(saved[-2]) // 2
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        return real_save(obj, f, *args, **kwargs)
    chainrule.save = save
    sys.argv = [script, *argv]
    sys.path.insert(0, os.path.dirname(script))
    runpy.run_path(script, run_name="__main__")
""")


def test_killed_while_writing_a_checkpoint_leaves_the_previous_one(tiny_mnist, tmp_path) -> None:
    folder = tmp_path / "ck"
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    example = args(tiny_mnist, tmp_path / "a", "--checkpoint-every", "3", "--checkpoint-dir", str(folder))
    killed = subprocess.run(
        [sys.executable, "-c", DIE_MID_WRITE, "3", str(EXAMPLES / "mnist.py"), *example],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=path),
    )
    assert killed.returncode == -signal.SIGXFSZ, killed.stderr[-2000:]
    assert steps_in(folder) == [3, 6]  # the third (step 9) died mid-write
    partial = [p for p in folder.iterdir() if not CHECKPOINT.fullmatch(p.name)]
    complete = os.path.getsize(folder / "step-00000006.safetensors")
    assert len(partial) <= 1 and all(p.stat().st_size < complete for p in partial), partial  # cut short
    # what --resume FOLDER takes: the last complete checkpoint (resuming from one is tested above)
    state, path = examples_module("training_checkpoints").load_checkpoint(folder)
    assert path == folder / "step-00000006.safetensors" and state["position"]["step"] == 6
    position = {k: v for k, v in state["position"].items() if k != "correct"}
    assert position == {"step": 6, "epoch": 1, "batch": 1, "count": BATCH, "seen": TRAIN + BATCH}
