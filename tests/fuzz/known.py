"""Differences from torch that the differential fuzzer found and that are not fixed yet.

Each entry names the finding, the test in test_findings.py that reproduces it (marked
``xfail(strict=True)``: it starts failing, and asks for its entry to go, once the difference is
fixed), and a pattern of the fuzzer's mismatch message (followed by the program's source). A
program whose only mismatch matches a pattern counts as a known finding instead of failing the
fuzz test; anything else fails it.
"""

from __future__ import annotations

import re

KNOWN: dict[str, str] = {}  # (none open: lstsq's residuals, the last, became their own output)


#: Where chainrule refuses on purpose and torch answers: torch's answer there is no function of
#: the program alone. Each entry names the test in test_findings.py that shows why (it passes).
REFUSED: dict[str, str] = {
    # an in-place op on overlapping windows (unfold, as_strided) of a tensor that requires grad:
    # torch writes each place once per window holding it, and its CopySlices gives each place one
    # window's local derivative, not the derivative of the repeated writes (2 for a place that
    # mul_(2) doubled three times, 8); for an op whose local derivative differs between windows
    # the result depends on the write order. chainrule refuses (clone() first), also for fill_
    # and copy_, whose write it cannot record (torch's gradient there, 0, is right).
    "test_recorded_inplace_on_overlapping_memory": r"^chainrule raises RuntimeError at step \d+ "
    r"\(\w+: in-place operation on a read-only view whose elements share memory.*torch does not",
}


def known_finding(message: str) -> str | None:
    """The name of the known finding (or deliberate refusal) a mismatch message (followed by the
    program's source) matches, or None."""
    for name, pattern in (KNOWN | REFUSED).items():
        if re.search(pattern, message, re.DOTALL):
            return name
    return None
