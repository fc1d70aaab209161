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


def _terms_summed(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x @ y (2-D or batched) in complex128, each term (xr yr - xi yi) + (xr yi + xi yr) i taken
    with IEEE rules (inf * finite = inf, inf * 0 = NaN, inf - inf = NaN) and the terms summed part
    by part: a part is NaN where it meets a NaN or both infinities, else the one infinity it
    meets, else the finite sum (the same in any order). NumPy's real multiply and sum do that."""
    x, y = np.asarray(x, np.complex128), np.asarray(y, np.complex128)
    xr, xi = x.real[..., :, :, None], x.imag[..., :, :, None]  # (..., n, k, 1)
    yr, yi = y.real[..., None, :, :], y.imag[..., None, :, :]  # (..., 1, k, m)
    with np.errstate(all="ignore"):
        real, imag = (xr * yr - xi * yi).sum(-2), (xr * yi + xi * yr).sum(-2)
    out = np.empty(real.shape, np.complex128)  # (not real + 1j * imag: 1j * inf is NaN + inf i)
    out.real, out.imag = real, imag
    return out


def _complex(parts: np.ndarray) -> np.ndarray:
    """complex64 from (..., 2) real and imaginary parts (set apart: 1j * inf is NaN + inf i)."""
    z = np.empty(parts.shape[:-1], np.complex64)
    z.real, z.imag = parts[..., 0], parts[..., 1]
    return z


def _with_infinities(rng, shape, count: int) -> np.ndarray:
    """complex64 of ``shape`` with ``count`` of its real or imaginary parts set to +-inf."""
    parts = rng.standard_normal((*shape, 2)).astype(np.float32)
    flat = parts.reshape(-1)
    flat[rng.choice(flat.size, count, replace=False)] = rng.choice([INF, -INF], count)
    return _complex(parts)


def _mH(x: np.ndarray) -> np.ndarray:
    return x.conj().swapaxes(-1, -2)


def _summed_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    """x summed over the batch dims that broadcasting added (then reshaped, for 1-D operands)."""
    return x.reshape(-1, *x.shape[x.ndim - max(len(shape), 2) :]).sum(0).reshape(shape)


MATMUL_CASES = [
    ((3, 4), (4, 3), "b"),
    ((4, 4), (4, 4), "b"),
    ((3, 4), (3, 4), "b.mT"),
    ((3, 4), (3, 4), "b.mH"),
    ((2, 3, 4), (4, 5), "b"),
    ((2, 3, 4), (2, 4, 2), "b"),
    ((4,), (4, 3), "b"),
    ((3, 4), (4,), "b"),
    ((5,), (5,), "b"),
]


@pytest.mark.parametrize(("a_shape", "b_shape", "other"), MATMUL_CASES)
def test_complex_matmul_at_infinities_sums_its_terms(a_shape, b_shape, other) -> None:
    """A complex matmul holding infinities, its values and both gradients (g @ c^H and a^H @ g
    for a @ c) equal the IEEE sums of their terms, part by part, with and without create_graph.
    The complex BLAS kernels do not: OpenBLAS gives NaN + NaN i for a result with one infinite
    part, torch's MKL does or not by the sizes (so "matmul" at infinities is in TORCH_WRONG)."""
    rng = np.random.default_rng(sum(a_shape) * 7 + sum(b_shape))
    # the second operand from b, in NumPy and in chainrule, and b's gradient from the operand's
    view, view_grad = {
        "b": (lambda b: b, lambda g: g),
        "b.mT": (lambda b: b.mT if hasattr(b, "mT") else b.swapaxes(-1, -2), lambda g: g.swapaxes(-1, -2)),
        "b.mH": (lambda b: b.mH if hasattr(b, "mH") else _mH(b), _mH),
    }[other]
    for trial in range(4):
        a = _with_infinities(rng, a_shape, 2)
        b = _with_infinities(rng, b_shape, 1 + trial % 2)
        c = view(b)
        a2 = a[None, :] if a.ndim == 1 else a  # 1-D operands as a row / a column, as matmul does
        c2 = c[:, None] if c.ndim == 1 else c
        expected = _terms_summed(a2, c2)
        g2 = _complex(rng.standard_normal((*expected.shape, 2)).astype(np.float32))
        out_shape = np.matmul(np.ones(a.shape), np.ones(c.shape)).shape
        want_a = _summed_to(_terms_summed(g2, _mH(c2)), a.shape)
        want_b = view_grad(_summed_to(_terms_summed(_mH(a2), g2), c.shape))
        for create_graph in (False, True):
            ta, tb = chainrule.tensor(a, requires_grad=True), chainrule.tensor(b, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                out = ta @ view(tb)
                seed = chainrule.tensor(g2.reshape(out_shape))
                ga, gb = chainrule.autograd.grad(out, (ta, tb), seed, create_graph=create_graph)
            for got, want in ((out, expected.reshape(out_shape)), (ga, want_a), (gb, want_b)):
                got = got.detach().resolve_conj().numpy()
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True)


def test_complex_matmul_keeps_blas_values_where_finite() -> None:
    """Only the entries that met an infinity are taken again: the rest are BLAS's bits."""
    rng = np.random.default_rng(11)
    a, b = _with_infinities(rng, (6, 5), 1), _with_infinities(rng, (5, 7), 0)
    out = (chainrule.tensor(a) @ chainrule.tensor(b)).numpy()
    with np.errstate(all="ignore"):
        blas = a @ b
    finite = np.isfinite(blas)
    assert 0 < finite.sum() < finite.size
    np.testing.assert_array_equal(out[finite], blas[finite])
    np.testing.assert_allclose(out, _terms_summed(a, b), rtol=1e-5, atol=1e-5, equal_nan=True)
