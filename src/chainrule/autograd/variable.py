"""torch's legacy autograd names: ``Variable`` (now just a Tensor), ``variable`` (deprecated),
and the multithreading switch of the backward engine."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor

__all__ = ["Variable", "variable", "is_multithreading_enabled", "set_multithreading_enabled"]


class _VariableMeta(type):
    def __instancecheck__(cls, other: Any) -> bool:  # as torch: every tensor is a Variable
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: a Tensor, as in torch since 0.4.

    Returns a new leaf tensor sharing ``data``'s memory (no history), with ``requires_grad``.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = False, volatile: bool = False) -> Any:
        if data is None:
            from .. import ops  # (ops sit above autograd; only for the legacy empty Variable)

            return ops.empty(0).requires_grad_(requires_grad)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


def variable(*args: Any, **kwargs: Any) -> Any:
    """Deprecated in torch: raises, pointing to ``chainrule.tensor``."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")


_MULTITHREADING = [True]


def is_multithreading_enabled() -> bool:
    """Whether backward may run on several threads (chainrule's engine runs on one thread; the
    switch is kept so that code setting it runs)."""
    return _MULTITHREADING[0]


class set_multithreading_enabled:
    """Context manager (or plain call) setting the engine's multithreading switch, as torch's."""

    def __init__(self, mode: bool) -> None:
        self.prev = _MULTITHREADING[0]
        _MULTITHREADING[0] = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        _MULTITHREADING[0] = self.prev

    def clone(self) -> set_multithreading_enabled:
        return self.__class__(self.prev)
