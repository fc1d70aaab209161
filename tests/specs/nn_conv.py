"""Convolution and pooling: conv1d/conv2d/conv_transpose1d/conv_transpose2d (ops convolution,
convolution_transpose and, in their second derivatives, convolution_weight), max/avg pooling
(ops max_pool2d, avg_pool2d) and adaptive average pooling."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import fixed

FLOAT = Arg()
WIDE = Arg(-100.0, 100.0)  # max pooling: near-ties (closer than the FD step) become unlikely


def _f(m):
    return m.nn.functional


def _conv(name, fn, *cases, args=(FLOAT, FLOAT, FLOAT), **kw):
    return OpSpec(name, fn, fixed(*cases), args, **kw)


def _pool(name, fn, *shapes, arg=FLOAT, **kw):
    return OpSpec(name, fn, fixed(*[(s,) for s in shapes]), (arg,), **kw)


SPECS = [
    # ---- conv2d ----
    _conv(
        "conv2d",
        lambda m, x, w, b: _f(m).conv2d(x, w, b),
        ((2, 3, 6, 5), (4, 3, 3, 3), (4,)),
        ((1, 1, 4, 4), (2, 1, 2, 2), (2,)),
    ),
    _conv(
        "conv2d(stride=2, padding=1), no bias",
        lambda m, x, w: _f(m).conv2d(x, w, None, 2, 1),
        ((2, 3, 7, 6), (4, 3, 3, 3)),
        ((1, 2, 5, 5), (3, 2, 2, 3)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv2d(stride=(1, 2), padding=(2, 0), dilation=(2, 1))",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, (1, 2), (2, 0), (2, 1)),
        ((2, 2, 5, 7), (3, 2, 3, 2), (3,)),
    ),
    _conv(
        "conv2d(groups=2)",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, groups=2, padding=1),
        ((2, 4, 5, 5), (6, 2, 3, 3), (6,)),
        ((1, 2, 4, 3), (2, 1, 2, 2), (2,)),
    ),
    _conv(
        "conv2d(padding='same') even kernel",
        lambda m, x, w: _f(m).conv2d(x, w, padding="same"),
        ((2, 3, 5, 6), (2, 3, 2, 4)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv2d(padding='same', dilation=2)",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, padding="same", dilation=2),
        ((1, 2, 6, 6), (3, 2, 3, 3), (3,)),
    ),
    _conv(
        "conv2d(padding='valid') unbatched",
        lambda m, x, w: _f(m).conv2d(x, w, padding="valid"),
        ((3, 5, 5), (2, 3, 3, 3)),
        args=(FLOAT, FLOAT),
    ),
    _conv("conv2d 1x1 kernel", lambda m, x, w, b: _f(m).conv2d(x, w, b), ((2, 3, 4, 4), (5, 3, 1, 1), (5,))),
    _conv(
        "conv2d weight only",
        lambda m, x, w: _f(m).conv2d(x, w, stride=2),
        ((2, 2, 5, 5), (3, 2, 3, 3)),
        args=(Arg(grad=False), FLOAT),
    ),
    # ---- the kernels' paths by shape (kernels/conv.py) ----
    _conv(
        "conv2d 3x3, 2-16 inputs, 4-16 outputs (the direct kernels, input gradient too)",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, padding=1),
        ((2, 4, 6, 7), (6, 4, 3, 3), (6,)),
        ((1, 5, 4, 5), (9, 5, 3, 3), (9,)),
    ),
    _conv(
        "conv2d 5x5, 3 inputs (the direct kernels)",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, padding=2),
        ((2, 3, 6, 5), (4, 3, 5, 5), (4,)),
    ),
    _conv(
        "conv2d depthwise (groups=C=O)",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, padding=1, groups=x.shape[-3]),
        ((2, 3, 5, 6), (3, 1, 3, 3), (3,)),
        ((1, 2, 4, 4), (2, 1, 2, 3), (2,)),
    ),
    _conv(
        "conv2d depthwise stride 2 dilation 2",
        lambda m, x, w: _f(m).conv2d(x, w, None, 2, (2, 1), 2, groups=2),
        ((2, 2, 7, 6), (2, 1, 3, 2)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv_transpose2d depthwise stride 2",
        lambda m, x, w, b: _f(m).conv_transpose2d(x, w, b, 2, 1, 1, groups=3),
        ((2, 3, 3, 4), (3, 1, 3, 3), (3,)),
    ),
    _conv(
        "conv2d 1x1 stride 2, batch 1",
        lambda m, x, w: _f(m).conv2d(x, w, None, 2),
        ((1, 3, 5, 4), (4, 3, 1, 1)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv2d more outputs than inputs (input gradient by col2im)",
        lambda m, x, w, b: _f(m).conv2d(x, w, b, padding=1),
        ((2, 1, 5, 5), (6, 1, 3, 3), (6,)),
    ),
    _conv(
        "conv2d padding beyond the kernel (input gradient crops)",
        lambda m, x, w: _f(m).conv2d(x, w, None, 1, (3, 2), (1, 2)),
        ((2, 3, 4, 5), (2, 3, 2, 2)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv2d non-contiguous input",
        lambda m, x, w, b: _f(m).conv2d(x.transpose(-1, -2), w, b, 2, 1),
        ((2, 3, 6, 5), (4, 3, 3, 3), (4,)),
    ),
    # ---- conv1d ----
    _conv(
        "conv1d(stride=2, padding=1)",
        lambda m, x, w, b: _f(m).conv1d(x, w, b, 2, 1),
        ((2, 3, 7), (4, 3, 3), (4,)),
        ((3, 6), (2, 3, 2), (2,)),
    ),
    _conv(
        "conv1d(groups=3, padding='same')",
        lambda m, x, w: _f(m).conv1d(x, w, groups=3, padding="same"),
        ((2, 3, 6), (6, 1, 4)),
        args=(FLOAT, FLOAT),
    ),
    # ---- transposed convolutions ----
    _conv(
        "conv_transpose2d",
        lambda m, x, w, b: _f(m).conv_transpose2d(x, w, b),
        ((2, 3, 4, 3), (3, 2, 3, 3), (2,)),
        ((1, 1, 2, 2), (1, 3, 2, 2), (3,)),
    ),
    _conv(
        "conv_transpose2d(stride=2, padding=1, output_padding=1)",
        lambda m, x, w, b: _f(m).conv_transpose2d(x, w, b, 2, 1, 1),
        ((2, 2, 3, 4), (2, 3, 3, 3), (3,)),
    ),
    _conv(
        "conv_transpose2d(groups=2, dilation=2, stride=(1, 2))",
        lambda m, x, w: _f(m).conv_transpose2d(x, w, None, (1, 2), 0, 0, 2, 2),
        ((2, 4, 3, 3), (4, 1, 2, 3)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv_transpose2d(stride=2, dilation=3, output_padding=2)",
        lambda m, x, w: _f(m).conv_transpose2d(x, w, None, 2, 1, 2, 1, 3),
        ((1, 2, 3, 3), (2, 2, 2, 2)),
        args=(FLOAT, FLOAT),
    ),
    _conv(
        "conv_transpose1d(stride=3, padding=1)",
        lambda m, x, w, b: _f(m).conv_transpose1d(x, w, b, 3, 1),
        ((2, 2, 4), (2, 3, 3), (3,)),
        ((2, 4), (2, 1, 2), (1,)),
    ),
    # ---- max pooling ----
    _pool(
        "max_pool2d(2)", lambda m, x: _f(m).max_pool2d(x, 2), (2, 3, 4, 6), (1, 2, 5, 5), (3, 4, 4), arg=WIDE
    ),
    _pool("max_pool2d(3, 2, 1)", lambda m, x: _f(m).max_pool2d(x, 3, 2, 1), (2, 2, 6, 7), arg=WIDE),
    _pool(
        "max_pool2d(3, 2, ceil_mode)",
        lambda m, x: _f(m).max_pool2d(x, 3, 2, ceil_mode=True),
        (2, 2, 6, 8),
        (1, 1, 5, 5),
        arg=WIDE,
    ),
    _pool(
        "max_pool2d((2, 3), (1, 2), (1, 0), dilation=(2, 1))",
        lambda m, x: _f(m).max_pool2d(x, (2, 3), (1, 2), (1, 0), (2, 1)),
        (2, 2, 5, 7),
        arg=WIDE,
    ),
    _pool(
        "max_pool2d(return_indices)",
        lambda m, x: _f(m).max_pool2d(x, 2, 1, 1, return_indices=True),
        (2, 2, 3, 4),
        arg=WIDE,
    ),
    _pool(
        "max_pool1d(3, 2, 1, return_indices)",
        lambda m, x: _f(m).max_pool1d(x, 3, 2, 1, return_indices=True),
        (2, 3, 7),
        (3, 6),
        arg=WIDE,
    ),
    # ---- average pooling ----
    _pool("avg_pool2d(2)", lambda m, x: _f(m).avg_pool2d(x, 2), (2, 3, 4, 6), (2, 5, 5)),
    _pool("avg_pool2d(3, 2, 1)", lambda m, x: _f(m).avg_pool2d(x, 3, 2, 1), (2, 2, 6, 7)),
    _pool(
        "avg_pool2d(3, 2, 1, ceil_mode, count_include_pad=False)",
        lambda m, x: _f(m).avg_pool2d(x, 3, 2, 1, True, False),
        (2, 2, 6, 8),
        (1, 1, 5, 4),
    ),
    _pool(
        "avg_pool2d((2, 3), divisor_override=4)",
        lambda m, x: _f(m).avg_pool2d(x, (2, 3), divisor_override=4),
        (2, 2, 4, 6),
    ),
    _pool("avg_pool1d(3, 2, 1)", lambda m, x: _f(m).avg_pool1d(x, 3, 2, 1), (2, 3, 7), (3, 6)),
    _pool("adaptive_avg_pool2d(3)", lambda m, x: _f(m).adaptive_avg_pool2d(x, 3), (2, 2, 7, 8), (2, 6, 6)),
    _pool(
        "adaptive_avg_pool2d((1, None))", lambda m, x: _f(m).adaptive_avg_pool2d(x, (1, None)), (2, 2, 5, 4)
    ),
    _pool("adaptive_avg_pool2d(1)", lambda m, x: _f(m).adaptive_avg_pool2d(x, 1), (2, 3, 4, 5)),
    _pool("adaptive_avg_pool1d(4)", lambda m, x: _f(m).adaptive_avg_pool1d(x, 4), (2, 3, 7)),
]
