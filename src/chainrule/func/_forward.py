"""Forward mode for ``chainrule.func``: ``jvp`` and ``linearize`` through dual tensors.

Each call opens its own dual level (``autograd.forward_ad.open_level``): the primals become dual
tensors carrying the tangents at that level, the function runs, and the outputs' tangents at
that level are read off before it closes. Every op computes its output's tangent beside its value
(``forward_ad.dual_result``), and a custom ``autograd.Function`` contributes through its ``jvp``
staticmethod, as in ``torch.func``.

Levels nest: a ``jvp`` inside another's function opens an inner level, whose tangents are computed
with the outer level active, so they carry the outer tangents (``jvp`` of ``jvp``, ``jacfwd`` of
``jacfwd``). Reverse mode composes through ordinary graphs: tangents are computed with recorded
differentiable ops (``grad`` of ``jvp``), and the reverse transforms pass dual tensors through
their levels (``jvp`` of ``grad``, see ``_levels``). ``vmap`` over ``jvp`` batches the tangents:
``jacfwd`` pushes the whole standard basis through one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import ops as _ops
from .._tensor import Tensor
from ..autograd.forward_ad import close_level, current_tangent, make_dual_at, open_level
from ._linear_maps import check_outputs, split_aux
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["jvp", "linearize", "check_jvp_args", "dual_call"]

_JVP = "jvp(f, primals, tangents)"


def check_jvp_args(primals: Any, tangents: Any, who: str = _JVP) -> tuple[list, Any, list]:
    """torch's checks of ``jvp``'s primals and tangents; returns ``(flat_primals, spec,
    flat_tangents)``."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{who}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{who}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals with "
            f"structure {p_spec!r} and tangents with structure {t_spec!r}"
        )
    for name, flat in (("primals", flat_p), ("tangents", flat_t)):
        if not flat:
            raise RuntimeError(f"{who}: Expected {name} to contain at least one Tensor.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{who}: Expected {name} to only contain Tensors, got {type(x)}")
    return flat_p, p_spec, flat_t


def dual_call(
    func: Callable, flat_p: list, p_spec: Any, flat_t: list, *, strict: bool, has_aux: bool, who: str = _JVP
) -> tuple[list, Any, list, Any]:
    """Run ``func`` on dual tensors at a fresh level: ``(flat_outputs, out_spec, flat_tangents,
    aux)``, an output that does not depend on the primals getting a zero tangent (an error with
    ``strict``)."""
    level = open_level()
    try:
        duals = [make_dual_at(p, t, level) for p, t in zip(flat_p, flat_t)]
        args = duals if p_spec is None else tree_unflatten(duals, p_spec)  # None: flat arguments
        output, aux = split_aux(func(*args), has_aux, who)
        flat_out, out_spec = tree_flatten(output)
        check_outputs(flat_out, who, floating_only=False)
        tangents_out = [current_tangent(o, level) for o in flat_out]
    finally:
        close_level(level)  # the outputs and aux keep only the tangents of the outer levels
    if has_aux:
        for x in tree_flatten(aux)[0]:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    for k, t in enumerate(tangents_out):
        if t is None:
            if strict:
                raise RuntimeError(
                    f"{who[:-1]}, strict=True): The output of f is independent of the inputs. This "
                    "is not allowed with strict=True."
                )
            tangents_out[k] = _ops.zeros_like(flat_out[k])
    return flat_out, out_spec, tangents_out, aux


def jvp(
    func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False, has_aux: bool = False
) -> tuple:
    """The Jacobian-vector product of ``func`` at ``primals`` along ``tangents``
    (``torch.func.jvp``), by forward-mode AD (module docstring).

    Parameters
    ----------
    func : callable
        A function of tensors returning a tensor or a pytree of tensors (``(output, aux)`` with
        ``has_aux=True``).
    primals : tuple
        The arguments (pytrees of floating-point tensors allowed).
    tangents : tuple
        The direction: the same structure and shapes as ``primals``.
    strict : bool, default False
        Raise when an output does not depend on the primals (instead of a zero tangent).
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; aux is returned as a third element.

    Returns
    -------
    tuple
        ``(output, jvp_out)`` (``(output, jvp_out, aux)`` with ``has_aux``); ``jvp_out`` is shaped
        like ``output``.

    Notes
    -----
    A custom ``autograd.Function`` on the path must define ``jvp`` (torch's error otherwise).
    Results are ordinary tensors: differentiable by reverse mode when they depend on something
    that requires grad (``grad`` of ``jvp``), and batched under ``vmap``.
    """
    flat_p, p_spec, flat_t = check_jvp_args(primals, tangents)
    flat_out, out_spec, tangents_out, aux = dual_call(
        func, flat_p, p_spec, flat_t, strict=strict, has_aux=has_aux
    )
    result = tree_unflatten(flat_out, out_spec)
    jvp_out = tree_unflatten(tangents_out, out_spec)
    return (result, jvp_out, aux) if has_aux else (result, jvp_out)


def linearize(func: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(func(*primals), jvp_fn)`` (``torch.func.linearize``): ``jvp_fn(*tangents)`` is the
    Jacobian-vector product at ``primals``.

    Parameters
    ----------
    func : callable
        A function of tensors returning a tensor or a pytree of tensors.
    primals : the arguments (pytrees of tensors allowed).

    Returns
    -------
    tuple
        ``(output, jvp_fn)``; ``jvp_fn`` takes tangents with the structure, shapes and dtypes of
        ``primals`` and returns a pytree shaped like ``output``.

    Notes
    -----
    torch traces ``func`` once; here each ``jvp_fn`` call runs ``func`` again in forward mode
    (same numbers, one forward pass per call).
    """
    flat_p, p_spec = tree_flatten(primals)
    output = func(*primals)
    flat_out, _ = tree_flatten(output)
    check_outputs(flat_out, "linearize")
    output = tree_unflatten([o.detach() for o in flat_out], tree_flatten(output)[1])

    def jvp_fn(*tangents: Any) -> Any:
        flat_t, t_spec = tree_flatten(tangents)
        if t_spec != p_spec:
            raise RuntimeError(
                f"Expected the tangents {t_spec!r} to have the same argspec as the primals {p_spec!r}"
            )
        for k, (p, t) in enumerate(zip(flat_p, flat_t)):
            if not isinstance(t, Tensor):
                raise RuntimeError(f"tangent:{k}: expected a Tensor, got {type(t)}")
            if tuple(t.shape) != tuple(p.shape):
                raise RuntimeError(
                    f"tangent:{k} with shape {t.shape} in flattened pytree doesn't match the shape "
                    f"{p.shape} of the corresponding primal."
                )
            if t.dtype != p.dtype:
                raise RuntimeError(
                    f"tangent:{k} with dtype {t.dtype} in flattened pytree doesn't match the dtype "
                    f"{p.dtype} of the corresponding primal."
                )
        return jvp(func, tuple(primals), tuple(tangents))[1]

    return output, jvp_fn
