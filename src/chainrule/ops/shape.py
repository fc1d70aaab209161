"""Shape ops: views and rearrangements. Each derivative moves the gradient back into place."""

from __future__ import annotations

import numpy as np

from .._record import make_view as _make_view
from .._tensor import storage_array as _storage_array
from ..autograd.graph import defop
from ..autograd.math import sum_to as _sum_to
from ._common import Tensor, as_tensor, make_result, normalize_dim, shape_str


def _view_result(
    data, op, input: Tensor, params: tuple, replay: tuple | None = None, shown: dict | None = None
) -> Tensor:
    """The result of a shape op: a view of ``input`` when ``data`` shares its memory (in-place
    changes then show in both, and the view's history follows its base's), else a new tensor.
    ``replay`` (function, args) makes the view again from ``input``; reshape, broadcast_to and
    permute know their own. ``shown``: torch's node for a view and for a copy, ``{"view": op,
    "copy": op}``, where they are not ``op``'s name (reshape is torch's ViewBackward0)."""
    x = input._data
    owner = data.base
    # only reshape may copy: NumPy's copy is the base of its result, a view's base is the array
    # that owns the memory (x, or x's own base); another array type (vmap's) is asked directly
    copied = op is _reshape and owner is not x and owner is not x.base
    if copied and type(x) is not np.ndarray:
        copied = bool(data.size) and not np.may_share_memory(data, x)
    if owner is None or copied:
        return make_result(data, op if shown is None else shown["copy"], (input,), params)
    if replay is None:
        if op is _permute:
            replay = (permute, params)
        elif op is _expand:
            replay = (broadcast_to, (data.shape,))
        elif op is _reshape:
            replay = (reshape, (data.shape,))
        else:
            raise TypeError(f"_view_result: {op.name} must say how to make its view again (replay=)")
    return _make_view(data, op if shown is None else shown["view"], input, params, replay)


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = shape[0]
    return tuple(int(s) for s in shape)


# ---- reshape / view ----------------------------------------------------------------------------
@defop("reshape", saves_inputs=False, formula="{g0} = reshape({gy}, {shape0})")
def _reshape(F, g, xs, out, p, needs):
    return (F.reshape(g, p[0]),)


# torch's nodes: view() and a reshape that views are ViewBackward0, a reshape that copies
# UnsafeViewBackward0; unsqueeze, squeeze (all dims, one, several), t(), transpose have their own
def _shown(view: str, copy: str | None = None) -> dict:
    return {"view": _reshape.shown_as(view), "copy": _reshape.shown_as(copy or view)}


_AS_VIEW = _shown("ViewBackward0", "UnsafeViewBackward0")
_AS_UNSQUEEZE = _shown("UnsqueezeBackward0")
_AS_SQUEEZE = (_shown("SqueezeBackward0"), _shown("SqueezeBackward1"), _shown("SqueezeBackward2"))


def _infer_shape(who: str, x: np.ndarray, shape: tuple) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError(f"{who}: only one dimension can be inferred, got shape {shape}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or x.size % known:
            raise RuntimeError(f"{who}: shape '{list(shape)}' is invalid for input of size {x.size}")
        shape = tuple(x.size // known if s == -1 else s for s in shape)
    elif known != x.size:
        raise RuntimeError(
            f"{who}: shape '{list(shape)}' is invalid for input of size {x.size} "
            f"(input shape {shape_str(x.shape)})"
        )
    return shape


def reshape(input: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (a view when possible); one dim may be -1."""
    input = as_tensor(input, "reshape")
    return _reshaped(input, _shape_arg(shape), _AS_VIEW)


def _reshaped(input: Tensor, shape: tuple, shown: dict) -> Tensor:
    x = input._data
    if shape == x.shape:
        return _view_result(x.view(), _reshape, input, (x.shape,), shown=shown)
    shape = _infer_shape("reshape", x, shape)
    return _view_result(x.reshape(shape), _reshape, input, (x.shape,), shown=shown)


def _unsafe_view(input: Tensor, shape: tuple) -> Tensor:
    """``input``'s elements in ``shape`` as a new tensor, not a view (torch's ``_unsafe_view``,
    internal): it may share ``input``'s memory but not its version counter, so a node that saves
    it does not fail backward when ``input`` is changed in place later (torch's kron saves such
    reshapes). Only for intermediates no user sees before they are consumed."""
    x = input._data
    data = x.reshape(_infer_shape("reshape", x, shape))
    # (the params' second field tells the node names apart from a copying reshape, which torch
    # shows as the view of a clone)
    return make_result(data, _AS_VIEW["copy"], (input,), (x.shape, "unsafe_view"))


def view(input: Tensor, *shape) -> Tensor:
    """Like reshape, but only for layouts that allow a view (torch raises otherwise)."""
    input = as_tensor(input, "view")
    x = input._data
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer) and hasattr(shape[0], "np"):
        from .creation import view_as_dtype

        return view_as_dtype(input, shape[0])
    shape = _infer_shape("view", x, _shape_arg(shape))
    try:
        out = x.view()
        out.shape = shape  # raises when a copy would be needed
    except AttributeError:
        raise RuntimeError(
            f"view: size {list(shape)} is not compatible with input tensor's size and stride "
            f"(shape {shape_str(x.shape)}, not contiguous); use .reshape(...) instead."
        ) from None
    return _view_result(out, _reshape, input, (x.shape,), shown=_AS_VIEW)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    input = as_tensor(input, "flatten")
    s = input._data.shape
    a = normalize_dim(start_dim, len(s), "flatten")
    b = normalize_dim(end_dim, len(s), "flatten")
    if not s:
        return reshape(input, (1,))
    if a > b:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    if a == b:  # nothing to merge: torch returns the tensor itself (not a view of it)
        return input
    n = 1
    for d in s[a : b + 1]:
        n *= d
    return reshape(input, s[:a] + (n,) + s[b + 1 :])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of them may be -1)."""
    input = as_tensor(input, "unflatten")
    s = input._data.shape
    d = normalize_dim(dim, len(s), "unflatten")
    sizes = _infer_shape("unflatten", np.empty(s[d], dtype=np.int8), tuple(sizes))
    return reshape(input, s[:d] + sizes + s[d + 1 :])


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim``."""
    input = as_tensor(input, "unsqueeze")
    s = input._data.shape
    d = normalize_dim(dim, len(s) + 1, "unsqueeze")
    return _reshaped(input, s[:d] + (1,) + s[d:], _AS_UNSQUEEZE)


def expand_dims(input: Tensor, axes) -> Tensor:
    """NumPy's expand_dims (several new size-1 dims at once), differentiable."""
    input = as_tensor(input, "expand_dims")
    return reshape(input, np.expand_dims(input._data, axes).shape)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims (all of them, or those in ``dim``; others in ``dim`` are kept)."""
    input = as_tensor(input, "squeeze")
    s = input._data.shape
    if dim is None:
        new = tuple(n for n in s if n != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {normalize_dim(d, len(s), "squeeze") for d in dims}  # a 0-d tensor: dims 0 and -1
        new = tuple(n for i, n in enumerate(s) if not (i in dims and n == 1))
    shown = _AS_SQUEEZE[0 if dim is None else 1 if isinstance(dim, int) else 2]
    return _reshaped(input, new, shown)


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when possible)."""
    return reshape(input, (-1,))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``view`` to ``other``'s shape."""
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``reshape`` to ``other``'s shape."""
    return reshape(input, other.shape)


# ---- broadcasting ------------------------------------------------------------------------------
@defop(
    "expand", saves_inputs=False, formula="{g0} = {gy} summed over the dims that expand added or stretched"
)
def _expand(F, g, xs, out, p, needs):
    return (F.sum_to(g, p[0]),)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """A broadcast view of ``input`` with ``shape``, read-only where it repeats elements."""
    input = as_tensor(input, "broadcast_to")
    x = input._data
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return _view_result(x.view(), _reshape, input, (x.shape,))
    try:
        out = np.broadcast_to(x, shape)
    except ValueError:
        raise RuntimeError(
            f"expand: the expanded size of the tensor ({list(shape)}) must match the existing "
            f"size ({list(x.shape)}) at each non-singleton dimension"
        ) from None
    if out.size == x.size and type(x) is np.ndarray and x.flags.writeable:
        # only size-1 dims were added or kept: no element repeats, so (as in torch) the view is
        # writable; NumPy makes every broadcast read-only (a plain array only: vmap's batched
        # arrays have no raw strides to remake)
        out = np.lib.stride_tricks.as_strided(x, shape, out.strides, writeable=True)
    return _view_result(out, _expand, input, (x.shape,))


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a dim's size (torch's Tensor.expand)."""
    input = as_tensor(input, "expand")
    if not sizes:  # expand() names no size at all; expand(()) of a 0-d tensor is fine
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_arg(sizes)
    x = input._data
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(input, shape)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``expand`` to ``other``'s shape."""
    return broadcast_to(input, other.shape)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors broadcast to their common shape (read-only views)."""
    tensors = [as_tensor(t, "broadcast_tensors") for t in tensors]
    shape = _broadcast_shape("broadcast_tensors", [t._data.shape for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that ``shapes`` broadcast to."""
    return _broadcast_shape("broadcast_shapes", [(s,) if isinstance(s, int) else tuple(s) for s in shapes])


def _broadcast_shape(who: str, shapes: list) -> tuple:
    """The common shape of ``shapes``, with torch's RuntimeError (naming the first two sizes that
    differ) where they do not broadcast."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        pass
    ndim = max(len(s) for s in shapes)
    for back in range(1, ndim + 1):
        sizes = [(k, s[-back]) for k, s in enumerate(shapes) if len(s) >= back and s[-back] != 1]
        if len({size for _, size in sizes}) > 1:
            (i, a), (j, b) = next((p, q) for p in sizes for q in sizes if p[1] != q[1])
            raise RuntimeError(
                f"{who}: the size of tensor a ({a}) must match the size of tensor b ({b}) at "
                f"non-singleton dimension {ndim - back} (shapes {list(shapes[i])} and {list(shapes[j])})"
            ) from None
    raise RuntimeError(f"{who}: shapes {[list(s) for s in shapes]} do not broadcast")  # pragma: no cover


@defop("sum_to_size", saves_inputs=False, formula="{g0} = broadcast({gy}, {shape0})")
def _sum_to_size(F, g, xs, out, p, needs):
    return (F.broadcast_to(g, p[0]),)


def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum ``input`` down to ``size`` (the inverse of broadcasting; the adjoint of expand)."""
    input = as_tensor(input, "sum_to_size")
    size = _shape_arg(size)
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(n != 1 and n != shape[lead + i] for i, n in enumerate(size)):
        raise RuntimeError(
            f"sum_to_size: size {list(size)} is not expandable to the input's size {list(shape)}: "
            "each of its dims must equal the input's trailing dim or be 1"
        )
    return make_result(_sum_to(input._data, size), _sum_to_size, (input,), (input._data.shape,))


# ---- permutations --------------------------------------------------------------------------------
@defop("permute", saves_inputs=False, formula="{g0} = permute({gy}, inverse order)")
def _permute(F, g, xs, out, p, needs):
    return (F.permute(g, tuple(np.argsort(p[0]))),)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dims (a view)."""
    input = as_tensor(input, "permute")
    x = input._data
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims don't match: the input has {x.ndim} dims "
            f"(shape {shape_str(x.shape)}) but {len(dims)} were given: {dims}"
        )
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(
            f"permute(): duplicate dims are not allowed: got {dims} for a tensor of shape "
            f"{shape_str(x.shape)}; name each dim once"
        )
    return _view_result(np.transpose(x, dims), _permute, input, (dims,))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    return _swapped(as_tensor(input, "transpose"), dim0, dim1, _AS_TRANSPOSE)


_AS_TRANSPOSE = dict.fromkeys(("view", "copy"), _permute.shown_as("TransposeBackward0"))
_AS_T = dict.fromkeys(("view", "copy"), _permute.shown_as("TBackward0"))


def _swapped(input: Tensor, dim0: int, dim1: int, shown: dict) -> Tensor:
    n = input._data.ndim
    a, b = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    if n == 0:  # dims 0 and -1 name a 0-d tensor's only "dim", as in torch
        return _view_result(input._data.view(), _reshape, input, ((),), shown=_AS_VIEW)
    order = list(range(n))
    order[a], order[b] = order[b], order[a]
    return _view_result(np.transpose(input._data, order), _permute, input, (tuple(order),), shown=shown)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims."""
    input = as_tensor(input, "t")
    if input._data.ndim > 2:
        raise RuntimeError(
            f"t: expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D; "
            "use .mT or .transpose(-2, -1)"
        )
    return _swapped(input, 0, 1, _AS_T) if input._data.ndim == 2 else _swapped(input, 0, 0, _AS_T)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination``, keeping the others in order."""
    input = as_tensor(input, "movedim")
    n = input._data.ndim
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({source} dims) should contain "
            f"the same number of dims as destination ({destination} dims)"
        )
    src = [normalize_dim(d, n, "movedim") for d in source]
    dst = [normalize_dim(d, n, "movedim") for d in destination]
    for name, given, dims in (("source", source, src), ("destination", destination, dst)):
        if len(set(dims)) < len(dims):
            raise RuntimeError(
                f"movedim: repeated dim in `{name}` ({given}) for a tensor of shape "
                f"{shape_str(input._data.shape)}; name each dim once"
            )
    if n == 0:  # torch takes dims 0 and -1 of a 0-d tensor: nothing moves
        return permute(input, ())
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


# ---- diagonals -----------------------------------------------------------------------------------
def _diagonal_index(shape: tuple, offset: int, d1: int, d2: int) -> tuple:
    """The advanced index of ``diagonal``'s elements in an array of ``shape``: one broadcast
    array per dim, shaped like the result (the other dims in order, then the diagonal)."""
    rest = [d for d in range(len(shape)) if d not in (d1, d2)]
    length = max(0, min(shape[d1] - max(0, -offset), shape[d2] - max(0, offset)))
    nd = len(rest) + 1
    index: list = [None] * len(shape)
    for k, d in enumerate(rest):
        index[d] = np.arange(shape[d]).reshape([-1 if j == k else 1 for j in range(nd)])
    step = np.arange(length).reshape((1,) * (nd - 1) + (-1,))
    index[d1], index[d2] = step + max(0, -offset), step + max(0, offset)
    return tuple(index)


@defop("diagonal", saves_inputs=False, formula="{g0} = {gy} on the diagonal of {x0}, 0 elsewhere")
def _diagonal(F, g, xs, out, p, needs):
    shape, index = p
    return (F.index_put_zeros(shape, index, g),)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the matrices in dims ``dim1`` and ``dim2`` (a view), as the last dim.

    ``offset`` picks the diagonal: 0 the main one, > 0 above it, < 0 below it; one outside the
    matrix gives a last dim of length 0.
    """
    input = as_tensor(input, "diagonal")
    x = input._data
    # torch wraps both dims first (dims 0 and -1 of a 0-d or 1-d tensor are the same dim), then
    # refuses identical ones: ones(3).diagonal(0, 0, -1) is a RuntimeError, ones(3).diagonal() an
    # IndexError (dim 1)
    d1, d2 = normalize_dim(dim1, x.ndim, "diagonal"), normalize_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    index = _diagonal_index(x.shape, offset, d1, d2)
    if type(x) is not np.ndarray:  # vmap's batched array: NumPy's (read-only) diagonal dispatches
        return _view_result(
            np.diagonal(x, offset, d1, d2), _diagonal, input, (x.shape, index), (diagonal, (offset, d1, d2))
        )
    moved = np.moveaxis(x, (d1, d2), (-2, -1))
    moved = moved[..., :, offset:] if offset >= 0 else moved[..., -offset:, :]
    length = max(0, min(moved.shape[-2:]))
    # np.diagonal's view is read-only; a strided view is writable, as torch's is
    out = np.lib.stride_tricks.as_strided(
        moved, moved.shape[:-2] + (length,), moved.strides[:-2] + (sum(moved.strides[-2:]),)
    )
    return _view_result(out, _diagonal, input, (x.shape, index), (diagonal, (offset, d1, d2)))


# ---- sliding windows -----------------------------------------------------------------------------
@defop(
    "unfold",
    saves_inputs=False,
    formula="{g0} = each window's part of {gy} added back where it came from in {x0}",
)
def _unfold(F, g, xs, out, p, needs):
    shape, d, size, step = p
    windows = (shape[d] - size) // step + 1
    order = list(range(len(shape) + 1))  # g: shape[:d], windows, shape[d+1:], size
    order.insert(d + 1, order.pop())  # -> shape[:d], windows, size, shape[d+1:]
    g = F.reshape(F.permute(g, tuple(order)), shape[:d] + (windows * size,) + shape[d + 1 :])
    where = (np.arange(windows)[:, None] * step + np.arange(size)).ravel()  # overlaps accumulate
    return (F.index_put_zeros(shape, (slice(None),) * d + (where,), g),)


def _unfold_windows(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: the windows of length ``size`` along ``dimension``, ``step`` apart, as a
    new last dim (a view).

    Overlapping windows (``step < size``) are a read-only view: an in-place write into one would
    land in several elements at once, which torch refuses too.
    """
    input = as_tensor(input, "unfold")  # (not torch.unfold: torch has only the method)
    x = input._data
    if x.ndim == 0:
        return _unfold_windows(reshape(input, (1,)), 0, size, step).reshape(size)
    d = normalize_dim(dimension, x.ndim, "unfold")
    if size < 0 or size > x.shape[d]:
        raise RuntimeError(
            f"unfold: maximum size for tensor at dimension {d} is {x.shape[d]} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    windows = (x.shape[d] - size) // step + 1
    params = (x.shape, d, size, step)
    if type(x) is not np.ndarray:  # vmap's batched array: the windows gathered (NumPy dispatches)
        where = np.arange(windows)[:, None] * step + np.arange(size)
        return make_result(np.moveaxis(np.take(x, where, axis=d), d + 1, -1), _unfold, (input,), params)
    out = np.lib.stride_tricks.as_strided(
        x,
        x.shape[:d] + (windows,) + x.shape[d + 1 :] + (size,),
        x.strides[:d] + (x.strides[d] * step,) + x.strides[d + 1 :] + (x.strides[d],),
        # windows overlap only when there are two or more of them closer than their size
        writeable=bool(x.flags.writeable) and (step >= size or windows == 1),
    )
    return _view_result(out, _unfold, input, params, (_unfold_windows, (d, size, step)))


# ---- as_strided: any view of the storage -----------------------------------------------------------
@defop(
    "as_strided",
    saves_inputs=False,
    formula="{g0} = {gy} summed into the storage places it was read from, read back at {x0}'s places",
)
def _as_strided(F, g, xs, out, p, needs):
    input_places, output_places, storage_size, share = p
    storage = F.index_put_zeros((storage_size,), (output_places,), F.reshape(g, (-1,)))
    if share is not None:  # input elements that share a storage place share its gradient (torch)
        storage = storage * share
    return (F.getitem(storage, (input_places,)),)


def _storage_places(shape: tuple, strides: tuple, offset: int) -> np.ndarray:
    """The storage index of every element of a strided layout (strides in elements)."""
    places = np.full(shape, offset, dtype=np.int64)
    for d, (n, st) in enumerate(zip(shape, strides)):
        places += (np.arange(n, dtype=np.int64) * st).reshape((-1,) + (1,) * (len(shape) - d - 1))
    return places


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view of ``input``'s storage with the given ``size``, ``stride`` (in elements) and
    ``storage_offset`` (default: ``input``'s own), as ``torch.as_strided``.

    The storage is the contiguous array ``input`` (and its base) lives in. A view whose elements
    share storage places is read-only; its gradient sums over them.
    """
    input = as_tensor(input, "as_strided")
    x = input._data
    if type(x) is not np.ndarray:
        raise RuntimeError(
            "as_strided: not supported under vmap (each sample's storage is a slice "
            "of the batch's); index or reshape instead"
        )
    size, stride = tuple(int(n) for n in size), tuple(int(st) for st in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided: mismatch in length of strides and shape ({size}, {stride})")
    if any(st < 0 for st in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}"
        )
    owner = _storage_array(input)
    if not owner.flags.c_contiguous:
        raise RuntimeError(
            "as_strided: the tensor's storage is not one contiguous array (it was "
            "made from a strided NumPy array); use .contiguous() first"
        )
    item = x.itemsize
    own_offset = (x.__array_interface__["data"][0] - owner.__array_interface__["data"][0]) // item
    offset = own_offset if storage_offset is None else int(storage_offset)
    need = offset + 1 + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else offset
    if offset < 0 or need > owner.size:
        raise RuntimeError(
            f"as_strided: setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
            f"{offset}, and itemsize {item} requiring a storage size of {need * item} are out of "
            f"bounds for storage of size {owner.size * item}"
        )
    output_places = _storage_places(size, stride, offset)
    overlapping = np.unique(output_places).size < output_places.size
    flat = owner.reshape(-1)
    out = np.lib.stride_tricks.as_strided(
        flat[offset:] if offset < flat.size else flat[:0],
        size,
        tuple(st * item for st in stride),
        writeable=bool(x.flags.writeable) and not overlapping,
    )
    input_places = _storage_places(x.shape, tuple(st // item for st in x.strides), own_offset)
    counts = np.bincount(input_places.ravel(), minlength=owner.size)
    share = None if counts.max(initial=0) <= 1 else 1.0 / np.maximum(counts, 1)
    params = (input_places, output_places.ravel(), owner.size, share)
    return _make_view(out, _as_strided, input, params, (as_strided, (size, stride, offset)))
