"""Fused neural-network ops: activations with parameters, and the affine map of ``nn.Linear``.

Each is one node whose derivative is written once against the ``F`` interface, so the same rule
gives first derivatives on arrays and differentiable second derivatives on tensors. The public
versions live in ``chainrule.nn.functional`` (``F.gelu``, ``F.linear`` ...), as in torch.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _autocast
from ..autograd.graph import defop, matrix, times
from ..autograd.math import ARRAY_MATH, register, tensor_math
from ..kernels.elementwise import erf_array, sigmoid_array
from ..kernels.gelu import gelu_float32, gelu_grad_float32
from ._common import Tensor, as_tensor, make_result, shape_str
from .autocast_cast import autocast_operands

__all__: list = []

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_KAPPA = 0.044715


def _float_input(input, who: str) -> tuple[Tensor, np.ndarray]:
    input = as_tensor(input, who)
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"{who}: \"{who}\" not implemented for '{input.dtype}'; it needs a floating "
            "point input: convert first, e.g. x.float()"
        )
    return input, x


def _sigmoid_np(x):
    """1 / (1 + exp(-x)) on an array: the local factors' sigmoid (viz shows their values)."""
    return 1 / (1 + np.exp(-x))


# ---- leaky_relu, elu ----------------------------------------------------------------------------
@defop(
    "leaky_relu",
    formula="{g0} = {gy} * (1 if {x0} > 0 else {c})",
    local=times(lambda xs, y, p: np.where(xs[0] > 0, 1, p[0]).astype(xs[0].dtype)),
)
def _leaky_relu(F, g, xs, out, p, needs):
    return (F.where(xs[0] > 0, g, g * p[0]),)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x if x > 0 else negative_slope * x``."""
    input, x = _float_input(input, "leaky_relu")
    slope = float(negative_slope)
    return make_result(np.where(x > 0, x, x * x.dtype.type(slope)), _leaky_relu, (input,), (slope,))


@defop(
    "elu",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {gy} * ({y} + {c} if {y} <= 0 else 1)",
    local=times(lambda xs, y, p: np.where(y <= 0, y + p[0], 1).astype(y.dtype)),
)
def _elu(F, g, xs, out, p, needs):
    alpha = p[0]
    # torch tests y <= 0, so a NaN takes the identity branch: its gradient passes through
    return (F.where(out <= 0, g * (out + alpha), g),)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    input, x = _float_input(input, "elu")
    neg = x.dtype.type(alpha) * np.expm1(np.minimum(x, 0))
    return make_result(np.where(x > 0, x, neg), _elu, (input,), (float(alpha),))


# ---- gelu, silu, softplus ----------------------------------------------------------------------
@defop("gelu", formula="{g0} = {gy} * (Phi({x0}) + {x0} phi({x0}))  (tanh form for approximate='tanh')")
def _gelu(F, g, xs, out, p, needs):
    x = xs[0]
    if p[0] == "tanh":
        t = F.tanh((x + x * x * x * _KAPPA) * _SQRT_2_OVER_PI)
        inner = (x * x * (3 * _KAPPA) + 1) * _SQRT_2_OVER_PI
        return (g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * inner),)
    return (F.gelu_grad(g, x),)


def _gelu_grad(F, g, x):
    """``g * (Phi(x) + x phi(x))``, written with F's ops (the differentiable form)."""
    cdf = (F.erf(x * _SQRT_HALF) + 1) * 0.5
    pdf = F.exp(x * x * -0.5) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _gelu_grad_array(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``_gelu_grad`` on arrays in two buffers (a GELU network's backward peak is made of these
    temporaries, each the size of an activation)."""
    if type(x) is not np.ndarray or type(g) is not np.ndarray or x.ndim == 0:
        return _gelu_grad(ARRAY_MATH, g, x)  # another array type, or a scalar: no buffers to reuse
    if x.dtype == np.float32 and g.dtype == np.float32 and g.shape == x.shape:
        return gelu_grad_float32(g, x)  # SciPy's erf is 4x slower on float32 (kernels/gelu.py)
    cdf = erf_array(x * x.dtype.type(_SQRT_HALF))
    cdf += 1
    cdf *= 0.5
    xpdf = np.square(x)
    xpdf *= -0.5
    np.exp(xpdf, out=xpdf)
    xpdf *= x.dtype.type(_INV_SQRT_2PI)
    xpdf *= x
    cdf += xpdf
    del xpdf
    cdf *= g
    return cdf


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    input, x = _float_input(input, "gelu")
    if approximate == "tanh":
        out = 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _KAPPA * x * x * x)))
    elif approximate == "none" and x.dtype == np.float32:
        out = gelu_float32(x)  # SciPy's erf is 4x slower on float32 (kernels/gelu.py)
    elif approximate == "none":
        # x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), in one buffer: each temporary of a large
        # activation costs its full size at the step's memory peak
        out = erf_array(x * x.dtype.type(_SQRT_HALF))
        out += 1
        out *= x
        out *= 0.5
    else:
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return make_result(out.astype(x.dtype, copy=False), _gelu, (input,), (approximate,))


@defop(
    "silu",
    formula="{g0} = {gy} * s (1 + {x0} (1 - s)),  s = sigmoid({x0})",
    local=times(lambda xs, y, p: _sigmoid_np(xs[0]) * (1 + xs[0] * (1 - _sigmoid_np(xs[0])))),
)
def _silu(F, g, xs, out, p, needs):
    x = xs[0]
    s = F.sigmoid(x)
    return (g * s * (x * (1 - s) + 1),)


def silu(input: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (a.k.a. swish)."""
    input, x = _float_input(input, "silu")
    return make_result(x * sigmoid_array(x), _silu, (input,))


@defop(
    "softplus",
    formula="{g0} = {gy} * sigmoid(beta {x0})  ({gy} where beta {x0} > threshold)",
    local=times(lambda xs, y, p: np.where(xs[0] * p[0] > p[1], 1, _sigmoid_np(xs[0] * p[0]))),
)
def _softplus(F, g, xs, out, p, needs):
    beta, threshold = p
    bx = xs[0] * beta
    return (F.where(bx > threshold, g, g * F.sigmoid(bx)),)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold``."""
    input, x = _float_input(input, "softplus")
    bx = x * x.dtype.type(beta)
    out = np.where(bx > threshold, x, np.logaddexp(0, bx) / x.dtype.type(beta))
    return make_result(out.astype(x.dtype, copy=False), _softplus, (input,), (beta, threshold))


for _op in (_leaky_relu, _elu, _gelu, _silu, _softplus):
    _op.same_shape = True


# ---- linear ------------------------------------------------------------------------------------
@defop(
    "linear",
    formula=("{g0} = {gy} {x1}", "{g1} = ({gy})^T {x0}", "{g2} = ({gy})^T 1_n"),
    local=(matrix("{gy} @ {x1}"), matrix("{gy}^T @ {x0}"), matrix("1^T @ {gy}")),
    reads=((1,), (0,), ()),
)
def _linear(F, g, xs, out, p, needs):
    x, w = xs[0], xs[1]
    gx = None
    if needs[0]:
        if g.ndim > 2 and w.ndim == 2:  # one GEMM on the rows (see _rows_times)
            gx = F.reshape(F.matmul(F.reshape(g, (_rows(g), g.shape[-1])), w), x.shape)
        else:
            gx = F.matmul(g, w)
    gw = gb = None
    if needs[1]:
        if x.ndim == 2:
            gw = F.matmul(F.mT(g), x)
        elif x.ndim == 1:
            gw = F.matmul(F.reshape(g, (-1, 1)), F.reshape(x, (1, -1)))
        else:
            gw = F.matmul(F.mT(F.reshape(g, (_rows(g), g.shape[-1]))), F.reshape(x, (_rows(x), x.shape[-1])))
    if len(xs) == 3 and needs[2]:
        gb = F.sum(g, tuple(range(g.ndim - 1))) if g.ndim > 1 else g
    return gx, gw, gb


def _rows(t) -> int:
    """``t``'s rows flattened to (rows, last dim): explicit, as an empty batch leaves no -1 to infer."""
    return math.prod(t.shape[:-1])


def _rows_times(x, w_t):
    """``x @ w_t`` for an N-D ``x`` and a 2-D ``w_t`` as ONE GEMM on ``x``'s rows: NumPy's stacked
    matmul broadcasting a 2-D operand runs its own loop instead of BLAS, 12-20x slower (measured:
    (35, 20, 256) @ (256, 10000) 1.4-1.7 s against 0.11 s for the (700, 256) rows, loaded machine)."""
    if x.ndim > 2 and w_t.ndim == 2 and type(x) is np.ndarray:
        rows = math.prod(x.shape[:-1])  # (explicit: an empty batch leaves no -1 to infer)
        return np.matmul(x.reshape(rows, x.shape[-1]), w_t).reshape(x.shape[:-1] + (w_t.shape[-1],))
    return np.matmul(x, w_t)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` in one node (``torch.nn.functional.linear``).

    Parameters
    ----------
    input : ``(*, in_features)``.
    weight : ``(out_features, in_features)`` (or ``(in_features,)`` for a single output).
    bias : ``(out_features,)`` or None.
    """
    input, weight = as_tensor(input, "linear"), as_tensor(weight, "linear")
    if _autocast.cpu_enabled:
        input, weight, bias = autocast_operands(input, weight, bias)
    x, w = input._data, weight._data
    if x.dtype != w.dtype or (bias is not None and bias._data.dtype != x.dtype):
        raise RuntimeError(
            f"linear: expected input, weight and bias of the same dtype, got {input.dtype}, "
            f"{weight.dtype}"
            + (f" and {bias.dtype}" if bias is not None else "")
            + "; convert the input (x.to(weight.dtype)) or the module (model.to(dtype))"
        )
    if w.ndim not in (1, 2) or x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied: input {shape_str(x.shape)} and weight "
            f"{shape_str(w.shape)}; the input's last dim must equal the weight's in_features "
            f"({w.shape[-1] if w.ndim else '?'})"
        )
    few_rows = x.ndim == 2 and w.ndim == 2 and x.shape[0] < _FEW_ROWS
    if few_rows and x.dtype == _FLOAT32 and type(x) is np.ndarray:
        return _linear_few_rows(input, weight, bias, x, w)
    out = np.matmul(x, w.T) if x.ndim <= 2 else _rows_times(x, w.T)
    if type(out) is not np.ndarray and isinstance(out, np.generic):  # (not vmap's batched array)
        out = np.asarray(out)
    if out.dtype != x.dtype:  # bfloat16: ml_dtypes multiplies in float32; torch rounds once, at the end
        if bias is not None:
            out = out + bias._data.astype(out.dtype)
        return make_result(
            out.astype(x.dtype),
            _LINEAR_SHOWN[min(x.ndim, 3), bias is not None],
            (input, weight) + ((bias,) if bias is not None else ()),
        )
    if bias is None:
        return make_result(out, _MM if x.ndim == 2 else _LINEAR_SHOWN[min(x.ndim, 3), False], (input, weight))
    b = bias._data
    if b.shape != out.shape[-1:] and b.size != 1 and b.shape != ():
        raise RuntimeError(
            f"linear: bias of shape {shape_str(b.shape)} does not match out_features "
            f"({w.shape[0] if w.ndim == 2 else 1})"
        )
    out = out + b if out.ndim == 0 else _add_inplace(out, b)
    return make_result(
        out, _ADDMM if x.ndim == 2 else _LINEAR_SHOWN[min(x.ndim, 3), True], (input, weight, bias)
    )


# torch's F.linear is addmm(bias, input, weight.t()) (mm without a bias) on a 2-D input, and on
# other inputs that of the input flattened to 2-D, viewed back: the name of torch's last node, by
# (input dims (3: more), bias); ops/grad_fn_names.py shows torch's nodes below it
_LINEAR_SHOWN = {
    (1, False): _linear.shown_as("SqueezeBackward4"),
    (1, True): _linear.shown_as("ViewBackward0"),
    (2, False): _linear.shown_as("MmBackward0"),
    (2, True): _linear.shown_as("AddmmBackward0"),
    (3, False): _linear.shown_as("UnsafeViewBackward0"),
    (3, True): _linear.shown_as("ViewBackward0"),
}
_ADDMM, _MM = _LINEAR_SHOWN[2, True], _LINEAR_SHOWN[2, False]


# A batch of few rows: OpenBLAS computes (weight @ input^T), an (out_features, rows) matrix,
# faster than (input @ weight^T) (its kernels block the other way), and the transposing copy into
# the C-order result carries the bias add, a pass that the usual order makes as well. Measured
# (float32, 784 -> 512, 2-core Xeon, best of 40, the bias added): 32 rows 177 us against 237 us
# with 2 threads, 302 against 397 with 1; 8 rows 0.6x; 64 rows 0.9-0.96x; 128 rows 1.01-1.08x;
# 256 rows slower. Float64 gains nothing (0.97x at 8 rows, 1.1-1.2x slower at 32): float32 only.
_FEW_ROWS = 64
_FLOAT32 = np.dtype(np.float32)


def _linear_few_rows(input: Tensor, weight: Tensor, bias: Tensor | None, x: np.ndarray, w: np.ndarray):
    transposed = np.matmul(w, x.T)
    out = np.empty(transposed.shape[::-1], x.dtype)
    if bias is None:
        np.copyto(out, transposed.T)
        return make_result(out, _MM, (input, weight))
    b = bias._data
    if b.shape != out.shape[-1:] and b.size != 1 and b.shape != ():
        raise RuntimeError(
            f"linear: bias of shape {shape_str(b.shape)} does not match out_features ({w.shape[0]})"
        )
    np.add(transposed.T, b, out=out)
    return make_result(out, _ADDMM, (input, weight, bias))


def _add_inplace(out: np.ndarray, b: np.ndarray) -> np.ndarray:
    out += b
    return out


register("gelu_grad", _gelu_grad_array, lambda g, x: _gelu_grad(tensor_math(), g, x))
