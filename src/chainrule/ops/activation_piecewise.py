"""Piecewise activations that torch also has at top level and as Tensor methods: ``hardshrink``,
``softshrink``, ``threshold`` (+``threshold_``), ``prelu``, ``rrelu`` (+``rrelu_``), ``selu`` and
``celu`` (+ their in-place forms), ``hardsigmoid`` and ``hardswish``.

Most are compositions of differentiable ops (``where`` on a constant mask, products, ``elu``), which
is exact: the pieces are where torch's derivative takes them, so first and second derivatives
match torch's, including at the breakpoints where torch's rules say which side wins. ``hardtanh``
and ``hardsigmoid`` are ops of their own, whose values are torch's kernels' to the last bit.
"""

from __future__ import annotations

import numpy as np

from .. import _random
from ..autograd.graph import defop
from ._common import Tensor, as_array, as_tensor, make_result, shape_str, wrap
from .activation import elu as _elu
from .activation import leaky_relu as _leaky_relu
from .elementwise import mul, where
from .inplace import apply_inplace

__all__ = [
    "hardshrink",
    "threshold",
    "threshold_",
    "prelu",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "celu",
    "celu_",
]

# torch's names of the scalar types, for its "not implemented for 'Long'" errors
TORCH_TYPE_NAMES = {
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def float_input(input, who: str, kernel: str | None = None) -> Tensor:
    """``input`` as a Tensor, refusing integer and bool inputs as torch does (NotImplementedError
    naming its CPU kernel and the type)."""
    input = as_tensor(input, who)
    kind = input._data.dtype.kind
    if kind not in "fc":
        name = TORCH_TYPE_NAMES.get(input._data.dtype.name, input._data.dtype.name)
        raise NotImplementedError(
            f"\"{kernel or who + '_cpu'}\" not implemented for '{name}' ({who} needs a floating "
            "point input: convert it first, e.g. x.float())"
        )
    return input


def _mask(condition) -> Tensor:
    """A constant boolean tensor (``as_array`` keeps vmap's batched arrays batched)."""
    return wrap(as_array(condition))


# ---- hardtanh (relu6) ---------------------------------------------------------------------------
@defop("hardtanh", formula="{g0} = {gy} * [min < {x0} < max]")
def _hardtanh(F, g, xs, out, p, needs):
    """torch's hardtanh_backward: the gradient only strictly inside (min, max), so 0 at a bound
    (relu6 at 0), unlike clamp's, which keeps it there; 0 at NaN, as torch's vectorized kernel."""
    x = xs[0]
    low, high = p
    return (F.where((x > low) & (x < high), g, F.zeros_like(g)),)


_hardtanh.same_shape = True


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]`` (NaN stays NaN), with torch's derivative: 1 strictly
    inside, 0 at and beyond the bounds."""
    input = as_tensor(input, "hardtanh")
    x = input._data
    if x.dtype.kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh (convert first, e.g. x.float())")
    if x.dtype.kind in "iu":  # torch clamps integers in their dtype (no gradient to define)
        return wrap(np.clip(x, min_val, max_val).astype(x.dtype))
    out = np.clip(x, min_val, max_val)
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    return make_result(out, _hardtanh, (input,), (min_val, max_val))


# ---- shrinkage and threshold --------------------------------------------------------------------
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``0`` where ``-lambd <= x <= lambd``, else ``x`` (NaN stays NaN)."""
    input = float_input(input, "hardshrink")
    x = input._data
    return where(_mask((x >= lambd * -1) & (x <= lambd)), 0.0, input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` where ``x > lambd``, ``x + lambd`` where ``x < -lambd``, else ``0``."""
    input = float_input(input, "softshrink")
    if not lambd >= 0:
        raise RuntimeError(
            f"lambda must be in range [0, inf) for softshrink, but found {lambd}; give a non-negative lambd"
        )
    x = input._data
    shifted = where(_mask(x > lambd), input - lambd, input + lambd)
    return where(_mask((x >= -lambd) & (x <= lambd)), 0.0, shifted)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``value`` (NaN stays NaN; integer inputs stay integer)."""
    input = as_tensor(input, "threshold")
    x = input._data
    if x.dtype.kind == "b":
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    fill = wrap(np.asarray(value).astype(x.dtype))
    return where(_mask(x <= threshold), fill, input)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return apply_inplace("threshold_", input, lambda: _threshold(input, threshold, value))


_threshold = threshold  # (threshold_'s argument of the same name hides the function)


# ---- parametric and randomized leaky ReLUs ------------------------------------------------------
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x``; ``weight`` holds one slope, or one per channel
    (dim 1 of the input; a 0-d or 1-D input has one channel)."""
    input = float_input(input, "prelu", "prelu_cpu")
    weight = as_tensor(weight, "prelu")
    w = weight._data
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    if w.dtype != input._data.dtype:
        names = {"float32": "Float", "float64": "Double", "float16": "Half"}
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {names.get(input._data.dtype.name, input.dtype)} and "
            f"{names.get(w.dtype.name, weight.dtype)} (convert the weight: weight.to(input.dtype))"
        )
    channels = input.shape[1] if input.ndim >= 2 else 1
    if w.size != 1 and w.size != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{w.size} and channel size = {channels} (prelu: input of shape {shape_str(input.shape)}; "
            "give one slope or one per channel, dim 1)"
        )
    if w.size == 1:
        slope = weight.reshape(())
    else:
        slope = weight.reshape((1, channels) + (1,) * (input.ndim - 2))
    positive = _mask(input._data > 0)
    # the slope's branch sees 0 where the input is positive, as torch's rule selects there (input:
    # g, slope: 0): slope * input there would put 0 * inf = NaN into both gradients for an
    # infinite input or slope
    return where(positive, input, mul(slope, where(positive, 0.0, input)))


def _check_bounds(lower: float, upper: float) -> None:
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8.0,
    upper: float = 1.0 / 3.0,
    training: bool = False,
    generator=None,
) -> Tensor:
    """Randomized leaky ReLU: in training each non-positive element is scaled by its own slope
    drawn uniformly from ``[lower, upper]`` (chainrule's generator); in evaluation the slope is
    ``(lower + upper) / 2``."""
    input = float_input(input, "rrelu", "leaky_relu_cpu")
    _check_bounds(lower, upper)
    if not training:
        return _leaky_relu(input, (lower + upper) / 2)
    x = input._data
    slopes = _random.rng(generator).uniform(lower, upper, x.shape).astype(x.dtype, copy=False)
    noise = np.where(x <= 0, slopes, np.ones((), x.dtype))
    return mul(input, wrap(noise))  # the gradient is the noise: torch's rrelu_with_noise_backward


def rrelu_(
    input: Tensor,
    lower: float = 1.0 / 8.0,
    upper: float = 1.0 / 3.0,
    training: bool = False,
    generator=None,
) -> Tensor:
    """In-place ``rrelu``."""
    return apply_inplace("rrelu_", input, lambda: rrelu(input, lower, upper, training, generator))


# ---- selu, celu ---------------------------------------------------------------------------------
def selu(input: Tensor) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _elu(float_input(input, "selu", "elu_cpu"), SELU_ALPHA) * SELU_SCALE


def selu_(input: Tensor) -> Tensor:
    return apply_inplace("selu_", input, lambda: selu(input))


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    input = float_input(input, "celu", "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu's alpha must not be 0")
    return _elu(input / alpha, 1.0) * alpha


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return apply_inplace("celu_", input, lambda: celu(input, alpha))


# ---- hard sigmoid and hard swish (not at torch's top level: nn.functional re-exports them) -------
@defop("hardsigmoid", formula="{g0} = {gy} / 6 * [-3 < {x0} < 3]")
def _hardsigmoid(F, g, xs, out, p, needs):
    """torch's hardsigmoid_backward: ``g`` times the float32 constant ``1.0f / 6.0f`` (in every
    dtype) strictly inside (-3, 3), else 0 (at NaN too)."""
    x = xs[0]
    dtype = F.dtype_of(x)
    if dtype in _ONE_SIXTH_F32:
        inside = g * _ONE_SIXTH_F32[dtype]
    else:  # float16: the product in float32, rounded once (torch's kernel for reduced floats)
        inside = F.astype(F.astype(g, _FLOAT32) * _ONE_SIXTH_F32[_FLOAT32], dtype)
    return (F.where((x > -3) & (x < 3), inside, F.zeros_like(g)),)


_hardsigmoid.same_shape = True

# torch's backward constant, scalar_t(1.0f / 6.0f): float32's 1/6 in either dtype
_FLOAT32 = np.dtype(np.float32)
_ONE_SIXTH_F32 = {np.dtype(t): t(np.float32(1.0) / np.float32(6.0)) for t in (np.float32, np.float64)}


def hardsigmoid(input: Tensor) -> Tensor:
    """``min(max(x + 3, 0), 6) / 6``, as torch's kernel computes it (``x / 6 + 1/2`` differs in the
    last bit, at x = 2 for one); its derivative ``1/6`` only strictly inside ``(-3, 3)`` (NaN
    stays NaN, its gradient 0)."""
    input = float_input(input, "hardsigmoid")
    x = input._data
    if x.dtype.kind == "c":
        name = "ComplexFloat" if x.dtype == np.complex64 else "ComplexDouble"
        raise NotImplementedError(
            f"\"hardsigmoid_cpu\" not implemented for '{name}' (hardsigmoid is defined on real inputs: "
            "apply it to x.real and x.imag, or to x.abs())"
        )
    # float16 and bfloat16 in float32, rounded once at the end (torch's kernel for them)
    wide = x if x.dtype in _ONE_SIXTH_F32 else x.astype(np.float32)
    six = wide.dtype.type(6)
    out = np.minimum(np.maximum(wide + wide.dtype.type(3), wide.dtype.type(0)), six) / six
    return make_result(out.astype(x.dtype, copy=False), _hardsigmoid, (input,))


def hardswish(input: Tensor) -> Tensor:
    """``x * relu6(x + 3) / 6``; torch's derivative: 0 for ``x <= -3``, 1 for ``x >= 3``, else
    ``x / 3 + 1/2`` (NaN at NaN, as torch's vectorized kernel; its scalar one, for tensors shorter
    than a vector register, gives 1 there).

    Each piece is computed as torch's ``x * relu6(x + 3) / 6`` is there, so the values agree at the
    extremes too: ``x * 0`` below (NaN at -inf), ``x * 6 / 6`` above (inf once ``6 x`` overflows).
    The middle piece sees the input only where it is taken, so an infinite input elsewhere cannot
    put ``0 * inf`` into its gradient.
    """
    input = float_input(input, "hardswish")
    x = input._data
    below, above = x <= -3, x >= 3
    inside = _mask(~(below | above))  # NaN included
    safe = where(inside, input, 0.0)
    middle = safe * (safe + 3) / 6
    return where(_mask(below), input * 0.0, where(_mask(above), input * 6.0 / 6.0, middle))
