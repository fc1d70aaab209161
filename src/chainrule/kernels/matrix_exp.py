"""The matrix exponential by torch's algorithm: optimized Taylor polynomials with scaling and squaring.

torch computes ``linalg.matrix_exp`` by Bader, Blanes and Casas (2019), "Computing the matrix
exponential with an optimized Taylor polynomial approximation": Taylor polynomials of degree 1,
2, 4, 8, 12 and 18, each evaluated in a few matrix products (degree 18 in five), chosen by the
matrix's 1-norm against per-precision thresholds; above the degree-12 threshold the matrix is
scaled by ``2^-s`` so that its norm is at most the degree-18 threshold, and the result squared
``s`` times. Doing the same here, rather than SciPy's Padé scaling and squaring, gives torch's
numbers to float32's precision on every input (where two methods both err by ~1e-5 but
differently) and torch's overflow pattern: at a 1e38 entry both overflow, but in other places.

The details that decide where NaN and inf land are torch's too:

- a stack of more than one matrix always takes the degree-18 path (one batched code path);
- a single matrix starts from NaN and is overwritten by the polynomial its norm selects, so a
  NaN norm (a NaN entry) gives all NaN;
- linear combinations of the powers are accumulated from zero in order, ``0 * inf`` included (as
  torch's ``_compute_linear_combination`` kernel), so a zero coefficient does not hide an inf;
- an infinite norm gives ``s = inf``: the scale ``2^-inf`` is 0, ``inf * 0`` is NaN, and such
  a matrix is squared as often as the largest finite ``s`` of the stack (torch casts ``inf`` to
  int64's minimum, and its squaring loop, over the stack sorted by ``s``, skips a negative count).

Cost: 5 matrix products for degree 18 plus ``s`` squarings, the whole stack at once (SciPy's
``expm`` runs a Python loop over the stack's matrices).
"""

from __future__ import annotations

import numpy as np

# the 1-norm up to which each degree's error is below the unit roundoff (Bader et al., table 1)
_DEGREES = (1, 2, 4, 8, 12)
_THETAS_SINGLE = (
    1.192092800768788e-07,
    5.978858893805233e-04,
    5.116619363445086e-02,
    5.800524627688768e-01,
    1.461661507209034e00,
    3.010066362817634e00,  # degree 18: the norm the scaling aims for
)
_THETAS_DOUBLE = (
    2.220446049250313e-16,
    2.580956802971767e-08,
    3.397168839976962e-04,
    4.991228871115323e-02,
    2.996158913811580e-01,
    1.090863719290036e00,
)

# degree 8 (Bader et al., eq. 12): A4 = A2 (x1 A + x2 A2), A8 = (x3 A2 + A4)(x4 I + x5 A + x6 A2 + x7 A4)
_SQRT_177 = 0.1330413469565007072504e2
_X3 = 2.0 / 3.0
_X1 = _X3 * ((1.0 + _SQRT_177) / 88.0)
_X2 = _X3 * ((1.0 + _SQRT_177) / 352.0)
_X4 = (-271.0 + 29.0 * _SQRT_177) / (315.0 * _X3)
_X5 = (-11.0 + 11.0 * _SQRT_177) / (1260.0 * _X3)
_X6 = (-99.0 + 11.0 * _SQRT_177) / (5040.0 * _X3)
_X7 = (89.0 - _SQRT_177) / (5040.0 * _X3)
_Y2 = (857.0 - 58.0 * _SQRT_177) / 630.0

# degree 12: rows are B0..B3 as combinations of I, A, A^2, A^3
_B12 = np.array(
    [
        [9.0198e-16, 0.46932117595418237389, -0.20099424927047284052, -0.04623946134063071740],
        [5.31597895759871264183, 1.19926790417132231573, 0.01179296240992997031, 0.01108844528519167989],
        [0.18188869982170434744, 0.05502798439925399070, 0.09351590770535414968, 0.00610700528898058230],
        [-2.0861320e-13, -0.13181061013830184015, -0.02027855540589259079, -0.00675951846863086359],
    ]
)
# degree 18: rows are B0..B4 as combinations of I, A, A^2, A^3, A^6
_B18 = np.array(
    [
        [0.0, -1.00365581030144618291e-01, -8.02924648241156932449e-03, -8.92138498045729985177e-04, 0.0],
        [
            0.0,
            3.97849749499645077844e-01,
            1.36783778460411720168e00,
            4.98289622525382669416e-01,
            -6.37898194594723280150e-04,
        ],
        [
            -1.09676396052962061844e01,
            1.68015813878906206114e00,
            5.71779846478865511061e-02,
            -6.98210122488052056106e-03,
            3.34975017086070470649e-05,
        ],
        [
            -9.04316832390810593223e-02,
            -6.76404519071381882256e-02,
            6.75961301770459654925e-02,
            2.95552570429315521194e-02,
            -1.39180257516060693404e-05,
        ],
        [0.0, 0.0, -9.23364619367118555360e-02, -1.69364939002081722752e-02, -1.40086798182036094347e-05],
    ]
)
_B12_BY_TYPE = {real: _B12.astype(real) for real in (np.float32, np.float64)}
_B18_BY_TYPE = {real: _B18.astype(real) for real in (np.float32, np.float64)}


def _combine(coefficients: np.ndarray, powers: list) -> np.ndarray:
    """Rows ``sum_j coefficients[i, j] * powers[j]``: einsum's loop (not BLAS) sums over j in order
    from zero, as torch's ``_compute_linear_combination`` kernel, so the roundings are torch's and
    ``0 * NaN`` is NaN."""
    return np.einsum("ij,j...->i...", coefficients, np.stack(powers))


def _taylor(a: np.ndarray, degree: int, real: type) -> np.ndarray:
    """The degree-``degree`` Taylor polynomial of exp at ``a`` (n, n) or (b, n, n), torch's products."""
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    if degree == 1:
        return eye + a
    a2 = a @ a
    if degree == 2:
        return eye + a + a2 / real(2)
    # degrees 4 and 8 only ever see norms below 0.6 (the single-matrix path), so every power is
    # finite there and the zero coefficients torch multiplies (0 * A2, 0 * A4) add nothing
    if degree == 4:  # I + A + A2 (I / 2 + A / 6 + A2 / 24)
        return eye + a + a2 @ (eye * real(1 / 2) + a * real(1 / 6) + a2 * real(1 / 24))
    if degree == 8:
        a4 = a2 @ (a * real(_X1) + a2 * real(_X2))
        a8 = (a2 * real(_X3) + a4) @ (eye * real(_X4) + a * real(_X5) + a2 * real(_X6) + a4 * real(_X7))
        return eye + a + a2 * real(_Y2) + a8
    eye = np.broadcast_to(eye, a.shape)
    a3 = a @ a2
    if degree == 12:
        b = _combine(_B12_BY_TYPE[real], [eye, a, a2, a3])
        b[2] += b[3] @ b[3]  # A6 = B2 + B3^2
        b[1] += b[2]
        return b[0] + b[1] @ b[2]  # B0 + (B1 + A6) A6
    b = _combine(_B18_BY_TYPE[real], [eye, a, a2, a3, a3 @ a3])
    b[3] += b[0] @ b[4]  # A9 = B0 B4 + B3
    b[2] += b[3]
    return b[1] + b[2] @ b[3]  # B1 + (B2 + A9) A9


def _scale_and_square(a: np.ndarray, norm, real: type) -> np.ndarray:
    """exp by degree 18 on ``a / 2^s``, squared ``s`` times, ``s = ceil(log2(norm / theta18))``
    (at least 0), per matrix of a stack ``a`` (b, n, n) with norms ``norm`` (b,), or for one
    matrix (n, n) with a scalar norm, in the precision of ``real`` as torch."""
    theta = (_THETAS_SINGLE if real is np.float32 else _THETAS_DOUBLE)[5]
    s = np.maximum(np.ceil(np.log2(norm / real(theta))), real(0))  # (a NaN norm stays NaN)
    if a.ndim == 2:  # one matrix: an inf or NaN s leaves it unsquared (the stack's largest s is 0)
        e = _taylor(a * np.power(real(2), -s), 18, real)
        for _ in range(int(s) if np.isfinite(s) else 0):
            e = e @ e
        return e
    e = _taylor(a * np.power(real(2), -s)[:, None, None], 18, real)
    finite = np.isfinite(s)
    counts = np.where(finite, s, 0).astype(np.int64)
    if not finite.all():  # torch's int64 cast of inf/NaN: squared with the largest finite s
        counts[~finite] = counts[finite].max(initial=0)
    top = int(counts.max())
    if counts.min() == top:
        for _ in range(top):
            e = e @ e
        return e
    for step in range(top):  # only the matrices that still need squaring
        live = counts > step
        e[live] = e[live] @ e[live]
    return e


def matrix_exp(a: np.ndarray) -> np.ndarray:
    """exp(A) for a stack of square matrices (``..., n, n``) of float32/64 or complex64/128.

    float32 and complex64 use the single-precision thresholds and coefficients, the others the
    double-precision ones; the caller handles float16 (in float32). Empty and 1 x 1 matrices are
    ``a.copy()`` and ``exp(a)``, as torch.
    """
    n = a.shape[-1]
    if a.size == 0:
        return a.copy()
    if n == 1:
        return np.exp(a)
    real = np.float32 if a.dtype in (np.float32, np.complex64) else np.float64
    with np.errstate(all="ignore"):  # overflow, inf - inf and 0 * inf are the results here, as in torch
        if a.size > n * n:
            stack = a.reshape(-1, n, n)
            norm = np.abs(stack).sum(-2).max(-1)
            return _scale_and_square(stack, norm, real).reshape(a.shape)
        one = a.reshape(n, n)
        norm = np.abs(one).sum(0).max()
        thetas = _THETAS_SINGLE if real is np.float32 else _THETAS_DOUBLE
        if norm >= real(thetas[4]):
            return _scale_and_square(one, norm, real).reshape(a.shape)
        for degree, theta in zip(_DEGREES, thetas):
            if norm <= real(theta):
                return _taylor(one, degree, real).reshape(a.shape)
    return np.full_like(a, np.nan)  # a NaN norm matches no interval: torch's NaN-filled result
