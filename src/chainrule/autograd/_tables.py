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
    "has_tangent",
    "set_tangent",
    "open_tangent_table",
    "clear_tangents",
    "restore_out_tangents",
    "tracked",
    "POST_ACCUMULATE",
    "PostAccumulateHandle",
    "register_post_accumulate_grad_hook",
]


class _ForwardState:
    """``active``: some dual level is active and no tangent is being computed (the recording
    path's one check); ``levels``: the active levels, outermost first (while the tangent of level
    ``L`` is computed, only the levels outside ``L`` are active); ``level``: the number of the
    level opened by the public ``forward_ad.enter_dual_level``, or -1; ``compute(result, op,
    inputs, params)``: gives ``result`` its tangents; ``refresh_view(view)``: remakes the tangents
    of a view whose base changed in place (both bound by ``forward_ad`` when it loads)."""

    __slots__ = ("active", "levels", "level", "compute", "refresh_view")

    def __init__(self) -> None:
        self.active = False
        self.levels: tuple = ()
        self.level = -1
        self.compute: Callable | None = None
        self.refresh_view: Callable | None = None  # forward_ad's: a view whose base changed


FORWARD = _ForwardState()

#: level -> {id(tensor) -> (weak reference to the tensor, its tangent at that level)}, one table
#: per open dual level (dropped with its level)
_TANGENTS: dict[int, dict[int, tuple]] = {}

#: id(node) -> (weak reference to the node, {level: tangent of its output}): for nodes whose rule
#: reads their output (``Op.saves_out``). The engine re-wraps that output from its array in a
#: differentiable backward; this gives the re-wrapped tensor its tangents back (forward over
#: reverse: ``jvp(grad(f))`` through ``exp``)
_OUT_TANGENTS: dict[int, tuple] = {}


def tangent_of(t, level: int | None = None) -> object | None:
    """``t``'s tangent at ``level`` (default: the innermost active level), or None."""
    if level is None:
        if not FORWARD.levels:
            return None
        level = FORWARD.levels[-1]
    table = _TANGENTS.get(level)
    if table is None:
        return None
    entry = table.get(id(t))
    if entry is None or entry[0]() is not t:
        return None
    return entry[1]


def has_tangent(t) -> bool:
    """Whether ``t`` has a tangent at any active level."""
    for level in FORWARD.levels:
        if tangent_of(t, level) is not None:
            return True
    return False


def set_tangent(t, tangent, level: int | None = None) -> None:
    """Give ``t`` its ``tangent`` at ``level`` (default: the innermost active level)."""
    if level is None:
        level = FORWARD.levels[-1]
    table = _TANGENTS[level]
    key = id(t)
    table[key] = (weakref.ref(t, lambda ref, key=key, table=table: _forget(table, key, ref)), tangent)
    node = getattr(t, "_grad_fn", None)
    if node is not None and getattr(node, "out", None) is t._data:  # a rule reads this output
        _remember_out_tangent(node, level, tangent)


def _remember_out_tangent(node, level: int, tangent) -> None:
    key = id(node)
    entry = _OUT_TANGENTS.get(key)
    if entry is None or entry[0]() is not node:
        ref = weakref.ref(node, lambda r, key=key: _forget(_OUT_TANGENTS, key, r))
        entry = _OUT_TANGENTS[key] = (ref, {})
    entry[1][level] = tangent


def restore_out_tangents(node, out) -> None:
    """Give ``out``, a node's output re-wrapped by the engine, the tangents the output had."""
    entry = _OUT_TANGENTS.get(id(node))
    if entry is None or entry[0]() is not node:
        return
    for level, tangent in entry[1].items():
        if level in _TANGENTS:
            set_tangent(out, tangent, level)


def open_tangent_table(level: int) -> None:
    _TANGENTS[level] = {}


def clear_tangents(level: int) -> None:
    """Drop ``level``'s tangents (its dual tensors become plain tensors)."""
    _TANGENTS.pop(level, None)
    for entry in list(_OUT_TANGENTS.values()):
        entry[1].pop(level, None)


def tracked(t) -> bool:
    """Whether some AD follows ``t``: it requires grad, or carries a tangent at an active dual
    level. Ops that drop a constant tensor argument to a plain number (a fill value, a copy's
    source) ask this, so that forward mode sees the tensor too."""
    return t._rg or (FORWARD.active and has_tangent(t))


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
