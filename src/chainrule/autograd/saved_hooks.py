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
from .anomaly import _TracedNode
from .graph import Node

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "node_class"]

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
        from .._tensor import wrap

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
            from .anomaly import install

            install()  # picks the class through ``node_class``


# ---- the hooked nodes --------------------------------------------------------------------------
_INPUTS_SLOT = Node.inputs  # the base class's slots: the properties below store through them
_OUT_SLOT = Node.out


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
        from .._tensor import Tensor

        t = self.unpack(self.value)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
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


def _get_inputs(node):
    stored = _INPUTS_SLOT.__get__(node)
    if stored is None:
        return None
    return tuple(x.source() if type(x) is _Packed else x for x in stored)


def _set_inputs(node, value) -> None:
    if value is not None and node.op.saves_inputs:
        hooks = current_hooks()
        try:
            before = _INPUTS_SLOT.__get__(node)
        except AttributeError:  # the store at creation
            before = None
        if hooks is not None or before is not None:
            packed = []
            for i, x in enumerate(value):
                old = before[i] if before is not None and i < len(before) else None
                if type(old) is _Packed and old.source() is x:
                    packed.append(old)  # an in-place op re-stored it: packed once already
                elif x is None or hooks is None:
                    packed.append(x)
                else:
                    packed.append(_pack(hooks, x))
            value = tuple(packed)
    _INPUTS_SLOT.__set__(node, value)


def _get_out(node):
    return _OUT_SLOT.__get__(node)


def _set_out(node, value) -> None:
    if value is not None and node.op.saves_out:
        try:
            before = _OUT_SLOT.__get__(node)
        except AttributeError:
            before = None
        if type(before) is _Packed:
            return  # an in-place op moved the output into its tensor's memory: packed once already
        hooks = current_hooks()
        if hooks is not None:
            from .._tensor import wrap

            out = wrap(value)  # the output as a tensor: its memory, attached to its node
            out._rg, out._grad_fn = True, node
            value = _pack(hooks, out)
    _OUT_SLOT.__set__(node, value)


class _HookedMixin:
    """``inputs`` and ``out`` that pack on store; ``unpack_saved`` for the engine."""

    __slots__ = ()

    inputs = property(_get_inputs, _set_inputs)
    out = property(_get_out, _set_out)

    def unpack_saved(self) -> tuple | None:
        """``(inputs, out array)`` with what the hooks packed unpacked (each unpack hook called
        once), or None when nothing in this node was packed."""
        inputs = _INPUTS_SLOT.__get__(self)
        out = _OUT_SLOT.__get__(self)
        packed_in = inputs is not None and any(type(x) is _Packed for x in inputs)
        if not packed_in and type(out) is not _Packed:
            return None
        if packed_in:
            inputs = tuple(x.get() if type(x) is _Packed else x for x in inputs)
        if type(out) is _Packed:
            out = out.get()._data
        return inputs, out

    def input_meta(self, i: int) -> tuple:
        x = _INPUTS_SLOT.__get__(self)[i]
        if type(x) is _Packed:
            return x.shape, x.dtype
        return Node.input_meta(self, i)


class _HookedNode(_HookedMixin, Node):
    __slots__ = ()


class _HookedTracedNode(_HookedMixin, _TracedNode):
    __slots__ = ()


def node_class(watching: bool) -> type:
    """The Node class ops should instantiate: traced while anomaly mode or check_graph watches,
    hooked while saved-tensor hooks are active on some thread."""
    if _ACTIVE[0]:
        return _HookedTracedNode if watching else _HookedNode
    return _TracedNode if watching else Node
