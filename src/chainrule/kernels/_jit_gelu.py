"""GELU's exact form and its derivative on float32, compiled (imported through ``kernels.jit.load``).

The same rational erf as the NumPy path (``kernels.gelu``), evaluated per element in one pass.
Each kernel takes flat C-contiguous float32 arrays of one length and writes ``out``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .gelu import _LOG_INV_SQRT_2PI, _P, _Q, _SQRT_HALF

# globals are frozen into the compiled code as constants; float32 ones keep the arithmetic in float32
P0, P1, P2, P3, P4, P5, P6 = _P
Q0, Q1, Q2, Q3, Q4 = _Q
SQRT_HALF, LOG_INV_SQRT_2PI = _SQRT_HALF, _LOG_INV_SQRT_2PI
HALF, FOUR = np.float32(0.5), np.float32(4.0)


@njit(nogil=True, cache=True, error_model="numpy")
def _half_erf(z):
    """``0.5 erf(z)``: z clipped to [-4, 4] by comparisons, so that NaN stays NaN."""
    z = FOUR if z > FOUR else z
    z = -FOUR if z < -FOUR else z
    z2 = z * z
    p = ((((((P0 * z2 + P1) * z2 + P2) * z2 + P3) * z2 + P4) * z2 + P5) * z2 + P6) * z
    q = (((Q0 * z2 + Q1) * z2 + Q2) * z2 + Q3) * z2 + Q4
    return p / q


@njit(nogil=True, cache=True, error_model="numpy")
def gelu(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = v * (HALF + _half_erf(v * SQRT_HALF))


@njit(nogil=True, cache=True, error_model="numpy")
def pdf_exponent(x, out):
    """``log(1 / sqrt(2 pi)) - x^2 / 2``, whose ``exp`` is the normal density: LLVM vectorizes no
    ``exp`` without Intel's SVML, so the caller applies NumPy's SIMD ``np.exp`` to this."""
    for i in range(x.size):
        z = x[i] * SQRT_HALF
        out[i] = LOG_INV_SQRT_2PI - z * z


@njit(nogil=True, cache=True, error_model="numpy")
def gelu_grad_from_pdf(g, x, pdf, out):
    """``g * (Phi(x) + x phi(x))`` given ``pdf = phi(x)``."""
    for i in range(x.size):
        v = x[i]
        out[i] = g[i] * (HALF + _half_erf(v * SQRT_HALF) + v * pdf[i])
