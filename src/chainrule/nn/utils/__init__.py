"""``chainrule.nn.utils`` (torch's ``torch.nn.utils``): gradient clipping, parameters as one vector,
variable-length sequences (``rnn``), parametrizations (``parametrize``, ``parametrizations``) and
the older hook-based weight and spectral norms, BatchNorm folding (``fusion``), ``skip_init``,
``stateless.functional_call``."""

from . import fusion, memory_format, parametrizations, parametrize, rnn, stateless  # noqa: F401
from ._legacy_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm
from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from .init import skip_init
from .memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_conv2d_weight_memory_format",
    "convert_conv3d_weight_memory_format",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "get_total_norm",
    "parameters_to_vector",
    "remove_spectral_norm",
    "remove_weight_norm",
    "skip_init",
    "spectral_norm",
    "vector_to_parameters",
    "weight_norm",
]
