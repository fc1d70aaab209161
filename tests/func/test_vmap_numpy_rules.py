"""The NumPy batching rules themselves: a NumPy call on BatchedArrays equals the same call on each
sample, stacked; at one level and with two nested levels (a batch of batches), with batched and
unbatched operands mixed. These are the rules chainrule's ops reach through NumPy's dispatch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from chainrule.func._batched import BatchedArray, add_batch_dim, remove_batch_dim

RNG = np.random.default_rng(2)
B, C = 3, 2  # batch sizes of the outer and the inner level


def _batch(a: np.ndarray) -> BatchedArray:
    return BatchedArray(a, 1)


def _nest(a: np.ndarray) -> BatchedArray:
    """(C, B, ...) physical -> level 2 over level 1: logical per-(c, b) samples a[c, b]."""
    return BatchedArray(BatchedArray(a, 1), 2)


def _phys(x, nested: bool, lead: tuple):
    """The physical batch of a result; an unbatched result is the same for every sample."""
    if not isinstance(x, BatchedArray):
        return np.broadcast_to(x, lead + np.shape(x))
    return x._p._p if nested else x._p


def _compare(got, want) -> None:
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            _compare(g, w)
        return
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# (name, fn, shapes of the samples, which arguments are batched)
CASES = [
    ("add broadcast", lambda a, b: a + b, [(4, 3), (3,)], (True, False)),
    ("multiply ranks", lambda a, b: np.multiply(a, b), [(3,), (2, 3)], (True, True)),
    ("where", lambda c, a, b: np.where(c > 0, a, b), [(4,), (4,), ()], (True, False, True)),
    ("maximum.reduce", lambda a: np.maximum.reduce(a, axis=-1), [(3, 4)], (True,)),
    ("add.accumulate", lambda a: np.add.accumulate(a, axis=0), [(3, 4)], (True,)),
    ("multiply.outer", lambda a, b: np.multiply.outer(a, b), [(3,), (2,)], (True, True)),
    ("sum axis tuple", lambda a: np.sum(a, axis=(0, -1), keepdims=True), [(2, 3, 4)], (True,)),
    ("mean None", lambda a: np.mean(a), [(2, 3)], (True,)),
    ("method any keepdims", lambda a: (a > 0).any(1, keepdims=True), [(2, 3)], (True,)),
    ("method all keepdims", lambda a: (a > 0).all(axis=0, keepdims=True), [(2, 3)], (True,)),
    ("argmax None keepdims", lambda a: np.argmax(a, keepdims=True), [(2, 3)], (True,)),
    ("var ddof", lambda a: np.var(a, axis=1, ddof=1), [(2, 3)], (True,)),
    ("cumsum None", lambda a: np.cumsum(a), [(2, 3)], (True,)),
    ("sort", lambda a: np.sort(a, axis=0), [(3, 2)], (True,)),
    ("diff", lambda a: np.diff(a, axis=-1), [(2, 4)], (True,)),
    ("matmul vec vec", lambda a, b: a @ b, [(4,), (4,)], (True, True)),
    ("matmul mat vec unb", lambda a, b: a @ b, [(2, 4), (4,)], (True, False)),
    ("matmul unb stack @ vec", lambda a, b: np.matmul(a, b), [(5, 2, 4), (4,)], (False, True)),
    ("matmul outer fast path", lambda a, b: a @ b, [(4, 1), (1, 3)], (True, True)),
    ("dot 2d 1d", lambda a, b: np.dot(a, b), [(2, 4), (4,)], (True, True)),
    ("dot nd", lambda a, b: np.dot(a, b), [(2, 3, 4), (5, 4, 2)], (True, False)),
    ("tensordot", lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), [(2, 3, 4), (4, 2)], (True, True)),
    ("inner", lambda a, b: np.inner(a, b), [(2, 3), (4, 3)], (True, False)),
    ("einsum explicit", lambda a, b: np.einsum("ij,jk->ki", a, b), [(2, 3), (3, 4)], (True, True)),
    ("einsum ellipsis", lambda a, b: np.einsum("...ij,...j", a, b), [(2, 3), (3,)], (True, False)),
    ("einsum trace", lambda a: np.einsum("ii", a), [(3, 3)], (True,)),
    ("reshape", lambda a: np.reshape(a, (-1, 2)), [(2, 3, 2)], (True,)),
    ("transpose None", lambda a: np.transpose(a), [(2, 3, 4)], (True,)),
    ("moveaxis", lambda a: np.moveaxis(a, [0, -1], [-1, 0]), [(2, 3, 4)], (True,)),
    ("expand_dims", lambda a: np.expand_dims(a, (0, -1)), [(2, 3)], (True,)),
    ("squeeze None", lambda a: np.squeeze(a), [(1, 3, 1)], (True,)),
    ("broadcast_to", lambda a: np.broadcast_to(a, (2, 3, 4)), [(3, 1)], (True,)),
    ("broadcast_arrays", lambda a, b: np.broadcast_arrays(a, b), [(3, 1), (4,)], (True, False)),
    ("flip None", lambda a: np.flip(a), [(2, 3)], (True,)),
    ("roll None", lambda a: np.roll(a, 2), [(2, 3)], (True,)),
    ("roll axis", lambda a: np.roll(a, 1, axis=-1), [(2, 3)], (True,)),
    ("repeat", lambda a: np.repeat(a, 2, axis=0), [(2, 3)], (True,)),
    ("tile", lambda a: np.tile(a, (2, 1, 2)), [(2, 3)], (True,)),
    ("tril", lambda a: np.tril(a, 1), [(3, 3)], (True,)),
    ("diagonal", lambda a: np.diagonal(a, 1, -1, -2), [(3, 4)], (True,)),
    ("trace", lambda a: np.trace(a), [(3, 3)], (True,)),
    ("diag of a vector", lambda a: np.diag(a, -1), [(3,)], (True,)),
    ("diag of a matrix", lambda a: np.diag(a), [(3, 3)], (True,)),
    ("outer", lambda a, b: np.outer(a, b), [(2, 2), (3,)], (True, True)),
    ("pad", lambda a: np.pad(a, ((1, 0), (2, 1)), mode="reflect"), [(3, 4)], (True,)),
    ("pad int", lambda a: np.pad(a, 1), [(3, 4)], (True,)),
    ("sliding_window_view", lambda a: np.lib.stride_tricks.sliding_window_view(a, (2, 2)), [(3, 4)], (True,)),
    ("concatenate", lambda a, b: np.concatenate([a, b, a], axis=-1), [(2, 3), (2, 1)], (True, False)),
    ("concatenate None", lambda a, b: np.concatenate([a, b], axis=None), [(2, 3), (2,)], (True, True)),
    ("stack", lambda a, b: np.stack([a, b], axis=-1), [(2, 3), (2, 3)], (False, True)),
    ("vstack/hstack", lambda a, b: (np.vstack([a, b]), np.hstack([a, b])), [(3,), (3,)], (True, False)),
    ("split", lambda a: tuple(np.split(a, [1, 3], axis=1)), [(2, 4)], (True,)),
    ("take", lambda a: np.take(a, [0, 2, 2], axis=-1), [(2, 3)], (True,)),
    ("take batched index", lambda a, i: np.take(a, i), [(2, 3), (4,)], (True, True)),
    ("take_along_axis", lambda a, i: np.take_along_axis(a, i, axis=1), [(2, 3), (2, 2)], (True, True)),
    ("clip arrays", lambda a, lo: np.clip(a, lo, 0.5), [(2, 3), (3,)], (True, True)),
    ("isclose", lambda a, b: np.isclose(a, b, atol=0.5), [(2, 3), (3,)], (True, False)),
    ("round", lambda a: np.round(a, 1), [(2, 3)], (True,)),
    ("zeros_like shape", lambda a: np.zeros_like(a, shape=(4,)) + 1, [(2, 3)], (True,)),
    ("full_like", lambda a: np.full_like(a, 7.0), [(2, 3)], (True,)),
    ("linalg.norm", lambda a: np.linalg.norm(a), [(2, 3)], (True,)),
    ("linalg.norm fro keepdims", lambda a: np.linalg.norm(a, "fro", keepdims=True), [(2, 3)], (True,)),
    ("linalg.norm axis", lambda a: np.linalg.norm(a, 1, axis=-1), [(2, 3)], (True,)),
    ("linalg.inv", lambda a: np.linalg.inv(a + 3 * np.eye(3)), [(3, 3)], (True,)),
    (
        "linalg.solve vector b",
        lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b),
        [(3, 3), (3,)],
        (True, True),
    ),
    (
        "linalg.solve unbatched A",
        lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b),
        [(3, 3), (3, 2)],
        (False, True),
    ),
    ("linalg.slogdet", lambda a: tuple(np.linalg.slogdet(a)), [(3, 3)], (True,)),
    ("linalg.eigh", lambda a: np.linalg.eigh(a + a.T)[0], [(3, 3)], (True,)),
    ("linalg.vector_norm", lambda a: np.linalg.vector_norm(a, ord=3, axis=0), [(2, 3)], (True,)),
    ("unravel_index", lambda i: np.unravel_index(i, (3, 4)), [(5,)], (True,)),
]


def _draw(lead, shape, name, k):
    if k == 1 and name in ("take batched index", "take_along_axis") or name == "unravel_index":
        high = {"take batched index": 6, "take_along_axis": 3, "unravel_index": 12}[name]
        return RNG.integers(0, high, size=lead + shape)
    return RNG.standard_normal(lead + shape)


@pytest.mark.parametrize("nested", [False, True], ids=["one level", "two levels"])
@pytest.mark.parametrize("name,fn,shapes,batched", CASES, ids=[c[0] for c in CASES])
def test_rule_matches_per_sample(name, fn, shapes, batched, nested) -> None:
    lead = (C, B) if nested else (B,)
    arrays = [_draw(lead if b else (), s, name, k) for k, (s, b) in enumerate(zip(shapes, batched))]
    args = [(_nest(a) if nested else _batch(a)) if b else a for a, b in zip(arrays, batched)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every case has a rule: no fallback warning
        got = fn(*args)
    got = tuple(_phys(g, nested, lead) for g in got) if isinstance(got, tuple) else _phys(got, nested, lead)
    idx = [(c, b) for c in range(C) for b in range(B)] if nested else [(b,) for b in range(B)]
    per = [fn(*[a[i] if bt else a for a, bt in zip(arrays, batched)]) for i in idx]
    if isinstance(per[0], tuple):
        want = tuple(
            np.stack([p[k] for p in per]).reshape(lead + np.shape(per[0][k])) for k in range(len(per[0]))
        )
    else:
        want = np.stack(per).reshape(lead + np.shape(per[0]))
    _compare(got, want)


def test_in_place_rules() -> None:
    a = RNG.standard_normal((B, 4))
    x = _batch(a.copy())
    x[1:] += 1.0
    x[np.array([0, 0])] *= 2.0  # a repeated index writes once, as in NumPy
    np.add.at(x, np.array([3, 3]), 1.0)  # ufunc.at accumulates
    np.copyto(x, 0.0, where=_batch(a > 1.5))
    want = a.copy()
    want[:, 1:] += 1.0
    want[:, 0] *= 2.0
    want[:, 3] += 2.0
    want[a > 1.5] = 0.0
    np.testing.assert_allclose(x._p, want)


def test_batched_index_writes() -> None:
    a = np.zeros((B, 5))
    idx = RNG.integers(0, 5, size=(B, 2))
    vals = RNG.standard_normal((B, 2))
    x = _batch(a)
    np.add.at(x, (_batch(idx),), _batch(vals))
    want = np.zeros((B, 5))
    for b in range(B):
        np.add.at(want[b], idx[b], vals[b])
    np.testing.assert_allclose(x._p, want)


def test_add_and_remove_batch_dim_renest_levels() -> None:
    """Adding an outer (smaller) level under an inner one keeps levels decreasing inward."""
    inner = BatchedArray(RNG.standard_normal((4, 3, 2)), 5)  # level 5, logical (3, 2)
    both = add_batch_dim(inner, 0, 2)  # the logical dim 0 (size 3) becomes level 2
    assert both._level == 5 and both._p._level == 2 and both.shape == (2,)
    back = remove_batch_dim(both, 2, 3, 0)
    np.testing.assert_array_equal(back._p, inner._p)
