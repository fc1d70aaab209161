"""Convolution as one GEMM over an im2col view, and its two adjoints, each a differentiable op.

For ``y = conv(x, w)`` (cross-correlation, as in torch) with stride ``s``, dilation ``d`` and
``p`` rows/cols of zero padding before the input:

    y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] * x[n, c, i*s + a*d - p, j*s + b*d - p]

* forward: the windows of the padded input form a strided view ``cols[c, a, b, n, i, j]``; a
  chunk of the batch at a time is copied into a ``(K, n * H_out * W_out)`` matrix (K = C * kh *
  kw) and multiplied by the ``(O, K)`` weight matrix (per group);
* ``dl/dx`` is the transposed convolution of ``dl/dy`` with the same weight: at stride 1 the
  convolution with the flipped kernel, else a matmul back to window columns and ``col2im``
  (each kernel position's slice added into place);
* ``dl/dw`` is the correlation of the input windows with ``dl/dy`` (op ``convolution_weight``),
  the windows recomputed chunk by chunk: backward keeps the input, never a window matrix.

``chainrule.kernels.conv`` holds the array kernels and their paths by shape (1x1, depthwise,
chunk sizes). The three ops' rules call each other (the adjoint of an
adjoint is the op itself), so gradients of any order work. Every op here takes explicit
geometry: ``stride``, ``padding`` (rows/cols of zeros before the input; the end is padded as far
as the windows need), the output's spatial size ``out_hw``, ``dilation`` and ``groups``;
``nn.functional`` turns torch's arguments into it.
"""

from __future__ import annotations

from ..autograd.graph import defop
from ..autograd.math import register
from ..kernels.conv import conv_array, conv_transpose_array, conv_weight_array
from ._common import Tensor, make_result

__all__ = ["convolution", "convolution_transpose", "convolution_weight"]


# ---- the differentiable ops ---------------------------------------------------------------------
def _geometry(p):
    return p[0], p[1], p[2], p[3]


# torch's convolution_backward reads the input and the weight for all three gradients, never the
# bias: an in-place change of the bias after the call passes
@defop(
    "convolution",
    reads=((0, 1), (0, 1), (0, 1)),
    formula=(
        "{g0} = conv_transpose({gy}, {x1})",
        "{g1} = correlate({x0}, {gy})",
        "{g2} = sum of {gy} over (N, H, W)",
    ),
)
def _convolution(F, g, xs, out, p, needs):
    stride, padding, dilation, groups = _geometry(p)
    x, w = xs[0], xs[1]
    gx = gw = gb = None
    if needs[0]:
        gx = F.convolution_transpose(g, w, None, stride, padding, tuple(x.shape[2:]), dilation, groups)
    if needs[1]:
        gw = F.convolution_weight(x, g, tuple(w.shape), stride, padding, dilation, groups)
    if len(xs) > 2 and needs[2]:
        gb = F.sum(g, (0, 2, 3))
    return gx, gw, gb


@defop(
    "convolution_transpose",
    reads=((0, 1), (0, 1), (0, 1)),  # (as convolution's)
    formula=("{g0} = conv({gy}, {x1})", "{g1} = correlate({gy}, {x0})", "{g2} = sum of {gy} over (N, H, W)"),
)
def _convolution_transpose(F, g, xs, out, p, needs):
    stride, padding, dilation, groups = _geometry(p)
    x, w = xs[0], xs[1]
    gx = gw = gb = None
    if needs[0]:
        gx = F.convolution(g, w, None, stride, padding, tuple(x.shape[2:]), dilation, groups)
    if needs[1]:
        gw = F.convolution_weight(g, x, tuple(w.shape), stride, padding, dilation, groups)
    if len(xs) > 2 and needs[2]:
        gb = F.sum(g, (0, 2, 3))
    return gx, gw, gb


@defop("convolution_weight", formula=("{g0} = conv_transpose({x1}, {gy})", "{g1} = conv({x0}, {gy})"))
def _convolution_weight(F, g, xs, out, p, needs):
    stride, padding, dilation, groups = _geometry(p)
    x, gy = xs
    gx = ggy = None
    if needs[0]:
        gx = F.convolution_transpose(gy, g, None, stride, padding, tuple(x.shape[2:]), dilation, groups)
    if needs[1]:
        ggy = F.convolution(x, g, None, stride, padding, tuple(gy.shape[2:]), dilation, groups)
    return gx, ggy


def _inputs(input: Tensor, weight: Tensor, bias: Tensor | None) -> tuple:
    return (input, weight) if bias is None else (input, weight, bias)


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple,
    padding: tuple,
    out_hw: tuple,
    dilation: tuple,
    groups: int,
) -> Tensor:
    """2-d convolution of ``input`` (N, C, H, W) with ``weight`` (O, C/groups, kh, kw) in
    explicit geometry (see the module docstring); arguments are not validated here."""
    y = conv_array(
        input._data,
        weight._data,
        None if bias is None else bias._data,
        stride,
        padding,
        out_hw,
        dilation,
        groups,
    )
    return make_result(y, _convolution, _inputs(input, weight, bias), (stride, padding, dilation, groups))


def convolution_transpose(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple,
    padding: tuple,
    out_hw: tuple,
    dilation: tuple,
    groups: int,
) -> Tensor:
    """The transposed convolution of ``input`` (N, O, Hi, Wi) with ``weight`` (O, C/groups, kh, kw)
    to an output of spatial size ``out_hw``: the adjoint of ``convolution`` in its input."""
    y = conv_transpose_array(
        input._data,
        weight._data,
        None if bias is None else bias._data,
        stride,
        padding,
        out_hw,
        dilation,
        groups,
    )
    return make_result(
        y, _convolution_transpose, _inputs(input, weight, bias), (stride, padding, dilation, groups)
    )


def convolution_weight(
    input: Tensor,
    grad_output: Tensor,
    weight_shape: tuple,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    groups: int,
) -> Tensor:
    """The gradient of ``convolution`` in its weight (``torch.nn.grad.conv2d_weight``), as an op."""
    dw = conv_weight_array(input._data, grad_output._data, weight_shape, stride, padding, dilation, groups)
    return make_result(dw, _convolution_weight, (input, grad_output), (stride, padding, dilation, groups))


register("convolution", conv_array, convolution)
register("convolution_transpose", conv_transpose_array, convolution_transpose)
register("convolution_weight", conv_weight_array, convolution_weight)
