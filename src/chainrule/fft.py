"""``chainrule.fft``: torch.fft's discrete Fourier transforms, differentiable (NumPy's pocketfft
underneath, see ops/spectral.py). float32 gives complex64 and float64 complex128, as torch;
``norm`` is "backward" (scale the inverse by 1/n, the default), "ortho" (both by 1/sqrt(n)) or
"forward" (scale the forward by 1/n)."""

import numpy as np

from . import _dtype, _fpe
from ._device import check_device as _check_device
from .ops import spectral as _spectral
from .ops._common import Tensor as _Tensor
from .ops._common import as_tensor as _as_tensor
from .ops.complex_numbers import conj as _conj
from .ops.creation import tensor as _tensor
from .ops.join import roll as _roll

__all__ = [
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "hfft2",
    "ihfft2",
    "hfftn",
    "ihfftn",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]


def _one(n, dim):
    return (None if n is None else (n,)), (dim,)


def _c2c(who, input, s, dim, norm, forward, default_all=True) -> _Tensor:
    norm = _spectral._check_norm(norm, who)
    x, dims, sizes = _spectral.plan(input, s, dim, who, default_all)
    return _spectral.c2c(x, dims, sizes, norm, forward)


def _r2c(who, input, s, dim, norm, default_all=True) -> _Tensor:
    norm = _spectral._check_norm(norm, who)
    x, dims, sizes = _spectral.plan(input, s, dim, who, default_all)
    return _spectral.r2c(x, dims, sizes, norm)


def _c2r(who, input, s, dim, norm, default_all=True) -> _Tensor:
    """The real output's sizes: ``s``, or the input's, with the last one 2 * (m - 1)."""
    norm = _spectral._check_norm(norm, who)
    x = _as_tensor(input, who)
    if s is None:
        x, dims, sizes = _spectral.plan(x, None, dim, who, default_all)
        sizes = sizes[:-1] + (2 * (sizes[-1] - 1),)
        if sizes[-1] < 1:
            raise RuntimeError(f"{who}: Invalid number of data points ({sizes[-1]}) specified")
    else:
        x, dims, sizes = _spectral.plan(x, s, dim, who, default_all)
    return _spectral.c2r(x, dims, sizes, norm)


def fft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """1-D discrete Fourier transform along ``dim``, of ``n`` points (zero-padded or truncated)."""
    return _c2c("fft_fft", input, *_one(n, dim), norm, True)


def ifft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """1-D inverse discrete Fourier transform along ``dim``."""
    return _c2c("fft_ifft", input, *_one(n, dim), norm, False)


def fft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """2-D discrete Fourier transform over ``dim`` (the last two by default)."""
    return _c2c("fft_fft2", input, s, dim, norm, True)


def ifft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """2-D inverse discrete Fourier transform."""
    return _c2c("fft_ifft2", input, s, dim, norm, False)


def fftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-D discrete Fourier transform (over every dim, or the last ``len(s)``, or ``dim``)."""
    return _c2c("fft_fftn", input, s, dim, norm, True)


def ifftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-D inverse discrete Fourier transform."""
    return _c2c("fft_ifftn", input, s, dim, norm, False)


def rfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """1-D transform of a real signal: the ``n // 2 + 1`` non-negative frequencies."""
    return _r2c("fft_rfft", input, *_one(n, dim), norm)


def irfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """The real signal of ``n`` points (default ``2 * (m - 1)``) whose rfft is ``input``."""
    return _c2r("fft_irfft", input, *_one(n, dim), norm)


def rfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """2-D transform of a real signal, one-sided along the last of ``dim``."""
    return _r2c("fft_rfft2", input, s, dim, norm)


def irfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """The inverse of rfft2."""
    return _c2r("fft_irfft2", input, s, dim, norm)


def rfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-D transform of a real signal, one-sided along the last of the dims."""
    return _r2c("fft_rfftn", input, s, dim, norm)


def irfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """The inverse of rfftn."""
    return _c2r("fft_irfftn", input, s, dim, norm)


def hfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """The real spectrum of a signal with Hermitian symmetry given by its first half:
    ``irfft(conj(input))`` with the opposite scaling."""
    norm = _spectral._SWAPPED[_spectral._check_norm(norm, "fft_hfft")]
    return _c2r("fft_hfft", _conj(_as_tensor(input, "fft_hfft")), *_one(n, dim), norm)


def ihfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """The inverse of hfft: ``conj(rfft(input))`` with the opposite scaling."""
    norm = _spectral._SWAPPED[_spectral._check_norm(norm, "fft_ihfft")]
    return _conj(_r2c("fft_ihfft", input, *_one(n, dim), norm))


def hfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """2-D hfft."""
    return hfftn(input, s, dim, norm)


def ihfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """2-D ihfft."""
    return ihfftn(input, s, dim, norm)


def hfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-D hfft: ``irfftn(conj(input))`` with the opposite scaling."""
    norm = _spectral._SWAPPED[_spectral._check_norm(norm, "fft_hfftn")]
    return _c2r("fft_hfftn", _conj(_as_tensor(input, "fft_hfftn")), s, dim, norm)


def ihfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-D ihfft: ``conj(rfftn(input))`` with the opposite scaling."""
    norm = _spectral._SWAPPED[_spectral._check_norm(norm, "fft_ihfftn")]
    return _conj(_r2c("fft_ihfftn", input, s, dim, norm))


def _freq_dtype(dtype):
    return _dtype.get_default_dtype() if dtype is None else dtype


def fftfreq(
    n: int, d: float = 1.0, *, dtype=None, device=None, layout=None, requires_grad: bool = False
) -> _Tensor:
    """The sample frequencies of an ``n``-point fft with sample spacing ``d``."""
    if device is not None:
        _check_device(device)
    return _tensor(np.fft.fftfreq(n, d), dtype=_freq_dtype(dtype), requires_grad=requires_grad)


def rfftfreq(
    n: int, d: float = 1.0, *, dtype=None, device=None, layout=None, requires_grad: bool = False
) -> _Tensor:
    """The sample frequencies of an ``n``-point rfft (the non-negative ones)."""
    if device is not None:
        _check_device(device)
    return _tensor(np.fft.rfftfreq(n, d), dtype=_freq_dtype(dtype), requires_grad=requires_grad)


def _shift(input, dim, sign: int) -> _Tensor:
    x = _as_tensor(input, "fftshift")
    ndim = x._data.ndim
    dims = tuple(range(ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if not dims:
        return x
    shifts = tuple(sign * (x._data.shape[d] // 2) for d in dims)
    return _roll(x, shifts, dims)


def fftshift(input: _Tensor, dim=None) -> _Tensor:
    """Move the zero frequency to the centre (a roll by half of each dim)."""
    return _shift(input, dim, 1)


def ifftshift(input: _Tensor, dim=None) -> _Tensor:
    """The inverse of fftshift."""
    return _shift(input, dim, -1)


_fpe.quiet_namespace(globals())  # silent where IEEE arithmetic gives inf or NaN, as torch
