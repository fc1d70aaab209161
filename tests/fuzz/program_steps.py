"""Drawing random programs (hypothesis) against torch, one step at a time.

``programs(dtype)`` draws a ``Program``: a few leaves, then a random mix of steps over the values so
far, each drawn by one maker below:

- ``spec``: any op of the registry's specs (``tests/specs``, ``all_specs()``), so a new op enters
  the fuzzer with its spec. Each float argument is either a fresh leaf or an earlier value brought
  to the spec's shape and value range (``v.reshape(-1)[:n].reshape(shape)``, then
  ``low + (high - low) * sigmoid(.)``), which chains the ops into DAGs;
- ``view``: slicing (steps, ints, None, Ellipsis), transpose, permute, view/reshape, expand,
  squeeze/unsqueeze, flatten, narrow, select, movedim, unfold, diagonal, split/chunk, detach;
- ``inplace``: add_/sub_/mul_/div_/clamp_/relu_/sigmoid_/copy_/fill_/zero_/masked_fill_ and
  ``v[index] = w`` on non-leaf tensors and on views of them (and, rarely, on leaves: torch's error);
- ``reduction``: sum/mean/prod/amax/amin/logsumexp/std/var/norm over dims with keepdim, max/min
  with a dim, cumsum/cumprod, softmax/log_softmax;
- ``indexing``: integer-tensor, boolean-mask and mixed indexing, index_select, gather;
- ``binary``: two values (shared, so intermediates feed several ops) broadcast together;
- ``cast``, ``hook`` (register_hook, retain_grad) and ``no_grad``.

Every drawn step runs in torch at once: torch's values tell the next draws the shapes and dtypes,
and a step that makes torch raise ends the program there (its error type is what chainrule must
raise). Most parameters are valid; a few are drawn out of range on purpose (dims, indices,
shapes that do not broadcast) so that error types are compared too.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from hypothesis import strategies as st
from oracle import Arg, OpSpec, make_inputs
from programs import Program, Step, flatten
from specs import all_specs

FLOATS = (torch.float32, torch.float64)
# specs whose values jump (fd=False: rounding, remainders; grad=False: comparisons, integer ops)
# take fresh leaves only: fed an intermediate that differs from torch's by an ulp, they may round
# the other way, which is no finding
# specs that are no single function of their inputs in both libraries, with why
UNFIT = {
    "distributions standard_gamma passes gradients": "torch's form returns its input itself (an alias)",
}
SPECS = [spec for spec in all_specs() if spec.name not in UNFIT]


class Builder:
    """A program being drawn, with torch's value for each of its values so far."""

    def __init__(self, dtype: str):
        self.program = Program(dtype)
        self.dtype = getattr(torch, dtype)
        self.values: list = []
        self.failed = False

    def add(self, step: Step, depth: int | None = None) -> list[int]:
        """Run ``step`` in torch now and keep it; the indices of its results ([] if torch raised,
        which ends the program)."""
        args = [self.values[i] for i in step.inputs]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = flatten(step.fn(torch, *args))
        except Exception:  # noqa: BLE001 - torch's error is the expected outcome of this program
            self.program.steps.append(step)
            self.failed = True
            return []
        step.n_out = len(out)
        if any(isinstance(v, torch.Tensor) and v.dtype == torch.float32 for v in out):
            self.program.mixed = True
        self.program.steps.append(step)
        if depth is None:
            depth = 1 + max((self.program.depth[i] for i in step.inputs), default=0)
        first = len(self.values)
        self.values.extend(out)
        self.program.depth.extend([depth] * len(out))
        return list(range(first, first + len(out)))

    def tensors(self, where=lambda t: True) -> list[int]:
        return [i for i, v in enumerate(self.values) if isinstance(v, torch.Tensor) and where(v)]

    def pick(self, draw, where=lambda t: True, label: str = "value") -> int | None:
        """An earlier tensor satisfying ``where`` (recent ones more often), or None."""
        found = self.tensors(where)
        if not found:
            return None
        return found[-1 - draw(st.integers(0, len(found) - 1), label=label)]


def _is_float(t) -> bool:
    return t.dtype in FLOATS


def _text_array(a: np.ndarray) -> str:
    return f"m.tensor({a.tolist()!r})" if a.size <= 12 else f"m.tensor(<{a.dtype} array {a.shape}>)"


# ---- leaves ----------------------------------------------------------------------------------------
def _shape(draw, min_dims=0, max_dims=3, max_side=4) -> tuple[int, ...]:
    n = draw(st.integers(min_dims, max_dims), label="ndim")
    return tuple(draw(st.integers(1, max_side), label="side") for _ in range(n))


def leaf(draw, b: Builder, shape=None, low=-2.0, high=2.0, requires_grad=None) -> int:
    """A fresh float leaf of the program's dtype (requires grad unless drawn otherwise)."""
    shape = _shape(draw) if shape is None else shape
    if requires_grad is None:
        requires_grad = draw(st.integers(0, 4), label="leaf needs grad") > 0
    seed = draw(st.integers(0, 2**16), label="leaf seed")
    array = np.random.default_rng(seed).uniform(low, high, size=shape)
    return _constant_leaf(b, array, requires_grad)


def _constant_leaf(b: Builder, array: np.ndarray, requires_grad: bool) -> int:
    dtype = b.program.dtype if array.dtype.kind == "f" else None
    grad = requires_grad and array.dtype.kind == "f"

    def fn(lib, _a=array, _d=dtype, _g=grad):
        if _d is None:
            return lib.tensor(_a.copy())
        return lib.tensor(_a.copy(), dtype=getattr(lib, _d), requires_grad=_g)

    text = f"{{out}} = {_text_array(array)}" + (f".to(m.{dtype})" if dtype else "")
    if grad:
        text += ".requires_grad_()"
    (index,) = b.add(Step(fn, (), text), depth=0)
    if grad:
        b.program.leaves.append(index)
    return index


# ---- op specs ----------------------------------------------------------------------------------------
def _usable(spec: OpSpec, dtype: str) -> bool:
    return dtype == "float64" or spec.float32


def _adapt(draw, b: Builder, arg: Arg, shape: tuple, detach: bool) -> int | None:
    """An earlier float value brought to ``shape`` and into ``arg``'s range, or None."""
    n = math.prod(shape)
    source = b.pick(draw, lambda t: _is_float(t) and t.numel() >= n, "adapt source")
    if source is None:
        return None
    low, high = arg.low, arg.high
    if arg.away_from_zero:  # one side of zero only
        away = arg.away_from_zero
        low, high = (max(low, away), high) if high > away else (low, -away)
    dtype = b.program.dtype
    cast = b.values[source].dtype != b.dtype

    def fn(lib, x, _s=shape, _n=n, _lo=low, _hi=high, _d=dtype, _c=cast, _det=detach):
        x = x.detach() if _det else x
        x = x.to(getattr(lib, _d)) if _c else x
        return _lo + (_hi - _lo) * x.reshape(-1)[:_n].reshape(_s).sigmoid()

    text = (
        f"{{out}} = {low!r} + {high - low!r} * v{source}{'.detach()' if detach else ''}"
        f"{f'.to(m.{dtype})' if cast else ''}.reshape(-1)[:{n}].reshape({shape}).sigmoid()"
    )
    (index,) = b.add(Step(fn, (source,), text)) or (None,)
    return index


def spec_step(draw, b: Builder) -> None:
    """One op spec, its float arguments fresh leaves or earlier values (adapted)."""
    usable = [s for s in SPECS if _usable(s, b.program.dtype)]
    spec = draw(st.sampled_from(usable), label="spec")
    shapes = draw(spec.shapes, label="spec shapes")
    seed = draw(st.integers(0, 2**16), label="spec seed")
    arrays = make_inputs(spec, shapes, seed)
    smooth = spec.grad and spec.fd
    inputs = []
    for arg, shape, array in zip(spec.args, shapes, arrays):
        needs_grad = spec.grad and arg.grad and arg.kind == "float"
        index = None
        if arg.kind == "float" and smooth and draw(st.integers(0, 3), label="chain") > 0:
            index = _adapt(draw, b, arg, tuple(shape), detach=not needs_grad)
            if b.failed:
                return
        if index is None:
            index = _constant_leaf(b, array, needs_grad)
        inputs.append(index)
    b.program.rtol_factor = max(b.program.rtol_factor, spec.rtol / 1e-6)
    text = f"{{out}} = spec[{spec.name!r}](m, {', '.join(f'v{i}' for i in inputs)})"
    b.add(Step(lambda lib, *xs: spec.fn(lib, *xs), tuple(inputs), text))


# ---- views -------------------------------------------------------------------------------------------
def _dim(draw, ndim: int, label="dim") -> int:
    """A dim of a tensor of ``ndim`` dims, negative or not; now and then one out of range."""
    span = max(ndim, 1)
    if draw(st.integers(0, 29), label="bad dim") == 0:
        return draw(st.sampled_from([span, -span - 1]), label=label)
    return draw(st.integers(-span, span - 1), label=label)


def _index_text(item) -> str:
    if isinstance(item, slice):
        text = ":".join("" if p is None else str(p) for p in (item.start, item.stop))
        return text + (f":{item.step}" if item.step not in (None, 1) else "")
    if item is Ellipsis:
        return "..."
    return str(item)


def _basic_index(draw, shape: tuple) -> tuple:
    """A basic index: per dim a slice, an int (rarely out of range) or all; None and ... now and then."""
    items: list = []
    for size in shape[: draw(st.integers(0, len(shape)), label="indexed dims")]:
        kind = draw(st.integers(0, 9), label="index kind")
        if kind < 5:
            start = draw(st.integers(-size - 1, size), label="start")
            stop = draw(st.one_of(st.none(), st.integers(-size, size + 1)), label="stop")
            step = draw(st.sampled_from([None, 1, 2, 3] + ([-1] if kind == 0 else [])), label="step")
            items.append(slice(start, stop, step))
        elif kind < 8 and size > 0:
            bad = draw(st.integers(0, 19), label="bad int") == 0
            items.append(size if bad else draw(st.integers(-size, size - 1), label="int"))
        elif kind == 8:
            items.append(None)
        else:
            items.append(slice(None))
    if items and draw(st.integers(0, 5), label="ellipsis") == 0:
        items.insert(draw(st.integers(0, len(items)), label="where"), Ellipsis)
    return tuple(items)


def _reshape_to(draw, numel: int) -> tuple:
    """A shape of ``numel`` elements (its factors in random order; a -1 now and then)."""
    factors, n, p = [], numel, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    dims = draw(st.integers(1, max(1, len(factors)) + 1), label="new ndim")
    shape = [1] * dims
    for f in factors:
        shape[draw(st.integers(0, dims - 1), label="factor at")] *= f
    if draw(st.integers(0, 3), label="-1") == 0:
        shape[draw(st.integers(0, dims - 1), label="-1 at")] = -1
    if draw(st.integers(0, 29), label="bad shape") == 0:
        shape[0] = shape[0] + 1 if shape[0] != -1 else 0
    return tuple(shape)


def _method(name: str, *args):
    """``x.name(*args)`` as a step function and its source."""
    return (lambda lib, x: getattr(x, name)(*args)), f".{name}({', '.join(map(repr, args))})"


def view_step(draw, b: Builder) -> None:
    src = b.pick(draw)
    if src is None:
        return
    t = b.values[src]
    shape, ndim = tuple(t.shape), t.dim()
    kind = draw(
        st.sampled_from(
            ["index", "index", "transpose", "permute", "reshape", "view", "expand", "unsqueeze", "squeeze"]
            + ["flatten", "narrow", "select", "movedim", "unfold", "diagonal", "split", "chunk", "mT"]
            + ["t", "detach"]
        ),
        label="view kind",
    )
    if kind == "index":
        index = _basic_index(draw, shape)
        fn, text = (
            (lambda lib, x: x[index]),
            f"[{', '.join(_index_text(i) for i in index)}]" if index else "[()]",
        )
    elif kind in ("transpose", "movedim"):
        fn, text = _method(kind, _dim(draw, ndim), _dim(draw, ndim))
    elif kind == "permute":
        perm = tuple(draw(st.permutations(range(ndim)), label="perm"))
        if ndim and draw(st.integers(0, 19), label="bad perm") == 0:
            perm = (0,) * ndim if ndim > 1 else (1,)
        fn, text = _method("permute", *perm)
    elif kind in ("reshape", "view"):
        fn, text = _method(kind, _reshape_to(draw, t.numel()))
    elif kind == "expand":
        n_lead = draw(st.integers(0 if shape else 1, 1), label="new dims")
        lead = tuple(draw(st.integers(1, 3), label="lead") for _ in range(n_lead))
        sizes = [
            draw(st.integers(1, 3), label="to") if s == 1 else draw(st.sampled_from([s, -1])) for s in shape
        ]
        if sizes and sizes[0] != -1 and draw(st.integers(0, 19), label="bad expand") == 0:
            sizes[0] += 1
        fn, text = _method("expand", *lead, *sizes)
    elif kind == "unsqueeze":
        fn, text = _method(kind, draw(st.integers(-ndim - 1, ndim), label="dim"))
    elif kind == "squeeze":
        fn, text = _method(kind, _dim(draw, ndim)) if draw(st.booleans(), label="dim") else _method(kind)
    elif kind == "flatten":
        fn, text = _method(kind, _dim(draw, ndim), draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1)))
    elif kind in ("narrow", "select", "unfold"):
        if not ndim:
            return
        d = _dim(draw, ndim)
        size = shape[d] if -ndim <= d < ndim else 1
        start = draw(st.integers(-size, size), label="start")
        length = draw(st.integers(0, size + 1), label="length")
        args = {"narrow": (d, start, length), "select": (d, start), "unfold": (d, length, max(1, start))}
        fn, text = _method(kind, *args[kind])
    elif kind == "diagonal":
        d0, d1 = _dim(draw, ndim), _dim(draw, ndim)
        if ndim >= 2 and d0 % ndim == d1 % ndim and draw(st.integers(0, 9), label="same dims") > 0:
            d1 = (d0 + 1) % ndim
        fn, text = _method(kind, draw(st.integers(-2, 2), label="offset"), d0, d1)
    elif kind in ("split", "chunk"):
        fn, text = _method(kind, draw(st.integers(1, 3), label="size"), _dim(draw, ndim))
    elif kind == "mT":
        fn, text = (lambda lib, x: x.mT), ".mT"
    else:  # t, detach
        fn, text = _method(kind)
    b.add(Step(fn, (src,), f"{{out}} = v{src}{text}"))


# ---- in-place ------------------------------------------------------------------------------------------
def _broadcastable_to(target: tuple):
    """``where`` for a value that broadcasts to ``target`` (an in-place op's other operand)."""

    def where(t) -> bool:
        shape = tuple(t.shape)
        if len(shape) > len(target):
            return False
        return all(s in (1, d) for s, d in zip(reversed(shape), reversed(target)))

    return where


def _leaf_or_view_of_leaf(t) -> bool:
    """A leaf that requires grad, or a view of one: torch refuses in-place ops on them."""
    base = t if t._base is None else t._base
    return base.is_leaf and base.requires_grad


def inplace_step(draw, b: Builder) -> None:
    """An in-place op on a non-leaf (or a view of one); on a leaf only now and then (torch raises)."""
    on_leaf = draw(st.integers(0, 14), label="on leaf") == 0
    target = b.pick(draw, lambda t: on_leaf or not _leaf_or_view_of_leaf(t), "target")
    if target is None:
        return
    t = b.values[target]
    shape = tuple(t.shape)
    op = draw(
        st.sampled_from(
            ["add_", "sub_", "mul_", "div_", "clamp_", "relu_", "sigmoid_", "tanh_", "copy_", "fill_"]
            + ["zero_", "masked_fill_", "setitem", "add_", "mul_"]
        ),
        label="in-place op",
    )
    other = None
    if op in ("add_", "sub_", "mul_", "copy_", "setitem") and draw(st.integers(0, 2), label="tensor") > 0:
        compatible = draw(st.integers(0, 14), label="mismatch") > 0
        other = b.pick(draw, _broadcastable_to(shape) if compatible else (lambda _: True), "other")
        if op == "setitem":
            other = None  # the value of a setitem is drawn below (it must fit the indexed region)
    scalar = draw(st.sampled_from([0.5, -1.5, 2.0, 3]), label="scalar")
    inputs = (target,) if other is None else (target, other)
    if op in ("add_", "sub_", "mul_", "copy_") and other is not None:
        text, fn = f"v{target}.{op}(v{other})", lambda lib, x, y, _o=op: getattr(x, _o)(y)
    elif op in ("add_", "sub_", "mul_", "div_"):
        text, fn = f"v{target}.{op}({scalar})", lambda lib, x, _o=op, _s=scalar: getattr(x, _o)(_s)
    elif op == "copy_":
        text, fn = f"v{target}.copy_(v{target} * {scalar})", lambda lib, x, _s=scalar: x.copy_(x * _s)
    elif op == "clamp_":
        low = draw(st.sampled_from([None, -1.0, -0.25, 0.0]), label="min")
        high = draw(st.sampled_from([None, 0.5, 1.0]), label="max")
        text, fn = f"v{target}.clamp_({low}, {high})", lambda lib, x, _l=low, _h=high: x.clamp_(_l, _h)
    elif op in ("relu_", "sigmoid_", "tanh_", "zero_"):
        text, fn = f"v{target}.{op}()", lambda lib, x, _o=op: getattr(x, _o)()
    elif op == "fill_":
        text, fn = f"v{target}.fill_({scalar})", lambda lib, x, _s=scalar: x.fill_(_s)
    elif op == "masked_fill_":
        text, fn = (
            f"v{target}.masked_fill_(v{target} > 0, {scalar})",
            (lambda lib, x, _s=scalar: x.masked_fill_(x.detach() > 0, _s)),
        )
    else:  # v[index] = a scalar or an earlier value that fits the region
        index = _basic_index(draw, shape)
        try:
            region = tuple(t[index].shape)
        except Exception:  # noqa: BLE001 - an invalid index: torch raises in the step too
            region = ()
        value = None
        if draw(st.booleans(), label="tensor value"):
            value = b.pick(draw, _broadcastable_to(region), "value")
        if value is not None:
            inputs = (target, value)

        def fn(lib, x, *y, _i=index, _s=scalar):
            x[_i] = y[0] if y else _s
            return x

        rhs = f"v{value}" if value is not None else str(scalar)
        text = f"v{target}[{', '.join(_index_text(i) for i in index)}] = {rhs}; {{out}} = v{target}"
        b.add(Step(fn, inputs, text))
        return
    b.add(Step(fn, inputs, "{out} = " + text))


# ---- reductions --------------------------------------------------------------------------------------
def reduction_step(draw, b: Builder) -> None:
    src = b.pick(draw, _is_float)
    if src is None:
        return
    ndim = b.values[src].dim()
    op = draw(
        st.sampled_from(
            ["sum", "mean", "prod", "amax", "amin", "logsumexp", "std", "var", "norm", "max", "min"]
            + ["cumsum", "cumprod", "softmax", "log_softmax", "max()", "sum()", "argmax"]
        ),
        label="reduction",
    )
    keepdim = draw(st.booleans(), label="keepdim")
    if op in ("max()", "sum()"):
        text, fn = f"v{src}.{op}", lambda lib, x, _o=op[:-2]: getattr(x, _o)()
    elif op in ("cumsum", "cumprod", "softmax", "log_softmax"):
        d = _dim(draw, ndim)
        text, fn = f"v{src}.{op}({d})", lambda lib, x, _o=op, _d=d: getattr(x, _o)(_d)
    elif op in ("max", "min", "argmax", "logsumexp"):
        d = _dim(draw, ndim)
        text = f"v{src}.{op}({d}, keepdim={keepdim})"
        fn = lambda lib, x, _o=op, _d=d, _k=keepdim: getattr(x, _o)(_d, keepdim=_k)  # noqa: E731
    else:
        dims = sorted({_dim(draw, ndim) for _ in range(draw(st.integers(1, max(1, ndim)), label="n dims"))})
        dim = dims[0] if len(dims) == 1 and draw(st.booleans(), label="int dim") else tuple(dims)
        if op == "prod":  # torch's prod takes one dim
            dim = dims[0]
        text = f"v{src}.{op}(dim={dim}, keepdim={keepdim})"
        fn = lambda lib, x, _o=op, _d=dim, _k=keepdim: getattr(x, _o)(dim=_d, keepdim=_k)  # noqa: E731
    b.add(Step(fn, (src,), "{out} = " + text))


# ---- advanced indexing ---------------------------------------------------------------------------------
def _index_array(draw, size: int, shape: tuple, unique: bool = False) -> np.ndarray:
    """Indices into a dim of ``size`` (negative ones too; one out of range now and then)."""
    seed = draw(st.integers(0, 2**16), label="index seed")
    rng = np.random.default_rng(seed)
    if unique:
        n = min(math.prod(shape), size)
        return rng.permutation(size)[:n].astype(np.int64)
    a = rng.integers(-size, size, size=shape).astype(np.int64)
    if a.size and draw(st.integers(0, 24), label="bad index") == 0:
        a.reshape(-1)[0] = size
    return a


def indexing_step(draw, b: Builder) -> None:
    src = b.pick(draw, lambda t: t.dim() >= 1 and t.numel() > 0)
    if src is None:
        return
    t = b.values[src]
    shape = tuple(t.shape)
    kind = draw(st.sampled_from(["take", "take2", "mixed", "mask", "value mask", "index_select", "gather"]))
    if kind == "take":
        idx = _index_array(draw, shape[0], _shape(draw, 0, 2, 3))
        text, fn = f"v{src}[{_text_array(idx)}]", lambda lib, x, _i=idx: x[lib.tensor(_i.copy())]
    elif kind == "take2" and len(shape) >= 2:
        ishape = _shape(draw, 0, 2, 3)
        i0, i1 = _index_array(draw, shape[0], ishape), _index_array(draw, shape[1], ishape[-1:])
        text = f"v{src}[{_text_array(i0)}, {_text_array(i1)}]"
        fn = lambda lib, x, _a=i0, _b=i1: x[lib.tensor(_a.copy()), lib.tensor(_b.copy())]  # noqa: E731
    elif kind == "mixed" and len(shape) >= 2:
        idx = _index_array(draw, shape[1], _shape(draw, 1, 2, 3))
        text, fn = f"v{src}[1:, {_text_array(idx)}]", lambda lib, x, _i=idx: x[1:, lib.tensor(_i.copy())]
    elif kind == "mask":
        seed = draw(st.integers(0, 2**16), label="mask seed")
        lead = shape[: draw(st.integers(1, len(shape)), label="mask dims")]
        mask = np.random.default_rng(seed).random(lead) < 0.5
        text, fn = f"v{src}[{_text_array(mask)}]", lambda lib, x, _m=mask: x[lib.tensor(_m.copy())]
    elif kind == "value mask":
        text, fn = f"v{src}[v{src} > 0]", lambda lib, x: x[x > 0]
    elif kind == "index_select":
        d = _dim(draw, len(shape))
        size = shape[d] if -len(shape) <= d < len(shape) else 1
        idx = np.abs(_index_array(draw, size, (draw(st.integers(1, 4)),)))
        text = f"v{src}.index_select({d}, {_text_array(idx)})"
        fn = lambda lib, x, _d=d, _i=idx: x.index_select(_d, lib.tensor(_i.copy()))  # noqa: E731
    else:  # gather along a dim, with an index no larger than the source elsewhere
        d = draw(st.integers(0, len(shape) - 1), label="dim")
        ishape = tuple(draw(st.integers(1, s), label="gather side") for s in shape)
        idx = np.abs(_index_array(draw, shape[d], ishape))
        text = f"v{src}.gather({d}, {_text_array(idx)})"
        fn = lambda lib, x, _d=d, _i=idx: x.gather(_d, lib.tensor(_i.copy()))  # noqa: E731
    b.add(Step(fn, (src,), "{out} = " + text))


# ---- binary ops over two earlier values ----------------------------------------------------------------
BINARY = {
    "+": lambda lib, x, y: x + y,
    "-": lambda lib, x, y: x - y,
    "*": lambda lib, x, y: x * y,
    "/ (|y| + 0.5)": lambda lib, x, y: x / (y.abs() + 0.5),
    "maximum": lambda lib, x, y: lib.maximum(x, y),
    "minimum": lambda lib, x, y: lib.minimum(x, y),
    "atan2": lambda lib, x, y: lib.atan2(x, y),
    "where(x > y, x, y * y)": lambda lib, x, y: lib.where(x > y, x, y * y),
    "matmul": lambda lib, x, y: x @ y,
    "cat": lambda lib, x, y: lib.cat([x, y]),
    "stack": lambda lib, x, y: lib.stack([x, y]),
}


def binary_step(draw, b: Builder) -> None:
    x = b.pick(draw, _is_float, "x")
    if x is None:
        return
    shape = tuple(b.values[x].shape)
    matching = draw(st.integers(0, 9), label="mismatch") > 0
    y = b.pick(draw, (lambda t: _is_float(t) and _broadcastable_to(shape)(t)) if matching else _is_float, "y")
    if y is None:
        return
    op = draw(st.sampled_from(sorted(BINARY)), label="binary op")
    b.add(Step(lambda lib, p, q, _f=BINARY[op]: _f(lib, p, q), (x, y), f"{{out}} = {op}(v{x}, v{y})"))


# ---- casts, hooks, no_grad -------------------------------------------------------------------------------
def cast_step(draw, b: Builder) -> None:
    src = b.pick(draw)
    if src is None:
        return
    to = draw(st.sampled_from(["float32", "float64", "int64", "bool"]), label="to")
    b.add(Step(lambda lib, x, _t=to: x.to(getattr(lib, _t)), (src,), f"{{out}} = v{src}.to(m.{to})"))


def hook_step(draw, b: Builder) -> None:
    # not on views: torch 2.13 crashed (SIGSEGV in Tensor.register_hook, reading a view's grad_fn)
    # once in a long run; the views' hooks are left to tests/nn/test_backward_hooks.py
    src = b.pick(draw, lambda t: t.requires_grad and t._base is None, "hooked")
    if src is None:
        return
    if draw(st.booleans(), label="retain"):
        step = Step(lambda lib, x: x.retain_grad(), (src,), f"v{src}.retain_grad()", retains=True)
    else:
        scale = draw(st.sampled_from([0.5, 2.0, -1.0]), label="hook scale")

        def fn(lib, x, _c=scale):
            x.register_hook(lambda g: g * _c)

        step = Step(fn, (src,), f"v{src}.register_hook(lambda g: g * {scale})")
    b.add(step)


def no_grad_step(draw, b: Builder) -> None:
    """Arithmetic under no_grad (a constant result), or an in-place change of a leaf there (allowed,
    and a saved leaf then fails backward's version check, as in torch)."""
    src = b.pick(draw, _is_float)
    if src is None:
        return
    if draw(st.booleans(), label="leaf update"):

        def fn(lib, x):
            with lib.no_grad():
                return x.mul_(0.5)

        b.add(Step(fn, (src,), f"with m.no_grad(): {{out}} = v{src}.mul_(0.5)"))
    else:

        def fn(lib, x):
            with lib.no_grad():
                return x * 2 + 1

        b.add(Step(fn, (src,), f"with m.no_grad(): {{out}} = v{src} * 2 + 1"))


MAKERS = {
    "spec": (spec_step, 6),
    "view": (view_step, 4),
    "inplace": (inplace_step, 3),
    "reduction": (reduction_step, 2),
    "indexing": (indexing_step, 2),
    "binary": (binary_step, 3),
    "cast": (cast_step, 1),
    "hook": (hook_step, 1),
    "no_grad": (no_grad_step, 1),
}
_WEIGHTED = [name for name, (_, weight) in MAKERS.items() for _ in range(weight)]


@st.composite
def programs(draw, dtype: str = "float64", max_steps: int = 10, makers: tuple[str, ...] | None = None):
    """A random program in ``dtype``: 1-3 leaves, up to ``max_steps`` drawn steps, then a loss."""
    b = Builder(dtype)
    for _ in range(draw(st.integers(1, 3), label="leaves")):
        leaf(draw, b)
    names = [n for n in _WEIGHTED if makers is None or n in makers]
    for _ in range(draw(st.integers(1, max_steps), label="steps")):
        MAKERS[draw(st.sampled_from(names), label="maker")][0](draw, b)
        if b.failed:
            return b.program
    outputs = b.tensors(lambda t: _is_float(t) and t.requires_grad)
    if outputs:
        more = draw(st.lists(st.sampled_from(outputs), max_size=3), label="loss")
        chosen = sorted({outputs[-1], *more})
        seed = draw(st.integers(0, 2**16), label="weights seed")
        rng = np.random.default_rng(seed)
        for i in chosen:
            v = b.values[i]
            weights = np.asarray(rng.standard_normal(tuple(v.shape)))
            b.program.loss.append((i, weights.astype(str(v.dtype).split(".")[-1])))
    return b.program
