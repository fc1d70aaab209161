"""vmap's argument errors (torch's types and messages), data-dependent control flow, randomness
('error', 'different', 'same', nested), and the looping fallback's one-time warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.func._batched import BatchedArray

X = np.arange(6.0).reshape(3, 2)


def _raises(lib, call):
    with pytest.raises(Exception) as info:
        call(lib, lib.tensor(X))
    return info


ERRORS = [
    ("in_dims a list", lambda m, x: m.func.vmap(lambda a, b: a, in_dims=[0, 0])(x, x)),
    ("in_dims None", lambda m, x: m.func.vmap(lambda a: a, in_dims=None)(x)),
    ("no inputs", lambda m, x: m.func.vmap(lambda: x)()),
    ("in_dim out of range", lambda m, x: m.func.vmap(lambda a: a, in_dims=2)(x)),
    ("in_dim for a 0-d tensor", lambda m, x: m.func.vmap(lambda a: a)(x.sum())),
    ("in_dim not an int", lambda m, x: m.func.vmap(lambda a: a, in_dims=(1.0,))(x)),
    ("in_dim for a non-tensor", lambda m, x: m.func.vmap(lambda a, n: a, in_dims=(0, 0))(x, 3)),
    ("inconsistent sizes", lambda m, x: m.func.vmap(lambda a, b: a)(x, m.ones(4))),
    ("nothing mapped", lambda m, x: m.func.vmap(lambda a: a, in_dims=(None,))(x)),
    ("non-tensor output", lambda m, x: m.func.vmap(lambda a: 1.0)(x)),
    ("None output", lambda m, x: m.func.vmap(lambda a: (a, None))(x)),
    ("out_dims not ints", lambda m, x: m.func.vmap(lambda a: a, out_dims="a")(x)),
    ("out_dims longer than outputs", lambda m, x: m.func.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(x)),
    ("out_dim out of range", lambda m, x: m.func.vmap(lambda a: a, out_dims=2)(x)),
    ("batched output with out_dim None", lambda m, x: m.func.vmap(lambda a: a, out_dims=None)(x)),
    ("bad randomness", lambda m, x: m.func.vmap(lambda a: a, randomness="foo")(x)),
    ("chunk_size 0", lambda m, x: m.func.vmap(lambda a: a, chunk_size=0)(x)),
    ("random op in 'error' mode", lambda m, x: m.func.vmap(lambda a: m.rand(2))(x)),
    ("dropout in 'error' mode", lambda m, x: m.func.vmap(lambda a: m.nn.functional.dropout(a, 0.5))(x)),
    ("in-place write of batched into unbatched", lambda m, x: m.func.vmap(lambda a: m.zeros(2).add_(a))(x)),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call) -> None:
    ours, theirs = _raises(chainrule, call), _raises(torch, call)
    assert ours.type is theirs.type, f"{ours.type.__name__} != torch's {theirs.type.__name__}"
    if name not in ("in-place write of batched into unbatched", "out_dims longer than outputs"):
        # the same words (TreeSpec's layout and the in-place op's name differ)
        assert str(ours.value) == str(theirs.value)


def test_structure_error_names_both_structures() -> None:
    with pytest.raises(
        ValueError,
        match=r"in_dims has structure TreeSpec\(tuple, None, \[\*, \*, \*\]\) "
        r"but inputs has structure TreeSpec\(tuple, None, \[\*, \*\]\)",
    ):
        chainrule.func.vmap(lambda a, b: a, in_dims=(0, 0, 0))(chainrule.ones(2), chainrule.ones(2))


@pytest.mark.parametrize(
    "body", [lambda x: x.sum().item(), lambda x: x if x.sum() > 0 else -x, lambda x: float(x.sum())]
)
def test_data_dependent_python_raises(body) -> None:
    x = chainrule.tensor(X)
    with pytest.raises(RuntimeError, match="vmap: It looks like you're"):
        chainrule.func.vmap(body)(x)
    with pytest.raises(RuntimeError, match="vmap: It looks like you're"):
        torch.func.vmap(body)(torch.tensor(X))


def test_tolist_raises() -> None:
    with pytest.raises(RuntimeError, match="data-dependent"):
        chainrule.func.vmap(lambda x: x.tolist())(chainrule.tensor(X))


def test_data_dependent_shapes_raise() -> None:
    with pytest.raises(RuntimeError, match="data-dependent"):
        chainrule.func.vmap(lambda a: a[a > 2])(chainrule.tensor(X))
    with pytest.raises(RuntimeError, match="data-dependent"):
        chainrule.func.vmap(lambda a: a.nonzero())(chainrule.tensor(X))


def test_conversion_to_ndarray_raises_clearly() -> None:
    b = BatchedArray(np.zeros((3, 2)), 1)
    with pytest.raises(RuntimeError, match="vmap: this code path converts a batched array"):
        np.asarray(b)
    with pytest.raises(RuntimeError, match="converts a batched array"):
        np.zeros(2)[...] = b


# ---- randomness ---------------------------------------------------------------------------------------
def test_randomness_different_draws_per_sample() -> None:
    chainrule.manual_seed(0)
    out = chainrule.func.vmap(lambda a: chainrule.rand(5) + a.sum() * 0, randomness="different")(
        chainrule.tensor(X)
    )
    r = out.numpy()
    assert r.shape == (3, 5) and not np.allclose(r[0], r[1]) and ((r >= 0) & (r < 1)).all()
    # the stream: one draw of (3, 5), as rand(3, 5) outside vmap would make
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(r, chainrule.rand(3, 5).numpy())


def test_randomness_same_shares_one_draw() -> None:
    chainrule.manual_seed(1)
    r = chainrule.func.vmap(lambda a: chainrule.randn(4) * 1 + a[0] * 0, randomness="same")(
        chainrule.tensor(X)
    ).numpy()
    assert r.shape == (3, 4)
    np.testing.assert_array_equal(r[0], r[1])
    np.testing.assert_array_equal(r[1], r[2])


@pytest.mark.parametrize("randomness", ["same", "different"])
def test_dropout_randomness(randomness) -> None:
    x = np.ones((4, 50))
    out = chainrule.func.vmap(lambda a: chainrule.nn.functional.dropout(a, 0.5), randomness=randomness)(
        chainrule.tensor(x)
    ).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert np.array_equal(out[0], out[1]) == (randomness == "same")
    theirs = torch.func.vmap(lambda a: torch.nn.functional.dropout(a, 0.5), randomness=randomness)(
        torch.tensor(x)
    ).numpy()
    assert np.array_equal(theirs[0], theirs[1]) == (randomness == "same")


def test_nested_randomness() -> None:
    ones = chainrule.ones(3, 4)
    inner_diff = chainrule.func.vmap(
        chainrule.func.vmap(lambda a: chainrule.rand(2), randomness="different"), randomness="same"
    )(ones).numpy()
    assert inner_diff.shape == (3, 4, 2)
    assert np.array_equal(inner_diff[0], inner_diff[1]) and not np.array_equal(
        inner_diff[0, 0], inner_diff[0, 1]
    )
    outer_diff = chainrule.func.vmap(
        chainrule.func.vmap(lambda a: chainrule.rand(2), randomness="same"), randomness="different"
    )(ones).numpy()
    assert not np.array_equal(outer_diff[0], outer_diff[1])
    assert np.array_equal(outer_diff[0, 0], outer_diff[0, 1])
    with pytest.raises(RuntimeError, match="randomness error mode"):
        chainrule.func.vmap(chainrule.func.vmap(lambda a: chainrule.rand(2), randomness="different"))(ones)


def test_randint_and_randperm_different() -> None:
    perm = chainrule.func.vmap(lambda a: chainrule.randperm(6), randomness="different")
    r = perm(chainrule.ones(4)).numpy()
    assert r.shape == (4, 6)
    for row in r:
        assert sorted(row) == list(range(6))
    k = chainrule.func.vmap(lambda a: chainrule.randint(0, 3, (5,)), randomness="different")(
        chainrule.ones(4)
    ).numpy()
    assert k.shape == (4, 5) and k.min() >= 0 and k.max() < 3


def test_chunked_same_randomness_matches_unchunked() -> None:
    x = chainrule.ones(6)
    chainrule.manual_seed(3)
    whole = chainrule.func.vmap(lambda a: chainrule.rand(3) + a, randomness="same")(x).numpy()
    chainrule.manual_seed(3)
    chunked = chainrule.func.vmap(lambda a: chainrule.rand(3) + a, randomness="same", chunk_size=4)(x).numpy()
    np.testing.assert_array_equal(whole, chunked)


# ---- the fallback ---------------------------------------------------------------------------------------
def test_fallback_loops_and_warns_once() -> None:
    from chainrule.func import _batched

    a = BatchedArray(np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), 7)
    _batched._WARNED.discard(np.partition)
    with pytest.warns(UserWarning, match="performance drop.*numpy.partition"):
        r = np.partition(a, 1)
    np.testing.assert_array_equal(r._p, np.partition(a._p, 1, axis=-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.partition(a, 1)  # the second call does not warn


def test_fallback_with_data_dependent_shapes_raises() -> None:
    a = BatchedArray(np.array([[1.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="different shapes"):
            np.unique(a)
