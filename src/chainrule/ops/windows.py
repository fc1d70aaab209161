"""Window functions for spectral analysis (``hann_window``, ``hamming_window``, ...), as torch.

A periodic window of length N is the symmetric window of length N + 1 without its last point
(what spectral analysis with the FFT wants); ``periodic=False`` gives the symmetric one. Values
are computed in float64 and rounded once to the requested dtype.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from .. import _dtype
from .._device import check_device as _check_device
from .._tensor import Tensor
from .creation import _leaf

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]


def _window(who: str, length: int, periodic: bool, dtype, requires_grad: bool, formula) -> Tensor:
    if length < 0:
        raise RuntimeError(f"{who} requires non-negative window length, got window_length={length}")
    dt = (
        _dtype.to_numpy_dtype(dtype)
        if dtype is not None
        else _dtype.to_numpy_dtype(_dtype.get_default_dtype())
    )
    if dt.kind != "f":
        raise RuntimeError(f"{who} expects floating point dtypes, got: {dtype}")
    if length <= 1:
        return _leaf(np.ones(length, dtype=dt), requires_grad)
    points = length + 1 if periodic else length
    n = np.arange(points, dtype=np.float64)
    values = formula(n, points - 1)[:length]
    return _leaf(values.astype(dt), requires_grad)


def hann_window(
    window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / (N - 1))."""
    if device is not None:
        _check_device(device)
    return _window(
        "hann_window",
        window_length,
        periodic,
        dtype,
        requires_grad,
        lambda n, m: 0.5 - 0.5 * np.cos(2 * np.pi * n / m),
    )


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
) -> Tensor:
    """alpha - beta cos(2 pi n / (N - 1))."""
    if device is not None:
        _check_device(device)
    return _window(
        "hamming_window",
        window_length,
        periodic,
        dtype,
        requires_grad,
        lambda n, m: alpha - beta * np.cos(2 * np.pi * n / m),
    )


def blackman_window(
    window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    if device is not None:
        _check_device(device)

    def formula(n, m):
        return 0.42 - 0.5 * np.cos(2 * np.pi * n / m) + 0.08 * np.cos(4 * np.pi * n / m)

    return _window("blackman_window", window_length, periodic, dtype, requires_grad, formula)


def bartlett_window(
    window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """The triangle 1 - |2n / (N - 1) - 1|."""
    if device is not None:
        _check_device(device)
    return _window(
        "bartlett_window",
        window_length,
        periodic,
        dtype,
        requires_grad,
        lambda n, m: 1 - np.abs(2 * n / m - 1),
    )


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
) -> Tensor:
    """I0(beta sqrt(1 - (2n / (N - 1) - 1)²)) / I0(beta), I0 the modified Bessel function."""
    if device is not None:
        _check_device(device)

    def formula(n, m):
        return scipy.special.i0(
            beta * np.sqrt(np.clip(1 - (2 * n / m - 1) ** 2, 0, None))
        ) / scipy.special.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, formula)
