"""Every tensor op, by family. ``chainrule`` re-exports these; Tensor methods delegate here."""

import sys as _sys

import numpy as _np

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
from .windows import *  # noqa: F403

# isort: split
from . import loss_mse as _loss_mse  # noqa: F401  (registers the mse_loss op for nn.functional)
from .grad_fn_names import *  # noqa: F403  (last: names the ops the modules above registered)

# the star imports above also carry _common.as_tensor (an internal converter without dtype=)
as_tensor = asarray = _creation.as_tensor

# torch is silent where IEEE arithmetic gives inf or NaN (log(0), 0/0, exp(1000), sqrt(-1)), so
# the ops must not let NumPy's RuntimeWarnings through. `with np.errstate(...)` around each op
# costs ~1 us (3x a 16-float np.sin): instead NumPy's error state is set once, here, when
# chainrule loads. It is NumPy's per-thread (contextvar) state: it holds for the importing thread
# (where ops and backward run in a plain program) and leaves other threads' NumPy as it was;
# ops run from another thread may warn there (np.seterr in that thread silences them).
# Integer division by zero is not an IEEE case: the ops raise torch's error for it themselves.
_np.seterr(divide="ignore", over="ignore", under="ignore", invalid="ignore")

# the ops layer binds itself into the differentiable math of derivative rules (which sits below)
_bind_ops(_sys.modules[__name__])
# ... and into Tensor's operators and methods (Tensor sits below too: it is what the ops make)
_bind_tensor(_sys.modules[__name__], _backward)
