"""The pieces that every transform of ``chainrule.func`` is made of: argnums checks, lifting the
differentiated arguments to a level, ``has_aux`` and output checks, and the linear maps
``make_vjp`` (reverse mode; forward mode is in ``_forward``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import ops as _ops
from .._tensor import Tensor
from ..autograd import engine
from ..autograd._tables import FORWARD
from ..autograd.grad_mode import GRAD
from ._levels import Level
from ._pytree import tree_map


# ---- argnums -------------------------------------------------------------------------------------
def _wrap_argnum(argnum: Any, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def check_argnums(argnums: Any, num_args: int) -> int | tuple[int, ...]:
    """``argnums`` validated and made non-negative, with torch's errors."""
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    wrapped = tuple(_wrap_argnum(a, num_args) for a in argnums)
    if not wrapped:
        raise RuntimeError("argnums must be non-empty")
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return wrapped


def lift_args(level: Level, args: tuple, argnums: int | tuple[int, ...]) -> tuple[list, Any]:
    """Replace the differentiated arguments (pytrees of tensors) by the level's fresh vertices.

    Returns the new argument list and the differentiated part: the lifted pytree for an int
    ``argnums``, a tuple of them for a tuple."""
    args = list(args)
    positions = (argnums,) if isinstance(argnums, int) else argnums
    for i in positions:
        args[i] = tree_map(level.lift, args[i])
    diff = args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)
    return args, diff


def split_aux(output: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def check_outputs(flat: list, who: str, floating_only: bool = True) -> None:
    """torch's checks of a function's flattened outputs: tensors, and (``floating_only``, vjp's)
    floating-point or complex ones (jvp gives an integer or bool output a zero tangent)."""
    if len(flat) < 1 or (len(flat) == 1 and flat[0] is None):
        raise RuntimeError(
            f"{who}: Expected f to be a function that has non-empty output (got output = {flat})"
        )
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(
                f"{who}: expected f(*primals) to return only tensors, got unsupported type {type(o)}"
            )
        if floating_only and o._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"{who}: All outputs of f must be floating-point or complex Tensors, "
                f"got Tensor with dtype {o.dtype}"
            )


def _zeros(x: Tensor) -> Tensor:
    return _ops.zeros_like(x)


# ---- the primitive map of a level ---------------------------------------------------------
def make_vjp(level: Level, outputs: list, inputs: list) -> Callable:
    """``vjp_flat(cotangents) -> [J^T c per input]`` for the recorded ``outputs(inputs)``.

    ``cotangents`` is a list with one entry per output (None: ones for a one-element output).
    Outputs that do not require grad contribute nothing; inputs they never reach get zeros.
    """
    diff = [i for i, o in enumerate(outputs) if o._rg]
    forward_escapes = level.escapes([outputs[i] for i in diff])

    def vjp_flat(cotangents: list, retain_graph: bool = True, create_graph: bool | None = None) -> list:
        cts = []
        for k, i in enumerate(diff):
            c = cotangents[i]
            if c is not None and tuple(c.shape) != tuple(outputs[i].shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{k}] has a shape of {c.shape} and "
                    f"output[{k}] has a shape of {outputs[i].shape}."
                )
            cts.append(c)
        if create_graph is None:  # record only what someone outside can differentiate; under
            # forward mode the gradient's ops compute its tangents, so they run on tensors
            create_graph = FORWARD.active or (
                GRAD.enabled and (forward_escapes or any(isinstance(c, Tensor) and c._rg for c in cts))
            )
        grads: Any = [None] * len(inputs)
        if diff:
            grads = engine.grad(
                [outputs[i] for i in diff],
                inputs,
                cts,
                retain_graph=retain_graph,
                create_graph=create_graph,
                allow_unused=True,
            )
        return [_zeros(x) if g is None else level.lower(g) for g, x in zip(grads, inputs)]

    return vjp_flat
