"""Spectral decompositions: ``linalg.eigh``, ``eigvalsh``, ``svd``, ``svdvals`` and ``torch.svd``.

A decomposition has several outputs but one derivative rule that needs all their gradients at once
(the eigenvector term of eigh's gradient mixes ``gL`` and ``gV``). So each is ONE recorded op whose
output packs the factors into a single array; the public function returns differentiable slices of
it, whose gradients scatter back into the packed shape (zeros where a factor was not used), and the
rule unpacks ``g`` again. The slices get their own memory (so writing into one never changes the
saved factors) but share the packed output's version counter: an in-place change of any factor
makes a later backward through the decomposition raise, as in torch, which saves every factor.

Rules are written in ``F`` only, so ``create_graph=True`` differentiates them again.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd._tables import FORWARD, has_tangent
from ..autograd.grad_mode import GRAD
from ..autograd.graph import defop, register_outputs
from ._common import Tensor, all_true, any_true, as_tensor, make_result, wrap, zeros_for
from ._linalg_common import check_out, column_major, matrix_input
from .index import getitem
from .linalg_solve import LinAlgError
from .shape import transpose
from .shape import transpose as _transpose

__all__ = ["svd"]  # torch.svd; the torch.linalg functions are exported by chainrule.linalg

EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
SVDTuple = namedtuple("svd", ["U", "S", "V"])


# ---- shared helpers (also used by linalg_qr) ----------------------------------------------------
def records(A: Tensor) -> bool:
    """Whether an op on ``A`` is recorded in the graph (grad mode on and ``A`` requires grad), or
    gives a tangent (``A`` is a dual tensor of forward-mode AD)."""
    return (GRAD.enabled and A._rg) or (FORWARD.active and has_tangent(A))


def part(packed: Tensor, index: tuple, transpose: bool = False, columns: bool = False) -> Tensor:
    """One factor of a packed output: a differentiable slice with memory of its own that shares
    the packed tensor's version counter (see the module docstring); column-major if ``columns``."""
    t = getitem(packed, index)
    if transpose:
        t = _transpose(t, -2, -1)
    # the slice ops save nothing, so their output may own its memory (in torch's layout)
    t._data = column_major(t._data) if columns else t._data.copy()
    t._vc = packed._shared_vc()
    return t


def parts(packed: Tensor, *indices: tuple, transposed: int | None = None, columns: tuple = ()) -> tuple:
    """The outputs of a packed multi-output result, one ``part`` per index (the one numbered
    ``transposed`` transposed; those numbered in ``columns`` column-major), registered as that
    result's outputs (``register_outputs``)."""
    outputs = tuple(part(packed, index, i == transposed, i in columns) for i, index in enumerate(indices))
    register_outputs(packed, outputs)
    return outputs


def used(F, g) -> bool:
    """Whether an output's gradient carries anything: a factor the loss never read gets exact
    zeros, which the rules treat as torch treats an undefined gradient (the term is skipped, so
    e.g. eigenvalues alone stay differentiable at repeated eigenvalues). Under vmap: used by
    any sample (a sample that did not use it gets zeros through the term)."""
    return any_true(g)  # (arrays and tensors alike)


def eye_like(F, x, n: int):
    return F.constant(np.eye(n, dtype=F.dtype_of(x)))


def differences(F, x, n: int):
    """torch's ``E``: ``E_ij = x_j - x_i`` with ones on the diagonal, put there by selecting (torch's
    ``fill_(1)``), not by adding: an infinite ``x_i`` (a singular value of 1e38 squared in
    float32) then leaves 1 on the diagonal where ``inf - inf + 1`` would leave NaN."""
    eye = eye_like(F, x, n)
    return F.where(F.constant(np.eye(n, dtype=bool)), eye, F.expand_dims(x, -2) - F.expand_dims(x, -1))


def diag_embed(F, v, n: int):
    """``(..., n) -> (..., n, n)`` with ``v`` on the diagonal (differentiable in F)."""
    return F.expand_dims(v, -1) * eye_like(F, v, n)


def svd_of_finite(who: str, a: np.ndarray, full_matrices: bool = True, compute_uv: bool = True):
    """``np.linalg.svd(a, ...)`` without ever handing LAPACK a non-finite matrix.

    LAPACK's gesdd can loop forever on an inf (reproduced in NumPy's OpenBLAS: a 3x3 float32
    matrix holding one inf never returns), so the matrices are checked first, at the cost of one
    ``isfinite`` pass. As in torch, a NaN anywhere raises ``LinAlgError`` (a RuntimeError); a
    matrix holding an inf (and no NaN) gets NaN singular values, which is torch's ``S`` there
    (MKL's gesdd rejects the inf while scaling and returns NaN). Its ``U`` and ``Vh`` are NaN too:
    torch's are whatever permutation matrices gesdd leaves behind (they change with the values,
    and for some positions of the inf torch raises instead), not singular vectors of anything,
    so chainrule does not imitate them (docs/differences.md, "Extreme values"). The other
    matrices of a batch are factored as usual.
    """
    if all_true(np.isfinite(a)):
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    if type(a) is not np.ndarray or any_true(np.isnan(a)):  # (under vmap: an error for inf too)
        raise LinAlgError(
            f"{who}: The algorithm failed to converge because the input matrix contained non-finite "
            f"values (shape {tuple(a.shape)}); replace NaN first (e.g. torch.nan_to_num)"
        )
    return _svd_with_inf(a, full_matrices, compute_uv)


def _svd_with_inf(a: np.ndarray, full_matrices: bool, compute_uv: bool):
    """The SVD of a stack in which some matrices hold an inf: NaN factors for those (see
    :func:`svd_of_finite`), LAPACK's for the finite ones."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    bad = ~np.isfinite(a).all(axis=(-2, -1))
    good = ~bad
    S = np.full(batch + (k,), np.nan, dtype=a.dtype)
    if not compute_uv:
        if good.any():
            S[good] = np.linalg.svd(a[good], compute_uv=False)
        return S
    cols, rows = (m, n) if full_matrices else (k, k)
    U = np.full(batch + (m, cols), np.nan, dtype=a.dtype)
    Vh = np.full(batch + (rows, n), np.nan, dtype=a.dtype)
    if good.any():
        U[good], S[good], Vh[good] = np.linalg.svd(a[good], full_matrices=full_matrices)
    return U, S, Vh


def _lapack(who: str, fn, a: np.ndarray, values: str = "singular values", **kwargs):
    """Run a NumPy LAPACK routine; non-convergence becomes LinAlgError with torch's wording."""
    if fn is np.linalg.svd:
        return svd_of_finite(who, a, **kwargs)
    try:
        return fn(a, **kwargs)
    except np.linalg.LinAlgError:
        why = (
            f"the input matrix is ill-conditioned or has too many repeated {values}"
            if all_true(np.isfinite(a))
            else "the input matrix contained non-finite values"
        )
        raise LinAlgError(f"{who}: The algorithm failed to converge because {why}.") from None


# ---- eigh --------------------------------------------------------------------------------------
@defop(
    "linalg_eigh",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = V (diag(dl/dL) + skew(V^T dl/dV) / E) V^T,  E_ij = L_j - L_i  (V, L: in {y})",
)
def _eigh(F, g, xs, out, p, needs):
    with np.errstate(divide="ignore", invalid="ignore"):  # repeated eigenvalues: inf/nan, no warning
        return _eigh_grad(F, g, out, p[0])


def _eigh_grad(F, g, out, n: int):
    rows = (Ellipsis, slice(0, n), slice(None))
    V, L = F.getitem(out, rows), F.getitem(out, (Ellipsis, n, slice(None)))
    gV, gL = F.getitem(g, rows), F.getitem(g, (Ellipsis, n, slice(None)))
    inner = diag_embed(F, gL, n)
    if used(F, gV):
        VtgV = F.matmul(F.mT(V), gV)
        # the projection onto skew-symmetric matrices (the tangent space of orthogonal V), then
        # torch's E with ones on its diagonal: that diagonal of the skew part is exactly 0
        E = differences(F, L, n)
        inner = inner + ((VtgV - F.mT(VtgV)) * 0.5) / E
    return (F.matmul(V, F.matmul(inner, F.mT(V))),)


def _eigh_arrays(who: str, A, UPLO: str):
    A, a = matrix_input(who, A, "linalg_eigh_cpu", square=True, any_dtype_kernel=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L, V = _lapack(who, np.linalg.eigh, a, "eigenvalues", UPLO=UPLO)
    return A, L.astype(a.dtype, copy=False), V.astype(a.dtype, copy=False)


def eigh(A: Tensor, UPLO: str = "L", *, out=None) -> EighResult:
    """``torch.linalg.eigh``: eigenvalues (ascending) and orthonormal eigenvectors of symmetric
    matrices, batched over leading dims.

    Parameters
    ----------
    A : ``(*, n, n)`` float32/float64 tensor; only the triangle named by ``UPLO`` is read.
    UPLO : ``'L'`` (default) or ``'U'``.

    Returns
    -------
    ``(eigenvalues (*, n), eigenvectors (*, n, n))`` with ``A = V diag(L) V^T``. Each eigenvector
    is unique up to its sign only, so a loss should not depend on the signs (use ``V * V`` or
    ``V @ f(L) @ V.mT``). The gradient is torch's: a symmetric matrix (both triangles share it,
    even though only one is read), ``inf``/``nan`` where eigenvectors are used and eigenvalues
    repeat; with only the eigenvalues used it is ``V diag(gL) V^T``, finite everywhere.
    """
    check_out("linalg.eigh", out)
    A, L, V = _eigh_arrays("linalg.eigh", A, UPLO)
    if not records(A):
        return EighResult(wrap(L), wrap(column_major(V)))
    n = L.shape[-1]
    packed = make_result(np.concatenate([V, L[..., None, :]], axis=-2), _eigh, (A,), (n, UPLO))
    return EighResult(
        *parts(packed, (Ellipsis, n, slice(None)), (Ellipsis, slice(0, n), slice(None)), columns=(1,))
    )


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """The eigenvalues of symmetric matrices, in ascending order (``torch.linalg.eigvalsh``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, n, n)``; only the triangle named by ``UPLO`` is read.
    UPLO : {'L', 'U'}, default 'L'
        Read the lower (``'L'``) or the upper (``'U'``) triangle.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        The eigenvalues, shape ``(*, n)``, ascending.

    Notes
    -----
    The gradient is ``V diag(dl/dL) V^T`` (see :func:`eigh`), finite even at repeated eigenvalues.
    A LAPACK failure to converge raises ``LinAlgError``.
    """
    check_out("linalg.eigvalsh", out)
    A = as_tensor(A, "linalg.eigvalsh")
    if records(A):
        return eigh(A, UPLO).eigenvalues
    _, a = matrix_input("linalg.eigh", A, "linalg_eigh_cpu", square=True, any_dtype_kernel=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L = _lapack("linalg.eigh", np.linalg.eigvalsh, a, "eigenvalues", UPLO=UPLO)
    return wrap(L.astype(a.dtype, copy=False))


# ---- svd ---------------------------------------------------------------------------------------
# packed layout: rows [0, m) hold U, row m holds S, rows (m, m + n] hold Vh^T; the columns are
# padded to the wider of U and Vh^T (they differ only with full_matrices=True)
@defop(
    "linalg_svd",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T + (m != n terms),"
    "  E_ij = s_j^2 - s_i^2  (U, S, V: in {y})",
)
def _svd(F, g, xs, out, p, needs):
    with np.errstate(divide="ignore", invalid="ignore"):  # repeated or zero singular values
        return _svd_grad(F, g, out, *p)


def _svd_grad(F, g, out, m: int, n: int, k: int):
    # with full_matrices=True only the first k columns of U and rows of Vh enter, as in torch (the
    # others are any orthonormal completion: the loss must not depend on them)
    def unpack(x):
        return (
            F.getitem(x, (Ellipsis, slice(0, m), slice(0, k))),
            F.getitem(x, (Ellipsis, m, slice(0, k))),
            F.mT(F.getitem(x, (Ellipsis, slice(m + 1, None), slice(0, k)))),
        )

    U, S, Vh = unpack(out)
    gU, gS, gVh = unpack(g)
    has_u, has_v = used(F, gU), used(F, gVh)
    if not has_u and not has_v:  # svdvals: U diag(gS) Vh
        return (
            F.matmul(U, F.expand_dims(gS, -1) * Vh) if m >= n else F.matmul(U * F.expand_dims(gS, -2), Vh),
        )
    S2 = S * S
    E = differences(F, S2, k)
    inner = None
    if has_u:
        UtgU = F.matmul(F.mT(U), gU)
        inner = (UtgU - F.mT(UtgU)) * F.expand_dims(S, -2)
    if has_v:
        VtgV = F.matmul(Vh, F.mT(gVh))
        term = F.expand_dims(S, -1) * (VtgV - F.mT(VtgV))
        inner = term if inner is None else inner + term
    inner = inner / E + diag_embed(F, gS, k)
    if m > n and has_u:  # the part of gU outside U's column space: (I - U U^T) gU S^-1
        gUS = gU / F.expand_dims(S, -2)
        gA = F.matmul(U, inner) + gUS - F.matmul(U, F.matmul(F.mT(U), gUS))
        return (F.matmul(gA, Vh),)
    if m < n and has_v:  # likewise S^-1 gVh (I - V V^T)
        SgVh = gVh / F.expand_dims(S, -1)
        gA = F.matmul(inner, Vh) + SgVh - F.matmul(F.matmul(SgVh, F.mT(Vh)), Vh)
        return (F.matmul(U, gA),)
    return (F.matmul(U, F.matmul(inner, Vh)),)


def _svd_record(who: str, A: Tensor, a: np.ndarray, full_matrices: bool) -> SVDResult:
    U, S, Vh = _lapack(who, np.linalg.svd, a, full_matrices=full_matrices)
    U, S, Vh = (x.astype(a.dtype, copy=False) for x in (U, S, Vh))
    if not records(A):
        return SVDResult(wrap(column_major(U)), wrap(S), wrap(column_major(Vh)))
    m, n = a.shape[-2:]
    k = S.shape[-1]
    cu, cv = U.shape[-1], Vh.shape[-2]
    width = max(cu, cv)
    packed = zeros_for(a.shape[:-2] + (m + 1 + n, width), a.dtype, U, S, Vh)
    packed[..., :m, :cu] = U
    packed[..., m, :k] = S
    packed[..., m + 1 :, :cv] = np.swapaxes(Vh, -1, -2)
    P = make_result(packed, _svd, (A,), (m, n, k))
    return SVDResult(
        *parts(
            P,
            (Ellipsis, slice(0, m), slice(0, cu)),
            (Ellipsis, m, slice(0, k)),
            (Ellipsis, slice(m + 1, None), slice(0, cv)),
            transposed=2,
            columns=(0, 2),
        )
    )


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None) -> SVDResult:
    """``torch.linalg.svd``: ``A = U diag(S) Vh`` for a batch of ``(m, n)`` matrices.

    Parameters
    ----------
    A : ``(*, m, n)`` float32/float64 tensor.
    full_matrices : True (default): ``U`` is ``(*, m, m)`` and ``Vh`` ``(*, n, n)``; False: the
        reduced ``(*, m, k)`` and ``(*, k, n)`` with ``k = min(m, n)``.
    driver : CUDA only in torch; must be None.

    Returns
    -------
    ``(U, S, Vh)``, ``S`` descending ``(*, k)``. Singular vectors are unique up to a joint sign
    per pair (``U[:, i]``, ``Vh[i]``): use sign-invariant losses. The gradient is torch's
    ``svd_backward``; with full_matrices=True the gradients of the extra columns of ``U`` and rows
    of ``Vh`` are ignored (as torch does), and it is inf/nan where used singular vectors belong to
    repeated or (for non-square A) zero singular values.
    """
    check_out("linalg.svd", out)
    if driver is not None:
        raise RuntimeError(
            "linalg.svd: keyword argument `driver=` is only supported on CUDA "
            "inputs with cuSOLVER backend; leave it None"
        )
    A, a = matrix_input("linalg.svd", A, "linalg_svd_cpu")
    return _svd_record("linalg.svd", A, a, bool(full_matrices))


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """The singular values of matrices, in descending order (``torch.linalg.svdvals``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, m, n)``.
    driver : None
        CUDA only in torch; accepted and ignored here.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        The singular values, shape ``(*, min(m, n))``, non-negative and descending.

    Notes
    -----
    The gradient is ``U diag(dl/dS) Vh``, finite even for repeated or zero singular values (unlike
    the gradient through the singular vectors of :func:`linalg_svd`).
    """
    check_out("linalg.svdvals", out)
    A, a = matrix_input("linalg.svd", A, "linalg_svd_cpu")
    if records(A):
        return _svd_record("linalg.svd", A, a, False).S
    S = _lapack("linalg.svd", np.linalg.svd, a, compute_uv=False)
    return wrap(S.astype(a.dtype, copy=False))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None) -> SVDTuple:
    """The singular value decomposition ``A = U diag(S) V^T`` (``torch.svd``, deprecated in torch in
    favour of ``linalg.svd``).

    Parameters
    ----------
    input : Tensor
        Float32/float64 tensor of shape ``(*, m, n)``.
    some : bool, default True
        Reduced factors (``U (*, m, k)``, ``V (*, n, k)``, ``k = min(m, n)``); False: full ones
        (``U (*, m, m)``, ``V (*, n, n)``).
    compute_uv : bool, default True
        False computes only ``S``; ``U`` and ``V`` are then zero ``(*, m, m)`` and ``(*, n, n)``
        matrices that do not require grad.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    (U, S, V) : namedtuple ``svd``
        Note ``V``, not ``Vh`` as :func:`linalg_svd` returns; ``S`` is descending, ``(*, k)``.

    Notes
    -----
    The gradient is that of :func:`linalg_svd` (or of :func:`svdvals` with ``compute_uv=False``):
    inf/nan where used singular vectors belong to repeated or (for non-square input) zero singular
    values.
    """
    check_out("svd", out)
    if not compute_uv:
        A, a = matrix_input("linalg.svd", input, "linalg_svd_cpu")
        S = svdvals(A)
        m, n = a.shape[-2:]
        batch = a.shape[:-2]
        return SVDTuple(
            wrap(np.zeros(batch + (m, m), dtype=a.dtype)), S, wrap(np.zeros(batch + (n, n), dtype=a.dtype))
        )
    U, S, Vh = linalg_svd(input, full_matrices=not some)

    V = transpose(Vh, -2, -1)
    if V._rg:
        V._data = V._data.copy()  # own memory, shared version counter, like the other factors
    return SVDTuple(U, S, V)
