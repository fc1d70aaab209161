"""Data types with torch's names and torch's type-promotion rules, backed by NumPy dtypes."""

from __future__ import annotations

import numpy as np

try:  # bfloat16 is not a NumPy dtype: ml_dtypes (the extension JAX uses) provides it
    import ml_dtypes as _ml_dtypes

    _BF16_NP = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a dependency; kept importable without it
    _ml_dtypes = None
    _BF16_NP = None

__all__ = [
    "dtype",
    "get_default_dtype",
    "set_default_dtype",
    "promote_types",
    "result_type",
    "finfo",
    "iinfo",
    "can_cast",
]


class dtype:
    """A tensor element type (``chainrule.float32`` ...), a thin name over a NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, np_dtype) -> None:
        self.name = name
        # bfloat16 without ml_dtypes: a placeholder NumPy dtype that nothing converts to (see _np_of)
        self.np = np.dtype(np_dtype) if np_dtype is not None else np.dtype([("bfloat16", "V2")])
        kind = "f" if name == "bfloat16" else self.np.kind  # ml_dtypes' bfloat16 has NumPy kind "V"
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = kind in "ifc"
        self.itemsize = self.np.itemsize
        # category used by type promotion: 0 bool, 1 integer, 2 floating, 3 complex
        self._kind = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[kind]

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> dtype:
        """The real dtype of a complex one (complex64 -> float32); itself otherwise."""
        return _TO_REAL.get(self, self)

    def to_complex(self) -> dtype:
        """The complex dtype of a floating one (float64 -> complex128), as torch's."""
        return _TO_COMPLEX.get(self, self)


bool_ = dtype("bool", np.bool_)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
bfloat16 = dtype("bfloat16", _BF16_NP)
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
if _BF16_NP is not None:
    ALL = ALL + (bfloat16,)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_NAMES.update(
    {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32, "long": int64}
)
_NAMES.update({"cfloat": complex64, "cdouble": complex128, "bfloat16": bfloat16})
_TO_REAL = {complex64: float32, complex128: float64}
# torch's complex of float16 is complex32, which chainrule leaves out: complex64 stands in for it
_TO_COMPLEX = {float16: complex64, bfloat16: complex64, float32: complex64, float64: complex128}
#: NumPy's dtype of a chainrule dtype's category: 0 bool, 1 integer, 2 floating, 3 complex
KIND = {d.np: d._kind for d in ALL}
#: float16 and bfloat16: torch's CPU kernels compute them in float32 and round the result
HALF = frozenset(d.np for d in (float16, bfloat16) if d in ALL)
#: the NumPy dtypes of floating and complex tensors (the ones that can require grad)
INEXACT = frozenset(d.np for d in ALL if d._kind >= 2)
_default_float = [float32]
#: set once a complex tensor requires grad: backward then takes the complex-aware step (engine)
COMPLEX_AUTOGRAD = [False]


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


def _missing_bfloat16() -> TypeError:
    return TypeError("bfloat16 needs the ml_dtypes package: pip install ml_dtypes")


def to_numpy_dtype(d) -> np.dtype:
    """Accepts a chainrule dtype, a NumPy dtype, a Python type or a name; returns a NumPy dtype."""
    if type(d) is dtype:
        if d is bfloat16 and _BF16_NP is None:
            raise _missing_bfloat16()
        return d.np
    if d is float:
        return _default_float[0].np
    if d is int:
        return np.dtype(np.int64)
    if d is bool:
        return np.dtype(np.bool_)
    if d is complex:
        return _default_float[0].to_complex().np
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d].np
    return from_numpy_dtype(np.dtype(d)).np


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64), as ``torch.set_default_dtype``."""
    if d not in (float32, float64, float16, bfloat16):
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float[0] = d


def _promote_np(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch's table: a higher category wins over any dtype of a lower one (int64 + float32 ->
    float32, where NumPy would widen to float64), except that a complex dtype widens to hold a
    wider float (complex64 + float64 -> complex128); bfloat16 with float16 is float32; otherwise
    NumPy's promotion agrees with torch's."""
    if a == b:
        return a
    ka = KIND[a]
    kb = KIND[b]
    if ka != kb:
        if ka < kb:
            a, b, ka, kb = b, a, kb, ka
        if ka == 3 and kb == 2 and b == np.float64:
            return complex128.np
        return a
    if ka == 2 and (a == _BF16_NP or b == _BF16_NP):
        other = b if a == _BF16_NP else a
        return float32.np if other == float16.np else other
    return np.promote_types(a, b)


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to without losing category."""
    return _FROM_NP[_promote_np(a.np, b.np)]


def _scalar_kind(value) -> int:
    if isinstance(value, bool | np.bool_):
        return 0
    if isinstance(value, int | np.integer):
        return 1
    if isinstance(value, complex | np.complexfloating):
        return 3
    return 2


def _raise_category(result: np.dtype, kind: int, other: np.dtype) -> np.dtype:
    """``result`` when a lower-priority operand of category ``kind`` (dtype ``other``) is higher:
    a float result becomes its complex counterpart (float32 tensor + 1j -> complex64), any other
    takes ``other``."""
    if kind == 3 and KIND[result] == 2:
        return _FROM_NP[result].to_complex().np
    return other


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
        if result is None:
            result = zero
        elif KIND[zero] > KIND[result]:
            result = _raise_category(result, KIND[zero], zero)
    if scalar_kind >= 0:
        default = (
            np.dtype(np.bool_),
            np.dtype(np.int64),
            _default_float[0].np,
            _default_float[0].to_complex().np,
        )[scalar_kind]
        if result is None:
            result = default
        elif scalar_kind > KIND[result]:
            result = _raise_category(result, scalar_kind, default)
    return result


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether torch's casting rules allow ``from_`` -> ``to`` in type promotion: never to a lower
    category (float -> int, complex -> float, anything but bool -> bool)."""
    return from_._kind <= to._kind


class finfo:
    """Machine limits of a floating (or complex: its real part's) dtype, with torch's fields."""

    def __init__(self, type: dtype | None = None) -> None:
        d = _default_float[0] if type is None else type
        if not isinstance(d, dtype) or d._kind < 2:
            raise TypeError(f"finfo: torch.finfo() requires a floating point input type, got {d}")
        real = d.to_real()
        info = _ml_dtypes.finfo(real.np) if real is bfloat16 else np.finfo(real.np)
        self.bits = real.itemsize * 8
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = real.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer (or bool) dtype, with torch's fields."""

    def __init__(self, type: dtype) -> None:
        if not isinstance(type, dtype) or type._kind > 1:
            raise TypeError(f"iinfo: torch.iinfo() requires an integer input type, got {type}")
        info = np.iinfo(type.np) if type._kind == 1 else None
        self.bits = type.itemsize * 8
        self.max = 1 if info is None else int(info.max)
        self.min = 0 if info is None else int(info.min)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
