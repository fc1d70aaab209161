"""The table of tests/test_api_coverage.py: how to call each public name, the same way for
chainrule and torch.

An entry is a list of ``Case``s, each the argument tensors (``shapes`` and ``args``, drawn as in
tests/oracle.py, float64 for floats) and ``call(f, m, *tensors)``, where ``m`` is the library and
``f`` the name looked up in it (for ``Tensor.x``, a function calling the method or reading the
property). Generic builders (``unary``, ``binary``, ``reduction``, ...) serve most names.
"""

from __future__ import annotations

import copy
import importlib
import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from oracle import Arg

import chainrule

FLOAT = Arg()
POS = Arg(0.5, 2.0)
WEIGHT = Arg(0.5, 2.0, grad=False)  # class weights: torch refuses weights that require grad
UNIT = Arg(-0.9, 0.9)
NONZERO = Arg(-2.0, 2.0, away_from_zero=0.5)
INT = Arg(-3, 4, kind="int")
SMALL_INT = Arg(1, 4, kind="int")
BOOL = Arg(kind="bool")
CONST = Arg(grad=False)
M34 = (3, 4)


@dataclass
class Case:
    call: Callable
    shapes: tuple = (M34,)
    args: tuple = (FLOAT,)
    grad: bool = True
    rtol: float = 1e-7
    atol: float = 1e-10
    values: bool = True  # False: compare shapes and dtypes only (random and empty results)
    raises: bool = False  # both raise, the same exception type
    broken: bool = False  # fails as KNOWN_BROKEN[name] says (the test checks that it still does)
    extra: dict = field(default_factory=dict)


def resolve(name: str, m) -> Any:
    """``name`` ("Tensor.sin", "chainrule.sin", "F.relu", "linalg.det") looked up in library m."""
    space, attr = name.split(".", 1)
    if space == "Tensor":
        if attr in PROPERTIES:
            return lambda self: getattr(self, attr)
        return lambda self, *a, **k: getattr(self, attr)(*a, **k)
    if space == "F":
        return getattr(m.nn.functional, attr)
    if space in ("linalg", "special", "fft"):
        return getattr(getattr(m, space), attr)
    if m is torch and name in TORCH_EQUIVALENTS:
        return TORCH_EQUIVALENTS[name]
    if m is torch and not hasattr(torch, attr):  # chainrule.add_(x, y) is torch's x.add_(y)
        return getattr(torch.Tensor, attr)
    return getattr(m, attr)


# chainrule's names that torch spells differently
TORCH_EQUIVALENTS = {
    "chainrule.view_as_dtype": lambda x, dtype: x.view(dtype),
    "chainrule.expand_dims": lambda x, axes: x.reshape(np.expand_dims(np.empty(x.shape), axes).shape),
    "chainrule.index_put": lambda x, index, values: x.index_put(index, values),
}

PROPERTIES = {
    "T",
    "mT",
    "mH",
    "data",
    "device",
    "dtype",
    "grad",
    "grad_fn",
    "is_cuda",
    "is_leaf",
    "ndim",
    "requires_grad",
    "retains_grad",
    "shape",
}

CASES: dict[str, list[Case]] = {}  # a name may have several cases (bool and float inputs, ...)


def add(case: Case, *names: str) -> None:
    for name in names:
        CASES.setdefault(name, []).append(case)


def both(*names: str) -> list:
    """``Tensor.n`` and ``chainrule.n`` for each name, where chainrule has it."""
    out = []
    for n in names:
        out += [
            f"{space}.{n}"
            for space, owner in (("Tensor", chainrule.Tensor), ("chainrule", chainrule))
            if hasattr(owner, n)
        ]
    return out


# ---- generic builders ---------------------------------------------------------------------------
def unary(arg=FLOAT, shape=M34, grad=True, *extra, **kw) -> Case:
    return Case(lambda f, m, x: f(x, *extra, **kw), (shape,), (arg,), grad)


def binary(a=FLOAT, b=FLOAT, shapes=(M34, (4,)), grad=True, scalar=None, **kw) -> Case:
    """``f(x, y)`` with broadcasting; with ``scalar``, ``f(x, scalar)`` too."""

    def call(f, m, x, y):
        return (f(x, y, **kw),) if scalar is None else (f(x, y, **kw), f(x, scalar, **kw))

    return Case(call, shapes, (a, b), grad)


def reduction(arg=FLOAT, grad=True, full=True) -> Case:
    """``f(x)``, ``f(x, 1)`` and ``f(x, dim=0, keepdim=True)``."""

    def call(f, m, x):
        return ((f(x),) if full else ()) + (f(x, 1), f(x, dim=0, keepdim=True))

    return Case(call, ((3, 4),), (arg,), grad)


def inplace(arg=FLOAT, *extra, shapes=(M34,), args=None) -> Case:
    """``f(x * 1, *rest)``: an in-place op on a non-leaf copy (the leaf keeps its gradient)."""

    def call(f, m, x, *rest):
        return f(x * 1, *rest, *extra)

    return Case(call, shapes, args or (arg,) * len(shapes))


def custom(call, shapes=(M34,), args=None, grad=True, **kw) -> Case:
    return Case(call, shapes, args or (FLOAT,) * len(shapes), grad, **kw)


def _shown(s: str) -> str:
    """A printed form without the library's name (``dtype=torch.float64`` -> ``dtype=float64``)."""
    return s.replace("torch.", "").replace("chainrule.", "")


def spd(m, x):
    """A symmetric positive definite matrix from ``x`` (n, n)."""
    return x @ x.mT + 3 * m.eye(x.shape[-1], dtype=x.dtype)


# ---- element-wise -------------------------------------------------------------------------------
add(
    unary(),
    *both(
        "abs",
        "absolute",
        "atan",
        "arctan",
        "ceil",
        "cos",
        "cosh",
        "exp",
        "expm1",
        "floor",
        "neg",
        "negative",
        "relu",
        "round",
        "sigmoid",
        "sign",
        "sin",
        "sinh",
        "square",
        "tanh",
        "trunc",
        "clone",
        "erf",
        "erfc",
    ),
)
add(unary(UNIT), *both("acos", "arccos", "asin", "arcsin", "tan"))
add(unary(POS), *both("log", "log10", "log2", "sqrt", "rsqrt"))
add(unary(NONZERO), *both("reciprocal"))
add(unary(Arg(-0.5, 2.0)), *both("log1p"))
add(unary(FLOAT, M34, False), *both("isnan", "isinf", "isfinite", "logical_not"))
add(unary(BOOL, M34, False), "chainrule.bitwise_not", "chainrule.logical_not")
add(unary(BOOL, M34, False), "Tensor.__invert__")
add(custom(lambda f, m, x: (f(x), f(x, decimals=1))), *both("round"))
add(binary(scalar=1.5), *both("mul", "multiply"))
add(binary(), *both("maximum", "minimum", "atan2", "arctan2"))  # torch: no Python numbers
add(
    custom(lambda f, m, x, y: (f(x, y), f(x, 1.5), f(x, y, alpha=2.0), f(x, 3, alpha=-1)), (M34, (4,))),
    *both("add", "sub", "subtract"),
)
add(binary(FLOAT, NONZERO, scalar=1.5), *both("true_divide", "fmod", "remainder"))
add(
    custom(
        lambda f, m, x, y: (
            f(x, y),
            f(x, 1.5),
            f(x, y, rounding_mode="floor"),
            f(x, y, rounding_mode="trunc"),
        ),
        (M34, (4,)),
        (FLOAT, NONZERO),
    ),
    *both("div", "divide"),
)
add(binary(FLOAT, NONZERO, scalar=1.5, grad=False), *both("floor_divide"))
add(binary(POS, FLOAT, scalar=1.5), *both("pow", "float_power"))
add(
    binary(FLOAT, FLOAT, (M34, M34), False, scalar=0.5),
    *both("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal"),
)
add(binary(BOOL, BOOL, (M34, M34), False), *both("logical_and", "logical_or", "logical_xor"))
add(
    binary(INT, INT, (M34, M34), False),
    "chainrule.bitwise_and",
    "chainrule.bitwise_or",
    "chainrule.bitwise_xor",
)
add(
    custom(lambda f, m, x, y: (f(x, y), f(x, x), f(x, x * 1.0000001)), (M34, M34), grad=False),
    *both("equal", "allclose"),
)
add(custom(lambda f, m, x, y: f(x, x + y * 1e-9), (M34, M34), grad=False), *both("isclose"))
add(custom(lambda f, m, x: (f(x, -0.5, 0.5), f(x, min=0.1), f(x, max=-0.2))), *both("clamp", "clip"))
add(custom(lambda f, m, x: f(x, 0.3)), *both("clamp_min"))
add(custom(lambda f, m, x: f(x, -0.3)), *both("clamp_max"))
add(
    custom(lambda f, m, c, x, y: (f(c, x, y), f(c, x, 0.5)), (M34, M34, (4,)), (BOOL, FLOAT, FLOAT)),
    "chainrule.where",
)
add(custom(lambda f, m, x, c, y: f(x, c, y), (M34, M34, (4,)), (FLOAT, BOOL, FLOAT)), "Tensor.where")

# ---- in place -----------------------------------------------------------------------------------
add(inplace(FLOAT, 0.5), *both("add_", "sub_", "mul_"))
add(custom(lambda f, m, x: f(x * 1, 0.5), grad=False), *both("fill_"))
add(custom(lambda f, m, x: f(x * 1, 0.5)), *both("fill_"))
add(inplace(FLOAT, 1.5), *both("div_", "remainder_"))
add(inplace(POS, 1.5), *both("pow_"))
add(inplace(FLOAT, -0.5, 0.5), *both("clamp_", "clip_"))
add(
    inplace(FLOAT),
    *both(
        "neg_",
        "exp_",
        "abs_",
        "sigmoid_",
        "tanh_",
        "relu_",
        "floor_",
        "ceil_",
        "round_",
        "sin_",
        "cos_",
        "square_",
    ),
)
add(custom(lambda f, m, x: f(x * 1), grad=False), *both("zero_"))
add(custom(lambda f, m, x: f(x * 1)), *both("zero_"))
add(inplace(POS), *both("log_", "sqrt_"))
add(inplace(NONZERO), *both("reciprocal_"))
add(inplace(shapes=(M34, M34)), *both("copy_"))
add(inplace(shapes=(M34, (4,))), "Tensor.__iadd__", "Tensor.__isub__", "Tensor.__imul__")
add(inplace(shapes=(M34, (4,)), args=(FLOAT, NONZERO)), "Tensor.__itruediv__")
add(inplace(shapes=(M34, (4,)), args=(POS, FLOAT)), "Tensor.__ipow__")

# ---- operators ----------------------------------------------------------------------------------
add(
    binary(scalar=1.5),
    "Tensor.__add__",
    "Tensor.__sub__",
    "Tensor.__mul__",
    "Tensor.__radd__",
    "Tensor.__rsub__",
    "Tensor.__rmul__",
)
add(binary(FLOAT, NONZERO, scalar=1.5), "Tensor.__truediv__", "Tensor.__mod__")
add(binary(NONZERO, NONZERO, scalar=1.5), "Tensor.__rtruediv__")
add(binary(FLOAT, NONZERO, scalar=1.5, grad=False), "Tensor.__floordiv__")
add(binary(NONZERO, NONZERO, scalar=1.5, grad=False), "Tensor.__rfloordiv__", "Tensor.__rmod__")
add(binary(POS, FLOAT, scalar=1.5), "Tensor.__pow__")
add(binary(POS, POS, scalar=1.5), "Tensor.__rpow__")
add(
    binary(FLOAT, FLOAT, (M34, M34), False, scalar=0.5),
    "Tensor.__eq__",
    "Tensor.__ne__",
    "Tensor.__lt__",
    "Tensor.__le__",
    "Tensor.__gt__",
    "Tensor.__ge__",
)
add(
    binary(BOOL, BOOL, (M34, M34), False, scalar=True),
    "Tensor.__and__",
    "Tensor.__or__",
    "Tensor.__xor__",
    "Tensor.__rand__",
    "Tensor.__ror__",
    "Tensor.__rxor__",
)
add(binary(FLOAT, FLOAT, (M34, (4, 2))), "Tensor.__matmul__")
add(binary(FLOAT, FLOAT, ((4, 2), M34)), "Tensor.__rmatmul__")
add(unary(), "Tensor.__neg__", "Tensor.__pos__", "Tensor.__abs__")
add(custom(lambda f, m, x: (f(x[0, 0]), f(x[0, 0] > 0)), grad=False), "Tensor.__bool__", "Tensor.__float__")
add(
    custom(lambda f, m, x: (f(x[0, 0]), f(x[1:2, 1])), (M34,), (INT,), False),
    "Tensor.__int__",
    "Tensor.__index__",
)
add(custom(lambda f, m, x: f(x)), "Tensor.__len__")
add(custom(lambda f, m, x: tuple(f(x))), "Tensor.__iter__")
add(
    custom(lambda f, m, x: (f(x, 1), f(x, (slice(None), [0, 2])), f(x, x > 0), f(x, (..., None)))),
    "Tensor.__getitem__",
)


def _setitem(f, m, x, y):
    x = x * 1
    f(x, (0, slice(1, 3)), y[:2])
    f(x, x < -1, 0.0)
    return x


add(custom(_setitem, (M34, (4,))), "Tensor.__setitem__")
add(custom(lambda f, m, x: f(x, {})), "Tensor.__deepcopy__")
add(custom(lambda f, m, x: copy.deepcopy(x)), "Tensor.__deepcopy__")
add(custom(lambda f, m, x: pickle.loads(pickle.dumps(x.detach())), grad=False), "Tensor.__reduce_ex__")
add(custom(lambda f, m, x: (f(x[0, 0], ".3f"), _shown(f(x, ""))), grad=False), "Tensor.__format__")
add(custom(lambda f, m, x: f(x[0, 0], ""), grad=False), "Tensor.__format__")
add(
    custom(lambda f, m, x: f(x.detach()).replace("torch.", "").replace("chainrule.", ""), grad=False),
    "Tensor.__repr__",
)
add(custom(lambda f, m, x: m.tensor(f(x.detach())), grad=False), "Tensor.__array__")
add(
    custom(lambda f, m, x: (m.Tensor([1.0, 2.0]), m.Tensor(2, 3).shape), grad=False),
    "Tensor.__init__",
    "chainrule.Tensor",
)

# ---- reductions ---------------------------------------------------------------------------------
add(reduction(), *both("sum", "mean", "var", "std", "prod", "amax", "amin"))
add(custom(lambda f, m, x: (f(x, 1), f(x, (0, 1)), f(x, 0, keepdim=True))), *both("logsumexp"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, 0, True), f(x, x.flip(0)))), *both("max", "min"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, 0, True)), grad=False), *both("argmax", "argmin"))
add(reduction(BOOL, False), *both("all", "any"))
add(custom(lambda f, m, x: (f(x), f(x, 1)), args=(INT,), grad=False), *both("count_nonzero"))
add(custom(lambda f, m, x: (f(x, 1), f(x, dim=0))), *both("cumsum", "cumprod", "softmax", "log_softmax"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, 0, keepdim=True), f(x, p=1, dim=1))), *both("norm"))
add(
    custom(lambda f, m, x: (f(x), f(x, 1), f(x, dim=0, correction=0))),
    "chainrule.var_mean",
    "chainrule.std_mean",
)
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, 0, keepdim=True))), *both("median"))
add(custom(lambda f, m, x: (f(x, 2), f(x, 1, 0, True))), *both("kthvalue"))
add(custom(lambda f, m, x: (f(x), f(x, 0, True), f(x, descending=True, stable=True))), *both("sort"))
add(custom(lambda f, m, x: (f(x), f(x, 0, True)), grad=False), *both("argsort"))
add(custom(lambda f, m, x: (f(x, 2), f(x, 1, 0, largest=False))), *both("topk"))
add(custom(lambda f, m, x, a: (f(x), f(x, 2, 0), f(x, dim=0, prepend=a)), (M34, (1, 4))), *both("diff"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x[0]), f(x[0], -1))), *both("diag"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x.reshape(2, 3, 2), -1, 2, 0))), *both("diagonal"))
add(custom(lambda f, m, x: (f(x, 1, 2, 1), f(x, 0, 2, 2), f(x, -1, 4, 3))), "Tensor.unfold")
add(custom(lambda f, m, x: (f(x * 1, (2, 2), (1, 3)), f(x[1:] * 1, (3,), (2,), 1))), *both("as_strided"))
add(custom(lambda f, m, x: (f(x), f(x, offset=1), f(x.reshape(2, 3, 2), dim1=0, dim2=2))), "linalg.diagonal")
add(unary(), *both("trace"))

# ---- shapes -------------------------------------------------------------------------------------
add(
    custom(lambda f, m, x: (f(x, 4, 3), f(x, (2, 6)), f(x, -1))),
    "Tensor.reshape",
    "Tensor.view",
    "chainrule.view",
)
add(custom(lambda f, m, x: (f(x, (4, 3)), f(x, (-1,)))), "chainrule.reshape")
add(custom(lambda f, m, x: (f(x), f(x.reshape(2, 3, 2), 1), f(x.reshape(2, 3, 2), 0, 1))), *both("flatten"))
add(custom(lambda f, m, x: f(x, 1, (2, 2))), *both("unflatten"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, (0, 1))), ((3, 1, 4),)), *both("squeeze"))
add(custom(lambda f, m, x: (f(x, 1), f(x, -1))), *both("unsqueeze"))
add(custom(lambda f, m, x: f(x, 0, 1)), *both("transpose", "swapaxes", "swapdims", "movedim", "moveaxis"))
add(custom(lambda f, m, x: (f(x, 1, 0), f(x, (1, 0)))), "Tensor.permute")
add(custom(lambda f, m, x: f(x, (1, 0))), "chainrule.permute")
add(unary(), *both("t", "ravel", "fliplr", "flipud"))
add(unary(shape=(2, 3, 4)), "Tensor.T", "Tensor.mT", "Tensor.mH")
add(custom(lambda f, m, x: (f(x, 3, 4), f(x, -1, 2)), ((3, 1),)), "Tensor.expand")
add(custom(lambda f, m, x: f(x, (3, 4)), ((3, 1),)), "chainrule.expand")
add(custom(lambda f, m, x, y: f(x, y), ((3, 1), M34)), *both("expand_as"))
add(custom(lambda f, m, x, y: f(x, y), (M34, (2, 6))), *both("view_as", "reshape_as"))
add(custom(lambda f, m, x: f(x, (2, 3, 4))), *both("broadcast_to"))
add(custom(lambda f, m, x: (f(x, 2, 1), f(x, (1, 2, 1)))), "Tensor.repeat")
add(custom(lambda f, m, x: f(x, (2, 1))), "chainrule.repeat")
add(custom(lambda f, m, x: (f(x, (2,)), f(x, (2, 1, 1)))), *both("tile"))
add(custom(lambda f, m, x: (f(x, 2), f(x, [1, 3], 1))), *both("split"))
add(custom(lambda f, m, x: (f(x, 2), f(x, 3, 1))), *both("chunk"))
add(custom(lambda f, m, x: (f(x, 0), f(x, 1))), *both("unbind"))
add(custom(lambda f, m, x: (f(x, [0]), f(x, (0, 1)))), *both("flip"))
add(custom(lambda f, m, x: (f(x, 1, 0), f(x, (1, 2), (0, 1)), f(x, 5))), *both("roll"))
add(custom(lambda f, m, x: (f(x, 1, 1, 2), f(x, 0, -2, 2))), *both("narrow"))
add(custom(lambda f, m, x: (f(x, 1, 2), f(x, 0, -1))), *both("select"))
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, diagonal=-1))), *both("tril", "triu"))
add(custom(lambda f, m, x: (f(x, 1, 4), f(x, (3, 1)))), *both("sum_to_size"))
add(custom(lambda f, m, x: f(x, (0, 2)), ((3, 4),)), "chainrule.expand_dims")

# ---- indexing -----------------------------------------------------------------------------------
IDX = [[0, 3], [2, 2], [1, 0]]
PERM = [[3, 0], [1, 2], [0, 1]]  # no index repeated within a row


def _index(m, rows):
    return m.tensor(rows)


add(custom(lambda f, m, x: f(x, 1, _index(m, IDX))), *both("gather"))
add(
    custom(lambda f, m, x, s: (f(x, 1, _index(m, PERM), s), f(x, 1, _index(m, PERM), 0.5)), (M34, (3, 2))),
    *both("scatter"),
)
add(custom(lambda f, m, x, s: f(x, 1, _index(m, IDX), s), (M34, (3, 2))), *both("scatter_add"))
add(custom(lambda f, m, x: (f(x, 0, m.tensor([2, 0, 2])), f(x, 1, m.tensor([3])))), *both("index_select"))
add(custom(lambda f, m, x, s: f(x, 0, m.tensor([2, 0, 2]), s), (M34, (3, 4))), *both("index_add"))
add(custom(lambda f, m, x, s: f(x, 0, m.tensor([2, 0]), s), (M34, (2, 4))), *both("index_copy"))
add(custom(lambda f, m, x: f(x, 1, m.tensor([0, 2]), -1.0)), *both("index_fill"))
add(custom(lambda f, m, x, c: f(x, c, 0.5), (M34, (4,)), (FLOAT, BOOL)), *both("masked_fill"))
add(custom(lambda f, m, x, c: f(x, c), (M34, (4,)), (FLOAT, BOOL)), *both("masked_select"))
add(custom(lambda f, m, x: (f(x, _index(m, IDX), 1), f(x, m.tensor([5, 0])))), *both("take_along_dim"))
add(custom(lambda f, m, x: (f(x), f(x > 0)), grad=False), *both("nonzero", "argwhere"))
add(
    custom(lambda f, m, x, v: f(x, (m.tensor([0, 2]), m.tensor([1, 3])), v), (M34, (2,))),
    "chainrule.index_put",
)

# ---- linear algebra -----------------------------------------------------------------------------
add(binary(FLOAT, FLOAT, ((4,), (4,))), *both("dot", "inner", "vdot"))
add(binary(FLOAT, FLOAT, ((3,), (4,))), *both("outer", "ger"))
add(binary(FLOAT, FLOAT, (M34, (4,))), *both("mv"))
add(binary(FLOAT, FLOAT, (M34, (4, 2))), *both("mm"))
add(binary(FLOAT, FLOAT, ((2, 3, 4), (2, 4, 2))), *both("bmm"))
add(binary(FLOAT, FLOAT, ((2, 3, 4), (4, 2))), *both("matmul"), "linalg.matmul")
add(custom(lambda f, m, x, y: (f(x, y), f(x, y, dim=1)), ((4, 3), (4, 3))), *both("cross"))
add(custom(lambda f, m, x, y: (f(x, y), f(x, y, dim=-1)), ((4, 3), (4, 3))), "linalg.cross")
add(custom(lambda f, m, x, y, z: f(x, y, z), (M34, (4, 2), (2, 3))), "chainrule.chain_matmul")
add(custom(lambda f, m, x, y, z: f([x, y, z]), (M34, (4, 2), (2, 3))), "linalg.multi_dot")
add(
    custom(
        lambda f, m, x, y: (f("ij,jk->ik", x, y), f("ii", x[:, :3]), f("ij->j", x), f("bi,bj->bij", x, x)),
        (M34, (4, 2)),
    ),
    "chainrule.einsum",
)
SQUARE = ((3, 3),)
add(
    custom(lambda f, m, x: f(spd(m, x)), SQUARE),
    *both("det", "logdet", "inverse", "matrix_exp"),
    "linalg.det",
    "linalg.inv",
    "linalg.matrix_exp",
    "linalg.eigvalsh",
    "linalg.svdvals",
    "linalg.cond",
)
add(
    custom(lambda f, m, x: f(spd(m, x)), SQUARE),
    *both("slogdet"),
    "linalg.slogdet",
    "linalg.inv_ex",
    "linalg.cholesky_ex",
)
add(custom(lambda f, m, x: (f(spd(m, x)), f(spd(m, x), True)), SQUARE), *both("cholesky"))
add(custom(lambda f, m, x: (f(spd(m, x)), f(spd(m, x), upper=True)), SQUARE), "linalg.cholesky")
add(
    custom(
        lambda f, m, x: (f(m.linalg.cholesky(spd(m, x))), f(m.linalg.cholesky(spd(m, x)).mT, True)), SQUARE
    ),
    *both("cholesky_inverse"),
)
add(custom(lambda f, m, x, b: f(b, m.linalg.cholesky(spd(m, x))), ((3, 3), (3, 2))), *both("cholesky_solve"))
add(custom(lambda f, m, x: f(x), (M34,)), *both("pinverse"), "linalg.pinv")
add(
    custom(lambda f, m, x: (f(x, 2), f(x, 0), f(x, -1)), ((3, 3),), (Arg(-0.5, 0.5),)),
    *both("matrix_power"),
    "linalg.matrix_power",
)
add(custom(lambda f, m, x: f(x)), *both("qr"), "linalg.qr")
add(custom(lambda f, m, x: (lambda u, s, v: (s, u.abs(), v.abs()))(*f(x))), *both("svd"))
add(
    custom(lambda f, m, x: (lambda u, s, vh: (s, u.abs(), vh.abs()))(*f(x, full_matrices=False))),
    "linalg.svd",
)
add(custom(lambda f, m, x: (lambda w, v: (w, v.abs()))(*f(spd(m, x))), SQUARE), "linalg.eigh")
add(custom(lambda f, m, a, b: (f(spd(m, a), b), f(spd(m, a), b[:, 0])), ((3, 3), (3, 2))), "linalg.solve")
add(
    custom(
        lambda f, m, a, b: (
            f(m.triu(spd(m, a)), b, upper=True),
            f(m.tril(spd(m, a)), b, upper=False, unitriangular=True),
        ),
        ((3, 3), (3, 2)),
    ),
    "linalg.solve_triangular",
)
add(custom(lambda f, m, a, b: f(a.mT, b).solution, ((3, 4), (4, 2))), "linalg.lstsq")
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, "fro", (0, 1)), f(x, float("inf"), 1))), "linalg.norm")
add(
    custom(lambda f, m, x: (f(x), f(x, 1), f(x, float("inf"), dim=1), f(x, 0.5, 0, True))),
    "linalg.vector_norm",
)
add(custom(lambda f, m, x: (f(x), f(x, "nuc"), f(x, 2), f(x, -1))), "linalg.matrix_norm")
add(custom(lambda f, m, x: (f(x), f(x, keepdim=True))), "chainrule.nuclear_norm")
add(
    custom(lambda f, m, x: (f(x), f(x[:, :2] @ x[:2]), f(spd(m, x[:, :3]), hermitian=True)), grad=False),
    "linalg.matrix_rank",
)
add(binary(FLOAT, FLOAT, (M34, M34)), "linalg.vecdot")

# ---- tensor state and conversions ---------------------------------------------------------------
add(
    unary(),
    "Tensor.contiguous",
    "Tensor.cpu",
    "Tensor.double",
    "Tensor.float",
    "Tensor.half",
    "Tensor.requires_grad_",
    "Tensor.data",
    "Tensor.detach",
)
add(unary(grad=False), "Tensor.bool", "Tensor.int", "Tensor.long")
add(
    custom(lambda f, m, x: (f(x), f(x.detach()), f(x * 2)), grad=False),
    "Tensor.is_leaf",
    "Tensor.requires_grad",
    "Tensor.is_contiguous",
    "Tensor.is_floating_point",
    "Tensor.dim",
    "Tensor.ndim",
    "Tensor.ndimension",
    "Tensor.numel",
    "Tensor.nelement",
    "Tensor.element_size",
    "Tensor.shape",
    "Tensor.dtype",
    "Tensor.device",
    "Tensor.is_cuda",
    "Tensor.retains_grad",
    "Tensor.tolist",
)
add(custom(lambda f, m, x: (f(x), f(x, 1), f(x, -1)), grad=False), "Tensor.size")
add(custom(lambda f, m, x: (f(x.sum()), f(x[1, 2])), grad=False), "Tensor.item")
add(custom(lambda f, m, x: m.tensor(f(x.detach())), grad=False), "Tensor.numpy")
add(
    custom(lambda f, m, x: (f(x), f(x.mT), f(x.mT.contiguous())), grad=False),
    "chainrule.is_floating_point",
    "chainrule.numel",
    "chainrule.is_tensor",
)
add(custom(lambda f, m, x: (f(x, m.float32), f(x, dtype=m.int64), f(x, "cpu"), f(x, x.long()))), *both("to"))
add(custom(lambda f, m, x: (f(x, m.float32), f(x, m.int32))), "Tensor.type")
add(custom(lambda f, m, x, y: f(x, y.float()), (M34, M34), (FLOAT, CONST)), "Tensor.type_as")
add(custom(lambda f, m, x: (f(x, m.int64), f(x.float(), m.int32)), grad=False), "chainrule.view_as_dtype")


def _raises(f, m, x):
    """torch without CUDA raises AssertionError, chainrule without CuPy RuntimeError: both raise."""
    try:
        f(x)
    except Exception:  # noqa: BLE001
        return True
    return False


add(custom(_raises), "Tensor.cuda")
add(custom(lambda f, m, x: f(x * 1)), "Tensor.detach_")


def _grad_fn_name(f, m, x):
    node = f(x.exp())
    return type(node).__name__ if m is torch else node.name()


add(custom(_grad_fn_name), "Tensor.grad_fn")


def _backward(f, m, x, v):
    y = (x.sin() * 2).sum(0)
    f(y, v)
    z = x.detach().requires_grad_()
    f((z**3).sum())
    return x.grad, z.grad


add(custom(_backward, (M34, (4,)), (FLOAT, CONST)), "Tensor.backward")
add(custom(lambda f, m, x: (f(x), (x * x).sum().backward(), f(x))), "Tensor.grad")


def _retain_grad(f, m, x):
    y = x * 2
    f(y)
    (y**2).sum().backward()
    return y.grad, y.retains_grad


add(custom(_retain_grad), "Tensor.retain_grad")


def _hook(f, m, x):
    seen = []
    handle = f(x, lambda g: seen.append(g.clone()) or g * 3)
    (x**2).sum().backward()
    handle.remove()
    (x**2).sum().backward()
    return seen[0], x.grad


add(custom(_hook), "Tensor.register_hook")
add(custom(lambda f, m, x: (f(x, (2, 3)), f(x, 2, dtype=m.int64))), "Tensor.new_zeros", "Tensor.new_ones")
add(custom(lambda f, m, x: f(x, (2, 3)), values=False, grad=False), "Tensor.new_empty")
add(custom(lambda f, m, x: (f(x, (2, 3), 1.5), f(x, (2,), 7, dtype=m.int64))), "Tensor.new_full")
add(custom(lambda f, m, x: (f(x, [1, 2]), f(x, [[1.5]]), f(x, [1], dtype=m.float32))), "Tensor.new_tensor")

# ---- creation -----------------------------------------------------------------------------------
add(
    custom(lambda f, m: (f(5), f(1, 2.5, 0.5), f(0, 1, 0.1, dtype=m.float64), f(-3, 3, 2)), (), ()),
    "chainrule.arange",
)
add(custom(lambda f, m: (f(0, 1, 5), f(-2, 3, 7, dtype=m.float64), f(1, 1, 1)), (), ()), "chainrule.linspace")
add(custom(lambda f, m: (f(0, 1, 5), f(-2, 3, 7, base=2.0)), (), ()), "chainrule.logspace")
add(custom(lambda f, m: (f(3), f(2, 4), f(3, dtype=m.int64)), (), ()), "chainrule.eye")
add(
    custom(lambda f, m: (f(2, 3), f((2, 3)), f(2, dtype=m.int64), f(0), f([2, 1])), (), ()),
    "chainrule.zeros",
    "chainrule.ones",
)
add(custom(lambda f, m: (f(2, 3), f((4,), dtype=m.int64)), (), (), values=False), "chainrule.empty")
add(
    custom(lambda f, m: (f((2, 3), 1.5), f((2,), 3), f((2,), True), f((1,), 2.0, dtype=m.int64)), (), ()),
    "chainrule.full",
)
add(
    custom(lambda f, m, x: (f(x), f(x, dtype=m.int64)), grad=False),
    "chainrule.zeros_like",
    "chainrule.ones_like",
)
add(custom(lambda f, m, x: f(x), grad=False, values=False), "chainrule.empty_like")
add(custom(lambda f, m, x: (f(x, 2.5), f(x, 3, dtype=m.int64)), grad=False), "chainrule.full_like")
add(
    custom(
        lambda f, m: (
            f([1, 2]),
            f([[1.0, 2.0]]),
            f(3.5),
            f([True]),
            f([1], dtype=m.float64),
            f([1.0], requires_grad=True),
        ),
        (),
        (),
    ),
    "chainrule.tensor",
)
add(
    custom(lambda f, m, x: (f([1, 2]), f(x), f([1.5], dtype=m.float32)), grad=False),
    "chainrule.as_tensor",
    "chainrule.asarray",
)
add(custom(lambda f, m, x: f(x.detach().numpy()), grad=False), "chainrule.from_numpy")
add(
    custom(lambda f, m, x, y: (f([x, y]), f((x, y), 1), f([x, y], dim=-1)), (M34, M34)),
    "chainrule.cat",
    "chainrule.concat",
    "chainrule.concatenate",
    "chainrule.stack",
)
add(
    custom(lambda f, m, x, y: (f([x, y]), f([x[0], y[0]])), (M34, M34)),
    "chainrule.hstack",
    "chainrule.vstack",
)
add(custom(lambda f, m, x, y: f(x, y), ((3, 1), (4,))), "chainrule.broadcast_tensors")
add(custom(lambda f, m: (f((3, 1), (4,)), f((2, 1, 1), (3, 1), ())), (), ()), "chainrule.broadcast_shapes")
add(custom(lambda f, m, x: (f(x, 2), f(x, x.long()), f(x.long(), True)), grad=False), "chainrule.result_type")
add(
    custom(lambda f, m: (f(m.float32, m.float64), f(m.int32, m.float16), f(m.bool, m.int8)), (), ()),
    "chainrule.promote_types",
)
add(
    custom(lambda f, m: f(), (), ()),
    "chainrule.get_default_dtype",
    "chainrule.is_grad_enabled",
    "chainrule.is_inference_mode_enabled",
    "chainrule.is_anomaly_enabled",
    "chainrule.is_anomaly_check_nan_enabled",
)


def _default_dtype(f, m):
    f(m.float64)
    try:
        return m.tensor([1.5]), m.zeros(2), m.arange(0.0, 1.0, 0.5)
    finally:
        f(m.float32)


add(custom(_default_dtype, (), ()), "chainrule.set_default_dtype")


def _printoptions(f, m, x):
    f(precision=2)
    try:
        return repr(x.detach()).replace("dtype=torch.", "dtype=").replace("dtype=chainrule.", "dtype=")
    finally:
        f(profile="default")


add(custom(_printoptions, grad=False), "chainrule.set_printoptions")


def _dtype(f, m):
    t = m.zeros(2, dtype=f)
    return t, t.dtype, f.is_floating_point, f.itemsize


add(
    custom(_dtype, (), ()),
    "chainrule.bool",
    "chainrule.uint8",
    "chainrule.int8",
    "chainrule.int16",
    "chainrule.short",
    "chainrule.int32",
    "chainrule.int",
    "chainrule.int64",
    "chainrule.long",
    "chainrule.float16",
    "chainrule.half",
    "chainrule.float32",
    "chainrule.float",
    "chainrule.float64",
    "chainrule.double",
)
add(
    custom(lambda f, m: (str(f("cpu")), f("cpu").type, m.zeros(1, device=f("cpu")).device), (), ()),
    "chainrule.device",
)
add(
    custom(lambda f, m, x: (f((2, 3)), f((2, 3)).numel(), x.shape == f((3, 4))), grad=False), "chainrule.Size"
)
add(
    custom(
        lambda f, m, x: (
            type(m.max(x, 1)).__name__,
            isinstance(m.max(x, 1), f.max),
            isinstance(m.sort(x), f.sort),
            isinstance(m.median(x, 0), f.median),
        ),
        grad=False,
    ),
    "chainrule.return_types",
)

# ---- grad modes ---------------------------------------------------------------------------------


def _grad_mode(f, m, x):
    with f():
        y = x * 2
    with m.no_grad():
        with f():
            z = x * 2
    return y, z


add(custom(_grad_mode), "chainrule.no_grad", "chainrule.enable_grad", "chainrule.inference_mode")


def _set_grad_enabled(f, m, x):
    with f(False):
        y = x * 2
    f(False)
    z = x * 2
    f(True)
    return y, z, m.is_grad_enabled()


add(custom(_set_grad_enabled), "chainrule.set_grad_enabled")

# ---- random: the streams differ from torch's by design, so shapes, dtypes and ranges -----------


def _in_range(t, low, high):
    return bool(((t >= low) & (t < high)).all())


add(
    custom(lambda f, m: (f(2, 3), _in_range(f(100), 0, 1), f(2, dtype=m.float64)), (), (), values=False),
    "chainrule.rand",
)
add(custom(lambda f, m: (f(2, 3), f((4,), dtype=m.float64)), (), (), values=False), "chainrule.randn")
add(
    custom(
        lambda f, m: (f(3, (4,)), f(2, 5, (2, 2)), _in_range(f(2, 5, (100,)), 2, 5)), (), (), values=False
    ),
    "chainrule.randint",
)
add(custom(lambda f, m: (f(5), f(5).sort().values), (), (), values=False), "chainrule.randperm")
add(custom(lambda f, m, x: (f(x), _in_range(f(x), 0, 1)), grad=False, values=False), "chainrule.rand_like")
add(custom(lambda f, m, x: f(x), grad=False, values=False), "chainrule.randn_like")
add(
    custom(lambda f, m, x: (f(x, 3), _in_range(f(x, 2, 5), 2, 5)), grad=False, values=False),
    "chainrule.randint_like",
)
add(
    custom(
        lambda f, m, x: (f(x), f(m.ones(3)), f(m.zeros(3)), f(x, 0.0)),
        args=(Arg(0.0, 1.0),),
        grad=False,
        values=False,
    ),
    "chainrule.bernoulli",
)
add(
    custom(lambda f, m: (f(0.0, 1.0, (2, 3)), f(m.zeros(3), m.ones(3))), (), (), values=False),
    "chainrule.normal",
)
add(
    custom(lambda f, m: (f(m.tensor([0.0, 1.0, 0.0]), 2, True), f(m.tensor([0.0, 0.0, 1.0]), 1)), (), ()),
    "chainrule.multinomial",
)


def _seeded(f, m):
    m.manual_seed(7)
    a = m.rand(3)
    m.manual_seed(7)
    return a, m.rand(3), m.initial_seed()


add(
    custom(lambda f, m: (lambda a, b, s: (bool((a == b).all()), s))(*_seeded(f, m)), (), ()),
    "chainrule.manual_seed",
    "chainrule.initial_seed",
)


def _rng_state(f, m):
    state = m.get_rng_state()
    a = m.rand(3)
    m.set_rng_state(state)
    return bool((a == m.rand(3)).all())


add(custom(lambda f, m: _rng_state(f, m), (), ()), "chainrule.get_rng_state", "chainrule.set_rng_state")
add(custom(lambda f, m: type(f()).__name__, (), ()), "chainrule.seed")


def _generator(f, m):
    g = f().manual_seed(3)
    a = m.rand(3, generator=g)
    g.manual_seed(3)
    return bool((a == m.rand(3, generator=g)).all()), g.initial_seed()


add(custom(_generator, (), ()), "chainrule.Generator")
add(
    custom(lambda f, m: (type(f.initial_seed()).__name__, type(f).__name__), (), ()),
    "chainrule.default_generator",
)

# ---- serialization ------------------------------------------------------------------------------


def _round_trip(f, m, x):
    buffer = io.BytesIO()
    m.save({"x": x.detach(), "n": 3, "l": [x.detach()[0]]}, buffer)
    buffer.seek(0)
    return m.load(buffer)["x"], m.load(io.BytesIO(buffer.getvalue()))["l"]


add(custom(_round_trip, grad=False), "chainrule.save", "chainrule.load")

# ---- nn.functional ------------------------------------------------------------------------------
NCL, NCHW = (2, 3, 8), (2, 3, 6, 6)
add(
    unary(),
    "F.relu",
    "F.relu6",
    "F.elu",
    "F.selu",
    "F.celu",
    "F.gelu",
    "F.silu",
    "F.mish",
    "F.sigmoid",
    "F.tanh",
    "F.logsigmoid",
    "F.softsign",
    "F.softplus",
    "F.hardtanh",
    "F.leaky_relu",
)
add(custom(lambda f, m, x: (f(x, 1), f(x, dim=0))), "F.softmax", "F.log_softmax", "F.softmin")
add(custom(lambda f, m, x: (f(x), f(x, 1, 0), f(x, dim=1, p=1))), "F.normalize")
add(custom(lambda f, m, x: (f(x), f(x, dim=1))), "F.glu")
add(inplace(FLOAT), "F.relu_", "F.elu_", "F.leaky_relu_")
add(custom(lambda f, m, x: (f(x, 0.0), f(x, 0.5, training=False), f(x, 1.0))), "F.dropout")
add(custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w)), (M34, (2, 4), (2,))), "F.linear")
add(custom(lambda f, m, x, y, w, b: f(x, y, w, b), ((3, 4), (3, 2), (5, 4, 2), (5,))), "F.bilinear")
add(custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 2)), (NCL, (4, 3, 3), (4,))), "F.conv1d")
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 1, 1)), (NCHW, (4, 3, 3, 3), (4,))),
    "F.conv2d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 1)), (NCL, (3, 4, 3), (4,))),
    "F.conv_transpose1d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 1)), (NCHW, (3, 4, 3, 3), (4,))),
    "F.conv_transpose2d",
)
add(
    custom(lambda f, m, x: (f(x, 2), f(x, 3, 1, 1)), (NCL,)),
    "F.max_pool1d",
    "F.avg_pool1d",
    "F.max_pool1d_with_indices",
)
add(
    custom(lambda f, m, x: (f(x, 2), f(x, 3, 2, 1)), (NCHW,)),
    "F.max_pool2d",
    "F.avg_pool2d",
    "F.max_pool2d_with_indices",
)
add(custom(lambda f, m, x: (f(x, 3), f(x, 1)), (NCL,)), "F.adaptive_avg_pool1d")
add(custom(lambda f, m, x: (f(x, 3), f(x, (2, 1))), (NCHW,)), "F.adaptive_avg_pool2d")
add(
    custom(
        lambda f, m, x, w, b: (
            f(x, None, None, w, b, True),
            f(x, x.detach().mean((0, 2)), x.detach().var((0, 2)) + 1, w, b),
        ),
        (NCL, (3,), (3,)),
    ),
    "F.batch_norm",
)
add(custom(lambda f, m, x, w, b: (f(x, (8,), w, b), f(x, (3, 8))), (NCL, (8,), (8,))), "F.layer_norm")
add(custom(lambda f, m, x, w, b: (f(x, 3, w, b), f(x, 1)), ((2, 6, 4), (6,), (6,))), "F.group_norm")
add(
    custom(lambda f, m, w: (f(m.tensor([[0, 2], [4, 0]]), w), f(m.tensor([1, 0]), w, 0)), ((5, 3),)),
    "F.embedding",
)
add(custom(lambda f, m: (f(m.tensor([0, 2, 1])), f(m.tensor([[1], [3]]), 5)), (), ()), "F.one_hot")
TARGET = [0, 3, 1]
add(
    custom(
        lambda f, m, x: (
            f(x, m.tensor(TARGET)),
            f(x, m.tensor(TARGET), reduction="sum"),
            f(x, m.tensor([0, -100, 1]), ignore_index=-100),
        )
    ),
    "F.cross_entropy",
)
add(
    custom(
        lambda f, m, x: (
            f(x.log_softmax(1), m.tensor(TARGET)),
            f(x.log_softmax(1), m.tensor(TARGET), reduction="none"),
        )
    ),
    "F.nll_loss",
)
add(
    custom(
        lambda f, m, x, y: (f(x, y), f(x, y, reduction="sum"), f(x, y, reduction="none")),
        (M34, M34),
        (FLOAT, CONST),
    ),
    "F.mse_loss",
    "F.l1_loss",
    "F.smooth_l1_loss",
    "F.huber_loss",
)
add(
    custom(
        lambda f, m, x, y: (f(x, y), f(x, y, reduction="sum")),
        (M34, M34),
        (Arg(0.05, 0.95), Arg(0.0, 1.0, grad=False)),
    ),
    "F.binary_cross_entropy",
    "F.binary_cross_entropy_with_logits",
)
add(
    custom(
        lambda f, m, x, y: (
            f(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
            f(x.log_softmax(1), y.log_softmax(1), log_target=True),
        ),
        (M34, M34),
        (FLOAT, CONST),
    ),
    "F.kl_div",
)
add(
    custom(lambda f, m, q, k, v: (f(q, k, v), f(q, k, v, is_causal=True)), ((2, 3, 4), (2, 5, 4), (2, 5, 4))),
    "F.scaled_dot_product_attention",
)


def _mha(f, m, q, k, w_in, b_in, w_out, b_out):
    return f(q, k, k, 4, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out, training=False)


add(custom(_mha, ((3, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,))), "F.multi_head_attention_forward")
CASES["F.Tensor"] = CASES["chainrule.Tensor"]


def _linalg_error(f, m, x):
    try:
        m.linalg.inv(m.zeros(2, 2, dtype=m.float64))
    except f as e:
        return "singular" in str(e)
    return None


add(custom(_linalg_error, grad=False), "linalg.LinAlgError")

# views: memory addresses relative to the base (what torch users compare), the inference flag
add(custom(lambda f, m, x: f(x[1:]) - x.data_ptr(), grad=False), "Tensor.data_ptr")
add(
    custom(lambda f, m, x: f(x[1:]).data_ptr() == x.untyped_storage().data_ptr(), grad=False),
    "Tensor.untyped_storage",
)
add(custom(lambda f, m, x: (f(x), _inference_flag(m)), grad=False), "Tensor.is_inference")


def _inference_flag(m):
    with m.inference_mode():
        t = m.ones(2)
    return t.is_inference()


# ---- not called, with the reason ----------------------------------------------------------------
_LEAKED = (
    "an internal helper that ops/__init__.py's star imports leak into the public namespace "
    "(ops modules without __all__); not torch API, to be hidden rather than tested"
)
EXCLUDED: dict[str, str] = {
    **{
        f"chainrule.{n}": _LEAKED
        for n in (
            "any_true",
            "ceil_op",
            "constant",
            "copy_for",
            "defop",
            "floor_divide_op",
            "floor_op",
            "full_for",
            "getitem",
            "index_put_zeros",
            "lift_like",
            "make_result",
            "make_unary_result",
            "normalize_dim",
            "operands",
            "rng",
            "round_op",
            "setitem",
            "shape_str",
            "sign_op",
            "trunc_op",
            "wrap",
            "zeros_for",
        )
    },
    **{f"F.{n}": _LEAKED for n in ("wrap",)},
    "chainrule.annotations": "`from __future__ import annotations` leaked by a star import",
    "F.annotations": "`from __future__ import annotations` leaked by a star import",
    "chainrule.printoptions": "chainrule-only context manager (torch's is private, "
    "torch._tensor_str.printoptions); tested in tests/test_repr.py",
    "chainrule.dtype": "the class of dtype objects, which torch does not let you construct "
    "either; the dtype instances are tested (chainrule.float32, ...)",
    "Tensor.__array_namespace__": "chainrule-only guard that raises TypeError so that array-API "
    "libraries do not take tensors for arrays; torch has none",
}

# names that fail against torch and could not be fixed in time: name -> the failure
KNOWN_BROKEN: dict[str, str] = {}
add(custom(lambda f, m, x: (f(x) == f(x), x in {x: 1}, len({x, x.clone()})), grad=False), "Tensor.__hash__")

# names that fail against torch and could not be fixed in time: name -> the failure

# ---- dtypes: integer, bool and float32 inputs (type promotion, errors) --------------------------


def _try(fn, *args, **kw):
    """The result, or the type of the exception (compared by name: errors must match torch's)."""
    try:
        return fn(*args, **kw)
    except Exception as e:  # noqa: BLE001
        return f"raises {type(e).__name__}"


def _dtype_unary(f, m, i, b, x):
    return _try(f, i), _try(f, b), _try(f, x.float())


def _dtype_binary(f, m, i, b, x):
    return (
        _try(f, i, i),
        _try(f, i, 2),
        _try(f, i, 1.5),
        _try(f, b, b),
        _try(f, b, i),
        _try(f, x.float(), x),
        _try(f, i, x.float()),
        _try(f, x.float(), m.tensor(2.5)),
    )


def _dtype_reduction(f, m, i, b, x):
    return (_try(f, i), _try(f, b), _try(f, x.float()), _try(f, i, 1), _try(f, b, 0))


DTYPES = dict(
    shapes=(M34, M34, M34), args=(Arg(1, 4, kind="int"), BOOL, POS), grad=False, rtol=2e-6, atol=1e-6
)
UNARY = (
    "abs",
    "absolute",
    "acos",
    "arccos",
    "asin",
    "arcsin",
    "atan",
    "arctan",
    "ceil",
    "cos",
    "cosh",
    "exp",
    "expm1",
    "floor",
    "log",
    "log10",
    "log1p",
    "log2",
    "neg",
    "negative",
    "reciprocal",
    "relu",
    "round",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "trunc",
    "isnan",
    "isinf",
    "isfinite",
    "logical_not",
    "erf",
    "erfc",
    "bitwise_not",
)
BINARY = (
    "add",
    "sub",
    "subtract",
    "mul",
    "multiply",
    "div",
    "divide",
    "true_divide",
    "floor_divide",
    "remainder",
    "fmod",
    "pow",
    "float_power",
    "atan2",
    "arctan2",
    "maximum",
    "minimum",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "logical_and",
    "logical_or",
    "logical_xor",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
)
REDUCTIONS = (
    "sum",
    "mean",
    "prod",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "all",
    "any",
    "count_nonzero",
    "logsumexp",
    "max",
    "min",
    "var",
    "std",
    "cumsum",
    "cumprod",
    "softmax",
    "log_softmax",
    "median",
    "norm",
    "nansum",
)
# where torch raises and chainrule computes a result: accepted (a superset of torch), each reason
SUPERSET = {
    **dict.fromkeys(
        ("abs", "absolute", "ceil", "floor", "trunc", "round"),
        "bool input: torch has no bool kernel; NumPy's result is returned",
    ),
    **dict.fromkeys(
        ("pow", "remainder", "fmod", "floor_divide"),
        "two bool inputs: torch has no bool kernel; NumPy computes in int8",
    ),
    **dict.fromkeys(
        ("maximum", "minimum", "atan2", "arctan2", "logical_and", "logical_or", "logical_xor"),
        "a Python number as the second argument, which torch's binding refuses",
    ),
}
add(Case(_dtype_unary, **DTYPES), *both(*UNARY))
add(Case(_dtype_binary, **DTYPES), *both(*BINARY))
add(Case(_dtype_reduction, **DTYPES), *both(*REDUCTIONS))

# ---- keyword arguments of nn.functional ---------------------------------------------------------
add(custom(lambda f, m, x: (f(x, 0.2), f(x, negative_slope=0.01))), "F.leaky_relu")
add(custom(lambda f, m, x: (f(x, 0.5), f(x, alpha=2.0))), "F.elu", "F.celu")
add(custom(lambda f, m, x: f(x, approximate="tanh")), "F.gelu")
add(custom(lambda f, m, x: (f(x, 2.0), f(x, beta=0.5, threshold=1.0))), "F.softplus")
add(custom(lambda f, m, x: (f(x, -0.5, 0.5), f(x, min_val=-1.5, max_val=0.2))), "F.hardtanh")
add(custom(lambda f, m, x: f(x, eps=0.5)), "F.normalize")
add(
    custom(
        lambda f, m, x, w: (
            f(x, m.tensor(TARGET), w),
            f(x, m.tensor(TARGET), w, reduction="sum"),
            f(x, m.tensor(TARGET), label_smoothing=0.2),
            f(x, m.tensor(TARGET), w, label_smoothing=0.1),
        ),
        (M34, (4,)),
        (FLOAT, WEIGHT),
    ),
    "F.cross_entropy",
)
add(
    custom(
        lambda f, m, x, p: (f(x, p.softmax(1)), f(x, p.softmax(1), label_smoothing=0.1)),
        (M34, M34),
        (FLOAT, CONST),
    ),
    "F.cross_entropy",
)
add(
    custom(
        lambda f, m, x, w: (
            f(x.log_softmax(1), m.tensor(TARGET), w),
            f(x.log_softmax(1), m.tensor([0, -100, 1]), w, ignore_index=-100),
        ),
        (M34, (4,)),
        (FLOAT, WEIGHT),
    ),
    "F.nll_loss",
)
add(
    custom(
        lambda f, m, x, y: (f(x, y, beta=0.5), f(x, y, beta=2.0, reduction="none")),
        (M34, M34),
        (FLOAT, CONST),
    ),
    "F.smooth_l1_loss",
)
add(custom(lambda f, m, x, y: f(x, y, delta=0.5), (M34, M34), (FLOAT, CONST)), "F.huber_loss")
add(
    custom(
        lambda f, m, x, y, w: (f(x, y, w), f(x, y, pos_weight=w[0])),
        (M34, M34, (3, 4)),
        (FLOAT, Arg(0.0, 1.0, grad=False), WEIGHT),
    ),
    "F.binary_cross_entropy_with_logits",
)
add(
    custom(
        lambda f, m, x, y, w: f(x, y, w),
        (M34, M34, (4,)),
        (Arg(0.05, 0.95), Arg(0.0, 1.0, grad=False), WEIGHT),
    ),
    "F.binary_cross_entropy",
)
add(
    custom(
        lambda f, m, w: (
            f(m.tensor([[0, 2], [4, 0]]), w, padding_idx=0),
            f(m.tensor([1, 3]), w, max_norm=1.0),
        ),
        ((5, 3),),
    ),
    "F.embedding",
)
add(
    custom(lambda f, m, x: (f(x, 2, ceil_mode=True), f(x, 3, 1, 1, count_include_pad=False)), (NCL,)),
    "F.avg_pool1d",
)
add(
    custom(lambda f, m, x: (f(x, 3, 2, 1, ceil_mode=True), f(x, 2, divisor_override=3)), (NCHW,)),
    "F.avg_pool2d",
)
add(custom(lambda f, m, x: (f(x, 3, 2, 1, 2), f(x, 2, ceil_mode=True)), ((2, 3, 9),)), "F.max_pool1d")
add(
    custom(
        lambda f, m, x: (f(x, 3, 2, 1, 2), f(x, 2, ceil_mode=True), f(x, 2, return_indices=True)),
        ((2, 3, 7, 7),),
    ),
    "F.max_pool2d",
)
add(
    custom(
        lambda f, m, x, w: (f(x, w, padding="same", groups=3), f(x, w, padding=1, groups=3)),
        ((2, 3, 6, 6), (3, 1, 3, 3)),
    ),
    "F.conv2d",
)
add(
    custom(
        lambda f, m, x, w: (f(x, w, padding="same", dilation=2, groups=3), f(x, w, padding=1, groups=3)),
        ((2, 3, 8), (3, 1, 3)),
    ),
    "F.conv1d",
)
add(
    custom(
        lambda f, m, x, w: f(x, w, stride=2, padding=1, output_padding=1, groups=3),
        ((2, 3, 5, 5), (3, 2, 3, 3)),
    ),
    "F.conv_transpose2d",
)
add(
    custom(
        lambda f, m, q, k, v: (
            f(q, k, v, scale=0.3),
            f(q, k, v, attn_mask=m.ones(3, 5, dtype=m.bool).tril()),
        ),
        ((2, 3, 4), (2, 5, 4), (2, 5, 4)),
    ),
    "F.scaled_dot_product_attention",
)
add(
    custom(
        lambda f, m, x, w, b, rm, rv: f(x, rm, rv, w, b, False, 0.1, 1e-3),
        (NCHW, (3,), (3,), (3,), (3,)),
        (FLOAT, FLOAT, FLOAT, CONST, Arg(0.5, 2.0, grad=False)),
    ),
    "F.batch_norm",
)

# ---- edge cases and errors (compared by exception type) -----------------------------------------


def errors(*calls) -> Case:
    """Each ``call(f, m, x)`` gives its result or the name of the exception it raised."""
    return custom(lambda f, m, x: tuple(_try(c, f, m, x) for c in calls), grad=False)


add(
    errors(lambda f, m, x: f(x), lambda f, m, x: f(x[0, 0]), lambda f, m, x: f(x[0, :1])),
    "Tensor.__len__",
    "Tensor.__bool__",
    "Tensor.__float__",
    "Tensor.item",
    "Tensor.__int__",
)
add(errors(lambda f, m, x: list(f(x[0, 0]))), "Tensor.__iter__")
add(errors(lambda f, m, x: f(x[0, 0]), lambda f, m, x: f(x[0, 0].long())), "Tensor.__index__")
add(errors(lambda f, m, x: f(x[0, 0]), lambda f, m, x: f(x[0])), "Tensor.tolist")
add(
    errors(
        lambda f, m, x: f(x).replace("torch.", "").replace("chainrule.", ""),
        lambda f, m, x: f(x.long()).replace("torch.", "").replace("chainrule.", ""),
    ),
    "Tensor.type",
)
add(errors(lambda f, m, x: f(x, 2), lambda f, m, x: f(x, -3), lambda f, m, x: f(x[0, 0], 0)), "Tensor.size")
add(
    errors(lambda f, m, x: f(x, 5, 2), lambda f, m, x: f(x, (5,)), lambda f, m, x: f(x, -1, -1)),
    "Tensor.reshape",
    "Tensor.view",
)
add(
    errors(lambda f, m, x: f(x, 2), lambda f, m, x: f(x, 0, 5), lambda f, m, x: f(x, 5, 0)),
    *both("transpose", "select"),
)
add(errors(lambda f, m, x: f(x, 3, 0), lambda f, m, x: f(x, 0, 3)), *both("movedim"))
add(
    errors(lambda f, m, x: f(x, 2), lambda f, m, x: f(x, (3, 4, 1)), lambda f, m, x: f(x, 0)),
    "Tensor.permute",
)
add(errors(lambda f, m, x: f(x, (3, 5)), lambda f, m, x: f(x, (2, 4))), *both("broadcast_to"))
add(
    errors(
        lambda f, m, x: f(x, m.ones(4, 2)),
        lambda f, m, x: f(x, m.ones(3)),
        lambda f, m, x: f(x, m.ones(3, dtype=m.float32)),
    ),
    *both("matmul", "mm"),
)
add(errors(lambda f, m, x: f(x, x.t()), lambda f, m, x: f(x, m.ones(5))), *both("add", "mul"))
add(
    errors(lambda f, m, x: f(x, 2), lambda f, m, x: f(x, -3)),
    *both("sum", "mean", "softmax", "cumsum", "argmax"),
)
add(
    errors(
        lambda f, m, x: f([x, x[:, :2]]),
        lambda f, m, x: f([]),
        lambda f, m, x: f([x], 3),
        lambda f, m, x: f(x),
    ),
    "chainrule.stack",
    "chainrule.cat",
    "chainrule.hstack",
    "chainrule.vstack",
)
add(
    errors(
        lambda f, m, x: f(x, 1, m.tensor([[4]])),
        lambda f, m, x: f(x, 1, m.tensor([[1.0]])),
        lambda f, m, x: f(x, 2, m.tensor([[1]])),
    ),
    *both("gather"),
)
add(
    errors(lambda f, m, x: f(x, 0, m.tensor([3])), lambda f, m, x: f(x, 0, m.tensor([0.0]))),
    *both("index_select"),
)
add(
    errors(
        lambda f, m, x: f(x, (0, 4)),
        lambda f, m, x: f(x, (5,)),
        lambda f, m, x: f(x, 1.5),
        lambda f, m, x: f(x, m.tensor([3, 0])),
    ),
    "Tensor.__getitem__",
)
add(
    errors(lambda f, m, x: f(x), lambda f, m, x: f(x.reshape(2, 6))),
    "linalg.inv",
    "linalg.det",
    "linalg.cholesky",
    "linalg.eigh",
)
add(
    errors(
        lambda f, m, x: f(x, m.zeros(3, dtype=m.long)),
        lambda f, m, x: f(x, m.tensor([0, 1, 9])),
        lambda f, m, x: f(x, m.tensor([0, 1, 2]).float()),
    ),
    "F.cross_entropy",
    "F.nll_loss",
)
add(errors(lambda f, m, x: f(x, x[:, :2]), lambda f, m, x: f(x, x.long())), "F.mse_loss")
add(errors(lambda f, m, x: f(x, -1), lambda f, m, x: f(x, 2, dtype=m.int64)), "Tensor.new_zeros")

# ---- more argument forms ------------------------------------------------------------------------
add(custom(lambda f, m, c: f(c), (M34,), (BOOL,), grad=False), "chainrule.where")
add(
    custom(
        lambda f, m, x, lo, hi: (f(x, lo, hi), f(x, min=lo), f(x, max=hi[0])),
        (M34, (4,), (3, 4)),
        (FLOAT, Arg(-1.0, 0.0), Arg(0.0, 1.0)),
    ),
    *both("clamp", "clip"),
)
add(custom(lambda f, m, x: (f(x, (1, 3), 1), f(x, 3, 1), f(x, [2, 1]))), *both("split"))
add(custom(lambda f, m, x: (f(x, 4, 1), f(x, 5, 1), f(x, 2, 0))), *both("chunk"))
add(
    custom(
        lambda f, m, x, y: (f(x, y), f(x, "cpu", m.float32), f(x, dtype=m.float32, copy=True)),
        (M34, (2,)),
        (FLOAT, Arg(kind="int")),
    ),
    "Tensor.to",
)
add(
    custom(
        lambda f, m, x: (
            f([x[0, 0], x[1, 1]]),
            f([[1, 2.5], [3, 4]]),
            f([]),
            f([[True], [False]]),
            f(x.detach().numpy()),
            f(((1, 2), (3, 4)), dtype=m.float64),
        ),
        grad=False,
    ),
    "chainrule.tensor",
)
add(
    custom(lambda f, m: (f(0, 5, dtype=m.float32), f(10, 0, -3), f(0.5, 2), f(5, dtype=m.int32)), (), ()),
    "chainrule.arange",
)
add(custom(lambda f, m: (f((2,), True), f((2,), 1), f((2,), 1.0), f((2, 0), 1.0)), (), ()), "chainrule.full")
add(custom(lambda f, m: (f(3, 0), f(0), f(2, 3, dtype=m.bool)), (), ()), "chainrule.eye")
add(
    custom(lambda f, m: (f(0, 1, 1), f(0, 1, 0), f(1, 0, 4), f(0, 10, 5, dtype=m.int64)), (), ()),
    "chainrule.linspace",
)
add(
    custom(
        lambda f, m, x: (
            f(x, -1),
            f(x, (-1, -2)),
            f(x, ([2, 0], [1, 1])),
            f(x, m.tensor([True, False, True])),
            f(x, (None, 1, None)),
            f(x, (slice(None, None, 2), -1)),
            f(x, m.tensor([[0, 1], [2, 0]])),
            f(x, (Ellipsis, m.tensor([1, 3]))),
            f(x, (m.tensor([0, 2]), slice(1, 3))),
        )
    ),
    "Tensor.__getitem__",
)


def _setitem_forms(f, m, x, v):
    x = x * 1
    f(x, 0, v[0])
    f(x, (slice(None), 1), v[1, :3])
    f(x, m.tensor([2, 0]), v[:2])
    f(x, (..., -1), 0.5)
    f(x, x > 1, v[x > 1])
    return x


add(custom(_setitem_forms, (M34, M34)), "Tensor.__setitem__")
add(
    custom(lambda f, m, x: (f(x, (0, 1)), f(x, dim=(0,)), f(x, -1)), args=(INT,), grad=False),
    *both("count_nonzero"),
)
add(
    custom(lambda f, m, x: (f(x, 0, dtype=m.float64), f(x.bool(), 1)), args=(INT,), grad=False),
    *both("cumsum"),
)
add(
    custom(
        lambda f, m, x: (f(x, dtype=m.float64), f(x.float(), 1, dtype=m.float64), f(x, (0, 1), keepdim=True))
    ),
    *both("sum"),
)
add(
    custom(
        lambda f, m, x: (f(x, p=1), f(x, p=float("inf")), f(x, "fro", (0, 1)), f(x, "nuc"), f(x, 3, 1, True))
    ),
    *both("norm"),
)
add(
    custom(lambda f, m, x: (f(x, unbiased=False), f(x, 1, keepdim=True, correction=0), f(x, (0, 1)))),
    *both("var", "std"),
)
add(
    custom(lambda f, m, x: (f(x, -1), f(x, dim=1, dtype=m.float32)), rtol=1e-6, atol=1e-6),
    *both("softmax", "log_softmax"),
)  # (float32 results: rounding differs by an ulp)


add(
    custom(
        lambda f, m, x: tuple(
            _shown(f(t.detach()))
            for t in (
                x,
                x.float(),
                x.long(),
                x > 0,
                x[0, 0],
                x * 1e6,
                x * 1e-6,
                x.float() * 1e-5,
                m.zeros(0, 3),
                m.arange(2000.0),
                x.exp(),
                x.float().sum(),
                (x * 100).round(),
                m.tensor([float("nan"), 1.0]),
                m.tensor([float("inf"), -1.5]),
            )
        )
    ),
    "Tensor.__repr__",
)
add(
    custom(
        lambda f, m, x: (
            f((2, 3))[1:],
            f((2, 3)) + (4,),
            str(f((2, 3))).split(".")[-1],
            x.shape[0] + 1,
            type(x.size(0)).__name__,
            x.size()[-1],
        ),
        grad=False,
    ),
    "chainrule.Size",
)
add(custom(lambda f, m, x: f(x, "torch.FloatTensor"), grad=False), "Tensor.type")
add(custom(lambda f, m, x: _shown(f(x.exp())), grad=False), "Tensor.__repr__")


# ---- the tables of each area: tests/api_cases_<area>.py add to CASES, EXCLUDED, KNOWN_BROKEN -----
for _path in sorted(Path(__file__).parent.glob("api_cases_*.py")):
    importlib.import_module(_path.stem)
