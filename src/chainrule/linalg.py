"""``chainrule.linalg``: torch.linalg's functions, batched over leading dims, each differentiable
twice (the derivative rules are written against the math interface, see autograd/math.py)."""

# factorisation-based solvers, determinants and matrix functions (ops/linalg_solve.py,
# linalg_cholesky.py, linalg_det.py, linalg_lstsq.py, linalg_matfun.py)
from . import _fpe
from .ops.linalg_cholesky import cholesky_ex  # noqa: F401
from .ops.linalg_cholesky import linalg_cholesky as cholesky  # noqa: F401
from .ops.linalg_det import det  # noqa: F401
from .ops.linalg_det import linalg_slogdet as slogdet  # noqa: F401
from .ops.linalg_lstsq import lstsq, pinv  # noqa: F401
from .ops.linalg_matfun import linalg_cross as cross  # noqa: F401
from .ops.linalg_matfun import matrix_exp, matrix_power, multi_dot, vecdot  # noqa: F401
from .ops.linalg_solve import LinAlgError, inv, inv_ex, solve, solve_triangular  # noqa: F401

# spectral decompositions and matrix norms (ops/linalg_decomp.py, linalg_eig.py, linalg_qr.py,
# linalg_norms.py)
# isort: split
from .ops.linalg import matmul  # noqa: F401
from .ops.linalg_decomp import eigh, eigvalsh, svdvals  # noqa: F401
from .ops.linalg_decomp import linalg_svd as svd  # noqa: F401
from .ops.linalg_eig import eig, eigvals  # noqa: F401
from .ops.linalg_norms import cond, diagonal, matrix_norm, matrix_rank, norm  # noqa: F401
from .ops.linalg_qr import linalg_qr as qr  # noqa: F401
from .ops.reduce_norm import vector_norm  # noqa: F401

# shapelinalg: Vandermonde matrices, LU and LDL factorisations, tensor solves (ops/construct.py,
# ops/linalg_lu.py)
# isort: split
from .ops.construct import linalg_vander as vander  # noqa: F401
from .ops.linalg_householder import householder_product  # noqa: F401
from .ops.linalg_lu import (  # noqa: F401  # noqa: F401
    ldl_factor,
    ldl_factor_ex,
    ldl_solve,
    lu_factor,
    lu_factor_ex,
    solve_ex,
    tensorinv,
    tensorsolve,
)
from .ops.linalg_lu import linalg_lu as lu  # noqa: F401
from .ops.linalg_lu import linalg_lu_solve as lu_solve  # noqa: F401

_fpe.quiet_namespace(globals())  # silent where IEEE arithmetic gives inf or NaN, as torch
