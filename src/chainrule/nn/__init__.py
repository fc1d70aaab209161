"""Neural-network building blocks with torch's API: ``import chainrule.nn as nn``.

Layers are Modules (``nn.Linear``, ``nn.ReLU`` ...), ``nn.functional`` holds the same operations
as functions, ``nn.init`` the initialisers and ``nn.utils`` gradient clipping and parameter
flattening. Each layer family has its own module here; this file only re-exports them.
"""

from . import common_types, functional, init, modules, parallel, parameter, utils  # noqa: F401
from .activation import (  # noqa: F401
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from .attention import MultiheadAttention  # noqa: F401
from .containers import Container, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .factory import factory_kwargs  # noqa: F401
from .lazy import (  # noqa: F401
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
)
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten  # noqa: F401
from .loss import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm  # noqa: F401

# ---- spatial (padding, resampling, pixel rearranging, 3-d and other pooling) ----
from .padding import *  # noqa: F403, E402
from .parallel import DataParallel  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from .pixelshuffle import *  # noqa: F403, E402
from .pooling import (  # noqa: F401
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .pooling_nd import *  # noqa: F403, E402
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .sync_batchnorm import SyncBatchNorm  # noqa: F401
from .transformer import TransformerEncoder, TransformerEncoderLayer  # noqa: F401
from .transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer  # noqa: F401
from .upsampling import *  # noqa: F403, E402

# isort: split
# ---- nnfunc: piecewise activations, margin/likelihood losses, per-sample norms, channel dropouts,
# distances, EmbeddingBag, adaptive softmax
from .activation_piecewise import *  # noqa: F403
from .adaptive import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout_channel import *  # noqa: F403
from .embedding_bag import *  # noqa: F403
from .loss_margin import *  # noqa: F403
from .normalization_per_sample import *  # noqa: F403
