"""Resampling of ``nn.functional``: ``interpolate`` (and the ``upsample*`` aliases),
``grid_sample`` and ``affine_grid``.

``interpolate`` is separable: each spatial dim is resampled on its own with torch's index and
weight formulas (computed in NumPy, in the input's precision as torch computes them), as
``index_select``s of the input weighted and summed: nearest takes one source row, linear two,
cubic four (Keys' kernel, A = -0.75, rows clamped to the input). ``area`` is adaptive average
pooling. ``grid_sample`` unnormalizes the grid, applies the padding mode and gathers the corner
values; the weights are differentiable functions of the grid, so gradients reach input and grid,
to any order. Nothing whole-batch is kept beyond what the composed ops need (index tables and the
grid-derived weights, as torch keeps the grid).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from .._dtype import from_numpy_dtype
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import Tensor
from ..ops._common import as_tensor, wrap
from ..ops.elementwise import where
from ..ops.gather import index_select
from ..ops.linalg import matmul
from ..ops.ranges import linspace
from ..ops.resample import resample_along
from ..ops.shape import reshape, transpose
from ..ops.unary import abs as _abs
from .functional_pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from .functional_pool_nd import adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


# ---- torch's source-index formulas (aten/src/ATen/native/UpSample.h) ---------------------------------
def _scale_value(scale, n_in: int, n_out: int, dtype):
    """The source step per output step: 1 / scale_factor when one was given, else in / out."""
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(n_in) / dtype(n_out)


def _area_scale(n_in: int, n_out: int, align_corners: bool, scale, dtype):
    if align_corners:
        return dtype(n_in - 1) / dtype(n_out - 1) if n_out > 1 else dtype(0)
    return _scale_value(scale, n_in, n_out, dtype)


def _source_position(scale, n_out: int, align_corners: bool, cubic: bool, dtype) -> np.ndarray:
    i = np.arange(n_out, dtype=dtype)
    if align_corners:
        return scale * i
    src = scale * (i + dtype(0.5)) - dtype(0.5)
    return src if cubic else np.maximum(src, dtype(0))


def _nearest_rows(n_in: int, n_out: int, scale, exact: bool) -> np.ndarray:
    """Source row of each output row: ``floor(i * s)`` (or ``floor((i + 0.5) * s)``), in float32."""
    if not exact and n_out == n_in:
        return np.arange(n_out)
    if not exact and n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    s = _scale_value(scale, n_in, n_out, np.float32)
    if exact:
        src = np.floor((np.arange(n_out) + 0.5) * np.float64(s))
    else:
        src = np.floor(np.arange(n_out, dtype=np.float32) * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _guard(real: np.ndarray, n_in: int) -> tuple:
    """torch's guard_index_and_lambda: the row below (clamped to the input) and the fraction."""
    index = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    lam = np.clip(real - index, 0, 1).astype(real.dtype)
    return index, lam


def _linear_taps(n_in: int, n_out: int, align_corners: bool, scale, dtype) -> list:
    """[(rows, weights)] of the two taps of linear interpolation along one dim."""
    if n_in == n_out:
        return [(np.arange(n_out), np.ones(n_out, dtype))]
    real = _source_position(
        _area_scale(n_in, n_out, align_corners, scale, dtype), n_out, align_corners, False, dtype
    )
    i0, lam1 = _guard(real, n_in)
    i1 = i0 + (i0 < n_in - 1)
    return [(i0, dtype(1) - lam1), (i1, lam1)]


def _cubic_taps(n_in: int, n_out: int, align_corners: bool, scale, dtype) -> list:
    """[(rows, weights)] of the four taps of cubic convolution (A = -0.75), rows clamped."""
    real = _source_position(
        _area_scale(n_in, n_out, align_corners, scale, dtype), n_out, align_corners, True, dtype
    )
    i0, t = _guard(real, n_in)
    A = dtype(-0.75)

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    one = dtype(1)
    weights = [far(t + one), near(t), near(one - t), far(one - t + one)]
    return [(np.clip(i0 - 1 + j, 0, n_in - 1), w.astype(dtype)) for j, w in enumerate(weights)]


def _antialias_taps(n_in: int, n_out: int, align_corners: bool, scale, dtype, mode: str) -> list:
    """torch's antialiased taps (``_upsample_*_aa``): a triangle (bilinear) or Keys cubic with
    A = -0.5 (bicubic) filter, widened by the scale when downsampling, normalised to sum to 1."""
    size = 2 if mode == "bilinear" else 4
    s = _area_scale(n_in, n_out, align_corners, scale, dtype)
    support = dtype(size * 0.5) * s if s >= 1 else dtype(size * 0.5)
    invscale = dtype(1) / s if s >= 1 else dtype(1)
    center = s * (np.arange(n_out, dtype=dtype) + dtype(0.5))
    xmin = np.maximum((center - support + dtype(0.5)).astype(np.int64), 0)
    xsize = np.minimum((center + support + dtype(0.5)).astype(np.int64), n_in) - xmin
    taps = int(xsize.max())
    j = np.arange(taps)[:, None]
    x = np.abs(((j + xmin - center + dtype(0.5)) * invscale).astype(dtype))
    if mode == "bilinear":
        w = np.where(x < 1, dtype(1) - x, dtype(0))
    else:
        a = dtype(-0.5)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        w = np.where(x < 1, near, np.where(x < 2, far, dtype(0)))
    w = np.where(j < xsize, w, dtype(0)).astype(dtype)
    total = w.sum(axis=0)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w).astype(dtype)
    rows = np.minimum(j + xmin, n_in - 1)
    return list(zip(rows, w))


def _resample_dim(x: Tensor, dim: int, taps: list) -> Tensor:
    """``sum_j weights_j * x.index_select(dim, rows_j)``, the weights broadcast along ``dim``: one
    op that keeps only the taps (``ops.resample``)."""
    if len(taps) == 1 and (taps[0][1] == 1).all():
        return index_select(x, dim, wrap(taps[0][0].astype(np.int64)))
    rows = np.stack([r.astype(np.int64) for r, _ in taps])
    weights = np.stack([w for _, w in taps])
    return resample_along(x, dim, rows, weights)


# ---- interpolate -----------------------------------------------------------------------------------
def _sizes(input_shape: tuple, size, scale_factor, recompute_scale_factor, mode: str) -> tuple:
    dim = len(input_shape) - 2
    spatial = list(input_shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, list | tuple):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {spatial} and output size of {list(size)}. Please provide input "
                    "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
                )
            out = [int(s) for s in size]
        else:
            out = [int(size)] * dim
        scales = None
    elif scale_factor is not None:
        if isinstance(scale_factor, list | tuple):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input "
                    f"with spatial dimensions of {spatial} and scale_factor of shape {list(scale_factor)}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                    "(s1, s2, ...,sK) format."
                )
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out = [int(math.floor(float(n) * s)) for n, s in zip(spatial, scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = None
    if min(spatial) <= 0 or min(out) <= 0:
        names = "DHW"[3 - dim :]
        shown_in = ", ".join(f"{a}: {n}" for a, n in zip(names, spatial))
        shown_out = ", ".join(f"{a}: {n}" for a, n in zip(names, out))
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input "
            f"({shown_in}) output ({shown_out})"
        )
    return out, scales or [None] * dim


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of ``input`` (N, C, *spatial), as ``torch.nn.functional.interpolate``.

    Parameters
    ----------
    input : Tensor with 1, 2 or 3 spatial dims (3-d, 4-d or 5-d).
    size : int or one int per spatial dim: the output size.
    scale_factor : float or one per spatial dim (output = floor(input * scale)); the kernels use it
        as the source step ``1 / scale`` unless ``recompute_scale_factor``.
    mode : ``'nearest'`` (source ``floor(i / scale)``), ``'nearest-exact'``
        (``floor((i + 0.5) / scale)``), ``'linear'`` (3-d), ``'bilinear'`` / ``'bicubic'`` (4-d),
        ``'trilinear'`` (5-d) or ``'area'`` (adaptive average pooling).
    align_corners : for the interpolating modes: map the corner pixels' centres onto each other
        (default False: map the corners of the pixel grids).
    recompute_scale_factor : compute the step from the output size instead of ``scale_factor``.
    antialias : for ``'bilinear'`` / ``'bicubic'``: low-pass the input as it is downsampled
        (torch's filter: triangle, or cubic with A = -0.5, widened by the scale).

    Returns
    -------
    Tensor (N, C, *size).
    """
    input = as_tensor(input, "interpolate")
    if mode not in _MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})"
        )
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input"
        )
    x_shape = input._data.shape
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})"
        )
    if mode in _LINEAR_RANK and input.ndim != _LINEAR_RANK[mode]:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR_RANK[mode]}D input"
        )
    kind = input._data.dtype
    if kind.kind != "f" and not (kind == np.uint8 and mode in ("nearest", "nearest-exact")):
        raise NotImplementedError(
            f"interpolate: mode '{mode}' is not implemented for dtype {input.dtype}; "
            "convert first, e.g. x.float()"
        )
    out, scales = _sizes(x_shape, size, scale_factor, recompute_scale_factor, mode)
    if mode != "area" and 0 in x_shape[1:]:  # (area pools: no channels is the pool's to judge)
        raise RuntimeError(
            f"interpolate ({mode}): Non-empty {len(x_shape)}D data tensor expected but got a tensor "
            f"with sizes {list(x_shape)}: only the batch dim may be 0"
        )
    if mode == "area":
        pool = {3: adaptive_avg_pool1d, 4: adaptive_avg_pool2d, 5: adaptive_avg_pool3d}[input.ndim]
        return pool(input, tuple(out))
    dtype = input._data.dtype.type if input._data.dtype.kind == "f" else np.float32
    y = input
    for k, (n_in, n_out, scale) in enumerate(zip(x_shape[2:], out, scales)):
        dim = 2 + k
        if mode in ("nearest", "nearest-exact"):
            rows = _nearest_rows(n_in, n_out, scale, mode == "nearest-exact")
            if n_in != n_out or not (rows == np.arange(n_out)).all():
                y = index_select(y, dim, wrap(rows))
        elif antialias:
            y = _resample_dim(y, dim, _antialias_taps(n_in, n_out, align_corners, scale, dtype, mode))
        elif mode == "bicubic":
            y = _resample_dim(y, dim, _cubic_taps(n_in, n_out, align_corners, scale, dtype))
        else:
            y = _resample_dim(y, dim, _linear_taps(n_in, n_out, align_corners, scale, dtype))
    if y is input:
        y = input * 1 if input.requires_grad else wrap(input._data.copy())  # never the input itself
    return y


def upsample(
    input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None
) -> Tensor:
    """Deprecated alias of ``interpolate`` (as in torch)."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=_user_stacklevel(),
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=_user_stacklevel(),
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=_user_stacklevel(),
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- affine_grid ---------------------------------------------------------------------------------
def _base_coordinates(n: int, align_corners: bool, dtype) -> np.ndarray:
    """torch's linspace_from_neg_one: n points over [-1, 1] (pixel centres unless align_corners).

    Rounded exactly as torch: its linspace (each half from its own end, not NumPy's), then
    ``range * (n - 1) / n`` as two roundings in ``dtype``, not one product with (n - 1) / n. A
    coordinate one ulp off a pixel centre sends grid_sample's gradient to the neighbouring
    pixel pair (an identity theta, the spatial transformer's start, sits on the centres).
    """
    if n <= 1:
        return np.zeros(1, dtype=dtype)
    r = linspace(-1, 1, n, dtype=from_numpy_dtype(np.dtype(dtype)))._data
    if align_corners:
        return r
    return (r * dtype(n - 1)) / dtype(n)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta`` (N, 2, 3) (or
    (N, 3, 4)) over an output of ``size`` (N, C, H, W) (or (N, C, D, H, W)), for ``grid_sample``;
    as ``torch.nn.functional.affine_grid``."""
    theta = as_tensor(theta, "affine_grid")
    align_corners = bool(align_corners)
    size = [int(s) for s in size]
    if theta._data.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(
                "Expected a batch of 2D affine matrices of shape Nx2x3 for "
                f"size {size}. Got {list(theta.shape)}."
            )
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(
                "Expected a batch of 3D affine matrices of shape Nx3x4 for "
                f"size {size}. Got {list(theta.shape)}."
            )
        spatial = size[2:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
            f"transforms, respectively. Got size {size}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(
            f"affine_grid: theta has {theta.shape[0]} matrices but size asks for a batch of {size[0]}"
        )
    dtype = theta._data.dtype.type
    axes = [_base_coordinates(n, align_corners, dtype) for n in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones_like(mesh[0])], axis=-1)  # x, y, (z,) 1
    base = wrap(np.ascontiguousarray(base.reshape(1, -1, len(spatial) + 1)))
    grid = matmul(base, transpose(theta, 1, 2))  # (N, prod(spatial), nd)
    return reshape(grid, (size[0], *spatial, len(spatial)))


# ---- grid_sample ------------------------------------------------------------------------------------
def _unnormalize(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (n - 1)
    return ((coord + 1) * n - 1) / 2


def _clip(coord: Tensor, n: int) -> Tensor:
    """clamp to [0, n - 1] with torch's gradient: zero at and beyond the edges."""
    c = coord._data
    inside = (c > 0) & (c < n - 1)
    return where(wrap(inside), coord, wrap(np.clip(np.nan_to_num(c, nan=-1.0), 0, n - 1).astype(c.dtype)))


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """torch's reflect_coordinates: fold ``coord`` into [low, high] by mirroring at the ends."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = _abs(coord - low)
    flips = np.floor(d._data / span)
    extra = d - wrap((flips * span).astype(d._data.dtype))
    even = wrap(np.fmod(flips, 2) == 0)
    return where(even, extra + low, (extra * -1) + (span + low))


def _source(coord: Tensor, n: int, padding_mode: str, align_corners: bool) -> Tensor:
    c = _unnormalize(coord, n, align_corners)
    if padding_mode == "border":
        c = _clip(c, n)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (n - 1)) if align_corners else _reflect(c, -1, 2 * n - 1)
        c = _clip(c, n)
    return c


def _read(input: Tensor, coords: list) -> tuple[Tensor, np.ndarray]:
    """``input[n, :, *coords]`` as (N, C, *out) for integer coordinate arrays (N, *out), each
    clamped into the input; and where the coordinates lay inside it."""
    N = input.shape[0]
    spatial = input.shape[2:]
    inside = np.ones(coords[0].shape, dtype=bool)
    clamped = []
    for c, n in zip(coords, spatial):
        inside &= (c >= 0) & (c < n)
        clamped.append(np.clip(c, 0, n - 1))
    batch = np.arange(N).reshape((N,) + (1,) * (coords[0].ndim - 1))
    values = input.movedim(1, -1)[(batch, *clamped)]  # (N, *out, C)
    return values.movedim(-1, 1), inside


def _cubic_weights(t: Tensor) -> list:
    A = -0.75

    def near(x):
        return ((x * (A + 2)) - (A + 3)) * x * x + 1

    def far(x):
        return (((x * A) - 5 * A) * x + 8 * A) * x - 4 * A

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _corner_sum(input: Tensor, taps_per_dim: list) -> Tensor:
    """Sum over every combination of per-dim taps ``(integer coords, weight)`` of weight product
    times the input value there (zero outside the input)."""
    out = None
    for combo in itertools.product(*taps_per_dim):
        coords = [c for c, _ in combo]
        values, inside = _read(input, coords)
        weight = None
        for _, w in combo:
            weight = w if weight is None else weight * w
        mask = wrap(inside[:, None])
        term = where(mask, values, 0.0) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample ``input`` (N, C, H, W) at the points of ``grid`` (N, H_out, W_out, 2) given in [-1, 1]
    (x, then y), or (N, C, D, H, W) at (N, D_out, H_out, W_out, 3); as
    ``torch.nn.functional.grid_sample``.

    Parameters
    ----------
    mode : ``'bilinear'``, ``'nearest'`` or ``'bicubic'`` (4-d only).
    padding_mode : where points fall outside: ``'zeros'``, ``'border'`` (clamp) or
        ``'reflection'`` (mirror).
    align_corners : -1 and 1 are the centres of the corner pixels (True) or their outer edges
        (default False).

    Returns
    -------
    Tensor (N, C, H_out, W_out) (or (N, C, D_out, H_out, W_out)); differentiable in input and grid.
    """
    input = as_tensor(input, "grid_sample")
    grid = as_tensor(grid, "grid_sample")
    align_corners = bool(align_corners)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', "
            f"'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    x, g = input._data, grid._data
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise RuntimeError(
            "grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got input "
            f"with sizes {list(x.shape)} and grid with sizes {list(g.shape)}"
        )
    nd = x.ndim - 2
    if g.shape[0] != x.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{list(x.shape)} and grid with sizes {list(g.shape)}"
        )
    if g.shape[-1] != nd:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {nd} in last dimension, "
            f"but got grid with sizes {list(g.shape)}"
        )
    if any(n == 0 for n in x.shape[2:]):
        raise RuntimeError(
            "grid_sampler(): expected input to have non-empty spatial "
            f"dimensions, but input has sizes {list(x.shape)}"
        )
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if x.dtype != g.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to have the same dtype, but input has {input.dtype} "
            f"and grid has {grid.dtype}"
        )
    sizes = x.shape[2:][::-1]  # grid's last dim is (x, y[, z]): W, H[, D]
    taps = []
    for k, n in enumerate(sizes):
        coord = grid[..., k]
        if mode == "bicubic":
            c = _unnormalize(coord, n, align_corners)
            base = np.floor(c._data)
            t = c - wrap(base)
            weights = _cubic_weights(t)
            dim_taps = []
            for j in range(4):
                pos = base.astype(np.int64) - 1 + j
                if padding_mode != "zeros":
                    pos_t = _source_raw(pos.astype(c._data.dtype), n, padding_mode, align_corners)
                    pos = pos_t.astype(np.int64)
                dim_taps.append((pos, weights[j]))
            taps.append(dim_taps)
            continue
        c = _source(coord, n, padding_mode, align_corners)
        cd = c._data
        if mode == "nearest":
            pos = np.where(np.isfinite(cd), np.rint(cd), -1).astype(np.int64)
            taps.append([(pos, c * 0 + 1)])  # (a zero gradient for the grid, as torch)
            continue
        base = np.where(np.isfinite(cd), np.floor(cd), -2)
        w1 = c - wrap(base.astype(cd.dtype))
        w0 = (w1 * -1) + 1
        taps.append([(base.astype(np.int64), w0), (base.astype(np.int64) + 1, w1)])
    return _corner_sum(input, taps[::-1])


def _source_raw(pos: np.ndarray, n: int, padding_mode: str, align_corners: bool) -> np.ndarray:
    """torch's compute_coordinates on plain numbers (bicubic's taps): clamp or reflect."""
    if padding_mode == "border":
        return np.clip(pos, 0, n - 1)
    low, high = (0, 2 * (n - 1)) if align_corners else (-1, 2 * n - 1)
    if low == high:
        return np.zeros_like(pos)
    mn, span = low / 2, (high - low) / 2
    d = np.abs(pos - mn)
    extra = np.fmod(d, span)
    flips = np.floor(d / span)
    out = np.where(np.fmod(flips, 2) == 0, extra + mn, span - extra + mn)
    return np.clip(out, 0, n - 1)
