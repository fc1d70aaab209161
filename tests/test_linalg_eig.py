"""linalg.eig / eigvals beyond the op specs: the defining identity over hypothesis-drawn shapes,
phase conventions, errors against torch's, degenerate inputs, and backward's refusal of a loss
that depends on the eigenvectors' phases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from oracle import LIBS, both, raises_like_torch, to_numpy
from specs.linalg_decomp import matrices

import chainrule

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@SETTINGS
@given(shapes=matrices(square=True, max_side=5))
@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "complex64"])
def test_eigenpairs_satisfy_A_V_eq_V_L(shapes, dtype) -> None:
    (shape,) = shapes
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    a = a.astype(dtype)
    L, V = chainrule.linalg.eig(chainrule.tensor(a))
    tL, tV = torch.linalg.eig(torch.tensor(a))
    assert str(L.dtype).split(".")[-1] == str(tL.dtype).split(".")[-1] == str(V.dtype).split(".")[-1]
    tol = 1e-4 if dtype in ("float32", "complex64") else 1e-10
    Ln, Vn = L.numpy(), V.numpy()
    np.testing.assert_allclose(a @ Vn, Vn * Ln[..., None, :], atol=tol * 10)
    np.testing.assert_allclose(np.linalg.norm(Vn, axis=-2), 1, atol=tol)  # unit columns
    tLn = to_numpy(tL)
    if tol > 1e-6:  # NumPy's eig runs in float64 for float32: LAPACK's order may differ from torch's
        Ln, tLn = np.sort_complex(Ln.round(3)), np.sort_complex(tLn.round(3))
    # the same eigenvalues as torch, in float64 in the same (LAPACK's) order
    np.testing.assert_allclose(Ln, tLn, atol=tol * 10)


def test_eigenvectors_follow_lapacks_phase_convention() -> None:
    """Real eigenvalues of a real matrix give real eigenvectors; columns are compared with
    torch's up to the phase torch documents as arbitrary."""
    a = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 0.2, 5.0]])
    (L, V), (tL, tV) = both(lambda m, x: m.linalg.eig(x), a)
    assert not np.abs(V.numpy().imag).any()
    v, tv = V.numpy(), to_numpy(tV)
    phase = (tv.conj() * v).sum(-2)  # each column's relative phase
    np.testing.assert_allclose(np.abs(phase), 1, atol=1e-12)
    np.testing.assert_allclose(v, tv * phase, atol=1e-12)


def test_eigvals_match_eig() -> None:
    a = np.random.default_rng(1).standard_normal((2, 4, 4))
    np.testing.assert_allclose(
        chainrule.linalg.eigvals(chainrule.tensor(a)).numpy(),
        chainrule.linalg.eig(chainrule.tensor(a)).eigenvalues.numpy(),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda m: m.linalg.eig(m.ones(2, 3)), "square matrices"),
        (lambda m: m.linalg.eigvals(m.ones(2, 3)), "square matrices"),
        (lambda m: m.linalg.eig(m.ones(3)), "at least 2 dimensions"),
        (lambda m: m.linalg.eig(m.ones(2, 2, dtype=m.int64)), "Unknown Complex ScalarType for Long"),
        (lambda m: m.linalg.eigvals(m.ones(3, dtype=m.int32)), "Unknown Complex ScalarType for Int"),
        (lambda m: m.linalg.eig(m.ones(2, 2, dtype=m.bfloat16)), "not implemented for 'BFloat16'"),
        (lambda m: m.linalg.eig(m.full((2, 2), float("nan"))), "should not contain infs or NaNs"),
        (lambda m: m.linalg.eig(m.full((2, 2), float("inf"))), "should not contain infs or NaNs"),
        (
            lambda m: m.linalg.eig(m.ones(2, 2, dtype=m.float64), out=(m.empty(0), m.empty(0))),
            "safely castable",
        ),
        (
            lambda m: m.linalg.eig(
                m.ones(2, 2, requires_grad=True), out=(m.empty(0, dtype=m.complex64),) * 2
            ),
            "don't support automatic differentiation",
        ),
    ],
)
def test_errors_match_torch(program, match) -> None:
    raises_like_torch(program, match)


def test_phase_dependent_loss_raises_in_backward() -> None:
    def program(m):
        z = m.complex(m.tensor([[1.0, 2.0], [-3.0, 0.5]]), m.tensor([[0.3, 0.0], [1.0, -1.0]]))
        z.requires_grad_()
        V = m.linalg.eig(z).eigenvectors
        m.autograd.grad(V.real.sum(), z)

    raises_like_torch(program, "specified up to multiplication by e\\^\\{i phi\\}")


def test_gradient_of_phase_free_loss_on_a_complex_input() -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    grads = []
    for m in LIBS:
        x = m.tensor(a, requires_grad=True)
        L, V = m.linalg.eig(x)
        loss = V.abs().sum() + (L * L).real.sum() + (V.conj() * V[..., :1, :]).imag.sum()
        grads.append(to_numpy(m.autograd.grad(loss, x)[0]))
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-10)


def test_defective_matrix_gives_nan_like_torch() -> None:
    """A Jordan block: repeated eigenvalues, eigenvectors nearly parallel; torch's gradient
    through V is nan, through L alone it stays finite."""
    a = np.array([[2.0, 1.0], [0.0, 2.0]])
    for loss in (lambda L, V: V.abs().sum(), lambda L, V: L.real.sum()):
        out = []
        for m in LIBS:
            x = m.tensor(a, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no NumPy RuntimeWarning
                out.append(to_numpy(m.autograd.grad(loss(*m.linalg.eig(x)), x)[0]))
        np.testing.assert_array_equal(np.isnan(out[0]), np.isnan(out[1]))
        np.testing.assert_allclose(out[0], out[1], atol=1e-6)


def test_empty_and_no_grad_results() -> None:
    for m in LIBS:
        L, V = m.linalg.eig(m.zeros(3, 0, 0))
        assert tuple(L.shape) == (3, 0) and tuple(V.shape) == (3, 0, 0)
        assert str(L.dtype).endswith("complex64")
    x = chainrule.ones(2, 2, requires_grad=True)
    with chainrule.no_grad():
        L, V = chainrule.linalg.eig(x)
    assert not L.requires_grad and not V.requires_grad


def test_out_writes_complex_tensors() -> None:
    a = np.random.default_rng(4).standard_normal((3, 3))
    results = []
    for m in LIBS:
        vals, vecs = m.empty(0, dtype=m.complex128), m.empty(0, dtype=m.complex128)
        r = m.linalg.eig(m.tensor(a), out=(vals, vecs))
        assert r[0] is vals and r[1] is vecs
        ev = m.empty(0, dtype=m.complex128)
        assert m.linalg.eigvals(m.tensor(a), out=ev) is ev
        results.append((to_numpy(vals), np.abs(to_numpy(vecs)), to_numpy(ev)))
    for o, t in zip(*results):
        np.testing.assert_allclose(o, t, atol=1e-12)


def test_vmap_and_grad_match_torch() -> None:
    """eig under func.vmap (NumPy's eig batches over the vmapped dim) and its per-sample grad."""
    a = np.random.default_rng(5).standard_normal((4, 3, 3))
    results = []
    for m in LIBS:
        x = m.tensor(a)

        def loss(s, m=m):
            L, V = m.linalg.eig(s)
            return V.abs().sum() + L.imag.abs().sum() + m.linalg.eigvals(s).real.sum()

        values = m.func.vmap(lambda s, m=m: m.linalg.eig(s).eigenvalues)(x)
        results.append((to_numpy(values), to_numpy(m.func.vmap(m.func.grad(loss))(x))))
    for o, t in zip(*results):
        np.testing.assert_allclose(o, t, atol=1e-10)
