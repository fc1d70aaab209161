"""Reading IDX files, the format MNIST is distributed in (raw or gzip-compressed).

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian int32
sizes, then the values, big-endian, in C order. Every size and length is checked, so a truncated
download or a file of another kind gives an error naming the file and the problem; a gzip file is
inflated only as far as its header's sizes reach, so a decompression bomb costs nothing.
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
# Deflate encodes at most 258 bytes in a match of >= 2 bits: no gzip inflates to more than ~1032x
# its size, so a header claiming more than that is refused before anything is inflated
_MAX_INFLATION = 1032
_CHUNK = 1 << 20


class _Reader:
    """An IDX file's bytes, raw or inflated on the fly, read exactly as asked: a gzip is inflated
    only as far as the header's sizes reach (plus one byte, to see that it ends there)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = open(path, "rb")
        self.size = os.fstat(self.file.fileno()).st_size
        self.gzip = self.file.read(2) == _GZIP_MAGIC
        self.file.seek(0)
        self.stream = gzip.GzipFile(fileobj=self.file, mode="rb") if self.gzip else self.file

    def close(self) -> None:
        if self.gzip:
            self.stream.close()
        self.file.close()

    def _fail(self, e: Exception) -> ValueError:
        return ValueError(
            f"IDX file '{self.path}' is gzip-compressed but cannot be decompressed ({e}): the "
            "file is truncated or corrupted; download it again"
        )

    def read_into(self, view: memoryview) -> int:
        """Fill ``view`` as far as the data goes; the number of bytes read."""
        got = 0
        try:
            while got < len(view):
                n = self.stream.readinto(view[got : got + _CHUNK])
                if not n:
                    break
                got += n
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise self._fail(e) from None
        return got

    def read(self, n: int) -> bytes:
        buf = bytearray(n)
        return bytes(buf[: self.read_into(memoryview(buf))])

    def more(self) -> bool:
        """Whether any byte follows (for a gzip this also checks its CRC and length trailer)."""
        return bool(self.read(1))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or not, recognised by content).

    The file is read in one pass, never more than its header's sizes announce: a gzip that
    inflates to more than that (a corrupted file or a decompression bomb) is refused after
    inflating one byte too many, and a header announcing more than the file can hold is refused
    before its data is read.

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
        When the magic number, the type code, the header or the data length is wrong, or a gzip
        file can't be inflated or inflates beyond the data its header gives.
    """
    path = os.fspath(path)
    reader = _Reader(path)
    try:
        return _read(reader, path)
    finally:
        reader.close()


def _read(reader: _Reader, path: str) -> np.ndarray:
    magic = reader.read(4)
    if len(magic) < 4:
        raise ValueError(
            f"IDX file '{path}' is too short ({len(magic)} bytes) to hold the 4-byte magic "
            "number: it is truncated or empty"
        )
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(
            f"'{path}' is not an IDX file: its magic number starts with bytes "
            f"{magic[:2].hex(' ')} instead of 00 00 (an HTML error page or another format "
            "saved under this name?)"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_TYPES.items())
        raise ValueError(
            f"IDX file '{path}' has unknown type code 0x{code:02X} in its magic number; "
            f"IDX type codes are {known}"
        )
    if ndim == 0:
        raise ValueError(f"IDX file '{path}' declares 0 dimensions in its magic number; expected 1 or more")
    sizes = reader.read(4 * ndim)
    header = 4 + 4 * ndim
    if len(sizes) < 4 * ndim:
        raise ValueError(
            f"IDX file '{path}' is truncated: its {ndim} dimension sizes need {header} header "
            f"bytes but the file has {4 + len(sizes)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(sizes, dtype=">u4"))
    dtype = IDX_TYPES[code]
    need = dtype.itemsize
    for s in shape:
        need *= s
    limit = reader.size * _MAX_INFLATION if reader.gzip else reader.size - header
    if need > limit:
        what = (
            f"a {reader.size}-byte gzip inflates to at most ~{limit}"
            if reader.gzip
            else f"the file holds {limit}"
        )
        raise ValueError(
            f"IDX file '{path}' is truncated: shape {list(shape)} of {dtype.name} needs {need} "
            f"bytes of data, {what}"
        )
    data = np.empty(shape, dtype)
    have = reader.read_into(memoryview(data.reshape(-1).view(np.uint8)))
    if have < need:
        raise ValueError(
            f"IDX file '{path}' is truncated: shape {list(shape)} of {dtype.name} needs {need} "
            f"bytes of data, the file holds {have}"
        )
    if reader.more():
        grew = "inflates to data longer" if reader.gzip else "is longer"
        raise ValueError(
            f"IDX file '{path}' {grew} than its header says (shape {list(shape)} of {dtype.name}: "
            f"{need} bytes of data): it is corrupted{' or a decompression bomb' if reader.gzip else ''}; "
            "it was not read further"
        )
    return data.astype(dtype.newbyteorder("="), copy=False)  # native order (a copy where it differs)
