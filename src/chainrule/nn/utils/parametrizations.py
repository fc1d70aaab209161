"""Ready-made parametrizations (``torch.nn.utils.parametrizations``): ``weight_norm``,
``spectral_norm`` and ``orthogonal``, each registered with :func:`parametrize.register_parametrization`
so the state dict keys, the stored originals and buffers are torch's."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ... import ops as C
from ..._random import rng
from ..._tensor import Tensor, wrap
from ...autograd.grad_mode import no_grad
from ...ops.linalg_solve import solve
from .. import functional as F
from ..module import Module
from . import parametrize
from ._norms import norm_except_dim, normalized_array, weight_as_matrix, weight_norm_value

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ---- weight norm ----------------------------------------------------------------------------------
class _WeightNorm(Module):
    """``weight = g * v / ||v||``: ``original0`` is the magnitude g, ``original1`` the direction v."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_norm_value(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but ``dim``; over
    the whole tensor with ``dim=None``). g and v are ``parametrizations.<name>.original0``/``1``."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, *args) -> None:
        """Load a state dict saved with the old ``nn.utils.weight_norm`` (``<name>_g``/``_v``)."""
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# ---- spectral norm --------------------------------------------------------------------------------
class _SpectralNorm(Module):
    """``weight / sigma``, sigma the largest singular value estimated by power iteration on the
    buffers ``_u`` and ``_v`` (one or more steps at each forward in training mode)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            dtype = weight._data.dtype
            self.register_buffer("_u", wrap(normalized_array(rng(None).normal(0, 1, h).astype(dtype), eps)))
            self.register_buffer("_v", wrap(normalized_array(rng(None).normal(0, 1, w).astype(dtype), eps)))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return weight_as_matrix(weight, self.dim)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """Update ``_u`` and ``_v`` in place (no graph), ``u`` from ``v`` first, as torch."""
        w = weight_mat._data
        u, v = self._u, self._v
        for _ in range(n_power_iterations):
            u._data[...] = normalized_array(w @ v._data, self.eps)
            v._data[...] = normalized_array(w.conj().T @ u._data, self.eps)
        u._bump_version()
        v._bump_version()

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = C.clone(self._u), C.clone(self._v)
        sigma = C.vdot(u, C.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Reparametrize ``module.<name>`` as ``weight / sigma(weight)`` (spectral normalisation).

    Parameters
    ----------
    n_power_iterations : power-iteration steps per forward in training mode.
    eps : the floor of the norms in the power iteration.
    dim : the dim of output channels (default 0; 1 for ConvTranspose layers).
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ---- orthogonal -----------------------------------------------------------------------------------
_MAPS = ("matrix_exp", "cayley", "householder")


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^H`` with ``v_i`` the i-th
    column of ``a`` below the diagonal and 1 on it (LAPACK's orgqr), from differentiable ops."""
    n, k = a.shape[-2], a.shape[-1]
    below = C.tril(a, -1)
    unit = C.eye(n, k, dtype=a.dtype)
    q = unit
    for i in range(k - 1, -1, -1):  # H_k applied first to the identity's columns, then H_{k-1} ...
        v = C.unsqueeze(below[..., :, i] + unit[:, i], -1)  # (..., n, 1)
        tau_i = C.unsqueeze(C.unsqueeze(tau[..., i], -1), -1)
        q = q - tau_i * v * C.matmul(C.transpose(v, -2, -1), q)
    return q


def _geqrf(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK's geqrf on the last two dims: the Householder vectors and R packed, and tau."""
    flat = q.reshape((-1,) + q.shape[-2:])
    packed, taus = np.empty_like(flat), np.empty(flat.shape[:1] + (min(q.shape[-2:]),), dtype=q.dtype)
    for i, m in enumerate(flat):
        (qr, tau), _ = scipy.linalg.qr(m, mode="raw")
        packed[i], taus[i] = qr, tau
    return packed.reshape(q.shape), taus.reshape(q.shape[:-2] + taus.shape[-1:])


def _make_orthogonal(a: np.ndarray) -> np.ndarray:
    """The Q of ``a = QR`` with ``diag(R) >= 0`` (a tall matrix or a batch of them)."""
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    signs[signs == 0] = 1
    return q * signs[..., None, :]


def _is_orthogonal(q: np.ndarray) -> bool:
    n, k = q.shape[-2:]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return bool(np.allclose(np.swapaxes(q, -1, -2).conj() @ q, np.eye(k), rtol=1e-5, atol=eps))


class _Orthogonal(Module):
    """An orthogonal (or semi-orthogonal) matrix as ``base @ map(original)``, ``map`` the matrix
    exponential or Cayley transform of a skew-symmetric matrix, or a product of Householder
    reflections (torch's ``_Orthogonal``)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight._data.dtype.kind == "c" and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = C.transpose(X, -2, -1)
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = C.tril(X)
            if n != k:
                X = C.cat([X, C.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], -1)
            A = X - C.transpose(X, -2, -1)
            if self.orthogonal_map == "matrix_exp":
                Q = C.matrix_exp(A)
            else:
                eye = C.eye(n, dtype=A.dtype)
                Q = solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = C.tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = _householder_product(A, tau)
            Q = Q * C.unsqueeze(C.diagonal(X, 0, -2, -1).int(), -2)
        if "base" in self._buffers:
            Q = C.matmul(self.base, Q)
        if transposed:
            Q = C.transpose(Q, -2, -1)
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. "
                f"Got a tensor of shape {Q.shape}."
            )
        q = Q._data
        n, k = q.shape[-2], q.shape[-1]
        transpose = n < k
        if transpose:
            q = np.swapaxes(q, -1, -2)
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map in ("cayley", "matrix_exp"):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False."
                )
            a, tau = _geqrf(q)
            diag = np.sign(np.diagonal(a, axis1=-2, axis2=-1)).copy()
            diag[tau == 0.0] *= -1
            a = a.copy()
            idx = np.arange(min(n, k))
            a[..., idx, idx] = diag
            return wrap(np.ascontiguousarray(np.swapaxes(a, -1, -2) if transpose else a))
        if n == k:
            q = _make_orthogonal(q) if not _is_orthogonal(q) else q.copy()
        else:  # complete Q to a square orthogonal matrix with random columns
            extra = rng(None).standard_normal(q.shape[:-2] + (n, n - k)).astype(q.dtype)
            q = _make_orthogonal(np.concatenate([q, extra], -1))
        self.base = wrap(q)
        neg_id = np.zeros(Q.shape, dtype=Q._data.dtype)
        idx = np.arange(min(Q.shape[-2:]))
        neg_id[..., idx, idx] = -1.0
        return wrap(neg_id)


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Make ``module.<name>`` an orthogonal matrix (or batch of them; semi-orthogonal when not
    square) for real weights.

    Parameters
    ----------
    orthogonal_map : ``"matrix_exp"`` (default for square matrices), ``"cayley"`` or
        ``"householder"`` (default otherwise).
    use_trivialization : keep the starting orthogonal matrix in a ``base`` buffer and parametrize
        the change from it (torch's default).
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight._data.dtype.kind == "c" else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    with no_grad():
        orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
