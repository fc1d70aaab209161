"""IEEE floating-point exceptions are silent inside chainrule, as they are in torch.

torch computes ``log(0) = -inf``, ``0 / 0 = nan`` and ``exp(1000) = inf`` without a word; NumPy
emits a RuntimeWarning for each (an error under ``-W error``). chainrule's ops must be as silent
as torch's, without changing NumPy's behaviour for the user's own NumPy code: so NumPy's error
state is switched to "ignore" only while a chainrule op (or a backward pass, or an optimizer step)
runs, and restored when it returns.

``np.errstate`` does exactly that, but costs ~1 us per use, as much as a whole small op. NumPy 2
keeps its error state in a context variable; setting that variable to a prepared "ignore"
state and resetting it afterwards costs ~0.2 us and is what ``np.errstate`` itself does inside.
That variable is private to NumPy, so it is looked up once here, with ``np.errstate`` as the
fallback should a NumPy release move it. Being a context variable, the state is per thread and
per asyncio task: an op run in any thread is silent, and nothing leaks into the caller's.

The hottest ops (element-wise unary ops, ``mul``/``add``/``sub``/``div``, ``sum``, ``mean``) switch
the state in their own body (``switches_itself``) rather than through a generated wrapper, whose call
frame is another ~0.07-0.1 us per call (measured on 16 floats: ``sin`` 1.18 -> 1.10 us).

Integer division by zero is not an IEEE case: the ops raise torch's error for it themselves.

The same wrappers are the op boundary where NumPy's own exceptions (a ``ValueError`` for shapes
that do not broadcast, a ``TypeError`` for a dtype without a loop) become torch's types
(``chainrule._numpy_errors.translate``): an ``except`` clause costs nothing until something raises.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ._numpy_errors import NUMPY_ERRORS, describe_call, translate

__all__ = ["quiet", "quiet_numpy", "user_stacklevel", "switches_itself", "IGNORE", "set_state", "reset_state"]

try:  # NumPy >= 2.0: the context variable behind np.errstate
    from numpy._core.umath import _extobj_contextvar, _make_extobj

    _IGNORE = _make_extobj(all="ignore")
    _set, _reset = _extobj_contextvar.set, _extobj_contextvar.reset
except (ImportError, AttributeError, TypeError):  # pragma: no cover - a NumPy that moved it
    _extobj_contextvar = None


if _extobj_contextvar is not None:
    #: for the hottest ops, which switch the state themselves rather than through a wrapper
    #: (``token = set_state(IGNORE)``, the body, ``finally: reset_state(token)``): the wrapper's own
    #: call frame is ~0.07-0.1 us of a ~1.5 us small op (see ``switches_itself``)
    IGNORE, set_state, reset_state = _IGNORE, _set, _reset

    def quiet(fn: Callable) -> Callable:
        """``fn``, running with NumPy's floating-point warnings off (restored on return).

        The wrapper is written with ``fn``'s own parameters (``def add(input, other, *, alpha=1,
        out=None)``), not ``*args, **kwargs``: packing and unpacking those cost about as much as the state
        switch itself (measured: ~0.23 us per call instead of ~0.30 us). A signature that cannot be read
        gets the generic wrapper."""
        silent = _same_signature_wrapper(fn)
        if silent is None:

            def silent(*args: Any, **kwargs: Any) -> Any:
                token = _set(_IGNORE)
                try:
                    return fn(*args, **kwargs)
                except NUMPY_ERRORS as e:
                    translate(e, fn.__name__, describe_call(args, kwargs))
                    raise
                finally:
                    _reset(token)

        functools.update_wrapper(silent, fn)
        silent.__chainrule_quiet__ = True  # type: ignore[attr-defined]
        return silent

    class quiet_numpy:
        """Context manager: NumPy's floating-point warnings off inside, restored on exit."""

        __slots__ = ("token",)

        def __enter__(self) -> None:
            self.token = _set(_IGNORE)

        def __exit__(self, *exc: Any) -> None:
            _reset(self.token)

else:  # pragma: no cover
    IGNORE = None

    def set_state(_state: Any) -> dict:
        return np.seterr(all="ignore")

    def reset_state(token: dict) -> None:
        np.seterr(**token)

    def quiet(fn: Callable) -> Callable:
        """``fn``, running with NumPy's floating-point warnings off (restored on return)."""
        silent = functools.wraps(fn)(np.errstate(all="ignore")(fn))
        silent.__chainrule_quiet__ = True
        return silent

    def quiet_numpy() -> np.errstate:
        """Context manager: NumPy's floating-point warnings off inside, restored on exit."""
        return np.errstate(all="ignore")


def switches_itself(fn: Callable) -> Callable:
    """Mark ``fn`` as quiet already: its body switches NumPy's warnings off and back itself, with
    ``set_state(IGNORE)`` and ``reset_state(token)`` in a ``finally`` (so ``quiet_namespace``
    leaves it unwrapped and its callers save the wrapper's frame)."""
    fn.__chainrule_quiet__ = True  # type: ignore[attr-defined]
    return fn


#: function -> its quiet version: one wrapper per function, so that a function re-exported by
#: several namespaces (``chainrule.matmul is chainrule.linalg.matmul``) stays one object
_QUIET_VERSIONS: dict[Callable, Callable] = {}


#: modules whose functions only move or select elements (views, shapes, indexing): they never
#: compute a float, so ``quiet_namespace`` leaves them unwrapped, at no cost (``chainrule.ops``
#: names its own)
NEVER_COMPUTE: set[str] = set()


def _same_signature_wrapper(fn: Callable) -> Callable | None:
    """A quiet wrapper of ``fn`` with ``fn``'s parameters, made from source; None if ``fn``'s
    signature cannot be read or spelled."""
    try:
        parameters = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):
        return None
    spelled, passed, values, defaults = [], [], [], {}
    keyword_only_started = False
    for p in parameters:
        name = p.name
        if not name.isidentifier() or name.startswith("__q_"):
            return None
        default = ""
        if p.default is not inspect.Parameter.empty:
            defaults[f"__q_default_{name}"] = p.default
            default = f"=__q_default_{name}"
        if p.kind is p.VAR_POSITIONAL:
            spelled.append(f"*{name}")
            passed.append(f"*{name}")
            values.append(f"*{name}")
            keyword_only_started = True
        elif p.kind is p.VAR_KEYWORD:
            spelled.append(f"**{name}")
            passed.append(f"**{name}")
            values.append(f"*{name}.values()")
        elif p.kind is p.KEYWORD_ONLY:
            if not keyword_only_started:
                spelled.append("*")
                keyword_only_started = True
            spelled.append(name + default)
            passed.append(f"{name}={name}")
            values.append(name)
        else:
            spelled.append(name + default)
            passed.append(name)
            values.append(name)
        if p.kind is p.POSITIONAL_ONLY and (
            len([q for q in parameters if q.kind is q.POSITIONAL_ONLY]) == len(spelled)
        ):
            spelled.append("/")
    source = (
        f"def silent({', '.join(spelled)}):\n"
        "    token = __q_set(__q_ignore)\n"
        "    try:\n"
        f"        return __q_fn({', '.join(passed)})\n"
        "    except __q_numpy_errors as e:\n"
        f"        __q_translate(e, __q_name, ({''.join(v + ', ' for v in values)}))\n"
        "        raise\n"
        "    finally:\n"
        "        __q_reset(token)\n"
    )
    # __name__: user_stacklevel counts the wrapper's frame as chainrule's
    namespace = {"__name__": __name__, "__q_set": _set, "__q_reset": _reset, "__q_ignore": _IGNORE}
    namespace.update(__q_numpy_errors=NUMPY_ERRORS, __q_translate=translate, __q_name=fn.__name__)
    namespace.update(__q_fn=fn, **defaults)
    try:
        # a file name inside the package: tracebacks and anomaly mode skip chainrule's own frames
        code = compile(source, f"{__file__}<quiet {getattr(fn, '__qualname__', 'op')}>", "exec")
        exec(code, namespace)  # noqa: S102  (our own source, made from a signature above)
    except SyntaxError:
        return None
    return namespace["silent"]


def quiet_namespace(namespace: dict) -> None:
    """Replace each public plain function in a module's ``namespace`` by its quiet version (one
    per function), except those of the ``NEVER_COMPUTE`` modules and those already quiet."""
    for name, fn in list(namespace.items()):
        if (
            name.startswith("_")
            or type(fn) is not type(quiet)
            or getattr(fn, "__chainrule_quiet__", False)
            or fn.__module__ in NEVER_COMPUTE
        ):
            continue
        silent = _QUIET_VERSIONS.get(fn)
        if silent is None:
            silent = _QUIET_VERSIONS[fn] = quiet(fn)
        namespace[name] = silent


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` call made by this function's caller that
    attributes the warning to the user's line: the first frame outside chainrule (the quiet
    wrappers add frames, and one op may call another, so no fixed number is right)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "chainrule":
        level, frame = level + 1, frame.f_back
    return level
