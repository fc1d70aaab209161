"""More element-wise ops of two or three inputs: ``fmax``/``fmin``, ``logaddexp``, ``xlogy``,
``hypot``, ``copysign``, ``lerp``, ``addcmul``/``addcdiv``, ``ldexp``/``frexp``, ``gcd``/``lcm``,
bit shifts, ``heaviside`` and ``nextafter``.

Each op with its own derivative is registered here (forward and rule side by side); the others
are compositions of differentiable ops, exact and as fast.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, operands, wrap
from .elementwise import _check_broadcast, add, div, mul, sub
from .elementwise_unary import exp2

__all__ = [
    "fmax",
    "fmin",
    "logaddexp",
    "logaddexp2",
    "xlogy",
    "hypot",
    "copysign",
    "lerp",
    "addcmul",
    "addcdiv",
    "ldexp",
    "frexp",
    "gcd",
    "lcm",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "heaviside",
    "nextafter",
    "rsub",
]

_LN2 = math.log(2.0)
_TYPE_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def _not_for(who: str, x: np.ndarray, kinds: str, need: str) -> None:
    """torch's NotImplementedError for a dtype the op has no kernel for."""
    if x.dtype.kind not in kinds:
        raise NotImplementedError(
            f"\"{who}_cpu\" not implemented for '{_TYPE_NAMES.get(x.dtype.name, x.dtype.name)}'; "
            f"{who} needs {need}"
        )


def _pair(who: str, input, other, to_float: bool = False):
    """Both operands as tensors of one promoted dtype; ``to_float``: integers to the default float."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{who}(): expected at least one Tensor argument, got {type(input).__name__} "
            f"and {type(other).__name__}"
        )
    a, b = operands(input, other)
    # a number becomes a fresh 0-d tensor, not operands' cached constant: these ops save their
    # inputs, and a cached constant made under inference_mode would refuse to be saved
    if not isinstance(input, Tensor):
        a = wrap(np.array(a._data))
    if not isinstance(other, Tensor):
        b = wrap(np.array(b._data))
    if to_float and a._data.dtype.kind != "f":
        dt = _dtype.get_default_dtype().np
        a, b = wrap(a._data.astype(dt)), wrap(b._data.astype(dt))
    try:
        np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        _check_broadcast(who, a._data, b._data)
    return a, b


def _tensors_only(who: str, input, other) -> None:
    """torch's binding refuses Python numbers for these ops."""
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{who}(): argument '{name}' must be Tensor, not {type(v).__name__}")


# ---- fmax, fmin: NaN-ignoring maximum and minimum ---------------------------------------------
@defop(
    "fmax",
    formula=("{g0} = {gy} * [{x0} >= {x1} or {x1} is nan]", "{g1} = {gy} * [{x0} < {x1} or {x0} is nan]"),
)
def _fmax(F, g, xs, out, p, needs):
    a, b = xs
    to_a = (a >= b) | F.isnan(b)  # ties go to the first input, as torch's
    return F.where(to_a, g, 0.0), F.where(to_a, 0.0, g)


@defop(
    "fmin",
    formula=("{g0} = {gy} * [{x0} <= {x1} or {x1} is nan]", "{g1} = {gy} * [{x0} > {x1} or {x0} is nan]"),
)
def _fmin(F, g, xs, out, p, needs):
    a, b = xs
    to_a = (a <= b) | F.isnan(b)
    return F.where(to_a, g, 0.0), F.where(to_a, 0.0, g)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise maximum that ignores NaN (NaN only where both are NaN)."""
    _tensors_only("fmax", input, other)
    a, b = _pair("fmax", input, other)
    return make_result(np.fmax(a._data, b._data), _fmax, (a, b))


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise minimum that ignores NaN (NaN only where both are NaN)."""
    _tensors_only("fmin", input, other)
    a, b = _pair("fmin", input, other)
    return make_result(np.fmin(a._data, b._data), _fmin, (a, b))


# ---- logaddexp, logaddexp2 --------------------------------------------------------------------
@defop("logaddexp", formula=("{g0} = {gy} / (1 + exp({x1} - {x0}))", "{g1} = {gy} / (1 + exp({x0} - {x1}))"))
def _logaddexp(F, g, xs, out, p, needs):
    a, b = xs
    return g / (F.exp(b - a) + 1), g / (F.exp(a - b) + 1)


@defop("logaddexp2", formula=("{g0} = {gy} / (1 + 2^({x1} - {x0}))", "{g1} = {gy} / (1 + 2^({x0} - {x1}))"))
def _logaddexp2(F, g, xs, out, p, needs):
    a, b = xs
    return g / (F.exp((b - a) * _LN2) + 1), g / (F.exp((a - b) * _LN2) + 1)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow."""
    _tensors_only("logaddexp", input, other)
    a, b = _pair("logaddexp", input, other)
    _not_for("logaddexp", a._data, "f", "floating point tensors")
    return make_result(np.logaddexp(a._data, b._data), _logaddexp, (a, b))


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """``log2(2**input + 2**other)`` without overflow."""
    _tensors_only("logaddexp2", input, other)
    a, b = _pair("logaddexp2", input, other)
    _not_for("logaddexp2", a._data, "f", "floating point tensors")
    return make_result(np.logaddexp2(a._data, b._data), _logaddexp2, (a, b))


# ---- xlogy ------------------------------------------------------------------------------------
@defop("xlogy", formula=("{g0} = {gy} * log({x1}) (0 where {gy} = 0)", "{g1} = {gy} * {x0} / {x1}"))
def _xlogy(F, g, xs, out, p, needs):
    a, b = xs
    ga = gb = None
    if needs[0]:  # torch: xlogy(g, b), zero where a = 0 and b <= 0
        skip = (g == 0) | ((a == 0) & (b <= 0))
        ga = F.where(skip, 0.0, g * F.log(F.where(skip, 1.0, b)))
    if needs[1]:
        gb = g * a / b
    return ga, gb


def xlogy_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * log(b)``, 0 where ``a`` is 0 (unless ``b`` is NaN)."""
    out = a * np.log(b)
    return np.where((a == 0) & ~np.isnan(b), 0, out).astype(out.dtype, copy=False)


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN); either may be a
    Python number."""
    a, b = _pair("xlogy", input, other, to_float=True)
    return make_result(xlogy_array(a._data, b._data), _xlogy, (a, b))


# ---- hypot, copysign --------------------------------------------------------------------------
@defop("hypot", saves_out=True, formula=("{g0} = {gy} * {x0} / {y}", "{g1} = {gy} * {x1} / {y}"))
def _hypot(F, g, xs, out, p, needs):
    a, b = xs
    return g * a / out, g * b / out


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow."""
    _tensors_only("hypot", input, other)
    a, b = _pair("hypot", input, other)
    _not_for("hypot", a._data, "f", "floating point tensors")
    return make_result(np.hypot(a._data, b._data), _hypot, (a, b))


# torch saves input and the result, never other (whose gradient is 0)
@defop(
    "copysign",
    saves_out=True,
    reads=((0,), ()),
    formula=("{g0} = {gy} * {y} / {x0} (0 where {x0} = 0)", "{g1} = 0"),
)
def _copysign(F, g, xs, out, p, needs):
    a = xs[0]
    at_zero = a == 0
    # torch's order, g * (y / x): g * y first would underflow to 0 for a subnormal x
    return F.where(at_zero, 0.0, g * (out / F.where(at_zero, 1.0, a))), g * 0


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (integers give the default float dtype)."""
    a, b = _pair("copysign", input, other, to_float=True)
    return make_result(np.copysign(a._data, b._data), _copysign, (a, b))


# ---- compositions: lerp, addcmul, addcdiv, ldexp, rsub ----------------------------------------
def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` a number or a tensor (broadcast)."""
    input, end = as_tensor(input, "lerp"), as_tensor(end, "lerp")
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    _not_for("lerp_kernel_scalar", input._data, "f", "floating point tensors")
    if isinstance(weight, Tensor) and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
    return add(input, mul(weight, sub(end, input)))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2`` with broadcasting."""
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` with broadcasting (integer division is refused)."""
    t1, t2 = as_tensor(tensor1, "addcdiv"), as_tensor(tensor2, "addcdiv")
    if t1._data.dtype.kind in "biu" and t2._data.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release addcdiv "
            "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
            "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
            "integer inputs and as (input + value * tensor1 / tensor2) for float inputs."
        )
    quotient = div(t1, t2)
    return add(input, quotient if value == 1 else mul(quotient, value))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2**other`` (a float result)."""
    a, b = _pair("ldexp", input, other, to_float=True)  # the exponent in the result's dtype
    return mul(a, exp2(b))


def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (``sub`` with its operands swapped)."""
    return sub(other, input, alpha=alpha)


def frexp(input: Tensor):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent``, ``0.5 <= |mantissa| < 1``;
    the exponent is int32; the mantissa's gradient is ``g / 2**exponent``."""
    input = as_tensor(input, "frexp")
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"torch.frexp() only supports floating-point dtypes, got {input.dtype}; convert with .float()"
        )
    _, exponent = np.frexp(input._data)
    exponent = wrap(exponent.astype(np.int32))
    scale = wrap(np.ldexp(np.ones((), input._data.dtype), exponent._data).astype(input._data.dtype))
    return _FrexpResult(div(input, scale), exponent)


_FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])  # torch.return_types.frexp


# ---- integer ops: gcd, lcm, shifts ------------------------------------------------------------
def _integers(who: str, input, other):
    a, b = _pair(who, input, other)
    _not_for(who, a._data, "biu" if who.startswith("bitwise") else "iu", "integer tensors")
    return a, b


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """Greatest common divisor (non-negative) of integer tensors."""
    _tensors_only("gcd", input, other)
    a, b = _integers("gcd", input, other)
    return wrap(np.gcd(a._data, b._data))


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """Least common multiple (non-negative) of integer tensors."""
    _tensors_only("lcm", input, other)
    a, b = _integers("lcm", input, other)
    return wrap(np.lcm(a._data, b._data))


def _shift(who: str, input, other, left: bool) -> Tensor:
    a, b = _integers(who, input, other)
    x, s = a._data, b._data
    bits = 8 * x.dtype.itemsize
    outside = (s < 0) | (s >= bits)  # torch: every bit shifted out (C leaves this undefined)
    safe = np.where(outside, 0, s).astype(x.dtype, copy=False)
    if left:
        out = np.where(outside, 0, np.left_shift(x, safe))
    else:
        out = np.where(outside, np.where(x < 0, -1, 0), np.right_shift(x, safe))
    return wrap(out.astype(x.dtype, copy=False))


def bitwise_left_shift(input, other) -> Tensor:
    """``input << other`` for integer tensors (bits shifted past the width give 0)."""
    return _shift("bitwise_left_shift", input, other, left=True)


def bitwise_right_shift(input, other) -> Tensor:
    """``input >> other`` for integer tensors (arithmetic shift: the sign is kept)."""
    return _shift("bitwise_right_shift", input, other, left=False)


# ---- heaviside (no derivative in torch) and nextafter ----------------------------------------
@defop("heaviside", saves_inputs=False, formula=("{g0}: not implemented", "{g1}: not implemented"))
def _heaviside(F, g, xs, out, p, needs):
    raise RuntimeError("derivative for aten::heaviside is not implemented")  # torch's words and type


@defop("nextafter", formula=("{g0} = {gy} * [{x0} != {x1}]", "{g1} = 0"))
def _nextafter(F, g, xs, out, p, needs):
    a, b = xs  # torch's rule: the step is ignored, except where there is none
    return F.where(a == b, 0.0, g), g * 0


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where ``input < 0``, 1 where ``input > 0``, ``values`` where ``input == 0``."""
    _tensors_only("heaviside", input, values)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} and "
            f"{values.dtype}); convert one of them"
        )
    a, b = _pair("heaviside", input, values)
    x = a._data
    out = np.where(x == 0, b._data, x > 0).astype(x.dtype, copy=False)  # torch: 0 at NaN
    return make_result(out, _heaviside, (a, b))


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next representable float after ``input`` toward ``other``."""
    _tensors_only("nextafter", input, other)
    a, b = _pair("nextafter", input, other)
    _not_for("nextafter", a._data, "f", "floating point tensors")
    return make_result(np.nextafter(a._data, b._data), _nextafter, (a, b))
