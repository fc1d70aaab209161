"""Batching rules of NumPy's linear algebra: np.linalg (stacked matrices, batch dims on the left),
np.einsum (a fresh subscript letter for the batch), np.dot / inner / vdot / tensordot (einsum or
matmul)."""

from __future__ import annotations

import functools
import string

import numpy as np

from ._batched import BatchedArray, fallback, level_of, normalize_axes, normalize_axis, pad_to, rule


def _top(x, level: int) -> bool:
    return type(x) is BatchedArray and x._level == level


def _ndim(x) -> int:
    return len(x._shape) if type(x) is BatchedArray else np.ndim(x)


def _wrap(r, level: int):
    if isinstance(r, tuple):
        parts = [_wrap(x, level) for x in r]
        return type(r)(*parts) if hasattr(r, "_fields") else tuple(parts)
    return BatchedArray(r, level)


# ---- kernels of stacked matrices (chainrule.ops.map_stacked): the batch dim is one more stack dim ---
def map_stacked(fn, arrays: tuple, cores: tuple):
    """``fn(*arrays)`` run once on the physical batch of ``arrays`` at their largest level.

    ``fn`` maps stacks independently (every dim before an array's ``cores[i]`` trailing core dims
    is a stack dim), as SciPy's ``expm`` or a loop of LAPACK calls over ``ndindex`` does: it gets
    each array with the batch dim in front of the broadcast stack dims (unbatched arrays and
    arrays with fewer stack dims broadcast as read-only views), and its array results come back
    batched. Arrays still batched at an outer level reach ``fn`` as such, and ``fn`` maps again.
    """
    level, size = level_of(arrays)
    shapes = [x._shape if type(x) is BatchedArray else np.shape(x) for x in arrays]
    stack = np.broadcast_shapes(*(s[: len(s) - c] for s, c in zip(shapes, cores)))
    phys = []
    for x, s, c in zip(arrays, shapes, cores):
        if _top(x, level):
            p = pad_to(x._p, size, x._shape, len(stack) + c)
        else:
            p = (x if isinstance(x, np.ndarray | BatchedArray) else np.asarray(x))[None]
        phys.append(np.broadcast_to(p, (size,) + stack + s[len(s) - c :]))
    return _wrap_arrays(fn(*phys), level)


def _wrap_arrays(r, level: int):
    """``map_stacked``'s results: arrays batched at ``level``; anything else (None) as it is."""
    if isinstance(r, tuple):
        parts = [_wrap_arrays(x, level) for x in r]
        return type(r)(*parts) if hasattr(r, "_fields") else tuple(parts)
    if isinstance(r, list):
        return [_wrap_arrays(x, level) for x in r]
    return BatchedArray(r, level) if isinstance(r, np.ndarray | BatchedArray) else r


# ---- np.linalg on stacks of matrices: the batch dim is one more stack dim ---------------------------
def _make_stacked(func):
    def stacked(a, *args, **kwargs):
        return _wrap(func(a._p, *args, **kwargs), a._level)

    rule(func)(stacked)


for _name in (
    "inv",
    "det",
    "slogdet",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "qr",
    "pinv",
    "matrix_rank",
    "matrix_power",
    "eig",
    "eigvals",
    "svdvals",
    "matrix_norm",
    "cond",
    "matrix_transpose",
    "diagonal",
    "trace",
):
    _make_stacked(getattr(np.linalg, _name))


@rule(np.linalg.solve)
def _solve(a, b):
    """A logical vector ``b`` (1-D) stays a vector: NumPy would read its physical (B, n) as a matrix."""
    level, size = level_of((a, b))
    an, bn = _ndim(a), _ndim(b)
    vector = bn == 1
    sb = b._shape + (1,) if _top(b, level) and vector else (b._shape if _top(b, level) else None)
    loops = max(an - 2, (len(sb) if sb is not None else bn) - 2, 0)
    pa = a._p.reshape((size,) + (1,) * (loops - an + 2) + a._shape) if _top(a, level) else a
    if _top(b, level):
        pb = b._p.reshape((size,) + (1,) * (loops - len(sb) + 2) + sb)
    else:
        pb = b
    r = np.linalg.solve(pa, pb)
    if _top(b, level) and vector:
        r = r[..., 0]
    return BatchedArray(r, level)


@rule(np.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's name)
    level, size = level_of((x,))
    nd = len(x._shape)
    p = x._p
    if axis is None:
        if ord is None or nd == 1:  # the 2-norm of the flattened array (or the vector's ord-norm)
            r = np.linalg.norm(p.reshape((size, -1)), ord=ord, axis=1)
            return BatchedArray(r.reshape((size,) + (1,) * nd) if keepdims else r, level)
        if nd != 2:
            raise ValueError("Improper number of dimensions to norm.")
        axis = (0, 1)
    axes = (
        normalize_axis(axis, nd) + 1
        if isinstance(axis, int | np.integer)
        else tuple(a + 1 for a in normalize_axes(axis, nd))
    )
    return BatchedArray(np.linalg.norm(p, ord=ord, axis=axes, keepdims=keepdims), level)


@rule(np.linalg.vector_norm)
def _vector_norm(x, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    nd = len(x._shape)
    axes = (
        tuple(range(1, nd + 1))
        if axis is None
        else (
            normalize_axis(axis, nd) + 1
            if isinstance(axis, int | np.integer)
            else tuple(a + 1 for a in normalize_axes(axis, nd))
        )
    )
    return BatchedArray(np.linalg.vector_norm(x._p, axis=axes, keepdims=keepdims, ord=ord), x._level)


@rule(np.linalg.multi_dot)
def _multi_dot(arrays, *, out=None):
    if out is not None:
        return fallback(np.linalg.multi_dot, (arrays,), {"out": out})
    return functools.reduce(np.matmul, arrays)


@rule(np.linalg.vecdot)
def _vecdot(x1, x2, /, *, axis=-1, **kwargs):
    level, size = level_of((x1, x2))
    nd = max(_ndim(x1), _ndim(x2))
    p1 = pad_to(x1._p, size, x1._shape, nd) if _top(x1, level) else x1
    p2 = pad_to(x2._p, size, x2._shape, nd) if _top(x2, level) else x2
    return BatchedArray(np.linalg.vecdot(p1, p2, axis=normalize_axis(axis, nd) + 1), level)


@rule(np.linalg.outer)
def _linalg_outer(x1, x2, /):
    return np.multiply(np.reshape(x1, (-1, 1)), x2)


@rule(np.linalg.matmul)
def _linalg_matmul(x1, x2, /):
    return np.matmul(x1, x2)


# ---- einsum and the contractions built on it --------------------------------------------------------
def _free_letter(used: str) -> str:
    for c in string.ascii_letters:
        if c not in used:
            return c
    raise ValueError("vmap: einsum uses all 52 subscript letters; no letter is left for the batch dim")


def _implicit_output(inputs: list[str]) -> str:
    """NumPy's output subscripts in implicit mode: broadcast dims, then the letters seen once, sorted."""
    counts: dict = {}
    for spec in inputs:
        for c in spec.replace("...", ""):
            counts[c] = counts.get(c, 0) + 1
    ell = "..." if any("..." in s for s in inputs) else ""
    return ell + "".join(sorted(c for c, n in counts.items() if n == 1))


@rule(np.einsum)
def _einsum(*operands, out=None, **kwargs):
    if not isinstance(operands[0], str) or out is not None:
        return fallback(np.einsum, operands, dict(kwargs, out=out))
    subscripts, arrays = operands[0].replace(" ", ""), operands[1:]
    level, size = level_of(arrays)
    if "->" in subscripts:
        lhs, output = subscripts.split("->")
    else:
        lhs, output = subscripts, None
    inputs = lhs.split(",")
    if output is None:
        output = _implicit_output(inputs)
    b = _free_letter(subscripts)
    specs, phys = [], []
    for spec, a in zip(inputs, arrays):
        if _top(a, level):
            specs.append(b + spec)
            phys.append(a._p)
        else:
            specs.append(spec)
            phys.append(a)
    r = np.einsum(",".join(specs) + "->" + b + output, *phys, **kwargs)
    return BatchedArray(r, level)


def _tensordot_subscripts(an: int, bn: int, axes) -> str:
    if isinstance(axes, int | np.integer):
        a_axes = list(range(an - int(axes), an))
        b_axes = list(range(int(axes)))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, int | np.integer) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, int | np.integer) else list(b_axes)
        a_axes = [normalize_axis(i, an) for i in a_axes]
        b_axes = [normalize_axis(i, bn) for i in b_axes]
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(an)]
    sb = [next(letters) for _ in range(bn)]
    for i, j in zip(a_axes, b_axes):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in a_axes] + [c for k, c in enumerate(sb) if k not in b_axes]
    return "".join(sa) + "," + "".join(sb) + "->" + "".join(out)


@rule(np.tensordot, np.linalg.tensordot)
def _tensordot(a, b, axes=2):
    return np.einsum(_tensordot_subscripts(_ndim(a), _ndim(b), axes), a, b)


@rule(np.dot)
def _dot(a, b, out=None):
    if out is not None:
        return fallback(np.dot, (a, b), {"out": out})
    an, bn = _ndim(a), _ndim(b)
    if an == 0 or bn == 0:
        return np.multiply(a, b)
    if an <= 2 and bn <= 2:
        return np.matmul(a, b)
    return np.tensordot(a, b, axes=([an - 1], [max(bn - 2, 0)]))


@rule(np.inner)
def _inner(a, b):
    an, bn = _ndim(a), _ndim(b)
    if an == 0 or bn == 0:
        return np.multiply(a, b)
    return np.tensordot(a, b, axes=([an - 1], [bn - 1]))


@rule(np.vdot)
def _vdot(a, b):
    return np.sum(np.multiply(np.conjugate(np.reshape(a, (-1,))), np.reshape(b, (-1,))))


__all__: list = []
