"""ONNX forms of the recorded ops, one converter per op name.

A converter gets the emitter ``ctx`` (the builder ``ctx.b`` and the traced shapes), the step (its
``obj`` is the recorded Node with the op's ``params``) and the ONNX names of the node's inputs; it
returns the name of its output. Shapes that a dynamic axis reaches are written with ONNX's
"copy this dim" (0) and "infer this dim" (-1), so the file runs for other sizes of those axes.
"""

from __future__ import annotations

import math

import numpy as np

from ._builder import UnsupportedOperatorError

__all__ = ["OP_CONVERTERS"]

OP_CONVERTERS: dict = {}


def converts(*names: str):
    def register(fn):
        for name in names:
            OP_CONVERTERS[name] = fn
        return fn

    return register


def _unary(onnx_op: str):
    def convert(ctx, step, ins):
        return ctx.b.add(onnx_op, [ins[0]])

    return convert


for _name, _onnx in {
    "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "neg": "Neg", "tanh": "Tanh",
    "sigmoid": "Sigmoid", "relu": "Relu", "sin": "Sin", "cos": "Cos", "erf": "Erf",
    "reciprocal": "Reciprocal", "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "clone": "Identity",
    "tan": "Tan", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
}.items():  # fmt: skip
    OP_CONVERTERS[_name] = _unary(_onnx)


def _scalar(ctx, step, value) -> str:
    return ctx.b.const(value, ctx.odtype(step))


@converts("add", "sub")
def _add_sub(ctx, step, ins):
    a, b = ins
    if step.obj.params:  # alpha
        b = ctx.b.add("Mul", [b, _scalar(ctx, step, step.obj.params[0])])
    return ctx.b.add("Add" if step.obj.op.name == "add" else "Sub", [a, b])


@converts("mul", "div", "pow", "maximum", "minimum", "matmul")
def _binary(ctx, step, ins):
    onnx_op = {
        "mul": "Mul",
        "div": "Div",
        "pow": "Pow",
        "maximum": "Max",
        "minimum": "Min",
        "matmul": "MatMul",
    }
    return ctx.b.add(onnx_op[step.obj.op.name], ins)


@converts("add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "rsub_scalar")
def _with_scalar(ctx, step, ins):
    name = step.obj.op.name
    c = _scalar(ctx, step, np.asarray(step.obj.params[0]))
    if name == "rsub_scalar":
        return ctx.b.add("Sub", [c, ins[0]])
    return ctx.b.add(
        {"add_scalar": "Add", "sub_scalar": "Sub", "mul_scalar": "Mul", "div_scalar": "Div"}[name],
        [ins[0], c],
    )


@converts("square")
def _square(ctx, step, ins):
    return ctx.b.add("Mul", [ins[0], ins[0]])


@converts("rsqrt")
def _rsqrt(ctx, step, ins):
    return ctx.b.add("Reciprocal", [ctx.b.add("Sqrt", [ins[0]])])


@converts("log1p")
def _log1p(ctx, step, ins):
    return ctx.b.add("Log", [ctx.b.add("Add", [ins[0], _scalar(ctx, step, 1)])])


@converts("expm1")
def _expm1(ctx, step, ins):
    return ctx.b.add("Sub", [ctx.b.add("Exp", [ins[0]]), _scalar(ctx, step, 1)])


@converts("leaky_relu")
def _leaky_relu(ctx, step, ins):
    return ctx.b.add("LeakyRelu", ins, alpha=float(step.obj.params[0]))


@converts("elu")
def _elu(ctx, step, ins):
    return ctx.b.add("Elu", ins, alpha=float(step.obj.params[0]))


@converts("hardsigmoid")
def _hardsigmoid(ctx, step, ins):
    """ONNX's HardSigmoid, ``max(0, min(1, x / 6 + 1/2))`` (torch exports the same)."""
    return ctx.b.add("HardSigmoid", ins, alpha=1.0 / 6.0, beta=0.5)


@converts("silu")
def _silu(ctx, step, ins):
    return ctx.b.add("Mul", [ins[0], ctx.b.add("Sigmoid", [ins[0]])])


@converts("softplus")
def _softplus(ctx, step, ins):
    beta = float(step.obj.params[0])
    if beta == 1:
        return ctx.b.add("Softplus", ins)
    scaled = ctx.b.add("Mul", [ins[0], _scalar(ctx, step, beta)])
    return ctx.b.add("Div", [ctx.b.add("Softplus", [scaled]), _scalar(ctx, step, beta)])


@converts("gelu")
def _gelu(ctx, step, ins):
    approximate = step.obj.params[0]
    if ctx.b.opset >= 20:
        return ctx.b.add("Gelu", ins, approximate=approximate)
    x, b = ins[0], ctx.b
    half_x = b.add("Mul", [x, _scalar(ctx, step, 0.5)])
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = b.add("Mul", [b.add("Mul", [x, x]), x])
        inner = b.add("Add", [x, b.add("Mul", [cube, _scalar(ctx, step, 0.044715)])])
        t = b.add("Tanh", [b.add("Mul", [inner, _scalar(ctx, step, math.sqrt(2 / math.pi))])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = b.add("Erf", [b.add("Mul", [x, _scalar(ctx, step, 1 / math.sqrt(2))])])
    return b.add("Mul", [half_x, b.add("Add", [t, _scalar(ctx, step, 1)])])


@converts("softmax", "log_softmax")
def _softmax(ctx, step, ins):
    return ctx.b.add(
        "Softmax" if step.obj.op.name == "softmax" else "LogSoftmax", ins, axis=int(step.obj.params[0])
    )


@converts("scaled_dot_product_attention")
def _scaled_dot_product_attention(ctx, step, ins):
    """``Softmax(q k^T scale + mask) v``, the positions the bool mask leaves out at -inf."""
    b = ctx.b
    scale, drop = step.obj.params[:2]
    rank = len(ctx.ishape(step, 1))
    perm = list(range(rank))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    kt = b.add("Transpose", [ins[1]], perm=perm)
    scores = b.add("Mul", [b.add("MatMul", [ins[0], kt]), _scalar(ctx, step, scale)])
    if len(ins) > 3:  # a float mask
        scores = b.add("Add", [scores, ins[3]])
    if drop is not None:
        cond = b.initializer(np.ascontiguousarray(ctx.array_param(step, 1)))
        scores = b.add("Where", [cond, _scalar(ctx, step, -np.inf), scores])
    return b.add("MatMul", [b.add("Softmax", [scores], axis=-1), ins[2]])


@converts("clamp")
def _clamp(ctx, step, ins):
    lo, hi = step.obj.params[:2]
    bounds = ["" if v is None else _scalar(ctx, step, v) for v in (lo, hi)]
    return ctx.b.add("Clip", [ins[0], *bounds])


@converts("hardtanh")
def _hardtanh(ctx, step, ins):
    """hardtanh and relu6 as ONNX's Clip between the two bounds (torch exports the same)."""
    low, high = step.obj.params[:2]
    return ctx.b.add("Clip", [ins[0], _scalar(ctx, step, low), _scalar(ctx, step, high)])


@converts("to")
def _to(ctx, step, ins):
    return ctx.b.add("Cast", ins, to=ctx.onnx_dtype(ctx.odtype(step)))


@converts("linear")
def _linear(ctx, step, ins):
    x, w = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    if len(ctx.ishape(step, 0)) == 2:  # as torch writes it: Gemm with the weight as stored
        return ctx.b.add("Gemm", [x, w] + ([bias] if bias else []), transB=1)
    y = ctx.b.add("MatMul", [x, ctx.b.add("Transpose", [w], perm=[1, 0])])
    return ctx.b.add("Add", [y, bias]) if bias else y


@converts("reshape")
def _reshape(ctx, step, ins):
    return ctx.b.add("Reshape", [ins[0], shape_value(ctx, reshape_target(ctx, step))])


def reshape_target(ctx, step, i: int = 0) -> list:
    """The Reshape target: literal sizes, 0 (copy the input's dim) or -1 (infer) for the dims that
    follow a dynamic axis; where two dims follow one, the sizes of the graph's inputs (Shape)."""
    shape, dyn, shape2 = ctx.oshape(step), ctx.odyn(step), ctx.oshape2(step)
    in_shape, in_dyn = ctx.ishape(step, i), ctx.idyn(step, i)
    if 0 in shape:  # an empty dim would read as "copy"
        raise UnsupportedOperatorError(
            f"onnx.export: a reshape to the empty shape {list(shape)} is not supported"
        )
    target = []
    for d, (size, is_dyn) in enumerate(zip(shape, dyn)):
        if not is_dyn:
            target.append(size)
        elif d < len(in_shape) and in_dyn[d] and in_shape[d] == size:
            target.append(0)
        else:
            target.append(-1)
    if target.count(-1) > 1:  # read all but one of them from the inputs' shapes
        for d in [d for d, t in enumerate(target) if t == -1][1:]:
            source = ctx.input_dim_of(shape[d], shape2[d])
            if source is None:
                raise UnsupportedOperatorError(
                    f"onnx.export: a reshape from {list(in_shape)} to {list(shape)} has two dims that depend "
                    "on the dynamic axes; export with fewer dynamic axes"
                )
            target[d] = source
    return target


def shape_value(ctx, target: list) -> str:
    """A 1-d int64 shape: a constant, or a Concat of constants and dims read from graph inputs."""
    if all(isinstance(t, int) for t in target):
        return ctx.b.const(target)
    pieces = []
    for t in target:
        if isinstance(t, int):
            pieces.append(ctx.b.const([t]))
        else:
            name, axis = t
            pieces.append(ctx.b.add("Gather", [ctx.b.add("Shape", [name]), ctx.b.const([axis])], axis=0))
    return ctx.b.add("Concat", pieces, axis=0)


@converts("permute")
def _permute(ctx, step, ins):
    return ctx.b.add("Transpose", ins, perm=[int(p) for p in step.obj.params[0]])


@converts("expand")
def _expand(ctx, step, ins):
    shape, dyn = ctx.oshape(step), ctx.odyn(step)
    in_shape = ctx.ishape(step, 0)
    offset = len(shape) - len(in_shape)
    target = []
    for d, (size, is_dyn) in enumerate(zip(shape, dyn)):
        if not is_dyn:
            target.append(size)
        elif d >= offset and in_shape[d - offset] == size:
            target.append(1)  # broadcasting keeps the input's own (dynamic) size
        else:
            raise UnsupportedOperatorError(
                f"onnx.export: expand to {list(shape)} stretches a dim that depends on a dynamic axis"
            )
    return ctx.b.add("Expand", [ins[0], ctx.b.const(target)])


@converts("repeat")
def _repeat(ctx, step, ins):
    _, sizes, padded = step.obj.params
    x = ins[0]
    extra = len(padded) - len(ctx.ishape(step, 0))
    if extra:
        x = ctx.b.add("Unsqueeze", [x, ctx.b.const(list(range(extra)))])
    return ctx.b.add("Tile", [x, ctx.b.const(list(sizes))])


@converts("cat")
def _cat(ctx, step, ins):
    return ctx.b.add("Concat", ins, axis=int(step.obj.params[0]))


@converts("stack")
def _stack(ctx, step, ins):
    axis = ctx.b.const([int(step.obj.params[0])])
    return ctx.b.add("Concat", [ctx.b.add("Unsqueeze", [x, axis]) for x in ins], axis=int(step.obj.params[0]))


@converts("sum", "mean")
def _reduce(ctx, step, ins):
    _, axes, keepdim = step.obj.params[:3]
    rank = len(ctx.ishape(step, 0))
    axes = list(range(rank)) if axes is None else [int(a) % max(rank, 1) for a in axes]
    onnx_op = "ReduceSum" if step.obj.op.name == "sum" else "ReduceMean"
    if rank == 0:
        return ctx.b.add("Identity", ins)
    if onnx_op == "ReduceSum" or ctx.b.opset >= 18:
        return ctx.b.add(onnx_op, [ins[0], ctx.b.const(axes)], keepdims=int(bool(keepdim)))
    return ctx.b.add(onnx_op, ins, axes=axes, keepdims=int(bool(keepdim)))


@converts("getitem", "narrow", "select", "index_select")
def _index(ctx, step, ins):
    shape, index = step.obj.params[:2]
    return index_to_onnx(ctx, step, ins[0], shape, index)


def index_to_onnx(ctx, step, x: str, shape: tuple, index: tuple) -> str:
    """``x[index]`` for a NumPy index of ints, slices, Ellipsis, None and one 1-d int array."""
    if not isinstance(index, tuple):
        index = (index,)
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in index):
        k = next(k for k, i in enumerate(index) if i is Ellipsis)
        index = index[:k] + (slice(None),) * (len(shape) - n_real) + index[k + 1 :]
    index = index + (slice(None),) * (len(shape) - sum(1 for i in index if i is not None))
    starts, ends, axes, steps, squeeze, unsqueeze, gathers = [], [], [], [], [], [], []
    dim = out_dim = 0
    for i in index:
        if i is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(i, slice):
            start, stop, stride = i.indices(shape[dim])
            if (start, stop, stride) != (0, shape[dim], 1) or i.start is not None or i.stop is not None:
                if stride < 0:
                    raise UnsupportedOperatorError(
                        "onnx.export: indexing with a negative step is not supported"
                    )
                starts.append(i.start if i.start is not None else 0)
                ends.append(i.stop if i.stop is not None else np.iinfo(np.int64).max)
                axes.append(dim)
                steps.append(stride)
            out_dim += 1
        elif isinstance(i, (int, np.integer)):
            starts.append(int(i))
            ends.append(int(i) + 1 if int(i) != -1 else np.iinfo(np.int64).max)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif isinstance(i, np.ndarray) and i.ndim == 1 and i.dtype.kind in "iu":
            gathers.append((dim, i))
            out_dim += 1
        else:
            raise UnsupportedOperatorError(
                f"onnx.export: {step.obj.op.name} with an index of {type(i).__name__} (advanced indexing) "
                "is not supported"
            )
        dim += 1
    b = ctx.b
    if starts:
        x = b.add("Slice", [x, b.const(starts), b.const(ends), b.const(axes), b.const(steps)])
    for dim, idx in gathers:
        x = b.add("Gather", [x, b.const(idx.astype(np.int64))], axis=dim)
    if squeeze:
        x = b.add("Squeeze", [x, b.const(squeeze)])
    if unsqueeze:
        x = b.add("Unsqueeze", [x, b.const(unsqueeze)])
    if not (starts or gathers or squeeze or unsqueeze):
        x = b.add("Identity", [x])
    return x


def unbroadcast(mask: np.ndarray) -> np.ndarray:
    """``mask`` without the dims NumPy broadcast it along (stride 0): a causal mask stretched to
    the batch size is written once and broadcast by ONNX, so the batch size can change."""
    return mask[tuple(slice(0, 1) if st == 0 else slice(None) for st in mask.strides)]


@converts("index_put_zeros")
def _index_put_zeros(ctx, step, ins):
    """Zeros with the input written into a box of them: F.pad's constant mode (ONNX Pad)."""
    shape, index = step.obj.params[:2]
    index = index if isinstance(index, tuple) else (index,)
    index = index + (slice(None),) * (len(shape) - len(index))
    if len(index) != len(shape) or not all(isinstance(i, slice) and i.step in (None, 1) for i in index):
        raise UnsupportedOperatorError(
            "onnx.export: index_put_zeros (writing into zeros) is exported only for the boxes of F.pad"
        )
    before, after = [], []
    for i, n in zip(index, shape):
        start, stop, _ = i.indices(n)
        before.append(start)
        after.append(n - stop)
    return ctx.b.add("Pad", [ins[0], ctx.b.const(before + after)], mode="constant")


def constant_along(mask: np.ndarray) -> np.ndarray:
    """``mask`` reduced to size 1 along every dim it does not vary along (so it broadcasts)."""
    for axis in range(mask.ndim):
        if mask.shape[axis] > 1 and np.array_equal(mask, np.broadcast_to(mask.take([0], axis), mask.shape)):
            mask = mask.take([0], axis)
    return mask


@converts("index_put")
def _index_put(ctx, step, ins):
    """``x[index] = value`` (setitem) with one value: Where over the written places."""
    if math.prod(ctx.ishape(step, 1)) != 1:
        raise UnsupportedOperatorError(
            "onnx.export: writing a tensor of several values into a slice (index_put) is not supported; "
            "write one value, or build the result with cat"
        )
    written = ctx.array_param(step, 1, lambda keep: constant_along(np.asarray(keep) == 0))
    value = ctx.b.add("Reshape", [ins[1], ctx.b.const([], np.int64)])
    return ctx.b.add("Where", [ctx.b.initializer(np.ascontiguousarray(written)), value, ins[0]])


@converts("where")
def _where(ctx, step, ins):
    cond = ctx.array_param(step, 0, lambda c: unbroadcast(np.asarray(c, dtype=bool)))
    return ctx.b.add("Where", [ctx.b.initializer(np.ascontiguousarray(cond)), ins[0], ins[1]])


@converts("masked_fill")
def _masked_fill(ctx, step, ins):
    idx = step.obj.params[0]
    if len(idx) != 1 or not isinstance(idx[0], np.ndarray) or idx[0].dtype != bool:
        raise UnsupportedOperatorError("onnx.export: masked_fill with this mask is not supported")
    full_mask = idx[0]
    mask = ctx.array_param(step, 0, lambda index: unbroadcast(index[0]))
    cond = ctx.b.initializer(np.ascontiguousarray(mask))
    if len(ins) > 1:  # a 0-d tensor value that requires grad
        value = ins[1]
    else:  # the number written: read back from the output where the mask is True
        out = ctx.out_array(step)
        value = _scalar(ctx, step, out[full_mask].reshape(-1)[0] if full_mask.any() else 0)
    return ctx.b.add("Where", [cond, value, ins[0]])


@converts("convolution")
def _conv(ctx, step, ins):
    stride, padding, dilation, groups = step.obj.params[:4]
    in_hw, out_hw, kernel = ctx.ishape(step, 0)[2:], ctx.oshape(step)[2:], ctx.ishape(step, 1)[2:]
    # chainrule keeps the padding before each dim; the output size fixes the padding after it
    # (more than before for padding="same" with an even kernel)
    ends = [
        max((o - 1) * s + d * (k - 1) + 1 - n - p, 0)
        for o, s, d, k, n, p in zip(out_hw, stride, dilation, kernel, in_hw, padding)
    ]
    return ctx.b.add(
        "Conv",
        [i for i in ins if i],
        strides=list(stride),
        pads=list(padding) + ends,
        dilations=list(dilation),
        group=int(groups),
        kernel_shape=list(kernel),
    )


@converts("convolution_transpose")
def _conv_transpose(ctx, step, ins):
    stride, padding, dilation, groups = step.obj.params[:4]
    in_hw, out_hw, kernel = ctx.ishape(step, 0)[2:], ctx.oshape(step)[2:], ctx.ishape(step, 1)[2:]
    output_padding = [
        o - ((i - 1) * s - 2 * p + d * (k - 1) + 1)
        for o, i, s, p, d, k in zip(out_hw, in_hw, stride, padding, dilation, kernel)
    ]
    return ctx.b.add(
        "ConvTranspose",
        [i for i in ins if i],
        strides=list(stride),
        pads=list(padding) * 2,
        dilations=list(dilation),
        group=int(groups),
        output_padding=output_padding,
        kernel_shape=list(kernel),
    )


def _ceil_mode(pool) -> int:
    floor_out = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(pool.in_hw, pool.padding, pool.dilation, pool.kernel, pool.stride)
    ]
    return int(tuple(floor_out) != tuple(pool.out_hw))


@converts("max_pool2d")
def _max_pool(ctx, step, ins):
    pool = step.obj.params[0]
    return ctx.b.add(
        "MaxPool",
        ins,
        kernel_shape=list(pool.kernel),
        strides=list(pool.stride),
        pads=list(pool.padding) * 2,
        dilations=list(pool.dilation),
        ceil_mode=_ceil_mode(pool),
    )


@converts("avg_pool2d")
def _avg_pool(ctx, step, ins):
    pool, divisor = step.obj.params[:2]
    if pool.kernel == pool.in_hw and pool.out_hw == (1, 1) and pool.padding == (0, 0):
        return ctx.b.add("GlobalAveragePool", ins)  # adaptive_avg_pool2d(x, 1): any spatial size
    window = math.prod(pool.kernel)
    if isinstance(divisor, np.ndarray):
        count_include_pad = 0  # divided by the count of real elements in each window
    elif float(divisor) == window:
        count_include_pad = 1
    else:
        raise UnsupportedOperatorError(
            f"onnx.export: avg_pool2d with divisor_override={divisor} is not supported"
        )
    return ctx.b.add(
        "AveragePool",
        ins,
        kernel_shape=list(pool.kernel),
        strides=list(pool.stride),
        pads=list(pool.padding) * 2,
        ceil_mode=_ceil_mode(pool),
        count_include_pad=count_include_pad,
    )


@converts("native_layer_norm")
def _layer_norm(ctx, step, ins):
    axes, _, eps, training = step.obj.params[:4]
    has_w, has_b = step.obj.params[8:10]
    x = ins[0]
    rank = len(ctx.ishape(step, 0))
    first = min(axes)
    norm_shape = ctx.ishape(step, 0)[first:]
    dtype = ctx.idtype(step, 0)
    w = ins[1] if has_w else ctx.b.initializer(np.ones(norm_shape, dtype))
    b = ins[1 + has_w] if has_b else ctx.b.initializer(np.zeros(norm_shape, dtype))
    if ctx.b.opset >= 17:
        return ctx.b.add("LayerNormalization", [x, w, b], axis=first - rank, epsilon=float(eps))
    return normalize(ctx, step, x, list(range(first, rank)), eps, w, b)


def normalize(ctx, step, x, axes, eps, w, b):
    """(x - mean) / sqrt(var + eps) * w + b over ``axes`` (biased variance; w, b may be None)."""
    B = ctx.b

    def mean(v):
        if B.opset >= 18:
            return B.add("ReduceMean", [v, B.const(axes)], keepdims=1)
        return B.add("ReduceMean", [v], axes=axes, keepdims=1)

    centred = B.add("Sub", [x, mean(x)])
    var = mean(B.add("Mul", [centred, centred]))
    y = B.add("Div", [centred, B.add("Sqrt", [B.add("Add", [var, _scalar(ctx, step, eps)])])])
    if w:
        y = B.add("Mul", [y, w])
    return B.add("Add", [y, b]) if b else y


@converts("native_group_norm")
def _group_norm(ctx, step, ins):
    """Each sample's groups normalised as rows of (N, G, -1), then the per-channel affine map."""
    groups, eps = step.obj.params[:2]
    has_w, has_b = step.obj.params[4:6]
    B = ctx.b
    rank = len(ctx.ishape(step, 0))
    # 0 copies the (maybe dynamic) batch size; the result takes the input's own shape back
    grouped = B.add("Reshape", [ins[0], B.const([0, groups, -1])])
    y = B.add("Reshape", [normalize(ctx, step, grouped, [2], eps, None, None), B.add("Shape", [ins[0]])])
    view = B.const([ctx.ishape(step, 0)[1]] + [1] * (rank - 2))
    if has_w:
        y = B.add("Mul", [y, B.add("Reshape", [ins[1], view])])
    if has_b:
        y = B.add("Add", [y, B.add("Reshape", [ins[1 + has_w], view])])
    return y


@converts("native_batch_norm")
def _batch_norm(ctx, step, ins):
    """batch_norm called as a function, or with batch statistics (the BatchNorm modules with
    running statistics export as BatchNormalization)."""
    axes, _, eps, training, mean, invstd, view = step.obj.params[:7]
    has_w, has_b = step.obj.params[8:10]
    B = ctx.b
    w = B.add("Reshape", [ins[1], B.const(list(view))]) if has_w else None
    b = B.add("Reshape", [ins[1 + has_w], B.const(list(view))]) if has_b else None
    if training:  # statistics of the batch itself
        return normalize(ctx, step, ins[0], list(axes), eps, w, b)
    dtype = ctx.idtype(step, 0)
    y = B.add("Sub", [ins[0], B.initializer(np.asarray(mean, dtype))])
    y = B.add("Mul", [y, B.initializer(np.asarray(invstd, dtype))])
    if w:
        y = B.add("Mul", [y, w])
    return B.add("Add", [y, b]) if b else y


@converts("embedding")
def _embedding(ctx, step, ins):
    indices = step.obj.params[1]
    name = ctx.input_for_array(indices)
    if name is None:
        name = ctx.b.initializer(np.asarray(indices, np.int64))
    return ctx.b.add("Gather", [ins[0], name], axis=0)
