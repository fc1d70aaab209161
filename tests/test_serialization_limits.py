"""chainrule.load on adversarial and oversized inputs: every malformed file is a ValueError naming the
file and the problem (never RecursionError, TypeError, a NumPy error or a hang), and what is read
is bounded by the file's size and the header's limits, checked before the body is read."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from checkpoints import DIGEST_AT, assemble, checkpoint, edit, split

import chainrule


def plain(header: dict, data: bytes = b"") -> bytes:
    """A safetensors file without chainrule metadata (as another tool writes it): no checksum."""
    return assemble(header, data, signed=False)


def entry(dtype: str, shape: list, begin: int, end: int) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def refused(tmp_path, raw: bytes, message: str, name: str = "bad.safetensors") -> ValueError:
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message) as info:
        chainrule.load(path)
    assert str(path) in str(info.value)
    return info.value


@pytest.fixture
def good(tmp_path) -> bytes:
    chainrule.save(checkpoint(), tmp_path / "good")
    return (tmp_path / "good").read_bytes()


# ---- the adversarial headers ----------------------------------------------------------------
def test_deeply_nested_json_is_refused_before_parsing(tmp_path, good) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    raw = struct.pack("<Q", 8 + len(deep)) + b'{"a": ' + deep + b"}" + b"  "
    refused(tmp_path, raw, "nests 200001 levels deep")
    # in a signed checkpoint's structure (a string inside the header, parsed after the checksum)
    nested = edit(good, lambda h: h["__metadata__"].update(chainrule="[" * 5000 + "]" * 5000))
    refused(tmp_path, nested, "nests 5000 levels deep")
    strings = edit(good, lambda h: h["__metadata__"].update(chainrule='["[[[[", {"a": "}}}"}]'))
    (tmp_path / "ok").write_bytes(strings)  # brackets inside strings don't count
    assert chainrule.load(tmp_path / "ok") == ["[[[[", {"a": "}}}"}]


def test_the_depth_limit_is_the_same_for_save_and_load(tmp_path, good) -> None:
    for depth in (100, 101):
        text = "[" * depth + "]" * depth
        path = tmp_path / f"d{depth}"
        path.write_bytes(edit(good, lambda h, text=text: h["__metadata__"].update(chainrule=text)))
        if depth == 100:
            assert chainrule.load(path) == json.loads(text)
        else:
            with pytest.raises(ValueError, match="at most 100"):
                chainrule.load(path)
    obj: list = []
    for _ in range(40):
        obj = [obj]
    with pytest.raises(ValueError, match="nests containers 34 deep"):
        chainrule.save(obj, tmp_path / "deep")
    obj = []
    for _ in range(32):
        obj = {1: obj}  # a dict with a non-string key: 3 JSON levels each
    chainrule.save(obj, tmp_path / "deepest")
    assert chainrule.load(tmp_path / "deepest") == obj


@pytest.mark.parametrize(
    "value, message",
    [
        (5, "strings to strings"),
        (["a" * 64], "strings to strings"),
        (None, "strings to strings"),
        ("abc", "not 64 hex digits"),
        ("G" * 64, "not 64 hex digits"),
    ],
    ids=["number", "list", "null", "short", "not-hex"],
)
def test_a_checksum_of_the_wrong_type_is_refused(tmp_path, good, value, message) -> None:
    header, data = split(good)
    header["__metadata__"]["chainrule.sha256"] = value
    refused(tmp_path, assemble(header, data, signed=False), message)


def test_a_checkpoint_without_its_checksum_is_refused(tmp_path, good) -> None:
    header, data = split(good)
    del header["__metadata__"]["chainrule.sha256"]
    refused(tmp_path, assemble(header, data, signed=False), "no chainrule.sha256 checksum")
    header["__metadata__"]["chainrule.format"] = "1"  # what the first format looked like
    refused(tmp_path, assemble(header, data, signed=False), "older chainrule.*format 1")
    moved = {"__metadata__": {"format": "pt", **header["__metadata__"], "chainrule.sha256": "0" * 64}}
    refused(
        tmp_path, assemble({**header, **moved}, data, signed=False), "not 64 hex digits at the header's start"
    )


@pytest.mark.parametrize(
    "shape, message",
    [
        ([1] * 65, "65 dimensions"),
        ([0, 2**63], "sizes must be integers from 0"),
        ([0, 2**61], "too big for an array"),
        ([-1, 2], "sizes must be integers from 0"),
        ([2.0], "sizes must be integers from 0"),
        ([True], "sizes must be integers from 0"),
        ("3", "sizes must be integers from 0"),
        ([2**40], "needs 4398046511104 bytes"),
    ],
)
def test_impossible_shapes_are_refused(tmp_path, shape, message) -> None:
    refused(tmp_path, plain({"w": entry("F32", shape, 0, 0)}), message)


def test_extreme_but_valid_shapes_load_as_torch_makes_them(tmp_path) -> None:
    raw = plain({"a": entry("F32", [1] * 64, 0, 4), "b": entry("F32", [0, 2**60], 4, 4)}, b"\0\0\x80?")
    (tmp_path / "x").write_bytes(raw)
    back = chainrule.load(tmp_path / "x")
    assert back["a"].shape == torch.ones([1] * 64).shape and back["a"].item() == 1.0
    assert back["b"].shape == (0, 2**60) and back["b"].numel() == 0


@pytest.mark.parametrize(
    "header, message",
    [
        ({"w": entry("F32", [2], 0, 8), "v": entry("F32", [2], 4, 12)}, "overlaps"),
        ({"w": entry("F32", [2], 4, 12)}, "gap of 4 bytes"),
        ({"w": entry("F32", [2], 0, 4)}, "needs 8 bytes"),
        ({"w": entry("F32", [2], -8, 0)}, "not \\[begin, end\\]"),
        ({"w": entry("F32", [2], 0, 8.0)}, "not \\[begin, end\\]"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "x": 1}}, "needs dtype, shape"),
        ({"w": {"dtype": "F32", "shape": [2]}}, "needs dtype, shape"),
        ({"w": [1, 2]}, "needs dtype, shape"),
        ({"w": entry(7, [2], 0, 8)}, "not a string"),
        ({"w": entry("F8_E4M3", [2], 0, 2)}, "does not support"),
        ({"__metadata__": {"a": 1}}, "strings to strings"),
        ({"__metadata__": ["a"]}, "strings to strings"),
    ],
    ids=lambda x: "" if isinstance(x, dict) else x,
)
def test_malformed_tensor_tables_are_refused(tmp_path, header, message) -> None:
    refused(tmp_path, plain(header, bytes(8)), message)


def test_length_fields_are_checked_against_the_files_size(tmp_path, good) -> None:
    (n,) = struct.unpack("<Q", good[:8])
    refused(tmp_path, struct.pack("<Q", len(good)) + good[8:], "truncated: its header needs")
    refused(
        tmp_path, plain({"w": entry("F64", [2**37], 0, 2**40)}, bytes(16)), "describes 1099511627776 bytes"
    )
    refused(tmp_path, good[: 8 + n + 3], "truncated")
    refused(tmp_path, good + bytes(5), "5 bytes after")


def test_other_header_damage(tmp_path) -> None:
    refused(tmp_path, struct.pack("<Q", 8) + b' {"a":1}', "starts with b' '")
    refused(tmp_path, struct.pack("<Q", 8) + b"[1,2,34]", "starts with b'\\['")
    refused(tmp_path, struct.pack("<Q", 8) + b'{"a":"\xff"}', "corrupted header")  # not UTF-8
    refused(tmp_path, struct.pack("<Q", 8) + b'{"a":1} ', "a JSON dict|needs dtype")
    twice = (
        struct.pack("<Q", 48)
        + (b'{"w":' + json.dumps(entry("U8", [0], 0, 0)).encode()).ljust(40)
        + b',"w":1}'
    )
    refused(tmp_path, twice[:8] + twice[8:].ljust(48), "appears twice|corrupted header")
    refused(tmp_path, plain({"b": entry("BOOL", [2], 0, 2)}, b"\x01\x02"), "bytes other than 0 and 1")


def test_a_tensor_under_safetensors_reserved_key_round_trips(tmp_path) -> None:
    sd = {"__metadata__": chainrule.ones(2), "w": chainrule.zeros(1)}
    chainrule.save(sd, tmp_path / "x")
    back = chainrule.load(tmp_path / "x")
    assert list(back) == ["__metadata__", "w"] and back["__metadata__"].tolist() == [1.0, 1.0]


# ---- huge inputs: refused after reading a few bytes ---------------------------------------------------
@pytest.mark.parametrize("first", [b"\0" * 8, struct.pack("<Q", 2**31), struct.pack("<Q", 16) + b"x"])
def test_a_huge_file_is_refused_after_its_first_bytes(tmp_path, first) -> None:
    """A 3 GiB file (sparse: no disk used) that is not a checkpoint: refused after reading at most
    one buffer of it (the file object's position says how far the reader went)."""
    path = tmp_path / "huge.bin"
    with open(path, "wb") as f:
        f.write(first)
        f.truncate(3 * 2**30)
    with open(path, "rb") as f:
        with pytest.raises(ValueError, match="huge.bin"):
            chainrule.load(f)
        assert f.tell() <= 16
    with pytest.raises(ValueError, match="huge.bin"):
        chainrule.load(path)


DEV_ZERO = textwrap.dedent("""
    import resource, sys
    import chainrule
    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) for line in f if line.startswith("VmSize:")) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, resource.RLIM_INFINITY))  # 1 GiB more at most
    for source in ("/dev/zero", open("/dev/zero", "rb"), "/dev/urandom"):
        try:
            chainrule.load(source)
        except ValueError as e:
            print(type(e).__name__, str(e))
""")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_devices_are_refused_after_a_few_bytes() -> None:
    out = subprocess.run([sys.executable, "-c", DEV_ZERO], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    zero = "ValueError load: '/dev/zero' is not a safetensors file or is corrupted: its first 8 bytes give "
    zero += "a header of 0"
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith(zero) for line in lines[:2]), out.stdout
    assert lines[2].startswith("ValueError load: '/dev/urandom' "), out.stdout  # random bytes: some error


def test_a_checkpoint_file_object_in_text_mode_is_a_type_error(tmp_path, good) -> None:
    (tmp_path / "g").write_bytes(good)
    with open(tmp_path / "g", encoding="latin-1") as f, pytest.raises(TypeError, match="binary mode"):
        chainrule.load(f)


def test_the_digest_sits_where_the_format_says(good) -> None:
    """docs/security.md's description: 64 hex digits after the prefix; the SHA-256 of the file with
    them read as zeros (computed here without chainrule)."""
    import hashlib

    digest = good[DIGEST_AT : DIGEST_AT + 64]
    zeroed = good[:DIGEST_AT] + b"0" * 64 + good[DIGEST_AT + 64 :]
    assert hashlib.sha256(zeroed).hexdigest().encode() == digest
    header, _ = split(good)
    assert list(header["__metadata__"]) == ["chainrule.sha256", "chainrule.format", "format", "chainrule"]
    assert header["__metadata__"]["chainrule.format"] == "2"
    ends = sorted(tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__")
    starts = {k: v["data_offsets"][0] for k, v in header.items() if k != "__metadata__"}
    assert ends[0][0] == 0 and all(a[1] == b[0] for a, b in zip(ends, ends[1:]))
    itemsize = {"F64": 8, "I64": 8, "F32": 4, "I16": 2, "U8": 1, "BOOL": 1}
    assert all(starts[k] % itemsize[header[k]["dtype"]] == 0 for k in starts)  # aligned
    assert np.frombuffer(good[:8], "<u8")[0] % 8 == 0
