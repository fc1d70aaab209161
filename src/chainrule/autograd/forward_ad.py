"""Forward-mode automatic differentiation: dual tensors (``torch.autograd.forward_ad``).

Inside a ``dual_level``, ``make_dual(x, t)`` gives a tensor carrying a *tangent* ``t`` (the
direction of a directional derivative). Every op applied to dual tensors computes its output's
tangent ``J t`` (a Jacobian-vector product) at once, beside its value; ``unpack_dual`` reads it.

The engine and the ops know nothing of this. Tangents live in a table here, keyed by tensor, and
the recording path (``_record.make_result``) makes one cheap check, ``FORWARD.active``, which is
true only while a dual level is open: then the op's result goes through ``dual_result``, which
computes the output's tangent from the op's registered rule:

- a rule in ``JVP_RULES`` (keyed by op name) when one is registered there;
- an element-wise unary op (``Op.same_shape``): its Jacobian is diagonal, so the JVP is the very
  local derivative its VJP uses, applied to the tangent: ``op.backward(F, t, ...)``;
- any other op: the transpose-of-VJP trick, for that op only. The VJP ``u -> J^T u`` is linear in
  ``u``, so the gradient of ``<J^T u, t>`` with respect to ``u`` is ``J t``: one recorded backward
  of the op and one backward through that (exact, no finite differences).

Tangents are ordinary chainrule tensors computed with differentiable ops, so reverse mode can
differentiate them (forward-over-reverse and reverse-over-forward both work).

**Levels.** Several dual levels may be open at once, nested: ``func.jvp`` opens its own level per
call (``jacfwd(jacfwd(f))`` nests two), each with its own tangent table. When an op's inputs have
tangents at several levels, each level's output tangent is computed with only the levels outside
it active, outermost first, so an inner level's tangent is itself a dual tensor of the outer
levels (forward over forward). The public ``enter_dual_level`` still refuses to nest, as torch's
does; it may be used inside or around ``func.jvp``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._tensor import Tensor, wrap
from ._tables import FORWARD, clear_tangents, open_tangent_table, set_tangent, tangent_of
from .engine import grad
from .grad_mode import enable_grad
from .math import tensor_math

__all__ = [
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
    "UnpackedDualTensor",
]


#: op name -> ``jvp(inputs, output, params, tangents) -> output tangent`` (tangents: one per
#: input, None where the input has none); ops not here use the rules described in the docstring
JVP_RULES: dict[str, Callable] = {}


def _embedding_jvp(inputs, result, params, tangents):
    """The rows of the weight's tangent: torch's forward mode ignores padding_idx (which only
    zeroes the padding row's *gradient*), so the transpose of the VJP would be wrong there."""
    if tangents[0] is None:
        return None
    return tangents[0][wrap(np.asarray(params[1]))].reshape(result.shape)


JVP_RULES["embedding"] = _embedding_jvp


#: ops whose gradient has the input's shape (``Op.same_shape``) but whose Jacobian is not diagonal
NOT_DIAGONAL = frozenset({"softmax", "log_softmax"})


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal value and its tangent (None when it has none)."""

    primal: Tensor
    tangent: Tensor | None


#: the public level's number (torch numbers its first level 0); internal levels count from 1
_PUBLIC = 0
_INTERNAL = itertools.count(1)

#: the open levels, innermost last: (level, the active levels and flag to restore on exit)
_OPEN: list[tuple[int, tuple, bool]] = []


def open_level(level: int | None = None) -> int:
    """Open a dual level (a fresh internal one by default), innermost; return its number.

    Opened while forward mode is suspended (inside a custom Function's forward or a tangent's
    computation), only the new level is active until it closes."""
    if level is None:
        level = next(_INTERNAL)
    _OPEN.append((level, FORWARD.levels, FORWARD.active))
    open_tangent_table(level)
    FORWARD.levels = (FORWARD.levels if FORWARD.active else ()) + (level,)
    FORWARD.active = True
    return level


def close_level(level: int) -> None:
    """Close ``level``, the innermost open one: its dual tensors lose their tangents there."""
    if not _OPEN or _OPEN[-1][0] != level:
        innermost = _OPEN[-1][0] if _OPEN else None
        raise RuntimeError(
            f"Trying to exit a forward AD level that was not the last one that was created (the "
            f"last one is {innermost}, got {level}). This is not supported."
        )
    _, levels, active = _OPEN.pop()
    clear_tangents(level)
    FORWARD.levels, FORWARD.active = levels, active


def enter_dual_level() -> int:
    """Open a dual level and return its number; ``make_dual`` works until ``exit_dual_level``."""
    if FORWARD.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    FORWARD.level = open_level(_PUBLIC)
    return FORWARD.level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the open dual level: every dual tensor made in it loses its tangent."""
    if level is None:
        level = FORWARD.level
    if level < 0 or FORWARD.level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != FORWARD.level:
        raise RuntimeError(
            f"Trying to exit a forward AD level that was not the last one that was created (the "
            f"last one is {FORWARD.level}, got {level}). This is not supported."
        )
    close_level(level)
    FORWARD.level = -1


class dual_level:
    """Context manager for a forward-mode AD level: tangents exist only inside it.

    Examples
    --------
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     y = fwAD.make_dual(x, v).sin()
    ...     jvp = fwAD.unpack_dual(y).tangent     # cos(x) * v
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` in the open dual level.

    Parameters
    ----------
    tensor : the primal, a floating-point or complex tensor.
    tangent : the direction, of the same shape (cast to the primal's dtype).
    level : the dual level (default: the open one).

    Returns
    -------
    Tensor
        A new tensor sharing ``tensor``'s memory and autograd history, with ``tangent``.
    """
    if FORWARD.level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    if level is not None and level != FORWARD.level:
        raise RuntimeError(f"make_dual: level {level} is not the open dual level ({FORWARD.level})")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(
            f"make_dual: expected Tensors, got {type(tensor).__name__} and {type(tangent).__name__}"
        )
    return make_dual_at(tensor, tangent, FORWARD.level)


def make_dual_at(tensor: Tensor, tangent: Tensor, level: int) -> Tensor:
    """``make_dual`` at a given open level (``func.jvp``'s own ones too), after torch's checks.
    The dual keeps ``tensor``'s tangents at the other levels (it is a view of it)."""
    if tensor._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if tangent._data.dtype.kind not in "fc":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original "
            f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
            f"forward gradient is of size {list(tangent.shape)}."
        )
    dual = _alias(tensor, level)
    if tangent._data.dtype != tensor._data.dtype:
        tangent = tangent.to(tensor.dtype)
    set_tangent(dual, tangent, level)
    return dual


def _alias(tensor: Tensor, without: int) -> Tensor:
    """A view of ``tensor`` with its tangents at every open level but ``without``."""
    active = FORWARD.active
    FORWARD.active = False  # the alias gets no tangent from the recording path: copied below
    try:
        alias = tensor.view_as(tensor)
    finally:
        FORWARD.active = active
    copy_tangents(tensor, alias, skip=without)
    return alias


def copy_tangents(source: Tensor, target: Tensor, *, skip: int | None = None, transform=None) -> None:
    """Give ``target`` the tangents ``source`` has at the open levels (``transform`` applied to
    each: a transform's ``lower``), but at ``skip``."""
    for level, _, _ in _OPEN:
        if level == skip:
            continue
        tangent = tangent_of(source, level)
        if tangent is not None:
            set_tangent(target, tangent if transform is None else transform(tangent), level)


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a tensor: the primal a view without tangent, the tangent None
    when the tensor has none (or outside a dual level)."""
    if level is None:
        level = FORWARD.level
    tangent = current_tangent(tensor, level) if level >= 0 and any(o[0] == level for o in _OPEN) else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor, level), tangent)


# ---- the recording path's forward-mode branch ----------------------------------------------------
def dual_result(result: Tensor, op, inputs: tuple, params: tuple) -> Tensor:
    """Give ``result`` (``op(*inputs)``, just made) its tangent at each active level where an
    input has one; each level's is computed with only the levels outside it active."""
    if result._data.dtype.kind not in "fc":
        return result
    levels = FORWARD.levels
    for i, level in enumerate(levels):
        tangents = [tangent_of(x, level) for x in inputs]
        if all(t is None for t in tangents):
            continue
        FORWARD.levels, FORWARD.active = levels[:i], i > 0  # the tangent's own ops: outer levels
        try:
            tangent = output_tangent(op, inputs, result, params, tangents)
        finally:
            FORWARD.levels, FORWARD.active = levels, True
        if tangent is not None:
            if tangent._data.dtype != result._data.dtype:
                tangent = tangent.to(result.dtype)
            set_tangent(result, tangent, level)
    return result


def output_tangent(op, inputs: tuple, result: Tensor, params: tuple, tangents: list) -> Tensor | None:
    """``J t`` of one op call (see the module docstring for which rule is used); a view's tangent
    is the same view of its input's tangent, any other result's tangent has memory of its own."""
    aliased = view_tangent(result, tangents)
    if aliased is not None:
        return aliased
    return own_memory(_rule_tangent(op, inputs, result, params, tangents), result, tangents)


def _rule_tangent(op, inputs: tuple, result: Tensor, params: tuple, tangents: list) -> Tensor | None:
    rule = JVP_RULES.get(op.name)
    if rule is not None:
        tangent = rule(inputs, result, params, tangents)
        if tangent is not FALLBACK:
            return tangent
    F = tensor_math()
    out = result if op.saves_out else None
    if (
        op.same_shape
        and op.name not in NOT_DIAGONAL
        and len(inputs) == 1
        and not (op.complex_rule and (result._data.dtype.kind == "c" or inputs[0]._data.dtype.kind == "c"))
    ):
        # element-wise: a diagonal Jacobian, so J t is the VJP's own rule applied to t
        return op.backward(F, tangents[0], inputs, out, params, (True,))[0]
    return transpose_of_vjp(op, inputs, result, params, tangents)


def transpose_of_vjp(op, inputs: tuple, result: Tensor, params: tuple, tangents: list) -> Tensor | None:
    """``J t`` as the gradient, with respect to ``u``, of ``<J^T u, t>``: exact for any op whose
    VJP rule is written with differentiable ops (all registered ops are).

    Complex tensors: torch's VJP is the real transpose, complex numbers read as pairs of reals
    (a rule written as the holomorphic chain rule, ``not op.complex_rule``, gives it as
    ``conj(rule(conj(u)))``, as the engine does). The real inner product ``Re(conj(J^T u) t)`` is
    then ``<u, J t>``, whose gradient with respect to ``u`` (torch's convention: the real gradient
    packed as a complex number) is ``J t``."""
    complex_case = result._data.dtype.kind == "c" or any(x._data.dtype.kind == "c" for x in inputs)
    F = tensor_math()
    with enable_grad():
        # at u = 1, not 0: the map is linear in u, but some rules mask where the cotangent is 0
        # (xlogy's torch-matching zero), which at u = 0 would hide the whole derivative
        u = wrap(np.ones_like(result._data))
        u.requires_grad_()
        out = result if op.saves_out else None
        needs = [t is not None for t in tangents]
        if complex_case and not op.complex_rule:
            grads = [
                None if g is None else g.conj() for g in op.backward(F, u.conj(), inputs, out, params, needs)
            ]
        else:
            grads = op.backward(F, u, inputs, out, params, needs)
        total = None
        for gx, tangent, x in zip(grads, tangents, inputs):
            if gx is None or tangent is None:
                continue
            if tuple(gx.shape) != tuple(x.shape):
                gx = F.sum_to(gx, tuple(x.shape))
            if complex_case and (gx._data.dtype.kind == "c" or tangent._data.dtype.kind == "c"):
                term = (gx.conj() * tangent).real.sum()
            else:
                term = (gx * tangent).sum()
            total = term if total is None else total + term
        if total is None or not total._rg:
            return wrap(np.zeros_like(result._data))
        # recorded when reverse mode can see it, or when outer dual levels are active (then the
        # backward's own ops give the tangent its outer tangents)
        differentiable = (
            FORWARD.active or any(x._rg for x in inputs) or any(t is not None and t._rg for t in tangents)
        )
        (jvp,) = grad(total, u, create_graph=differentiable, allow_unused=True)
    return wrap(np.zeros_like(result._data)) if jvp is None else jvp


def refresh_view(view: Tensor) -> None:
    """A view read after its base changed in place: its tangent at each level is the base's
    tangent, viewed the same way (the view's recorded steps replayed on it). A view tangent that
    shares the base tangent's memory is current already (in-place changes write into that
    memory); this remakes one the base got, or replaced, by the change (torch makes a view's
    tangent from its base's lazily, when read)."""
    base, steps, levels = view._base, view._view_steps, FORWARD.levels
    for i, level in enumerate(levels):
        tangent = tangent_of(base, level)
        if tangent is None:
            continue
        own = tangent_of(view, level)
        if own is not None and _shares_memory(own, tangent):
            continue
        if steps is None:  # made outside grad mode: no recorded steps to replay
            raise NotImplementedError(
                "forward-mode AD: a view made outside grad mode was read after its base changed "
                "in place; make the view in grad mode, or clone() the base before changing it"
            )
        FORWARD.levels, FORWARD.active = levels[:i], i > 0
        try:
            for fn, args in steps:
                tangent = fn(tangent, *args)
        finally:
            FORWARD.levels, FORWARD.active = levels, True
        set_tangent(view, tangent, level)


def _shares_memory(a: Tensor, b: Tensor) -> bool:
    a, b = a._data, b._data
    return type(a) is np.ndarray and type(b) is np.ndarray and np.may_share_memory(a, b)


def current_tangent(t: Tensor, level: int) -> Tensor | None:
    """``t``'s tangent at ``level``, remade first if ``t`` is a view whose base changed in place."""
    if t._base is not None and t._view_version != t._base._vc[0] and FORWARD.active:
        refresh_view(t)
    return tangent_of(t, level)


FORWARD.compute = dual_result  # the recording path's forward-mode branch calls this
FORWARD.refresh_view = refresh_view

# the cheap rules of the common ops, and an op whose rule lives in a file of its own
from ._jvp_eig import eig_jvp  # noqa: E402
from ._jvp_rules import FALLBACK, RULES, TRANSPOSE_OF_VJP, own_memory, view_tangent  # noqa: E402

JVP_RULES.update(RULES)
JVP_RULES["linalg_eig"] = eig_jvp
TRANSPOSE_OF_VJP[0] = transpose_of_vjp
