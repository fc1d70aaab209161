"""torch.special's Bessel functions and orthogonal polynomials. torch defines no derivative for
any of them: the results never require grad, as in torch.

Bessel values come from SciPy's ufuncs (Cephes, as torch's kernels). The polynomials are
evaluated by their three-term recurrences, ``n`` truncated to an integer and broadcast with
``input``; a negative ``n`` gives 0, as in torch.
"""

from __future__ import annotations

import numpy as np
import scipy.special as _sp

from .. import _dtype
from ._common import Tensor, as_tensor, operands, wrap

__all__: list[str] = []  # torch.special's names only: chainrule.special imports them from here


def _float_data(input, who: str) -> np.ndarray:
    x = as_tensor(input, who)._data
    return x if x.dtype.kind == "f" else x.astype(_dtype.get_default_dtype().np)


def _bessel(who: str, fn):
    def apply(input: Tensor) -> Tensor:
        x = _float_data(input, who)
        return wrap(np.asarray(fn(x)).astype(x.dtype, copy=False))

    apply.__name__ = who
    apply.__doc__ = f"``{who}`` of each element (no derivative, as in torch)."
    return apply


bessel_j0 = _bessel("bessel_j0", _sp.j0)
bessel_j1 = _bessel("bessel_j1", _sp.j1)
bessel_y0 = _bessel("bessel_y0", _sp.y0)
bessel_y1 = _bessel("bessel_y1", _sp.y1)
modified_bessel_i0 = _bessel("modified_bessel_i0", _sp.i0)
modified_bessel_i1 = _bessel("modified_bessel_i1", _sp.i1)
modified_bessel_k0 = _bessel("modified_bessel_k0", _sp.k0)
modified_bessel_k1 = _bessel("modified_bessel_k1", _sp.k1)
scaled_modified_bessel_k0 = _bessel("scaled_modified_bessel_k0", _sp.k0e)
scaled_modified_bessel_k1 = _bessel("scaled_modified_bessel_k1", _sp.k1e)
spherical_bessel_j0 = _bessel("spherical_bessel_j0", lambda x: _sp.spherical_jn(0, x))


def _airy_ai(x):
    out = _sp.airy(x)[0]
    return np.where((x > 100) & (x < np.inf), 0.0, out)  # Cephes: NaN once Ai underflows; torch: 0


airy_ai = _bessel("airy_ai", _airy_ai)


# ---- orthogonal polynomials: (p0, p1, step) with p_{k+1} = step(k, x, p_k, p_{k-1}) -----------
def _chebyshev(first):
    return (lambda x: np.ones_like(x), first, lambda k, x, p, q: 2 * x * p - q)


_RECURRENCES = {
    "chebyshev_polynomial_t": _chebyshev(lambda x: x),
    "chebyshev_polynomial_u": _chebyshev(lambda x: 2 * x),
    "chebyshev_polynomial_v": _chebyshev(lambda x: 2 * x - 1),
    "chebyshev_polynomial_w": _chebyshev(lambda x: 2 * x + 1),
    "hermite_polynomial_h": (
        lambda x: np.ones_like(x),
        lambda x: 2 * x,
        lambda k, x, p, q: 2 * x * p - 2 * k * q,
    ),
    "hermite_polynomial_he": (lambda x: np.ones_like(x), lambda x: x, lambda k, x, p, q: x * p - k * q),
    "laguerre_polynomial_l": (
        lambda x: np.ones_like(x),
        lambda x: 1 - x,
        lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1),
    ),
    "legendre_polynomial_p": (
        lambda x: np.ones_like(x),
        lambda x: x,
        lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1),
    ),
}


def _polynomial(who: str, shifted: bool = False):
    p0, p1, step = _RECURRENCES[who.replace("shifted_", "")]

    def apply(input, n) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{who}(): expected at least one Tensor argument")
        a, b = operands(input, n)
        dt = a._data.dtype if a._data.dtype.kind == "f" else _dtype.get_default_dtype().np
        x, order = np.broadcast_arrays(a._data.astype(dt), np.trunc(b._data).astype(np.int64))
        if shifted:
            x = 2 * x - 1
        out = np.zeros(x.shape, dtype=dt)
        out[order == 0] = 1
        if order.size and order.max(initial=0) >= 1:
            prev, cur = p0(x), p1(x)
            out = np.where(order == 1, cur, out)
            for k in range(1, int(order.max())):
                prev, cur = cur, step(k, x, cur, prev)
                out = np.where(order == k + 1, cur, out)
        return wrap(np.asarray(out, dtype=dt))

    apply.__name__ = who
    apply.__doc__ = f"``{who}(input, n)``: the degree-``n`` polynomial at ``input`` (no derivative)."
    return apply


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", shifted=True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", shifted=True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", shifted=True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", shifted=True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h")
hermite_polynomial_he = _polynomial("hermite_polynomial_he")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l")
legendre_polynomial_p = _polynomial("legendre_polynomial_p")
