"""Hooks for saved tensors: ``saved_tensors_hooks``, ``save_on_cpu``, ``disable_saved_tensors_hooks``.

Inside ``saved_tensors_hooks(pack, unpack)``, every tensor an op saves for backward (an input its
derivative reads, or its output) goes through ``pack`` when the op is recorded, and the node
keeps what ``pack`` returned instead of the tensor; backward calls ``unpack`` on it when the
node's derivative runs. ``checkpoint`` is built on this: its pack keeps nothing but a handle.

Zero cost when no hook is active: nothing on the op path tests a flag. While any thread has a
hook active, ops instantiate ``_HookedNode`` instead of ``Node`` (the class swap anomaly mode
uses, see anomaly.py): its ``inputs`` and ``out`` are properties whose setters pack. Readers in
the forward pass (in-place ops, viz) see the original tensors through weak references; the engine
asks ``node.unpack_saved()`` for the unpacked values. As in torch, the hooks are per thread, and
values that hooks packed are not version-checked (an in-place change of them is undefined).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from .. import backend
from .._tensor import Tensor, wrap
from . import graph as _graph

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]

#: ``anomaly.install``, bound from above when anomaly.py loads: it swaps the Node class that ops
#: instantiate (``hooked_nodes.node_class`` picks the hooked one while any hook is active)
INSTALL: list = [None]

_LOCAL = threading.local()  # .stack: the active (pack, unpack) pairs; .disabled: the messages
_LOCK = threading.Lock()
_ACTIVE = [0]  # hook contexts entered on all threads: while > 0, ops make hooked nodes


def _stack() -> list:
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
        _LOCAL.disabled = []
    return stack


def current_hooks() -> tuple | None:
    """The innermost ``(pack, unpack)`` pair active on this thread, or None."""
    stack = getattr(_LOCAL, "stack", None)
    return stack[-1] if stack else None


class saved_tensors_hooks:
    """Context manager: pack and unpack every tensor saved for backward inside it.

    Parameters
    ----------
    pack_hook : ``pack_hook(tensor) -> Any``, called once per tensor an op saves (when the op is
        recorded); what it returns is stored in the graph instead. It must not change the tensor
        in place.
    unpack_hook : ``unpack_hook(packed) -> Tensor``, called when backward needs the value; it must
        return a tensor with the original's value.

    Nestable (the innermost pair applies) and per thread, as in torch. Ops that the hooks
    themselves run are not packed.

    Examples
    --------
    >>> with chainrule.autograd.graph.saved_tensors_hooks(lambda x: x * 1, lambda x: x):
    ...     y = x.sin()
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        stack = _stack()
        if _LOCAL.disabled:
            raise RuntimeError(_LOCAL.disabled[-1])
        stack.append((self.pack_hook, self.unpack_hook))
        _count(+1)

    def __exit__(self, *exc: object) -> None:
        _stack().pop()
        _count(-1)


class disable_saved_tensors_hooks:
    """Context manager: saved-tensor hooks are an error inside it (``error_message`` is raised as
    a RuntimeError by any ``saved_tensors_hooks`` entered, or when it is entered under one)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        if _stack():
            raise RuntimeError(self.error_message)
        _LOCAL.disabled.append(self.error_message)

    def __exit__(self, *exc: object) -> None:
        _LOCAL.disabled.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors live in host memory until backward needs them (``torch.autograd.graph.
    save_on_cpu``): CuPy arrays are copied to the host and back; NumPy arrays already are there
    and are kept as they are (torch's ``tensor.cpu()`` of a CPU tensor), unless ``pin_memory``,
    which (as in torch) saves a copy.

    Parameters
    ----------
    pin_memory : save a copy (on a GPU, torch copies into page-locked memory; CuPy's copy here is
        an ordinary host array).
    device_type : accepted for torch's signature; the device comes from each array.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t):
            array = t._data
            if not pin_memory and not backend.is_cupy(array):
                return None, t  # already in host memory: torch's ``t.cpu()`` is ``t`` itself
            return backend.namespace_of(array), wrap(backend.to_host(array, copy=True))

        def unpack(packed):
            xp, t = packed
            return t if xp is None else wrap(backend.from_host(t._data, xp))

        super().__init__(pack, unpack)


def _count(step: int) -> None:
    """Install the hooked node class while any thread has hooks active, the plain one after."""
    with _LOCK:
        _ACTIVE[0] += step
        if _ACTIVE[0] == (1 if step > 0 else 0):
            INSTALL[0]()  # picks the class through ``hooked_nodes.node_class``


# ---- what a hook packed ----------------------------------------------------------------------
class _Packed:
    """What a pack hook returned for one saved tensor, and how to get the tensor back."""

    __slots__ = ("value", "unpack", "source", "shape", "dtype")

    def __init__(self, value: Any, unpack: Callable, source: Any) -> None:
        self.value = value
        self.unpack = unpack
        self.source = weakref.ref(source)  # for forward readers (in-place ops): never unpacked
        self.shape = source._data.shape
        self.dtype = source._data.dtype

    def get(self):
        t = self.unpack(self.value)
        if not isinstance(t, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got "
                f"result of type {type(t).__name__}"
            )
        return t


def _pack(hooks: tuple, t) -> _Packed:
    pack, unpack = hooks
    vc = t._vc
    before = vc[0] if vc is not None else 0
    stack = _LOCAL.stack
    stack.append(None)  # the hook's own ops are not packed (torch's rule too)
    try:
        value = pack(t)
    finally:
        stack.pop()
    vc = t._vc
    if (vc[0] if vc is not None else 0) != before:
        raise RuntimeError(
            "A saved tensor pack hook is modifying its input in place. Tensors provided as input "
            "to pack hook cannot be modified by in-place operations as this can lead to "
            "unexpected side-effects; return a modified copy instead (e.g. x.clone())."
        )
    return _Packed(value, unpack, t)


# torch's names for the saved-tensor hooks live in ``torch.autograd.graph``: the graph module sits
# below this one, so they are placed there from here
_graph.saved_tensors_hooks = saved_tensors_hooks
_graph.save_on_cpu = save_on_cpu
_graph.disable_saved_tensors_hooks = disable_saved_tensors_hooks
