"""A checkpoint's Python structure <-> JSON plus named arrays, the part of the format above the bytes.

``Encoder`` turns nested dicts / lists / tuples of tensors, arrays and plain values into a JSON-able
structure in which each tensor is ``{"__tensor__": key}`` (plus ``"requires_grad": true``), each
NumPy array ``{"__ndarray__": key}``, a tuple ``{"__tuple__": [...]}``, a dict whose keys are not
all strings (or collide with these tags) ``{"__dict__": [[key, value], ...]}``, an OrderedDict
``{"__odict__": [[key, value], ...]}`` and a non-finite float ``{"__float__": "nan"}``; the arrays
go under their keys. ``Decoder`` turns that back, accepting nothing else: every unexpected shape of
the JSON raises ValueError naming the file.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ..backend import to_numpy

TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__odict__", "__float__")
#: safetensors' reserved header key: a tensor can't be stored under it
RESERVED_KEY = "__metadata__"
#: how deeply a checkpoint's JSON may nest (a real one nests ~10 deep): ``load`` refuses deeper
#: files before parsing them (no RecursionError, no deep C recursion), so ``save`` refuses them too
MAX_DEPTH = 100
SUPPORTED = (
    "tensors, NumPy arrays, numbers, strings, bools, None and dicts/lists/tuples of them "
    "(nothing is pickled, so loading can never run code)"
)
# the NumPy dtypes the file format holds (safetensors' names are in _format.DTYPES)
_STORABLE = {
    np.dtype(t).name
    for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64)
} | {"complex64"}
if _dtype.bfloat16 in _dtype.ALL:
    _STORABLE.add(_dtype.bfloat16.np.name)


class Encoder:
    """Python structure -> (JSON-able structure, ``arrays``: {key: NumPy array}, in first-seen order).

    Arrays are kept as they are (no copy: a non-contiguous or big-endian array is converted in
    bounded chunks while it is written), so encoding costs no memory beyond the structure.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.keys: dict[int, str] = {}  # id(tensor or array) -> key: a shared tensor is stored once
        self.open: set[int] = set()  # containers being encoded, to refuse cycles

    def _new_key(self, path: str) -> str:
        base = path or "tensor"
        if base == RESERVED_KEY:
            base += "#1"
        key, n = base, 1
        while key in self.arrays:
            n += 1
            key = f"{base}#{n}"
        return key

    def array(self, x, data, path: str, where: str) -> str:
        if id(x) in self.keys:
            return self.keys[id(x)]
        a = to_numpy(data)  # a CuPy array comes to the host, one at a time
        if a.dtype.name not in _STORABLE:
            raise TypeError(
                f"save: the array at {where} has dtype {a.dtype}, which the safetensors format "
                f"chainrule writes does not hold; supported: bool, uint8, int8, int16, int32, "
                f"int64, float16, bfloat16, float32, float64, complex64 (convert complex128 first)"
            )
        key = self._new_key(path)
        self.arrays[key] = a
        self.keys[id(x)] = key
        return key

    def enc(self, x, path: str, where: str, depth: int = 0):
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
            return self.enc(x.item(), path, where, depth)
        if isinstance(x, dict | list | tuple):
            if id(x) in self.open:
                raise ValueError(
                    f"save: {where} contains itself; a checkpoint must be a tree (or a DAG) "
                    "of dicts, lists and tuples"
                )
            if depth + 1 > MAX_DEPTH // 3:  # a dict with non-string keys takes 3 JSON levels
                raise ValueError(
                    f"save: {where} nests containers {depth + 1} deep; chainrule checkpoints nest "
                    f"at most {MAX_DEPTH // 3} (load refuses deeper JSON): flatten the structure"
                )
            self.open.add(id(x))
            try:
                return self.container(x, path, where, depth + 1)
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
            f"{hint}; chainrule.save stores {SUPPORTED}"
        )

    def container(self, x, path: str, where: str, depth: int):
        def sub(k) -> str:
            return f"{path}.{k}" if path else str(k)

        if isinstance(x, list | tuple):
            items = [self.enc(v, sub(i), f"{where}[{i}]", depth) for i, v in enumerate(x)]
            return items if isinstance(x, list) else {"__tuple__": items}
        pairs = [(k, self.enc(v, sub(k), f"{where}[{k!r}]", depth)) for k, v in x.items()]
        if type(x) is collections.OrderedDict:
            return {"__odict__": [[self.key(k, where, depth), v] for k, v in pairs]}
        if all(type(k) is str and k not in TAGS for k, _ in pairs):
            return dict(pairs)
        return {"__dict__": [[self.key(k, where, depth), v] for k, v in pairs]}

    def key(self, k, where: str, depth: int):
        if isinstance(k, Tensor | np.ndarray | dict | list):
            raise TypeError(
                f"save: a dict at {where} has a key of type {type(k).__name__}; keys must be "
                "strings, numbers, bools, None or tuples of them"
            )
        return self.enc(k, "", where, depth)


_KEY_TYPES = (type(None), bool, int, float, str, tuple)


class Decoder:
    """(JSON structure, {key: array}) -> the Python objects ``save`` was given.

    The JSON is the one whose checksum ``load`` verified, so for a file ``save`` wrote every check
    here passes; they are what keeps a file written by another tool (with a valid checksum and
    hostile content) to a ValueError naming the file.
    """

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
            raise self.bad(f"unexpected JSON value {x!r:.80}")
        tags = [t for t in TAGS if t in x]
        if not tags:
            return {k: self.dec(v) for k, v in x.items()}
        tag, arg = tags[0], x[tags[0]]
        allowed = {tag, "requires_grad"} if tag == "__tensor__" else {tag}
        if set(x) - allowed:
            raise self.bad(f"a {tag} entry has other keys: {sorted(set(x) - allowed)!r:.80}")
        if tag in ("__tensor__", "__ndarray__"):
            return self.array(tag, arg, x.get("requires_grad", False))
        if tag == "__float__":
            if arg not in ("nan", "inf", "-inf"):
                raise self.bad(f"bad non-finite float {arg!r:.80}")
            return float(arg)
        if not isinstance(arg, list):
            raise self.bad(f"{tag} needs a list, got {type(arg).__name__}")
        if tag == "__tuple__":
            return tuple(self.dec(v) for v in arg)
        if not all(isinstance(p, list) and len(p) == 2 for p in arg):
            raise self.bad(f"{tag} needs [key, value] pairs")
        cls = collections.OrderedDict if tag == "__odict__" else dict
        out = cls()
        for k, v in arg:
            key = self.dec(k)
            if not isinstance(key, _KEY_TYPES) or (isinstance(key, tuple) and not _hashable(key)):
                raise self.bad(f"a dict key of type {type(key).__name__}")
            out[key] = self.dec(v)
        return out

    def array(self, tag: str, key, requires_grad):
        if not isinstance(key, str) or key not in self.arrays:
            raise self.bad(f"it refers to tensor {key!r:.80}, which the file does not hold")
        if tag == "__ndarray__":
            return self.arrays[key]
        if type(requires_grad) is not bool:
            raise self.bad(f"requires_grad must be true, got {requires_grad!r:.80}")
        if key not in self.tensors:  # a tensor saved twice comes back as one tensor
            t = wrap(self.arrays[key])
            if requires_grad:
                if not t.dtype.is_floating_point and not t.dtype.is_complex:
                    raise self.bad(f"tensor {key!r} of dtype {t.dtype} marked requires_grad")
                t.requires_grad_(True)
            self.tensors[key] = t
        return self.tensors[key]


def _hashable(key: tuple) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True
