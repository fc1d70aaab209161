"""Discrete Fourier transforms (``chainrule.fft``) on NumPy's pocketfft, differentiable.

Three ops carry every transform: complex-to-complex (``fft_c2c``), real-to-complex one-sided
(``fft_r2c``) and complex-to-real (``fft_c2r``). Each resizes its input to the signal sizes ``s``
first (zero-padding or truncating, as torch), so each rule ends by resizing back. The c2c and r2c
rules are the plain chain rule (the DFT matrix is symmetric: its transpose is itself), which the
engine conjugates into torch's convention; c2r's rule is torch's own (the one-sided input stands
for a Hermitian spectrum: every bin with a mirrored partner counts twice).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, as_tensor, make_result, normalize_dim, save_outputs
from .creation import to

__all__: list = []  # the public names live in chainrule.fft

_NORMS = (None, "backward", "ortho", "forward")
# NumPy names a scaling by the direction it applies to: the same 1/n on the other direction
_SWAPPED = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _check_norm(norm, who: str) -> str:
    if norm not in _NORMS:
        raise RuntimeError(
            f'{who}: Invalid normalization mode: "{norm}"; use "backward", "ortho" or "forward"'
        )
    return norm or "backward"


def _resize(F, a, dims: tuple, sizes: tuple):
    """``a`` truncated or zero-padded along each of ``dims`` to ``sizes`` (the inverse of the
    forward's own resizing, for the rules)."""
    shape = list(a.shape)
    for d, n in zip(dims, sizes):
        have = shape[d]
        if have > n:
            index = [slice(None)] * len(shape)
            index[d] = slice(0, n)
            a = F.getitem(a, tuple(index))
        elif have < n:
            pad = [(0, 0)] * len(shape)
            pad[d] = (0, n - have)
            a = F.zero_pad(a, tuple(pad))
        shape[d] = n
    return a


def _zero_pad_array(a, pad):
    return np.pad(a, pad)


def _zero_pad_tensor(a, pad):
    from .creation import zeros
    from .join import cat

    for d, (_, after) in enumerate(pad):
        if after:
            shape = list(a.shape)
            shape[d] = after
            a = cat((a, zeros(shape, dtype=a.dtype)), d)
    return a


register("zero_pad", _zero_pad_array, _zero_pad_tensor)


# ---- complex to complex ------------------------------------------------------------------------
@defop("fft_c2c", saves_inputs=False, formula="{g0} = DFT({gy}) (the DFT matrix is symmetric)")
def _c2c(F, g, xs, out, p, needs):
    dims, sizes, norm, forward, in_sizes = p
    return (_resize(F, F.fft_c2c(g, dims, sizes, norm, forward), dims, in_sizes),)


def c2c(x: Tensor, dims: tuple, sizes: tuple, norm: str, forward: bool) -> Tensor:
    real = x if x._data.dtype.kind == "f" else None
    if x._data.dtype.kind != "c":
        x = to(x, _complex_of(x, "fft"))
    a = x._data
    fn = np.fft.fftn if forward else np.fft.ifftn
    out = fn(a, s=sizes, axes=dims, norm=norm)
    in_sizes = tuple(a.shape[d] for d in dims)
    result = make_result(np.asarray(out, a.dtype), _c2c, (x,), (dims, sizes, norm, forward, in_sizes))
    if real is not None and len(dims) == 1:  # torch's is then a two-sided r2c (over more dims,
        _saves_real_input(result, real, sizes, in_sizes)  # a c2c of a complex copy)
    return result


def _saves_real_input(result: Tensor, x: Tensor, sizes: tuple, in_sizes: tuple) -> None:
    """torch's FftR2CBackward0 saves its input (for a size): an in-place change of it fails
    backward, unless the input was padded (torch's padded copy is what it saved)."""
    if all(s <= n for s, n in zip(sizes, in_sizes)):
        save_outputs(result, x)


# ---- real to complex (one-sided) ---------------------------------------------------------------
@defop("fft_r2c", saves_inputs=False, formula="{g0} = re DFT({gy} zero-padded to the full spectrum)")
def _r2c(F, g, xs, out, p, needs):
    dims, sizes, norm, in_sizes = p
    full = _resize(F, g, dims[-1:], sizes[-1:])  # the missing half as zeros
    return (_resize(F, F.fft_c2c(full, dims, sizes, norm, True), dims, in_sizes),)


def r2c(x: Tensor, dims: tuple, sizes: tuple, norm: str, onesided_only: bool = True) -> Tensor:
    a = x._data
    if a.dtype.kind == "c":
        raise RuntimeError(f"rfft expects a real input tensor, but got {x.dtype}")
    if a.dtype.kind in "biu":
        x = to(x, _dtype.get_default_dtype())
        a = x._data
    elif a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"rfft: Unsupported dtype {x.dtype}; convert to float32 or float64 first")
    if not all(sizes):
        raise RuntimeError(f"rfft: Invalid number of data points ({min(sizes)}) specified")
    out = np.fft.rfftn(a, s=sizes, axes=dims, norm=norm)
    ctype = np.complex64 if a.dtype == np.float32 else np.complex128
    in_sizes = tuple(a.shape[d] for d in dims)
    _mark_complex(x)
    result = make_result(np.asarray(out, ctype), _r2c, (x,), (dims, sizes, norm, in_sizes))
    _saves_real_input(result, x, sizes, in_sizes)
    return result


# ---- complex (one-sided Hermitian) to real -----------------------------------------------------
@defop("fft_c2r", saves_inputs=False, formula="{g0} = rfft({gy}), mirrored bins doubled")
def _c2r(F, g, xs, out, p, needs):
    dims, sizes, norm, in_sizes = p
    half = sizes[-1] // 2 + 1
    gi = F.fft_r2c(g, dims, sizes, _SWAPPED[norm])  # the adjoint scales as the forward did
    double = sizes[-1] - half  # bins 1 .. double stand for two bins of the full spectrum
    if double > 0:
        weight = np.ones(half)
        weight[1 : 1 + double] = 2
        shape = [1] * len(g.shape)
        shape[dims[-1]] = half
        gi = gi * F.constant(weight.reshape(shape).astype(_real_np(F.dtype_of(gi))))
    return (_resize(F, gi, dims, in_sizes),)


_c2r.complex_rule = True  # torch's rule, already in its convention


def c2r(x: Tensor, dims: tuple, sizes: tuple, norm: str) -> Tensor:
    """``sizes``: the real output's sizes (the last one ``n``; the input's last dim holds
    ``n // 2 + 1`` bins, truncated or zero-padded to that)."""
    if x._data.dtype.kind != "c":
        x = to(x, _complex_of(x, "irfft"))
    a = x._data
    if sizes[-1] < 1:
        raise RuntimeError(f"irfft: Invalid number of data points ({sizes[-1]}) specified")
    out = np.fft.irfftn(a, s=sizes, axes=dims, norm=norm)
    in_sizes = tuple(a.shape[d] for d in dims)
    rtype = np.float32 if a.dtype == np.complex64 else np.float64
    # the op's own resizing of the input to n // 2 + 1 bins along the last dim, as the rule undoes
    return make_result(np.asarray(out, rtype), _c2r, (x,), (dims, sizes, norm, in_sizes))


def _real_np(dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype in (np.complex64, np.float32) else np.dtype(np.float64)


def _complex_of(x: Tensor, who: str):
    d = x.dtype
    if d._kind < 2:
        return _dtype.get_default_dtype().to_complex()
    if d not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{who}: Unsupported dtype {d}; convert to float32 or float64 first")
    return d.to_complex()


def _mark_complex(x: Tensor) -> None:
    if x._rg:
        _dtype.COMPLEX_AUTOGRAD[0] = True


def plan(x, s, dim, who: str, default_all: bool = True):
    """The transform's dims and signal sizes from ``s`` and ``dim`` (torch's rules)."""
    x = as_tensor(x, who)
    ndim = x._data.ndim
    if dim is None and s is None:
        dims = tuple(range(ndim)) if default_all else (ndim - 1,)
    elif dim is None:
        dims = tuple(range(ndim - len(s), ndim))
    else:
        dim = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(normalize_dim(d, ndim, who) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{who}: FFT dims must be unique, got {tuple(dim)}")
    if s is None:
        sizes = tuple(x._data.shape[d] for d in dims)
    else:
        s = (s,) if isinstance(s, int) else tuple(s)
        if len(s) != len(dims):
            raise RuntimeError(f"{who}: When given, dim and shape arguments must have the same length")
        sizes = tuple(x._data.shape[d] if n == -1 else int(n) for d, n in zip(dims, s))
    if ndim == 0 or any(n < 1 for n in sizes):
        raise RuntimeError(
            f"{who}: Invalid number of data points ({min(sizes) if sizes else 0}) specified"
            if sizes
            else f"{who}: expected a tensor with at least one dimension"
        )
    return x, dims, sizes


def _c2c_tensor(g, dims, sizes, norm, forward):
    return c2c(g, dims, sizes, norm, forward)


def _c2c_array(g, dims, sizes, norm, forward):
    fn = np.fft.fftn if forward else np.fft.ifftn
    return np.asarray(fn(g, s=sizes, axes=dims, norm=norm), g.dtype if g.dtype.kind == "c" else None)


def _r2c_array(g, dims, sizes, norm):
    return np.fft.rfftn(g, s=sizes, axes=dims, norm=norm)


register("fft_c2c", _c2c_array, _c2c_tensor)
register("fft_r2c", _r2c_array, r2c)
