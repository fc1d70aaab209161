"""Comparisons and logical ops: boolean results, never differentiable."""

from __future__ import annotations

import numpy as np

from ._common import Tensor, as_tensor, operands, wrap

__all__ = [
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "isnan",
    "isinf",
    "isfinite",
    "equal",
    "allclose",
    "isclose",
]  # fmt: skip  (invert_operator is Tensor.__invert__'s, not a public name)


def _compare(name: str, fn):
    def apply(input, other) -> Tensor:
        a, b = operands(input, other)
        try:
            return wrap(fn(a._data, b._data))
        except ValueError:
            raise RuntimeError(
                f"{name}: shapes {list(a.shape)} and {list(b.shape)} do not broadcast"
            ) from None

    apply.__name__ = name
    apply.__doc__ = f"Element-wise ``{name}`` with broadcasting: a bool tensor (no gradient)."
    return apply


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)


_TORCH_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}


def _integral(name: str, *arrays) -> None:
    """torch's error for a bitwise op on floats (NumPy's TypeError names a ufunc, not the op)."""
    for a in arrays:
        if a.dtype.kind not in "biu":
            shown = _TORCH_TYPE_NAMES.get(a.dtype.name, a.dtype.name)
            raise NotImplementedError(
                f"\"{name}_cpu\" not implemented for '{shown}'; {name} needs integer or bool tensors"
            )


def _bitwise(name: str, fn):
    compare = _compare(name, fn)

    def apply(input, other) -> Tensor:
        a, b = operands(input, other)
        _integral(name, a._data, b._data)
        return compare(a, b)

    apply.__name__ = name
    apply.__doc__ = f"Element-wise ``{name}`` of integer or bool tensors, with broadcasting."
    return apply


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def logical_not(input) -> Tensor:
    return wrap(np.logical_not(as_tensor(input)._data))


def bitwise_not(input) -> Tensor:
    x = as_tensor(input)._data
    _integral("bitwise_not", x)
    return wrap(np.invert(x))


def invert_operator(input) -> Tensor:
    """``~input``: ``bitwise_not``, with the operator's TypeError for float tensors (as torch)."""
    if input._data.dtype.kind == "f":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors; for a "
            "float mask use logical_not() or compare first (x == 0)"
        )
    return bitwise_not(input)


def isnan(input) -> Tensor:
    return wrap(np.isnan(as_tensor(input)._data))


def isinf(input) -> Tensor:
    return wrap(np.isinf(as_tensor(input)._data))


def isfinite(input) -> Tensor:
    return wrap(np.isfinite(as_tensor(input)._data))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and values."""
    a, b = as_tensor(input), as_tensor(other)
    return a._data.shape == b._data.shape and bool(np.array_equal(a._data, b._data))


def allclose(input, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(np.allclose(as_tensor(input)._data, as_tensor(other)._data, rtol, atol, equal_nan))


def isclose(input, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    return wrap(np.isclose(as_tensor(input)._data, as_tensor(other)._data, rtol, atol, equal_nan))
