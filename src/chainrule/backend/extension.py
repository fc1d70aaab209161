"""The seam through which array types that extend NumPy plug into chainrule's kernels.

Ops and kernels compute with NumPy calls; NumPy's dispatch protocols (``__array_ufunc__``,
``__array_function__``) already route nearly every call to an array type that implements them (a
CuPy array, vmap's batched array). What dispatch cannot express goes through the functions here:
checks that read values (``any_true``), fresh buffers that such arrays are written into
(``zeros_for``), NumPy-only libraries (``map_stacked``), and whole kernels with their own
implementation for the type (``override``). Each function has a plain-NumPy default; an
array type registers its overrides (``register_array_type``, ``register_kernel``) from the package
that defines it, so nothing here, and nothing in the ops, knows of that package: vmap's batched
array registers from ``chainrule.func``, as JAX registers batching rules outside its primitives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "register_array_type",
    "register_kernel",
    "override",
    "is_extended",
    "any_batched",
    "any_true",
    "all_true",
    "all_samples",
    "lift_like",
    "zeros_for",
    "full_for",
    "copy_for",
    "map_stacked",
    "map_elementwise",
    "finished_grad",
    "recorded",
]

#: array type -> its namespace: an object with this module's functions (any_true ... map_stacked)
_TYPES: dict[type, object] = {}
#: (kernel, array type) -> the kernel's implementation for arrays of that type
_KERNELS: dict[tuple[Callable, type], Callable] = {}

#: types skipped without a lookup (index tuples hold these)
PLAIN_TYPES = frozenset(
    {
        np.ndarray,
        int,
        float,
        bool,
        slice,
        type(None),
        type(Ellipsis),
        np.bool_,
        np.int64,
        np.intp,
        np.float64,
        np.float32,
    }
)


def register_array_type(cls: type, namespace) -> None:
    """Route this module's functions to ``namespace`` when an argument is a ``cls``."""
    _TYPES[cls] = namespace


def register_kernel(kernel: Callable, cls: type, impl: Callable) -> None:
    """Make ``impl`` (same signature) ``kernel``'s implementation when an argument is a ``cls``."""
    _KERNELS[(kernel, cls)] = impl


def _namespace(values):
    """The namespace of the first value of a registered type (tuples searched), or None."""
    for v in values:
        t = type(v)
        if t in PLAIN_TYPES:
            continue
        ns = _namespace(v) if t is tuple else _TYPES.get(t)
        if ns is not None:
            return ns
    return None


def _registered_type(values):
    for v in values:
        t = type(v)
        if t not in PLAIN_TYPES and t in _TYPES:
            return t
    return None


def override(kernel: Callable, *arrays) -> Callable | None:
    """The implementation of ``kernel`` registered for the type of one of ``arrays``, or None (the
    kernel's own NumPy code then runs)."""
    t = _registered_type(arrays)
    return None if t is None else _KERNELS.get((kernel, t))


def is_extended(a) -> bool:
    """Whether ``a`` is an array of a registered type (not plain NumPy)."""
    return type(a) in _TYPES


def any_batched(*values) -> bool:
    """Whether any of ``values`` (arrays, index tuples) is of a registered array type."""
    return _namespace(values) is not None


def any_true(mask) -> bool:
    """``bool(mask.any())``, for a validation check or a fast-path choice that any element may decide.

    For a batched array (vmap's), Python's ``if`` cannot take one answer per sample: its namespace
    answers whether any sample has a true element (raise if any sample is invalid; take the general
    path if any sample needs it), which is what each sample's own check would conclude.
    """
    if type(mask) is not np.ndarray:
        ns = _TYPES.get(type(mask))
        if ns is not None:
            return ns.any_true(mask)
    return bool(mask.any())


def all_true(mask) -> bool:
    """``bool(mask.all())``: for a batched array, whether every element of every sample is true."""
    if type(mask) is not np.ndarray:
        ns = _TYPES.get(type(mask))
        if ns is not None:
            return ns.all_true(mask)
    return bool(mask.all())


def all_samples(a):
    """``a`` as a plain array for a validation check (min/max/any); for a batched array, every
    sample's values (the batch dims in front), so that the check covers the whole batch."""
    if type(a) is not np.ndarray:
        ns = _TYPES.get(type(a))
        if ns is not None:
            return ns.all_samples(a)
    return a


def lift_like(x, *values):
    """``x``, or, when ``values`` (index arrays) are batched more than ``x``, ``x`` broadcast over
    their batch (a read-only view), so that NumPy indexing with them dispatches."""
    ns = _namespace(values)
    return x if ns is None else ns.lift_like(x, *values)


def zeros_for(shape, dtype, *values):
    """``np.zeros(shape, dtype)`` that ``values`` (arrays, index tuples) will be written into:
    batched like the most batched of them."""
    ns = _namespace(values)
    return np.zeros(shape, dtype) if ns is None else ns.zeros_for(shape, dtype, *values)


def full_for(shape, dtype, fill, *values):
    """``np.full(shape, fill, dtype)`` that ``values`` will be written into (see ``zeros_for``)."""
    ns = _namespace(values)
    return np.full(shape, fill, dtype) if ns is None else ns.full_for(shape, dtype, fill, *values)


def copy_for(x, *values):
    """``x.copy()`` that ``values`` (arrays, index tuples) will be written into: batched like the
    most batched of ``x`` and them."""
    ns = _namespace(values)
    return x.copy() if ns is None else ns.copy_for(x, *values)


def map_stacked(fn: Callable, arrays: tuple, cores: tuple):
    """``fn(*arrays)`` for a kernel that NumPy's dispatch cannot batch (SciPy, LAPACK wrappers,
    Python loops with writes into fresh buffers) but that treats every leading dim as a stack dim.

    ``cores[i]``: how many trailing dims of ``arrays[i]`` are its core (2 for a matrix, 0 for a
    per-matrix scalar). For batched arrays, ``fn`` runs once on the physical batch, the batch dim
    being one more stack dim (see the namespace's ``map_stacked``); ``fn`` must take this path
    itself whenever ``any_batched`` is true of its arguments.
    """
    ns = _namespace(arrays)
    return fn(*arrays) if ns is None else ns.map_stacked(fn, arrays, cores)


def map_elementwise(fn: Callable, x):
    """``fn(x)`` for an element-wise kernel whose NumPy code does not dispatch (masked writes, fresh
    buffers): a registered array type applies ``fn`` to all of its data at once."""
    ns = None if type(x) is np.ndarray else _TYPES.get(type(x))
    return fn(x) if ns is None else ns.map_elementwise(fn, x)


def finished_grad(g, data, into_grad: bool = False):
    """A gradient ``g`` (an array, or a tensor when backward builds a graph) of a tensor with data
    ``data``, once backward has finished with it: ``g`` itself, unless ``g``'s array type adjusts it
    (vmap sums the batch of a vmap call that has returned; ``into_grad``: for ``.grad``)."""
    a = getattr(g, "_data", g)
    ns = None if type(a) is np.ndarray else _TYPES.get(type(a))
    return g if ns is None else ns.finished_grad(g, data, into_grad)


def recorded(node, inputs: tuple, data) -> None:
    """An op whose result ``data`` is of a registered array type recorded ``node`` on ``inputs``
    (tensors): the type may adjust the node's edges. vmap's batched array routes the gradient of an
    input the batch does not vary (a tensor shared by the samples) through a node that sums it over
    the batch once the vmap has returned, so that it meets that input's other gradients as a total."""
    ns = _TYPES.get(type(data))
    if ns is not None:
        ns.recorded(node, inputs, data)
