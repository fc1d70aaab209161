"""Switching graph recording on and off: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator (of functions and of generators, which then
run every step in that mode), as in torch. ``no_grad``, ``enable_grad`` and ``inference_mode``
also decorate without parentheses (``@no_grad``).

Three flags, as torch keeps them: the grad mode, whether inference mode is on, and ``enabled``,
what ops read to decide whether to record. Inference mode records nothing even when grad mode is
switched back on inside it (``is_grad_enabled()`` then says True, but no graph is built).

The flags belong to the calling thread, as torch's do: a ``no_grad`` block (or a backward) in one
thread does not stop recording in another, and a new thread starts with grad mode on and inference
mode off whatever the thread that started it was in. Ops read them through two process-wide counts
(``GRAD_OFF``, ``INFERENCE``), so that the thread-local read is paid only while some thread is in
a mode that needs it.

Inference tensors: a tensor made inside ``inference_mode()`` is one (``Tensor.is_inference()``).
It keeps no version counter, so it may not be changed in place outside inference mode nor saved
for backward by a recorded op (both raise, with torch's messages). chainrule marks it by its
version counter, the one shared ``INFERENCE_VERSION``, so no Tensor slot and no store on the
recording path is needed: views and ``detach()`` share the counter, hence are inference tensors
too, as in torch.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "GRAD",
    "GRAD_OFF",
    "INFERENCE",
    "INFERENCE_VERSION",
    "saved_versions",
    "check_inplace",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
]


class _Count:
    """A count over all threads, changed under a lock, read without one."""

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.count += n


#: how many threads have ``GRAD.enabled`` False now. The hot path reads ``not GRAD_OFF.count or
#: GRAD._enabled``: a thread-local attribute costs ~40 ns a read (measured; a slot ~10 ns), paid
#: only while some thread records nothing (in no_grad, inference mode or a backward)
GRAD_OFF = _Count()


class _Counted:
    """Whether a thread counts in ``GRAD_OFF``; it leaves the count when the thread ends, so a
    thread that ends with grad mode off does not slow the others down for good."""

    __slots__ = ("off",)

    def __init__(self) -> None:
        self.off = False

    def __del__(self) -> None:
        if self.off:
            GRAD_OFF.add(-1)


class _GradState(threading.local):
    """The calling thread's modes. ``threading.local`` runs ``__init__`` again in each thread that
    reads them, so every thread starts from torch's defaults."""

    def __init__(self) -> None:
        self._enabled = True  # ops record a graph (the engine also sets this during backward)
        self.mode = True  # the grad mode, as reported inside inference mode
        self.inference = False
        self._counted = _Counted()  # dropped with the thread's other values when it ends

    @property
    def enabled(self) -> bool:
        """Whether ops record a graph in this thread now."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        # nothing records in inference mode, whoever asks (backward with create_graph=True too)
        value = bool(value) and not self.inference
        if value != self._enabled:
            GRAD_OFF.add(-1 if value else 1)
            self._enabled = value
            self._counted.off = not value

    def save(self) -> tuple:
        return self.enabled, self.mode, self.inference

    def restore(self, state: tuple) -> None:
        self.inference, self.enabled, self.mode = state[2], state[0], state[1]  # inference first

    def set_grad_mode(self, mode: bool) -> None:
        self.mode = mode
        self.enabled = mode


#: this thread's modes: when ``GRAD.enabled`` is False, ops record no graph
GRAD = _GradState()


#: how many ``inference_mode`` blocks are open in all threads together: tensor creation reads
#: ``INFERENCE.count and GRAD.inference`` (an inference tensor?), thread-local only while one is
INFERENCE = _Count()


class _InferenceVersion(list):
    __slots__ = ()

    def __repr__(self) -> str:
        return "INFERENCE_VERSION"


#: the version counter of every inference tensor, and the mark of one (``Tensor.is_inference``).
#: torch's inference tensors track no version: in-place changes (allowed in inference mode) leave
#: this at 1. Not 0, so that the check ``make_result`` already does on saved inputs (is any at a
#: version other than 0?) sends them to ``saved_versions``, which refuses them: the recording path
#: pays nothing for the check. One shared object: marking a tensor is one store, no allocation.
INFERENCE_VERSION = _InferenceVersion((1,))


def saved_versions(inputs: tuple) -> tuple:
    """The version of each input a recorded op saves, refusing inference tensors (as torch)."""
    for x in inputs:
        if x._vc is INFERENCE_VERSION:
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors created "
                "in inference mode in computation tracked by autograd. To work around this, you can "
                "make a clone to get a normal tensor and use it in autograd, or use "
                "`torch.no_grad()` instead of `torch.inference_mode()`."
            )
    return tuple(0 if x._vc is None else x._vc[0] for x in inputs)


def check_inplace(tensor) -> None:
    """torch's error for an in-place change of an inference tensor outside inference mode."""
    if tensor._vc is INFERENCE_VERSION and not GRAD.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
            "clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details."
        )


def is_grad_enabled() -> bool:
    """True when grad mode is on (operations on tensors that require grad are recorded)."""
    return GRAD.mode if GRAD.inference else GRAD.enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return GRAD.inference


def _wrap_generator(make_context: Callable, func: Callable) -> Callable:
    """A generator function whose every step (start, send, throw, close) runs in the mode."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any):
        gen = func(*args, **kwargs)
        try:
            with make_context():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException as exc:  # passed on into the generator
                    with make_context():
                        response = gen.throw(exc)
                else:
                    with make_context():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator


class _GradModeContext:
    """Base of the switches: a context manager that also decorates functions and generators."""

    def __init__(self) -> None:
        self._saved: list = []  # a stack: the same object may be entered again while inside

    def _switch(self) -> None:
        raise NotImplementedError

    def clone(self) -> _GradModeContext:
        """A fresh context of the same mode (each decorated call enters its own)."""
        return self.__class__()

    def __enter__(self) -> None:
        self._saved.append(GRAD.save())
        self._switch()

    def __exit__(self, *exc: object) -> None:
        GRAD.restore(self._saved.pop())

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self.clone, func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return func(*args, **kwargs)

        return wrapper


class _NoParamContext(_GradModeContext):
    """A switch that takes no argument, so ``@switch`` works as well as ``@switch()``."""

    def __new__(cls, orig_func: Callable | None = None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func: Callable | None = None) -> None:
        super().__init__()


class no_grad(_NoParamContext):
    """Context manager and decorator: operations inside record no graph (``torch.no_grad``).

    Examples
    --------
    >>> with chainrule.no_grad():
    ...     w -= lr * w.grad
    """

    def _switch(self) -> None:
        GRAD.set_grad_mode(False)


class enable_grad(_NoParamContext):
    """Context manager and decorator that turns grad mode back on inside ``no_grad``."""

    def _switch(self) -> None:
        GRAD.set_grad_mode(True)


class inference_mode(_GradModeContext):
    """Like ``no_grad``, and more: nothing is recorded inside even under ``enable_grad``.

    Parameters
    ----------
    mode : False turns inference mode off (and grad mode on) inside an enclosing one.

    Notes
    -----
    Tensors made inside are inference tensors (``Tensor.is_inference()``): outside inference mode
    they may not be changed in place, get ``requires_grad``, or be saved for backward by a recorded
    op; ``clone()`` one to get a normal tensor. Views of normal tensors stay normal.
    """

    def __new__(cls, mode: bool | Callable = True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls(True)(mode)  # @inference_mode without parentheses

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self.mode = mode

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)

    def __enter__(self) -> None:
        INFERENCE.add(1)  # before the switch: a tensor made in this thread must see the count
        super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        INFERENCE.add(-1)

    def _switch(self) -> None:
        GRAD.inference = self.mode
        GRAD.mode = GRAD.enabled = not self.mode


class set_grad_enabled(_GradModeContext):
    """Turn grad mode on or off: as a function call, a context manager, or a decorator.

    Parameters
    ----------
    mode : True to record operations, False not to.
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._before = GRAD.save()
        GRAD.set_grad_mode(self.mode)  # takes effect at once when used as a plain call

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)  # switches at once: made only where it is entered

    def _switch(self) -> None:
        GRAD.set_grad_mode(self.mode)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        GRAD.restore(self._before)  # the state from before the constructor switched

    def __call__(self, func: Callable) -> Callable:
        GRAD.restore(self._before)  # used as a decorator: undo the immediate switch
        return super().__call__(func)
