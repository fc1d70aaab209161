"""Every tensor op, by family. ``chainrule`` re-exports these; Tensor methods delegate here."""

import sys as _sys

from .. import _fpe

# autograd's modules load first: Tensor imports grad_mode, and the autograd package's __init__
# imports modules that need Tensor complete
from ..autograd.math import bind_ops as _bind_ops

# isort: split
from .._tensor import bind_ops as _bind_tensor
from ..autograd.engine import backward as _backward
from . import creation as _creation
from .activation_piecewise import *  # noqa: F403
from .allocation import *  # noqa: F403
from .compare import *  # noqa: F403
from .complex_numbers import *  # noqa: F403
from .construct import *  # noqa: F403
from .counting import *  # noqa: F403
from .creation import *  # noqa: F403
from .creation import to  # noqa: F401
from .diagonals import *  # noqa: F403
from .einsum import einsum  # noqa: F401
from .elementwise import *  # noqa: F403
from .elementwise_binary import *  # noqa: F403
from .elementwise_unary import *  # noqa: F403
from .finite_differences import *  # noqa: F403
from .gather import *  # noqa: F403
from .index import *  # noqa: F403
from .inplace import *  # noqa: F403
from .inplace_elementwise import *  # noqa: F403
from .inplace_index import *  # noqa: F403
from .interop import *  # noqa: F403
from .join import *  # noqa: F403
from .linalg import *  # noqa: F403
from .linalg_cholesky import *  # noqa: F403
from .linalg_decomp import *  # noqa: F403
from .linalg_det import *  # noqa: F403
from .linalg_eig import *  # noqa: F403
from .linalg_householder import *  # noqa: F403
from .linalg_lstsq import *  # noqa: F403
from .linalg_lu import *  # noqa: F403
from .linalg_matfun import *  # noqa: F403
from .linalg_norms import *  # noqa: F403
from .linalg_qr import *  # noqa: F403
from .linalg_solve import *  # noqa: F403
from .lowrank import *  # noqa: F403
from .products import *  # noqa: F403
from .queries import *  # noqa: F403
from .ranges import *  # noqa: F403
from .reduce import *  # noqa: F403
from .reduce_cumulative import *  # noqa: F403
from .reduce_extra import *  # noqa: F403
from .reduce_minmax import *  # noqa: F403
from .reduce_norm import *  # noqa: F403
from .resample import *  # noqa: F403
from .restride import *  # noqa: F403
from .sampling import *  # noqa: F403
from .scatter_reduce import *  # noqa: F403
from .scatters import *  # noqa: F403
from .selection import *  # noqa: F403
from .shape import *  # noqa: F403
from .softmax import *  # noqa: F403
from .sorting import *  # noqa: F403
from .special import *  # noqa: F403
from .special_functions import *  # noqa: F403
from .splits import *  # noqa: F403
from .stft import *  # noqa: F403
from .torch_norm import *  # noqa: F403  (after linalg_norms: ops.norm is torch.norm)
from .unary import *  # noqa: F403
from .windows import *  # noqa: F403

# isort: split
from . import loss_mse as _loss_mse  # noqa: F401  (registers the mse_loss op for nn.functional)
from .grad_fn_names import *  # noqa: F403  (last: names the ops the modules above registered)

# the star imports above also carry _common.as_tensor (an internal converter without dtype=)
as_tensor = asarray = _creation.as_tensor

# torch is silent where IEEE arithmetic gives inf or NaN (log(0), 0/0, exp(1000)): every op that
# computes floats runs with NumPy's warnings off, restored when it returns (see chainrule._fpe);
# ops that only move or select elements are left unwrapped, at no cost
_fpe.NEVER_COMPUTE.update(
    f"{__name__}.{m}"
    for m in (
        "shape", "restride", "splits", "join", "queries", "allocation", "interop", "lookup",
        "index",
    )
)  # fmt: skip
_fpe.quiet_namespace(globals())

# the ops layer binds itself into the differentiable math of derivative rules (which sits below)
_bind_ops(_sys.modules[__name__])
# ... and into Tensor's operators and methods (Tensor sits below too: it is what the ops make)
_bind_tensor(_sys.modules[__name__], _backward)
