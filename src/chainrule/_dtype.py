"""Data types with torch's names and torch's type-promotion rules, backed by NumPy dtypes."""

from __future__ import annotations

import numpy as np

__all__ = ["dtype", "get_default_dtype", "set_default_dtype", "promote_types", "result_type"]


class dtype:
    """A tensor element type (``chainrule.float32`` ...), a thin name over a NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, np_dtype: type) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize
        # category used by type promotion: 0 bool, 1 integer, 2 floating
        self._kind = {"b": 0, "u": 1, "i": 1, "f": 2}[self.np.kind]

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    @property
    def is_complex(self) -> bool:
        return False


bool_ = dtype("bool", np.bool_)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_NAMES.update(
    {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32, "long": int64}
)
_default_float = [float32]


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The chainrule dtype of a NumPy dtype; TypeError for the ones torch has no equivalent of."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        np_dtype = np.dtype(np_dtype)
        if np_dtype in _FROM_NP:
            return _FROM_NP[np_dtype]
        raise TypeError(
            f"can't convert NumPy arrays of dtype {np_dtype}; supported dtypes are "
            + ", ".join(d.name for d in ALL)
        ) from None


def to_numpy_dtype(d) -> np.dtype:
    """Accepts a chainrule dtype, a NumPy dtype, a Python type or a name; returns a NumPy dtype."""
    if type(d) is dtype:
        return d.np
    if d is float:
        return _default_float[0].np
    if d is int:
        return np.dtype(np.int64)
    if d is bool:
        return np.dtype(np.bool_)
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d].np
    return from_numpy_dtype(np.dtype(d)).np


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64), as ``torch.set_default_dtype``."""
    if d not in (float32, float64, float16):
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float[0] = d


def _promote_np(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch's table: a floating dtype wins over any integer or bool (int64 + float32 -> float32),
    where NumPy would widen to float64; otherwise NumPy's promotion agrees with torch's."""
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to without losing category."""
    return _FROM_NP[_promote_np(a.np, b.np)]


def _scalar_kind(value) -> int:
    if isinstance(value, bool | np.bool_):
        return 0
    if isinstance(value, int | np.integer):
        return 1
    return 2


def result_type(*operands) -> np.dtype:
    """torch.result_type for tensors, zero-dim tensors and Python scalars; returns a NumPy dtype.

    Priority: tensors with dimensions, then zero-dim tensors, then Python numbers; a lower-priority
    operand changes the result only when its category (bool < int < float) is higher. A tensor is
    any operand with an array ``_data`` (this module sits below ``_tensor``, which imports it).
    """
    dims: np.dtype | None = None
    zero: np.dtype | None = None
    scalar_kind = -1
    for op in operands:
        a = getattr(op, "_data", None)
        if a is not None:
            if a.ndim:
                dims = a.dtype if dims is None else _promote_np(dims, a.dtype)
            else:
                zero = a.dtype if zero is None else _promote_np(zero, a.dtype)
        else:
            scalar_kind = max(scalar_kind, _scalar_kind(op))
    result = dims
    if zero is not None:
        if result is None or _FROM_NP[zero]._kind > _FROM_NP[result]._kind:
            result = zero
    if scalar_kind >= 0:
        if result is None:
            result = (np.dtype(np.bool_), np.dtype(np.int64), _default_float[0].np)[scalar_kind]
        elif scalar_kind > _FROM_NP[result]._kind:
            result = np.dtype(np.int64) if scalar_kind == 1 else _default_float[0].np
    return result
