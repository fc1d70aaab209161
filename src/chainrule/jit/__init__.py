"""``torch.jit``: TorchScript's decorators and entry points, for model code that uses them.

chainrule runs eagerly and has no TorchScript compiler: ``script`` and ``trace`` return the
function or module they are given, which computes the same numbers (TorchScript must reproduce
eager results too). Two differences follow: a "traced" function keeps its Python control flow (a
real trace freezes the branches the example inputs took), and nothing can be saved as TorchScript
(``jit.save`` raises; save ``model.state_dict()``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from ..nn.module import Module

__all__ = [
    "script",
    "trace",
    "trace_module",
    "script_if_tracing",
    "ignore",
    "unused",
    "export",
    "interface",
    "is_scripting",
    "is_tracing",
    "annotate",
    "isinstance",
    "Final",
    "Attribute",
    "fork",
    "wait",
    "Future",
    "freeze",
    "optimize_for_inference",
    "save",
    "load",
    "ScriptModule",
    "ScriptFunction",
    "Error",
]

Final = typing.Final
Error = RuntimeError
_builtin_isinstance = isinstance


class ScriptModule(Module):
    """The type of a scripted module in torch; chainrule's ``script`` returns the module itself,
    so nothing is an instance of this class unless a program subclasses it."""


class ScriptFunction:
    """The type of a scripted function in torch (never made here: ``script`` returns the function)."""


def script(obj: Any, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None) -> Any:
    """Return ``obj`` (a function, an ``nn.Module`` or a class) unchanged: it runs eagerly with the
    numbers TorchScript would give."""
    if not callable(obj):
        raise RuntimeError(f"script: expected a function, class or nn.Module, got {type(obj).__name__}")
    return obj


def trace(
    func: Callable, example_inputs=None, optimize=None, check_trace: bool = True, *args, **kwargs
) -> Any:
    """Return ``func`` (a function or an ``nn.Module``) unchanged. Unlike a real trace, it keeps
    its Python control flow for inputs unlike ``example_inputs``."""
    if not callable(func):
        raise RuntimeError(f"trace: expected a function or nn.Module, got {type(func).__name__}")
    if example_inputs is None and kwargs.get("example_kwarg_inputs") is None:
        raise RuntimeError("trace: example_inputs (or example_kwarg_inputs) must be given, as in torch")
    return func


def trace_module(mod: Module, inputs: dict, *args, **kwargs) -> Module:
    """Return ``mod`` unchanged (see ``trace``)."""
    return mod


def script_if_tracing(fn: Callable) -> Callable:
    return fn


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=True)``: leaves the function as Python."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    return fn


def export(fn: Callable) -> Callable:
    return fn


def interface(obj):
    return obj


def is_scripting() -> bool:
    """False: chainrule code always runs as Python (TorchScript's compiler never runs it)."""
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type, the_value):
    """TorchScript's type hint for a value: the value itself."""
    return the_value


def isinstance(obj, target_type) -> bool:  # noqa: A001
    """TorchScript's isinstance refinement: Python's ``isinstance`` (for plain classes)."""
    return _builtin_isinstance(obj, typing.get_origin(target_type) or target_type)


class Attribute:
    """``torch.jit.Attribute(value, type)``: in eager code, the value itself."""

    def __new__(cls, value, type=None):  # noqa: A002
        return value


class Future:
    """The result of ``fork``: computed at once (chainrule runs the call eagerly)."""

    def __init__(self, value) -> None:
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self) -> bool:
        return True


def fork(func: Callable, *args, **kwargs) -> Future:
    """Run ``func(*args, **kwargs)`` now; ``wait`` returns its result."""
    return Future(func(*args, **kwargs))


def wait(future: Future):
    return future.wait()


def freeze(mod: Module, preserved_attrs=None, optimize_numerics: bool = True) -> Module:
    return mod


def optimize_for_inference(mod: Module, other_methods=None) -> Module:
    return mod


def save(m, f, _extra_files=None) -> None:
    """Raises: chainrule has no TorchScript format; save the weights instead."""
    raise RuntimeError(
        "jit.save: chainrule has no TorchScript format (script() returns the eager module); save "
        "model.state_dict() with torch.save and rebuild the model in code"
    )


def load(f, map_location=None, _extra_files=None):
    """Raises: chainrule cannot read TorchScript archives (they hold code)."""
    raise RuntimeError(
        "jit.load: chainrule cannot load TorchScript archives (they hold code and pickles); export "
        "the weights from torch with model.state_dict() and safetensors, then load them here"
    )
