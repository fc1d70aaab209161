"""``chainrule.save`` / ``chainrule.load``: checkpoints as safetensors files that cannot run code.

A checkpoint is any nesting of dicts, lists and tuples holding tensors, NumPy arrays, numbers,
strings, bools and None (a state dict; model + optimizer + scheduler + step). ``save`` writes it as
one safetensors file: the tensors as the file's tensors, each under a key made from where it sits
(a flat state dict keeps its own keys, so ``safetensors.torch.load_file`` reads it as torch's state
dict), and everything else as JSON in the header's metadata, with each tensor referenced by its key.

Safety:

- ``load`` parses JSON and raw little-endian arrays, nothing else: it never unpickles, so a file
  can't run code. A pickle (``torch.save`` output), a truncated or a corrupted file is refused
  with an error naming the file and the problem; files chainrule wrote also carry a CRC-32 of
  every tensor, so flipped bits in tensor data are caught too.
- ``save`` is atomic: it writes a temporary file in the same folder, fsyncs it, renames it over
  the target (``os.replace``) and fsyncs the folder, so a crash at any moment leaves either the
  previous file or the new one, never a partial file.

Metadata layout (all strings): ``chainrule.format`` = "1"; ``chainrule`` = the JSON structure, in
which a tensor is ``{"__tensor__": key}`` (plus ``"requires_grad": true`` when set), a NumPy array
``{"__ndarray__": key}``, a tuple ``{"__tuple__": [...]}``, a dict whose keys are not all strings
(or collide with these tags) ``{"__dict__": [[key, value], ...]}``, an OrderedDict
``{"__odict__": [[key, value], ...]}`` and a non-finite float ``{"__float__": "nan"}``;
``chainrule.crc32`` = JSON ``{key: crc}``; ``format`` = "pt" (what Hugging Face tools expect).
"""

from __future__ import annotations

import collections
import json
import math
import os
import secrets
import struct
import zlib
from typing import IO, Any

import numpy as np

from . import _dtype
from ._device import check_device, device
from ._tensor import Tensor, wrap
from .backend import to_numpy

__all__ = [
    "save",
    "load",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "DEFAULT_PROTOCOL",
]

DEFAULT_PROTOCOL = 2  # torch's pickle protocol number; chainrule pickles nothing

_FORMAT = "1"
_TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__odict__", "__float__")
_DTYPES = {
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
    _DTYPES["BF16"] = _dtype.bfloat16.np
_MAX_HEADER = 100_000_000  # safetensors' own limit
_SUPPORTED = (
    "tensors, NumPy arrays, numbers, strings, bools, None and dicts/lists/tuples of them "
    "(nothing is pickled, so loading can never run code)"
)


# ---- encoding: Python structure -> (JSON-able structure, {key: array}) ----------------------------
def _crc(a: np.ndarray) -> int:
    return zlib.crc32(a.reshape(-1).view(np.uint8))


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.keys: dict[int, str] = {}  # id(tensor or array) -> key: a shared tensor is stored once
        self.open: set[int] = set()  # containers being encoded, to refuse cycles
        self.bfloat16: set[str] = set()  # keys stored as uint16 bits, marked BF16 after writing

    def key_for(self, x, path: str) -> str | None:
        if id(x) in self.keys:
            return None
        key, n = path or "tensor", 1
        while key in self.arrays:
            n += 1
            key = f"{path or 'tensor'}#{n}"
        return key

    def array(self, x, data: np.ndarray, path: str, where: str) -> str:
        key = self.key_for(x, path)
        if key is None:
            return self.keys[id(x)]

        a = to_numpy(data)
        a = a if a.flags.c_contiguous else a.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
        if a.dtype.name not in {d.name for d in _DTYPES.values()}:
            raise TypeError(
                f"save: the array at {where} has dtype {a.dtype}, which the safetensors format "
                f"chainrule writes does not hold; supported: bool, uint8, int8, int16, int32, "
                f"int64, float16, bfloat16, float32, float64, complex64 (convert complex128 first)"
            )
        if a.dtype == _dtype.bfloat16.np:  # safetensors' NumPy writer lacks it: its bits as U16
            a = a.view(np.uint16)
            self.bfloat16.add(key)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        self.arrays[key] = a
        self.keys[id(x)] = key
        return key

    def enc(self, x, path: str, where: str):
        if x is None or isinstance(x, bool | str):
            return x
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            return float(x) if math.isfinite(x) else {"__float__": repr(float(x))}
        if isinstance(x, Tensor):
            out: dict[str, Any] = {"__tensor__": self.array(x, x._data, path, where)}
            if x.requires_grad:
                out["requires_grad"] = True
            return out
        if isinstance(x, np.ndarray):
            return {"__ndarray__": self.array(x, x, path, where)}
        if isinstance(x, np.bool_ | np.integer | np.floating):
            return self.enc(x.item(), path, where)
        if isinstance(x, dict | list | tuple):
            if id(x) in self.open:
                raise ValueError(
                    f"save: {where} contains itself; a checkpoint must be a tree (or a DAG) "
                    "of dicts, lists and tuples"
                )
            self.open.add(id(x))
            try:
                return self.container(x, path, where)
            finally:
                self.open.discard(id(x))
        hint = (
            " (save its .state_dict() instead: torch.save(model.state_dict(), f); to load, build the "
            "object in code and call its .load_state_dict(torch.load(f)))"
            if hasattr(x, "state_dict")
            else ""
        )
        raise TypeError(
            f"save: cannot store a {type(x).__module__}.{type(x).__qualname__} at {where}"
            f"{hint}; chainrule.save stores {_SUPPORTED}"
        )

    def container(self, x, path: str, where: str):
        def sub(k) -> str:
            return f"{path}.{k}" if path else str(k)

        if isinstance(x, list | tuple):
            items = [self.enc(v, sub(i), f"{where}[{i}]") for i, v in enumerate(x)]
            return items if isinstance(x, list) else {"__tuple__": items}
        pairs = [(k, self.enc(v, sub(k), f"{where}[{k!r}]")) for k, v in x.items()]
        if type(x) is collections.OrderedDict:
            return {"__odict__": [[self.key(k, where), v] for k, v in pairs]}
        if all(type(k) is str and k not in _TAGS for k, _ in pairs):
            return dict(pairs)
        return {"__dict__": [[self.key(k, where), v] for k, v in pairs]}

    def key(self, k, where: str):
        if isinstance(k, Tensor | np.ndarray | dict | list):
            raise TypeError(
                f"save: a dict at {where} has a key of type {type(k).__name__}; keys must be "
                "strings, numbers, bools, None or tuples of them"
            )
        return self.enc(k, "", where)


# ---- decoding: (structure, arrays) -> Python objects, validating every step ----------------------
class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        self.arrays = arrays
        self.name = name
        self.tensors: dict[str, Tensor] = {}

    def bad(self, what: str) -> ValueError:
        return ValueError(f"load: '{self.name}' has a corrupted chainrule structure in its metadata ({what})")

    def dec(self, x):
        if x is None or isinstance(x, bool | int | float | str):
            return x
        if isinstance(x, list):
            return [self.dec(v) for v in x]
        if not isinstance(x, dict):
            raise self.bad(f"unexpected JSON value {x!r}")
        tags = [t for t in _TAGS if t in x]
        if not tags:
            return {k: self.dec(v) for k, v in x.items()}
        tag, arg = tags[0], x[tags[0]]
        if tag in ("__tensor__", "__ndarray__"):
            if not isinstance(arg, str) or arg not in self.arrays:
                raise self.bad(f"it refers to tensor {arg!r}, which the file does not hold")
            if tag == "__ndarray__":
                return self.arrays[arg]
            if arg not in self.tensors:  # a tensor saved twice comes back as one tensor
                t = wrap(self.arrays[arg])
                if x.get("requires_grad") is True:
                    t.requires_grad_(True)
                self.tensors[arg] = t
            return self.tensors[arg]
        if tag == "__float__":
            if arg not in ("nan", "inf", "-inf"):
                raise self.bad(f"bad non-finite float {arg!r}")
            return float(arg)
        if not isinstance(arg, list):
            raise self.bad(f"{tag} needs a list, got {type(arg).__name__}")
        if tag == "__tuple__":
            return tuple(self.dec(v) for v in arg)
        if not all(isinstance(p, list) and len(p) == 2 for p in arg):
            raise self.bad(f"{tag} needs [key, value] pairs")
        cls = collections.OrderedDict if tag == "__odict__" else dict
        try:
            return cls((self.dec(k), self.dec(v)) for k, v in arg)
        except TypeError as e:  # an unhashable key
            raise self.bad(str(e)) from None


# ---- files ---------------------------------------------------------------------------------------
def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, where folders can't be opened: rename is already durable there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` so that ``path`` is, at every moment, the old file or the new one:
    a temporary file in the same folder, flushed and fsynced, renamed over ``path``, then the
    folder fsynced so the rename itself survives a power cut. A crash leaves at most the
    temporary file ``.<name>.<random>.tmp`` beside it."""
    target = os.path.realpath(path)  # through a symlink: replace the file it points to
    if os.path.isdir(target):
        raise IsADirectoryError(
            f"save: '{path}' is a folder; give a file path such as "
            f"'{os.path.join(path, 'checkpoint.safetensors')}'"
        )
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"save: the folder '{folder}' of '{path}' does not exist; create it first "
            "(os.makedirs(folder, exist_ok=True))"
        )
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the mode umask gives
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def save(
    obj: Any,
    f: str | os.PathLike | IO[bytes],
    pickle_module=None,
    pickle_protocol=None,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Save a tensor, state dict or checkpoint to a safetensors file, atomically (``torch.save``).

    Parameters
    ----------
    obj : Any
        A tensor, or dicts / lists / tuples nesting tensors, NumPy arrays, numbers, strings, bools
        and None (e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 10}``).
        Tensors are stored with their dtype, shape and ``requires_grad``; a tensor that appears
        twice is stored once and loads as one tensor. Tuples, OrderedDicts and non-string dict
        keys come back as they were; NumPy scalars come back as Python numbers.
    f : str, PathLike or binary file object
        Where to write. To a path the write is atomic (temporary file, fsync, rename): a crash
        leaves the previous file intact. A file object gets the bytes written at its position.
    pickle_module, pickle_protocol, _use_new_zipfile_serialization
        Accepted for compatibility with ``torch.save`` and ignored: nothing is pickled.

    Raises
    ------
    TypeError
        For objects it can't store (modules, functions, arbitrary classes), naming where they are.
    """
    enc = _Encoder()
    structure = enc.enc(obj, "", "obj")
    crcs = {k: _crc(a) for k, a in enc.arrays.items()}
    metadata = {
        "format": "pt",
        "chainrule.format": _FORMAT,
        "chainrule": json.dumps(structure, allow_nan=False, separators=(",", ":")),
        "chainrule.crc32": json.dumps(crcs, separators=(",", ":")),
    }
    if not isinstance(f, str | os.PathLike) and not hasattr(f, "write"):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    from safetensors.numpy import save as serialize

    data = serialize(enc.arrays, metadata=metadata)  # the whole file, in memory (one copy)
    if enc.bfloat16:
        data = _mark_bfloat16(data, enc.bfloat16)
    if isinstance(f, str | os.PathLike):
        _atomic_write(data, os.fspath(f))
    else:
        f.write(data)


def _kind_of_foreign(raw: bytes) -> str | None:
    if raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (the legacy torch.save format)"
    if raw[:4] == b"PK\x03\x04":
        return "a zip archive (torch.save's format: pickled code inside)"
    if raw[:2] == b"\x1f\x8b":
        return "a gzip file"
    return None


def _parse(raw: bytes, name: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Validate a safetensors file's bytes and return its arrays (writable copies) and metadata."""
    import safetensors

    foreign = _kind_of_foreign(raw)
    if foreign is not None:
        raise ValueError(
            f"load: '{name}' is {foreign}, not a safetensors file. chainrule.load never unpickles "
            "(unpickling can run any code the file contains). If you trust the file, convert it once "
            "with PyTorch: `sd = torch.load(path, weights_only=True); "
            "safetensors.torch.save_file(sd, 'model.safetensors')`"
        )
    if len(raw) < 8:
        raise ValueError(
            f"load: '{name}' is {len(raw)} bytes long, too short for a safetensors file "
            "(8-byte header length first): it is truncated or empty"
        )
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER:
        raise ValueError(
            f"load: '{name}' is not a safetensors file or is corrupted: its first 8 bytes "
            f"give a header of {n} bytes (at most {_MAX_HEADER})"
        )
    if 8 + n > len(raw):
        raise ValueError(
            f"load: '{name}' is truncated: its header needs {n} bytes, the file has "
            f"{len(raw) - 8} after the length"
        )
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        meta = header.pop("__metadata__", None) or {}
        ends = [int(v["data_offsets"][1]) for v in header.values()]
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, IndexError) as e:
        raise ValueError(
            f"load: '{name}' is not a safetensors file or its header is corrupted ({e})"
        ) from None
    need, have = max(ends, default=0), len(raw) - 8 - n
    if have < need:
        raise ValueError(
            f"load: '{name}' is truncated: its header describes {need} bytes of tensor data, "
            f"the file holds {have}"
        )
    for key, v in header.items():
        if v.get("dtype") not in _DTYPES:
            raise ValueError(
                f"load: tensor '{key}' in '{name}' has dtype {v.get('dtype')}, which chainrule "
                f"does not support ({', '.join(_DTYPES)}); convert it before saving"
            )
    try:
        views = safetensors.deserialize(raw)
    except Exception as e:  # SafetensorError: overlapping or misaligned offsets, bad shapes, ...
        raise ValueError(f"load: '{name}' is not a valid safetensors file ({e}): it is corrupted") from None
    arrays = {}
    for key, v in views:
        a = np.frombuffer(v["data"], dtype=_DTYPES[v["dtype"]]).reshape(v["shape"])
        arrays[key] = a.astype(a.dtype.newbyteorder("="), copy=not a.flags.writeable)
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f"load: '{name}' has corrupted metadata: expected string values")
    return {k: arrays[k] for k in header}, meta  # in the header's order


def _mark_bfloat16(data: bytes, keys: set) -> bytes:
    """Rewrite the header of a safetensors file so that ``keys`` (written as U16 bits) read as
    BF16; the data offsets count from the data's start, so only the header's length changes
    (padded with spaces to 8 bytes, as safetensors aligns it)."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    for key in keys:
        header[key]["dtype"] = "BF16"
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + n :]


def load(
    f: str | os.PathLike | IO[bytes],
    map_location=None,
    pickle_module=None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args,
) -> Any:
    """Load what ``chainrule.save`` wrote, or any safetensors file (``torch.load``).

    Never unpickles, so loading can't run code: a pickle or ``torch.save`` zip file is refused
    with a ValueError explaining how to convert it.

    Parameters
    ----------
    f : str, PathLike or binary file object
        The file. One written by ``safetensors.torch.save_file`` (or any tool writing safetensors)
        loads as a dict of tensors under its keys, in file order.
    map_location : str or device, optional
        ``'cpu'`` (where tensors load anyway) or None; 'cuda' raises as ``Tensor.to`` does. A
        dict or callable is accepted for compatibility and ignored.
    pickle_module, weights_only, mmap, **pickle_load_args
        Accepted for compatibility and ignored: loading is always weights-only (plain data), so
        ``weights_only=False`` loads no more than True does. ``mmap=True`` needs a path, as in
        torch; the file is then read whole (safetensors' layout needs no mapping to be safe).

    Returns
    -------
    Any
        The saved object: tensors (with dtype, shape and requires_grad), NumPy arrays, numbers,
        strings, bools, None, in the dicts / lists / tuples they were saved in.

    Raises
    ------
    ValueError
        When the file is a pickle, not a safetensors file, truncated, corrupted (bad header,
        structure or tensor checksum) or holds dtypes chainrule lacks; the message names the file.
    """
    if isinstance(map_location, str | device) and device(map_location).type == "cuda":
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU."
        )
    if isinstance(map_location, str | device):
        check_device(map_location)
    if mmap and not isinstance(f, str | os.PathLike):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if isinstance(f, str | os.PathLike):
        name = os.fspath(f)
        with open(name, "rb") as fh:
            raw = fh.read()
    elif hasattr(f, "read"):
        name = getattr(f, "name", None) or f"<{type(f).__name__}>"
        raw = f.read()
    else:
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    arrays, meta = _parse(raw, name)
    if "chainrule" not in meta:  # a plain safetensors file: a flat dict of tensors
        return {k: wrap(a) for k, a in arrays.items()}
    version = meta.get("chainrule.format")
    if version != _FORMAT:
        raise ValueError(
            f"load: '{name}' was written in chainrule checkpoint format {version!r}; this "
            f"chainrule reads format {_FORMAT!r} (upgrade chainrule)"
        )
    try:
        structure = json.loads(meta["chainrule"])
        crcs = json.loads(meta.get("chainrule.crc32", "{}"))
    except ValueError as e:
        raise ValueError(f"load: '{name}' has corrupted chainrule metadata ({e})") from None
    for key, a in arrays.items():
        if key in crcs and crcs[key] != _crc(a):
            raise ValueError(
                f"load: tensor '{key}' in '{name}' fails its CRC-32 check: the file is "
                "corrupted (bytes changed after it was written)"
            )
    return _Decoder(arrays, name).dec(structure)


# ---- torch's allow-list of classes for weights-only unpickling ---------------------------------
# chainrule's loader never unpickles, so no class is ever looked up: the list is kept (scripts that
# register their classes run unchanged, and get_safe_globals answers what was registered) and has
# no effect on what ``load`` accepts.
_safe_globals: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Register classes/functions for torch's weights-only unpickler (recorded; no effect here:
    chainrule's ``load`` never unpickles)."""
    _safe_globals.extend(safe_globals)


def get_safe_globals() -> list:
    """The objects registered with ``add_safe_globals`` (torch also lists its own built-ins)."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget the objects registered with ``add_safe_globals``."""
    _safe_globals.clear()


class safe_globals:
    """``with safe_globals([...]):``: ``add_safe_globals`` for the block's duration."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self) -> None:
        self._before = list(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        _safe_globals[:] = self._before


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals a torch pickle checkpoint would need: none for a file chainrule can load
    (safetensors holds plain data only)."""
    load(f)  # refuses pickles with the usual explanation
    return []
