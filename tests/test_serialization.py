"""chainrule.save / chainrule.load: round trips of checkpoints, interop with torch through
safetensors.torch, refusal of pickles (nothing executed), truncated and corrupted files, and
atomic saves that survive a real SIGKILL."""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import safetensors.torch
import torch

import chainrule

DTYPES = ["float32", "float64", "int64", "bool", "float16", "int32", "uint8"]


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
        assert a.dtype == b.dtype, path
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


def test_round_trip_of_a_nested_checkpoint(tmp_path) -> None:
    ck = checkpoint()
    path = tmp_path / "ck.safetensors"
    chainrule.save(ck, path)
    back = chainrule.load(path)
    same(ck, back)
    w = back["model"]["fc1.weight"]
    w.add_(1.0)  # loaded tensors are writable and own their memory
    assert not np.array_equal(w.numpy(), ck["model"]["fc1.weight"].numpy())
    assert [f for f in os.listdir(tmp_path)] == ["ck.safetensors"]  # no temporary file left


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 1)])
def test_tensor_dtypes_and_shapes(tmp_path, dtype, shape) -> None:
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype)
    chainrule.save({"t": c(a), "view": c(np.arange(12.0).reshape(3, 4)).t()}, tmp_path / "x")
    back = chainrule.load(tmp_path / "x")
    assert back["t"].dtype == getattr(chainrule, dtype if dtype != "bool" else "bool")
    assert tuple(back["t"].shape) == shape
    np.testing.assert_array_equal(back["t"].numpy(), a)
    np.testing.assert_array_equal(back["view"].numpy(), np.arange(12.0).reshape(3, 4).T)


def test_requires_grad_and_shared_tensors(tmp_path) -> None:
    w = chainrule.randn(3, requires_grad=True)
    chainrule.save({"a": w, "b": [w], "n": chainrule.ones(2)}, tmp_path / "x")
    back = chainrule.load(tmp_path / "x")
    assert back["a"].requires_grad and not back["n"].requires_grad
    assert back["a"] is back["b"][0]  # one tensor saved twice loads as one tensor
    np.testing.assert_array_equal(back["a"].detach().numpy(), w.detach().numpy())


def test_a_lone_tensor_and_file_objects(tmp_path) -> None:
    buf = io.BytesIO()
    chainrule.save(chainrule.arange(5), buf)
    buf.seek(0)
    same(chainrule.load(buf), chainrule.arange(5))
    with open(tmp_path / "f", "wb") as f:
        chainrule.save({"x": chainrule.ones(2)}, f)
    with open(tmp_path / "f", "rb") as f:
        same(chainrule.load(f, map_location="cpu", weights_only=True), {"x": chainrule.ones(2)})


# ---- interop with torch through safetensors --------------------------------------------------------
def test_chainrule_flat_state_dict_loads_in_torch(tmp_path) -> None:
    sd = {k: v for k, v in checkpoint()["model"].items()}
    chainrule.save(sd, tmp_path / "m.safetensors")
    theirs = safetensors.torch.load_file(tmp_path / "m.safetensors")
    assert sorted(theirs) == sorted(sd)  # the state dict's own keys
    for k, v in sd.items():
        assert str(theirs[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1]
        np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())
        assert tuple(theirs[k].shape) == tuple(v.shape)


def test_torch_state_dict_loads_in_chainrule(tmp_path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    sd = model.state_dict()
    sd["half"] = torch.randn(2).half()
    sd["flags"] = torch.tensor([True, False])
    safetensors.torch.save_file(sd, tmp_path / "t.safetensors", metadata={"format": "pt"})
    ours = chainrule.load(tmp_path / "t.safetensors")
    assert sorted(ours) == sorted(sd)
    for k, v in sd.items():
        assert isinstance(ours[k], chainrule.Tensor)
        assert str(ours[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1], k
        assert tuple(ours[k].shape) == tuple(v.shape), k  # incl. 0-d num_batches_tracked
        np.testing.assert_array_equal(ours[k].numpy(), v.numpy())


def test_nested_checkpoint_tensors_are_readable_by_torch(tmp_path) -> None:
    chainrule.save(checkpoint(), tmp_path / "ck")
    theirs = safetensors.torch.load_file(tmp_path / "ck")
    assert "model.fc1.weight" in theirs and "optimizer.state.0.exp_avg" in theirs
    np.testing.assert_array_equal(
        theirs["model.fc1.weight"].numpy(), checkpoint()["model"]["fc1.weight"].numpy()
    )


def test_dtypes_chainrule_lacks_are_refused_clearly(tmp_path) -> None:
    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.float8_e4m3fn)}, tmp_path / "f8")
    with pytest.raises(ValueError, match="F8_E4M3"):
        chainrule.load(tmp_path / "f8")


def test_bfloat16_and_complex64_files_of_torch_load(tmp_path) -> None:
    w = torch.tensor([1.5, -2.7], dtype=torch.bfloat16)
    z = torch.tensor([1 + 2j, -1j])
    try:
        safetensors.torch.save_file({"w": w, "z": z}, tmp_path / "bf")
    except KeyError:  # the writer, not chainrule: safetensors 0.4.4 (our floor) has no torch complex64
        pytest.skip(f"safetensors {safetensors.__version__} cannot write torch's complex64")
    back = chainrule.load(tmp_path / "bf")
    assert back["w"].dtype == chainrule.bfloat16 and back["w"].float().tolist() == w.float().tolist()
    assert back["z"].dtype == chainrule.complex64 and back["z"].tolist() == z.tolist()


# ---- pickles are never loaded ---------------------------------------------------------------------
class Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("writer", ["torch.save", "torch.save legacy", "pickle 2", "pickle 5"])
def test_pickle_files_are_refused_and_nothing_runs(tmp_path, writer) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    obj = {"w": torch.ones(2), "x": Evil(marker)}
    if writer == "torch.save":
        torch.save(obj, path)
    elif writer == "torch.save legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(obj, protocol=int(writer[-1])))
    with pytest.raises(ValueError, match="never unpickles") as info:
        chainrule.load(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_the_pickle_payload_is_real(tmp_path) -> None:
    """The payload above does run under a plain unpickler (in another process)."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Evil(marker)))
    subprocess.run(
        [sys.executable, "-c", f"import pickle; pickle.load(open({str(path)!r}, 'rb'))"],
        timeout=60,
        check=True,
    )
    assert marker.exists()


# ---- truncated and corrupted files --------------------------------------------------------------------
@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.safetensors"
    chainrule.save(checkpoint(), path)
    return path, path.read_bytes()


def test_truncated_files_are_rejected(tmp_path, good) -> None:
    _, raw = good
    (header_len,) = struct.unpack("<Q", raw[:8])
    cuts = [0, 3, 8, 8 + header_len // 2, 8 + header_len, 8 + header_len + 5, len(raw) - 1]
    for cut in cuts:
        bad = tmp_path / f"cut{cut}"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="truncated|too short") as info:
            chainrule.load(bad)
        assert str(bad) in str(info.value)


def test_corrupted_tensor_bytes_fail_the_checksum(tmp_path, good) -> None:
    _, raw = good
    bad = bytearray(raw)
    bad[-20] ^= 0xFF  # inside the tensor data
    (tmp_path / "flip").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="CRC-32"):
        chainrule.load(tmp_path / "flip")


def _with_header(raw: bytes, edit) -> bytes:
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    edit(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + raw[8 + n :]


def _meta(key, value):
    def edit(h):
        h["__metadata__"][key] = value

    return edit


def _offsets(h):
    key = next(k for k in h if k != "__metadata__" and h[k]["data_offsets"][1] > 16)
    h[key]["data_offsets"][0] += 4  # the tensor's bytes no longer match its shape


CORRUPTIONS = {
    "garbage": (lambda raw: np.random.default_rng(1).bytes(64), "not a safetensors|corrupted|truncated"),
    "header-length": (lambda raw: struct.pack("<Q", 2**40) + raw[8:], "corrupted"),
    "header-json": (lambda raw: raw[:8] + b"#" + raw[9:], "header is corrupted"),
    "offsets": (lambda raw: _with_header(raw, _offsets), "not a valid safetensors|corrupted"),
    "structure-json": (lambda raw: _with_header(raw, _meta("chainrule", "{oops")), "corrupted"),
    "missing-tensor": (
        lambda raw: _with_header(raw, _meta("chainrule", '{"__tensor__": "nope"}')),
        "does not hold",
    ),
    "bad-tag": (lambda raw: _with_header(raw, _meta("chainrule", '{"__tuple__": 3}')), "corrupted"),
    "version": (lambda raw: _with_header(raw, _meta("chainrule.format", "99")), "format"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupted_files_are_rejected(tmp_path, good, name) -> None:
    make, message = CORRUPTIONS[name]
    path = tmp_path / name
    path.write_bytes(make(good[1]))
    with pytest.raises(ValueError, match=message) as info:
        chainrule.load(path)
    assert str(path) in str(info.value)


# ---- what save refuses, and where it writes -------------------------------------------------------
def test_unsupported_objects_are_refused_naming_where(tmp_path) -> None:
    class Model:
        def state_dict(self):
            return {}

    for obj, where in (
        ({"a": [1, len]}, r"obj\['a'\]\[1\]"),
        ({"m": Model()}, "state_dict"),
        ({"s": {1, 2}}, "set"),
        ({"c": 1j}, "complex"),
    ):
        with pytest.raises(TypeError, match=where):
            chainrule.save(obj, tmp_path / "x")
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        chainrule.save(loop, tmp_path / "x")
    assert not os.listdir(tmp_path)


def test_failed_save_keeps_the_previous_file(tmp_path) -> None:
    path = tmp_path / "ck"
    chainrule.save({"step": 1}, path)
    with pytest.raises(TypeError):
        chainrule.save({"step": 2, "bad": object()}, path)
    assert chainrule.load(path) == {"step": 1}
    assert os.listdir(tmp_path) == ["ck"]


def test_bad_destinations(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        chainrule.save({}, tmp_path / "no" / "such" / "x")
    with pytest.raises(IsADirectoryError, match="folder"):
        chainrule.save({}, tmp_path)
    with pytest.raises(RuntimeError, match="CUDA"):
        chainrule.save({}, tmp_path / "x") or chainrule.load(tmp_path / "x", map_location="cuda")


def test_save_through_a_symlink_replaces_its_target(tmp_path) -> None:
    (tmp_path / "real").mkdir()
    chainrule.save({"v": 1}, tmp_path / "real" / "ck")
    os.symlink(tmp_path / "real" / "ck", tmp_path / "link")
    chainrule.save({"v": 2}, tmp_path / "link")
    assert os.path.islink(tmp_path / "link")
    assert chainrule.load(tmp_path / "real" / "ck") == {"v": 2}


# ---- a save killed midway ----------------------------------------------------------------------------
SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import chainrule
    path = sys.argv[1]
    w = np.empty(16_000_000, np.float32)  # 64 MB: a save takes tens of milliseconds
    step = 0
    while True:
        w.fill(step)
        print("start", step, flush=True)
        chainrule.save({"step": step, "model": {"w": chainrule.from_numpy(w)}}, path)
        print("done", step, flush=True)
        step += 1
""")


def _kill_during_save(folder, path, delay: float | None) -> int:
    """Run SAVER until its third save starts, SIGKILL it ``delay`` seconds later (None: as soon as
    its temporary file appears, i.e. mid-write); return the last step it reported done."""
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    done = -1
    try:
        for line in proc.stdout:
            what, step = line.split()
            if what == "done":
                done = int(step)
            elif int(step) == 2:
                break
        if delay is None:
            deadline = time.monotonic() + 30
            while not any(f.endswith(".tmp") for f in os.listdir(folder)):
                assert proc.poll() is None and time.monotonic() < deadline, "the saver never wrote"
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        for line in proc.stdout:  # what it reported before the signal landed
            what, step = line.split()
            if what == "done":
                done = int(step)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return done


@pytest.mark.parametrize("delay", [None, 0.0, 0.03], ids=["mid-write", "at-start", "later"])
def test_sigkill_during_save_leaves_the_previous_checkpoint(tmp_path, delay) -> None:
    path = tmp_path / "ck.safetensors"
    done = _kill_during_save(tmp_path, path, delay)
    back = chainrule.load(path)  # whole: the last finished save, or the killed one if it got renamed
    assert done >= 1 and back["step"] in (done, done + 1)
    w = back["model"]["w"].numpy()
    assert w.shape == (16_000_000,) and (w == back["step"]).all()
    leftovers = [f for f in os.listdir(tmp_path) if f != path.name]
    assert all(f.startswith(".ck.safetensors.") and f.endswith(".tmp") for f in leftovers), leftovers
    if delay is None:  # killed mid-write: the partial file is the temporary one, never the checkpoint
        assert len(leftovers) == 1 and os.path.getsize(tmp_path / leftovers[0]) <= os.path.getsize(path)
