"""Channel-wise and alpha dropouts of ``chainrule.nn.functional`` (re-exported there).

``dropout1d/2d/3d`` zero whole channels (one Bernoulli draw per sample and channel, broadcast over
the spatial dims); ``alpha_dropout`` keeps the mean and variance of a SELU network's activations
by sending dropped elements to SELU's negative saturation value and applying an affine correction;
``feature_alpha_dropout`` does so per channel. The masks come from chainrule's generator
(``chainrule.manual_seed``): the same distribution as torch's, other draws.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _random
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import Tensor, wrap
from ..ops._common import as_tensor
from ..ops.inplace import apply_inplace

__all__ = [
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
]

# SELU's negative saturation value, -scale * alpha: where alpha dropout sends the dropped elements
_SELU_SATURATION = 1.7580993408473766


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_shape(input: Tensor, feature: bool) -> tuple:
    if not feature:
        return tuple(input.shape)
    if input.ndim < 2:
        raise RuntimeError(
            "Feature dropout requires at least 2 dimensions in the input (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def dropout_impl(
    input: Tensor, p: float, training: bool, inplace: bool, *, feature: bool, alpha: bool
) -> Tensor:
    """torch's ``_dropout_impl``: the plain, feature (channel-wise), alpha and feature-alpha forms."""
    input = as_tensor(input, "dropout")
    if not training or p == 0 or input.numel() == 0:
        return input
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating point input, got dtype {input.dtype}")
    shape = _noise_shape(input, feature)
    if p == 1:
        factor = wrap(np.zeros((), dtype=x.dtype))
        return input.mul_(factor) if inplace else input * factor
    draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
    keep = (_random.rng(None).random(shape, dtype=draw_dtype) >= p).astype(x.dtype)
    if not alpha:
        scale = wrap(keep * x.dtype.type(1 / (1 - p)))
        return input.mul_(scale) if inplace else input * scale
    a = 1.0 / math.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    shift = wrap(((keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p).astype(x.dtype))
    scale = wrap((keep * a).astype(x.dtype))
    if inplace:
        # on a clone: the product saves its input, which the in-place write then overwrites
        return apply_inplace("alpha_dropout_", input, lambda: input.clone() * scale + shift)
    return input * scale + shift


def feature_dropout(input: Tensor, p: float, train: bool, inplace: bool = False) -> Tensor:
    """Channel-wise dropout of an ``(N, C, *)`` input (torch's ``torch.feature_dropout``)."""
    return dropout_impl(input, p, train, inplace, feature=True, alpha=False)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, L)`` or ``(C, L)`` input with probability ``p`` and scale
    the rest by ``1 / (1 - p)``; the identity when not ``training``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
            "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if input.ndim == 2:  # no batch dim: each channel is one feature map
        if inplace:
            return _unbatched_inplace(input, p, training)
        return feature_dropout(input.unsqueeze(0), p, training).squeeze(0)
    return feature_dropout(input, p, training, inplace)


def _unbatched_inplace(input: Tensor, p: float, training: bool) -> Tensor:
    return apply_inplace(
        "dropout1d_", input, lambda: feature_dropout(input.clone().unsqueeze(0), p, training).squeeze(0)
    )


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, H, W)`` input (torch's 3-D reading too: ``(N, C, L)``,
    with its warning)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and an "
            "optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=_user_stacklevel(),
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
            "dim. This behavior will change in a future release to interpret the input as one "
            "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
            "dropout behavior, please switch to using dropout1d instead.",
            stacklevel=_user_stacklevel(),
        )
    return feature_dropout(input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and an "
            "optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=_user_stacklevel(),
        )
    if input.ndim == 4:
        if inplace:
            return apply_inplace(
                "dropout3d_",
                input,
                lambda: feature_dropout(input.clone().unsqueeze(0), p, training).squeeze(0),
            )
        return feature_dropout(input.unsqueeze(0), p, training).squeeze(0)
    return feature_dropout(input, p, training, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps a SELU network's self-normalisation: dropped elements become SELU's
    saturation value, then an affine map restores zero mean and unit variance."""
    _check_p(p)
    return dropout_impl(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """``alpha_dropout`` of whole channels (``(N, C, *)`` input)."""
    _check_p(p)
    return dropout_impl(input, p, training, inplace, feature=True, alpha=True)
