"""Pytrees: nested tuples, lists, namedtuples and dicts, flattened into their leaves and rebuilt.

The function transforms take and return such structures (``grad`` of ``f({"w": w, "b": b})`` is a
dict; ``vmap``'s ``in_dims`` mirror its inputs). As in ``torch.utils._pytree``: the containers are
tuples, lists, namedtuples, dicts, ``OrderedDict`` and ``defaultdict`` (keys in insertion order);
everything else, ``None`` and other dict subclasses included, is a leaf.

Two printed forms, as torch's messages use them: ``repr(spec)`` is torch's ``TreeSpec(tuple, None,
[*, *])`` (on one line; vmap's structure errors), ``treespec_pprint(spec)`` the short
``{'a': (*, *)}`` (vjp's and jvp's).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

__all__ = [
    "TreeSpec",
    "LEAF",
    "tree_flatten",
    "tree_unflatten",
    "tree_map",
    "tree_leaves",
    "treespec_pprint",
    "broadcast_to_and_flatten",
]


class TreeSpec:
    """The shape of a pytree without its leaves: a container type (None for a leaf), its context
    (a dict's keys; ``(default_factory, keys)`` for a defaultdict) and the specs of its children.
    Specs compare equal when the structures do."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind: type | None = None, context: Any = None, children: tuple = ()) -> None:
        self.kind = kind
        self.context = context
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def is_leaf(self) -> bool:
        return self.kind is None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and self.kind is other.kind
            and self.context == other.context
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, len(self.children)))

    def __repr__(self) -> str:
        """torch's form, on one line: ``TreeSpec(dict, ['a'], [*, TreeSpec(tuple, None, [*])])``."""
        if self.kind is None:
            return "*"
        kind = self.kind
        if _is_namedtuple_type(kind):
            name, ctx = "namedtuple", repr(kind)
        elif kind is defaultdict:
            name, ctx = "defaultdict", repr([self.context[0], list(self.context[1])])
        else:
            name, ctx = kind.__name__, repr(None if self.context is None else list(self.context))
        return f"TreeSpec({name}, {ctx}, [{', '.join(map(repr, self.children))}])"


LEAF = TreeSpec()


def treespec_pprint(spec: TreeSpec) -> str:
    """The structure with ``*`` for each leaf, as torch's ``treespec_pprint``:
    ``{'a': *, 'b': (*, *)}``, ``P(x=*, y=[*])``."""
    kind = spec.kind
    if kind is None:
        return "*"
    inner = [treespec_pprint(c) for c in spec.children]
    if kind is tuple:
        return "(" + ", ".join(inner) + (",)" if len(inner) == 1 else ")")
    if kind is list:
        return "[" + ", ".join(inner) + "]"
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(spec.context, inner)) + "}"
    if kind is OrderedDict:
        return "OrderedDict([" + ", ".join(f"({k!r}, {v})" for k, v in zip(spec.context, inner)) + "])"
    if kind is defaultdict:
        factory, keys = spec.context
        return f"defaultdict({factory!r}, {{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, inner)) + "})"
    return f"{kind.__name__}(" + ", ".join(f"{f}={v}" for f, v in zip(kind._fields, inner)) + ")"


def _is_namedtuple_type(t: type) -> bool:
    return issubclass(t, tuple) and hasattr(t, "_fields")


def _node(tree: Any) -> tuple | None:
    """``(kind, context, children)`` of a container; None for a leaf."""
    t = type(tree)
    if t is tuple or t is list:
        return t, None, tree
    if t is dict or t is OrderedDict:
        keys = tuple(tree)
        return t, keys, [tree[k] for k in keys]
    if t is defaultdict:
        keys = tuple(tree)
        return t, (tree.default_factory, keys), [tree[k] for k in keys]
    if _is_namedtuple_type(t):
        return t, None, tree
    return None


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` in order (depth first) and the spec that rebuilds it."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeSpec:
    node = _node(tree)
    if node is None:
        leaves.append(tree)
        return LEAF
    kind, context, children = node
    return TreeSpec(kind, context, tuple(_flatten(c, leaves) for c in children))


def tree_unflatten(leaves: list | tuple, spec: TreeSpec) -> Any:
    """Rebuild the structure ``spec`` with ``leaves`` in place of its leaves."""
    if len(leaves) != spec.num_leaves:
        raise ValueError(
            f"tree_unflatten: the spec {spec!r} has {spec.num_leaves} leaves, got {len(leaves)} values"
        )
    return _unflatten(iter(leaves), spec)


def _unflatten(it, spec: TreeSpec) -> Any:
    kind = spec.kind
    if kind is None:
        return next(it)
    children = [_unflatten(it, c) for c in spec.children]
    if kind is list:
        return children
    if kind is tuple:
        return tuple(children)
    if kind is dict or kind is OrderedDict:
        return kind(zip(spec.context, children))
    if kind is defaultdict:
        factory, keys = spec.context
        return defaultdict(factory, zip(keys, children))
    return kind(*children)  # a namedtuple


def tree_map(fn: Callable, tree: Any) -> Any:
    """``tree`` with every leaf replaced by ``fn(leaf)``."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def tree_leaves(tree: Any) -> list:
    return tree_flatten(tree)[0]


def broadcast_to_and_flatten(prefix: Any, spec: TreeSpec) -> list | None:
    """``prefix`` (a pytree whose leaves stand for whole subtrees of ``spec``, as vmap's
    ``in_dims``) as one value per leaf of ``spec``; None when the structures do not match. A
    dict matches a dict with the same keys in any order (torch's rule)."""
    node = _node(prefix)
    if node is None:
        return [prefix] * spec.num_leaves
    kind, context, children = node
    if spec.kind is not kind or len(children) != len(spec.children):
        return None
    if spec.kind is dict or spec.kind is OrderedDict or spec.kind is defaultdict:
        keys = spec.context[1] if spec.kind is defaultdict else spec.context
        if set(keys) != set(prefix):
            return None
        children = [prefix[k] for k in keys]
    out: list = []
    for c, s in zip(children, spec.children):
        sub = broadcast_to_and_flatten(c, s)
        if sub is None:
            return None
        out.extend(sub)
    return out
