"""The forward-mode rule of ``linalg.eig`` (torch's ``linalg_eig_jvp``).

The transpose-of-VJP fallback cannot serve here: eig's VJP refuses a cotangent that depends on the
eigenvectors' arbitrary phases, and the fallback's cotangent of ones does. The JVP has no such
problem, a tangent of A determines those of L and V (with LAPACK's unit-norm columns):

    dP = V^-1 dA V,   dL = diag(dP),   dV = V (dP / E) - V Re diag(V^H V (dP / E)),

with ``E_ij = L_j - L_i`` and ``(dP / E)`` zero on the diagonal. ``eig`` records one op whose
output packs ``V`` (rows ``[0, n)``) over ``L`` (row ``n``), so the tangent is packed the same way.
"""

from __future__ import annotations

import numpy as np

from .._tensor import wrap
from .math import tensor_math

__all__ = ["eig_jvp"]


def eig_jvp(inputs, result, params, tangents):
    """``linalg_eig``'s output tangent from ``dA`` (``tangents[0]``)."""
    dA = tangents[0]
    if dA is None:
        return None
    F = tensor_math()
    n = params[0]
    V = result[..., :n, :]
    L = result[..., n, :]
    dP = F.solve(V, F.matmul(dA.to(V.dtype), V))
    dL = F.diagonal(dP, 0, -2, -1)
    off_diagonal = wrap((1.0 - np.eye(n)).astype(result._data.dtype))
    gaps = L.unsqueeze(-2) - L.unsqueeze(-1) + wrap(np.eye(n).astype(result._data.dtype))
    dX = F.matmul(V, dP / gaps * off_diagonal)
    VhdX = F.matmul(V.mH, dX)
    dV = dX - V * F.real(F.diagonal(VhdX, 0, -2, -1)).unsqueeze(-2)
    return F.cat([dV, dL.unsqueeze(-2)], -2)
