"""``chainrule.nn.functional``: the layers' operations as plain functions (``import ... as F``).

Activations, ``linear``/``bilinear``, softmax family and small helpers live here; the losses are in
``functional_loss`` and re-exported below. Other layer families (convolution, pooling,
normalization, dropout, embedding) add their functions in their own ``functional_*`` modules,
re-exported here with one import line each.
"""

from __future__ import annotations

import numpy as np

from .. import _fpe
from .. import ops as _ops
from .._tensor import Tensor, wrap
from ..ops.products import pdist  # noqa: F401  (torch.nn.functional.pdist is torch.pdist)
from ..ops.torch_norm import norm as _norm
from . import functional_dropout as _dropout
from . import functional_embedding_bag as _embedding_bag
from . import functional_loss_likelihood as _loss_likelihood
from . import functional_loss_margin as _loss_margin
from . import functional_norm_per_sample as _norm_per_sample
from . import functional_piecewise as _piecewise
from .attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from .functional_activation import (  # noqa: F401
    celu,
    elu,
    elu_,
    gelu,
    glu,
    hardtanh,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    relu_,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
    tanh,
)
from .functional_conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from .functional_conv3d import conv3d, conv_transpose3d  # noqa: F401
from .functional_dropout import *  # noqa: F403
from .functional_embedding_bag import *  # noqa: F403
from .functional_fold import *  # noqa: F403
from .functional_linear import bilinear, linear  # noqa: F401
from .functional_loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .functional_loss_likelihood import *  # noqa: F403
from .functional_loss_margin import *  # noqa: F403
from .functional_norm import batch_norm, dropout, embedding, group_norm, layer_norm  # noqa: F401
from .functional_norm_per_sample import *  # noqa: F403
from .functional_pad import pad  # noqa: F401
from .functional_piecewise import *  # noqa: F403
from .functional_pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
)
from .functional_pool_nd import *  # noqa: F403
from .functional_resample import *  # noqa: F403

__all__ = [
    "GRID_SAMPLE_INTERPOLATION_MODES",
    "GRID_SAMPLE_PADDING_MODES",
    "pdist",
    "relu",
    "relu_",
    "relu6",
    "leaky_relu",
    "leaky_relu_",
    "elu",
    "elu_",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "sigmoid",
    "tanh",
    "hardtanh",
    "softplus",
    "softsign",
    "logsigmoid",
    "softmax",
    "softmin",
    "log_softmax",
    "glu",
    "linear",
    "bilinear",
    "normalize",
    "one_hot",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]
# ---- spatial: padding, resampling, pixel rearranging, 3-d convolution, more pooling ----
from . import functional_fold as _fold  # noqa: E402
from . import functional_pool_nd as _pool_nd
from . import functional_resample as _resample

__all__ += ["pad", "conv3d", "conv_transpose3d"] + _fold.__all__ + _pool_nd.__all__ + _resample.__all__
# the nnfunc families: each module's own __all__
__all__ += [  # noqa: PLE0605
    *_dropout.__all__,
    *_embedding_bag.__all__,
    *_loss_likelihood.__all__,
    *_loss_margin.__all__,
    *_norm_per_sample.__all__,
    *_piecewise.__all__,
]


# grid_sample's modes by name, with the numbers torch's kernels use (torch.nn.functional exports them)
GRID_SAMPLE_INTERPOLATION_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
GRID_SAMPLE_PADDING_MODES = {"zeros": 0, "border": 1, "reflection": 2}


# ---- helpers -----------------------------------------------------------------------------------
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    denom = _ops.clamp_min(_norm(input, p, dim, keepdim=True), eps).expand_as(input)
    return input / denom


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding of int64 class indices: shape ``(*tensor.shape, num_classes)``;
    ``num_classes=-1`` takes one more than the largest index."""
    t = tensor._data
    if t.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if t.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return wrap(np.zeros(t.shape + (num_classes,), dtype=np.int64))
    if t.min() < 0:
        raise RuntimeError(f"Class values must be non-negative. (one_hot: got {int(t.min())})")
    if num_classes == -1:
        num_classes = int(t.max()) + 1
    elif t.max() >= num_classes:
        raise RuntimeError(
            f"Class values must be smaller than num_classes. (one_hot: got {int(t.max())} for "
            f"num_classes={num_classes})"
        )
    out = np.zeros(t.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, t[..., None], 1, axis=-1)
    return wrap(out)


_fpe.quiet_namespace(globals())  # silent where IEEE arithmetic gives inf or NaN, as torch
