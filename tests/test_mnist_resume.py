"""examples/mnist.py --checkpoint-every / --resume, in real subprocesses on small IDX files: a run
SIGKILLed at a random step and resumed from its checkpoint folder ends with parameters bit-identical to
a run never interrupted; a run killed while writing a checkpoint leaves the previous one, which the
resumed run continues from exactly; a damaged latest checkpoint is skipped for the one before;
--keep K keeps the K latest; mismatched runs and reused folders are refused."""

from __future__ import annotations

import json
import os
import random
import re
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


def in_process(root: Path, runs: Path, *extra: str) -> int:
    """examples/mnist.py's main() in this process: for the runs that stop before training."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import mnist
    finally:
        sys.path.remove(str(EXAMPLES))
    return mnist.main(args(root, runs, *extra))


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


def test_sigkill_at_a_random_step_then_resume_is_bit_identical(tiny_mnist, uninterrupted, tmp_path) -> None:
    every = 3
    kill_at = random.Random(os.urandom(8)).randint(every + 1, STEPS - 1)  # after the first checkpoint
    context = f"killed at step {kill_at}"
    folder = tmp_path / "ck"
    extra = (
        "--checkpoint-every",
        str(every),
        "--checkpoint-dir",
        str(folder),
        "--kill-at-step",
        str(kill_at),
    )
    killed = mnist(tiny_mnist, tmp_path / "a", *extra)
    assert killed.returncode == -signal.SIGKILL, (context, killed.stderr[-2000:])
    assert not list((tmp_path / "a").glob("mnist-2*")), context  # it never got to write its run folder
    latest = every * ((kill_at - 1) // every)  # the kill lands before the checkpoint its step is due
    assert steps_in(folder)[-1] == latest, context

    resumed = mnist(tiny_mnist, tmp_path / "b", "--resume", str(folder))
    assert f"resumed {folder / f'step-{latest:08d}.safetensors'}: step {latest}" in resumed.stdout, context
    assert_bit_identical(finished(resumed, tmp_path / "b"), uninterrupted, context)
    assert steps_in(folder) == [3, 6, 9]  # it went on checkpointing into the folder, keeping 3


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


def test_killed_while_writing_a_checkpoint_resumes_from_the_previous(
    tiny_mnist, uninterrupted, tmp_path
) -> None:
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
    assert chainrule.load(folder / "step-00000006.safetensors")["position"]["step"] == 6

    resumed = mnist(tiny_mnist, tmp_path / "b", "--resume", str(folder))
    assert "step-00000006.safetensors: step 6" in resumed.stdout
    assert_bit_identical(finished(resumed, tmp_path / "b"), uninterrupted, "resumed after a kill mid-write")


def test_a_damaged_latest_checkpoint_is_skipped(tiny_mnist, uninterrupted, tmp_path) -> None:
    folder = tmp_path / "ck"
    extra = ("--checkpoint-every", "2", "--keep", "2", "--checkpoint-dir", str(folder), "--kill-at-step", "7")
    killed = mnist(tiny_mnist, tmp_path / "a", *extra)
    assert killed.returncode == -signal.SIGKILL
    assert steps_in(folder) == [4, 6]  # --keep 2
    latest = folder / "step-00000006.safetensors"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # a disk or a copy failed it

    resumed = mnist(tiny_mnist, tmp_path / "b", "--resume", str(folder))
    assert f"skipping checkpoint {latest}" in resumed.stderr
    assert "step-00000004.safetensors: step 4" in resumed.stdout
    assert_bit_identical(finished(resumed, tmp_path / "b"), uninterrupted, "resumed from the one before")

    # named explicitly, the damaged file is chainrule.load's error, not a quiet fallback
    with pytest.raises(ValueError, match=re.escape(str(latest))):
        in_process(tiny_mnist, tmp_path / "c", "--resume", str(latest))


def test_checkpointing_changes_nothing_and_reused_folders_or_other_runs_are_refused(
    tiny_mnist, uninterrupted, tmp_path, capsys
) -> None:
    folder = tmp_path / "ck"
    first = mnist(tiny_mnist, tmp_path / "a", "--checkpoint-every", "4", "--checkpoint-dir", str(folder))
    assert_bit_identical(finished(first, tmp_path / "a"), uninterrupted, "a run writing checkpoints")
    assert steps_in(folder) == [4, 8]

    with pytest.raises(SystemExit, match=f"{re.escape(str(folder))} already holds checkpoints"):
        in_process(tiny_mnist, tmp_path / "b", "--checkpoint-every", "4", "--checkpoint-dir", str(folder))
    with pytest.raises(SystemExit, match="lr 0.002 there, 0.01 here"):
        in_process(tiny_mnist, tmp_path / "c", "--resume", str(folder), "--lr", "0.01")

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".step-00000004.safetensors.0123.tmp").write_bytes(b"\0" * 64)  # a temporary is none
    with pytest.raises(FileNotFoundError, match="holds no loadable checkpoint"):
        in_process(tiny_mnist, tmp_path / "d", "--resume", str(empty))
    with pytest.raises(SystemExit) as info:
        in_process(tiny_mnist, tmp_path / "e", "--checkpoint-every", "0")
    assert info.value.code == 2 and "--checkpoint-every must be at least 1" in capsys.readouterr().err
    assert not list(tmp_path.glob("[bcde]/mnist-2*"))  # none of them trained
