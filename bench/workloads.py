"""The training workloads of issue 12, written once for both libraries.

Each builder ``name(lib, size="full")`` takes the library module (``chainrule`` or ``torch``) and
returns a :class:`Step`: calling it runs one full training step (forward, loss, zero_grad, backward,
optimizer step) and returns the loss. The weights are made by torch under ``torch.manual_seed(0)``
and copied into the chainrule model as NumPy arrays (``load_state_dict``); the data come from
``numpy.random.default_rng(0)``: both libraries start from the same weights and see the same batch,
in float32 (``logdet``: float64). ``size="small"`` shrinks every dimension so that the tests can run
two steps of each workload in milliseconds; ``"full"`` is what the benchmarks time.

Choices where the issue leaves room:
- ``lenet5``: ReLU and max pooling (the modern form), 5x5 convolutions with padding 2 on 28x28.
- ``gpt``: exact GELU, untied input embedding and output head (no weight tying), AdamW(lr=3e-4,
  weight_decay=0.1), next-token cross-entropy.
- ``lstm_lm``: each step starts from a zero hidden state (the example carries it over, detached;
  the cost of a step is the same), SGD(lr=20) after ``clip_grad_norm_(0.25)`` as in the example.
- ``mobilenet_block``: three blocks 64 -> 128 -> 128 -> 128 on 32x32 (the input has 64 channels),
  then global average pooling and Linear(128, 10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Step:
    """One training step: ``step()`` runs it and returns the loss; ``state()`` returns the values
    the step changes (parameters and buffers as NumPy arrays, by name), for comparing libraries."""

    run: Callable[[], object]
    state: Callable[[], dict[str, np.ndarray]]

    def __call__(self):
        return self.run()


def _same_weights(lib, make):
    """``make(lib)`` with the weights torch's ``make(torch)`` gets under seed 0."""
    import torch

    torch.manual_seed(0)
    reference = make(torch)
    if lib is torch:
        return reference
    model = make(lib)
    model.load_state_dict({k: v.detach().numpy().copy() for k, v in reference.state_dict().items()})
    return model


def _state(model) -> Callable[[], dict[str, np.ndarray]]:
    return lambda: {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _batch(shape, classes: int, dtype=np.float32):
    rng = np.random.default_rng(0)
    return rng.standard_normal(shape).astype(dtype), rng.integers(0, classes, shape[0])


def _classifier_step(lib, model, x_np, y_np, update: str, lr: float = 0.01) -> Step:
    """Cross-entropy on a fixed batch; ``update`` is ``"sgd"`` (``optim.SGD``) or ``"manual"``
    (the lecture's ``p -= lr * p.grad`` under no_grad, then ``p.grad = None``)."""
    cross_entropy = lib.nn.functional.cross_entropy
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    params = list(model.parameters())
    if update == "sgd":
        opt = lib.optim.SGD(params, lr=lr)

        def run():
            loss = cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

    else:

        def run():
            loss = cross_entropy(model(x), y)
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
            return loss

    return Step(run, _state(model))


# -- MLPs ------------------------------------------------------------------------------------------


def _mlp(lib, size: str, batch: int, update: str) -> Step:
    width, hidden, batch = (784, 512, batch) if size == "full" else (20, 16, 4)

    def make(m):
        nn = m.nn
        return nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10)
        )

    x, y = _batch((batch, width), 10)
    return _classifier_step(lib, _same_weights(lib, make), x, y, update)


def mlp_b32_sgd(lib, size: str = "full") -> Step:
    """MLP 784-512-512-10 (ReLU), batch 32, cross-entropy, ``optim.SGD``."""
    return _mlp(lib, size, 32, "sgd")


def mlp_b32_manual(lib, size: str = "full") -> Step:
    """The same with the lecture's manual update."""
    return _mlp(lib, size, 32, "manual")


def mlp_b512_sgd(lib, size: str = "full") -> Step:
    """MLP 784-512-512-10 (ReLU), batch 512, ``optim.SGD``."""
    return _mlp(lib, size, 512, "sgd")


def mlp_b512_manual(lib, size: str = "full") -> Step:
    """The same with the lecture's manual update."""
    return _mlp(lib, size, 512, "manual")


def gelu_mlp(lib, size: str = "full") -> Step:
    """8 x (Linear(1024, 1024) + GELU) + Linear(1024, 10), batch 2048, SGD."""
    width, depth, batch = (1024, 8, 2048) if size == "full" else (24, 2, 6)

    def make(m):
        nn = m.nn
        blocks = [layer for _ in range(depth) for layer in (nn.Linear(width, width), nn.GELU())]
        return nn.Sequential(*blocks, nn.Linear(width, 10))

    x, y = _batch((batch, width), 10)
    return _classifier_step(lib, _same_weights(lib, make), x, y, "sgd")


# -- CNNs ------------------------------------------------------------------------------------------


def lenet5(lib, size: str = "full") -> Step:
    """LeNet-5: conv 6@5x5 (padding 2) - pool - conv 16@5x5 - pool - 120 - 84 - 10, on 1x28x28."""
    batch = 64 if size == "full" else 2

    def make(m):
        nn = m.nn
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )

    x, y = _batch((batch, 1, 28, 28), 10)
    return _classifier_step(lib, _same_weights(lib, make), x, y, "sgd")


def cifar_cnn(lib, size: str = "full") -> Step:
    """Issue 12's CIFAR-sized CNN: Conv2d(3,32,3,p=1)-ReLU-Conv2d(32,32,3,p=1)-ReLU-MaxPool2d(2)-
    Conv2d(32,64,3,p=1)-ReLU-MaxPool2d(2)-Flatten-Linear(64*16*16, 10), batch 64 of 3x64x64."""
    batch, side = (64, 64) if size == "full" else (2, 8)

    def make(m):
        nn = m.nn
        return nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * (side // 4) ** 2, 10),
        )

    x, y = _batch((batch, 3, side, side), 10)
    return _classifier_step(lib, _same_weights(lib, make), x, y, "sgd")


def _resnet(m, widths):
    nn = m.nn

    class Basic(nn.Module):
        """conv-BN-ReLU-conv-BN plus the shortcut (a 1x1 stride-2 projection + BN where the shape
        changes), then ReLU."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = (
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
                if stride != 1 or cin != cout
                else nn.Identity()
            )
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    a, b, c = widths
    return nn.Sequential(
        nn.Conv2d(3, a, 3, padding=1, bias=False),
        nn.BatchNorm2d(a),
        nn.ReLU(),
        Basic(a, a, 1),
        Basic(a, b, 2),
        Basic(b, c, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(c, 10),
    )


def resnet8(lib, size: str = "full") -> Step:
    """ResNet-8 on 3x32x32: stem conv-BN-ReLU, three basic blocks (16, 32 stride 2, 64 stride 2)
    with 1x1 stride-2 projection shortcuts, global average pooling, Linear(64, 10); batch 128."""
    batch, side, widths = (128, 32, (16, 32, 64)) if size == "full" else (3, 8, (4, 6, 8))
    x, y = _batch((batch, 3, side, side), 10)
    return _classifier_step(lib, _same_weights(lib, lambda m: _resnet(m, widths)), x, y, "sgd")


def mobilenet_block(lib, size: str = "full") -> Step:
    """Three MobileNet blocks (depthwise 3x3 groups=C + BN + ReLU, pointwise 1x1 + BN + ReLU),
    64 -> 128 -> 128 -> 128 channels on 32x32, batch 64, then global average pooling + Linear."""
    batch, side, widths = (64, 32, (64, 128, 128, 128)) if size == "full" else (2, 6, (4, 8, 8, 8))

    def make(m):
        nn = m.nn
        layers = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [
                nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                nn.BatchNorm2d(cin),
                nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
            ]
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], 10))

    x, y = _batch((batch, widths[0], side, side), 10)
    return _classifier_step(lib, _same_weights(lib, make), x, y, "sgd")


# -- sequence models -------------------------------------------------------------------------------


def _gpt(m, vocab, context, width, heads, layers):
    nn = m.nn
    attention = nn.functional.scaled_dot_product_attention

    class Block(nn.Module):
        """Pre-LayerNorm block: causal self-attention, then a 4x GELU MLP, each with a residual."""

        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)
            self.ln2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = (
                z.view(b, t, heads, c // heads).transpose(1, 2) for z in self.qkv(self.ln1(x)).split(c, dim=2)
            )
            y = attention(q, k, v, is_causal=True).transpose(1, 2).contiguous().view(b, t, c)
            x = x + self.proj(y)
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocab, width)
            self.positions = nn.Embedding(context, width)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab, bias=False)

        def forward(self, idx, pos):
            return self.head(self.ln_f(self.blocks(self.tokens(idx) + self.positions(pos))))

    return GPT()


def gpt(lib, size: str = "full") -> Step:
    """GPT-style decoder: 6 layers, 6 heads, 192 wide, context 128, batch 16, vocab 256, AdamW."""
    dims = (256, 128, 192, 6, 6, 16) if size == "full" else (32, 8, 12, 2, 2, 2)
    vocab, context, width, heads, layers, batch = dims
    model = _same_weights(lib, lambda m: _gpt(m, vocab, context, width, heads, layers))
    tokens = np.random.default_rng(0).integers(0, vocab, (batch, context + 1))
    idx, targets = lib.tensor(tokens[:, :-1]), lib.tensor(tokens[:, 1:].reshape(-1))
    pos = lib.arange(context)
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    cross_entropy = lib.nn.functional.cross_entropy

    def run():
        loss = cross_entropy(model(idx, pos).view(-1, vocab), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return Step(run, _state(model))


def lstm_lm(lib, size: str = "full") -> Step:
    """Word-level LSTM language model as PyTorch's word_language_model example: vocab 10000,
    embedding 256, 2-layer nn.LSTM hidden 256, sequence 35, batch 20, dropout 0,
    clip_grad_norm_(0.25), SGD(lr=20)."""
    vocab, embed, hidden, seq, batch = (10000, 256, 256, 35, 20) if size == "full" else (40, 6, 5, 4, 3)

    def make(m):
        nn = m.nn

        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.Embedding(vocab, embed)
                self.rnn = nn.LSTM(embed, hidden, 2)
                self.decoder = nn.Linear(hidden, vocab)

            def forward(self, x):
                out, _ = self.rnn(self.encoder(x))
                return self.decoder(out)

        model = LM()
        with m.no_grad():  # the example's init_weights (overwritten by torch's in chainrule's copy)
            model.encoder.weight.uniform_(-0.1, 0.1)
            model.decoder.weight.uniform_(-0.1, 0.1)
            model.decoder.bias.zero_()
        return model

    model = _same_weights(lib, make)
    tokens = np.random.default_rng(0).integers(0, vocab, (seq + 1, batch))
    data, targets = lib.tensor(tokens[:-1]), lib.tensor(tokens[1:].reshape(-1))
    params = list(model.parameters())
    opt = lib.optim.SGD(params, lr=20.0)
    cross_entropy = lib.nn.functional.cross_entropy
    clip = lib.nn.utils.clip_grad_norm_

    def run():
        loss = cross_entropy(model(data).view(-1, vocab), targets)
        opt.zero_grad()
        loss.backward()
        clip(params, 0.25)
        opt.step()
        return loss

    return Step(run, _state(model))


# -- linear algebra --------------------------------------------------------------------------------


def logdet(lib, size: str = "full") -> Step:
    """Gradient of logdet of a 256x256 float64 symmetric positive-definite matrix (not a training
    step: forward and backward of one op; ``state()`` is the gradient)."""
    n = 256 if size == "full" else 6
    g = np.random.default_rng(0).standard_normal((n, n))
    spd = g @ g.T / n + np.eye(n)
    x = lib.tensor(spd, requires_grad=True)

    def run():
        x.grad = None
        y = lib.logdet(x)
        y.backward()
        return y

    return Step(run, lambda: {"grad": x.grad.numpy().copy()})


WORKLOADS: dict[str, Callable[..., Step]] = {
    f.__name__: f
    for f in (
        mlp_b32_sgd,
        mlp_b32_manual,
        mlp_b512_sgd,
        mlp_b512_manual,
        gelu_mlp,
        lenet5,
        cifar_cnn,
        resnet8,
        mobilenet_block,
        gpt,
        lstm_lm,
        logdet,
    )
}

# Issue 12's targets: chainrule time / torch time of a step, and peak memory / torch's.
TIME_TARGETS = {
    "mlp_b32_sgd": 0.9,
    "mlp_b32_manual": 0.9,
    "mlp_b512_sgd": 1.0,
    "mlp_b512_manual": 1.0,
    "gelu_mlp": 1.3,
    "lenet5": 1.0,
    "cifar_cnn": 1.6,
    "resnet8": 1.6,
    "mobilenet_block": 2.0,
    "gpt": 1.5,
    "lstm_lm": 1.3,
    "logdet": 1.2,
}
MEMORY_TARGETS = {"cifar_cnn": 1.3, "resnet8": 1.3, "gpt": 1.3}
