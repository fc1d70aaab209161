"""The pytrees of vmap's arguments and outputs: tuples, lists, dicts and namedtuples of leaves,
flattened and rebuilt as ``torch.utils._pytree`` does (None is a leaf, dicts keep their order)."""

from __future__ import annotations

from typing import Any

__all__ = ["Spec", "flatten", "unflatten", "broadcast_to_and_flatten"]


class Spec:
    """The structure of a pytree: a leaf (``kind`` None) or a container with its children's specs."""

    __slots__ = ("kind", "context", "children", "leaves")

    def __init__(self, kind=None, context=None, children: tuple = ()) -> None:
        self.kind = kind
        self.context = context
        self.children = children
        self.leaves = 1 if kind is None else sum(c.leaves for c in children)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Spec) and self.kind is other.kind and self.context == other.context
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, len(self.children)))

    def __repr__(self) -> str:  # torch's form: TreeSpec(tuple, None, [*, *])
        if self.kind is None:
            return "*"
        ctx = None if self.context is None else list(self.context)
        return f"TreeSpec({self.kind.__name__}, {ctx}, [{', '.join(map(repr, self.children))}])"


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _node(tree) -> tuple | None:
    """(kind, context, children) of a container, None for a leaf."""
    t = type(tree)
    if t is tuple or t is list:
        return t, None, list(tree)
    if t is dict:
        return dict, tuple(tree), list(tree.values())
    if _is_namedtuple(tree):
        return t, tuple(t._fields), list(tree)
    return None


def flatten(tree) -> tuple[list, Spec]:
    node = _node(tree)
    if node is None:
        return [tree], Spec()
    kind, context, children = node
    leaves: list = []
    specs = []
    for c in children:
        sub, spec = flatten(c)
        leaves.extend(sub)
        specs.append(spec)
    return leaves, Spec(kind, context, tuple(specs))


def unflatten(leaves: list, spec: Spec) -> Any:
    it = iter(leaves)
    return _build(it, spec)


def _build(it, spec: Spec):
    if spec.kind is None:
        return next(it)
    children = [_build(it, c) for c in spec.children]
    if spec.kind is dict:
        return dict(zip(spec.context, children))
    if spec.kind is tuple or spec.kind is list:
        return spec.kind(children)
    return spec.kind(*children)  # a namedtuple


def broadcast_to_and_flatten(prefix, spec: Spec) -> list | None:
    """``prefix`` (a pytree whose leaves stand for whole subtrees of ``spec``) as one value per leaf
    of ``spec``; None when the structures do not match."""
    node = _node(prefix)
    if node is None:
        return [prefix] * spec.leaves
    kind, context, children = node
    if spec.kind is not kind or len(children) != len(spec.children):
        return None
    if kind is dict and set(context) != set(spec.context):
        return None
    if kind is dict:
        children = [prefix[k] for k in spec.context]
    out: list = []
    for c, s in zip(children, spec.children):
        sub = broadcast_to_and_flatten(c, s)
        if sub is None:
            return None
        out.extend(sub)
    return out
