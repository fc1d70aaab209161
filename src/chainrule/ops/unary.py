"""One-input element-wise ops: each forward ufunc next to its local derivative (the lecture's Rule 1).

``exp``, ``log``, the trigonometric and hyperbolic functions, ``sigmoid``, ``relu``, ``abs``,
``sqrt``, ``square``, rounding, ...; ``elementwise_unary.py`` holds the less common ones. A rule receives
the upstream gradient ``g`` and returns ``g`` times the local derivative.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._fpe import IGNORE as _IGNORE
from .._fpe import reset_state as _reset_state
from .._fpe import set_state as _set_state
from .._fpe import switches_itself as _switches_itself
from .._record import make_unary_result
from ..autograd.graph import defop
from ..autograd.graph import over as _over
from ..autograd.graph import times as _times
from ..kernels.elementwise import sigmoid_array as _sigmoid_fn
from ..kernels.relu import relu_array as _relu_array
from ..kernels.relu import relu_grad_array as _relu_grad_array
from ._common import Tensor, any_true, as_tensor, make_result
from .out_arg import write_out as _write_out

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _unary(op, fn):
    """The public function of a unary op whose forward is the NumPy ufunc ``fn``."""
    op.same_shape = True  # the gradient of an element-wise op has its input's shape and dtype

    @_switches_itself  # NumPy's warnings off inside, switched here (the hottest path: no wrapper)
    def apply(input: Tensor, *, out=None) -> Tensor:
        token = _set_state(_IGNORE)
        try:
            if type(input) is not Tensor:
                input = as_tensor(input, op.name)
            x = input._data
            if x.dtype.kind in "biu":  # integers and bools compute in the default float dtype
                x = x.astype(_dtype.get_default_dtype().np)
            # (bfloat16: ml_dtypes' ufuncs compute in float32 and round once, as torch's kernels do)
            if out is None:
                return make_unary_result(fn(x), op, input)
            return _write_out(op.name, out, make_unary_result(fn(x), op, input))
        finally:
            _reset_state(token)

    apply.__name__ = op.name
    apply.__doc__ = f"Element-wise {op.name}; local derivative: {op.formula}."
    return apply


def _no_grad(F, g, xs, out, p, needs):
    """Piecewise-constant ops (floor, sign, ...): the derivative is zero almost everywhere, and the
    gradient zero whatever arrives (torch's zeros_like(grad): an inf or nan upstream stays out)."""
    return (F.zeros_like(g),)


# ---- unary ops: forward ufunc, derivative rule ------------------------------------------------
@defop("neg", saves_inputs=False, formula="{g0} = -{gy}", local=_times(lambda xs, y, p: -1))
def _neg(F, g, xs, out, p, needs):
    return (-g,)


@defop(
    "exp", saves_out=True, saves_inputs=False, formula="{g0} = {gy} * {y}", local=_times(lambda xs, y, p: y)
)
def _exp(F, g, xs, out, p, needs):
    return (g * out,)


@defop(
    "expm1",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} * ({y} + 1)",
    local=_times(lambda xs, y, p: y + 1),
)
def _expm1(F, g, xs, out, p, needs):
    return (g * (out + 1),)


@defop("log", formula="{g0} = {gy} / {x0}", local=_over(lambda xs, y, p: xs[0]))
def _log(F, g, xs, out, p, needs):
    return (g / xs[0],)


@defop("log1p", formula="{g0} = {gy} / (1 + {x0})", local=_over(lambda xs, y, p: 1 + xs[0]))
def _log1p(F, g, xs, out, p, needs):
    return (g / (xs[0] + 1),)


@defop("log2", formula="{g0} = {gy} / ({x0} ln 2)", local=_over(lambda xs, y, p: xs[0] * np.log(2.0)))
def _log2(F, g, xs, out, p, needs):
    return (g / (xs[0] * _LN2),)


@defop("log10", formula="{g0} = {gy} / ({x0} ln 10)", local=_over(lambda xs, y, p: xs[0] * np.log(10.0)))
def _log10(F, g, xs, out, p, needs):
    return (g / (xs[0] * _LN10),)


@defop("sin", formula="{g0} = {gy} * cos({x0})", local=_times(lambda xs, y, p: np.cos(xs[0])))
def _sin(F, g, xs, out, p, needs):
    return (g * F.cos(xs[0]),)


@defop("cos", formula="{g0} = -{gy} * sin({x0})", local=_times(lambda xs, y, p: -np.sin(xs[0])))
def _cos(F, g, xs, out, p, needs):
    return (-g * F.sin(xs[0]),)


@defop(
    "tan",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} * (1 + {y}^2)",
    local=_times(lambda xs, y, p: 1 + y * y),
)
def _tan(F, g, xs, out, p, needs):
    return (g * (out * out + 1),)


@defop(
    "asin", formula="{g0} = {gy} / sqrt(1 - {x0}^2)", local=_over(lambda xs, y, p: np.sqrt(1 - xs[0] * xs[0]))
)
def _asin(F, g, xs, out, p, needs):
    x = xs[0]
    return (g / F.sqrt(1 - x * x),)


@defop(
    "acos",
    formula="{g0} = -{gy} / sqrt(1 - {x0}^2)",
    local=_times(lambda xs, y, p: -1 / np.sqrt(1 - xs[0] * xs[0])),
)
def _acos(F, g, xs, out, p, needs):
    x = xs[0]
    return (-g / F.sqrt(1 - x * x),)


@defop("atan", formula="{g0} = {gy} / (1 + {x0}^2)", local=_over(lambda xs, y, p: 1 + xs[0] * xs[0]))
def _atan(F, g, xs, out, p, needs):
    x = xs[0]
    return (g / (x * x + 1),)


@defop("sinh", formula="{g0} = {gy} * cosh({x0})", local=_times(lambda xs, y, p: np.cosh(xs[0])))
def _sinh(F, g, xs, out, p, needs):
    return (g * F.cosh(xs[0]),)


@defop("cosh", formula="{g0} = {gy} * sinh({x0})", local=_times(lambda xs, y, p: np.sinh(xs[0])))
def _cosh(F, g, xs, out, p, needs):
    return (g * F.sinh(xs[0]),)


@defop(
    "tanh",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} * (1 - {y}^2)",
    local=_times(lambda xs, y, p: 1 - y * y),
)
def _tanh(F, g, xs, out, p, needs):
    return (g * (1 - out * out),)


@defop(
    "sigmoid",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} * {y} * (1 - {y})",
    local=_times(lambda xs, y, p: y * (1 - y)),
)
def _sigmoid(F, g, xs, out, p, needs):
    return (g * out * (1 - out),)


@defop(
    "relu",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} * [{y} > 0]",
    local=_times(lambda xs, y, p: (y > 0).astype(y.dtype)),
)
def _relu(F, g, xs, out, p, needs):
    # torch's threshold_backward, a select: g passes where the output is NaN, and an infinite g
    # where it is 0 gives 0 (the product g * (y > 0) gave 0 and NaN there)
    if type(g) is np.ndarray and type(out) is np.ndarray:
        return (_relu_grad_array(g, out),)
    return (F.where(out <= 0, 0, g),)


@defop("abs", formula="{g0} = {gy} * sgn({x0})", local=_times(lambda xs, y, p: np.sign(xs[0])))
def _abs(F, g, xs, out, p, needs):
    return (g * F.sgn(xs[0]),)


_abs.complex_rule = True  # real gradient, complex input: g * z / |z| is torch's


@defop(
    "sqrt",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} / (2 * {y})",
    local=_over(lambda xs, y, p: 2 * y),
)
def _sqrt(F, g, xs, out, p, needs):
    return (g / (2 * out),)


@defop(
    "rsqrt",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = -{gy} * {y}^3 / 2",
    local=_times(lambda xs, y, p: -(y**3) / 2),
)
def _rsqrt(F, g, xs, out, p, needs):
    return (g * (out * out * out) * -0.5,)


@defop("square", formula="{g0} = {gy} * 2 * {x0}", local=_times(lambda xs, y, p: 2 * xs[0]))
def _square(F, g, xs, out, p, needs):
    return (g * (2 * xs[0]),)


@defop(
    "reciprocal",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = -{gy} * {y}^2",
    local=_times(lambda xs, y, p: -(y * y)),
)
def _reciprocal(F, g, xs, out, p, needs):
    return (-g * (out * out),)


sign_op = defop("sign", saves_inputs=False, formula="{g0} = 0")(_no_grad)
floor_op = defop("floor", saves_inputs=False, formula="{g0} = 0")(_no_grad)
ceil_op = defop("ceil", saves_inputs=False, formula="{g0} = 0")(_no_grad)
round_op = defop("round", saves_inputs=False, formula="{g0} = 0")(_no_grad)
trunc_op = defop("trunc", saves_inputs=False, formula="{g0} = 0")(_no_grad)


def _complex_sigmoid_fn(x):
    if x.dtype.kind == "c":  # (the real kernel's stable form compares with 0)
        return 1 / (1 + np.exp(-x))
    if type(x) is np.ndarray and x.dtype in _F32_F64:
        # torch's formula, 1 / (1 + exp(-x)), in one buffer: exp overflows to inf for x < -88
        # (float32), giving torch's 0 there (the kernel's stable form gives the denormal);
        # 4 NumPy calls against the kernel's 9 (16 floats: 1.5 us against 5.8 us)
        e = np.negative(x, out=np.empty_like(x))  # (out=: a 0-d x gives a 0-d array, not a scalar)
        np.exp(e, out=e)
        e += 1
        return np.reciprocal(e, out=e)
    return _sigmoid_fn(x)


_F32_F64 = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _half_in_float32(fn):
    """``fn`` computed in float32 for float16 arrays (a kernel of several NumPy steps would round
    after each; torch's rounds once)."""

    def apply(x):
        if x.dtype in _dtype.HALF:
            return fn(x.astype(np.float32)).astype(x.dtype)
        return fn(x)

    return apply


def _rsqrt_fn(x):
    return 1 / np.sqrt(x)


_RELU_COMPILED = 1 << 16  # elements from which relu_array's kernel (and two threads) may run
_RELU_ZEROS = {np.dtype(t): np.zeros((), dtype=t) for t in (np.float16, np.float32, np.float64)}


def _relu_fn(x):
    if type(x) is np.ndarray:
        zero = _RELU_ZEROS.get(x.dtype)
        if zero is not None:
            # against a 0-d zero of x's dtype: 0.54 us on 16 floats where a Python 0 (cast per
            # call) or a full array of zeros costs 1.6 us; on 2M float32 1.4 ms against 10.6 ms
            # for the array of zeros (calloc's fresh pages)
            return np.maximum(x, zero) if x.size < _RELU_COMPILED else _relu_array(x)
    return np.maximum(x, 0, dtype=x.dtype)


_BOOL_ERRORS = {
    "neg": "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
    "invert a mask, use the `~` or `logical_not()` operator instead.",
    "relu": "Boolean inputs not supported for relu",
}


_REAL_ONLY = frozenset(("relu", "sign", "floor", "ceil", "trunc"))


def _complex_error(name: str, dtype) -> str:
    if name == "sign":
        return (
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
            "torch.sgn instead."
        )
    return (
        f'"{name}" is not implemented for complex tensors (dtype {dtype}); use .real, .imag or .abs() first'
    )


def _square_fn(x):
    return x.astype(np.int64) if x.dtype.kind == "b" else np.square(x)  # torch: bools to int64


def _sign_fn(x):
    if x.dtype.kind == "b":
        return x.copy()  # torch: a bool's sign is itself
    out = np.sign(x)
    # torch's sign is (0 < x) - (x < 0): 0 for NaN, where NumPy gives NaN
    if x.dtype.kind == "f" and any_true(out != out):  # (any_true: vmap's arrays too)
        out = np.where(out != out, x.dtype.type(0), out)
    return out


def _unary_keep_dtype(op, fn):
    """Like ``_unary`` for ops defined on integers too (neg, abs, relu, sign, square, rounding)."""
    op.same_shape = True

    @_switches_itself  # (see _unary)
    def apply(input: Tensor, *, out=None) -> Tensor:
        token = _set_state(_IGNORE)
        try:
            if out is not None:
                return _write_out(op.name, out, apply(input))
            if type(input) is not Tensor:
                input = as_tensor(input, op.name)
            try:
                out = fn(input._data)
            except TypeError:  # NumPy refuses bools (neg, relu): torch's error, not the ufunc's
                if input._data.dtype.kind == "c":  # NotImplementedError: torch's type
                    raise NotImplementedError(_complex_error(op.name, input._data.dtype)) from None
                raise RuntimeError(
                    _BOOL_ERRORS.get(op.name, f"{op.name}: bool tensors are not supported")
                ) from None
            if input._data.dtype.kind == "c" and op.name in _REAL_ONLY:
                raise NotImplementedError(_complex_error(op.name, input._data.dtype))
            return make_unary_result(out, op, input)
        finally:
            _reset_state(token)

    apply.__name__ = op.name
    apply.__doc__ = f"Element-wise {op.name}; local derivative: {op.formula}."
    return apply


neg = _unary_keep_dtype(_neg, np.negative)
exp = _unary(_exp, np.exp)
expm1 = _unary(_expm1, np.expm1)
log = _unary(_log, np.log)
log1p = _unary(_log1p, np.log1p)
log2 = _unary(_log2, np.log2)
log10 = _unary(_log10, np.log10)
sin = _unary(_sin, np.sin)
cos = _unary(_cos, np.cos)
tan = _unary(_tan, np.tan)
asin = _unary(_asin, np.arcsin)
acos = _unary(_acos, np.arccos)
atan = _unary(_atan, np.arctan)
sinh = _unary(_sinh, np.sinh)
cosh = _unary(_cosh, np.cosh)
tanh = _unary(_tanh, np.tanh)
sigmoid = _unary(_sigmoid, _half_in_float32(_complex_sigmoid_fn))
relu = _unary_keep_dtype(_relu, _relu_fn)
abs = _unary_keep_dtype(_abs, np.abs)  # noqa: A001  (torch's name)
sqrt = _unary(_sqrt, np.sqrt)
rsqrt = _unary(_rsqrt, _half_in_float32(_rsqrt_fn))
square = _unary_keep_dtype(_square, _square_fn)
reciprocal = _unary(_reciprocal, np.reciprocal)
sign = _unary_keep_dtype(sign_op, _sign_fn)
floor = _unary_keep_dtype(floor_op, np.floor)
ceil = _unary_keep_dtype(ceil_op, np.ceil)
trunc = _unary_keep_dtype(trunc_op, np.trunc)
arcsin, arccos, arctan, negative, absolute = asin, acos, atan, neg, abs


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, as torch does; ``decimals`` rounds to that many decimal places."""
    input = as_tensor(input, "round")
    return make_result(np.round(input._data, decimals), round_op, (input,))
