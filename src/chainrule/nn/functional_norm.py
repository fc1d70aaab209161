"""Normalization, dropout and embedding of ``nn.functional``.

batch_norm and layer_norm run on the fused op of ``chainrule.ops.normalization``, group_norm on
that of ``chainrule.ops.group_norm`` (torch's kernel's form; on other array types, dtypes and empty
inputs as layer norm over each group, then the per-channel affine map); dropout multiplies by a scaled
random mask drawn from chainrule's generator; embedding is the lookup op of
``chainrule.ops.embedding``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _random
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops._common import all_samples, as_tensor, shape_str, wrap
from ..ops.group_norm import fused_group_norm_applies, group_normalize
from ..ops.lookup import embedding_lookup
from ..ops.normalization import normalize
from ..ops.shape import reshape

__all__ = ["batch_norm", "layer_norm", "group_norm", "dropout", "embedding"]


def _float_input(who: str, input) -> Tensor:
    input = as_tensor(input, who)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"{who}: expected a floating point input, got dtype {input.dtype}; "
            "convert it first, e.g. input.float()"
        )
    return input


def _check_vector(who: str, name: str, t: Tensor | None, n: int, dtype) -> None:
    if t is None:
        return
    if t._data.size != n:
        raise RuntimeError(
            f"{who}: {name} should contain {n} elements not {t._data.size} (got "
            f"shape {shape_str(t._data.shape)})"
        )
    if t._data.dtype != dtype:
        raise RuntimeError(
            f"{who}: {name} has dtype {t.dtype} but the input has {dtype}; convert "
            f"it, e.g. {name}.to(input.dtype)"
        )


# ---- batch norm ---------------------------------------------------------------------------------
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over every dim but the channels (dim 1), as
    ``torch.nn.functional.batch_norm``.

    Parameters
    ----------
    input : Tensor of shape (N, C) or (N, C, *).
    running_mean, running_var : (C,) running estimates, or None. In training they are updated in
        place: ``r = (1 - momentum) r + momentum * batch statistic`` (the unbiased variance); in
        evaluation they normalise the input.
    weight, bias : optional (C,) affine parameters.
    training : use the batch's statistics (and update the running ones).
    momentum : the running estimates' update factor.
    eps : added to the variance for numerical stability.
    """
    who = "batch_norm"
    input = _float_input(who, input)
    x = input._data
    if x.ndim < 2:
        raise ValueError(
            f"{who}: expected an input with at least 2 dims (N, C, *), got shape {shape_str(x.shape)}"
        )
    C = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_vector(who, name, t, C, x.dtype)
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, C) + (1,) * (x.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError(
                f"{who}: running_mean and running_var must be defined in "
                "evaluation mode (pass training=True to use the batch statistics)"
            )
        mean = running_mean._data.reshape(view)
        invstd = (1 / np.sqrt(running_var._data + x.dtype.type(eps))).reshape(view)
        return normalize(input, weight, bias, axes, view, eps, batch=True, mean=mean, invstd=invstd)[0]
    n = x.shape[0] * math.prod(x.shape[2:])  # values per channel
    if n == 1:  # (none at all is allowed, as torch: an empty batch gives an empty output)
        raise ValueError(
            f"{who}: Expected more than 1 value per channel when training, got input "
            f"size {shape_str(x.shape)}"
        )
    out, mean, var = normalize(input, weight, bias, axes, view, eps, batch=True)
    if x.size == 0:  # nothing measured: torch leaves the running statistics as they are
        return out
    m = x.dtype.type(momentum)
    for running, stat in ((running_mean, mean), (running_var, var * x.dtype.type(n / (n - 1)))):
        if running is not None:
            r = running._data
            r *= 1 - m
            r += m * stat.reshape(r.shape)
            running._bump_version()
    return out


# ---- layer norm and group norm ------------------------------------------------------------------
def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims, as ``torch.nn.functional.layer_norm``.

    Parameters
    ----------
    input : Tensor of shape (*, *normalized_shape).
    normalized_shape : int or tuple, the trailing dims to normalise over.
    weight, bias : optional affine parameters of shape ``normalized_shape``.
    eps : added to the variance for numerical stability.
    """
    who = "layer_norm"
    input = _float_input(who, input)
    x = input._data
    shape = (
        (int(normalized_shape),)
        if isinstance(normalized_shape, int | np.integer)
        else tuple(int(s) for s in normalized_shape)
    )
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise RuntimeError(
            f"{who}: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size "
            f"{list(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != shape:
            raise RuntimeError(
                f"{who}: expected {name} of shape {shape_str(shape)} "
                f"(normalized_shape), got {shape_str(t._data.shape)}"
            )
        _check_vector(who, name, t, math.prod(shape), x.dtype)
    axes = tuple(range(x.ndim - k, x.ndim))
    return normalize(input, weight, bias, axes, shape, eps, batch=False)[0]


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample's channels in ``num_groups`` groups, as
    ``torch.nn.functional.group_norm``.

    Parameters
    ----------
    input : Tensor of shape (N, C, *), C divisible by ``num_groups``.
    num_groups : number of channel groups, each normalised over its channels and all other dims.
    weight, bias : optional (C,) per-channel affine parameters.
    eps : added to the variance for numerical stability.
    """
    who = "group_norm"
    input = _float_input(who, input)
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(
            f"{who}: expected an input with at least 2 dims (N, C, *), got shape {shape_str(x.shape)}"
        )
    C = x.shape[1]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(
            f"{who}: Expected number of channels in input to be divisible by "
            f"num_groups, but got input of shape {shape_str(x.shape)} and "
            f"num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        _check_vector(who, name, t, C, x.dtype)
    if fused_group_norm_applies(input, weight, bias):  # torch's fused kernel, one node
        return group_normalize(input, num_groups, weight, bias, eps)
    # other array types, dtypes and empty inputs: layer norm over each group, then the affine map;
    # explicit sizes: an empty batch leaves no -1 to infer
    grouped = reshape(input, (x.shape[0], num_groups, x.size // max(1, x.shape[0] * num_groups)))
    y = normalize(grouped, None, None, (2,), (), eps, batch=False)[0]
    y = reshape(y, x.shape)
    view = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, view)
    if bias is not None:
        y = y + reshape(bias, view)
    return y


# ---- dropout ------------------------------------------------------------------------------------
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``, as
    ``torch.nn.functional.dropout``; the identity when not ``training``.

    The mask comes from chainrule's default generator (``chainrule.manual_seed``): reproducible,
    but not the same draws as torch's generator.
    """
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = as_tensor(input, "dropout")
    if not training or p == 0:
        return input
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating point input, got dtype {input.dtype}")
    if p == 1:
        scale = np.zeros(x.shape, dtype=x.dtype)
    else:
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        keep = _random.rng(None).random(x.shape, dtype=draw_dtype) >= p
        scale = keep * x.dtype.type(1 / (1 - p))
    if inplace:
        return input.mul_(wrap(scale))
    return input * wrap(scale)


# ---- embedding ----------------------------------------------------------------------------------
def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight`` at the integer ``input``, as ``torch.nn.functional.embedding``.

    Parameters
    ----------
    input : int64 (or int32) Tensor of indices into the rows of ``weight``, any shape.
    weight : (num_embeddings, embedding_dim) Tensor.
    padding_idx : the row whose gradient stays zero (it receives none).
    max_norm : rows looked up whose ``norm_type``-norm exceeds this are rescaled to it, in place.
    scale_grad_by_freq : divide gradients by the frequency of each index in the batch.
    sparse : not supported (gradients are dense).

    Returns
    -------
    Tensor of shape ``input.shape + (embedding_dim,)``.
    """
    who = "embedding"
    if sparse:
        raise NotImplementedError(
            "embedding: sparse=True is not supported (chainrule has no sparse "
            "tensors); use sparse=False, which gives the same dense gradient"
        )
    if not isinstance(input, Tensor) or input._data.dtype not in (np.int64, np.int32):
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(
            f"{who}: Expected tensor for argument #1 'indices' to have one of the "
            f"following scalar types: Long, Int; but got {kind} instead; convert "
            "it with indices.long()"
        )
    weight = as_tensor(weight, who)
    w = weight._data
    if w.ndim != 2:
        raise RuntimeError(
            f"{who}: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape {shape_str(w.shape)}"
        )
    idx = input._data
    num = w.shape[0]
    if idx.size and (all_samples(idx).min() < 0 or all_samples(idx).max() >= num):
        bad = int(all_samples(idx).max()) if all_samples(idx).max() >= num else int(all_samples(idx).min())
        raise IndexError(f"{who}: index out of range in self (index {bad}, num_embeddings {num})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError(
                f"Padding_idx must be within num_embeddings (got padding_idx="
                f"{padding_idx}, num_embeddings={num})"
            )
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), max_norm, norm_type)
    return embedding_lookup(weight, idx.astype(np.int64, copy=False), padding_idx, scale_grad_by_freq)


def _renorm_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    """torch.embedding_renorm_: rescale (in place, untracked) the rows whose norm exceeds max_norm."""
    with no_grad():
        w = weight._data
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
            w[rows[big]] *= scale[:, None]
            weight._bump_version()
