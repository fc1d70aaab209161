"""Complex arithmetic at infinities and subnormals: against torch where torch's result is right,
by hand where it is not (``TORCH_WRONG`` in tests/test_extreme_values.py)."""

from __future__ import annotations

import cmath
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INF, TINY = math.inf, 1e-45


def _run(lib, fn, parts):
    """fn of complex64 tensors made from (real, imag) float32 pairs; the real view of the output
    and the gradients of the real parts, as NumPy arrays."""
    reals = [(lib.tensor(r, requires_grad=True), lib.tensor(i, requires_grad=True)) for r, i in parts]
    zs = [lib.complex(r, i) for r, i in reals]
    with warnings.catch_warnings():
        warnings.simplefilter("error" if lib is chainrule else "ignore", RuntimeWarning)
        out = fn(lib, *zs)
        if out.is_complex():
            out = lib.view_as_real(out.resolve_conj())
        seed = lib.tensor(np.linspace(-1.0, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=out.dtype)
        leaves = [t for pair in reals for t in pair]
        grads = lib.autograd.grad(out, leaves, seed, allow_unused=True)
    return [out.detach().numpy()] + [np.zeros(1) if g is None else g.resolve_neg().numpy() for g in grads]


def _same(fn, parts) -> None:
    """chainrule's values and gradients equal torch's. The inputs are tiled to 32 elements: torch's
    scalar complex kernel (tensors shorter than a vector register) lets the compiler fuse its
    products, its vectorized one (the rest) does not, and chainrule gives the vectorized answer."""
    parts = [(np.resize(np.float32(r), 32), np.resize(np.float32(i), 32)) for r, i in parts]
    ours, theirs = _run(chainrule, fn, parts), _run(torch, fn, parts)
    for k, (o, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=0, equal_nan=True, err_msg=f"output/grad {k}")


HUGE = ([1e38, 2.0, -1.0], [-1e38, 0.5, 3.0])
HUGE2 = ([1e38, 1.0, 0.5], [1e38, -2.0, 1.0])
INFS = ([INF, 1.0, -2.0], [1.0, -INF, 0.5])
INFS2 = ([2.0, INF, 1.0], [INF, 1.0, -1.0])


@pytest.mark.parametrize(
    "name",
    ["product", "conj product", "product with infinities", "exp of a product", "vdot", "vdot of infinities"],
)
def test_products_match_torch(name: str) -> None:
    """NumPy's complex kernels fuse a product into the sum (FMA): (1e38 - 1e38 i)(1e38 + 1e38 i)
    would be inf - inf i there, inf + NaN i in torch and here."""
    cases = {
        "product": (lambda m, a, b: a * b, [HUGE, HUGE2]),
        "conj product": (lambda m, a, b: m.conj(a) * b, [HUGE2, HUGE2]),
        "product with infinities": (lambda m, a, b: a * b, [INFS, INFS2]),
        "exp of a product": (lambda m, a, b: m.exp(a * b + 1), [HUGE2, HUGE]),
        "vdot": (lambda m, a, b: m.vdot(a, b), [HUGE2, HUGE2]),
        "vdot of infinities": (
            lambda m, a, b: m.vdot(a, b),
            [([INF, 1.0], [INF, 2.0]), ([INF, 1.0], [INF, -1.0])],
        ),
    }
    fn, parts = cases[name]
    _same(fn, parts)


def test_angle_gradient_at_a_subnormal_matches_torch() -> None:
    """|z|^2 underflows to 0 for z = 1e-45 (1 + i): torch's division by that (complex) zero is NaN;
    at z = 0 exactly the gradient is 0."""
    _same(lambda m, z: m.angle(z * 2), [([TINY, 0.0, 1.0], [TINY, 0.0, -1.0])])


def test_einsum_contracts_from_the_left_as_torch() -> None:
    def run(lib):
        rng = np.random.default_rng(3)
        arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3), (3, 4), (4, 2))]
        for a in arrays:
            a.reshape(-1)[0] = INF
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.einsum("ij,jk,kl->il", *xs)
        grads = lib.autograd.grad(out, xs, lib.tensor(np.linspace(-1, 1, 4).reshape(2, 2).astype(np.float32)))
        return [out.detach().numpy()] + [g.resolve_neg().numpy() for g in grads]

    for o, t in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(o, t, rtol=1e-5, equal_nan=True)


def test_einsum_diagonal_gradient_is_zero_off_the_diagonal() -> None:
    for v in (INF, -INF, math.nan):
        x = chainrule.tensor([[v, 1.0], [2.0, 3.0]], requires_grad=True)
        w = chainrule.tensor([4.0, 5.0], requires_grad=True)
        (g,) = chainrule.autograd.grad(chainrule.einsum("ii,i->i", x, w).sum(), x)
        assert g[0, 1].item() == 0.0 and g[1, 0].item() == 0.0
        assert g[0, 0].item() == 4.0 and g[1, 1].item() == 5.0


# ---- where torch is wrong: checked by hand ------------------------------------------------------
def test_complex_sum_with_an_infinite_part_has_no_nan() -> None:
    """(1 + i) + (inf + i) = inf + 2i either way round (torch: inf + NaN i for a + b, its
    a + alpha b with alpha = 1 + 0i multiplying 0 by inf)."""
    a = chainrule.tensor([1 + 1j], dtype=chainrule.complex64)
    b = chainrule.tensor([complex(INF, 1.0)], dtype=chainrule.complex64)
    assert (a + b).item() == complex(INF, 2.0) == (b + a).item()
    z = chainrule.tensor([complex(-INF, -INF)], dtype=chainrule.complex64)
    total = (chainrule.log(z) + chainrule.sqrt(z)).item()  # C99: log = inf - 3pi/4 i, sqrt = inf - inf i
    assert total.real == INF and total.imag == -INF


def test_abs_gradient_at_an_infinite_real_part_is_its_limit() -> None:
    """d|z|/dx = x / |z| -> 1 and d|z|/dy = y / |z| -> 0 as x -> inf (torch: NaN, inf / inf)."""
    x = chainrule.tensor([INF, -INF], requires_grad=True)
    y = chainrule.tensor([1.0, 2.0], requires_grad=True)
    gx, gy = chainrule.autograd.grad(chainrule.complex(x, y).abs().sum(), (x, y))
    assert gx.tolist() == [1.0, -1.0] and gy.tolist() == [0.0, 0.0]


def test_polar_gradient_with_respect_to_an_infinite_abs_is_finite() -> None:
    """polar(r, t) = r e^(it): d/dr is e^(it) whatever r, so the real gradient of r is
    Re(conj(g) e^(it)) (torch: NaN for r = inf, from sgn of the infinite result)."""
    r = chainrule.tensor([INF, 2.0], requires_grad=True)
    t = chainrule.tensor([0.5, -1.0], requires_grad=True)
    g = np.array([[0.3, -0.7], [1.1, 0.2]], np.float32)  # the real view's seed
    out = chainrule.view_as_real(chainrule.polar(r, t))
    (gr,) = chainrule.autograd.grad(out, r, chainrule.tensor(g))
    expected = [(complex(g[k, 0], -g[k, 1]) * cmath.exp(1j * tk)).real for k, tk in enumerate([0.5, -1.0])]
    np.testing.assert_allclose(gr.numpy(), expected, rtol=1e-5)
