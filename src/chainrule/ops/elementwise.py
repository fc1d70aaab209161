"""Two-input element-wise ops (add, sub, mul, div, pow, maximum, remainder, ...) and ``where`` /
``clamp``: each forward next to its local derivative (the lecture's Rule 1). One-input ops are in
``unary.py``.

A rule receives the upstream gradient ``g`` and returns ``g`` times the local derivative, one
entry per input. Broadcasting is undone centrally by the engine, never here.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._fpe import IGNORE as _IGNORE
from .._fpe import reset_state as _reset_state
from .._fpe import set_state as _set_state
from .._fpe import switches_itself as _switches_itself
from .._record import make_unary_result
from ..autograd.graph import ONE as _ONE
from ..autograd.graph import defop
from ..autograd.graph import over as _over
from ..autograd.graph import times as _times
from ._common import _CONSTANTS, Tensor, any_true, as_tensor, constant, make_result, operands, wrap
from .creation import to
from .gather import nonzero
from .out_arg import write_out as _write_out
from .unary import reciprocal, trunc


# ---- binary ops --------------------------------------------------------------------------------
@defop(
    "add",
    saves_inputs=False,
    formula=("{g0} = {gy}", "{g1} = {alpha}{gy}"),
    local=(_ONE, _times(lambda xs, y, p: p[0] if p else 1)),
)
def _add(F, g, xs, out, p, needs):
    alpha = p[0] if p else 1
    return g, (g if alpha == 1 else g * alpha)


@defop(
    "sub",
    saves_inputs=False,
    formula=("{g0} = {gy}", "{g1} = -{alpha}{gy}"),
    local=(_ONE, _times(lambda xs, y, p: -(p[0] if p else 1))),
)
def _sub(F, g, xs, out, p, needs):
    alpha = p[0] if p else 1
    return g, (-g if alpha == 1 else g * -alpha)


@defop(
    "mul",
    formula=("{g0} = {gy} * {x1}", "{g1} = {gy} * {x0}"),
    local=(_times(lambda xs, y, p: xs[1]), _times(lambda xs, y, p: xs[0])),
    reads=((1,), (0,)),
)
def _mul(F, g, xs, out, p, needs):
    a, b = xs
    if not F.is_tensor and g.dtype.kind == "c":  # (one attribute read on the real path)
        return (_complex_product(g, b) if needs[0] else None), (_complex_product(g, a) if needs[1] else None)
    return (g * b if needs[0] else None), (g * a if needs[1] else None)


def _complex_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * b`` where either is complex, with torch's complex product ``(ar br - ai bi) + (ar bi +
    ai br) i`` at infinities too. NumPy's complex kernel fuses a product into the subtraction
    (FMA), so where a product overflows it gives ``inf - inf`` another value: (1e38 - 1e38i) *
    (1e38 + 1e38i) is inf - inf i in NumPy, inf + NaN i in torch. The fused result is kept where
    it is finite (where the two agree to rounding); the product is taken again term by term only
    where some entry is not, a check on the result alone."""
    out = a * b
    if out.dtype.kind != "c" or type(out) is not np.ndarray or np.isfinite(out).all():
        return out  # (another array type, such as vmap's batched array, keeps its own product)
    ar, ai = np.real(a), np.imag(a)  # a real operand: imaginary part 0, as torch's promotion
    br, bi = np.real(b), np.imag(b)
    exact = np.empty_like(out)
    exact.real = ar * br - ai * bi
    exact.imag = ar * bi + ai * br
    return exact


@defop(
    "div",
    formula=("{g0} = {gy} / {x1}", "{g1} = -{gy} * ({x0} / {x1}) / {x1}"),
    local=(_over(lambda xs, y, p: xs[1]), _times(lambda xs, y, p: -(xs[0] / xs[1]) / xs[1])),
    reads=((1,), (0, 1)),
)
def _div(F, g, xs, out, p, needs):
    a, b = xs
    ga = g / b if needs[0] else None
    # torch's order, (a / b) / b: b * b would underflow to 0 for a subnormal b (NaN for 0 / 0)
    gb = -g * (a / b / b) if needs[1] else None
    return ga, gb


@defop(
    "pow",
    formula=("{g0} = {gy} * {x1} * {x0}^({x1} - 1)", "{g1} = {gy} * {y} * ln({x0})"),
    local=(
        _times(lambda xs, y, p: np.where(xs[1] == 0, 0, xs[1] * xs[0] ** (xs[1] - 1))),
        _times(
            lambda xs, y, p: np.where((xs[0] == 0) & (xs[1] >= 0), 0, xs[0] ** xs[1] * np.log(np.abs(xs[0])))
        ),
    ),
)
def _pow(F, g, xs, out, p, needs):
    a, b = xs
    ga = gb = None
    if needs[0]:  # torch: zero where the exponent is 0, even at a = 0
        # a number exponent of 0.5 makes x ** -0.5 here, which torch computes as rsqrt (p[0]: the
        # exponent was the number 0.5); and b * x^(b-1) before g, so that a tiny g * b cannot
        # underflow to 0 and meet an infinite power (0 * inf = NaN where torch's order gives inf)
        power = 1 / F.sqrt(a) if p and p[0] else a ** (b - 1)
        ga = F.where(b == 0, 0.0, g * (b * power))
    if needs[1]:  # torch: zero where a = 0 and b >= 0
        ga_ok = (a == 0) & (b >= 0)
        gb = F.where(ga_ok, 0.0, g * a**b * F.log(F.where(ga_ok, 1.0, a)))
    return ga, gb


@defop(
    "maximum",
    formula=(
        "{g0} = {gy} * [{x0} > {x1}]  (half where equal)",
        "{g1} = {gy} * [{x1} > {x0}]  (half where equal)",
    ),
)
def _maximum(F, g, xs, out, p, needs):
    a, b = xs
    shared = F.where(a == b, g / 2, g)
    return F.where(a < b, 0.0, shared), F.where(a > b, 0.0, shared)


@defop(
    "minimum",
    formula=(
        "{g0} = {gy} * [{x0} < {x1}]  (half where equal)",
        "{g1} = {gy} * [{x1} < {x0}]  (half where equal)",
    ),
)
def _minimum(F, g, xs, out, p, needs):
    a, b = xs
    shared = F.where(a == b, g / 2, g)
    return F.where(a > b, 0.0, shared), F.where(a < b, 0.0, shared)


@defop("remainder", formula=("{g0} = {gy}", "{g1} = -{gy} * floor({x0} / {x1})"), reads=((), (0, 1)))
def _remainder(F, g, xs, out, p, needs):
    a, b = xs
    return g, (-g * F.floor_divide(a, b) if needs[1] else None)


@defop("fmod", formula=("{g0} = {gy}", "{g1} = -{gy} * trunc({x0} / {x1})"), reads=((), (0, 1)))
def _fmod(F, g, xs, out, p, needs):
    a, b = xs
    return g, (-g * F.trunc(a / b) if needs[1] else None)


@defop("atan2", formula=("{g0} = {gy} * {x1} / ({x0}^2 + {x1}^2)", "{g1} = -{gy} * {x0} / ({x0}^2 + {x1}^2)"))
def _atan2(F, g, xs, out, p, needs):
    a, b = xs
    r = a * a + b * b
    # torch: 1 / r is 0 where r is 0 (both inputs 0, or so small that their squares underflow):
    # a zero gradient there, not 0 / 0
    zero = r == 0
    recip = F.where(zero, 0.0, 1 / F.where(zero, 1.0, r))
    return g * b * recip, g * -a * recip


floor_divide_op = defop("floor_divide", saves_inputs=False, formula=("{g0} = 0", "{g1} = 0"))(
    lambda F, g, xs, out, p, needs: (g * 0, g * 0)
)


def _check_broadcast(who: str, a: np.ndarray, b: np.ndarray) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"{who}: the size of tensor a {list(a.shape)} must match the size of tensor b "
            f"{list(b.shape)} at every non-singleton dimension (shapes {a.shape} and {b.shape} do "
            "not broadcast); reshape or unsqueeze one of them"
        ) from None


def _binary(op, fn):
    def apply(input, other) -> Tensor:
        a, b = operands(input, other)
        try:
            out = fn(a._data, b._data)
        except ValueError:
            _check_broadcast(op.name, a._data, b._data)
            raise
        return make_result(out, op, (a, b))

    apply.__name__ = op.name
    apply.__doc__ = f"Element-wise {op.name} with broadcasting; local derivative: {op.formula}."
    return apply


maximum = _binary(_maximum, np.maximum)
minimum = _binary(_minimum, np.minimum)


def _atan2_fn(a, b):
    if a.dtype.kind != "f" and b.dtype.kind != "f":  # integers and bools: the default float dtype
        dt = _dtype.get_default_dtype().np
        a, b = a.astype(dt), b.astype(dt)
    return np.arctan2(a, b)


atan2 = _binary(_atan2, _atan2_fn)
arctan2 = atan2


# A float tensor with a Python number is the commonest binary op (x * 2, x + 1, 1 - x): these
# get one-input nodes that keep the number as a parameter, so forward and backward stay lean.
# (c is kept as a 0-d array of x's dtype: NumPy multiplies by it twice as fast as by a number)
@defop("mul_scalar", saves_inputs=False, formula="{g0} = {gy} * {c}", local=_times(lambda xs, y, p: p[0]))
def _mul_scalar(F, g, xs, out, p, needs):
    return (g * p[0],)


@defop("add_scalar", saves_inputs=False, formula="{g0} = {gy}", local=_ONE)
def _add_scalar(F, g, xs, out, p, needs):
    return (g,)


@defop("sub_scalar", saves_inputs=False, formula="{g0} = {gy}", local=_ONE)
def _sub_scalar(F, g, xs, out, p, needs):
    return (g,)


@defop("rsub_scalar", saves_inputs=False, formula="{g0} = -{gy}", local=_times(lambda xs, y, p: -1))
def _rsub_scalar(F, g, xs, out, p, needs):
    return (-g,)


@defop("div_scalar", saves_inputs=False, formula="{g0} = {gy} / {c}", local=_over(lambda xs, y, p: p[0]))
def _div_scalar(F, g, xs, out, p, needs):
    return (g / p[0],)


for _op, _shown in (
    (_mul_scalar, "MulBackward0"),
    (_add_scalar, "AddBackward0"),
    (_sub_scalar, "SubBackward0"),
    (_rsub_scalar, "RsubBackward1"),
    (_div_scalar, "DivBackward0"),
):
    _op.same_shape = True
    _op.node_name = _shown  # torch's grad_fn name: x * 2 prints grad_fn=<MulBackward0>


def _scalar_case(input, other):
    """(tensor, number) when one side is a float tensor and the other a Python number."""
    if type(input) is Tensor:
        t = type(other)
        if (t is float or t is int) and input._data.dtype.kind in "fV":  # (V: bfloat16)
            return input, other
    elif type(other) is Tensor:
        t = type(input)
        if (t is float or t is int) and other._data.dtype.kind in "fV":
            return other, input
    return None


def _half_scalar(kind: str, t: Tensor, number) -> Tensor:
    """A float16 / bfloat16 tensor with a Python number: torch computes in float32 with the number
    unrounded, and rounds the result once (rounding the number to the tensor's dtype first would
    round twice: x * 0.1 differs in a third of the entries). torch's add and sub do round the
    number to the tensor's dtype first: those take the ordinary path."""
    x = t._data
    f = x.astype(np.float32)
    c = np.float32(number)
    if kind == "mul":
        out, op, params = f * c, _mul_scalar, (np.asarray(number, x.dtype),)
    else:
        out, op, params = f / c, _div_scalar, (np.asarray(number, x.dtype),)
    return make_unary_result(out.astype(x.dtype), op, t, params)


@_switches_itself
def mul(input, other, *, out=None) -> Tensor:
    """Element-wise product with broadcasting; dl/da = dl/dy * b, dl/db = dl/dy * a."""
    token = _set_state(_IGNORE)
    try:
        if out is not None:
            return _write_out("mul", out, mul(input, other))
        if type(input) is Tensor and (type(other) is float or type(other) is int):
            x = input._data  # the hottest case, x * 2.0, inlined
            if x.dtype.kind == "f":
                c = _CONSTANTS.get((other, x.dtype))  # not `or`: a tensor's truth value is costly
                if c is None:
                    if x.dtype.itemsize == 2:  # (half constants are never cached)
                        return _half_scalar("mul", input, other)
                    c = constant(other, x.dtype)
                return make_unary_result(x * c._data, _mul_scalar, input, (c._data,))
        case = _scalar_case(input, other)
        if case is not None:
            t, c = case
            x = t._data
            if x.dtype in _dtype.HALF:
                return _half_scalar("mul", t, c)
            k = constant(c, x.dtype)._data
            return make_unary_result(x * k, _mul_scalar, t, (k,))
        a, b = operands(input, other)
        try:
            out = a._data * b._data
        except ValueError:
            _check_broadcast("mul", a._data, b._data)
            raise
        if out.dtype.kind == "c":
            out = _complex_product(a._data, b._data)
        return make_result(out, _mul, (a, b))
    finally:
        _reset_state(token)


@_switches_itself
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """``input + alpha * other`` with broadcasting."""
    token = _set_state(_IGNORE)
    try:
        if out is not None:
            return _write_out("add", out, add(input, other, alpha=alpha))
        if isinstance(alpha, Tensor):  # torch takes a one-element tensor as the number it holds
            alpha = alpha.item()
        if alpha == 1:
            if type(input) is Tensor and (type(other) is float or type(other) is int):
                x = input._data  # x + 1.0, inlined
                if x.dtype.kind == "f":
                    c = _CONSTANTS.get((other, x.dtype))
                    if c is None:
                        c = constant(other, x.dtype)
                    return make_unary_result(x + c._data, _add_scalar, input, (other,))
            case = _scalar_case(input, other)
            if case is not None:
                t, c = case
                x = t._data
                return make_unary_result(x + constant(c, x.dtype)._data, _add_scalar, t, (c,))
        a, b = operands(input, other)
        try:
            out = a._data + b._data if alpha == 1 else a._data + alpha * b._data
        except ValueError:
            _check_broadcast("add", a._data, b._data)
            raise
        return make_result(out, _add, (a, b), () if alpha == 1 else (alpha,))
    finally:
        _reset_state(token)


def _is_bool(x) -> bool:
    return isinstance(x, bool | np.bool_) or (isinstance(x, Tensor) and x._data.dtype.kind == "b")


@_switches_itself
def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """``input - alpha * other`` with broadcasting."""
    token = _set_state(_IGNORE)
    try:
        if out is not None:
            return _write_out("sub", out, sub(input, other, alpha=alpha))
        if isinstance(alpha, Tensor):  # torch takes a one-element tensor as the number it holds
            alpha = alpha.item()
        if alpha == 1:
            case = _scalar_case(input, other)
            if case is not None:
                t, c = case
                x = t._data
                if t is input:
                    return make_unary_result(x - constant(c, x.dtype)._data, _sub_scalar, t, (c,))
                return make_unary_result(constant(c, x.dtype)._data - x, _rsub_scalar, t, (c,))
        a, b = operands(input, other)
        if a._data.dtype.kind == "b":
            raise RuntimeError(
                "sub: subtraction with two bool tensors is not supported; use logical_xor or convert "
                "with .int()"
            )
        if _is_bool(input) or _is_bool(other):  # torch refuses a bool operand with any other
            raise RuntimeError(
                "sub: subtraction, the `-` operator, with a bool tensor is not "
                "supported; to invert a mask use `~` or logical_not(), else convert "
                "with .int() or .float()"
            )
        try:
            out = a._data - b._data if alpha == 1 else a._data - alpha * b._data
        except ValueError:
            _check_broadcast("sub", a._data, b._data)
            raise
        return make_result(out, _sub, (a, b), () if alpha == 1 else (alpha,))
    finally:
        _reset_state(token)


@_switches_itself
def div(input, other, *, rounding_mode: str | None = None, out=None) -> Tensor:
    """True division (integers give the default float dtype); ``rounding_mode`` 'trunc'/'floor'."""
    token = _set_state(_IGNORE)
    try:
        if out is not None:
            return _write_out("div", out, div(input, other, rounding_mode=rounding_mode))
        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode not in (None, "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        if rounding_mode is None and type(input) is Tensor:
            t = type(other)
            if (t is float or t is int) and input._data.dtype.kind in "fV":
                x = input._data
                if x.dtype in _dtype.HALF:
                    return _half_scalar("div", input, other)
                k = constant(other, x.dtype)._data
                return make_unary_result(x / k, _div_scalar, input, (k,))
        if (
            rounding_mode is None
            and type(other) is Tensor
            and (type(input) is float or type(input) is int)
            and other._data.dtype in _dtype.HALF
        ):  # torch's number / tensor is reciprocal(tensor) * number: two roundings in half precision
            return mul(reciprocal(other), input)
        a, b = operands(input, other)
        integral = a._data.dtype.kind in "iub"
        if integral and rounding_mode == "trunc":
            _check_integer_divisor(b._data)
        if integral:
            a, b = to(a, _dtype.get_default_dtype()), to(b, _dtype.get_default_dtype())
        try:
            out = a._data / b._data
        except ValueError:
            _check_broadcast("div", a._data, b._data)
            raise
        result = make_result(out, _div, (a, b))
        if rounding_mode == "trunc":
            result = trunc(result)
            if integral:
                result = wrap(result._data.astype(np.int64))
        return result
    finally:
        _reset_state(token)


true_divide = divide = div
multiply = mul
subtract = sub


def _broadcasting(who: str, fn, a: Tensor, b: Tensor):
    """``fn(a, b)`` on the arrays, with torch's error where the shapes do not broadcast."""
    try:
        return fn(a._data, b._data)
    except ValueError:
        _check_broadcast(who, a._data, b._data)
        raise


def _check_integer_divisor(b: np.ndarray) -> None:
    """torch raises for an integer division by zero (NumPy would warn and give 0)."""
    if b.dtype.kind not in "iu":  # floats divide to inf/NaN; bools: NumPy's int8 result, as before
        return
    # item() / count_nonzero: ~0.1 / ~1 us, where any_true(b == 0) took ~7 (another array type,
    # such as vmap's batched array, asks the backend seam)
    if type(b) is not np.ndarray:
        zero = any_true(b == 0)
    else:
        zero = b.item() == 0 if not b.shape else np.count_nonzero(b) != b.size
    if zero:
        raise RuntimeError("ZeroDivisionError")


def floor_divide(input, other) -> Tensor:
    """Division rounded toward negative infinity (``//``)."""
    a, b = operands(input, other)
    if b._data.dtype.kind == "b":  # both bool after promotion; NumPy would give int8
        raise NotImplementedError(
            "\"div_floor_cpu\" not implemented for 'Bool': floor_divide of two bool tensors; "
            "convert them first, e.g. a.int() // b.int()"
        )
    _check_integer_divisor(b._data)
    return make_result(_broadcasting("floor_divide", np.floor_divide, a, b), floor_divide_op, (a, b))


def remainder(input, other) -> Tensor:
    """Python-style modulus (the sign of the divisor), as ``%``."""
    a, b = operands(input, other)
    _check_integer_divisor(b._data)
    return make_result(_broadcasting("remainder", np.remainder, a, b), _remainder, (a, b))


def fmod(input, other) -> Tensor:
    """C-style remainder (the sign of the dividend)."""
    a, b = operands(input, other)
    _check_integer_divisor(b._data)
    return make_result(_broadcasting("fmod", np.fmod, a, b), _fmod, (a, b))


def pow(input, exponent) -> Tensor:  # noqa: A001
    """``input ** exponent`` with broadcasting."""
    a, b = operands(input, exponent)
    if a._data.dtype.kind in "iu" and b._data.dtype.kind in "iu" and any_true(b._data < 0):
        if not isinstance(exponent, Tensor):  # torch refuses a negative number, not a tensor
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        return wrap(_integer_power(a._data, b._data))
    # torch's node: PowBackward0 for tensor ** number, PowBackward2 for number ** tensor
    shown = _POW_TENSORS if isinstance(exponent, Tensor) else _pow
    if not isinstance(input, Tensor):
        shown = _POW_NUMBER_BASE
    # torch's kernel for a number exponent computes x ** -0.5 as rsqrt: -0.0 gives -inf and -inf
    # NaN there (NumPy's power: inf and 0); decided on the Python number, which costs nothing
    number_exponent = not isinstance(exponent, Tensor)
    power = _reciprocal_sqrt if number_exponent and exponent == -0.5 else np.power
    half = number_exponent and exponent == 0.5  # its derivative takes x ** -0.5 the same way
    return make_result(_broadcasting("pow", power, a, b), shown, (a, b), (half,))


def _reciprocal_sqrt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a ** -0.5`` as torch's kernel for a number exponent computes it, ``1 / sqrt(a)``."""
    if a.dtype.kind in "fc":
        return np.reciprocal(np.sqrt(a))
    return np.power(a, b)


_POW_TENSORS = _pow.shown_as("PowBackward1")
_POW_NUMBER_BASE = _pow.shown_as("PowBackward2")


def _integer_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """torch's integer ``a ** b`` with negative exponents: the integer part of the true power
    (1 for a = 1, +-1 for a = -1, else 0, also for a = 0), where NumPy raises."""
    negative = b < 0
    positive_part = np.power(a, np.where(negative, 0, b))
    odd = (b % 2) != 0
    small = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, small, positive_part).astype(positive_part.dtype, copy=False)


def float_power(input, exponent) -> Tensor:
    """``pow`` computed in float64 (the result is float64 whatever the inputs' dtypes)."""
    return pow(
        to(as_tensor(input), _dtype.float64),
        exponent if not isinstance(exponent, Tensor) else to(exponent, _dtype.float64),
    )


# ---- selection and clamping --------------------------------------------------------------------
@defop("where", saves_inputs=False, formula=("{g0} = {gy} * [condition]", "{g1} = {gy} * [not condition]"))
def _where(F, g, xs, out, p, needs):
    cond = p[0]
    zero = F.zeros_like(g)  # not g * 0: a NaN in g must not leak into the branch not taken (torch)
    return F.where(cond, g, zero), F.where(cond, zero, g)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other``; one argument: ``nonzero(as_tuple=True)``."""
    cond = as_tensor(condition, "where")
    if input is None and other is None:
        return nonzero(cond, as_tuple=True)
    if cond._data.dtype.kind != "b":
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got {cond.dtype}")
    a, b = operands(input, other)
    c = cond._data
    try:
        out = np.where(c, a._data, b._data)
    except ValueError:
        raise RuntimeError(
            f"where: the condition {list(c.shape)}, input {list(a.shape)} and other {list(b.shape)} "
            "do not broadcast to one shape; reshape or unsqueeze them"
        ) from None
    return make_result(out, _where, (a, b), (c,))  # the condition is a constant of the rule


@defop("clamp", formula="{g0} = {gy} * [min <= {x0} <= max]")
def _clamp(F, g, xs, out, p, needs):
    x = xs[0]
    lo, hi = p
    keep = None
    if lo is not None:
        keep = x >= lo
    if hi is not None:
        keep = (x <= hi) if keep is None else keep & (x <= hi)
    # where, not g * keep: a NaN gradient stays out of clamped positions, as in torch
    return (F.where(keep, g, F.zeros_like(g)) if keep is not None else g,)


@defop(
    "clamp_tensors",
    formula=(
        "{g0} = {gy} * [min <= {x0} <= max]",
        "{g1} = {gy} * [{x0} < min < max]",
        "{g2} = {gy} * [{x0} > max or max < min]",
    ),
)
def _clamp_tensors(F, g, xs, out, p, needs):
    """torch's clamp_backward and clamp_backward_min_max: each input's gradient selected by a
    comparison, so a tie (input == bound) goes to the input whole (not split as maximum's), and
    where min > max the output is max, so max takes the gradient. A NaN anywhere selects none."""
    has_lo, has_hi = p
    x = xs[0]
    lo = xs[1] if has_lo else None
    hi = xs[-1] if has_hi else None
    zero = F.zeros_like(g)
    if lo is not None and hi is not None:
        keep = (x >= lo) & (x <= hi)
        to_lo = (x < lo) & (lo < hi)
        to_hi = (x > hi) | (hi < lo)
    elif lo is not None:
        keep, to_lo, to_hi = x >= lo, x < lo, None
    else:
        keep, to_lo, to_hi = x <= hi, None, x > hi
    grads = [F.where(keep, g, zero)]
    grads += [F.where(pick, g, zero) for pick in (to_lo, to_hi) if pick is not None]
    return tuple(grads)


_CLAMP_TENSORS = _clamp_tensors.shown_as("ClampBackward0")


def _clamp_by_tensors(input: Tensor, min, max) -> Tensor:  # noqa: A002
    """clamp with a tensor bound (the other a tensor, a number or None), promoted as torch does:
    NaN where any of the three is NaN, ``max`` where ``min > max``."""
    bounds = [b for b in (min, max) if b is not None]
    for b in bounds:  # the common dtype of the input and both bounds
        input, _ = operands(input, b)
    bounds = [operands(input, b)[1] for b in bounds]
    out = input._data
    try:
        if min is not None:
            out = np.maximum(out, bounds[0]._data)
        if max is not None:
            out = np.minimum(out, bounds[-1]._data)
    except ValueError:
        shapes = ", ".join(str(list(t.shape)) for t in (input, *bounds))
        raise RuntimeError(
            f"clamp: the input and its bounds (shapes {shapes}) do not broadcast to one shape; "
            "reshape or unsqueeze them"
        ) from None
    return make_result(out, _CLAMP_TENSORS, (input, *bounds), (min is not None, max is not None))


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to [min, max] (either may be None); gradient 1 inside, 0 outside."""
    input = as_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_by_tensors(input, min, max)
    x = input._data
    out = np.clip(x, min, max)
    if out.dtype != x.dtype:
        out = out.astype(_dtype.result_type(input, min if min is not None else max))
    return make_result(out, _clamp, (input,), (min, max))


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    return clamp(input, max=max)
