"""Element-wise ops and torch.special beyond the registry's random draws: special values (poles,
NaN, inf, -0.0), no NumPy warnings where torch is silent, derivatives torch does not implement,
in-place forms on views, and wide argument ranges of the special functions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, pair

import chainrule

SPECIAL_VALUES = [
    float("nan"),
    float("inf"),
    -float("inf"),
    0.0,
    -0.0,
    -1.0,
    -2.5,
    1e-30,
    0.5,
    1.0,
    3.0,
    1e30,
]


def _both(fn, values, dtype="float64"):
    ours = fn(chainrule, chainrule.tensor(np.array(values, dtype=dtype)))
    theirs = fn(torch, torch.tensor(np.array(values, dtype=dtype)))
    return ours, theirs


UNARY = [
    lambda m, x: m.lgamma(x),
    lambda m, x: m.digamma(x),
    lambda m, x: m.polygamma(1, x),
    lambda m, x: m.polygamma(3, x),
    lambda m, x: m.erfinv(x),
    lambda m, x: m.i0(x),
    lambda m, x: m.exp2(x),
    lambda m, x: m.sinc(x),
    lambda m, x: m.asinh(x),
    lambda m, x: m.acosh(x),
    lambda m, x: m.atanh(x),
    lambda m, x: m.frac(x),
    lambda m, x: m.logit(x),
    lambda m, x: m.logit(x, eps=1e-6),
    lambda m, x: m.nan_to_num(x),
    lambda m, x: m.signbit(x),
    lambda m, x: m.isneginf(x),
    lambda m, x: m.isposinf(x),
    lambda m, x: m.special.i0e(x),
    lambda m, x: m.special.i1(x),
    lambda m, x: m.special.i1e(x),
    lambda m, x: m.special.erfcx(x),
    lambda m, x: m.special.ndtr(x),
    lambda m, x: m.special.ndtri(x),
    lambda m, x: m.special.log_ndtr(x),
    lambda m, x: m.special.entr(x),
    lambda m, x: m.special.bessel_j0(x),
    lambda m, x: m.special.bessel_y1(x),
    lambda m, x: m.special.modified_bessel_k0(x),
    lambda m, x: m.special.scaled_modified_bessel_k1(x),
    lambda m, x: m.special.spherical_bessel_j0(x),
    lambda m, x: m.special.airy_ai(x),
    lambda m, x: m.special.multigammaln(x, 2),
]


# inputs where torch's value is not the function's (docs/differences.md): polygamma at its poles
# (torch: a large finite number at -1, NaN at -inf; chainrule: inf) and at +inf (torch: NaN;
# chainrule: the limit 0)
KNOWN_DIFFERENT = {2: {-float("inf"), -1.0}, 3: {float("inf")}}
LOOSER = {31: 1e-5}  # torch's float64 airy_ai errs by 2e-6 at -2.5 (Ai(-2.5) = -0.1123250677)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("k", range(len(UNARY)))
def test_special_values_as_torch_without_warnings(k: int, dtype: str) -> None:
    fn = UNARY[k]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning where torch is silent
        values = [v for v in SPECIAL_VALUES if v not in KNOWN_DIFFERENT.get(k, ())]
        ours, theirs = _both(fn, values, dtype)
    rtol = LOOSER.get(k, 1e-6) if dtype == "float64" else 2e-5
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    a, b = ours.numpy(), theirs.numpy()
    if b.dtype.kind == "f":  # torch's and Cephes' finite results at extreme arguments agree in value;
        both_finite = np.isfinite(a) & np.isfinite(b)  # the classes (nan / +-inf) must agree exactly
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.where(both_finite, 0, a), np.where(both_finite, 0, b))
        np.testing.assert_allclose(a[both_finite], b[both_finite], rtol=rtol, atol=1e-30)
    else:
        np.testing.assert_array_equal(a, b)


BINARY = [
    lambda m, x, y: m.fmax(x, y),
    lambda m, x, y: m.fmin(x, y),
    lambda m, x, y: m.logaddexp(x, y),
    lambda m, x, y: m.logaddexp2(x, y),
    lambda m, x, y: m.xlogy(x, y),
    lambda m, x, y: m.special.xlog1py(x, y),
    lambda m, x, y: m.hypot(x, y),
    lambda m, x, y: m.copysign(x, y),
    lambda m, x, y: m.nextafter(x, y),
    lambda m, x, y: m.heaviside(x, y),
    lambda m, x, y: m.igamma(x, y),
    lambda m, x, y: m.igammac(x, y),
    lambda m, x, y: m.special.zeta(x, y),
    lambda m, x, y: x / y,
    lambda m, x, y: x % y,
    lambda m, x, y: x // y,
    lambda m, x, y: m.fmod(x, y),
    lambda m, x, y: x**y,
]


def _nan_with_inf(x, y):
    return (np.isnan(x) & np.isinf(y)) | (np.isinf(x) & np.isnan(y)) | (np.isnan(x) & (y == 0))


# argument pairs where torch's value is not the function's (docs/differences.md): igamma and
# igammac give numbers for some NaN arguments; zeta gives NaN where it tends to 0
KNOWN_DIFFERENT_BINARY = {
    10: _nan_with_inf,
    11: _nan_with_inf,
    12: lambda x, y: (x >= 3) & (y >= 1e30),
}


@pytest.mark.parametrize("k", range(len(BINARY)))
def test_binary_special_values_as_torch_without_warnings(k: int) -> None:
    values = np.array(SPECIAL_VALUES)
    x, y = np.meshgrid(values, values)
    if k in KNOWN_DIFFERENT_BINARY:
        keep = ~KNOWN_DIFFERENT_BINARY[k](x, y)
        x, y = x[keep], y[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = BINARY[k](chainrule, chainrule.tensor(x), chainrule.tensor(y))
    theirs = BINARY[k](torch, torch.tensor(x), torch.tensor(y))
    a, b = ours.numpy(), theirs.numpy()
    finite = np.isfinite(a) & np.isfinite(b)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.where(finite, 0, a), np.where(finite, 0, b))
    np.testing.assert_allclose(a[finite], b[finite], rtol=1e-6, atol=1e-15)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.log(x - 2),
        lambda m, x: x / (x * 0),
        lambda m, x: m.exp(x * 1000),
        lambda m, x: m.sqrt(-x),
        lambda m, x: m.log1p(-x - 5),
        lambda m, x: m.pow(x * 0, -1.0),
        lambda m, x: m.xlogy(x, x * 0 - 1),
    ],
)
def test_no_warnings_in_backward_either(fn) -> None:
    ours, theirs = pair(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(chainrule, ours).sum().backward()
    fn(torch, theirs).sum().backward()
    assert_close(ours.grad, theirs.grad, 1e-7, 1e-10, "grad")


def test_heaviside_has_no_derivative_as_torch() -> None:
    for m in (torch, chainrule):
        out = m.heaviside(m.tensor([0.5, 0.0], requires_grad=True), m.tensor([0.5, 0.5]))
        assert out.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
            out.sum().backward()


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x, y: m.special.zeta(x + 2, y),
        lambda m, x, y: m.igamma(x, y),
        lambda m, x, y: m.igammac(x, y),
    ],
)
def test_derivatives_torch_does_not_implement_raise_as_torch(fn) -> None:
    values = np.array([0.5, 1.5])
    for m in (torch, chainrule):
        x = m.tensor(values, requires_grad=True)
        y = m.tensor(values)
        out = fn(m, x, y)
        assert out.requires_grad
        with pytest.raises(NotImplementedError, match="is not implemented"):
            out.sum().backward()


def test_igamma_differentiates_in_its_second_input() -> None:
    a = np.array([0.5, 1.5, 3.0])
    x = np.array([0.2, 1.0, 4.0])
    results = []
    for m in (chainrule, torch):
        xt = m.tensor(x, requires_grad=True)
        (g,) = m.autograd.grad(m.igamma(m.tensor(a), xt).sum(), xt, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), xt)
        results.append((g, gg))
    assert_close(results[0][0], results[1][0], 1e-7, 1e-10, "first derivative")
    assert_close(results[0][1], results[1][1], 1e-7, 1e-10, "second derivative")


def test_bessel_and_polynomials_have_no_gradient_as_torch() -> None:
    for m in (chainrule, torch):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        assert not m.special.bessel_j0(x).requires_grad
        assert not m.special.chebyshev_polynomial_t(x, 3).requires_grad


@pytest.mark.parametrize(
    "name",
    [
        "chebyshev_polynomial_t",
        "chebyshev_polynomial_u",
        "chebyshev_polynomial_v",
        "chebyshev_polynomial_w",
        "shifted_chebyshev_polynomial_t",
        "shifted_chebyshev_polynomial_w",
        "hermite_polynomial_h",
        "hermite_polynomial_he",
        "laguerre_polynomial_l",
        "legendre_polynomial_p",
    ],
)
def test_polynomials_over_degrees_and_arguments(name: str) -> None:
    x = np.linspace(-1.5, 1.5, 13)[:, None] * np.ones((1, 12))
    n = np.arange(-2, 10)[None, :] * np.ones((13, 1))
    ours = getattr(chainrule.special, name)(chainrule.tensor(x), chainrule.tensor(n))
    theirs = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    assert_close(ours, theirs, 1e-9, 1e-9, name)


def test_inplace_on_a_view_updates_the_base_and_its_gradient() -> None:
    results = []
    for m in (chainrule, torch):
        leaf = m.tensor(np.linspace(0.2, 0.9, 12).reshape(3, 4), requires_grad=True)
        base = leaf * 1
        view = base[1:, ::2]
        view.lgamma_()
        view.xlogy_(m.tensor([0.5, 2.0]))
        view.logit_()
        base.t()[0].addcmul_(m.tensor([1.0, 2.0, 3.0]), m.tensor([0.5, 0.5, 0.5]), value=2)
        base.sum().backward()
        results.append((base, leaf.grad))
    assert_close(results[0][0], results[1][0], 1e-7, 1e-10, "values")
    assert_close(results[0][1], results[1][1], 1e-7, 1e-10, "gradient")


def test_inplace_keeps_the_version_check() -> None:
    for m in (chainrule, torch):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        y = x * 1
        z = y.lgamma()  # saves y
        y.exp2_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_integer_division_by_zero_raises_as_torch() -> None:
    calls = (
        lambda m, x: x // 0,
        lambda m, x: x % m.tensor([1, 0]),
        lambda m, x: m.fmod(x, 0),
        lambda m, x: m.div(x, 0, rounding_mode="trunc"),
        lambda m, x: m.div(x, 0, rounding_mode="floor"),
        lambda m, x: x.clone().floor_divide_(0),
        lambda m, x: x.clone().remainder_(0),
    )
    for m in (chainrule, torch):
        for fn in calls:
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                fn(m, m.tensor([3, -3]))


def test_frexp_fields_and_gradient() -> None:
    ours_x, theirs_x = pair(np.array([0.3, -5.0, 1024.0, 0.0]), requires_grad=True)
    ours, theirs = chainrule.frexp(ours_x), torch.frexp(theirs_x)
    assert_close(ours.mantissa, theirs.mantissa, 0, 0, "mantissa")
    assert_close(ours.exponent, theirs.exponent, 0, 0, "exponent")
    assert str(ours.exponent.dtype) == "chainrule.int32"
    ours.mantissa.sum().backward()
    theirs.mantissa.sum().backward()
    assert_close(ours_x.grad, theirs_x.grad, 0, 0, "gradient")


def test_bit_shifts_of_every_width() -> None:
    for dtype in ("int8", "int16", "int32", "int64", "uint8"):
        x = np.array([1, 3, 100, 7], dtype=dtype)
        if dtype != "uint8":
            x[1] = -3
        s = np.array([0, 1, 7, 65], dtype=dtype)
        ours, theirs = pair(x)
        so, st = pair(s)
        assert_close(ours << so, theirs << st, 0, 0, f"<< {dtype}")
        assert_close(ours >> so, theirs >> st, 0, 0, f">> {dtype}")


def test_special_namespace_is_torch_special() -> None:
    public = {n for n in dir(torch.special) if not n.startswith("_")}
    public -= {"Tensor", "torch", "common_args", "multi_dim_common"}  # torch's module internals
    missing = sorted(n for n in public if not hasattr(chainrule.special, n))
    assert not missing, f"torch.special names missing from chainrule.special: {missing}"


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.lgamma(x),
        lambda m, x: m.polygamma(2, x),
        lambda m, x: m.special.i1e(x),
        lambda m, x: m.special.log_ndtr(x),
        lambda m, x: m.xlogy(x, x + 1),
        lambda m, x: m.logaddexp(x, x * 2),
        lambda m, x: m.sinc(x),
        lambda m, x: m.logit(x / 4, eps=0.1),
    ],
)
def test_vmap_and_its_gradient_match_torch(fn) -> None:
    values = np.linspace(0.3, 3.0, 12).reshape(3, 4)
    ours = chainrule.func.vmap(chainrule.func.grad(lambda t: fn(chainrule, t).sum()))(
        chainrule.tensor(values)
    )
    theirs = torch.func.vmap(torch.func.grad(lambda t: fn(torch, t).sum()))(torch.tensor(values))
    assert_close(ours, theirs, 1e-7, 1e-10, "vmap(grad)")
