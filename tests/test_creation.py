"""Making tensors and converting them, against torch: dtypes inferred from data, filled tensors,
ranges (value for value), random ops (shapes, dtypes, ranges, reproducibility; chainrule's random
streams are not torch's, so values are compared in distribution only), Python conversions."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


def _outcome(lib, fn):
    """``fn(lib)``: (dtype, shape, values) for a tensor, else the value, or the error's type."""
    try:
        r = fn(lib)
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return type(e)
    if isinstance(r, lib.Tensor):
        return _name(r.dtype), tuple(r.shape), r.detach().numpy().tolist()
    if isinstance(r, lib.Size):
        return tuple(r)
    if isinstance(r, lib.dtype):
        return _name(r)
    return r


def same(fn) -> None:
    """``fn`` gives the same dtype, shape and values (or raises the same error type) on both."""
    theirs, ours = _outcome(torch, fn), _outcome(chainrule, fn)
    assert ours == theirs, f"chainrule {ours!r} != torch {theirs!r}"


# ---- tensor(): dtype inference -------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.tensor([[1, 2], [3, 4]]),
        lambda m: m.tensor([True, False]),
        lambda m: m.tensor([1, 2.5]),
        lambda m: m.tensor([True, 2]),
        lambda m: m.tensor([[True], [2.5]]),
        lambda m: m.tensor(3.5),
        lambda m: m.tensor(3),
        lambda m: m.tensor(True),
        lambda m: m.tensor([]),
        lambda m: m.tensor([[], []]),
        lambda m: m.tensor((1, 2)),
        lambda m: m.tensor(2**40),
        lambda m: m.tensor([1, 2], dtype=m.float64),
        lambda m: m.tensor([1.7, -2.7], dtype=m.int32),
        lambda m: m.tensor([0, 2], dtype=m.bool),
        lambda m: m.tensor([1.5, 2.5], dtype=m.float16),
        lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
        lambda m: m.tensor([m.tensor(1), m.tensor(2)]),
        lambda m: m.tensor([m.tensor(1, dtype=m.int32), 2.5]),
    ],
    ids=lambda f: "",
)
def test_tensor_dtype_from_python_data(fn) -> None:
    same(fn)


@pytest.mark.parametrize(
    "data",
    [
        np.array([1.0, 2.0]),
        np.array([1.0, 2.0], dtype=np.float32),
        np.array([1, 2], dtype=np.int32),
        np.array([1, 2], dtype=np.uint8),
        np.array([True, False]),
        np.array(2.5),
        np.float64(2.5),
        np.float32(2.5),
        np.int32(2),
        np.int16(-3),
        np.bool_(True),
        [np.float64(1.5), np.float64(2.5)],
        [np.float64(1.5), 2.5],
        [np.float32(1.5), 2.5],
        [np.float16(1.5), 2],
        [np.int32(1), np.int32(2)],
        [np.int32(1), 2],
        [np.uint8(1), np.int8(2)],
        [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
    ],
    ids=repr,
)
def test_tensor_keeps_numpy_dtypes(data) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "a list of numpy.ndarrays is extremely slow"
        same(lambda m: m.tensor(data))


def test_tensor_default_dtype_follows_set_default_dtype() -> None:
    for lib in (torch, chainrule):
        lib.set_default_dtype(lib.float64)
    try:
        same(lambda m: m.tensor([1.5, 2]))
        same(lambda m: m.tensor([np.float32(1.5), 2.0]))
        same(lambda m: m.zeros(2))
        same(lambda m: m.arange(0, 1, 0.25))
        same(lambda m: m.tensor([1, 2]) * 0.5)
    finally:
        for lib in (torch, chainrule):
            lib.set_default_dtype(lib.float32)


def test_tensor_errors() -> None:
    same(lambda m: m.tensor([[1, 2], [3]]))
    same(lambda m: m.tensor("abc"))
    with pytest.raises(ValueError, match="expected sequence of length 2 at dim 1 \\(got 1\\)"):
        chainrule.tensor([[1, 2], [3]])


def test_tensor_copies_and_as_tensor_shares() -> None:
    a = np.array([1.0, 2.0])
    t = chainrule.tensor(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    s = chainrule.as_tensor(a)
    a[1] = 7.0
    assert s.tolist() == [9.0, 7.0]
    assert chainrule.as_tensor(s) is s
    same(lambda m: m.as_tensor([1, 2]))
    same(lambda m: m.as_tensor([1, 2], dtype=m.float32))
    same(lambda m: m.as_tensor(np.array([1.0, 2.0])))
    same(lambda m: m.asarray([[1.5]]))


def test_from_numpy_shares_memory_both_ways() -> None:
    a = np.arange(6.0).reshape(2, 3)
    t = chainrule.from_numpy(a)
    assert _name(t.dtype) == "float64" and t.shape == (2, 3)
    a[0, 0] = 100.0
    assert t[0, 0].item() == 100.0
    t[1, 2] = -1.0
    assert a[1, 2] == -1.0
    n = t.numpy()
    n[0, 1] = 5.0
    assert a[0, 1] == 5.0 and np.shares_memory(n, a)
    same(lambda m: m.from_numpy(np.array([1, 2], dtype=np.int32)))
    same(lambda m: m.from_numpy(np.array(2.5)))
    same(lambda m: m.from_numpy([1, 2]))


# ---- requires_grad -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([1, 2], requires_grad=True),
        lambda m: m.tensor([1, 2]).requires_grad_(),
        lambda m: m.tensor([True]).requires_grad_(),
        lambda m: m.zeros(2, dtype=m.int64, requires_grad=True),
        lambda m: m.arange(3, requires_grad=True),
        lambda m: setattr(m.tensor([1, 2], dtype=m.int32), "requires_grad", True),
    ],
)
def test_requires_grad_on_integer_tensor_is_refused(make) -> None:
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError) as info:
            make(lib)
        # torch: "only Tensors of floating point dtype can require gradients" (or "Only Tensors
        # of floating point and complex dtype ..."); chainrule says the same and names the dtype
        assert "floating point" in str(info.value)
    with pytest.raises(RuntimeError, match="int64"):
        chainrule.tensor([1, 2], requires_grad=True)


def test_requires_grad_on_float_factories() -> None:
    for make in (
        lambda m: m.zeros(2, requires_grad=True),
        lambda m: m.rand(2, requires_grad=True),
        lambda m: m.arange(3.0, requires_grad=True),
        lambda m: m.tensor([1.0], requires_grad=True),
        lambda m: m.full((2,), 1.5, requires_grad=True),
    ):
        assert make(torch).requires_grad and make(chainrule).requires_grad
        assert make(chainrule).is_leaf


# ---- filled tensors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.zeros(2, 3),
        lambda m: m.zeros((2, 3)),
        lambda m: m.zeros([2, 3]),
        lambda m: m.zeros(m.Size([2, 3])),
        lambda m: m.zeros(()),
        lambda m: m.zeros(0),
        lambda m: m.zeros(size=(2, 1)),
        lambda m: m.zeros(-1),
        lambda m: m.zeros(2, dtype=m.bool),
        lambda m: m.ones(2, 3),
        lambda m: m.ones((2,), dtype=m.int32),
        lambda m: m.ones(2, 2).dtype,
        lambda m: m.empty(2, 3).shape,
        lambda m: m.empty((2, 3)).dtype,
        lambda m: m.empty(1, dtype=m.int64).dtype,
        lambda m: m.full((2,), 3),
        lambda m: m.full((2,), 3.0),
        lambda m: m.full((2,), True),
        lambda m: m.full([2, 2], 1.5),
        lambda m: m.full((2,), 3, dtype=m.float64),
        lambda m: m.full((2,), 3.5, dtype=m.int64),
        lambda m: m.full((), 2),
        lambda m: m.zeros_like(m.tensor([1, 2])),
        lambda m: m.ones_like(m.tensor([1.0, 2.0])),
        lambda m: m.ones_like(m.tensor([1, 2]), dtype=m.float64),
        lambda m: m.full_like(m.tensor([1, 2]), 2.7),
        lambda m: m.full_like(m.tensor([1.0, 2]), 7),
        lambda m: m.empty_like(m.tensor([[1.0, 2]])).shape,
        lambda m: m.empty_like(m.tensor([1], dtype=m.int32)).dtype,
        lambda m: m.eye(3),
        lambda m: m.eye(2, 4),
        lambda m: m.eye(3, 1),
        lambda m: m.eye(0),
        lambda m: m.eye(2, dtype=m.int64),
        lambda m: m.eye(2, 3, dtype=m.bool),
        lambda m: m.eye(-1),
    ],
    ids=lambda f: "",
)
def test_filled(fn) -> None:
    same(fn)


# ---- ranges: lengths, dtypes and values exactly as torch's kernels -------------------------------
@pytest.mark.parametrize(
    "args",
    [
        (5,),
        (5.0,),
        (1, 5),
        (1, 5, 2),
        (0, 1, 0.1),
        (5, 0, -1),
        (5, 0, -1.5),
        (1, 2.5, 0.5),
        (-1, -5, -2),
        (0, 0),
        (0,),
        (0, 10, 3),
        (0, 0.3, 0.1),
        (0, -0.3, -0.1),
        (1.5,),
        (1, 10, 0.7),
        (1, 4.0),
        (0, 100, 0.1),
        (0.3, 57.1, 0.37),
        (-3, 7, 1 / 3),
        (1e3, 1e3 + 50, 0.01),
        (5, -20, -0.7),
        (0.1, 3.2, 0.3),
        (0, 5, -1),
        (0, 5, 0),
        (0, math.inf),
        (0, math.nan),
    ],
)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64", "int32", "float16"])
def test_arange(args, dtype) -> None:
    if dtype is None:
        same(lambda m: m.arange(*args))
    else:
        same(lambda m: m.arange(*args, dtype=getattr(m, dtype)))


def test_arange_length_of_float_steps() -> None:
    assert len(chainrule.arange(0, 1, 0.1)) == len(torch.arange(0, 1, 0.1)) == 10
    assert len(chainrule.arange(1, 1.3, 0.1)) == len(torch.arange(1, 1.3, 0.1))
    same(lambda m: m.arange(m.tensor(3), m.tensor(7.0)))
    same(lambda m: m.arange(1, 4, m.tensor(0.5)))
    same(lambda m: m.arange(5, dtype=m.uint8))
    same(lambda m: m.arange(5, dtype=m.bool))
    same(lambda m: m.arange(0, 2, 0.5, dtype=m.int64))
    same(lambda m: m.arange(0.5, 5.9, 1.5, dtype=m.int64))


def test_arange_long_float_ranges_close() -> None:
    # above 32768 elements torch splits the range across threads, which moves its vector blocks;
    # the values can then differ from chainrule's in the last bit
    for dtype in ("float32", "float64"):
        ours = chainrule.arange(0.3, 100000.3, 1.3, dtype=getattr(chainrule, dtype)).numpy()
        theirs = torch.arange(0.3, 100000.3, 1.3, dtype=getattr(torch, dtype)).numpy()
        assert ours.shape == theirs.shape
        np.testing.assert_array_max_ulp(ours, theirs, maxulp=2)


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 5, 7, 10, 17, 33, 100, 1000])
@pytest.mark.parametrize("ends", [(-1.3, 2.9), (0, 1), (10, -3), (-7.9, 10.2), (1e-3, 1e4), (3, 3)])
@pytest.mark.parametrize("dtype", [None, "float64", "int64", "int32", "float16"])
def test_linspace(steps, ends, dtype) -> None:
    kw = {} if dtype is None else {"dtype": dtype}
    same(lambda m: m.linspace(*ends, steps, **{k: getattr(m, v) for k, v in kw.items()}))


def test_linspace_errors_and_tensor_ends() -> None:
    same(lambda m: m.linspace(0, 1, -1))
    same(lambda m: m.linspace(0, 1, 2.0))
    same(lambda m: m.linspace(m.tensor(1.0), 3, 3))


def test_logspace_close() -> None:
    for args in ((0, 2, 3), (-1, 1, 5), (0, 3, 7)):
        np.testing.assert_allclose(
            chainrule.logspace(*args).numpy(), torch.logspace(*args).numpy(), rtol=1e-6
        )
        np.testing.assert_allclose(
            chainrule.logspace(*args, base=2.0).numpy(), torch.logspace(*args, base=2.0).numpy(), rtol=1e-6
        )
        assert _name(chainrule.logspace(*args).dtype) == _name(torch.logspace(*args).dtype)


# ---- random: shapes, dtypes, ranges, moments and reproducibility (not torch's streams) -----------
@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.rand(2, 3).shape,
        lambda m: m.rand((2, 3)).shape,
        lambda m: m.rand(size=(2, 3)).shape,
        lambda m: m.rand(2, dtype=m.float64).dtype,
        lambda m: m.rand(0).shape,
        lambda m: m.rand(2).dtype,
        lambda m: m.randn(4, 2).shape,
        lambda m: m.randn(2).dtype,
        lambda m: m.randn(2, dtype=m.float16).dtype,
        lambda m: m.randn(2, dtype=m.int64),
        lambda m: m.rand_like(m.zeros(2, 3, dtype=m.float64)).dtype,
        lambda m: m.rand_like(m.zeros(2, 3)).shape,
        lambda m: m.randn_like(m.zeros(2, 3)).shape,
        lambda m: m.rand_like(m.zeros(2, dtype=m.int64)),
        lambda m: m.randint(0, 5, (3, 4)).shape,
        lambda m: m.randint(0, 5, (3,)).dtype,
        lambda m: m.randint(5, (3,)).shape,
        lambda m: m.randint(5, size=(2,)).shape,
        lambda m: m.randint(low=1, high=5, size=(2,)).shape,
        lambda m: m.randint(3, 5, (0,)),
        lambda m: m.randint(0, 5, (3,), dtype=m.float32).dtype,
        lambda m: m.randint(5, 2, (3,)),
        lambda m: m.randint_like(m.zeros(2, 2), 3).dtype,
        lambda m: m.normal(m.zeros(3), m.ones(3)).shape,
        lambda m: m.normal(m.zeros(3), 2.0).shape,
        lambda m: m.normal(0.0, m.ones(2, 3)).shape,
        lambda m: m.normal(0.0, 1.0, size=(2, 3)).dtype,
        lambda m: m.normal(2, 3, (4,)).dtype,
        lambda m: m.normal(m.zeros(3, dtype=m.float64), 1.0).dtype,
        lambda m: m.normal(2.0, 3.0, (2,), dtype=m.float64).dtype,
        lambda m: m.normal(0.0, -1.0, (2,)),
        lambda m: m.normal(m.zeros(2), -1.0),
        lambda m: m.normal(m.zeros(2, 3), m.ones(3)).shape,
        lambda m: sorted(m.randperm(6).tolist()),
        lambda m: m.randperm(5).dtype,
        lambda m: m.randperm(0),
        lambda m: m.rand(2, 3, requires_grad=True).requires_grad,
    ],
    ids=lambda f: "",
)
def test_random_shapes_and_dtypes(fn) -> None:
    same(fn)


def test_random_ranges_and_moments() -> None:
    chainrule.manual_seed(0)
    u = chainrule.rand(200_000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = chainrule.randn(200_000, dtype=chainrule.float64).numpy()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(((z - z.mean()) ** 3).mean()) < 0.03  # symmetric
    n = chainrule.normal(3.0, 2.0, size=(200_000,)).numpy()
    assert abs(n.mean() - 3) < 0.02 and abs(n.std() - 2) < 0.02
    nt = chainrule.normal(chainrule.full((100_000,), -1.0), chainrule.full((100_000,), 0.5))
    assert abs(nt.mean().item() + 1) < 0.01 and abs(nt.std().item() - 0.5) < 0.01
    r = chainrule.randint(3, 7, (100_000,)).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}
    assert np.all(np.abs(np.bincount(r)[3:] / r.size - 0.25) < 0.01)
    h = chainrule.rand(100_000, dtype=chainrule.float16).numpy()
    assert h.max() < 1.0 and h.min() >= 0.0
    p = chainrule.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))


def test_manual_seed_reproduces() -> None:
    draws = []
    for _ in range(2):
        g = chainrule.manual_seed(1234)
        assert isinstance(g, chainrule.Generator)
        draws.append(
            [
                chainrule.rand(5).tolist(),
                chainrule.randn(2, 2).tolist(),
                chainrule.randint(0, 100, (4,)).tolist(),
                chainrule.randperm(7).tolist(),
                chainrule.normal(0.0, 1.0, size=(3,)).tolist(),
            ]
        )
    assert draws[0] == draws[1]
    chainrule.manual_seed(1235)
    assert chainrule.rand(5).tolist() != draws[0][0]
    assert chainrule.initial_seed() == 1235 and torch.manual_seed(1235).initial_seed() == 1235


def test_generator_objects() -> None:
    g1 = chainrule.Generator().manual_seed(7)
    g2 = chainrule.Generator().manual_seed(7)
    chainrule.manual_seed(0)
    a = chainrule.rand(4, generator=g1)
    chainrule.rand(10)  # the default generator's stream does not touch g1's or g2's
    b = chainrule.rand(4, generator=g2)
    assert a.tolist() == b.tolist()
    assert chainrule.randn(3, generator=g1).tolist() == chainrule.randn(3, generator=g2).tolist()
    assert (
        chainrule.randint(0, 9, (5,), generator=g1).tolist()
        == chainrule.randint(0, 9, (5,), generator=g2).tolist()
    )
    state = g1.get_state()
    x = chainrule.rand(3, generator=g1)
    g1.set_state(state)
    assert chainrule.rand(3, generator=g1).tolist() == x.tolist()
    assert chainrule.Generator().initial_seed() == torch.Generator().initial_seed()
    assert g1.initial_seed() == torch.Generator().manual_seed(7).initial_seed() == 7
    assert (
        chainrule.Generator().manual_seed(-1).initial_seed()
        == torch.Generator().manual_seed(-1).initial_seed()
    )
    same(lambda m: m.manual_seed(2**64))


# ---- conversions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.tensor([1, 2]).float(),
        lambda m: m.tensor([1, 2]).double(),
        lambda m: m.tensor([1.7, -2.7]).long(),
        lambda m: m.tensor([1.7, -2.7]).int(),
        lambda m: m.tensor([1.7, 0.0]).bool(),
        lambda m: m.tensor([1, 0]).bool(),
        lambda m: m.tensor([True, False]).float(),
        lambda m: m.tensor([1.5]).half(),
        lambda m: m.tensor([1.7, 0.0]).to(m.float64),
        lambda m: m.tensor([1.7, 0.0]).to(dtype=m.int64),
        lambda m: m.tensor([1.7, 0.0]).to("cpu"),
        lambda m: m.tensor([1.7, 0.0]).to("cpu", m.float64),
        lambda m: m.tensor([1.7, 0.0]).to(m.tensor([1], dtype=m.int32)),
        lambda m: (lambda t: t.to(m.float32) is t)(m.tensor([1.0])),
        lambda m: (lambda t: t.float() is t)(m.tensor([1.0])),
        lambda m: m.tensor([1.5, 2.5], requires_grad=True).long().requires_grad,
        lambda m: m.tensor([1.5, 2.5], requires_grad=True).double().requires_grad,
        lambda m: m.tensor([1.5]).item(),
        lambda m: m.tensor([[3]]).item(),
        lambda m: m.tensor(True).item(),
        lambda m: type(m.tensor(3).item()).__name__,
        lambda m: type(m.tensor(3.0).item()).__name__,
        lambda m: m.tensor(0.1).item(),
        lambda m: m.tensor([1, 2]).item(),
        lambda m: m.tensor([[1.5, 2]]).tolist(),
        lambda m: m.tensor(2).tolist(),
        lambda m: [type(v).__name__ for v in m.tensor([1, 2]).tolist()],
        lambda m: [type(v).__name__ for v in m.tensor([True]).tolist()],
        lambda m: float(m.tensor([2.5])),
        lambda m: int(m.tensor(2.7)),
        lambda m: int(m.tensor(-2.7)),
        lambda m: float(m.tensor([[2.5]])),
        lambda m: float(m.tensor([2.5, 1])),
        lambda m: int(m.tensor([2, 1])),
        lambda m: bool(m.tensor([1, 2])),
        lambda m: len(m.zeros(3, 2)),
        lambda m: len(m.tensor(1.0)),
        lambda m: m.zeros(3, 2).numel(),
        lambda m: m.numel(m.zeros(3, 2)),
        lambda m: m.zeros(3, 2).dim(),
        lambda m: m.zeros(3, 2).ndim,
        lambda m: m.zeros(3, 2).size(),
        lambda m: m.zeros(3, 2).size(-1),
        lambda m: m.zeros(3, 2).size(dim=0),
        lambda m: m.zeros(3, 2).size(5),
        lambda m: m.zeros(3, 2).shape,
        lambda m: m.zeros(3, 2).shape == (3, 2),
        lambda m: m.zeros(3, 2).shape[1],
        lambda m: m.tensor([1.0]).double().numpy().dtype.name,
        lambda m: m.tensor([1.0], requires_grad=True).numpy(),
        lambda m: m.tensor([1.0], requires_grad=True).detach().numpy().tolist(),
    ],
    ids=lambda f: "",
)
def test_conversions(fn) -> None:
    same(fn)


def test_dtype_objects() -> None:
    assert chainrule.zeros(3).dtype == chainrule.float32 == chainrule.float
    assert chainrule.tensor([1]).dtype == chainrule.int64 == chainrule.long
    assert chainrule.tensor([1.0]).double().dtype == chainrule.float64 == chainrule.double
    assert chainrule.tensor([True]).dtype == chainrule.bool
    assert chainrule.tensor([1]).int().dtype == chainrule.int32 == chainrule.int
    assert chainrule.float32 != chainrule.float64
    assert {chainrule.float32: 1}[chainrule.tensor([1.0]).dtype] == 1
    for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"):
        ours, theirs = getattr(chainrule, name), getattr(torch, name)
        assert repr(ours) == repr(theirs).replace("torch.", "chainrule.") == str(ours)
        assert ours.is_floating_point == theirs.is_floating_point
        assert ours.itemsize == theirs.itemsize
        assert ours.is_signed == theirs.is_signed
    assert repr(chainrule.zeros(3, 2).shape) == "chainrule.Size([3, 2])"
