"""``grad``, ``grad_and_value`` and ``vjp``: torch.func's reverse-mode transforms on chainrule's tape.

Each call is one *level* (see ``_levels``): the differentiated inputs are replaced by fresh
vertices, the function runs with grad mode on, ``autograd.grad`` computes the derivative (building
a graph only when something outside the level can differentiate it), and the results are lowered
(detached unless their graph reaches outside). The transforms therefore compose with each other
and with ordinary ``backward``: ``grad(grad(f))``, ``vjp(grad(f), x)``, ``jacrev(jacrev(f))``.

``jvp`` is forward mode (dual tensors, ``_forward``), re-exported here with the others.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ._forward import jvp  # forward mode: dual tensors
from ._jacobians import hessian, jacfwd, jacrev  # jacrev on make_vjp, jacfwd on jvp
from ._levels import Level
from ._linear_maps import check_argnums, check_outputs, lift_args, make_vjp, split_aux
from ._pytree import tree_flatten, tree_map, tree_unflatten, treespec_pprint

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


# ---- the public transforms -----------------------------------------------------------------------
def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient and the value of a scalar function, as a function (``torch.func.grad_and_value``).

    Parameters
    ----------
    func : callable
        A function of tensors (or pytrees of tensors: tuples, lists, dicts) returning a scalar (0-d)
        tensor, or ``(scalar, aux)`` with ``has_aux=True``.
    argnums : int or tuple of int, default 0
        Which positional argument(s) to differentiate with respect to (negative counts from the
        end).
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; aux is passed through, not differentiated.

    Returns
    -------
    callable
        A function taking ``func``'s arguments and returning ``(gradient, value)``, or
        ``(gradient, (value, aux))`` with ``has_aux=True``; the gradient is shaped like the argument
        (a tuple of those for a tuple ``argnums``).

    Notes
    -----
    One forward pass gives both results (see :func:`grad` for how it composes with other
    transforms). A non-tensor or non-scalar output raises RuntimeError; an input the output does not
    depend on gets a zero gradient.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        who = "grad_and_value(f)(*args)"
        nums = check_argnums(argnums, len(args))
        with Level() as level:
            args, diff = lift_args(level, args, nums)
            output, aux = split_aux(func(*args, **kwargs), has_aux, who)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{who}: Expected f(*args) to return a Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(
                    f"{who}: Expected f(*args) to return a scalar Tensor, got tensor with "
                    f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
                )
            value = level.lower(output)
            if has_aux:
                aux = tree_map(level.lower_aux, aux)
            flat, spec = tree_flatten(diff)
            # the graph is kept: value and aux may share it and be differentiated outside (when
            # nothing outside holds it, it goes away with the level's fresh inputs anyway)
            grads = make_vjp(level, [output], flat)([None])
            gradient = tree_unflatten(grads, spec)
            return (gradient, (value, aux)) if has_aux else (gradient, value)

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function, as a function (``torch.func.grad``).

    Parameters
    ----------
    func : a Python function of tensors (or pytrees of tensors: tuples, lists, dicts) returning a
        scalar (0-d) tensor, or ``(scalar, aux)`` with ``has_aux=True``.
    argnums : which positional argument(s) to differentiate with respect to: an int, or a
        non-empty tuple of ints (negative counts from the end).
    has_aux : ``func`` returns ``(output, aux)``; aux is passed through, not differentiated.

    Returns
    -------
    A function taking ``func``'s arguments and returning the gradient, shaped like the argument
    (a tuple of those for a tuple ``argnums``), and ``(gradient, aux)`` with ``has_aux=True``.

    Notes
    -----
    Composes with the other transforms and with ``backward``: inside an outer transform, or when
    an input (or a tensor ``func`` closes over) requires grad, the gradient stays differentiable
    with respect to it; otherwise the result does not require grad. An input the output does not
    depend on gets a zero gradient.

    Examples
    --------
    >>> d2sin = grad(grad(chainrule.sin))
    >>> d2sin(chainrule.tensor(0.5))   # -sin(0.5)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = gv(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Run ``func(*primals)`` and return ``(output, vjp_fn)`` (``torch.func.vjp``).

    Parameters
    ----------
    func : a function of tensors (pytrees allowed) returning a tensor or a pytree of tensors,
        or ``(output, aux)`` with ``has_aux=True``.
    primals : the arguments; every one is differentiated.
    has_aux : also return the aux part of ``func``'s result, as a third element.

    Returns
    -------
    ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``. ``vjp_fn(cotangents)`` takes a pytree shaped
    like ``output`` and returns a tuple with one entry per primal, ``J^T cotangents`` shaped like
    that primal. It can be called many times (the graph is kept), and it is differentiable:
    inside other transforms, and with respect to a cotangent that requires grad.
    """
    who = "vjp(f, *primals)"
    with Level() as level:
        lifted = [tree_map(level.lift, p) for p in primals]
        output, aux = split_aux(func(*lifted), has_aux, who)
        flat_out, out_spec = tree_flatten(output)
        check_outputs(flat_out, who)
        flat_in, in_spec = tree_flatten(tuple(lifted))
        vjp_flat = make_vjp(level, flat_out, flat_in)
        result = tree_unflatten([level.lower(o) for o in flat_out], out_spec)
        if has_aux:
            aux = tree_map(level.lower_aux, aux)

    def vjp_fn(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None):
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {treespec_pprint(ct_spec)}, primal output: "
                f"{treespec_pprint(out_spec)}"
            )
        return tree_unflatten(vjp_flat(flat_ct, retain_graph, create_graph), in_spec)

    return (result, vjp_fn, aux) if has_aux else (result, vjp_fn)
