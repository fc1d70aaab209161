"""chainrule: define-by-run reverse-mode autodiff with PyTorch's API on a small NumPy core.

import chainrule as torch
x = torch.tensor([1.0], requires_grad=True)
(x * torch.sin(x)).backward()
"""

import math as _math  # noqa: I001
from ._allocator import tune_malloc as _tune_malloc
from ._threads import limit_scipy_blas as _limit_scipy_blas
from . import ops as _ops  # ops first: they define what Tensor's methods call
from ._tensor import Size, Tensor, UntypedStorage
from ._dtype import (
    bool_ as bool,  # noqa: A004
    bfloat16,
    can_cast,
    complex64,
    complex128,
    dtype,
    finfo,
    iinfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from ._device import device, get_default_device, set_default_device
from ._layout import *  # noqa: F403
from ._settings import *  # noqa: F403
from ._autocast import *  # noqa: F403
from ._threads import get_num_interop_threads, get_num_threads, set_num_interop_threads, set_num_threads
from ._format import printoptions, set_printoptions
from ._random import Generator, default_generator, initial_seed, manual_seed, seed
from ._random import get_rng_state, set_rng_state
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import is_inference_mode_enabled
from . import autograd
from .autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from . import utils, datasets
from .serialization import load, save
from . import nn
from . import amp
from .amp import GradScaler
from . import optim
from .ops import *  # noqa: F403
from .nn.spatial_aliases import *  # noqa: F403  (torch.conv2d, torch.max_pool2d, ...)
from .nn.top_level import *  # noqa: F403  (torch.batch_norm, torch.embedding, ...: ATen's signatures)
from .nn.functional_convolution import convolution
import chainrule.linalg as linalg  # not `from . import`: the star import bound ops.linalg here
import chainrule.special as special  # torch.special (not `from . import`: the star import bound ops.special)
import chainrule.fft as fft
from . import func, viz
from . import onnx
from ._legacy import *  # noqa: F403
from ._compile import compile  # noqa: A004
from ._out import install as _install_out
from .func import vmap

# the device, backend and process namespaces of training scripts (torch.cuda, torch.backends, ...)
from . import accelerator, backends, cuda, distributed, jit, mps, multiprocessing

e, pi, inf, nan = _math.e, _math.pi, _math.inf, _math.nan
newaxis = None
from . import distributions  # after linalg: it imports chainrule.linalg, which the star import shadows

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

from . import (
    random,  # torch.random: manual_seed, fork_rng, ...
    testing,  # torch.testing: assert_close, make_tensor
    version,  # torch.version: version.cuda is None (no CUDA build)
)
from .version import __version__

_tune_malloc()
_limit_scipy_blas()


def is_tensor(obj) -> bool:
    """True for chainrule tensors."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def result_type(tensor1, tensor2) -> dtype:
    from ._dtype import from_numpy_dtype
    from ._dtype import result_type as _rt

    return from_numpy_dtype(_rt(tensor1, tensor2))


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


_install_out(globals())  # out= on the functions torch gives it (last: every name is defined)
