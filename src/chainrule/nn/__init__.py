"""Neural-network building blocks with torch's API: ``import chainrule.nn as nn``.

Layers are Modules (``nn.Linear``, ``nn.ReLU`` ...), ``nn.functional`` holds the same operations
as functions, ``nn.init`` the initialisers and ``nn.utils`` gradient clipping and parameter
flattening. Each layer family has its own module here; this file only re-exports them.
"""

from . import functional, init, utils  # noqa: F401
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
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from .dropout import Dropout  # noqa: F401
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
from .parameter import Buffer, Parameter  # noqa: F401
from .pooling import (  # noqa: F401
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .transformer import TransformerEncoder, TransformerEncoderLayer  # noqa: F401

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
