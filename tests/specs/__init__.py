"""Op specs by family; ``all_specs()`` gathers the ``SPECS`` list of every module here."""

from __future__ import annotations

import importlib
import pkgutil


def all_specs() -> list:
    specs = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        specs.extend(module.SPECS)
    return specs
