"""In-place ops (``add_``, ``x[i] = v``, ``-=`` ...) with torch's safety rules.

Outside grad mode an in-place op writes into the tensor's memory and bumps its version counter, so
a backward that saved the old values raises instead of silently using the new ones. In grad mode
the result's history replaces the tensor's: the tensor now stands for the new value, and the old
value is kept (copied where the op's derivative reads it) as the input of the new node.
"""

from __future__ import annotations

import numpy as np

from .._record import make_result
from .._tensor import MultiOutputViewSteps, set_history, sync_view
from ..autograd import function as _function
from ..autograd._tables import FORWARD, has_tangent, set_tangent, tangent_of, tracked
from ..autograd.grad_mode import GRAD, check_inplace
from ..autograd.graph import defop
from . import elementwise as _ew
from . import unary as _unary_ops
from ._common import Tensor, as_tensor, wrap
from .creation import clone, full_like, to, zeros_like
from .index import _convert_index, index_put
from .join import tril, triu
from .overlapping_writes import check_partial_overlap, write_in_order
from .shape import broadcast_to, reshape

__all__ = [
    "abs_",
    "add_",
    "ceil_",
    "clamp_",
    "clip_",
    "copy_",
    "cos_",
    "div_",
    "exp_",
    "fill",
    "fill_",
    "floor_",
    "log_",
    "mul_",
    "neg_",
    "pow_",
    "reciprocal_",
    "relu_",
    "remainder_",
    "round_",
    "setitem",
    "sigmoid_",
    "sin_",
    "sqrt_",
    "square_",
    "sub_",
    "tanh_",
    "tril_",
    "triu_",
    "zero_",
]

_LEAF = (
    "a leaf Variable that requires grad is being used in an in-place operation. Wrap the update in "
    "`with chainrule.no_grad():` (as optimizers do), or work on a clone."
)


def _check_castable(who: str, self: Tensor, result: np.ndarray) -> None:
    if result.shape != self._data.shape:  # the result broadcast beyond self's shape
        raise RuntimeError(
            f"{who}: output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}; an in-place op cannot grow its tensor (use the out-of-place op)"
        )
    s, r = self._data.dtype, result.dtype
    if s != r and ((r.kind == "f" and s.kind != "f") or (r.kind in "iu" and s.kind == "b")):
        raise RuntimeError(
            f"{who}: result type {r} can't be cast to the desired output type {s} of the tensor "
            "being modified in place; convert the tensor first (e.g. x = x.float())"
        )


def apply_inplace(who: str, self: Tensor, compute) -> Tensor:
    """Run ``compute()`` (an out-of-place op on ``self``) and store its result into ``self``.

    In grad mode ``self`` takes the result's history. When ``self`` is a view, the write lands
    in its base's memory, so the base takes a new history instead (torch's CopySlices: the old
    base everywhere but in the view's region, the result inside it), and every view of the base,
    ``self`` included, remakes its history from the base's when next used (``sync_view``).
    """
    check_inplace(self)
    recording = GRAD.enabled
    base = self._base
    if base is not None and not self._data.flags.writeable and type(self._data) is np.ndarray:
        # elements share memory (unfold's overlapping windows, an expanded tensor)
        return write_in_order(who, self, compute, lambda result: _check_castable(who, self, result._data))
    if not recording:
        result = compute()
        _check_castable(who, self, result._data)
        _write(self, result._data)
        if FORWARD.active:
            _inplace_tangent(who, self, result)
        return self
    if base is not None:
        sync_view(self)
    elif self._rg and self._grad_fn is None:
        raise RuntimeError(f"{who}: {_LEAF}")
    old = wrap(self._data)  # the tensor's value and history before this op
    old._rg, old._grad_fn, old._vc = self._rg, self._grad_fn, self._vc
    if FORWARD.active:  # and its tangents: the node saves old, and forward over reverse reads them
        for level in FORWARD.levels:
            tangent = tangent_of(self, level)
            if tangent is not None:
                set_tangent(old, tangent, level)
    if base is not None and base._rg and self._view_steps is not None:
        # the op reads the view straight from its base's history (torch's CopySlices does): hooks
        # registered on the view's own grad_fn see only the gradient of its other uses
        own = self._grad_fn
        old._grad_fn = self._grad_fn = _replay(self._view_steps, base)._grad_fn
        try:
            result = _compute_on(self, old, compute)
        finally:
            self._grad_fn = own
    else:
        result = _compute_on(self, old, compute)
    _check_castable(who, self, result._data)
    node = result._grad_fn
    if node is not None and node.op.saves_inputs and any(x is old for x in node.inputs):
        old._data = self._data.copy()  # the rule reads the old value: keep it
        old._vc = None
        if FORWARD.active:  # and its tangents, whose memory the write below changes too
            _keep_tangents(old)
        if node.versions is not None:
            node.versions = tuple(0 if x is old else v for x, v in zip(node.inputs, node.versions))
    if self._rg and not result._rg and base is None:
        # the new values don't depend on the old ones (fill_, copy_ from a constant): the old
        # history gets a zero gradient, and the tensor still requires grad, as in torch
        result = make_result(result._data, _overwritten, (old,))
        node = result._grad_fn
    if base is not None and (result._rg or base._rg):
        _check_view_writable(who, self, base)
        _rewrite_base_history(self, base, result)
    else:
        _write(self, result._data)
        if result._rg:
            set_history(self, node)
    if node is not None and node.out is not None:
        # the rule reads its output, which now lives in self's memory: keep that (no copy) and
        # check self's version from here on, as torch does
        node.out = self._data
        node.out_version = VersionSince(self._vc)
    if FORWARD.active:
        _inplace_tangent(who, self, result)
    return self


def _inplace_tangent(who: str, self: Tensor, result: Tensor) -> None:
    """Forward-mode AD: ``self`` changed in place takes the tangents of its new value, level by
    level."""
    for level in FORWARD.levels:
        store_tangent(self, tangent_of(result, level), level)


def _tangent_memory(self: Tensor, level: int, create: bool) -> Tensor | None:
    """The tangent at ``level`` an in-place change of ``self`` writes into: its own, or, for a
    view without one, the same view of its base's tangent (zeros given to the base first when
    ``create``). Called with the levels outside ``level`` active."""
    own = tangent_of(self, level)
    if own is not None or self._base is None or not self._view_steps:
        return own
    base = self._base
    base_tangent = tangent_of(base, level)
    if base_tangent is None:
        if not create:
            return None
        base_tangent = zeros_like(base)
        set_tangent(base, base_tangent, level)
    return _replay(self._view_steps, base_tangent)


def _has_tangent_memory(self: Tensor) -> bool:
    """Whether ``self`` has a tangent, or is a view of a tensor that has one, at an active level."""
    if self._base is None or not self._view_steps:
        return has_tangent(self)
    return has_tangent(self) or has_tangent(self._base)


def store_tangent(self: Tensor, new: Tensor | None, level: int | None = None) -> None:
    """Forward-mode AD after an in-place change of ``self``: ``new`` (its value's tangent at
    ``level``, default the innermost; None: the value has none, so zeros) is written into
    ``self``'s tangent memory at that level, as torch does, so that every view of that memory (of
    ``self``, of its base, the dual's own tangent) sees it. The write runs with only the levels
    outside ``level`` active, so the tangent's own tangents there follow (forward over forward)."""
    levels = FORWARD.levels
    if level is None:
        level = levels[-1]
    FORWARD.levels = outer = levels[: levels.index(level)]
    FORWARD.active = bool(outer)
    try:
        own = _tangent_memory(self, level, create=new is not None)
        if own is None:
            if new is not None:
                set_tangent(self, new, level)
            return
        if new is None:
            new = zeros_like(self)
        if not own._data.flags.writeable:
            set_tangent(self, new, level)  # a broadcast (read-only) tangent: self's own, not shared
            return
        if not _batched_like(own, new):  # vmap (jacfwd) batches new where own is not
            if self._base is None or not self._view_steps or tangent_of(self._base, level) is None:
                set_tangent(self, new, level)  # replaced, as a whole tensor's may be
                return
            # the base's tangent remade batched like new (views made before remake theirs when
            # read: refresh_view), then written into as usual
            base_tangent = tangent_of(self._base, level) + zeros_like(new).sum()
            set_tangent(self._base, base_tangent, level)
            own = _replay(self._view_steps, base_tangent)
        if not (own._rg and own._grad_fn is None) and (
            (GRAD.enabled and new._rg)
            or (outer and (has_tangent(new) or has_tangent(own)))
            or type(own._data) is not np.ndarray  # vmap's batched tangents (jacfwd)
        ):
            copy_(own, new)  # recorded: reverse mode and the outer levels can differentiate it
        else:
            np.copyto(own._data, new._data, casting="unsafe")
            own._bump_version()
        set_tangent(self, own, level)
    finally:
        FORWARD.levels, FORWARD.active = levels, True


def _batch_levels(array) -> set:
    """The vmap levels a (batched) array varies along: vmap's ``BatchedArray`` (func/_batched.py,
    a layer above) nests one level per ``_p``; a NumPy array has none."""
    levels = set()
    while type(array) is not np.ndarray and hasattr(array, "_level"):
        levels.add(array._level)
        array = array._p
    return levels


def _batched_like(own: Tensor, new: Tensor) -> bool:
    """Whether ``new``'s values fit into ``own``'s memory: an array cannot take on batch levels in
    place (vmap's error for ``x.mul_(batched)``)."""
    if type(new._data) is np.ndarray:
        return True
    return _batch_levels(new._data) <= _batch_levels(own._data)


def _keep_tangents(old: Tensor) -> None:
    """Give ``old`` copies of its tangents (each made with the levels outside its own active)."""
    levels = FORWARD.levels
    try:
        for i, level in enumerate(levels):
            tangent = tangent_of(old, level)
            if tangent is not None:
                FORWARD.levels, FORWARD.active = levels[:i], i > 0
                set_tangent(old, clone(tangent), level)
    finally:
        FORWARD.levels, FORWARD.active = levels, True


class VersionSince:
    """A saved output's version: how many in-place changes its memory saw since it was saved
    (what ``Node.out_version[0]`` means, for outputs that live in another tensor's memory)."""

    __slots__ = ("counter", "saved")

    def __init__(self, counter: list) -> None:
        self.counter = counter
        self.saved = counter[0]

    def __getitem__(self, i: int) -> int:
        return self.counter[0] - self.saved


def _check_view_writable(who: str, view: Tensor, base: Tensor) -> None:
    """torch's refusals for an in-place change of a view in grad mode."""
    if base._rg and base._grad_fn is None:
        raise RuntimeError(
            f"{who}: a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Wrap the update in `with chainrule.no_grad():`, or work on a clone."
        )
    if type(view._view_steps) is MultiOutputViewSteps:
        raise RuntimeError(
            f"{who}: Output of a function that returns multiple views (split, chunk, unbind) "
            "is being modified inplace. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one."
        )
    if view._view_steps is None and base._rg:
        raise RuntimeError(
            f"{who}: A view was created in no_grad mode and is being modified inplace with grad "
            "mode enabled. Given that this use case is ambiguous and error-prone, it is "
            "forbidden. You can clarify your code by moving both the view and the inplace either "
            "both inside the no_grad block (if you don't want the inplace to be tracked) or both "
            "outside (if you want the inplace to be tracked)."
        )


def _rewrite_base_history(view: Tensor, base: Tensor, result: Tensor) -> None:
    """Write ``result`` into ``view`` and give its base the history of the whole write."""
    old_base = wrap(base._data)
    old_base._rg, old_base._grad_fn = base._rg, base._grad_fn
    _write(view, result._data)
    rewritten = make_result(base._data, _copy_slices, (old_base, result), (view._view_steps,))
    set_history(base, rewritten._grad_fn)


def rebase_view_history(who: str, view: Tensor, node) -> None:
    """A view already changed in place by ``node`` (a custom Function that marked it dirty):
    its base takes the history of that change, as for an in-place op on the view."""
    base = view._base
    _check_view_writable(who, view, base)
    value = wrap(view._data)
    value._rg, value._grad_fn = True, node
    old_base = wrap(base._data)
    old_base._rg, old_base._grad_fn = base._rg, base._grad_fn
    rewritten = make_result(base._data, _copy_slices, (old_base, value), (view._view_steps,))
    set_history(base, rewritten._grad_fn)
    view._view_version = -1  # its history is remade from the base's when next used


def _replay(steps: tuple, g):
    """The view ``steps`` (see ``make_view``) applied to ``g``, an array or a tensor."""
    t = g if isinstance(g, Tensor) else wrap(g)
    for fn, args in steps:
        t = fn(t, *args)
    return t if isinstance(g, Tensor) else t._data


@defop("overwritten", saves_inputs=False, formula="{g0} = 0 (every element was overwritten)")
def _overwritten(F, g, xs, out, p, needs):
    return (F.zeros_like(g),)  # not g * 0: an inf in g gives 0 (torch), not NaN


_overwritten.same_shape = True
_overwritten.node_name = "FillBackward0"


def _zero_link(self: Tensor) -> Tensor:
    """Zeros shaped as ``self`` whose gradient to ``self`` is 0 (``self * 0`` would give inf * 0 =
    NaN for an inf upstream; torch's copy_ and fill_ give the overwritten tensor 0)."""
    return make_result(zeros_like(self)._data, _overwritten, (self,))


@defop(
    "copy_slices",
    saves_inputs=False,
    formula=("{g0} = {gy} outside the view's region, 0 inside", "{g1} = the view's region of {gy}"),
)
def _copy_slices(F, g, xs, out, p, needs):
    (steps,) = p
    grad_base = grad_value = None
    if needs[0]:
        if F.dtype_of(g).kind == "c":  # the view may be a part (real, imag): one mask per part
            keep = np.full(g.shape, 1 + 1j, dtype=F.dtype_of(g))
            _replay(steps, keep)[...] = 0
            re, im = F.real(g), F.imag(g)
            grad_base = F.complex(
                F.where(keep.real != 0, re, F.zeros_like(re)), F.where(keep.imag != 0, im, F.zeros_like(im))
            )
        else:
            keep = np.ones(g.shape, dtype=bool)
            _replay(steps, keep)[...] = False
            grad_base = F.where(keep, g, F.zeros_like(g))  # selects (torch): an inf in g gives 0 inside
    if needs[1]:
        grad_value = _replay(steps, g)
    return grad_base, grad_value


# a selection, written for torch's gradient convention as it is: a complex gradient must reach the
# region of a real view (view_as_real, .real, .imag) unconjugated, or its imaginary part flips sign
_copy_slices.complex_rule = True


def _compute_on(self: Tensor, old: Tensor, compute) -> Tensor:
    """``compute()`` with ``self`` standing in for ``old`` inside the recorded node.

    Only the first input that is ``self`` (the op's own operand) becomes ``old``: in ``y.mul_(y)``
    the second operand is saved as it is, so backward finds it modified in place and raises, as
    torch does, instead of reading a copy torch never keeps."""
    result = compute()
    node = result._grad_fn
    if node is not None and any(x is self for x in node.inputs):
        first = next(i for i, x in enumerate(node.inputs) if x is self)
        node.inputs = tuple(old if i == first else x for i, x in enumerate(node.inputs))
    return result


def _write(self: Tensor, values: np.ndarray) -> None:
    target = self._data
    if not target.flags.writeable:
        raise RuntimeError(
            "in-place operation on a read-only view (expanded, or overlapping windows of unfold: "
            "one element would be written several times); clone() it first"
        )
    np.copyto(target, values, casting="unsafe")
    self._bump_version()


def _inplace(fn):
    """The in-place form ``x.<name>_(...)`` of the out-of-place op ``fn``."""

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        check_partial_overlap(fn.__name__ + "_", self, (*args, *kwargs.values()))
        return apply_inplace(fn.__name__ + "_", self, lambda: fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``: writes the result into this tensor."
    return method


add_ = _inplace(_ew.add)
sub_ = _inplace(_ew.sub)
mul_ = _inplace(_ew.mul)
div_ = _inplace(_ew.div)
pow_ = _inplace(_ew.pow)
remainder_ = _inplace(_ew.remainder)
clamp_ = _inplace(_ew.clamp)
clip_ = clamp_
neg_ = _inplace(_unary_ops.neg)
exp_ = _inplace(_unary_ops.exp)
log_ = _inplace(_unary_ops.log)
sqrt_ = _inplace(_unary_ops.sqrt)
abs_ = _inplace(_unary_ops.abs)
sigmoid_ = _inplace(_unary_ops.sigmoid)
tanh_ = _inplace(_unary_ops.tanh)
relu_ = _inplace(_unary_ops.relu)
floor_ = _inplace(_unary_ops.floor)
ceil_ = _inplace(_unary_ops.ceil)
round_ = _inplace(_unary_ops.round)
sin_ = _inplace(_unary_ops.sin)
cos_ = _inplace(_unary_ops.cos)
square_ = _inplace(_unary_ops.square)
reciprocal_ = _inplace(_unary_ops.reciprocal)
tril_ = _inplace(tril)
triu_ = _inplace(triu)


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros."""
    return fill_(self, 0)


def fill_(self: Tensor, value) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor)."""
    if isinstance(value, Tensor) and tracked(value):
        return apply_inplace("fill_", self, lambda: broadcast_to(value, self.shape) + _zero_link(self))
    v = value.item() if isinstance(value, Tensor) else value
    return apply_inplace("fill_", self, lambda: full_like(self, v))


def fill(input: Tensor, value) -> Tensor:
    """A copy of ``input`` with every element set to ``value`` (the out-of-place ``fill_``)."""
    return fill_(clone(input), value)


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (broadcast, converted to this dtype) into this tensor."""
    src = as_tensor(src, "copy_")
    check_partial_overlap("copy_", self, (src,))
    try:
        common = np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError:
        raise RuntimeError(
            f"copy_: the source of shape {list(src.shape)} does not broadcast to the destination "
            f"shape {list(self.shape)}"
        ) from None
    if common != self._data.shape:  # the source broadcasts with the destination, not to it
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(common)} "
            f"(copy_ of a source of shape {list(src.shape)})"
        )

    def compute():

        return (
            to(broadcast_to(src, self.shape) + _zero_link(self), self.dtype)
            if tracked(src)
            else wrap(np.broadcast_to(src._data, self._data.shape).astype(self._data.dtype))
        )

    return apply_inplace("copy_", self, compute)


def _setitem_dual(self: Tensor, index, value) -> None:
    """``self[index] = value`` where one side has a forward-mode tangent: the tangents are
    written the same way, into ``self``'s tangent memory (each level's with only the levels
    outside it active)."""
    levels = FORWARD.levels
    pairs = []
    try:
        for i, level in enumerate(levels):
            FORWARD.levels, FORWARD.active = levels[:i], i > 0
            given = tangent_of(value, level) if isinstance(value, Tensor) else None
            own = _tangent_memory(self, level, create=False)
            if own is None and given is not None:
                own = _tangent_memory(self, level, create=True)
            pairs.append((level, own, given))
        FORWARD.levels, FORWARD.active = levels, False
        setitem(self, index, value)
        news = []
        for i, (level, own, given) in enumerate(pairs):
            if own is None and given is None:
                continue
            FORWARD.levels, FORWARD.active = levels[:i], i > 0
            new = clone(own) if own is not None else zeros_like(self)
            setitem(new, index, given if given is not None else 0.0)
            news.append((level, new))
    finally:
        FORWARD.levels, FORWARD.active = levels, True
    for level, new in news:
        store_tangent(self, new, level)


def _setitem_source(part, value: np.ndarray) -> np.ndarray | None:
    """What torch's setitem hands copy_'s overlap check for ``part[...] = value``, or None where it
    checks nothing: the value as it is for the same shape; nothing for a 0-d value (torch fills
    with it: ``x[0] = x[0, 0]``); else the value without its leading 1s, expanded to the part's
    shape (``x[None] = x`` writes the same elements; an expanded value, ``x[:] = x[0]``, is no
    dense block, which torch's check lets pass). None too where the shapes do not broadcast (the
    write itself raises torch's error)."""
    if not isinstance(part, np.ndarray) or part.shape == value.shape:
        return value
    if value.ndim == 0:
        return None
    lead = next((k for k, n in enumerate(value.shape) if n != 1), value.ndim)
    try:
        return np.broadcast_to(value.reshape(value.shape[lead:]), part.shape)
    except ValueError:
        return None


def setitem(self: Tensor, index, value) -> None:
    """``self[index] = value``: an in-place write, differentiable for both sides."""
    check_inplace(self)
    if FORWARD.active and (_has_tangent_memory(self) or (isinstance(value, Tensor) and has_tangent(value))):
        return _setitem_dual(self, index, value)
    idx = _convert_index(index, self._data.shape)
    if isinstance(value, Tensor) and not any(isinstance(i, np.ndarray) for i in idx):
        # a basic index: the part written to is a view of self's memory, checked as torch's
        # setitem (its copy_to) checks it
        part = self._data[idx]
        source = _setitem_source(part, value._data)
        if source is not None:
            check_partial_overlap("setitem", wrap(part), (wrap(source),))
    if not (GRAD.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))):
        if GRAD.enabled and self._rg and self.grad_fn is None:
            raise RuntimeError(f"setitem: {_LEAF}")
        v = value._data if isinstance(value, Tensor) else value
        try:
            self._data[idx] = v
        except ValueError as e:
            raise RuntimeError(
                f"setitem: can't assign a value of shape {np.shape(v)} to the indexed part of a "
                f"tensor of shape {list(self.shape)}: {e}"
            ) from None
        self._bump_version()
        return
    value = as_tensor(value, "setitem")
    lead = next((k for k, n in enumerate(value.shape) if n != 1), value.ndim)
    if lead:  # torch drops the value's leading 1s first (so its gradient keeps them)
        value = reshape(value, value.shape[lead:])
    if value._data.dtype != self._data.dtype:
        value = to(value, self.dtype)
    apply_inplace("setitem", self, lambda: index_put(self, idx, value))


_function.REBASE_VIEW[0] = rebase_view_history  # custom Functions that mark a view dirty
