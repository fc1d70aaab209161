"""Every tensor op, by family. ``chainrule`` re-exports these; Tensor methods delegate here."""

import sys as _sys

# autograd's modules load first: Tensor imports grad_mode, and the autograd package's __init__
# imports modules that need Tensor complete
from ..autograd.math import bind_ops as _bind_ops

# isort: split
from .._tensor import bind_ops as _bind_tensor
from ..autograd.engine import backward as _backward
from . import creation as _creation
from .compare import *  # noqa: F403
from .complex_numbers import *  # noqa: F403
from .creation import *  # noqa: F403
from .creation import to  # noqa: F401
from .diagonals import *  # noqa: F403
from .einsum import einsum  # noqa: F401
from .elementwise import *  # noqa: F403
from .gather import *  # noqa: F403
from .index import *  # noqa: F403
from .inplace import *  # noqa: F403
from .join import *  # noqa: F403
from .linalg import *  # noqa: F403
from .linalg_cholesky import *  # noqa: F403
from .linalg_decomp import *  # noqa: F403
from .linalg_det import *  # noqa: F403
from .linalg_lstsq import *  # noqa: F403
from .linalg_matfun import *  # noqa: F403
from .linalg_norms import *  # noqa: F403
from .linalg_qr import *  # noqa: F403
from .linalg_solve import *  # noqa: F403
from .ranges import *  # noqa: F403
from .reduce import *  # noqa: F403
from .reduce_cumulative import *  # noqa: F403
from .reduce_minmax import *  # noqa: F403
from .reduce_norm import *  # noqa: F403
from .shape import *  # noqa: F403
from .softmax import *  # noqa: F403
from .sorting import *  # noqa: F403
from .special import *  # noqa: F403
from .torch_norm import *  # noqa: F403  (after linalg_norms: ops.norm is torch.norm)

# the star imports above also carry _common.as_tensor (an internal converter without dtype=)
as_tensor = asarray = _creation.as_tensor

# the ops layer binds itself into the differentiable math of derivative rules (which sits below)
_bind_ops(_sys.modules[__name__])
# ... and into Tensor's operators and methods (Tensor sits below too: it is what the ops make)
_bind_tensor(_sys.modules[__name__], _backward)
