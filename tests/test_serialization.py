"""chainrule.save / chainrule.load: round trips of checkpoints, interop with torch through
safetensors.torch, refusal of pickles (nothing executed), truncated and corrupted files (the
checksum, and the checks behind it). Files on disk: test_serialization_files.py; hostile and
oversized inputs: test_serialization_limits.py; fuzzing: test_serialization_fuzz.py."""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import safetensors.torch
import torch
from checkpoints import c, checkpoint, edit, same

import chainrule

DTYPES = ["float32", "float64", "int64", "bool", "float16", "int32", "uint8"]


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
    with pytest.raises(ValueError, match="SHA-256"):
        chainrule.load(tmp_path / "flip")


def _meta(key, value):
    def change(h):
        h["__metadata__"][key] = value

    return change


def _offsets(h):
    key = next(k for k in h if k != "__metadata__" and h[k]["data_offsets"][1] > 16)
    h[key]["data_offsets"][0] += 4  # the tensor's bytes no longer match its shape


def _lr(h):  # the silent corruption: lr 0.001 -> 1.001 in the structure's JSON
    h["__metadata__"]["chainrule"] = h["__metadata__"]["chainrule"].replace('"lr":0.001', '"lr":1.001')


def _swap(h):  # another tensor's values: a bias and a same-shaped buffer swap their data
    a, b = h["model.fc1.bias"], h["optimizer.state.1.exp_avg"]
    a["data_offsets"], b["data_offsets"] = b["data_offsets"], a["data_offsets"]


# edits a corrupted or hand-edited file shows; unsigned (the checksum is stale), so each is caught
# by it, and signed (the checksum recomputed: what a writer with a bug or a hostile tool makes),
# so each reaches the check behind it
EDITS = {
    "offsets": (_offsets, "bytes, its data_offsets"),
    "lr": (_lr, None),  # signed, these load as written: a checksum is not a signature
    "swap": (_swap, None),
    "structure-json": (_meta("chainrule", "{oops"), "corrupted chainrule structure"),
    "missing-tensor": (_meta("chainrule", '{"__tensor__": "nope"}'), "does not hold"),
    "bad-tag": (_meta("chainrule", '{"__tuple__": 3}'), "needs a list"),
    "extra-key": (_meta("chainrule", '{"__tuple__": [], "x": 1}'), "other keys"),
    "requires-grad": (_meta("chainrule", '{"__tensor__": "rng", "requires_grad": true}'), "uint8"),
    "version": (_meta("chainrule.format", "99"), "format '99'"),
    "no-structure": (lambda h: h["__metadata__"].pop("chainrule"), "without its structure"),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_edited_headers_fail_the_checksum(tmp_path, good, name) -> None:
    path = tmp_path / name
    path.write_bytes(edit(good[1], EDITS[name][0], signed=False))
    with pytest.raises(ValueError, match="corrupted") as info:
        chainrule.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", [n for n in EDITS if EDITS[n][1]])
def test_signed_hostile_headers_are_refused_naming_the_problem(tmp_path, good, name) -> None:
    change, message = EDITS[name]
    path = tmp_path / name
    path.write_bytes(edit(good[1], change))
    with pytest.raises(ValueError, match=message) as info:
        chainrule.load(path)
    assert str(path) in str(info.value)


CORRUPTIONS = {
    "garbage": (lambda raw: np.random.default_rng(1).bytes(64), "not a safetensors|corrupted|truncated"),
    "header-length": (lambda raw: struct.pack("<Q", 2**40) + raw[8:], "corrupted"),
    "header-json": (lambda raw: raw[:8] + b"#" + raw[9:], "header is corrupted"),
    "digest": (lambda raw: raw[:60] + (b"1" if raw[60:61] != b"1" else b"2") + raw[61:], "SHA-256"),
    "zeros": (lambda raw: bytes(len(raw)), "header of 0 bytes"),
    "appended": (lambda raw: raw + b"\0", "1 bytes after"),
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
