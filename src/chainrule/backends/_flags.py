"""A context manager that sets module-level flags and restores them (``torch.backends.*.flags``)."""

from __future__ import annotations

import contextlib
from types import ModuleType


@contextlib.contextmanager
def set_flags(module: ModuleType, **values):
    before = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(module, name, value)
