"""bfloat16, float16, complex dtypes and complex autograd against torch: promotion, limits,
printing, conversions, half-precision arithmetic, views of complex parts, errors, serialization."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, raises_like_torch, same

import chainrule

NAMES = [
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]
PAIRS = list(itertools.product(NAMES, NAMES))


def _name(d) -> str:
    return str(d).split(".")[-1]


# ---- promotion --------------------------------------------------------------------------------
@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types_as_torch(a, b) -> None:
    ours = chainrule.promote_types(getattr(chainrule, a), getattr(chainrule, b))
    assert _name(ours) == _name(torch.promote_types(getattr(torch, a), getattr(torch, b)))


@pytest.mark.parametrize("a,b", PAIRS)
def test_can_cast_as_torch(a, b) -> None:
    assert chainrule.can_cast(getattr(chainrule, a), getattr(chainrule, b)) == torch.can_cast(
        getattr(torch, a), getattr(torch, b)
    )


@pytest.mark.parametrize("a,b", PAIRS)
def test_binary_op_dtypes_with_zero_dim_tensors(a, b) -> None:
    """Tensors with dims, zero-dim tensors: torch's priorities."""
    if "bool" in (a, b) or {a, b} & {"float16"} and {a, b} & {"complex64", "complex128"}:
        return  # (float16 with a complex 0-d tensor can be torch's complex32, left out here)

    def program(m):
        x = m.ones(2, dtype=getattr(m, a))
        y = m.ones((), dtype=getattr(m, b))
        return [_name((x * y).dtype), _name((y * x).dtype), _name((x * y.expand(2)).dtype)]

    assert program(chainrule) == program(torch)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5, 1j, 2 + 0j])
def test_python_number_promotion(a, scalar) -> None:
    if a == "bool" or (a == "float16" and isinstance(scalar, complex)):
        return  # float16 with a complex number is complex32 in torch, which chainrule leaves out

    def program(m):
        x = m.ones(2, dtype=getattr(m, a))
        return _name((x * scalar).dtype), _name((scalar + x).dtype)

    assert program(chainrule) == program(torch)


def test_result_type_and_creation_from_complex_numbers() -> None:
    def program(m):
        return [
            _name(m.tensor(1j).dtype),
            _name(m.tensor([1, 2j]).dtype),
            _name(m.tensor([1.5, 2 + 1j], dtype=m.complex128).dtype),
            _name(m.result_type(m.ones(2), 1j)),
            _name(m.result_type(m.ones(2, dtype=m.float64), m.tensor(1j))),
            _name(m.result_type(m.tensor(1.0, dtype=m.float64), m.tensor(1j))),
            _name(m.result_type(m.ones(2, dtype=m.int32), m.tensor(1j, dtype=m.complex128))),
        ]

    assert program(chainrule) == program(torch)


def test_default_dtype_float64_makes_complex128() -> None:
    def program(m):
        old = m.get_default_dtype()
        m.set_default_dtype(m.float64)
        try:
            return _name(m.tensor(1j).dtype), _name((m.ones(2, dtype=m.int64) * 1j).dtype)
        finally:
            m.set_default_dtype(old)

    assert program(chainrule) == program(torch)


# ---- limits -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", None]
)
def test_finfo_as_torch(name) -> None:
    ours = chainrule.finfo(getattr(chainrule, name)) if name else chainrule.finfo()
    theirs = torch.finfo(getattr(torch, name)) if name else torch.finfo()
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert _name(ours.dtype) == _name(theirs.dtype)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_as_torch(name) -> None:
    ours, theirs = chainrule.iinfo(getattr(chainrule, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, _name(ours.dtype)) == (
        theirs.bits,
        theirs.min,
        theirs.max,
        _name(theirs.dtype),
    )


def test_finfo_iinfo_refuse_the_other_kind() -> None:
    raises_like_torch(lambda m: m.finfo(m.int32), "")
    raises_like_torch(lambda m: m.iinfo(m.float32), "")


def test_dtype_properties() -> None:
    for name in NAMES:
        ours, theirs = getattr(chainrule, name), getattr(torch, name)
        assert ours.is_floating_point == theirs.is_floating_point, name
        assert ours.is_complex == theirs.is_complex, name
        assert ours.is_signed == theirs.is_signed, name
        assert ours.itemsize == theirs.itemsize, name
    assert chainrule.cfloat is chainrule.complex64 and chainrule.cdouble is chainrule.complex128


# ---- printing ---------------------------------------------------------------------------------
REPRS = [
    lambda m: m.tensor([1.5 + 2j, -3j, 0.5 - 1j]),
    lambda m: m.tensor([1.5 + 2j, -3j], dtype=m.complex128),
    lambda m: m.tensor([[1 + 1j, 2], [3e5j, -1]]),
    lambda m: m.tensor([1e-7 + 1j, 1e10 - 2j]),
    lambda m: m.tensor([float("nan") + 1j, complex(float("inf"), -1)]),
    lambda m: m.tensor(2 + 3j),
    lambda m: m.tensor([], dtype=m.complex64),
    lambda m: m.tensor([1.5, 2.7, -3.0], dtype=m.bfloat16),
    lambda m: m.tensor([[1.0, 2.0], [3.0, 4.5]], dtype=m.bfloat16),
    lambda m: m.tensor([1e-5, 123456.0], dtype=m.bfloat16),
    lambda m: m.tensor([1.5, float("inf"), 2.0], dtype=m.float16),
    lambda m: m.tensor(3.25, dtype=m.bfloat16),
    lambda m: m.ones(2, dtype=m.bfloat16, requires_grad=True),
    lambda m: m.ones(2, dtype=m.complex64, requires_grad=True) * 2,
]


@pytest.mark.parametrize("k", range(len(REPRS)))
def test_repr_as_torch(k) -> None:
    ours = repr(REPRS[k](chainrule)).replace("chainrule.", "torch.")
    assert ours == repr(REPRS[k](torch))


# ---- conversions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method", ["byte", "char", "short", "half", "bfloat16", "cfloat", "cdouble", "float", "double"]
)
def test_conversion_methods(method) -> None:
    def program(m):
        x = m.tensor([-1.7, 0.2, 2.5, 300.25], dtype=m.float64)
        y = getattr(x, method)()
        return y.cdouble() if y.is_complex() or y.dtype == m.bfloat16 else y

    same(program)


def test_complex_to_real_cast_warns_like_torch_and_keeps_the_real_part() -> None:
    for m in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = m.tensor([1 + 2j, -3 + 1j]).to(m.float32)
        assert out.tolist() == [1.0, -3.0]
        assert any("discards the imaginary part" in str(w.message) for w in caught), m.__name__


def test_predicates() -> None:
    def program(m):
        z, x, i = m.tensor([1j]), m.tensor([1.0]), m.tensor([1])
        return [
            m.is_complex(z),
            z.is_complex(),
            x.is_complex(),
            m.is_floating_point(z),
            m.ones(1, dtype=m.bfloat16).is_floating_point(),
            z.is_signed(),
            i.is_signed(),
            m.tensor([1], dtype=m.uint8).is_signed(),
            m.is_conj(z.conj()) and False,
            z.is_neg(),
            m.resolve_conj(z).tolist(),
            m.resolve_neg(z).tolist(),
        ]

    same(program)


# ---- half precision arithmetic, as torch's CPU kernels -------------------------------------------
HALF_OPS = {
    "add": lambda m, x, y: x + y,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / y,
    "x * 0.1": lambda m, x, y: x * 0.1,
    "0.1 * x": lambda m, x, y: 0.1 * x,
    "x / 0.3": lambda m, x, y: x / 0.3,
    "0.3 / x": lambda m, x, y: 0.3 / x,
    "x + 0.1": lambda m, x, y: x + 0.1,
    "0.1 - x": lambda m, x, y: 0.1 - x,
    "exp": lambda m, x, y: m.exp(x),
    "tanh": lambda m, x, y: m.tanh(x),
    "sigmoid": lambda m, x, y: m.sigmoid(x),
    "sqrt": lambda m, x, y: m.sqrt(x.abs()),
    "sum": lambda m, x, y: x.sum(),
    "sum(0)": lambda m, x, y: x.reshape(10, 100).sum(0),
    "mean": lambda m, x, y: x.mean(),
    "var": lambda m, x, y: x.var(),
    "std(0)": lambda m, x, y: x.reshape(10, 100).std(0),
    "cumsum": lambda m, x, y: x.cumsum(0),
    "matmul": lambda m, x, y: x.reshape(10, 100) @ y.reshape(100, 10),
    "softmax": lambda m, x, y: m.softmax(x, 0),
    "norm": lambda m, x, y: m.linalg.vector_norm(x),
    "logsumexp": lambda m, x, y: m.logsumexp(x.reshape(10, 100), 1),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", list(HALF_OPS))
def test_half_precision_bit_for_bit(dtype, op) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(1000).astype(np.float32) * 3
    b = rng.standard_normal(1000).astype(np.float32)
    outs = []
    for m in (chainrule, torch):
        d = getattr(m, dtype)
        out = HALF_OPS[op](m, m.tensor(a).to(d), m.tensor(b).to(d))
        assert _name(out.dtype) == dtype
        outs.append(out.float().numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_gradients_keep_the_dtype(dtype) -> None:
    def program(m):
        d = getattr(m, dtype)
        w = m.tensor([[0.5, -1.25], [2.0, 0.75]], dtype=d, requires_grad=True)
        x = m.tensor([[1.5, 2.5], [-0.5, 1.0]], dtype=d, requires_grad=True)
        loss = (m.softmax(x @ w, 1) * 3).sum() + (x * w).mean() + m.tanh(w).sum()
        loss.backward()
        return [_name(w.grad.dtype), _name(x.grad.dtype), w.grad.float(), x.grad.float()]

    same(program, rtol=1e-2, atol=1e-2)


def test_bfloat16_mixed_with_float16_is_float32() -> None:
    same(lambda m: m.ones(2, dtype=m.bfloat16) + m.ones(2, dtype=m.float16) * 3)


# ---- complex autograd -------------------------------------------------------------------------
def _z(m, requires_grad=True):
    return m.tensor([1.5 + 2j, -3j, 0.5 - 1j], requires_grad=requires_grad)


def test_abs_squared_gradient_is_2z() -> None:
    def program(m):
        z = _z(m)
        (z.abs() ** 2).sum().backward()
        return m.view_as_real(z.grad)

    same(program)


def test_chain_through_mul_add_exp_matmul_sum() -> None:
    def program(m):
        z = m.tensor([1 + 1j, 2 - 1j], requires_grad=True)
        w = m.tensor([[0.5 - 2j, 1j], [2.0 + 0j, -1 + 1j]], requires_grad=True)
        y = ((m.exp(z * 0.5) + z) @ w).sum() * (1 - 2j)
        y.real.backward()
        return m.view_as_real(z.grad), m.view_as_real(w.grad)

    same(program)


def test_real_input_mixed_with_complex_gets_the_real_part() -> None:
    def program(m):
        x = m.tensor([1.0, -2.0], requires_grad=True)
        z = m.tensor([1 + 2j, 3 - 1j])
        (x * z).abs().sum().backward()
        return x.grad

    same(program)


def test_backward_of_a_complex_output_needs_a_real_scalar() -> None:
    raises_like_torch(lambda m: (_z(m) * 2).sum().backward(), "real scalar outputs")


def test_complex_gradient_passed_explicitly() -> None:
    def program(m):
        z = _z(m)
        (z * z).backward(m.tensor([1 + 1j, 2.0, -1j]))
        return m.view_as_real(z.grad)

    same(program)


@pytest.mark.parametrize("op", ["relu", "floor", "ceil", "trunc", "sign"])
def test_real_only_ops_refuse_complex(op) -> None:
    raises_like_torch(lambda m: getattr(m, op)(_z(m, False)), "")


def test_ops_without_a_complex_rule_refuse_complex_gradients() -> None:
    z = chainrule.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    y = chainrule.linalg.vector_norm(z.real) + z.real.sum()
    y.backward()  # through real: fine
    assert z.grad.tolist() == pytest.approx([1.4472135954999579 + 0j, 1.894427190999916 + 0j])


# ---- parts as views ---------------------------------------------------------------------------
def test_real_and_imag_are_writable_views() -> None:
    def program(m):
        z = m.tensor([1 + 2j, 3 - 1j])
        z.real.mul_(2)
        z.imag[0] = 7.0
        r = m.view_as_real(z)
        r[1, 1] = 5.0
        return m.view_as_real(z), z.real.tolist(), z.imag.tolist()

    same(program)


def test_in_place_on_real_part_is_differentiable() -> None:
    def program(m):
        z0 = m.tensor([1 + 2j, 3 - 1j], requires_grad=True)
        z = z0 * 1
        z.real.mul_(3)
        (z.abs() ** 2).sum().backward()
        return m.view_as_real(z0.grad)

    same(program)


def test_conj_physical_in_place() -> None:
    def program(m):
        z = m.tensor([1 + 2j, 3 - 1j])
        z.conj_physical_()
        return m.view_as_real(z)

    same(program)


# ---- errors -----------------------------------------------------------------------------------
def test_errors_like_torch() -> None:
    raises_like_torch(lambda m: m.imag(m.ones(2)), "imag is not implemented")
    raises_like_torch(lambda m: m.view_as_real(m.ones(2)), "view_as_real is only supported")
    raises_like_torch(lambda m: m.view_as_complex(m.ones(3)), "last dimension of size 2")
    raises_like_torch(lambda m: m.view_as_complex(m.ones(2, dtype=m.int64)), "")
    raises_like_torch(lambda m: m.view_as_complex(m.ones(2, 4).t()), "")
    raises_like_torch(lambda m: m.complex(m.ones(2), m.ones(2, dtype=m.float64)), "")
    raises_like_torch(lambda m: m.complex(m.ones(2, dtype=m.int64), m.ones(2, dtype=m.int64)), "")
    raises_like_torch(lambda m: m.polar(m.ones(2), m.ones(2, dtype=m.float64)), "")
    raises_like_torch(lambda m: m.ones(2, dtype=m.int64).requires_grad_(), "floating point")
    raises_like_torch(lambda m: m.fft.fft(m.ones(4), norm="bogus"), "Invalid normalization mode")
    raises_like_torch(lambda m: m.fft.rfft(m.ones(4, dtype=m.complex64)), "")
    raises_like_torch(lambda m: m.fft.fft(m.ones(4), n=0), "")
    raises_like_torch(lambda m: m.fft.fft(m.ones(4), dim=3), "")
    raises_like_torch(lambda m: m.fft.fftn(m.ones(4, 4), s=(2, 2), dim=(0,)), "")


# ---- fft dtypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex64", "complex128"])
@pytest.mark.parametrize("fn", ["fft", "ifft", "fftn", "hfft", "irfft"])
def test_fft_dtypes(dtype, fn) -> None:
    def program(m):
        x = m.arange(6).reshape(2, 3).to(getattr(m, dtype))
        out = getattr(m.fft, fn)(x)
        return _name(out.dtype), out.resolve_conj().resolve_neg() if out.is_complex() else out

    ours, theirs = program(chainrule), program(torch)
    assert ours[0] == theirs[0]
    assert_close(ours[1].numpy() if ours[1].is_complex() else ours[1], theirs[1].numpy(), 1e-5, 1e-5, fn)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("fn", ["rfft", "ihfft", "rfftn"])
def test_rfft_dtypes(dtype, fn) -> None:
    def program(m):
        out = getattr(m.fft, fn)(m.arange(6).reshape(2, 3).to(getattr(m, dtype)))
        return _name(out.dtype), m.view_as_real(out.resolve_conj()).double()

    same(program, rtol=1e-5, atol=1e-5)


def test_fftfreq_and_shift() -> None:
    same(
        lambda m: (
            m.fft.fftfreq(7, 0.1),
            m.fft.rfftfreq(8, dtype=m.float64),
            m.fft.fftshift(m.arange(10.0).reshape(2, 5)),
            m.fft.ifftshift(m.arange(10.0).reshape(2, 5), dim=1),
        )
    )


# ---- serialization ----------------------------------------------------------------------------
def test_save_load_bfloat16_and_complex_readable_by_torch(tmp_path) -> None:
    from safetensors.torch import load_file

    x = chainrule.tensor([1.5, 2.7, -3.1], dtype=chainrule.bfloat16)
    z = chainrule.tensor([1 + 2j, 3 - 1j])
    path = tmp_path / "t.safetensors"
    chainrule.save({"x": x, "z": z}, str(path))
    back = chainrule.load(str(path))
    assert back["x"].dtype == chainrule.bfloat16 and back["z"].dtype == chainrule.complex64
    assert back["x"].float().tolist() == x.float().tolist() and back["z"].tolist() == z.tolist()
    theirs = load_file(str(path))
    assert theirs["x"].dtype == torch.bfloat16
    assert theirs["x"].float().tolist() == x.float().tolist()
    assert theirs["z"].tolist() == z.tolist()


def test_save_refuses_complex128_with_a_clear_message(tmp_path) -> None:
    with pytest.raises(TypeError, match="complex128"):
        chainrule.save({"z": chainrule.tensor([1j], dtype=chainrule.complex128)}, str(tmp_path / "z"))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "complex64", "complex128"])
@pytest.mark.parametrize("fn", ["rand", "randn"])
def test_random_of_half_and_complex_dtypes(dtype, fn) -> None:
    ours = getattr(chainrule, fn)(4000, dtype=getattr(chainrule, dtype))
    theirs = getattr(torch, fn)(4000, dtype=getattr(torch, dtype))
    assert _name(ours.dtype) == _name(theirs.dtype)
    parts = (ours.real, ours.imag) if ours.is_complex() else (ours,)
    for part in parts:  # the same distribution: per-part variance as torch's
        expected = float((theirs.real if theirs.is_complex() else theirs).float().var())
        assert abs(float(part.float().var()) - expected) < 0.15 * expected + 0.02
        if fn == "rand":
            assert 0 <= float(part.float().min()) and float(part.float().max()) < 1
