"""Reading IDX files, the format MNIST is distributed in (raw or gzip-compressed).

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian int32
sizes, then the values, big-endian, in C order. Every size and length is checked, so a truncated
download or a file of another kind gives an error naming the file and the problem.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

__all__ = ["read_idx", "IDX_TYPES"]

# type code -> NumPy dtype (big-endian as stored)
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(
            f"IDX file '{path}' is gzip-compressed but cannot be decompressed ({e}): the "
            "file is truncated or corrupted; download it again"
        ) from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or not, recognised by content).

    Parameters
    ----------
    path : str or PathLike
        The file, e.g. ``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        A writable array in native byte order, of the dtype and shape the header gives.

    Raises
    ------
    ValueError
        When the magic number, the type code, the header or the data length is wrong.
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(
            f"IDX file '{path}' is too short ({len(raw)} bytes) to hold the 4-byte magic "
            "number: it is truncated or empty"
        )
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"'{path}' is not an IDX file: its magic number starts with bytes "
            f"{raw[:2].hex(' ')} instead of 00 00 (an HTML error page or another format "
            "saved under this name?)"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_TYPES.items())
        raise ValueError(
            f"IDX file '{path}' has unknown type code 0x{code:02X} in its magic number; "
            f"IDX type codes are {known}"
        )
    if ndim == 0:
        raise ValueError(f"IDX file '{path}' declares 0 dimensions in its magic number; expected 1 or more")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"IDX file '{path}' is truncated: its {ndim} dimension sizes need {header} header "
            f"bytes but the file has {len(raw)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(raw) - header
    if have != need:
        what = "truncated" if have < need else "longer than its header says (corrupted?)"
        raise ValueError(
            f"IDX file '{path}' is {what}: shape {list(shape)} of {dtype.name} needs {need} "
            f"bytes of data, the file holds {have}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable copy in native byte order
