"""Activations and the softmax family of ``chainrule.nn.functional`` (re-exported there)."""

from __future__ import annotations

import warnings

from .. import ops as _ops
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import Tensor
from ..ops import activation as _act
from ..ops import activation_piecewise as _pw
from ..ops.inplace import apply_inplace


# ---- activations -------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; ``inplace=True`` overwrites ``input``."""
    return _ops.relu_(input) if inplace else _ops.relu(input)


def relu_(input: Tensor) -> Tensor:
    return _ops.relu_(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return apply_inplace("hardtanh_", input, lambda: _pw.hardtanh(input, min_val, max_val))
    return _pw.hardtanh(input, min_val, max_val)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x if x > 0 else negative_slope * x``."""
    if inplace:
        return leaky_relu_(input, negative_slope)
    return _act.leaky_relu(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply_inplace("leaky_relu_", input, lambda: _act.leaky_relu(input, negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    if inplace:
        return elu_(input, alpha)
    return _act.elu(input, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return apply_inplace("elu_", input, lambda: _act.elu(input, alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    if inplace:
        return apply_inplace("selu_", input, lambda: _act.elu(input, _SELU_ALPHA) * _SELU_SCALE)
    return _act.elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu's alpha must not be 0")
    if inplace:
        return apply_inplace("celu_", input, lambda: _act.elu(input / alpha, 1.0) * alpha)
    return _act.elu(input / alpha, 1.0) * alpha


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (Phi the standard normal CDF); ``approximate='tanh'`` for the tanh form."""
    return _act.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    if inplace:
        return apply_inplace("silu_", input, lambda: _act.silu(input))
    return _act.silu(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    if inplace:
        # softplus reads a clone: it saves its input, which the in-place write then overwrites
        return apply_inplace("mish_", input, lambda: input * _ops.tanh(_act.softplus(_ops.clone(input))))
    return input * _ops.tanh(_act.softplus(input))


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, stable for any x."""
    return _ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _ops.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta`` (``x`` where ``beta x > threshold``)."""
    return _act.softplus(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (_ops.abs(input) + 1)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for any x."""
    return -_act.softplus(-input)


def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        "include dim=X as an argument.",
        stacklevel=_user_stacklevel(),  # the user's line, whatever ``_stacklevel`` says
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)`` along ``dim``, stable for extreme logits.

    Parameters
    ----------
    input : floating point tensor.
    dim : the dim that sums to one (None: torch's deprecated implicit choice, with a warning).
    dtype : convert the input to this dtype first.
    """
    if dim is None:
        dim = _get_softmax_dim("softmax", input.ndim, _stacklevel)
    return _ops.softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x, dim)``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _ops.softmax(-input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x, dim)``: log-probabilities, stable for extreme logits."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _ops.log_softmax(input, dim, dtype=dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    a, b = _ops.chunk(input, 2, dim)
    return a * _ops.sigmoid(b)
