"""Two tables low in the stack, read by the recording path, the engine and Tensor's methods:
forward-mode tangents (filled by ``forward_ad``, which sits above the ops) and the hooks that run
after a leaf's ``.grad`` was accumulated. They import nothing of chainrule's, so every layer may
read them."""

from __future__ import annotations

import weakref
from collections.abc import Callable

__all__ = [
    "FORWARD",
    "tangent_of",
    "set_tangent",
    "clear_tangents",
    "tracked",
    "POST_ACCUMULATE",
    "PostAccumulateHandle",
    "register_post_accumulate_grad_hook",
]


class _ForwardState:
    """``active``: a dual level is open and no tangent is being computed (the recording path's one
    check); ``level``: the open level's number, or -1; ``compute(result, op, inputs, params)``:
    gives ``result`` its tangent (bound by ``forward_ad`` when it loads)."""

    __slots__ = ("active", "level", "compute")

    def __init__(self) -> None:
        self.active = False
        self.level = -1
        self.compute: Callable | None = None


FORWARD = _ForwardState()

#: id(tensor) -> (weak reference to the tensor, its tangent), for the open level's dual tensors
_TANGENTS: dict[int, tuple] = {}


def tangent_of(t) -> object | None:
    """``t``'s tangent in the open dual level, or None."""
    entry = _TANGENTS.get(id(t))
    if entry is None or entry[0]() is not t:
        return None
    return entry[1]


def set_tangent(t, tangent) -> None:
    key = id(t)
    _TANGENTS[key] = (weakref.ref(t, lambda ref, key=key: _forget(_TANGENTS, key, ref)), tangent)


def tracked(t) -> bool:
    """Whether some AD follows ``t``: it requires grad, or carries a tangent in the open dual
    level. Ops that drop a constant tensor argument to a plain number (a fill value, a copy's
    source) ask this, so that forward mode sees the tensor too."""
    return t._rg or (FORWARD.active and tangent_of(t) is not None)


def clear_tangents() -> None:
    _TANGENTS.clear()


def _forget(table: dict, key: int, ref) -> None:
    entry = table.get(key)
    if entry is not None and entry[0] is ref:
        del table[key]


#: id(leaf) -> (weak reference to the leaf, {hook id: hook}): hooks run after the leaf's ``.grad``
#: was accumulated (``Tensor.register_post_accumulate_grad_hook``)
POST_ACCUMULATE: dict[int, tuple] = {}


class PostAccumulateHandle:
    """``handle.remove()`` unregisters a post-accumulate-grad hook."""

    __slots__ = ("key", "hook_id")

    def __init__(self, key: int, hook_id: int) -> None:
        self.key, self.hook_id = key, hook_id

    def remove(self) -> None:
        entry = POST_ACCUMULATE.get(self.key)
        if entry is not None:
            entry[1].pop(self.hook_id, None)
            if not entry[1]:
                del POST_ACCUMULATE[self.key]


def register_post_accumulate_grad_hook(tensor, hook: Callable) -> PostAccumulateHandle:
    """Run ``hook(tensor)`` after each backward has accumulated ``tensor.grad`` (a leaf only)."""
    if not tensor._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    key = id(tensor)
    entry = POST_ACCUMULATE.get(key)
    if entry is None or entry[0]() is not tensor:
        ref = weakref.ref(tensor, lambda r, key=key: _forget(POST_ACCUMULATE, key, r))
        entry = POST_ACCUMULATE[key] = (ref, {})
    hook_id = (id(hook) << 16) + len(entry[1])
    entry[1][hook_id] = hook
    return PostAccumulateHandle(key, hook_id)
