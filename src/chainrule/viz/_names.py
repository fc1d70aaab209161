"""Names by default: the variables that hold the tensors in the code that called draw or explain.

A reader of ``z1 = w1 * x + b1`` calls the tensor ``z1``; so do the explanation and the graph.
The caller's frame is read once per call (its locals, then its globals: a notebook cell's are the
globals of ``__main__``), and each tensor gets the first name bound to that very object. Names
that start with ``_`` are skipped (IPython's ``_``, ``_1``, ``__``; private helpers), as are
dunders. An ``nn.Module`` found there names its parameters as ``named_parameters`` does, prefixed
by the variable's name (``model.0.weight``). Names given with ``names=`` / ``params=`` win, tensor
by tensor; ``auto_names=False`` turns the lookup off. explain's loss keeps the lecture's "l"
(``dl/dz1``) unless ``names=`` names it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from .._tensor import Tensor
from ..nn.module import Module

__all__ = ["caller_names", "frame_names"]


def _key(t: Tensor) -> int:
    """The graph vertex a tensor names: its producer node, or the leaf itself (as ``walk``)."""
    return id(t.grad_fn if t.grad_fn is not None else t)


def frame_names(scopes: list[Mapping]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``(names, params)`` from some namespaces, the first one first: the tensors bound to a
    variable, and the parameters of the modules bound to one (``model.0.weight``)."""
    names: dict[str, Tensor] = {}
    params: dict[str, Tensor] = {}
    seen: set[int] = set()
    for scope in scopes:
        for name, value in list(scope.items()):  # (a copy: a notebook's globals may change)
            if not isinstance(name, str) or name.startswith("_"):
                continue
            if isinstance(value, Tensor):
                if _key(value) not in seen:
                    seen.add(_key(value))
                    names[name] = value
            elif isinstance(value, Module):
                for qual, p in value.named_parameters():
                    if _key(p) not in seen:
                        seen.add(_key(p))
                        params[f"{name}.{qual}"] = p
    return names, params


def caller_names(
    depth: int, names: Mapping | None, params: Mapping | None, skip: Tensor | None = None
) -> tuple[dict | None, dict | None]:
    """``names`` and ``params`` completed with the variables of the frame ``depth`` levels above
    the caller of this function; the given ones win for the tensors (and the names) they hold.
    ``skip``: a tensor left to its default name (explain's loss stays "l", the lecture's
    ``dl/dz1``, whatever variable holds it, unless ``names`` names it).

    Returns what to hand to ``walk`` (None where nothing names anything). The frame is released
    before returning: holding it would keep every local of the caller alive (a reference cycle
    through the frame).
    """
    frame = sys._getframe(depth + 1)
    try:
        scopes = [frame.f_locals] if frame.f_locals is frame.f_globals else [frame.f_locals, frame.f_globals]
        auto_names, auto_params = frame_names(scopes)
    finally:
        del frame
        scopes = None
    taken_keys, taken_names = set(), set()
    if skip is not None:
        taken_keys.add(_key(skip))
    for given in (names, params):
        if isinstance(given, Mapping):  # (anything else: walk raises the usual TypeError)
            for name, t in given.items():
                taken_names.add(str(name))
                if isinstance(t, Tensor):
                    taken_keys.add(_key(t))

    def free(auto: dict[str, Tensor]) -> dict[str, Tensor]:
        return {n: t for n, t in auto.items() if n not in taken_names and _key(t) not in taken_keys}

    out_names = free(auto_names)
    out_params = free(auto_params)
    if isinstance(names, Mapping):
        out_names.update(names)
    elif names is not None:
        return names, params  # not a mapping: walk says what is wrong
    if isinstance(params, Mapping):
        out_params.update(params)
    elif params is not None:
        return names, params
    return (out_names or None), (out_params or None)
