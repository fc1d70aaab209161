"""Pytrees: nested tuples, lists, namedtuples and dicts, flattened into their leaves and rebuilt.

The function transforms take and return such structures (``grad`` of ``f({"w": w, "b": b})`` is a
dict). As in ``torch.utils._pytree``: containers are tuples, lists, namedtuples and dicts (keys in
insertion order); ``None`` is an empty container (no leaf); everything else is a leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TreeSpec", "LEAF", "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves"]


class TreeSpec:
    """The shape of a pytree without its leaves: a container kind, its context (dict keys or the
    namedtuple class) and the specs of its children. Specs compare equal when the structures do."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind: Any, context: Any = None, children: tuple = ()) -> None:
        self.kind = kind  # None: a leaf; "none": the value None; else tuple, list, dict or a namedtuple
        self.context = context
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def is_leaf(self) -> bool:
        return self.kind is None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeSpec) and self.kind == other.kind
                and self.context == other.context and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.children))

    def __repr__(self) -> str:
        """The structure with ``*`` for each leaf, as torch prints it in its messages:
        ``{'a': *, 'b': (*, *)}``."""
        if self.kind is None:
            return "*"
        if self.kind == "none":
            return "None"
        inner = [repr(c) for c in self.children]
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.context, inner)) + "}"
        if self.kind is list:
            return "[" + ", ".join(inner) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(inner) + (",)" if len(inner) == 1 else ")")
        return f"{self.kind.__name__}(" + ", ".join(inner) + ")"


LEAF = TreeSpec(None)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` in order (depth first) and the spec that rebuilds it."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeSpec:
    if tree is None:
        return TreeSpec("none")
    t = type(tree)
    if t is tuple or t is list:
        return TreeSpec(t, None, tuple(_flatten(c, leaves) for c in tree))
    if isinstance(tree, dict):
        keys = list(tree)
        return TreeSpec(dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if _is_namedtuple(tree):
        return TreeSpec(t, None, tuple(_flatten(c, leaves) for c in tree))
    leaves.append(tree)
    return LEAF


def tree_unflatten(leaves: list | tuple, spec: TreeSpec) -> Any:
    """Rebuild the structure ``spec`` with ``leaves`` in place of its leaves."""
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"tree_unflatten: the spec {spec!r} has {spec.num_leaves} leaves, "
                         f"got {len(leaves)} values")
    it = iter(leaves)
    return _unflatten(it, spec)


def _unflatten(it, spec: TreeSpec) -> Any:
    kind = spec.kind
    if kind is None:
        return next(it)
    if kind == "none":
        return None
    children = [_unflatten(it, c) for c in spec.children]
    if kind is dict:
        return dict(zip(spec.context, children))
    if kind is list:
        return children
    if kind is tuple:
        return tuple(children)
    return kind(*children)  # a namedtuple


def tree_map(fn: Callable, tree: Any) -> Any:
    """``tree`` with every leaf replaced by ``fn(leaf)``."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def tree_leaves(tree: Any) -> list:
    return tree_flatten(tree)[0]
