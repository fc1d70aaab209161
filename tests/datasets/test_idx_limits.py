"""read_idx on hostile gzip files: a decompression bomb (a header claiming 10 bytes, a gzip inflating
to 1 GiB) is refused after inflating one byte past what the header claims, measured with
tracemalloc; a header claiming more than any gzip of the file's size can inflate to is refused
before inflating; multi-member gzip files (valid, as gzip(1) concatenates them) still read."""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from test_mnist import idx_bytes, write

import chainrule.datasets as cds


def test_a_decompression_bomb_is_refused_without_inflating_it(tmp_path) -> None:
    claim = idx_bytes(np.arange(10, dtype=np.uint8))  # 14 header bytes + the 10 bytes it claims
    zeros = gzip.compress(bytes(16 * 2**20), compresslevel=9)  # 16 MiB of zeros in ~16 KiB
    path = write(tmp_path / "bomb-idx1-ubyte.gz", gzip.compress(claim) + zeros * 64)  # +1 GiB inflated
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="inflates to data longer than its header says") as info:
            cds.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert path in str(info.value) and "[10]" in str(info.value)
    assert peak < 8 * 2**20, f"read_idx took {peak / 2**20:.0f} MiB to refuse a bomb"


def test_a_header_claiming_more_than_the_gzip_can_hold_is_refused_before_inflating(tmp_path) -> None:
    head = bytes([0, 0, 0x0E, 3]) + struct.pack(">III", 2**16, 2**16, 2**10)  # 32 TiB of float64
    path = write(tmp_path / "x-idx3-ubyte", head + bytes(100), gz=True)
    with pytest.raises(ValueError, match=r"truncated: shape \[65536, 65536, 1024\] of float64 needs") as info:
        cds.read_idx(path)
    assert "inflates to at most" in str(info.value)
    raw = write(tmp_path / "y-idx3-ubyte", head + bytes(100))
    with pytest.raises(ValueError, match="the file holds 100"):
        cds.read_idx(raw)


def test_multi_member_gzip_files_read_whole(tmp_path) -> None:
    a = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    data = idx_bytes(a)
    path = write(tmp_path / "m-idx3-ubyte.gz", gzip.compress(data[:100]) + gzip.compress(data[100:]))
    np.testing.assert_array_equal(cds.read_idx(path), a)
    bad_crc = bytearray(gzip.compress(data))
    bad_crc[-8] ^= 1  # the trailer's CRC-32: checked once the data is read
    with pytest.raises(ValueError, match="truncated or corrupted"):
        cds.read_idx(write(tmp_path / "c-idx3-ubyte.gz", bytes(bad_crc)))
