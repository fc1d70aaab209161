"""examples/ddp_mnist.py under a real mpirun with 2 ranks, on small IDX files written here (learnable
"digits"): it trains, rank 0 evaluates and writes a checkpoint that loads back into the MLP."""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np
from mpi_launch import run_ok

import chainrule

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_the_ddp_example_trains_and_rank_0_saves(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 512), ("t10k", 200)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 2 * k + 4 : 2 * k + 6, 4:24] = 250  # class k: a bright bar in row band k
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels)
    runs = tmp_path / "runs"
    lines = run_ok(
        [
            str(EXAMPLES / "ddp_mnist.py"),
            "--root",
            str(tmp_path),
            "--epochs",
            "3",
            "--batch-size",
            "32",
            "--runs",
            str(runs),
        ],
        2,
        timeout=180,
    )
    assert any(line.startswith("2 ranks x batch 16 (global batch 32)") for line in lines)
    accuracy = float(next(line for line in lines if line.startswith("test accuracy")).split()[2].rstrip(";"))
    assert accuracy > 0.9
    saved = list(runs.glob("ddp-mnist-*/model.safetensors"))
    assert len(saved) == 1  # rank 0 only
    sys.path.insert(0, str(EXAMPLES))
    try:
        from mnist import MLP
    finally:
        sys.path.remove(str(EXAMPLES))
    model = MLP()
    model.load_state_dict(chainrule.load(saved[0]))
