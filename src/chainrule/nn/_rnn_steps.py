"""The arithmetic of the recurrent layers: time steps as views, and one step of each cell.

Kept apart from the layer classes (``rnn.py``) so those read as torch's do. Every function here is
a composition of chainrule's differentiable ops; ``gi`` always stands for the input's part of the
gates, ``x @ W_ih^T + b``, which the layers compute for the whole sequence in one GEMM.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import _dtype
from .. import ops as C
from .._tensor import Tensor, wrap
from ..autograd._tables import FORWARD
from ..autograd.function import Function
from .parameter import Parameter

__all__ = ["STEPS", "input_gates", "unbind_steps", "check_dtype", "new_param", "fused_layers_apply"]


# ---- time steps as views: one node per block, whose backward is a single stack/cat ---------------
class _Pieces(Function):
    """Views of ``x`` along ``dim``: slices of the given ``sizes``, or (``select``) every index.

    One node for all pieces: backward joins their gradients in one ``cat``/``stack`` instead of
    giving each piece a zero-padded gradient the size of ``x`` (which is quadratic in the length).
    """

    @staticmethod
    def forward(ctx, x: Tensor, dim: int, sizes: tuple, select: bool) -> tuple:
        ctx.dim, ctx.select = dim, select
        a, lead, pieces, start = x._data, (slice(None),) * dim, [], 0
        for s in sizes:
            pieces.append(wrap(a[lead + ((start,) if select else (slice(start, start + s),))]))
            start += s
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        joined = C.stack(list(grads), ctx.dim) if ctx.select else C.cat(list(grads), ctx.dim)
        return joined, None, None, None


def unbind_steps(x: Tensor, dim: int) -> list:
    """``x.unbind(dim)`` in blocks of about sqrt(n) steps, so the multi-output bookkeeping of the
    backward grows like n^1.5 rather than n^2."""
    n = x.shape[dim]
    if n <= 16:
        return list(_Pieces.apply(x, dim, (1,) * n, True))
    k = math.isqrt(n - 1) + 1
    sizes = (k,) * (n // k) + ((n % k,) if n % k else ())
    return [
        step
        for block in _Pieces.apply(x, dim, sizes, False)
        for step in _Pieces.apply(block, dim, (1,) * block.shape[dim], True)
    ]


# ---- one time step: ``gi`` is the input's part of the gates (with the biases that can go there) --
def _rnn_cell(act: Callable) -> Callable:
    def step(gi: Tensor, h: Tensor, c, w_hh_t: Tensor, b_hh, w_hr_t) -> tuple:
        return act(gi + C.matmul(h, w_hh_t)), None

    return step


def _lstm_step(gi: Tensor, h: Tensor, c: Tensor, w_hh_t: Tensor, b_hh, w_hr_t) -> tuple:
    n = c._data.shape[-1]
    gates = gi + C.matmul(h, w_hh_t)
    i, f, g, o = gates[..., :n], gates[..., n : 2 * n], gates[..., 2 * n : 3 * n], gates[..., 3 * n :]
    c = C.sigmoid(f) * c + C.sigmoid(i) * C.tanh(g)
    h = C.sigmoid(o) * C.tanh(c)
    if w_hr_t is not None:
        h = C.matmul(h, w_hr_t)
    return h, c


def _gru_step(gi: Tensor, h: Tensor, c, w_hh_t: Tensor, b_hh, w_hr_t) -> tuple:
    n = h._data.shape[-1]
    gh = C.matmul(h, w_hh_t)
    if b_hh is not None:
        gh = gh + b_hh
    rz = C.sigmoid(gi[..., : 2 * n] + gh[..., : 2 * n])
    new = C.tanh(gi[..., 2 * n :] + rz[..., :n] * gh[..., 2 * n :])
    return new + rz[..., n:] * (h - new), None  # = (1 - z) * new + z * h


STEPS = {"LSTM": _lstm_step, "GRU": _gru_step, "RNN_TANH": _rnn_cell(C.tanh), "RNN_RELU": _rnn_cell(C.relu)}


def input_gates(x: Tensor, w_ih: Tensor, b_ih, b_hh, mode: str) -> Tensor:
    """``x @ W_ih^T + b_ih`` (+ ``b_hh`` except for GRU, whose b_hn sits inside ``r * (...)``)."""
    shape = x._data.shape
    gi = C.matmul(
        C.reshape(x, (int(np.prod(shape[:-1])), shape[-1])) if len(shape) > 2 else x, C.t(w_ih)
    )  # one GEMM
    if b_ih is not None:
        gi = gi + (b_ih if mode == "GRU" else b_ih + b_hh)
    return C.reshape(gi, shape[:-1] + (gi._data.shape[-1],)) if len(shape) > 2 else gi


def fused_layers_apply(mode: str, proj_size: int, input: Tensor) -> bool:
    """Whether a layer runs as one recorded op (``ops/recurrent.py``): LSTM without projection and
    GRU on float32/float64 NumPy arrays. Forward-mode AD (no tangent rule for the fused ops),
    vmap's batched arrays, half precisions (NumPy's bfloat16 products come out float32),
    projections and the plain RNN take the composed path."""
    data = input._data
    return (mode == "GRU" or (mode == "LSTM" and not proj_size)) and (
        type(data) is np.ndarray and data.dtype in _FUSED_DTYPES and not FORWARD.active
    )


_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(who: str, input: Tensor, weight: Tensor) -> None:
    if input._data.dtype != weight._data.dtype:
        raise ValueError(
            f"{who} input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
            f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
        )


def new_param(shape: tuple, dtype, device) -> Parameter:
    return Parameter(C.empty(*shape, dtype=dtype or _dtype.get_default_dtype(), device=device))
