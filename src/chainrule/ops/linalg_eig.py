"""General (non-symmetric) eigendecomposition: ``linalg.eig`` and ``linalg.eigvals``.

``A V = V diag(L)`` with complex ``L`` and ``V`` even for a real ``A`` (complex64 for float32,
complex128 for float64 and complex128). As for eigh (ops/linalg_decomp.py), one recorded op packs
both factors into one complex array, rows ``[0, n)`` holding ``V`` and row ``n`` holding ``L``,
and the public function returns differentiable slices of it.

Each eigenvector is LAPACK's (``geev``): unit 2-norm with its largest component real. It is
unique only up to a complex phase ``e^{i phi}``, so a loss must not depend on that phase; torch's
backward checks it (``Im diag(V^H gV) ~ 0``) and refuses otherwise, and so does this one.

The rule is torch's ``linalg_eig_backward``, written in ``F`` (so ``create_graph=True`` works) and
in torch's convention for complex gradients (``complex_rule``: the engine hands it the conjugate
Wirtinger gradients of ``L`` and ``V`` as they are, and takes the real part for a real ``A``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, all_true, as_tensor, make_result, shape_str, wrap
from ._linalg_common import type_name
from .complex_numbers import _complex_rule, _mark_complex_graph
from .linalg_decomp import _lapack, column_major, diag_embed, eye_like, parts, records, used
from .out_arg import write_out

__all__: list[str] = []  # torch.linalg's functions, exported by chainrule.linalg

EigResult = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])

#: the complex dtype of eig's results for each input dtype
_COMPLEX_OF = {"float32": np.complex64, "float64": np.complex128, "complex64": np.complex64}


# ---- the derivative ----------------------------------------------------------------------------
@_complex_rule
@defop(
    "linalg_eig",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = V^-H (diag(dl/dL) + (V^H dl/dV - V^H V Re diag(V^H dl/dV)) / conj(E)) V^H,"
    "  E_ij = L_j - L_i  (V, L: in {y})",
)
def _eig(F, g, xs, out, p, needs):
    with np.errstate(divide="ignore", invalid="ignore"):  # repeated eigenvalues: inf/nan, no warning
        return (_eig_grad(F, g, out, p[0]),)


def _diagonal(F, x, n: int):
    """``x``'s diagonal, ``(..., n, n) -> (..., n)``, differentiable in F."""
    return F.sum(x * eye_like(F, x, n), axis=-1)


def _mH(F, x):
    return F.conj(F.mT(x))


def _eig_grad(F, g, out, n: int):
    rows = (Ellipsis, slice(0, n), slice(None))
    V, L = F.getitem(out, rows), F.getitem(out, (Ellipsis, n, slice(None)))
    gV, gL = F.getitem(g, rows), F.getitem(g, (Ellipsis, n, slice(None)))
    Vh = _mH(F, V)
    if not used(F, gV):  # eigenvalues only (eigvals): V^-H diag(gL) V^H
        return F.solve(Vh, F.expand_dims(gL, -1) * Vh)
    VhgV = F.matmul(Vh, gV)
    diag = _diagonal(F, VhgV, n)
    _check_phase_invariant(F.imag(diag))
    # the projection onto the tangent space of matrices whose columns have norm 1
    VhgV = VhgV - F.matmul(Vh, V * F.expand_dims(F.real(diag), -2))
    Lc = F.conj(L)
    E = F.expand_dims(Lc, -2) - F.expand_dims(Lc, -1) + eye_like(F, L, n)
    inner = VhgV / E
    if used(F, gL):  # torch writes gL over the diagonal
        inner = inner * (1.0 - eye_like(F, L, n)) + diag_embed(F, gL, n)
    return F.solve(Vh, F.matmul(inner, Vh))


def _check_phase_invariant(imag_diag) -> None:
    """torch's check that the loss does not depend on the eigenvectors' phases."""
    values = imag_diag._data if isinstance(imag_diag, Tensor) else imag_diag
    if not all_true(np.abs(values) <= 1e-2):
        raise RuntimeError(
            "linalg_eig_backward: The eigenvectors in the complex case are specified up to "
            "multiplication by e^{i phi}. The specified loss function depends on this quantity, so "
            "it is ill-defined. Use a phase-independent function of the eigenvectors, such as "
            "V.abs() or V @ diag(f(L)) @ linalg.inv(V)."
        )


# ---- the forward -------------------------------------------------------------------------------
def _eig_input(who: str, A) -> tuple[Tensor, np.ndarray]:
    """``A`` checked in torch's order: integer dtype, at least 2 dims, square, half dtype, finite values."""
    A = as_tensor(A, who)
    a = A._data
    name = type_name(a)
    low_precision = a.dtype.name in ("float16", "bfloat16")  # (ml_dtypes' bfloat16 is kind 'V')
    if a.dtype.kind not in "fc" and not low_precision:
        raise RuntimeError(
            f"{who}: Unknown Complex ScalarType for {name}: eig needs a float32/float64 or complex "
            "tensor; convert first, e.g. A.double()"
        )
    if a.ndim < 2:
        raise RuntimeError(
            f"{who}: The input tensor A must have at least 2 dimensions, got shape "
            f"{shape_str(a.shape)}; a single matrix has shape (n, n)"
        )
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"{who}: A must be batches of square matrices, but they are {a.shape[-2]} by "
            f"{a.shape[-1]} matrices (shape {shape_str(a.shape)})"
        )
    if low_precision:
        raise NotImplementedError(
            f"{who}: \"linalg_eig_out_cpu\" not implemented for '{name}'; convert first, e.g. A.float()"
        )
    if not all_true(np.isfinite(a)):
        raise RuntimeError(f"torch.{who}: input tensor should not contain infs or NaNs.")
    return A, a


def _result_dtype(a: np.ndarray):
    return _COMPLEX_OF.get(a.dtype.name, np.complex128)


def _eig_arrays(who: str, a: np.ndarray):
    """LAPACK's eigenvalues and unit eigenvectors, complex even where NumPy returns real ones
    (NumPy's eig gives real arrays when every eigenvalue of the batch is real)."""
    dtype = _result_dtype(a)
    if a.shape[-1] == 0:  # (NumPy's eig refuses empty matrices)
        return np.zeros(a.shape[:-1], dtype), np.zeros(a.shape, dtype)
    L, V = _lapack(who, np.linalg.eig, a, "eigenvalues")
    return L.astype(dtype, copy=False), V.astype(dtype, copy=False)


def _check_out(who: str, out, n: int) -> None:
    """torch's refusal of a real ``out`` tensor (eig's results are complex)."""
    outs = out if isinstance(out, tuple | list) else (out,)
    names = ("eigenvalues",) if n == 1 else ("eigenvalues", "eigenvectors")
    for o, name in zip(outs, names):
        if isinstance(o, Tensor) and o._data.dtype.kind != "c":
            raise RuntimeError(
                f"torch.{who}: Expected {name} to be safely castable from a complex dtype, but got "
                f"{name} with dtype {type_name(o._data)}; give a complex out tensor"
            )


def eig(A: Tensor, *, out=None) -> EigResult:
    """``torch.linalg.eig``: the eigenvalues and eigenvectors of square matrices, batched.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` float32, float64, complex64 or complex128 tensor with finite values.
    out : tuple of two complex tensors, optional
        Written with the results (resized if needed); not for inputs that require grad.

    Returns
    -------
    (eigenvalues, eigenvectors) : namedtuple ``linalg_eig``
        ``(*, n)`` and ``(*, n, n)`` complex tensors (complex64 for float32 input) with
        ``A V = V diag(L)``, in LAPACK's order. Each column of ``V`` has unit norm and is unique
        only up to a complex phase: a loss must not depend on it (use ``V.abs()``, the
        eigenvalues, or ``V diag(f(L)) V^-1``); backward raises RuntimeError if it does, as
        torch's. The gradient is torch's, inf/nan where eigenvalues repeat and eigenvectors are
        used.
    """
    who = "linalg.eig"
    A, a = _eig_input(who, A)
    if out is not None:
        _check_out(who, out, 2)
    L, V = _eig_arrays(who, a)
    if not records(A):
        result = EigResult(wrap(L), wrap(column_major(V)))
    else:
        _mark_complex_graph(A)
        n = L.shape[-1]
        packed = make_result(np.concatenate([V, L[..., None, :]], axis=-2), _eig, (A,), (n,))
        factors = parts(
            packed, (Ellipsis, n, slice(None)), (Ellipsis, slice(0, n), slice(None)), columns=(1,)
        )
        result = EigResult(*factors)
    return result if out is None else EigResult(*write_out(who, out, tuple(result)))


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """``torch.linalg.eigvals``: the (complex) eigenvalues of square matrices, batched.

    Parameters
    ----------
    A : Tensor
        ``(*, n, n)`` float32, float64, complex64 or complex128 tensor with finite values.
    out : complex tensor, optional
        Written with the result; not for inputs that require grad.

    Returns
    -------
    Tensor
        ``(*, n)`` complex eigenvalues, in LAPACK's order (those of :func:`eig`). The gradient is
        ``V^-H diag(dl/dL) V^H``, finite even when eigenvalues repeat as long as ``V`` is
        invertible.
    """
    who = "linalg.eigvals"
    A, a = _eig_input(who, A)
    if out is not None:
        _check_out(who, out, 1)
    if records(A):
        result = eig(A).eigenvalues
    elif a.shape[-1] == 0:
        result = wrap(np.zeros(a.shape[:-1], _result_dtype(a)))
    else:
        L = _lapack(who, np.linalg.eigvals, a, "eigenvalues")
        result = wrap(L.astype(_result_dtype(a), copy=False))
    return result if out is None else write_out(who, out, result)
