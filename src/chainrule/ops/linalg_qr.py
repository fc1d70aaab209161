"""``linalg.qr`` and ``torch.qr``, with the triangular solve their derivative needs.

The packed output (see linalg_decomp) stacks ``Q`` (m, c) over ``R^T`` (n, c): ``c`` is
``min(m, n)`` (reduced) or ``m`` (complete). The derivative is torch's ``linalg_qr_backward``:
defined for mode='reduced' and for 'complete' when ``m <= n``; mode='r' records a node whose
backward raises, as torch's does.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.graph import defop
from ..kernels.lapack_reference import holds_nonfinite, qr_nonfinite
from ._common import Tensor, make_result, wrap
from ._linalg_common import check_out, matrix_input
from .linalg_decomp import column_major, parts, records, used

__all__ = ["qr"]  # torch.qr; linalg.qr is exported by chainrule.linalg

QRResult = namedtuple("linalg_qr", ["Q", "R"])
QRTuple = namedtuple("qr", ["Q", "R"])

_MODE_R = (
    "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
    "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
)
_COMPLETE_TALL = "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."


# ---- qr ----------------------------------------------------------------------------------------
def _tall_backward(F, Q, R, gQ, gR):
    """``m >= n``: dl/dA = (gQ + Q copyutl(gR R^T - Q^T gQ)) R^-T, where ``copyutl(M)`` mirrors
    M's upper triangle into the lower one (torch's ``syminvadj(triu(.))``)."""
    M = F.matmul(gR, F.mT(R)) - F.matmul(F.mT(Q), gQ)
    B = gQ + F.matmul(Q, F.triu(M) + F.mT(F.triu(M, 1)))
    return F.mT(F.solve_triangular(R, F.mT(B), True))  # B R^-T = (R^-1 B^T)^T


@defop(
    "linalg_qr",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = (dl/dQ + Q copyutl(dl/dR R^T - Q^T dl/dQ)) R^-T  (Q, R: in {y}; m >= n; m < n: "
    "split {x0} = [X | Y], R = [U | V])",
)
def _qr(F, g, xs, out, p, needs):
    m, n, mode = p
    if mode == "r":
        raise RuntimeError(_MODE_R)
    if mode == "complete" and m > n:
        raise RuntimeError(_COMPLETE_TALL)
    Q = F.getitem(out, (Ellipsis, slice(0, m), slice(None)))
    R = F.mT(F.getitem(out, (Ellipsis, slice(m, None), slice(None))))
    gQ = F.getitem(g, (Ellipsis, slice(0, m), slice(None)))
    gR = F.mT(F.getitem(g, (Ellipsis, slice(m, None), slice(None))))
    with np.errstate(divide="ignore", invalid="ignore"):  # a singular R gives inf/nan, as torch
        return _qr_grad(F, Q, R, gQ, gR, m, n)


def _qr_grad(F, Q, R, gQ, gR, m: int, n: int):
    if m >= n:
        return (_tall_backward(F, Q, R, gQ, gR),)
    # wide: A = [X | Y] with X = Q U square and Y = Q V, so V = Q^T Y: dl/dY = Q gV, and gV adds
    # Y gV^T to the gradient of Q that the square QR of X passes back
    left, right = (Ellipsis, slice(None), slice(0, m)), (Ellipsis, slice(None), slice(m, None))
    gV = F.getitem(gR, right)
    gX = F.getitem(gR, left)
    if used(F, gV):
        V = F.getitem(R, right)
        gQ = gQ + F.matmul(F.matmul(Q, V), F.mT(gV))
    shape = tuple(gR.shape[:-2]) + (m, n)
    gA = F.index_put_zeros(shape, left, _tall_backward(F, Q, F.getitem(R, left), gQ, gX))
    return (gA + F.index_put_zeros(shape, right, F.matmul(Q, gV)),)


def linalg_qr(A: Tensor, mode: str = "reduced", *, out=None) -> QRResult:
    """``torch.linalg.qr``: ``A = Q R`` with orthonormal columns in ``Q`` and upper-triangular
    ``R`` (LAPACK's Householder signs, as torch: ``R``'s diagonal may be negative).

    Parameters
    ----------
    A : ``(*, m, n)`` float32/float64 tensor.
    mode : ``'reduced'`` (default): ``Q (*, m, k)``, ``R (*, k, n)``, ``k = min(m, n)``;
        ``'complete'``: ``Q (*, m, m)``, ``R (*, m, n)``; ``'r'``: ``R`` only, ``Q`` is empty.

    Returns
    -------
    ``(Q, R)``. Differentiable as in torch: mode='r', and mode='complete' with ``m > n``, raise
    in backward.
    """
    check_out("linalg.qr", out)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of "
            "'reduced' (default), 'r', or 'complete'"
        )
    A, a = matrix_input("linalg.qr", A, "geqrf_cpu")
    m, n = a.shape[-2:]
    if a.size and holds_nonfinite(a):
        # OpenBLAS's blocked QR leaves other NaNs than torch's MKL (kernels.lapack_reference)
        Q, R = qr_nonfinite(a, mode)
    elif mode == "r":
        Q, R = None, np.linalg.qr(a, mode="r").astype(a.dtype, copy=False)
    else:
        Q, R = np.linalg.qr(a, mode=mode)
        Q, R = Q.astype(a.dtype, copy=False), R.astype(a.dtype, copy=False)
    if mode == "r":
        empty = wrap(np.zeros((0,), dtype=a.dtype))
        return QRResult(empty, make_result(column_major(R), _qr, (A,), (m, n, mode)))
    if not records(A):
        return QRResult(wrap(column_major(Q)), wrap(column_major(R)))
    P = make_result(np.concatenate([Q, np.swapaxes(R, -1, -2)], axis=-2), _qr, (A,), (m, n, mode))
    Q_index, R_index = (Ellipsis, slice(0, m), slice(None)), (Ellipsis, slice(m, None), slice(None))
    return QRResult(*parts(P, Q_index, R_index, transposed=1, columns=(0, 1)))


def qr(input: Tensor, some: bool = True, *, out=None) -> QRTuple:
    """The QR decomposition (``torch.qr``, deprecated in torch in favour of ``linalg.qr``).

    Parameters
    ----------
    input : Tensor
        Float32/float64 tensor of shape ``(*, m, n)``.
    some : bool, default True
        ``linalg.qr``'s mode ``'reduced'`` (True) or ``'complete'`` (False).
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    (Q, R) : namedtuple ``qr``
        As :func:`linalg_qr` returns them for that mode.

    Notes
    -----
    The gradient is that of :func:`linalg_qr`; with ``some=False`` and ``m > n`` backward raises,
    as in torch.
    """
    check_out("qr", out)
    Q, R = linalg_qr(input, "reduced" if some else "complete")
    return QRTuple(Q, R)
