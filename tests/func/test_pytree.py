"""chainrule.func._pytree (the pytrees of every transform and of vmap) against torch.utils._pytree:
the same leaves in the same order, specs printed alike (``repr`` and ``treespec_pprint``), the same
containers rebuilt, the same prefix broadcasting; and the transforms treat ``None`` and dict
subclasses as torch's do."""

from __future__ import annotations

import re
from collections import OrderedDict, defaultdict, namedtuple

import pytest
import torch
import torch.utils._pytree as tp

import chainrule
from chainrule.func import _pytree as cp

Point = namedtuple("Point", ["x", "y"])


class MyDict(dict):
    """A dict subclass that no pytree registry knows: a leaf for both."""


TREES = [
    1,
    None,
    (1,),
    [1, None, 2],
    {"b": 1, "a": (2, [3, 4])},
    Point(1, (2, 3)),
    OrderedDict([("z", 1), ("y", [2])]),
    defaultdict(list, {"k": 1, "j": (2,)}),
    MyDict(a=1),
    ((), [], {}),
    [Point((1, None), {"q": [OrderedDict(a=2)]})],
]


def _one_line(s: str) -> str:
    """torch breaks a nested TreeSpec's repr over lines; chainrule prints it on one."""
    return re.sub(r",\n\s*", ", ", s)


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_flatten_and_unflatten_as_torch(tree) -> None:
    leaves, spec = cp.tree_flatten(tree)
    their_leaves, their_spec = tp.tree_flatten(tree)
    assert leaves == their_leaves
    assert spec.num_leaves == their_spec.num_leaves
    assert repr(spec) == _one_line(repr(their_spec))
    assert cp.treespec_pprint(spec) == tp.treespec_pprint(their_spec)
    rebuilt = cp.tree_unflatten(leaves, spec)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    if isinstance(tree, defaultdict):
        assert rebuilt.default_factory is tree.default_factory
    assert cp.tree_flatten(rebuilt)[1] == spec
    assert cp.tree_map(lambda v: [v], tree) == tp.tree_map(lambda v: [v], tree)


def test_specs_compare_by_structure() -> None:
    assert cp.tree_flatten((1, [2]))[1] == cp.tree_flatten((5, [6]))[1]
    assert cp.tree_flatten((1, [2]))[1] != cp.tree_flatten((1, (2,)))[1]
    assert cp.tree_flatten({"a": 1})[1] != cp.tree_flatten(OrderedDict(a=1))[1]
    assert cp.tree_flatten(Point(1, 2))[1] != cp.tree_flatten((1, 2))[1]
    with pytest.raises(ValueError, match="has 2 leaves, got 3 values"):
        cp.tree_unflatten([1, 2, 3], cp.tree_flatten((1, 2))[1])


PREFIXES = [
    (0, (1, [2, 3])),
    ((0, None), (1, [2, 3])),
    ((0, [None, 1]), (1, [2, 3])),
    ((0, 1, 2), (1, [2, 3])),  # too many
    ({"a": 0}, {"a": 1, "b": 2}),  # a key missing
    ([0, 1], (1, 2)),  # list for tuple
    (Point(0, None), Point(1, (2, 3))),
]


@pytest.mark.parametrize("prefix,tree", PREFIXES, ids=lambda v: repr(v))
def test_broadcast_to_and_flatten_as_torch(prefix, tree) -> None:
    ours = cp.broadcast_to_and_flatten(prefix, cp.tree_flatten(tree)[1])
    theirs = tp._broadcast_to_and_flatten(prefix, tp.tree_flatten(tree)[1])
    assert ours == theirs


def test_dict_prefix_matches_by_key() -> None:
    """A dict prefix with the keys in another order goes by key. (torch 2.13 pairs them by
    position: its vmap with ``in_dims=({'b': None, 'a': 0},)`` over ``{'a': x, 'b': y}`` maps y)"""
    spec = cp.tree_flatten({"a": 1, "b": (2, 3)})[1]
    assert cp.broadcast_to_and_flatten({"b": 0, "a": None}, spec) == [None, 0, 0]
    x, y = chainrule.ones(2, 3), chainrule.ones(5)
    out = chainrule.func.vmap(lambda d: d["a"] + d["b"].sum(), in_dims=({"b": None, "a": 0},))(
        {"a": x, "b": y}
    )
    assert out.shape == (2, 3)


CALLS = {  # None is a leaf, so the transforms reject it where torch's do
    "grad of a dict with None": lambda lib, x: lib.func.grad(lambda d: d["w"].sum())({"w": x, "b": None}),
    "aux with None": lambda lib, x: lib.func.grad(lambda x: (x.sum(), (x, None)), has_aux=True)(x),
    "vjp of an output with None": lambda lib, x: lib.func.vjp(lambda x: (x * 2, None), x),
    "jvp of primals with None": lambda lib, x: lib.func.jvp(lambda x, y: x * 2, (x, None), (x, None)),
    "grad of a dict subclass": lambda lib, x: lib.func.grad(lambda d: d["w"].sum())(MyDict(w=x)),
}


@pytest.mark.parametrize("name", CALLS)
def test_transforms_reject_non_tensor_leaves_as_torch(name) -> None:
    errors = []
    for lib in (torch, chainrule):
        with pytest.raises((ValueError, RuntimeError)) as info:
            CALLS[name](lib, lib.ones(3, dtype=lib.float64))
        errors.append((info.type, str(info.value)))
    assert errors[0] == errors[1]


def test_vmap_over_none_ordereddict_and_defaultdict() -> None:
    for lib in (torch, chainrule):
        x = lib.arange(6.0).reshape(2, 3)
        out = lib.func.vmap(lambda x, n: (x * 2, n), in_dims=(0, None), out_dims=(0, None))(x, None)
        assert out[1] is None
        out = lib.func.vmap(lambda d: d)(OrderedDict(a=x))
        assert type(out) is OrderedDict and out["a"].shape == (2, 3)
        out = lib.func.vmap(lambda d: d["a"] + 1, in_dims=(defaultdict(int, a=1),))(defaultdict(int, a=x.mT))
        assert out.tolist() == (x + 1).tolist()
