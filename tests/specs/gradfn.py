"""The mean squared error as one node (``F.mse_loss``, torch's MseLossBackward0): every reduction,
targets that require grad or not, broadcasting targets, empty and 0-d inputs."""

from __future__ import annotations

import warnings

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

TARGET = Arg(grad=False)


def _same(shape_strategy):
    """Input and target of one shape."""
    return shape_strategy.map(lambda s: (s[0], s[0]))


def _mse(reduction):
    def run(m, x, y):
        with warnings.catch_warnings():  # the broadcasting cases warn, in both libraries
            warnings.simplefilter("ignore", UserWarning)
            return m.nn.functional.mse_loss(x, y, reduction=reduction)

    return run


SAME = _same(any_shape())
BROADCAST = fixed(((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2,)))
EMPTY = fixed(((0, 3), (0, 3)), ((0,), (0,)))

SPECS = [
    OpSpec("mse_loss(mean)", _mse("mean"), SAME, (Arg(), Arg())),
    OpSpec("mse_loss(sum)", _mse("sum"), SAME, (Arg(), Arg())),
    OpSpec("mse_loss(none)", _mse("none"), SAME, (Arg(), Arg())),
    OpSpec("mse_loss constant target", _mse("mean"), SAME, (Arg(), TARGET)),
    OpSpec("mse_loss(mean) broadcast", _mse("mean"), BROADCAST, (Arg(), Arg())),
    OpSpec("mse_loss(none) broadcast", _mse("none"), BROADCAST, (Arg(), Arg())),
    OpSpec("mse_loss(sum) empty", _mse("sum"), EMPTY, (Arg(), Arg())),
    OpSpec("mse_loss(mean) empty", _mse("mean"), EMPTY, (Arg(), Arg()), fd=False),
    OpSpec(
        "x.mse_loss via nn.MSELoss",
        lambda m, x, y: m.nn.MSELoss()(x.exp(), y),
        SAME,
        (Arg(), Arg()),
    ),
]
