"""The checkpoint file's bytes: a safetensors file whose header carries a SHA-256 of the whole file.

Layout (safetensors: https://github.com/huggingface/safetensors#format)::

    8 bytes    N, the header's length (little-endian uint64)
    N bytes    the header: UTF-8 JSON, padded with spaces to a multiple of 8
    the rest   the tensors' bytes, little-endian, C order, back to back

The header is ``{"__metadata__": {...strings...}, "<key>": {"dtype": "F32", "shape": [4, 3],
"data_offsets": [begin, end]}, ...}``, offsets counting from the data's start. A file chainrule
writes (checkpoint format 2) begins its header with ``{"__metadata__":{"chainrule.sha256":"`` and
64 hexadecimal digits: the SHA-256 of the whole file with those 64 digits read as ASCII zeros.
Every other byte is covered: the length, the metadata (the checkpoint's structure, numbers,
strings), the tensor table (keys, dtypes, shapes, offsets), the padding and the data.

Reading never trusts a field before checking it: the 8-byte length against the limit and the file's
size, the header's first byte, its nesting depth (before parsing it) and every field's type and
range, then the data's length against the file's size, all before the body is read; the body is
read straight into the arrays it fills (no second copy) and hashed on the way; the checksum is
compared before anything is returned. Every problem raises ValueError naming the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import sys
from collections.abc import Iterator
from typing import IO

import numpy as np

from .. import _dtype

DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "I16": np.dtype("<i2"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "C64": np.dtype("<c8"),
}
if _dtype.bfloat16 in _dtype.ALL:
    DTYPES["BF16"] = _dtype.bfloat16.np
_NAMES = {d.name: code for code, d in DTYPES.items()}  # NumPy dtype name -> safetensors dtype

MAX_HEADER = 100_000_000  # safetensors' own limit on the header's length
MAX_NDIM = 64  # torch's and NumPy's limit on a tensor's dimensions
MAX_DEPTH = 100  # nesting of the header's JSON and of the structure's (a real checkpoint: ~10)
FORMAT = "2"  # the checkpoint format: "1" had per-tensor CRC-32s only (see load's docstring)
DIGEST_KEY = "chainrule.sha256"
PREFIX = b'{"__metadata__":{"' + DIGEST_KEY.encode() + b'":"'
DIGEST_AT = 8 + len(PREFIX)  # the file offset of the digest's 64 hex digits
_ZEROS = b"0" * 64
_OUR_KEYS = (DIGEST_KEY, "chainrule.format", "chainrule", "chainrule.crc32")  # crc32: format 1
_CHUNK = 1 << 22  # converted (non-contiguous, big-endian) arrays are written 4 MiB at a time


def bad(name: str, what: str) -> ValueError:
    """The one error a malformed file raises: ValueError naming the file and the problem."""
    return ValueError(f"load: '{name}' {what}")


# ---- writing --------------------------------------------------------------------------------------
def _header(metadata: dict[str, str], arrays: dict[str, np.ndarray]) -> tuple[bytes, list[str]]:
    """The 8-byte length and the header (digest zeroed), and the order the tensors' bytes follow in:
    by decreasing item size, so each tensor starts aligned to its item size (as safetensors'
    writer lays them out)."""
    order = sorted(arrays, key=lambda k: -arrays[k].dtype.itemsize)  # stable: else first-seen order
    offsets, pos = {}, 0
    for key in order:
        offsets[key] = [pos, pos + arrays[key].nbytes]
        pos += arrays[key].nbytes
    header: dict = {"__metadata__": {DIGEST_KEY: _ZEROS.decode(), **metadata}}
    for key, a in arrays.items():
        header[key] = {"dtype": _NAMES[a.dtype.name], "shape": list(a.shape), "data_offsets": offsets[key]}
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as safetensors pads it
    return struct.pack("<Q", len(text)) + text, order


def _pieces(a: np.ndarray) -> Iterator[memoryview]:
    """An array's bytes, little-endian in C order: the array's own memory when it is already laid
    out so (no copy), else converted a bounded piece at a time (never a copy of the whole)."""
    little = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    if a.flags.c_contiguous and little == a.dtype:
        yield memoryview(a.reshape(-1).view(np.uint8))
        return
    if a.ndim == 0:
        yield memoryview(np.array(a, dtype=little).reshape(-1).view(np.uint8))
        return
    row = a[0].nbytes if len(a) else 0
    if row > _CHUNK:  # a single row is too big: convert it a sub-row at a time
        for i in range(len(a)):
            yield from _pieces(a[i])
        return
    step = max(1, _CHUNK // max(row, 1))
    for i in range(0, len(a), step):
        yield memoryview(np.ascontiguousarray(a[i : i + step], dtype=little).reshape(-1).view(np.uint8))


def write(f: IO[bytes], metadata: dict[str, str], arrays: dict[str, np.ndarray], seekable: bool) -> None:
    """Write a checkpoint to ``f`` at its position, streaming each tensor's memory to the file.

    With ``seekable`` (chainrule's own temporary file) in one pass: the header with a zeroed digest,
    the data hashed as it is written, then the digest written into its place. Otherwise in two: the
    data hashed first, then the header and the data written.
    """
    head, order = _header(metadata, arrays)
    digest = hashlib.sha256(head)
    if seekable:
        start = f.tell()
        f.write(head)
        for key in order:
            for piece in _pieces(arrays[key]):
                digest.update(piece)
                f.write(piece)
        end = f.tell()
        f.seek(start + DIGEST_AT)
        f.write(digest.hexdigest().encode())
        f.seek(end)
        return
    for key in order:
        for piece in _pieces(arrays[key]):
            digest.update(piece)
    f.write(head[:DIGEST_AT] + digest.hexdigest().encode() + head[DIGEST_AT + 64 :])
    for key in order:
        for piece in _pieces(arrays[key]):
            f.write(piece)


# ---- reading --------------------------------------------------------------------------------------
def _kind_of_foreign(raw: bytes) -> str | None:
    if raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (the legacy torch.save format)"
    if raw[:4] == b"PK\x03\x04":
        return "a zip archive (torch.save's format: pickled code inside)"
    if raw[:2] == b"\x1f\x8b":
        return "a gzip file"
    return None


class _Source:
    """A binary file being read in exact amounts."""

    def __init__(self, f: IO[bytes], name: str) -> None:
        self.f, self.name = f, name
        self.readinto = getattr(f, "readinto", None)

    def read(self, n: int, what: str) -> bytes:
        parts, got = [], 0
        while got < n:
            chunk = self.f.read(min(n - got, _CHUNK))
            if not isinstance(chunk, bytes | bytearray):
                raise TypeError(f"load: '{self.name}' must be opened in binary mode ('rb'), not text mode")
            if not chunk:
                raise bad(self.name, f"is truncated: it ends inside {what} ({got} of {n} bytes)")
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def fill(self, view: memoryview, what: str) -> None:
        """Read ``len(view)`` bytes into ``view`` (an array's memory: no intermediate copy)."""
        got = 0
        while got < len(view):
            if self.readinto is not None:
                n = self.readinto(view[got:])
            else:
                chunk = self.f.read(min(len(view) - got, _CHUNK))
                n = len(chunk) if chunk else 0
                view[got : got + n] = chunk
            if not n:
                raise bad(self.name, f"is truncated: it ends inside {what} ({got} of {len(view)} bytes)")
            got += n


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = np.zeros(256, np.int64)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


def json_depth(text: bytes) -> int:
    """How deeply ``text``'s arrays and objects nest, without parsing it (so without recursion):
    strings dropped, brackets counted, a million at a time."""
    brackets = _JSON_STRING.sub(b"", text).translate(None, _BRACKETS)
    deepest = level = 0
    for i in range(0, len(brackets), 1 << 20):
        levels = (
            np.cumsum(_STEP[np.frombuffer(brackets, np.uint8, min(1 << 20, len(brackets) - i), i)]) + level
        )
        deepest, level = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


def _unique(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {duplicate!r:.80} appears twice in one object")
    return out


def parse_json(text: bytes, name: str, what: str, unique_keys: bool = False):
    """Parse JSON from a file, depth-bounded first (``unique_keys``: refuse a key given twice in an
    object); any problem is ``bad(name, ...)``."""
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise bad(name, f"has a corrupted {what}: its JSON nests {depth} levels deep (at most {MAX_DEPTH})")
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=_unique if unique_keys else None)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise bad(name, f"has a corrupted {what} ({e})") from None


def _is_int(x) -> bool:
    return type(x) is int  # not bool, not float


def _check_entry(name: str, key: str, entry) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """One tensor table entry checked field by field: (dtype, shape, begin, end)."""
    where = f"tensor {key!r:.80}"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise bad(
            name, f"has a corrupted header: {where} needs dtype, shape and data_offsets, got {got!r:.80}"
        )
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(code, str):
        raise bad(name, f"has a corrupted header: {where} has dtype {code!r:.40}, not a string")
    if code not in DTYPES:
        raise bad(
            name,
            f"holds {where} of dtype {code:.40}, which chainrule does not support "
            f"({', '.join(DTYPES)}); convert it before saving",
        )
    if not isinstance(shape, list) or not all(_is_int(d) and 0 <= d <= sys.maxsize for d in shape):
        raise bad(
            name,
            f"has a corrupted header: {where} has shape {shape!r:.80}: sizes must be integers "
            "from 0 to 2**63-1",
        )
    if len(shape) > MAX_NDIM:
        raise bad(name, f"has a corrupted header: {where} has {len(shape)} dimensions (at most {MAX_NDIM})")
    count = 1
    for d in shape:
        count *= d
    nonzero = 1
    for d in shape:
        nonzero *= max(d, 1)
    dtype = DTYPES[code]
    if nonzero * dtype.itemsize > sys.maxsize:  # NumPy's limit, even on an empty array
        raise bad(name, f"has a corrupted header: {where} has shape {shape}, too big for an array")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) and o >= 0 for o in offsets)):
        raise bad(name, f"has a corrupted header: {where} has data_offsets {offsets!r:.80}, not [begin, end]")
    begin, end = offsets
    if end - begin != count * dtype.itemsize:
        raise bad(
            name,
            f"has a corrupted header: {where} of shape {shape} and dtype {code} needs "
            f"{count * dtype.itemsize} bytes, its data_offsets {offsets} give {end - begin}",
        )
    return dtype, tuple(shape), begin, end


def _table(name: str, header, size: int | None) -> tuple[dict[str, str], dict, int]:
    """Check the parsed header: (metadata, {key: (dtype, shape, begin, end)} in header order, the
    data's length), the tensors tiling the data exactly (no gap, no overlap), as safetensors
    requires."""
    if not isinstance(header, dict):
        raise bad(name, f"has a corrupted header: a JSON {type(header).__name__}, not an object")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad(name, "has corrupted metadata: __metadata__ must map strings to strings")
    table = {k: _check_entry(name, k, v) for k, v in header.items() if k != "__metadata__"}
    pos = 0
    for key, (_, _, begin, end) in sorted(table.items(), key=lambda kv: kv[1][2:]):
        if begin != pos:
            what = (
                "overlaps another tensor's"
                if begin < pos
                else f"leaves a gap of {begin - pos} bytes before its"
            )
            raise bad(name, f"has a corrupted header: tensor {key!r:.80} {what} data (offsets {begin}-{end})")
        pos = end
    if size is not None and pos != size:
        if pos > size:
            raise bad(
                name,
                f"is truncated: its header describes {pos} bytes of tensor data, the file holds {size}",
            )
        raise bad(
            name,
            f"is corrupted: it has {size - pos} bytes after the {pos} bytes of data its header describes",
        )
    return meta, table, pos


def read(f: IO[bytes], name: str, size: int | None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read and verify a safetensors file from ``f`` (``size``: its length, None for a stream).

    Returns the arrays (writable, native byte order, in the header's order) and the metadata. A
    file with chainrule metadata must carry the whole-file SHA-256, which is verified here.
    """
    src = _Source(f, name)
    first = f.read(8)
    if not isinstance(first, bytes | bytearray):
        raise TypeError(f"load: '{name}' must be opened in binary mode ('rb'), not text mode")
    foreign = _kind_of_foreign(first)
    if foreign is not None:
        raise bad(
            name,
            f"is {foreign}, not a safetensors file. chainrule.load never unpickles (unpickling can "
            "run any code the file contains). If you trust the file, convert it once with PyTorch: "
            "`sd = torch.load(path, weights_only=True); "
            "safetensors.torch.save_file(sd, 'model.safetensors')`",
        )
    if len(first) < 8:
        first += src.read(8 - len(first), "the 8-byte header length") if size is None else b""
    if len(first) < 8:
        raise bad(
            name,
            f"is {len(first)} bytes long, too short for a safetensors file (8-byte header length "
            "first): it is truncated or empty",
        )
    (n,) = struct.unpack("<Q", first)
    if n < 2 or n > MAX_HEADER:
        raise bad(
            name,
            f"is not a safetensors file or is corrupted: its first 8 bytes give a header of {n} "
            f"bytes (2 to {MAX_HEADER})",
        )
    if size is not None and n > size - 8:
        raise bad(name, f"is truncated: its header needs {n} bytes, the file has {size - 8} after the length")
    brace = src.read(1, "the header")
    if brace != b"{":
        raise bad(
            name, f"is not a safetensors file or its header is corrupted: it starts with {brace!r}, not '{{'"
        )
    text = brace + src.read(n - 1, "the header")
    header = parse_json(text, name, "header", unique_keys=True)
    meta, table, length = _table(name, header, None if size is None else size - 8 - n)
    digest = None
    if is_chainrule(meta):
        _check_digest_field(name, text, meta)
        digest = hashlib.sha256(first + text[: len(PREFIX)] + _ZEROS + text[len(PREFIX) + 64 :])
    arrays = {}
    for key, (dtype, shape, _, _) in sorted(table.items(), key=lambda kv: kv[1][2]):
        arrays[key] = _read_array(src, key, dtype, shape, size is not None)
        if digest is not None:
            digest.update(memoryview(arrays[key].reshape(-1).view(np.uint8)))
    if size is None and f.read(1):
        raise bad(name, f"is corrupted: more bytes follow the {length} bytes of data its header describes")
    if digest is not None and digest.hexdigest() != meta[DIGEST_KEY]:
        raise bad(
            name,
            "is corrupted: it fails its SHA-256 checksum (bytes changed after chainrule wrote it: "
            "damaged on disk or in transfer, or edited); restore it from a good copy",
        )
    for key, a in arrays.items():
        if a.dtype == np.bool_ and (a.view(np.uint8) > 1).any():
            raise bad(name, f"is corrupted: bool tensor {key!r:.80} holds bytes other than 0 and 1")
        if not a.dtype.isnative:
            arrays[key] = a.astype(a.dtype.newbyteorder("="))
    meta = {k: v for k, v in meta.items() if k != DIGEST_KEY}
    return {k: arrays[k] for k in table}, meta


def is_chainrule(meta: dict[str, str]) -> bool:
    """Whether a file's metadata is chainrule's (a checkpoint, checksummed), not another tool's.
    One corrupted key can't hide it: any of chainrule's keys counts."""
    return any(k in meta for k in _OUR_KEYS)


def _check_digest_field(name: str, text: bytes, meta: dict[str, str]) -> None:
    """A file with chainrule metadata carries its digest where chainrule writes it, or is refused."""
    if DIGEST_KEY not in meta:
        if meta.get("chainrule.format") == "1":
            raise bad(
                name,
                "was written by an older chainrule (checkpoint format 1, whose header and metadata "
                f"carry no checksum); this chainrule reads format {FORMAT}, which it can verify. Its "
                "tensors alone load with `safetensors.numpy.load_file(path)`; or load it with the "
                "chainrule that wrote it and save it again",
            )
        raise bad(name, f"is corrupted: it has chainrule metadata but no {DIGEST_KEY} checksum")
    value = meta[DIGEST_KEY]
    at = len(PREFIX)
    if not (
        re.fullmatch("[0-9a-f]{64}", value)  # first: .encode() of a lone surrogate would raise
        and text.startswith(PREFIX)
        and text[at : at + 64] == value.encode()
    ):
        raise bad(name, f"is corrupted: its {DIGEST_KEY} checksum is not 64 hex digits at the header's start")


def _read_array(src: _Source, key: str, dtype: np.dtype, shape: tuple, sized: bool) -> np.ndarray:
    what = f"tensor {key!r:.80}"
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= d
    if sized:  # the file's size was checked to hold it: read straight into the array
        a = np.empty(shape, dtype)
        src.fill(memoryview(a.reshape(-1).view(np.uint8)), what)
        return a
    # a stream of unknown length: grow a buffer as bytes arrive, so a header claiming more than
    # the stream holds costs no more memory than the stream's bytes
    buf = bytearray()
    while len(buf) < nbytes:
        chunk = src.f.read(min(nbytes - len(buf), _CHUNK))
        if not chunk:
            raise bad(src.name, f"is truncated: it ends inside {what} ({len(buf)} of {nbytes} bytes)")
        buf += chunk
    return np.frombuffer(buf, dtype).reshape(shape)
