"""N-d pooling of ``nn.functional``: max_pool3d, avg_pool3d, adaptive max pooling (1-3 d),
adaptive_avg_pool3d, fractional max pooling, max unpooling and power-average (LP) pooling.

Every max pooling here is one recipe. Each spatial dim gets a table ``(out, k)`` of the input
position that window ``i``'s ``j``-th element reads (``-1`` for padding); regular, adaptive and
fractional pooling differ only in these tables. NumPy finds each window's maximum by torch's rule
(the first maximum in row-major window order; the last NaN if there are NaNs; padding never), as
a flat index into the input's spatial volume, which is torch's ``return_indices``. The output is
then a ``gather`` of the input at those indices, a differentiable op whose adjoint is a scatter,
so gradients of any order follow and the node keeps only the index (as torch keeps its indices).

Average pooling sums strided slices one dim at a time (a box filter is separable) and divides by
torch's divisor; the derivative is the same sums transposed, by composition.
"""

from __future__ import annotations

import numpy as np

from .._random import rng
from .._tensor import Tensor
from ..ops._common import as_tensor, save_outputs, shape_str, wrap
from ..ops.elementwise import pow as _pow
from ..ops.gather import gather, scatter
from ..ops.linalg import matmul
from ..ops.reduce import mean
from ..ops.shape import movedim, reshape, squeeze, unsqueeze
from ..ops.unary import abs as _abs
from ..ops.unary import relu, sign
from .functional_pad import constant_pad_nd
from .functional_pool import _adaptive_matrix, _ints, _output_size, avg_pool1d, avg_pool2d

__all__ = [
    "max_pool3d",
    "max_pool3d_with_indices",
    "avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "adaptive_avg_pool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
]

_LAYOUT = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


def _batched_input(who: str, input, nd: int, adaptive: bool = False) -> tuple[Tensor, bool]:
    """``input`` with a batch dim (and whether one was added); torch's rank and size checks.

    The adaptive pools take dim 0 as the batch whatever the rank (torch), so an unbatched input
    may have no channels; the others need channels and an extent in every spatial dim."""
    input = as_tensor(input, who)
    x = input._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{who}: expected {nd + 1}D or {nd + 2}D input {_LAYOUT[nd]}, got shape {shape_str(x.shape)}"
        )
    if any(n == 0 for n in x.shape[1 if adaptive else -nd - 1 :]):
        raise RuntimeError(
            f"{who}: expected input with non-zero sizes except the batch dim, got shape {shape_str(x.shape)}"
        )
    if x.dtype.kind != "f":
        raise RuntimeError(f"{who}: not implemented for dtype {input.dtype}; convert first, e.g. x.float()")
    if x.ndim == nd + 1:
        return unsqueeze(input, 0), True
    return input, False


def _unbatch(t, unbatched: bool):
    return squeeze(t, 0) if unbatched else t


# ---- the window tables and the max of each window --------------------------------------------------
def _regular_table(n: int, k: int, s: int, p: int, d: int, out: int) -> np.ndarray:
    """Window ``i``'s ``j``-th element reads input position ``i s - p + j d`` (-1 off the input)."""
    pos = (np.arange(out) * s - p)[:, None] + np.arange(k) * d
    return np.where((pos >= 0) & (pos < n), pos, -1)


def _adaptive_table(n: int, out: int) -> np.ndarray:
    """Window ``i`` spans ``floor(i n / out) .. ceil((i + 1) n / out) - 1``; shorter windows repeat
    their last element (a repeat changes neither the maximum nor which element is first)."""
    start = (np.arange(out) * n) // out
    end = -((-(np.arange(out) + 1) * n) // out)
    k = int((end - start).max()) if out else 1
    return np.minimum(start[:, None] + np.arange(k), (end - 1)[:, None])


def _window_max(input: Tensor, tables: list, who: str) -> tuple[Tensor, Tensor]:
    """The maximum of each window of the batched ``input`` (N, C, *spatial) and its flat index
    into the spatial volume; ``tables[i]`` is dim ``i``'s ``(out, k)`` table."""
    x = input._data
    N, C, *size = x.shape
    nd = len(size)
    outs = [t.shape[0] for t in tables]
    # the flat index of every window element: (out_1, .., out_nd, k_1 * .. * k_nd), -1 for padding
    flat = np.zeros([1] * (2 * nd), dtype=np.int64)
    valid = np.ones([1] * (2 * nd), dtype=bool)
    for i, (t, n) in enumerate(zip(tables, size)):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = t.shape
        t = t.reshape(shape)
        flat = flat * n + np.maximum(t, 0)
        valid = valid & (t >= 0)
    flat = np.broadcast_to(flat, outs + [t.shape[1] for t in tables]).reshape(*outs, -1)
    valid = np.broadcast_to(valid, outs + [t.shape[1] for t in tables]).reshape(*outs, -1)
    values = x.reshape(N, C, int(np.prod(size)))[:, :, flat]  # (N, C, *outs, K)
    if not valid.all():
        values = np.where(valid, values, -np.inf)
    with np.errstate(invalid="ignore"):
        top = values.max(axis=-1, keepdims=True)
        first = np.argmax((values == top) & valid, axis=-1)
    nan = np.isnan(values)
    if nan.any():  # torch keeps the last NaN of a window
        last_nan = nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        first = np.where(nan.any(axis=-1), last_nan, first)
    index = np.take_along_axis(np.broadcast_to(flat, (N, C) + flat.shape), first[..., None], axis=-1)[..., 0]
    index_t = wrap(np.ascontiguousarray(index))
    volume, n_out = int(np.prod(size)), int(np.prod(outs))
    y = gather(reshape(input, (N, C, volume)), 2, reshape(index_t, (N, C, n_out)))
    return reshape(y, (N, C, *outs)), index_t


# ---- max_pool3d -------------------------------------------------------------------------------------
def _pool_geometry(who, nd, x_shape, kernel_size, stride, padding, dilation, ceil_mode, is_max=True):
    k = _ints(who, "kernel_size", kernel_size, nd)
    empty = stride is None or (not isinstance(stride, int) and len(stride) == 0)
    s = k if empty else _ints(who, "stride", stride, nd)
    p = _ints(who, "padding", padding, nd)
    d = _ints(who, "dilation", dilation, nd)
    if min(k) <= 0 or min(s) <= 0 or min(d) <= 0:
        raise RuntimeError(
            f"{who}: kernel_size, stride and dilation should be greater than zero, but got "
            f"kernel_size={k}, stride={s}, dilation={d}"
        )
    for kk, pp, dd in zip(k, p, d):
        half = ((kk - 1) * dd + 1) // 2 if is_max else kk // 2
        if pp < 0 or pp > half:
            raise RuntimeError(
                f"{who}: pad should be at most half of effective kernel size, but got pad={pp}, "
                f"kernel_size={kk} and dilation={dd}"
            )
    size = x_shape[-nd:]
    out = tuple(_output_size(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(size, k, s, p, d))
    if min(out) < 1:
        raise RuntimeError(
            f"{who}: Given input size: ({'x'.join(map(str, x_shape[-nd - 1 :]))}). Calculated output "
            f"size: ({'x'.join(map(str, (x_shape[-nd - 1],) + out))}). Output size is too small"
        )
    return k, s, p, d, out


def max_pool3d_with_indices(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices=False,
) -> tuple[Tensor, Tensor]:
    """3-d max pooling returning ``(values, indices)``; indices are flat into each (D, H, W) volume."""
    x, unbatched = _batched_input("max_pool3d", input, 3)
    k, s, p, d, out = _pool_geometry(
        "max_pool3d", 3, x.shape, kernel_size, stride, padding, dilation, ceil_mode
    )
    tables = [_regular_table(*a) for a in zip(x.shape[2:], k, s, p, d, out)]
    y, index = _window_max(x, tables, "max_pool3d")
    return _unbatch(y, unbatched), _unbatch(index, unbatched)


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices=False,
):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W), as ``torch.nn.functional.max_pool3d``:
    ``padding`` pads with -inf (never chosen), ``ceil_mode`` rounds the output size up; with
    ``return_indices`` also each maximum's flat index into its (D, H, W) volume."""
    y, index = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (y, index) if return_indices else y


# ---- average pooling in 3-d -------------------------------------------------------------------------
def _box_sum(x: Tensor, dim: int, k: int, s: int, out: int) -> Tensor:
    """Sums of ``k`` consecutive elements along ``dim`` at stride ``s`` (``out`` of them)."""
    total = None
    for j in range(k):
        index = [slice(None)] * x.ndim
        index[dim] = slice(j, j + (out - 1) * s + 1, s)
        part = x[tuple(index)]
        total = part if total is None else total + part
    return total


def _divisor(n: int, k: int, s: int, p: int, out: int, count_include_pad: bool) -> np.ndarray:
    """torch's per-window divisor along one dim: the window clipped to the padded input (or to the
    input itself without ``count_include_pad``)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if not count_include_pad:
        size = np.minimum(end, n) - np.maximum(start, 0)
    return size


def avg_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
) -> Tensor:
    """3-d average pooling, as ``torch.nn.functional.avg_pool3d``: each window's sum over its size
    (including zero padding with ``count_include_pad``), or over ``divisor_override``."""
    x, unbatched = _batched_input("avg_pool3d", input, 3)
    k, s, p, _, out = _pool_geometry(
        "avg_pool3d", 3, x.shape, kernel_size, stride, padding, 1, ceil_mode, False
    )
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("avg_pool3d: divisor must be not zero")
    size = x.shape[2:]
    after = [max(0, (o - 1) * ss + kk - pp - n) for n, kk, ss, pp, o in zip(size, k, s, p, out)]
    y = x
    if any(p) or any(after):
        y = constant_pad_nd(x, (p[2], after[2], p[1], after[1], p[0], after[0]))
    for i in range(3):
        y = _box_sum(y, 2 + i, k[i], s[i], out[i])
    if divisor_override is not None:
        y = y / float(divisor_override)
    else:
        parts = [
            _divisor(n, kk, ss, pp, o, count_include_pad) for n, kk, ss, pp, o in zip(size, k, s, p, out)
        ]
        div = parts[0][:, None, None] * parts[1][:, None] * parts[2]
        y = y / wrap(div.astype(x._data.dtype))
    return _unbatch(y, unbatched)


# ---- adaptive pooling -------------------------------------------------------------------------------
def _adaptive_size(who: str, nd: int, output_size, size: tuple) -> tuple:
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{who}: output_size must be {nd} ints, got {output_size}")
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, size))
    if min(out) < 0:
        raise RuntimeError(
            f"{who}: elements of output_size must be greater than or equal to 0 but received {out}"
        )
    return out


def _adaptive_max(who: str, nd: int, input, output_size) -> tuple[Tensor, Tensor]:
    x, unbatched = _batched_input(who, input, nd, adaptive=True)
    out = _adaptive_size(who, nd, output_size, x.shape[2:])
    tables = [_adaptive_table(n, o) for n, o in zip(x.shape[2:], out)]
    y, index = _window_max(x, tables, who)
    y, index = _unbatch(y, unbatched), _unbatch(index, unbatched)
    save_outputs(y, index)  # torch saves the indices for the backward: changing them in place fails it
    return y, index


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """1-d adaptive max pooling returning ``(values, indices)``."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """2-d adaptive max pooling returning ``(values, indices)`` (flat into each (H, W) plane)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """3-d adaptive max pooling returning ``(values, indices)`` (flat into each (D, H, W) volume)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max over ``output_size`` windows of (N, C, L) or (C, L): window ``i`` spans
    ``floor(i L / out) .. ceil((i + 1) L / out) - 1``; with ``return_indices`` also the argmax."""
    y, index = _adaptive_max("adaptive_max_pool1d", 1, input, output_size)
    return (y, index) if return_indices else y


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """2-d adaptive max pooling to ``output_size`` (int or pair; None keeps that dim's size)."""
    y, index = _adaptive_max("adaptive_max_pool2d", 2, input, output_size)
    return (y, index) if return_indices else y


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """3-d adaptive max pooling to ``output_size`` (int or triple; None keeps that dim's size)."""
    y, index = _adaptive_max("adaptive_max_pool3d", 3, input, output_size)
    return (y, index) if return_indices else y


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """3-d adaptive average pooling to ``output_size``: one averaging matrix per dim (window ``i``
    spans ``floor(i n / out) .. ceil((i + 1) n / out) - 1``), applied by matmul."""
    who = "adaptive_avg_pool3d"
    input = as_tensor(input, who)
    x = input._data
    if x.ndim not in (4, 5) or any(n == 0 for n in x.shape[1:]):  # (dim 0 is the batch, as torch)
        raise RuntimeError(
            f"{who}: expected 4D or 5D input {_LAYOUT[3]} with non-zero sizes except dim 0, got "
            f"{shape_str(x.shape)}"
        )
    out = _adaptive_size(who, 3, output_size, x.shape[-3:])
    if out == (1, 1, 1):
        return mean(input, (-3, -2, -1), keepdim=True)
    y = input
    for i in range(3):
        dim = x.ndim - 3 + i
        m = wrap(np.ascontiguousarray(_adaptive_matrix(x.shape[dim], out[i], x.dtype).T))
        y = movedim(matmul(movedim(y, dim, -1), m), -1, dim)
    return y


# ---- fractional max pooling -------------------------------------------------------------------------
def _fractional_starts(n: int, out: int, k: int, samples: np.ndarray) -> np.ndarray:
    """torch's pseudo-random window starts ``(planes, out)`` for one dim, from one uniform sample
    per plane, in the samples' precision: ``int((i + u) a) - int(u a)``, ``a = (n - k) / (out - 1)``,
    the last window ending at the input's end."""
    dtype = samples.dtype.type
    u = samples[:, None]
    starts = np.empty((len(samples), out), dtype=np.int64)
    if out > 1:
        alpha = dtype(n - k) / dtype(out - 1)
        i = np.arange(out - 1, dtype=samples.dtype)
        starts[:, :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    starts[:, -1] = n - k
    return starts


def _fractional(who, nd, input, kernel_size, output_size, output_ratio, _random_samples):
    x, unbatched = _batched_input(who, input, nd)
    k = _ints(who, "kernel_size", kernel_size, nd)
    size = x.shape[2:]
    if output_size is None and output_ratio is None:
        raise ValueError(f"{who} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        out = tuple(int(n * r) for n, r in zip(size, _ratios(who, nd, output_ratio)))
    else:
        out = _ints(who, "output_size", output_size, nd)
    for n, kk, o in zip(size, k, out):
        if o + kk - 1 > n - (nd == 3):  # (torch 3-d asks for room to move the windows)
            raise RuntimeError(
                f"{who}(): pool size {kk} too large relative to input size {n} for output size {o} "
                f"(input {shape_str(x.shape)}, kernel_size {k}, output_size {out})"
            )
    N, C = x.shape[:2]
    dtype = x._data.dtype
    if _random_samples is None:
        samples = rng(None).random((N, C, nd)).astype(dtype)
    else:
        samples = as_tensor(_random_samples, who)._data
        if samples.dtype != dtype:
            raise RuntimeError(
                f"Expect _random_samples to have the same dtype as input ({who}: {samples.dtype} and {dtype})"
            )
        if samples.shape != (N, C, nd):
            raise RuntimeError(
                f"{who}: expected _random_samples of shape {(N, C, nd)}, got {shape_str(samples.shape)}"
            )
    samples = samples.reshape(N * C, nd).astype(dtype)
    # torch's sample order: (W, H) in 2-d, (T, H, W) in 3-d
    order = [1, 0] if nd == 2 else list(range(nd))
    P = N * C
    flat = np.zeros((P,) + (1,) * (2 * nd), dtype=np.int64)
    for i, (n, o, kk) in enumerate(zip(size, out, k)):
        pos = _fractional_starts(n, o, kk, samples[:, order[i]])[:, :, None] + np.arange(kk)
        shape = [P] + [1] * (2 * nd)
        shape[1 + i], shape[1 + nd + i] = o, kk
        flat = flat * n + pos.reshape(shape)
    flat = np.broadcast_to(flat, (P,) + out + k).reshape((P,) + out + (-1,))
    values = x._data.reshape(P, int(np.prod(size)))[np.arange(P).reshape((P,) + (1,) * (nd + 1)), flat]
    with np.errstate(invalid="ignore"):
        first = np.argmax(values == values.max(axis=-1, keepdims=True), axis=-1)
    nan = np.isnan(values)
    if nan.any():  # torch keeps the last NaN of a window
        first = np.where(nan.any(axis=-1), nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1), first)
    index = np.take_along_axis(flat, first[..., None], axis=-1)[..., 0].reshape((N, C) + out)
    index_t = wrap(np.ascontiguousarray(index))
    flat_x = reshape(x, (N, C, int(np.prod(size))))
    y = reshape(gather(flat_x, 2, reshape(index_t, (N, C, int(np.prod(out))))), (N, C) + out)
    return _unbatch(y, unbatched), _unbatch(index_t, unbatched)


def _ratios(who: str, nd: int, output_ratio) -> tuple:
    ratio = (float(output_ratio),) * nd if isinstance(output_ratio, int | float) else tuple(output_ratio)
    if len(ratio) != nd or not all(0 < r < 1 for r in ratio):
        raise ValueError(f"{who}: output_ratio must be between 0 and 1 (got {output_ratio})")
    return ratio


def fractional_max_pool2d_with_indices(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """2-d fractional max pooling returning ``(values, indices)``."""
    return _fractional(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool3d_with_indices(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """3-d fractional max pooling returning ``(values, indices)``."""
    return _fractional(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool2d(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """Fractional max pooling (Graham, 2014) of (N, C, H, W) or (C, H, W), as
    ``torch.nn.functional.fractional_max_pool2d``: windows of ``kernel_size`` at pseudo-random
    starts (one uniform sample per plane and dim, from chainrule's generator unless
    ``_random_samples`` (N, C, 2) is given), to ``output_size`` or ``output_ratio`` of the input."""
    y, index = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, False, _random_samples
    )
    return (y, index) if return_indices else y


def fractional_max_pool3d(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """3-d fractional max pooling of (N, C, D, H, W) or (C, D, H, W) (see ``fractional_max_pool2d``)."""
    y, index = fractional_max_pool3d_with_indices(
        input, kernel_size, output_size, output_ratio, False, _random_samples
    )
    return (y, index) if return_indices else y


# ---- max unpooling ------------------------------------------------------------------------------
def _max_unpool(who, nd, input, indices, kernel_size, stride, padding, output_size) -> Tensor:
    input = as_tensor(input, who)
    indices = as_tensor(indices, who)
    x, idx = input._data, indices._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"{who}: elements in indices should be type int64 but got: {indices.dtype}")
    if x.shape != idx.shape:
        raise RuntimeError(
            f"{who}: Expected shape of indices to be same as that of the input tensor "
            f"({shape_str(x.shape)}) but got indices tensor with shape: {shape_str(idx.shape)}"
        )
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{who}: expected {nd + 1}D or {nd + 2}D input {_LAYOUT[nd]}, got {shape_str(x.shape)}"
        )
    k = _ints(who, "kernel_size", kernel_size, nd)
    s = k if stride is None else _ints(who, "stride", stride, nd)
    p = _ints(who, "padding", padding, nd)
    default = tuple((n - 1) * ss + kk - 2 * pp for n, kk, ss, pp in zip(x.shape[-nd:], k, s, p))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)
        if len(out) == nd + 2 or len(out) == nd + 1:
            out = out[-nd:]
        if len(out) != nd:
            raise ValueError(
                f"output_size should be a sequence containing {nd} or {nd + 2} "
                f"elements, but it has a length of '{len(out)}'"
            )
        for o, dflt, ss in zip(out, default, s):
            if not dflt - ss < o < dflt + ss:
                raise ValueError(
                    f'invalid output_size "{list(out)}" (dim {out.index(o)} must be '
                    f"between {dflt - ss} and {dflt + ss})"
                )
    unbatched = x.ndim == nd + 1
    if unbatched:
        input, indices = unsqueeze(input, 0), unsqueeze(indices, 0)
    N, C = input.shape[:2]
    volume = int(np.prod(out))
    n_in = int(np.prod(input.shape[2:]))
    flat_idx = reshape(indices, (N, C, n_in))
    if idx.size and (idx.min() < 0 or idx.max() >= volume):
        flat = idx.reshape(-1)
        bad = int(flat[np.argmax((flat < 0) | (flat >= volume))])  # the first, as torch reports
        raise RuntimeError(
            f"Found an invalid max index: {bad} (output volumes are of size {'x'.join(map(str, out))})"
        )
    zeros = wrap(np.zeros((N, C, volume), dtype=x.dtype))
    y = scatter(zeros, 2, flat_idx, reshape(input, (N, C, n_in)))
    return _unbatch(reshape(y, (N, C) + out), unbatched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of ``max_pool1d``: each value written at its index, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of ``max_pool2d``: each value written at its flat (H, W) index, zeros
    elsewhere; the output size defaults to ``(in - 1) * stride + kernel - 2 * padding``."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of ``max_pool3d`` (see ``max_unpool2d``)."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ---- power-average pooling ------------------------------------------------------------------------
def _lp_pool(nd: int, input, norm_type, kernel_size, stride, ceil_mode) -> Tensor:
    """torch's formula: ``(sign(a) relu(|a|) * prod(kernel)) ** (1 / p)`` for ``a`` the average of
    ``x ** p`` over each window."""
    input = as_tensor(input, f"lp_pool{nd}d")
    k = _ints(f"lp_pool{nd}d", "kernel_size", kernel_size, nd)
    pooled_in = _pow(input, norm_type)
    if nd == 1:
        a = avg_pool1d(pooled_in, k, stride, 0, ceil_mode)
    elif nd == 2:
        a = avg_pool2d(pooled_in, k, stride, 0, ceil_mode)
    else:
        a = avg_pool3d(pooled_in, k, stride, 0, ceil_mode)
    return _pow(sign(a) * relu(_abs(a)) * float(np.prod(k)), 1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling ``(sum over window of x ** p) ** (1 / p)`` over (N, C, L) or (C, L)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """2-d power-average pooling (``p = inf`` is max pooling, ``p = 1`` sum pooling)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """3-d power-average pooling."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)
