"""The general eigendecomposition: linalg.eig and linalg.eigvals against torch.

Eigenvectors are unique only up to a complex phase per column, so the specs compare functions of
them that do not depend on it: ``|V|`` and ``conj(V_ij) V_0j`` (a column times the conjugate of
its first entry), each as real and imaginary parts, so that the oracle's real gradients, second
derivatives and finite differences apply. The inputs are a small perturbation of ``_spread(n)``, a
normal matrix whose eigenvalues (pairs ``GAP k +- i GAP`` and a real one) are at least GAP
apart: every derivative is then well defined and far from its poles, and both real and complex
eigenvalues occur.
"""

from __future__ import annotations

import numpy as np
from oracle import Arg, OpSpec

from specs.linalg_decomp import matrices
from specs.strategies import fixed

SMALL = Arg(-0.3, 0.3)
GAP = 4.0
SQUARE = fixed(((3, 3),), ((4, 4),), ((2, 3, 3),), ((2, 1, 2, 2),), ((1, 1),))
PAIR = fixed(((3, 3), (3, 3)), ((2, 2, 2), (2, 2, 2)), ((1, 1), (1, 1)))


def _spread(n: int) -> np.ndarray:
    """Block-diagonal rotation-scalings ``[[GAP k, GAP], [-GAP, GAP k]]`` (and one ``GAP k`` when n
    is odd): eigenvalues ``GAP k +- i GAP``, pairwise at least GAP apart."""
    c = np.zeros((n, n))
    for k in range(0, n - 1, 2):
        c[k : k + 2, k : k + 2] = [[GAP * k, GAP], [-GAP, GAP * k]]
    if n % 2:
        c[-1, -1] = GAP * n
    return c


def _separated(m, a):
    return a + m.tensor(_spread(a.shape[-1]), dtype=a.dtype)


def _parts(z):
    return z.real, z.imag


def _eig_invariants(m, a):
    L, V = m.linalg.eig(a)
    phases = V.conj() * V[..., :1, :]  # conj(V_ij) V_0j: each column's phase cancels
    return (*_parts(L), V.abs(), *_parts(phases))


def _complex_input(m, x, y):
    """``x + i y`` plus ``_spread`` (built by casts, which vmap batches, rather than ``complex``)."""
    dtype = m.complex64 if x.dtype == m.float32 else m.complex128
    z = x.to(dtype) + y.to(dtype) * 1j
    return z + m.tensor(_spread(z.shape[-1]), dtype=z.dtype)


SPECS = [
    OpSpec("linalg.eig", lambda m, a: _eig_invariants(m, _separated(m, a)), SQUARE, (SMALL,)),
    OpSpec(
        "linalg.eig (batches)",
        lambda m, a: _eig_invariants(m, _separated(m, a)),
        matrices(square=True),
        (SMALL,),
    ),
    OpSpec(
        "linalg.eig eigenvalues only",
        lambda m, a: _parts(m.linalg.eig(_separated(m, a)).eigenvalues),
        SQUARE,
        (SMALL,),
    ),
    OpSpec(
        "linalg.eig eigenvectors only", lambda m, a: m.linalg.eig(_separated(m, a))[1].abs(), SQUARE, (SMALL,)
    ),
    OpSpec(
        "linalg.eig of a complex matrix",
        lambda m, x, y: _eig_invariants(m, _complex_input(m, x, y)),
        PAIR,
        (SMALL, SMALL),
    ),
    OpSpec("linalg.eigvals", lambda m, a: _parts(m.linalg.eigvals(_separated(m, a))), SQUARE, (SMALL,)),
    OpSpec(
        "linalg.eigvals (batches)",
        lambda m, a: _parts(m.linalg.eigvals(_separated(m, a))),
        matrices(square=True),
        (SMALL,),
    ),
    OpSpec(
        "linalg.eigvals of a complex matrix",
        lambda m, x, y: m.linalg.eigvals(_complex_input(m, x, y)).abs(),
        PAIR,
        (SMALL, SMALL),
    ),
]
