"""How many examples a fuzz test draws: a bounded number in ``make test``, many more in ``make fuzz``.

A fuzz test carries ``@pytest.mark.fuzz`` and sizes its hypothesis run with ``examples(n)``:
``n`` in the suite, ``n * CHAINRULE_FUZZ_SCALE`` when the variable is set (``make fuzz`` sets 50).
"""

from __future__ import annotations

import os


def scale() -> int:
    """The multiplier of every fuzz test's example count (CHAINRULE_FUZZ_SCALE, default 1)."""
    value = os.environ.get("CHAINRULE_FUZZ_SCALE", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"CHAINRULE_FUZZ_SCALE must be a positive integer, got {value!r}")
    return int(value)


def examples(bounded: int) -> int:
    """The example count of a fuzz test that draws ``bounded`` examples in ``make test``."""
    return bounded * scale()
