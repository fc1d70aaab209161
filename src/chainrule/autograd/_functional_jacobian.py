"""``jacobian`` and ``hessian`` of ``chainrule.autograd.functional`` (see that module for the
conventions). Rows by reverse mode (one vjp per output element), or columns by forward mode
(dual tensors, ``chainrule.func.jacfwd``) with ``strategy='forward-mode'``; ``vectorize=True``
hands the basis to the batched step of ``chainrule.func`` (``vmap``), ``vectorize=False`` loops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _tensor as _t  # a module object: autograd is imported while _tensor loads
from .. import ops as _ops
from ._functional_common import (
    _as_tuple,
    _autograd_grad,
    _check_requires_grad,
    _grad_postprocess,
    _grad_preprocess,
    _tuple_postprocess,
    _zeros_like,
)
from .grad_mode import enable_grad

__all__ = ["jacobian", "hessian"]

_STRATEGY = (
    'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
    'function has more outputs than inputs, "forward-mode" tends to be more performant. '
    'Otherwise, prefer to use "reverse-mode".'
)


def _batched():
    # on use: autograd/__init__ loads this module whenever any autograd module loads, before func can
    from ..func._jacobians import batched_vjp, standard_basis

    return batched_vjp, standard_basis


def _func_jacfwd():
    from ..func._jacobians import jacfwd  # on use, as _batched

    return jacfwd


def _unit(t: _t.Tensor, k: int) -> _t.Tensor:
    """The ``k``-th standard basis vector in the shape of ``t``."""
    e = np.zeros(t._data.size, dtype=t._data.dtype)
    e[k] = 1
    return _t.wrap(e.reshape(t._data.shape))


def _jacfwd(func: Callable, inputs: Any, strict: bool, vectorize: bool) -> Any:
    """The jacobian column by column: forward mode through dual tensors along every standard basis
    vector of the inputs, batched by ``vmap`` (``chainrule.func.jacfwd``), as torch does."""
    if strict:
        raise RuntimeError(
            'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
            "not supported together (yet). Please either set `strict=False` or "
            '`strategy="reverse-mode"`.'
        )
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse "
            "Hessian isonly implemented for `vectorize=True`."
        )
    # inputs that require grad: an inner reverse-mode jacobian (hessian's) then takes them as they
    # are (a view, which keeps the tangent) rather than detaching them (which drops it)
    inputs = _grad_preprocess(inputs, create_graph=False, need_graph=True)
    structure: list = []

    def as_tuple(*xs: _t.Tensor) -> tuple:
        is_outputs_tuple, outputs = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        if not structure:
            structure.append(is_outputs_tuple)
        return outputs

    jac = _func_jacfwd()(as_tuple, argnums=tuple(range(len(inputs))))(*inputs)
    # lists, not tuples, in this strategy: what torch's forward-mode jacobian returns
    rows = [[block.detach() for block in row] for row in jac]
    return _tuple_postprocess(rows, (structure[0], is_inputs_tuple))


def jacobian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs`` (``torch.autograd.functional.jacobian``).

    Parameters
    ----------
    func : a function of tensors returning a Tensor or a tuple of Tensors.
    inputs : a Tensor or a tuple of Tensors.
    create_graph : make the Jacobian differentiable (reverse mode only).
    strict : raise when an output does not depend on an input (instead of zeros); not with
        ``vectorize=True`` or forward mode, as torch.
    vectorize : compute all rows (columns) in one batched step (``chainrule.func.vmap`` when
        available, else a loop over the retained graph).
    strategy : ``'reverse-mode'`` (a vjp per output element) or ``'forward-mode'`` (a jvp per
        input element, by the double-backward trick; requires ``vectorize=True`` as in torch).

    Returns
    -------
    ``Jacobian[i][j]`` of shape ``outputs[i].shape + inputs[j].shape``: a Tensor for a Tensor
    output and input, a tuple over the tuple side(s), a tuple of tuples for both (lists with
    ``strategy='forward-mode'``, as torch).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(_STRATEGY)
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.'
            )
        return _jacfwd(func, inputs, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize:
            if strict:
                raise RuntimeError(
                    "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                    "not supported together. Please either set `strict=False` or "
                    "`vectorize=False`."
                )
            jac = _jacrev_vectorized(outputs, inputs, create_graph)
        else:
            jac = tuple(_jacrev_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacrev_rows(i: int, out: _t.Tensor, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """The Jacobian of output ``i``, one backward per element (torch's loop, same checks)."""
    rows: tuple = tuple([] for _ in inputs)
    for k in range(out.numel()):
        vj = _autograd_grad((out,), inputs, (_unit(out, k),), retain_graph=True, create_graph=create_graph)
        for j, (acc, g, x) in enumerate(zip(rows, vj, inputs)):
            if g is not None:
                if strict and create_graph and not g.requires_grad:
                    raise RuntimeError(
                        f"The jacobian of the user-provided function is independent of input {i}. "
                        "This is not allowed in strict mode when create_graph=True."
                    )
                acc.append(g)
            else:
                if strict:
                    raise RuntimeError(
                        f"Output {i} of the user-provided function is independent of "
                        f"input {j}. This is not allowed in strict mode."
                    )
                acc.append(_zeros_like(x))
    return tuple(
        _ops.stack(acc).reshape((*out.shape, *x.shape))
        if acc
        else _ops.zeros((*out.shape, *x.shape), dtype=x.dtype)
        for acc, x in zip(rows, inputs)
    )


def _jacrev_vectorized(outputs: tuple, inputs: tuple, create_graph: bool) -> tuple:
    """All rows at once: the output basis through the batched step."""
    batched_vjp, standard_basis = _batched()
    sizes = [o.numel() for o in outputs]

    def rows(cotangents: list) -> list:
        vj = _autograd_grad(outputs, inputs, tuple(cotangents), create_graph=create_graph, retain_graph=True)
        return [_zeros_like(x) if g is None else g for g, x in zip(vj, inputs)]

    if sum(sizes) == 0:
        per_input = [_ops.zeros((0, *x.shape), dtype=x.dtype) for x in inputs]
    else:
        per_input = batched_vjp(rows, standard_basis(list(outputs)))
    jac = []
    offset = 0
    for o, n in zip(outputs, sizes):
        jac.append(
            tuple(r[offset : offset + n].reshape((*o.shape, *x.shape)) for r, x in zip(per_input, inputs))
        )
        offset += n
    return tuple(jac)


def hessian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar function at ``inputs``: the Jacobian of its gradient
    (``torch.autograd.functional.hessian``).

    Parameters
    ----------
    func : a function of tensors returning a single one-element Tensor.
    inputs, create_graph, strict, vectorize : as for ``jacobian``.
    outer_jacobian_strategy : the strategy of the outer Jacobian (``'forward-mode'`` needs
        ``vectorize=True``); the inner one (the gradient) is always reverse mode.

    Returns
    -------
    ``H[i][j]`` of shape ``inputs[i].shape + inputs[j].shape`` (a Tensor for a Tensor input).
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp: _t.Tensor) -> _t.Tensor:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, _t.Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single element"
            )
        return out.squeeze()

    def jac_func(*inp: _t.Tensor) -> Any:
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(
        jac_func,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))
