"""Spectral decompositions and the norms built on them: qr, eigh, svd, matrix_norm ..."""

from __future__ import annotations

__all__: list[str] = []
