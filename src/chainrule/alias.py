"""Run unchanged PyTorch code on chainrule: ``import torch`` resolves to chainrule.

Importing this module installs an import hook (a ``sys.meta_path`` finder) under which ``torch`` and
every ``torch.<sub>`` name resolve to chainrule's own module objects::

    import chainrule.alias  # noqa: F401  (before anything imports torch)
    import torch                        # chainrule
    import torch.nn as nn               # chainrule.nn, the same object
    from torch.utils.data import DataLoader

To run a whole script without editing it, use the runner (``chainrule.run``)::

    python -m chainrule.run train.py --epochs 3
    python -m chainrule.run -m package.module args...

A ``torch`` submodule that chainrule does not have raises ``ModuleNotFoundError`` naming the torch
module and the chainrule module that is missing, rather than silently falling through to a real torch
installation (mixing the two libraries' tensors would fail later and less clearly).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

__all__ = ["install", "installed", "uninstall"]

ALIASED = "torch"
TARGET = "chainrule"


def _target_name(fullname: str) -> str:
    """``torch.nn.functional`` -> ``chainrule.nn.functional``."""
    return TARGET + fullname[len(ALIASED) :]


def _resolve(fullname: str) -> ModuleType:
    """chainrule's module for the torch module ``fullname``, importing it if needed.

    A submodule is found as a module file of chainrule's package, else as a module-valued attribute
    of its parent (a namespace that chainrule builds in code rather than in a file of its own)."""
    target = _target_name(fullname)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if error.name != target:
            raise  # chainrule's module exists but itself imports something missing: show that
        parent_name, _, child = target.rpartition(".")
        parent = sys.modules.get(parent_name)
        attribute = getattr(parent, child, None) if parent is not None else None
        if isinstance(attribute, ModuleType):
            return attribute
        raise ModuleNotFoundError(
            f"No module named '{fullname}': chainrule, standing in for torch through chainrule.alias, "
            f"has no '{target}' module. This part of torch is not implemented in chainrule yet; "
            "remove the import or run the script under real PyTorch (docs/differences.md lists "
            "what chainrule lacks).",
            name=fullname,
        ) from None


class _ChainruleModuleLoader(importlib.abc.Loader):
    """Loads a ``torch.*`` name by putting chainrule's existing module in its ``sys.modules`` slot.

    The import system makes a placeholder module from the spec and runs ``exec_module`` on it; it
    then returns whatever ``sys.modules`` holds under the name, so swapping the entry there makes
    ``import torch.nn`` return ``chainrule.nn`` itself (the same object: ``isinstance`` checks,
    module-level state such as the default dtype and the RNG, and monkey-patching all stay shared),
    and chainrule's modules keep their own ``__name__`` and ``__spec__``."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default placeholder, replaced in exec_module

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = self.module


class _TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Answers for ``torch`` and ``torch.*`` before any other finder, so that a real torch
    installation on the path is never reached."""

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIASED and not fullname.startswith(ALIASED + "."):
            return None
        module = _resolve(fullname)
        return importlib.machinery.ModuleSpec(
            fullname, _ChainruleModuleLoader(module), is_package=hasattr(module, "__path__")
        )


_FINDER = _TorchAliasFinder()


def installed() -> bool:
    """Whether ``import torch`` currently resolves to chainrule."""
    return _FINDER in sys.meta_path


def install() -> None:
    """Make ``import torch`` (and every ``torch.*`` submodule) resolve to chainrule's modules.

    Raises
    ------
    RuntimeError
        If a real torch is already imported in this process: its tensors and chainrule's cannot be
        mixed, and modules that imported it would keep it. Install the alias first.
    """
    if installed():
        return
    already = sys.modules.get(ALIASED)
    if already is not None and getattr(already, "__name__", None) != TARGET:
        raise RuntimeError(
            "chainrule.alias: a real torch is already imported in this process, so `import torch` "
            "cannot be redirected to chainrule any more; import chainrule.alias (or run the script "
            "with `python -m chainrule.run script.py`) before anything imports torch."
        )
    sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Undo :func:`install`: remove the finder and the ``torch*`` entries it put in ``sys.modules``."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == ALIASED or n.startswith(ALIASED + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET):
            del sys.modules[name]


install()
