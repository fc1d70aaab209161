"""The Node classes ops instantiate while saved-tensor hooks are active (see ``saved_hooks``).

Their ``inputs`` and ``out`` are properties whose setters pack what the op saves; the engine asks
``node.unpack_saved()`` for the unpacked values. ``anomaly.install`` picks the class through
``node_class``, bound there when this module loads, so anomaly mode and the hooks combine.
"""

from __future__ import annotations

from .._tensor import wrap
from . import anomaly as _anomaly
from .anomaly import _TracedNode
from .graph import Node
from .saved_hooks import _ACTIVE, _pack, _Packed, current_hooks

__all__ = ["node_class"]

# ---- the hooked nodes --------------------------------------------------------------------------
_INPUTS_SLOT = Node.inputs  # the base class's slots: the properties below store through them
_OUT_SLOT = Node.out


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


class _HookedNode(_HookedMixin, Node):
    __slots__ = ()


class _HookedTracedNode(_HookedMixin, _TracedNode):
    __slots__ = ()


_HookedNode.kind = _HookedNode  # the kinds of node class (see graph.node_class)
_HookedTracedNode.kind = _HookedTracedNode


def node_class(watching: bool) -> type:
    """The Node class ops should instantiate: traced while anomaly mode or check_graph watches,
    hooked while saved-tensor hooks are active on some thread."""
    if _ACTIVE[0]:
        return _HookedTracedNode if watching else _HookedNode
    return _TracedNode if watching else Node


_anomaly.NODE_CLASS[0] = node_class  # anomaly.install picks the node class through this
