"""Piecewise and randomized activations of ``chainrule.nn.functional`` (re-exported there):
shrinkage, threshold, hard sigmoid/swish, PReLU, RReLU, the in-place forms torch has, and
``gumbel_softmax``. The ops themselves are in ``chainrule.ops.activation_piecewise``."""

from __future__ import annotations

from .. import _random
from .. import ops as _ops
from .._tensor import Tensor, wrap
from ..ops import activation_piecewise as _pw
from ..ops.activation_piecewise import TORCH_TYPE_NAMES
from ..ops.inplace import apply_inplace

__all__ = [
    "hardshrink",
    "softshrink",
    "tanhshrink",
    "threshold",
    "threshold_",
    "hardsigmoid",
    "hardswish",
    "prelu",
    "rrelu",
    "rrelu_",
    "selu_",
    "celu_",
    "hardtanh_",
    "gumbel_softmax",
]


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``0`` where ``|x| <= lambd``, else ``x``."""
    return _pw.hardshrink(input, lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` moved ``lambd`` towards 0, and ``0`` where ``|x| <= lambd``."""
    return _pw.softshrink(input, lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - _ops.tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    if inplace:
        return _pw.threshold_(input, threshold, value)
    return _pw.threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _pw.threshold_(input, threshold, value)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    if inplace:
        return apply_inplace("hardsigmoid_", input, lambda: _pw.hardsigmoid(input))
    return _pw.hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    if inplace:
        # on a clone: the product saves its input, which the in-place write then overwrites
        return apply_inplace("hardswish_", input, lambda: _pw.hardswish(_ops.clone(input)))
    return _pw.hardswish(input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x`` (one slope, or one per channel: dim 1)."""
    return _pw.prelu(input, weight)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8.0,
    upper: float = 1.0 / 3.0,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: slopes drawn from ``U(lower, upper)`` in training (chainrule's
    generator), ``(lower + upper) / 2`` otherwise."""
    if inplace:
        return _pw.rrelu_(input, lower, upper, training)
    return _pw.rrelu(input, lower, upper, training)


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, training: bool = False
) -> Tensor:
    return _pw.rrelu_(input, lower, upper, training)


def selu_(input: Tensor) -> Tensor:
    return _pw.selu_(input)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _pw.celu_(input, alpha)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``: ``x`` clamped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return apply_inplace("hardtanh_", input, lambda: _pw.hardtanh(input, min_val, max_val))


def gumbel_softmax(
    logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution: ``softmax((logits + g) / tau)`` with
    ``g`` standard Gumbel noise from chainrule's generator.

    With ``hard=True`` the result is the one-hot vector of the sample's largest entry, with the
    soft sample's gradient (straight-through: ``y_hard - y.detach() + y``).
    """
    x = logits._data
    if x.dtype.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {TORCH_TYPE_NAMES.get(x.dtype.name, x.dtype.name)}"
        )
    noise = _random.rng(None).standard_exponential(x.shape).astype(x.dtype, copy=False)
    gumbels = -_ops.log(wrap(noise))
    y_soft = _ops.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = _ops.argmax(y_soft, dim, keepdim=True)
    y_hard = _ops.scatter(_ops.zeros_like(logits), dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
