"""chainrule.linalg under chainrule.func.vmap against torch.func.vmap: the decompositions (svd, eigh,
qr), the norms and condition numbers built on singular values, pinv, lstsq, matrix_exp and the
determinants, forward values and the gradients through the vmapped function, with mapped and
shared arguments and nested vmaps; and the singular / not positive-definite cases of inv_ex,
cholesky_ex and cholesky under vmap.

Losses of singular and eigen vectors are sign-invariant (``U @ Vh``, ``V f(L) V^T``), as any loss
of them must be: LAPACK builds may pick different signs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

RNG = np.random.default_rng(7)
# torch.func.vmap runs cond(p="nuc") per sample and says so
pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop")


def _vmap_and_grad(lib, body, arrays, in_dims, cotangent_seed: int = 0):
    """The outputs of ``vmap(body)`` and the gradients of <outputs, fixed cotangents> with respect
    to the float inputs."""
    args = [lib.tensor(a, requires_grad=True) for a in arrays]
    outs = lib.func.vmap(lambda *xs: body(lib, *xs), in_dims=in_dims)(*args)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    rng = np.random.default_rng(cotangent_seed)
    diff = [o for o in outs if o.requires_grad]
    cots = [lib.tensor(rng.standard_normal(tuple(o.shape))) for o in diff]
    grads = lib.autograd.grad(diff, args, cots, allow_unused=True) if diff else [None] * len(args)
    return ([o.detach().numpy() for o in outs], [None if g is None else g.detach().numpy() for g in grads])


def check(body, arrays, in_dims=0, rtol=1e-9, atol=1e-11, grad=True):
    ours, our_grads = _vmap_and_grad(chainrule, body, arrays, in_dims)
    theirs, their_grads = _vmap_and_grad(torch, body, arrays, in_dims)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape and o.dtype == t.dtype, (o.shape, o.dtype, t.shape, t.dtype)
        np.testing.assert_allclose(o, t, rtol=rtol, atol=atol)
    if grad:
        for o, t in zip(our_grads, their_grads):
            assert (o is None) == (t is None)
            if o is not None:
                np.testing.assert_allclose(o, t, rtol=rtol, atol=atol)


def _polar(m, a):
    U, _, Vh = m.linalg.svd(a, full_matrices=False)
    return U @ Vh


def _eig_fn(m, a):
    L, V = m.linalg.eigh(a + a.mT)
    return L, (V * m.exp(L / 4).unsqueeze(-2)) @ V.mT


def _lstsq(m, a, b):
    r = m.linalg.lstsq(a, b, driver="gelsd")
    return r.solution, r.residuals, r.rank, r.singular_values


CASES = [
    ("svdvals", lambda m, a: m.linalg.svdvals(a), [(4, 5, 3)]),
    ("svd: S and U Vh", lambda m, a: (m.linalg.svd(a).S, _polar(m, a)), [(4, 5, 3)]),
    ("torch.svd wide", lambda m, a: (m.svd(a).S, _polar(m, a)), [(3, 2, 4)]),
    ("eigh: L and V f(L) V^T", _eig_fn, [(4, 4, 4)]),
    ("eigvalsh (batches)", lambda m, a: m.linalg.eigvalsh(a + a.mT), [(3, 2, 4, 4)]),
    ("qr reduced", lambda m, a: tuple(m.linalg.qr(a)), [(4, 5, 3)]),
    ("qr complete, wide", lambda m, a: tuple(m.linalg.qr(a, mode="complete")), [(4, 3, 5)]),
    (
        "matrix_norm 2, -2, nuc",
        lambda m, a: (
            m.linalg.matrix_norm(a, 2),
            m.linalg.matrix_norm(a, -2),
            m.linalg.matrix_norm(a, "nuc"),
        ),
        [(4, 3, 3)],
    ),
    ("norm nuc over dims (0, 2)", lambda m, a: m.norm(a, p="nuc", dim=(0, 2)), [(3, 4, 2, 4)]),
    (
        "cond None, -2, nuc",
        lambda m, a: (m.linalg.cond(a), m.linalg.cond(a, -2), m.linalg.cond(a, "nuc")),
        [(4, 3, 3)],
    ),
    ("pinv hermitian", lambda m, a: m.linalg.pinv(a + a.mT, hermitian=True), [(4, 3, 3)]),
    ("pinv", lambda m, a: m.linalg.pinv(a), [(4, 5, 3)]),
    ("lstsq gelsd: all outputs", _lstsq, [(4, 5, 3), (4, 5, 2)]),
    ("lstsq gelsy", lambda m, a, b: m.linalg.lstsq(a, b).solution, [(4, 5, 3), (4, 5, 2)]),
    ("lstsq underdetermined", lambda m, a, b: m.linalg.lstsq(a, b).solution, [(4, 2, 4), (4, 2, 3)]),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), [(4, 3, 3)]),
    ("matrix_exp (batches)", lambda m, a: m.matrix_exp(a / 2), [(3, 2, 4, 4)]),
    ("det", lambda m, a: m.linalg.det(a), [(4, 3, 3)]),
    ("slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), [(4, 3, 3)]),
]


@pytest.mark.parametrize("name,body,shapes", CASES, ids=[c[0] for c in CASES])
def test_linalg_under_vmap(name, body, shapes) -> None:
    check(body, [RNG.standard_normal(s) for s in shapes], 0)


def test_cond_without_gradient_under_vmap() -> None:
    """cond with p = 1 / inf (NumPy's inverse; torch's backward of these raises: values only),
    one sample singular (its condition number is inf)."""
    a = RNG.standard_normal((3, 3, 3))
    a[1, 2] = 0.0
    for p in (1, float("inf")):
        ours = chainrule.func.vmap(lambda x, p=p: chainrule.linalg.cond(x, p))(chainrule.tensor(a))
        theirs = torch.func.vmap(lambda x, p=p: torch.linalg.cond(x, p))(torch.tensor(a))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9)


def test_matrix_rank_with_mapped_tolerances() -> None:
    a = RNG.standard_normal((3, 4, 4))
    tol = np.array([0.1, 1.0, 3.0])
    for hermitian in (False, True):

        def rank(m, x, r, h=hermitian):
            return m.linalg.matrix_rank(x, atol=r, hermitian=h)

        ours, theirs = (
            m.func.vmap(lambda x, r, m=m: rank(m, x, r))(m.tensor(a), m.tensor(tol))
            for m in (chainrule, torch)
        )
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


SHARED = [  # a shared (unbatched) argument meets a mapped one in the op or in its backward
    ("lstsq, shared A", lambda m, a, b: m.linalg.lstsq(a, b).solution, [(2, 5, 3), (4, 1, 5, 2)], (None, 0)),
    ("lstsq, shared B", lambda m, a, b: m.linalg.lstsq(a, b).solution, [(4, 2, 5, 3), (1, 5, 2)], (0, None)),
    (
        "matrix_exp of a shared A, scaled",
        lambda m, a, s: m.linalg.matrix_exp(a) * s,
        [(3, 3), (4,)],
        (None, 0),
    ),
    ("det of a shared A, scaled", lambda m, a, s: m.linalg.det(a) * s, [(2, 3, 3), (4,)], (None, 0)),
    ("svdvals of a shared A, scaled", lambda m, a, s: m.linalg.svdvals(a) * s, [(4, 3), (4,)], (None, 0)),
]


@pytest.mark.parametrize("name,body,shapes,in_dims", SHARED, ids=[c[0] for c in SHARED])
def test_linalg_under_vmap_shared(name, body, shapes, in_dims) -> None:
    check(body, [RNG.standard_normal(s) for s in shapes], in_dims)


NESTED = [
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), [(2, 3, 3, 3)]),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [(2, 3, 5, 3), (2, 3, 5, 2)]),
    ("svd", lambda m, a: (m.linalg.svdvals(a), _polar(m, a)), [(2, 3, 4, 3)]),
    ("det", lambda m, a: m.linalg.det(a), [(2, 3, 3, 3)]),
]


@pytest.mark.parametrize("name,body,shapes", NESTED, ids=[c[0] for c in NESTED])
def test_linalg_under_nested_vmap(name, body, shapes) -> None:
    def nested(m, *xs):
        return m.func.vmap(lambda *ys: body(m, *ys))(*xs)

    check(nested, [RNG.standard_normal(s) for s in shapes], 0)


def test_outer_and_inner_vmap_batch_different_operands() -> None:
    """The outer vmap maps A, the inner one a scale: the backward kernels see A batched at the outer
    level only and the cotangent at both, and map the inner batch, then the outer one."""

    def body(m, a, s):
        return m.func.vmap(
            lambda t: (m.linalg.det(a) * t, m.linalg.matrix_exp(a) * t, m.linalg.lstsq(a, a.mT * t).solution)
        )(s)

    check(body, [RNG.standard_normal((3, 4, 4)), RNG.standard_normal((3, 2))], 0)


def _singular_batch() -> np.ndarray:
    """Three 3x3 matrices, the middle one of rank 2: a zero row, so its LU has an exactly zero
    pivot (the case LAPACK reports)."""
    a = RNG.standard_normal((3, 3, 3))
    a[1, 2] = 0.0
    return a


def test_det_of_a_singular_sample_gives_its_cofactors() -> None:
    """torch's plain backward gives zeros at an exactly singular matrix, chainrule the cofactors
    (docs/differences.md): compare the regular samples with torch, the singular one with the
    cofactor matrix, both under vmap."""
    a = _singular_batch()
    x = chainrule.tensor(a, requires_grad=True)
    (g,) = chainrule.autograd.grad(chainrule.func.vmap(chainrule.linalg.det)(x).sum(), x)
    t = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.func.vmap(torch.linalg.det)(t).sum(), t)
    np.testing.assert_allclose(g.numpy()[[0, 2]], tg.numpy()[[0, 2]], rtol=1e-9)
    m = a[1]
    cof = np.array(
        [
            [(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(m, i, 0), j, 1)) for j in range(3)]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(g.numpy()[1], cof, rtol=1e-9, atol=1e-12)


def test_inv_ex_and_cholesky_ex_report_failing_samples() -> None:
    a = _singular_batch()
    ours = chainrule.func.vmap(chainrule.linalg.inv_ex)(chainrule.tensor(a))
    theirs = torch.func.vmap(torch.linalg.inv_ex)(torch.tensor(a))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(ours.inverse.numpy()[[0, 2]], theirs.inverse.numpy()[[0, 2]], rtol=1e-9)
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(3)
    spd[1] = -spd[1]
    ours = chainrule.func.vmap(chainrule.linalg.cholesky_ex)(chainrule.tensor(spd))
    theirs = torch.func.vmap(torch.linalg.cholesky_ex)(torch.tensor(spd))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(ours.L.numpy()[[0, 2]], theirs.L.numpy()[[0, 2]], rtol=1e-9)


def test_errors_under_vmap_are_linalg_errors() -> None:
    """A sample that is not positive definite / singular raises LinAlgError (as torch under vmap),
    not vmap's error about converting a batched array."""
    spd = RNG.standard_normal((3, 3, 3))
    spd = spd @ np.swapaxes(spd, -1, -2) + np.eye(3)
    spd[2] = -spd[2]
    with pytest.raises(chainrule.linalg.LinAlgError, match="not positive-definite"):
        chainrule.func.vmap(chainrule.linalg.cholesky)(chainrule.tensor(spd))
    with pytest.raises(chainrule.linalg.LinAlgError, match="singular"):
        chainrule.func.vmap(chainrule.linalg.inv)(chainrule.tensor(_singular_batch()))
    with pytest.raises(chainrule.linalg.LinAlgError, match="singular"):
        chainrule.func.vmap(lambda a: chainrule.linalg.inv_ex(a, check_errors=True))(
            chainrule.tensor(_singular_batch())
        )
