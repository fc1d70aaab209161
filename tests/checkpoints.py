"""Helpers of the serialization tests: a checkpoint shaped like a real one, exact comparison, and
the checkpoint format's checksum computed independently of chainrule (as docs/security.md states
it), to write files whose checksum is valid but whose content is hostile."""

from __future__ import annotations

import collections
import hashlib
import json
import struct

import numpy as np

import chainrule

#: where a chainrule checkpoint keeps its SHA-256: 64 hex digits right after this header prefix
PREFIX = b'{"__metadata__":{"chainrule.sha256":"'
DIGEST_AT = 8 + len(PREFIX)


def c(a) -> chainrule.Tensor:
    return chainrule.from_numpy(np.array(a))


def checkpoint() -> dict:
    """Shaped like model + optimizer + scheduler + step state dicts."""
    rng = np.random.default_rng(0)
    model = collections.OrderedDict(
        [
            ("fc1.weight", c(rng.standard_normal((4, 3)).astype(np.float32))),
            ("fc1.bias", c(rng.standard_normal(4).astype(np.float32))),
            ("bn.running_mean", c(rng.standard_normal(4))),  # float64
            ("bn.num_batches_tracked", c(np.int64(7))),  # 0-d int64
            ("mask", c(rng.random((2, 2)) < 0.5)),
            ("empty", c(np.zeros((0, 3), np.float32))),
        ]
    )
    optimizer = {
        "state": {
            0: {"step": c(np.float32(3.0)), "exp_avg": c(np.ones((4, 3), np.float32))},
            1: {"step": c(np.float32(3.0)), "exp_avg": c(np.zeros(4, np.float32))},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "foreach": None,
                "maximize": False,
                "params": [0, 1],
            }
        ],
    }
    scheduler = {
        "base_lrs": [1e-3],
        "last_epoch": 3,
        "_step_count": 4,
        "_last_lr": [1e-3 * 0.5**3],
        "lr_lambdas": [None],
        "verbose": False,
    }
    return {
        "model": model,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "step": 1200,
        "epoch": 3,
        "name": "mnist-mlp ü",
        "best": float("inf"),
        "nan": float("nan"),
        "big": 2**70,
        "neg": -5,
        "keys": {(1, "a"): "tuple key", None: "none key", 2.5: "float key", True: "bool key"},
        "tags": {"__tensor__": "a user key that looks like a tag"},
        "nothing": [],
        "unit": (),
        "rng": c(np.arange(16, dtype=np.uint8)),
        "numpy": np.arange(6, dtype=np.int16).reshape(2, 3),
    }


def same(a, b, path="obj") -> None:
    """Equal values, types, dtypes, shapes and key orders."""
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, chainrule.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad, path
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=path)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, path
    else:
        assert a == b, path


def split(raw: bytes) -> tuple[dict, bytes]:
    """A safetensors file's parsed header and its data bytes."""
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def resign(raw: bytes) -> bytes:
    """``raw`` with the 64 bytes at the digest's place set to the SHA-256 of the file with those
    bytes read as ASCII zeros: the checksum chainrule verifies (whatever the rest now says)."""
    if len(raw) < DIGEST_AT + 64:
        return raw
    zeroed = raw[:DIGEST_AT] + b"0" * 64 + raw[DIGEST_AT + 64 :]
    return raw[:DIGEST_AT] + hashlib.sha256(zeroed).hexdigest().encode() + raw[DIGEST_AT + 64 :]


def assemble(header: dict, data: bytes, signed: bool = True) -> bytes:
    """A file from a header (``__metadata__`` first) and data bytes. ``signed``: the digest's key
    first in the metadata and a valid checksum; else the metadata as given (a chainrule file's
    digest, first, is then stale)."""
    meta = header.get("__metadata__", {})
    body = {k: v for k, v in header.items() if k != "__metadata__"}
    if signed:
        meta = {"chainrule.sha256": "0" * 64, **{k: v for k, v in meta.items() if k != "chainrule.sha256"}}
    text = json.dumps({"__metadata__": meta, **body}, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    raw = struct.pack("<Q", len(text)) + text + data
    return resign(raw) if signed else raw


def edit(raw: bytes, change, signed: bool = True) -> bytes:
    """``raw`` with ``change(header)`` applied to its parsed header, reassembled."""
    header, data = split(raw)
    change(header)
    return assemble(header, data, signed)
