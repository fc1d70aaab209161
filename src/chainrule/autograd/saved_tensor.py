"""``torch.autograd.SavedTensor``: one tensor a graph node saved for backward, as
``grad_fn._raw_saved_self`` / ``_raw_saved_other`` / ``_raw_saved_result`` return it, with
``register_hooks(pack, unpack)`` for that tensor alone (``saved_tensors_hooks`` does it for every
tensor saved inside a context). ``grad_fn._saved_self`` (and ``_other``, ``_result``) give the
tensor itself, unpacked.

The names follow torch's for the common ops: ``self`` is a node's first input, ``other`` its
second, ``result`` its output; each exists only when the op's derivative reads it (``exp`` saves
its result, ``sin`` its input, ``add`` nothing), else the attribute is missing, as in torch.

``register_hooks`` packs at once and turns the node into the hooked node class that
``saved_tensors_hooks`` uses (a class swap, as anomaly mode does), so the engine calls
``unpack`` when backward needs the value and uses what it returns (unchecked, as in torch).
"""

from __future__ import annotations

from collections.abc import Callable

from .._tensor import wrap
from . import graph as _graph
from .anomaly import _TracedNode
from .hooked_nodes import _INPUTS_SLOT, _OUT_SLOT, _HookedNode, _HookedTracedNode
from .saved_hooks import _pack, _Packed, _stack

__all__ = ["SavedTensor"]

_POSITIONS = {"self": 0, "other": 1}
_HOOKED = {_graph.Node: _HookedNode, _TracedNode: _HookedTracedNode}
_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class SavedTensor:
    """A tensor that a node saved for backward (what ``grad_fn._raw_saved_<name>`` returns)."""

    __slots__ = ("_node", "_name")

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError(
            "Trying to create a SavedTensor object from Python is forbidden; get one from a "
            "grad_fn, e.g. y.grad_fn._raw_saved_self"
        )

    @classmethod
    def _of(cls, node, name: str) -> SavedTensor:
        saved = object.__new__(cls)
        saved._node = node
        saved._name = name  # "self", "other" or "result"
        return saved

    def _freed(self) -> bool:
        return _INPUTS_SLOT.__get__(self._node) is None  # (backward frees inputs and out together)

    def _stored(self):
        """What the node holds now (a tensor, an array for the result, or a ``_Packed``)."""
        node = self._node
        if self._name == "result":
            return _OUT_SLOT.__get__(node)
        inputs = _INPUTS_SLOT.__get__(node)
        return None if inputs is None else inputs[_POSITIONS[self._name]]

    def register_hooks(self, pack_hook: Callable, unpack_hook: Callable) -> None:
        """Pack this saved tensor now with ``pack_hook(tensor)``; backward then calls
        ``unpack_hook(packed)`` for the value it reads (which must be a Tensor).

        Raises
        ------
        TypeError if either hook is not callable; RuntimeError if the node was freed by a
        backward, or the tensor already has hooks (its own, or a ``saved_tensors_hooks``').
        """
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError(
                "register_hooks(): incompatible function arguments: pack_hook and unpack_hook must "
                f"both be callables, got {type(pack_hook).__name__} and {type(unpack_hook).__name__}"
            )
        stored = self._stored()
        if self._freed():
            freed_hint = _FREED.split(". ", 1)[1]
            raise RuntimeError(
                f"Calling register_hooks on a saved tensor after it has been freed. {freed_hint}"
            )
        if type(stored) is _Packed:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. Hint: only "
                "one pair of hooks is allowed at a time (its own, or a saved_tensors_hooks context's)."
            )
        node = self._node
        kind = type(node).kind  # Node, or a debugging mode's node class (named ones subclass these)
        hooked = _HOOKED.get(kind)
        if hooked is None and kind not in _HOOKED.values():
            raise RuntimeError(f"SavedTensor.register_hooks: not supported for {node.name()} nodes")
        _stack()  # (this thread's hook stack, which packing uses)
        hooks = (pack_hook, unpack_hook)
        if self._name == "result":
            out = wrap(stored)  # the output as a tensor attached to its node, as torch packs it
            out._rg, out._grad_fn = True, node
            _OUT_SLOT.__set__(node, _pack(hooks, out))
        else:
            inputs = list(_INPUTS_SLOT.__get__(node))
            inputs[_POSITIONS[self._name]] = _pack(hooks, stored)
            _INPUTS_SLOT.__set__(node, tuple(inputs))
        if hooked is not None:  # the engine now asks the node to unpack what it saved
            node.__class__ = hooked if type(node) is kind else _graph.of_kind(type(node), hooked)

    def __repr__(self) -> str:
        return f"<SavedTensor {self._name} of {self._node.name()}>"


def saved_attribute(node, name: str):
    """``node._saved_<x>`` (the tensor, unpacked) or ``node._raw_saved_<x>`` (a SavedTensor),
    for Node.__getattr__; AttributeError where the node saved no such tensor."""
    raw = name.startswith("_raw_saved_")
    key = name[len("_raw_saved_") :] if raw else name[len("_saved_") :]
    op = node.op
    saved = (key == "result" and op.saves_out) or (
        key in _POSITIONS and op.saves_inputs and _POSITIONS[key] < len(node.edges)
    )
    if not saved:
        raise AttributeError(f"'{node.name()}' object has no attribute '{name}'")
    saved_tensor = SavedTensor._of(node, key)
    if raw:
        return saved_tensor
    if saved_tensor._freed():
        raise RuntimeError(_FREED)
    stored = saved_tensor._stored()
    if stored is None:  # (an input the node did not keep, e.g. a constant)
        raise AttributeError(f"'{node.name()}' object has no attribute '{name}'")
    if type(stored) is _Packed:
        stored = stored.get()
        if key != "result":
            return stored
        stored = stored._data
    if key == "result":  # the output, attached to its node
        out = wrap(stored)
        out._rg, out._grad_fn = True, node
        return out
    return stored


_graph.SAVED_ATTRIBUTE[0] = saved_attribute
