"""Matrix functions built on one LU / Cholesky factorisation: det, slogdet, logdet, inv, solve ..."""

from __future__ import annotations

__all__: list[str] = []
