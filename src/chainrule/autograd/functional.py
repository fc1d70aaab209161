"""``chainrule.autograd.functional``: jacobian, hessian, vjp, jvp, hvp and vhp of a function
(``torch.autograd.functional``), built on ``autograd.grad``.

Conventions, as torch's: ``inputs`` is a Tensor or a tuple of Tensors (not a list), and so are
the function's outputs and ``v``; a single tensor in gives a single tensor out, a tuple gives a
tuple, and a jacobian of a tuple-valued function of a tuple is a tuple (per output) of tuples (per
input). Each function runs ``func`` on fresh inputs (``x.detach().requires_grad_()``, or a
differentiable ``x.view_as(x)`` with ``create_graph=True`` when ``x`` requires grad, so that the
results stay differentiable with respect to it).

Forward-mode products (``jvp``, ``hvp``) use the double-backward trick, as torch's do: with a
dummy cotangent ``u`` that requires grad, ``J^T u`` is recorded, and its vjp with ``v`` is ``J v``.
The ``'forward-mode'`` jacobian strategies use dual tensors (``chainrule.func.jacfwd``), as
torch's. ``vectorize=True`` computes the rows (or columns) of a jacobian with the batched step of
``chainrule.func`` (``vmap``; ``vectorize=False``: a loop).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._functional_common import (
    _as_tuple,
    _autograd_grad,
    _check_requires_grad,
    _fill_in_zeros,
    _grad_postprocess,
    _grad_preprocess,
    _prepare_v,
    _single_scalar_output,
    _tuple_postprocess,
    _zeros_like,
)
from ._functional_jacobian import hessian, jacobian  # rows or columns of vjps and jvps
from .grad_mode import GRAD, enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- the products ----------------------------------------------------------------------------
def vjp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Parameters
    ----------
    func : a function of tensors returning a Tensor or a tuple of Tensors.
    inputs : a Tensor or a tuple of Tensors.
    v : shaped like the output(s); may be None for a single one-element output (then 1).
    create_graph : make the output and the result differentiable (with respect to inputs that
        require grad, and to ``v``).
    strict : raise when an input does not influence the outputs (instead of zeros).

    Returns
    -------
    ``(func_output, vjp)``, the vjp shaped like ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp", "user-provided function returns")
    with set_grad_enabled(True if create_graph else GRAD.enabled):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple))


def jvp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (double-backward trick).

    Parameters
    ----------
    func, inputs, create_graph, strict : as for ``vjp``.
    v : shaped like the input(s); may be None for a single one-element input.

    Returns
    -------
    ``(func_output, jvp)``, the jvp shaped like the output(s).
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(
            v, inputs, is_inputs_tuple, create_graph, "jvp", "input to the user-provided function is"
        )
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        dummies = tuple(_zeros_like(o).requires_grad_() for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else GRAD.enabled):
        grads = _autograd_grad(grad_inputs, dummies, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_outputs_tuple))


def vhp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """The vector-Hessian product ``v^T H`` of a scalar function (``torch.autograd.functional.vhp``).

    Parameters
    ----------
    func : callable
        A function of tensors returning a single tensor with one element.
    inputs : Tensor or tuple of Tensor
        The point at which the Hessian is taken.
    v : Tensor, tuple of Tensor or None, default None
        Shaped like ``inputs``; may be None only for a single one-element input.
    create_graph : bool, default False
        Make the output and the result differentiable (with respect to inputs that require grad,
        and to ``v``).
    strict : bool, default False
        Raise when an input does not influence the output or its gradient (instead of zeros).

    Returns
    -------
    (func_output, vhp) : tuple
        ``func(*inputs)`` and the product, shaped like ``inputs``.

    Notes
    -----
    Two backward passes (the gradient, then its vjp with ``v``). An input the function does not
    depend on gets a zero result unless ``strict``.
    """
    with enable_grad():
        inputs, is_inputs_tuple, v, outputs, is_outputs_tuple, jac = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with set_grad_enabled(True if create_graph else GRAD.enabled):
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return _second_order_result(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """The Hessian-vector product ``H v`` of a scalar function (``torch.autograd.functional.hvp``).

    Parameters
    ----------
    func : callable
        A function of tensors returning a single tensor with one element.
    inputs : Tensor or tuple of Tensor
        The point at which the Hessian is taken.
    v : Tensor, tuple of Tensor or None, default None
        Shaped like ``inputs``; may be None only for a single one-element input.
    create_graph : bool, default False
        Make the output and the result differentiable (with respect to inputs that require grad,
        and to ``v``).
    strict : bool, default False
        Raise when an input does not influence the output or its gradient (instead of zeros).

    Returns
    -------
    (func_output, hvp) : tuple
        ``func(*inputs)`` and the product, shaped like ``inputs``.

    Notes
    -----
    The jvp of the gradient, by the double-backward trick (three backward passes); :func:`vhp` is
    cheaper and gives the same result, since the Hessian of a twice-differentiable function is
    symmetric.
    """
    with enable_grad():
        inputs, is_inputs_tuple, v, outputs, is_outputs_tuple, jac = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "hvp"
        )
        grad_jac = tuple(_zeros_like(x).requires_grad_() for x in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
    with set_grad_enabled(True if create_graph else GRAD.enabled):
        grads = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return _second_order_result(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def _gradient_of_scalar(
    func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool, who: str
) -> tuple:
    """vhp's and hvp's shared first half: checked inputs and ``v``, the scalar output, and its
    gradient with a graph (for the second backward)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", who)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, who, "input to the user-provided function is")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", who)
    _check_requires_grad(outputs, "outputs", strict)
    _single_scalar_output(outputs, is_outputs_tuple, who)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return inputs, is_inputs_tuple, v, outputs, is_outputs_tuple, jac


def _second_order_result(
    outputs, is_outputs_tuple: bool, result, is_inputs_tuple: bool, create_graph: bool
) -> tuple:
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple))
