"""Pooling of ``nn.functional``: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d.

torch's arguments (kernel, stride defaulting to the kernel, padding, dilation, ceil_mode, unbatched
inputs) are checked and turned into the explicit geometry of ``chainrule.ops.pool``; 1-d pooling
runs as 2-d pooling over a height of 1.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..ops._common import all_true, as_tensor, save_outputs, shape_str, wrap
from ..ops.gather import narrow
from ..ops.join import cat
from ..ops.linalg import matmul
from ..ops.pool import Pool, max_pool2d_indices
from ..ops.pool import avg_pool2d as _avg_pool2d
from ..ops.pool import max_pool2d as _max_pool2d
from ..ops.reduce import mean
from ..ops.shape import squeeze, unsqueeze

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
]


def _ints(who: str, name: str, value, n: int) -> tuple:
    if isinstance(value, int | np.integer):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(
            f"{who}: {name} must either be a single int, or a tuple of {n} ints (got {name}={value!r})"
        )
    return values


def _output_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: with ceil_mode the last window must start inside the input
    or its left padding."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _prepare(
    who: str, nd: int, input, kernel_size, stride, padding, dilation, ceil_mode: bool, is_max: bool
) -> tuple[Tensor, Pool, bool]:
    """Checks; returns the batched 2-d input, its geometry, and whether a batch dim was added."""
    input = as_tensor(input, who)
    x = input._data
    if x.ndim not in (nd + 1, nd + 2) or any(n == 0 for n in x.shape[-nd - 1 :]):  # (empty batch: fine)
        layout = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
        raise RuntimeError(
            f"{who}: expected a non-empty input with {nd + 1} or {nd + 2} dims "
            f"{layout}, got shape {shape_str(x.shape)}"
        )
    if not is_max and x.dtype == np.bool_:
        raise RuntimeError(f"{who}: not implemented for bool inputs; convert first, e.g. x.float()")
    k = _ints(who, "kernel_size", kernel_size, nd)
    s = (
        k
        if stride is None or (not isinstance(stride, int) and len(stride) == 0)
        else _ints(who, "stride", stride, nd)
    )
    p = _ints(who, "padding", padding, nd)
    d = _ints(who, "dilation", dilation, nd)
    if min(k) <= 0:
        raise RuntimeError(f"{who}: kernel size should be greater than zero, but got kernel_size={k}")
    if min(s) <= 0:
        raise RuntimeError(f"{who}: stride should be greater than zero, but got stride={s}")
    if min(d) <= 0:
        raise RuntimeError(f"{who}: dilation should be greater than zero, but got dilation={d}")
    for kk, pp, dd in zip(k, p, d):
        half = ((kk - 1) * dd + 1) // 2 if is_max else kk // 2
        if pp < 0 or pp > half:
            raise RuntimeError(
                f"{who}: pad should be at most half of effective kernel size, but "
                f"got pad={pp}, kernel_size={kk} and dilation={dd}"
            )
    size = x.shape[-nd:]
    out = tuple(_output_size(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(size, k, s, p, d))
    if min(out) < 1:
        chans = x.shape[-nd - 1]
        raise RuntimeError(
            f"{who}: Given input size: ({'x'.join(map(str, (chans,) + size))}). "
            f"Calculated output size: ({'x'.join(map(str, (chans,) + out))}). "
            "Output size is too small; use a smaller kernel or more padding"
        )
    unbatched = x.ndim == nd + 1
    if unbatched:
        input = unsqueeze(input, 0)
    if nd == 1:
        input = unsqueeze(input, 2)
        k, s, p, d, out, size = (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + out, (1,) + size
    return input, Pool(k, s, p, d, out, size), unbatched


def _finish(y: Tensor, nd: int, unbatched: bool) -> Tensor:
    if nd == 1:
        y = squeeze(y, 2)
    return squeeze(y, 0) if unbatched else y


def _max_pool(who: str, nd: int, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, geom, unbatched = _prepare(who, nd, input, kernel_size, stride, padding, dilation, ceil_mode, True)
    y, windows = _max_pool2d(x, geom)
    out = _finish(y, nd, unbatched)
    if not return_indices:
        return out
    indices = _finish(wrap(max_pool2d_indices(windows, y._data, geom)), nd, unbatched)
    save_outputs(out, indices)  # torch saves them for the backward: changing them in place fails it
    return out, indices


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-d max pooling, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W) or (C, H, W).
    kernel_size : int or (kH, kW), the window.
    stride : int or pair; default: the kernel size (windows tile the input).
    padding : int or pair of implicit -inf padding, at most half the (dilated) kernel.
    dilation : int or pair, the spacing between window elements.
    ceil_mode : round the output size up (a last, partial window) instead of down.
    return_indices : also return the flat index (in H * W) of each window's maximum.

    Returns
    -------
    Tensor of shape (N, C, H_out, W_out), ``H_out = (H + 2p - d (k - 1) - 1) // s + 1``; with
    ``return_indices``, a pair (values, int64 indices).
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-d max pooling of ``input`` (N, C, L) or (C, L); arguments as in ``max_pool2d``."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = True,
):
    """``max_pool2d(..., return_indices=True)``: (values, indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = True,
):
    """``max_pool1d(..., return_indices=True)``: (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _divisor(geom: Pool, count_include_pad: bool, divisor_override, dtype):
    """Each window's divisor, as torch computes it: the window clipped to the padded input (or
    to the input itself without ``count_include_pad``); a number when all windows agree."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("avg_pool2d: divisor must be not zero")
        return float(divisor_override)
    sizes = []
    for n, k, s, p, o in zip(geom.in_hw, geom.kernel, geom.stride, geom.padding, geom.out_hw):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        sizes.append(end - start)
    div = np.outer(sizes[0], sizes[1])
    if (div == div.flat[0]).all():
        return float(div.flat[0])
    return div.astype(dtype if dtype.kind == "f" else np.float64)


def _avg_pool(
    who: str, nd: int, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
) -> Tensor:
    x, geom, unbatched = _prepare(who, nd, input, kernel_size, stride, padding, 1, ceil_mode, False)
    div = _divisor(geom, count_include_pad, divisor_override, x._data.dtype)
    return _finish(_avg_pool2d(x, geom, div), nd, unbatched)


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-d average pooling, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W) or (C, H, W).
    kernel_size : int or (kH, kW).
    stride : int or pair; default: the kernel size.
    padding : int or pair of implicit zero padding, at most half the kernel.
    ceil_mode : round the output size up instead of down.
    count_include_pad : count the zero padding in each window's divisor.
    divisor_override : divide every window's sum by this instead.
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-d average pooling of ``input`` (N, C, L) or (C, L); arguments as in ``avg_pool2d``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _adaptive_matrix(n: int, o: int, dtype) -> np.ndarray:
    """(o, n): row i averages input positions floor(i n / o) .. ceil((i + 1) n / o) - 1."""
    m = np.zeros((o, n), dtype=dtype)
    for i in range(o):
        start, end = (i * n) // o, -((-(i + 1) * n) // o)
        m[i, start:end] = 1.0 / (end - start)
    return m


def _adaptive(who: str, nd: int, input, output_size) -> Tensor:
    input = as_tensor(input, who)
    x = input._data
    if x.ndim not in (nd + 1, nd + 2):
        layout = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
        raise RuntimeError(
            f"{who}: expected input with {nd + 1} or {nd + 2} dims {layout}, got shape {shape_str(x.shape)}"
        )
    if x.dtype.kind != "f":
        raise RuntimeError(f"{who}: expected a floating point input, got dtype {input.dtype}")
    sizes = output_size if isinstance(output_size, tuple | list) else (output_size,) * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{who}: output_size must be {nd} (got {output_size!r})")
    in_size = x.shape[-nd:]
    out = tuple(n if o is None else int(o) for o, n in zip(sizes, in_size))
    if min(out) < 0:
        raise RuntimeError(
            f"{who}: elements of output_size must be greater than or equal to 0, but got {out}"
        )
    if all(o == 1 for o in out):  # torch's mean too: no size checks (an empty window gives nan)
        return mean(input, tuple(range(-nd, 0)), keepdim=True)
    if 0 in in_size:  # (an empty batch or no channels is fine: an empty result)
        raise RuntimeError(
            f"{who}(): Expected input to have non-zero size for non-batch dimensions, but input has "
            f"sizes {list(x.shape)} with an empty spatial dim"
        )
    if x.size and all(o and n % o == 0 for o, n in zip(out, in_size)):  # (pooling refuses no channels)
        k = tuple(n // o for o, n in zip(out, in_size))
        return _avg_pool(who, nd, input, k, k, 0, False, True, None)
    y = input
    if nd == 2:  # rows: (Ho, H) @ (..., H, W)
        y = matmul(wrap(_adaptive_matrix(in_size[0], out[0], x.dtype)), y)
    y = matmul(y, wrap(np.ascontiguousarray(_adaptive_matrix(in_size[-1], out[-1], x.dtype).T)))
    if not all_true(np.isfinite(y._data)):  # (one pass over the small output on finite inputs)
        y = _adaptive_by_windows(input, in_size, out)
    if y.requires_grad and 0 in y.shape[1:]:
        y.register_hook(lambda g: _refuse_empty_gradient(who, tuple(g.shape)))
    return y


def _adaptive_by_windows(input: Tensor, in_size: tuple, out: tuple) -> Tensor:
    """``_adaptive``'s pooling as torch's kernel sums it: the mean of each window's own elements.
    The averaging matrices multiply every input element, an inf or NaN outside a window too
    (``inf * 0`` is NaN), so an input holding one gives NaN in every output; here only the windows
    that hold it see it. Slower (one mean per output row and column): taken only when the
    matrices' result is not finite."""
    y = input
    for axis, n, o in zip(range(-len(out), 0), in_size, out):
        windows = []
        for i in range(o):
            start, end = (i * n) // o, -((-(i + 1) * n) // o)
            windows.append(mean(narrow(y, axis, start, end - start), axis, keepdim=True))
        y = cat(windows, axis)
    return y


def _refuse_empty_gradient(who: str, shape: tuple) -> None:
    """torch's adaptive average pooling takes no channels (or an output size of 0) forward, but its
    backward refuses the gradient that has them: the same error, at the same stage."""
    raise RuntimeError(
        f"{who}_backward(): Expected grad_output to have non-zero size for non-batch dimensions, "
        f"but grad_output has sizes {list(shape)} (no channels or an output size of 0; torch's "
        "backward refuses what its forward accepts)"
    )


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """2-d adaptive average pooling to ``output_size`` (an int, or (H_out, W_out) where None keeps
    the input's size): window i spans floor(i H / H_out) .. ceil((i + 1) H / H_out)."""
    return _adaptive("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """1-d adaptive average pooling of ``input`` (N, C, L) or (C, L) to ``output_size``."""
    return _adaptive("adaptive_avg_pool1d", 1, input, output_size)
