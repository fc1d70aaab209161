"""``chainrule.linalg``: torch.linalg's functions, batched over leading dims, each differentiable
twice (the derivative rules are written against the math interface, see autograd/math.py)."""

# factorisation-based solvers and determinants (ops/linalg_solve.py)
from .ops.linalg_solve import LinAlgError  # noqa: F401

# spectral decompositions and matrix norms (ops/linalg_decomp.py)

from .ops.reduce_norm import vector_norm  # noqa: F401
