"""The reparameterised gradient of a standard-gamma draw, ``dx/dalpha = -(dF/dalpha)(x; alpha) /
f(x; alpha)``, by torch's formula (``standard_gamma_grad_one`` in ATen's Distributions.h, which its
CPU kernel evaluates in double precision whatever the dtype): a Taylor series of the CDF for
``x < 0.8``, Rice's saddle-point expansion for ``alpha > 8``, a bivariate rational fit elsewhere.

Following torch's branches, constants and order of operations, rather than differentiating the
incomplete gamma function numerically, gives torch's numbers at the edges too: ``alpha = 1e38``
(the saddle point: ``dx/dalpha = 1`` there, where a central difference of ``gammainc`` loses every
digit), ``alpha = inf`` (NaN), a negative integer concentration (the series divides by 0).
"""

from __future__ import annotations

import numpy as np

__all__ = ["standard_gamma_grad"]

# torch writes these comparisons with float literals (0.8f, 0.9f, 1.1f, 1.0e17f) against doubles
_SERIES_BELOW = float(np.float32(0.8))
_SADDLE_LOW, _SADDLE_HIGH = float(np.float32(0.9)), float(np.float32(1.1))
_ASYMPTOTIC_BELOW = float(np.float32(1.0e17))

_PSI_10 = 2.25175258906672110764  # digamma(10)
# the asymptotic series of digamma in 1 / x^2 (Cephes' psi), highest power first
_PSI_SERIES = (
    8.33333333333333333333e-2,
    -2.10927960927960927961e-2,
    7.57575757575757575758e-3,
    -4.16666666666666666667e-3,
    3.96825396825396825397e-3,
    -8.33333333333333333333e-3,
    8.33333333333333333333e-2,
)
# the rational fit's coefficients: p(u, v) / q(u, v) with u = log(x / alpha), v = log(alpha)
_COEF_UV = np.array(
    [
        [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
        [
            0.53487893,
            0.1298071,
            0.065735949,
            -0.0015649758,
            0.16639465,
            0.020070113,
            -0.0035938915,
            -0.00058392623,
        ],
        [
            0.040121004,
            -0.0065914022,
            -0.0026286047,
            -0.0013441777,
            0.017050642,
            -0.0021309326,
            0.00085092367,
            -1.5247877e-07,
        ],
    ]
)


def _digamma(x: np.ndarray) -> np.ndarray:
    """torch's ``digamma_one`` (Cephes' psi) on float64: +inf at 0 (either sign) and at negative
    integers, the reflection formula for negatives, recurrence up to 10, then the asymptotic
    series (skipped from 1e17 on)."""
    out = np.empty_like(x)
    pole = (x == 0) | ((x < 0) & (x == np.floor(x)))
    out[pole] = np.inf
    z = x[~pole]
    negative = z < 0
    extra = np.where(negative, -np.pi / np.tan(np.pi * z), 0.0)
    z = np.where(negative, 1 - z, z)
    result = np.zeros_like(z)
    low = z < 10
    while low.any():  # at most 11 steps: z > 0 here
        result[low] -= 1 / z[low]
        z[low] += 1
        low = z < 10
    y = np.zeros_like(z)
    mid = z < _ASYMPTOTIC_BELOW
    w = 1.0 / (z[mid] * z[mid])
    poly = np.zeros_like(w)
    for c in _PSI_SERIES:
        poly = poly * w + c
    y[mid] = w * poly
    general = result + np.log(z) - 0.5 / z - y + extra
    out[~pole] = np.where(z == 10, result + _PSI_10 + extra, general)
    return out


def _series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x < 0.8: the CDF's Taylor series in x and its derivative in alpha, to 6 terms."""
    numer = np.ones_like(a)
    denom = a.copy()
    series1 = numer / denom
    series2 = numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = np.power(x, a)
    pdf = np.power(x, a - 1) * np.exp(-x)
    cdf = pow_x_alpha * series1
    cdf_alpha = (np.log(x) - _digamma(a)) * cdf - pow_x_alpha * series2
    result = -cdf_alpha / pdf
    return np.where(np.isnan(result), 0.0, result)  # (torch's: NaN becomes 0 in this branch only)


def _saddle(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """alpha > 8: Rice's saddle-point expansion, a polynomial form within 10 % of alpha."""
    near = (_SADDLE_LOW * a <= x) & (x <= _SADDLE_HIGH * a)
    numer_1 = 1 + 24 * a * (1 + 12 * a)
    numer_2 = 1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)
    close = numer_1 * numer_2 / (1244160 * (a * a) * (a * a))
    denom = np.sqrt(8 * a)
    term2 = denom / (a - x)
    term3 = np.power(x - a - a * np.log(x / a), -1.5)
    term23 = np.where(x < a, term2 - term3, term2 + term3)
    term1 = np.log(x / a) * term23 - np.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
    stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
    far = -stirling * (x * term1) / denom
    return np.where(near, close, far)


def _rational(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Elsewhere: exp(p / q), p and q cubic in log(alpha), their coefficients quadratic in log(x / alpha)."""
    u, v = np.log(x / a), np.log(a)
    c = [_COEF_UV[0, i] + u * (_COEF_UV[1, i] + u * _COEF_UV[2, i]) for i in range(8)]
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    return np.exp(p / q)


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dx/dalpha`` of draws ``x`` from Gamma(``alpha``, 1), torch's ``_standard_gamma_grad``:
    computed in float64, returned in ``x``'s dtype."""
    a64 = np.broadcast_to(alpha, np.shape(x)).astype(np.float64).reshape(-1)
    x64 = np.asarray(x, np.float64).reshape(-1)
    out = np.empty_like(x64)
    series = x64 < _SERIES_BELOW
    saddle = ~series & (a64 > 8.0)  # (a NaN x is in neither comparison's set: saddle or rational)
    rational = ~series & ~saddle
    for mask, branch in ((series, _series), (saddle, _saddle), (rational, _rational)):
        if mask.any():
            out[mask] = branch(a64[mask], x64[mask])
    return out.reshape(np.shape(x)).astype(np.asarray(x).dtype)
