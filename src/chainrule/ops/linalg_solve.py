"""Matrix functions built on one LU / Cholesky factorisation: det, slogdet, logdet, inv, solve ..."""

from __future__ import annotations

__all__: list[str] = []


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive definite, or a LAPACK routine did not converge
    (``torch.linalg.LinAlgError``; a RuntimeError, as in torch)."""
