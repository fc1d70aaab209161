"""``torch.backends.cpu``: the SIMD level chainrule's kernels (NumPy's) are built for."""

from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """torch's names: "AVX512", "AVX2", "DEFAULT" (from NumPy's detected CPU features)."""
    import numpy as np

    features = np._core._multiarray_umath.__cpu_features__ if hasattr(np, "_core") else {}
    if features.get("AVX512F") and features.get("AVX512BW"):
        return "AVX512"
    if features.get("AVX2"):
        return "AVX2"
    return "DEFAULT"
