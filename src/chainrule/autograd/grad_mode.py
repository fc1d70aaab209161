"""Switching graph recording on and off: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools


class _GradState:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


#: read on every op call: when False, ops record no graph
GRAD = _GradState()


def is_grad_enabled() -> bool:
    """True when operations are being recorded for backward."""
    return GRAD.enabled


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that also decorates functions."""

    mode: bool = True

    def __enter__(self) -> None:
        self._previous = GRAD.enabled
        GRAD.enabled = self.mode

    def __exit__(self, *exc) -> None:
        GRAD.enabled = self._previous

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator: operations inside record no graph (``torch.no_grad``)."""

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns recording back on inside ``no_grad``."""

    mode = True


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (chainrule has no separate inference tensors)."""

    mode = False

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off: as a function call, a context manager, or a decorator."""

    def __init__(self, mode: bool) -> None:
        self._previous = GRAD.enabled
        self.mode = bool(mode)
        GRAD.enabled = self.mode  # takes effect at once when used as a plain call

    def __enter__(self) -> None:
        GRAD.enabled = self.mode

    def __call__(self, func):
        GRAD.enabled = self._previous  # used as a decorator: undo the immediate switch
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = GRAD.enabled
            GRAD.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                GRAD.enabled = previous

        return wrapper
