"""``torch.nn.utils.skip_init``: build a module without running its initialisation."""

from __future__ import annotations

import inspect

from ..module import Module

__all__ = ["skip_init"]


def skip_init(module_cls: type[Module], *args, **kwargs) -> Module:
    """An instance of ``module_cls(*args, **kwargs)`` whose parameters' values are unspecified (as
    torch's ``torch.empty``); the class must accept a ``device`` argument, as torch requires.

    chainrule builds the module normally (its parameters hold their usual initial values): NumPy
    has no "meta" device to skip the work on, and a program may not rely on the values anyway.
    """
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
