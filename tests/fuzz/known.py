"""Differences from torch that the differential fuzzer found and that are not fixed yet.

Each entry names the finding, the test in test_findings.py that reproduces it (marked
``xfail(strict=True)``: it starts failing, and asks for its entry to go, once the difference is
fixed), and a pattern of the fuzzer's mismatch message (followed by the program's source). A
program whose only mismatch matches a pattern counts as a known finding instead of failing the
fuzz test; anything else fails it.
"""

from __future__ import annotations

import re

KNOWN: dict[str, str] = {
    "test_view_of_a_decomposition_factor": r"^torch raises RuntimeError at step \d+ \(view size is not "
    r"compatible with input tensor's size and stride.*chainrule does not\n.*linalg\.",
    # autograd's refusals that chainrule does not make, or makes where torch does not
    "test_recorded_inplace_on_overlapping_memory": r"^chainrule raises RuntimeError at step \d+ "
    r"\(\w+: in-place operation on a read-only view whose elements share memory.*torch does not",
}


def known_finding(message: str) -> str | None:
    """The name of the known finding a mismatch message (followed by the program's source)
    matches, or None."""
    for name, pattern in KNOWN.items():
        if re.search(pattern, message, re.DOTALL):
            return name
    return None
