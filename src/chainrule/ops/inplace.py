"""In-place ops (``add_``, ``x[i] = v``, ``-=`` ...) with torch's safety rules.

Outside grad mode an in-place op writes into the tensor's memory and bumps its version counter, so
a backward that saved the old values raises instead of silently using the new ones. In grad mode
the result's history replaces the tensor's: the tensor now stands for the new value, and the old
value is kept (copied where the op's derivative reads it) as the input of the new node.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import GRAD, check_inplace
from ._common import Tensor, as_tensor, wrap

_LEAF = (
    "a leaf Variable that requires grad is being used in an in-place operation. Wrap the update in "
    "`with chainrule.no_grad():` (as optimizers do), or work on a clone."
)


def _check_castable(who: str, self: Tensor, result: np.ndarray) -> None:
    s, r = self._data.dtype, result.dtype
    if s != r and ((r.kind == "f" and s.kind != "f") or (r.kind in "iu" and s.kind == "b")):
        raise RuntimeError(
            f"{who}: result type {r} can't be cast to the desired output type {s} of the tensor "
            "being modified in place; convert the tensor first (e.g. x = x.float())"
        )


def apply_inplace(who: str, self: Tensor, compute) -> Tensor:
    """Run ``compute()`` (an out-of-place op on ``self``) and store its result into ``self``."""
    check_inplace(self)
    recording = GRAD.enabled
    if recording and self._rg and self.grad_fn is None:
        raise RuntimeError(f"{who}: {_LEAF}")
    if not recording:
        result = compute()
        _check_castable(who, self, result._data)
        _write(self, result._data)
        return self
    old = wrap(self._data)  # the tensor's value and history before this op
    old._rg, old.grad_fn, old._vc = self._rg, self.grad_fn, self._vc
    result = _compute_on(self, old, compute)
    _check_castable(who, self, result._data)
    if result._rg and self._data.base is not None and self._vc is not None:
        # torch rewrites the base tensor's history here (CopySlices); chainrule refuses rather
        # than let the base's gradient be silently wrong
        raise RuntimeError(
            f"{who}: in-place change of a view ({list(self.shape)}) in grad mode, where the result "
            "requires grad, is not supported; write out of place (y = x * 2) or clone() the view "
            "first"
        )
    node = result.grad_fn
    if node is not None and node.op.saves_inputs and any(x is old for x in node.inputs):
        old._data = self._data.copy()  # the rule reads the old value: keep it
        old._vc = None
        if node.versions is not None:
            node.versions = tuple(0 if x is old else v for x, v in zip(node.inputs, node.versions))
    _write(self, result._data)
    if result._rg:
        self.grad_fn, self._rg = node, True
        if node is not None:
            node.out_version = None
    return self


def _compute_on(self: Tensor, old: Tensor, compute) -> Tensor:
    """``compute()`` with ``self`` standing in for ``old`` inside the recorded node."""
    result = compute()
    node = result.grad_fn
    if node is not None:
        node.inputs = tuple(old if x is self else x for x in node.inputs)
    return result


def _write(self: Tensor, values: np.ndarray) -> None:
    target = self._data
    if not target.flags.writeable:
        raise RuntimeError(
            "in-place operation on a read-only (broadcast/expanded) tensor; clone() it first"
        )
    np.copyto(target, values, casting="unsafe")
    self._bump_version()


def _inplace_binary(name: str):
    def method(self: Tensor, other, **kwargs) -> Tensor:
        from .. import ops

        fn = getattr(ops, name)
        return apply_inplace(name + "_", self, lambda: fn(self, other, **kwargs))

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: writes the result into this tensor."
    return method


def _inplace_unary(name: str):
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        from .. import ops

        fn = getattr(ops, name)
        return apply_inplace(name + "_", self, lambda: fn(self, *args, **kwargs))

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: writes the result into this tensor."
    return method


add_ = _inplace_binary("add")
sub_ = _inplace_binary("sub")
mul_ = _inplace_binary("mul")
div_ = _inplace_binary("div")
pow_ = _inplace_binary("pow")
remainder_ = _inplace_binary("remainder")
clamp_ = _inplace_unary("clamp")
clip_ = clamp_
neg_ = _inplace_unary("neg")
exp_ = _inplace_unary("exp")
log_ = _inplace_unary("log")
sqrt_ = _inplace_unary("sqrt")
abs_ = _inplace_unary("abs")
sigmoid_ = _inplace_unary("sigmoid")
tanh_ = _inplace_unary("tanh")
relu_ = _inplace_unary("relu")
floor_ = _inplace_unary("floor")
ceil_ = _inplace_unary("ceil")
round_ = _inplace_unary("round")
sin_ = _inplace_unary("sin")
cos_ = _inplace_unary("cos")
square_ = _inplace_unary("square")
reciprocal_ = _inplace_unary("reciprocal")


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros."""
    return fill_(self, 0)


def fill_(self: Tensor, value) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor)."""
    from .creation import full_like

    if isinstance(value, Tensor) and value._rg:
        from .shape import broadcast_to

        return apply_inplace("fill_", self, lambda: broadcast_to(value, self.shape) + self * 0)
    v = value.item() if isinstance(value, Tensor) else value
    return apply_inplace("fill_", self, lambda: full_like(self, v))


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (broadcast, converted to this dtype) into this tensor."""
    from .shape import broadcast_to

    src = as_tensor(src, "copy_")
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError:
        raise RuntimeError(
            f"copy_: the source of shape {list(src.shape)} does not broadcast to the destination "
            f"shape {list(self.shape)}"
        ) from None

    def compute():
        from .creation import to

        return to(broadcast_to(src, self.shape) + self * 0, self.dtype) if src._rg else \
            wrap(np.broadcast_to(src._data, self._data.shape).astype(self._data.dtype))

    return apply_inplace("copy_", self, compute)


def setitem(self: Tensor, index, value) -> None:
    """``self[index] = value``: an in-place write, differentiable for both sides."""
    from .creation import to
    from .index import _convert_index, index_put

    check_inplace(self)
    idx = _convert_index(index, self._data.shape)
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
    if value._data.dtype != self._data.dtype:
        value = to(value, self.dtype)
    apply_inplace("setitem", self, lambda: index_put(self, idx, value))
