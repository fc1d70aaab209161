"""``jacrev``, ``jacfwd`` and ``hessian``, and the batched step they share.

A Jacobian is a linear map applied to a standard basis: its rows are vector-Jacobian products with
the output basis vectors (``jacrev``), its columns Jacobian-vector products with the input basis
vectors (``jacfwd``, forward mode through dual tensors, ``_forward``). Both go through
``batched_vjp``, the one place where a linear map meets a batch of basis vectors: with
``chainrule.func.vmap`` available it is ``vmap(fn)(basis)`` (one batched backward pass), else a
loop of ordinary backward passes over the retained graph; the two give the same numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops as _ops
from .._tensor import Tensor, wrap
from ._forward import dual_call
from ._levels import Level, check_tensor
from ._linear_maps import check_argnums, check_outputs, lift_args, make_vjp, split_aux
from ._pytree import tree_flatten, tree_map, tree_unflatten
from .vmap import vmap

__all__ = ["jacrev", "jacfwd", "hessian", "batched_vjp", "standard_basis"]

_RANDOMNESS = ("error", "different", "same")

#: jacrev / jacfwd batch their basis through vmap; False always loops (the tests run both paths
#: and compare them)
VECTORIZE = True


def batched_vjp(
    fn: Callable,
    basis: list,
    chunk_size: int | None = None,
    vectorize: bool = True,
    randomness: str = "error",
) -> list:
    """Apply the linear map ``fn`` to every row of a batch: the batched step of every Jacobian.

    Parameters
    ----------
    fn : maps a list of tensors (one batch row of each basis tensor) to a list of tensors; a
        vjp or jvp function over a retained graph, so it may run many times.
    basis : tensors of equal leading size ``n`` (the batch).
    chunk_size : at most this many rows per batched call (None: all at once).
    vectorize : batch with ``chainrule.func.vmap``; False loops over the rows.
    randomness : ``vmap``'s, for random ops inside ``fn``.

    Returns
    -------
    One tensor per output of ``fn``, of shape ``(n, *output_shape)``.
    """
    n = basis[0].shape[0]
    size = n if chunk_size is None else chunk_size
    pieces = []
    for start in range(0, n, max(size, 1)):
        chunk = [b[start : start + size] for b in basis]
        if vectorize:
            out = list(vmap(lambda *rows: tuple(fn(list(rows))), randomness=randomness)(*chunk))
        else:
            per_row = [fn([b[i] for b in chunk]) for i in range(chunk[0].shape[0])]
            out = [_ops.stack([r[k] for r in per_row]) for k in range(len(per_row[0]))]
        pieces.append(out)
    if len(pieces) == 1:
        return pieces[0]
    return [_ops.cat([p[k] for p in pieces]) for k in range(len(pieces[0]))]


def standard_basis(tensors: list) -> list:
    """The identity, split by tensor: for sizes ``n_i`` (total ``N``), tensor ``i`` gets an
    ``(N, *shape_i)`` block whose rows ``offset_i ... offset_i + n_i`` are its basis vectors."""
    sizes = [int(t.numel()) for t in tensors]
    total = sum(sizes)
    basis, offset = [], 0
    for t, k in zip(tensors, sizes):
        block = np.zeros((total, k), dtype=t._data.dtype)
        block[np.arange(offset, offset + k), np.arange(k)] = 1
        basis.append(wrap(block.reshape((total, *t.shape))))
        offset += k
    return basis


def _split(batched: Tensor, sizes: list) -> list:
    """Rows of a batched result, cut into consecutive pieces of the given sizes."""
    if len(sizes) == 1:
        return [batched]  # one piece: no slicing op recorded (it would be differentiated again)
    out, offset = [], 0
    for k in sizes:
        out.append(batched[offset : offset + k])
        offset += k
    return out


def _run_at_level(
    level: Level, func: Callable, args: tuple, kwargs: dict, nums, has_aux: bool, who: str
) -> tuple:
    """jacrev's and jacfwd's shared first step: run ``func`` on the level's fresh inputs and
    flatten what the Jacobian relates: ``(flat_out, out_spec, flat_in, in_spec, aux)``."""
    args, diff = lift_args(level, args, nums)
    output, aux = split_aux(func(*args, **kwargs), has_aux, who)
    flat_out, out_spec = tree_flatten(output)
    check_outputs(flat_out, who)
    flat_in, in_spec = tree_flatten(diff)
    if has_aux:
        aux = tree_map(level.lower_aux, aux)
    return flat_out, out_spec, flat_in, in_spec, aux


def jacrev(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    """The Jacobian of ``func`` by reverse mode: one vjp per output element (``torch.func.jacrev``).

    Parameters
    ----------
    func : a function of tensors (pytrees allowed) returning a tensor or a pytree of tensors
        (``(output, aux)`` with ``has_aux=True``).
    argnums : the argument(s) to differentiate with respect to: an int or a tuple of ints.
    has_aux : return ``(jacobian, aux)``.
    chunk_size : compute at most this many rows per batched step (memory against speed).
    _preallocate_and_copy : accepted for compatibility with torch; no effect.

    Returns
    -------
    A function giving the Jacobian: for each output leaf (in ``func``'s output structure), the
    structure of the differentiated argument(s) (a tuple for a tuple ``argnums``) with tensors of
    shape ``output.shape + input.shape``.
    """
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    who = "vjp(f, *primals)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = check_argnums(argnums, len(args))
        with Level() as level:
            flat_out, out_spec, flat_in, in_spec, aux = _run_at_level(
                level, func, args, kwargs, nums, has_aux, who
            )
            basis = standard_basis(flat_out)
            sizes = [int(o.numel()) for o in flat_out]
            if sum(sizes) == 0:
                rows = [_ops.zeros((0, *x.shape), dtype=x.dtype) for x in flat_in]
            else:
                rows = batched_vjp(make_vjp(level, flat_out, flat_in), basis, chunk_size, VECTORIZE)
            per_input = [_split(r, sizes) for r in rows]
            jac = [
                tree_unflatten(
                    [per_input[j][i].reshape((*o.shape, *x.shape)) for j, x in enumerate(flat_in)], in_spec
                )
                for i, o in enumerate(flat_out)
            ]
            result = tree_unflatten(jac, out_spec)
            return (result, aux) if has_aux else result

    return wrapper


def jacfwd(
    func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *, randomness: str = "error"
) -> Callable:
    """The Jacobian of ``func`` column by column (``torch.func.jacfwd``): forward mode (``jvp``
    through dual tensors) along every standard basis vector of the input, all in one ``vmap``.

    Parameters
    ----------
    func, argnums, has_aux : as for ``jacrev``.
    randomness : ``'error'``, ``'different'`` or ``'same'``: what random ops inside ``func`` do
        under the ``vmap`` over the basis, as for ``vmap``.

    Returns
    -------
    A function giving the Jacobian, structured and shaped as ``jacrev``'s.
    """
    who = "jvp(f, primals, tangents)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if randomness not in _RANDOMNESS:  # checked when called, as torch does
            raise RuntimeError(
                f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}"
            )
        nums = check_argnums(argnums, len(args))
        positions = (nums,) if isinstance(nums, int) else nums
        diff = args[nums] if isinstance(nums, int) else tuple(args[i] for i in nums)
        flat_in, in_spec = tree_flatten(tree_map(check_tensor, diff))

        def on_flat(*flat: Tensor) -> Any:
            new = list(args)
            part = tree_unflatten(list(flat), in_spec)
            for k, i in enumerate(positions):
                new[i] = part if isinstance(nums, int) else part[k]
            return func(*new, **kwargs)

        sizes = [int(x.numel()) for x in flat_in]
        seen: list = []  # the first call's (flat outputs, out_spec, aux)

        def push(rows: list) -> list:
            flat_out, out_spec, tangents, aux = dual_call(
                on_flat, flat_in, None, rows, strict=False, has_aux=has_aux, who=who
            )
            if not seen:
                seen.append((flat_out, out_spec, aux))
            return tangents

        if sum(sizes) == 0:  # nothing to push: the outputs alone give the shapes
            output, aux = split_aux(on_flat(*flat_in), has_aux, who)
            flat_out, out_spec = tree_flatten(output)
            check_outputs(flat_out, who)
            cols = [_ops.zeros((0, *o.shape), dtype=o.dtype) for o in flat_out]
        else:
            cols = batched_vjp(push, standard_basis(flat_in), None, VECTORIZE, randomness)
            flat_out, out_spec, aux = seen[0]
        per_output = [_split(c, sizes) for c in cols]
        jac = []
        for i, c in enumerate(cols):
            out_shape = tuple(c.shape[1:])
            blocks = []
            for j, x in enumerate(flat_in):
                # (n_j, *out_shape), one column per row: transposed to (n_out, n_j)
                block = per_output[i][j].reshape((sizes[j], int(np.prod(out_shape)))).transpose(0, 1)
                blocks.append(block.reshape((*out_shape, *x.shape)))
            jac.append(tree_unflatten(blocks, in_spec))
        result = tree_unflatten(jac, out_spec)
        return (result, aux) if has_aux else result

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of a scalar function, as a function (``torch.func.hessian``).

    Parameters
    ----------
    func : callable
        A function of tensors (pytrees allowed) returning a scalar tensor.
    argnums : int or tuple of int, default 0
        The argument(s) to differentiate with respect to.

    Returns
    -------
    callable
        A function taking ``func``'s arguments and returning the Hessian: for argument shapes ``a``
        and ``b``, a tensor of shape ``a + b`` (nested tuples, one level per argument, for a tuple
        ``argnums``).

    Notes
    -----
    Computed as ``jacfwd(jacrev(func, argnums), argnums)``, as torch does. A non-scalar ``func``
    gives the Jacobian of its Jacobian (shape ``output.shape + a + b``). Where ``func`` is not twice
    differentiable the result is what the ops' second derivatives give (e.g. 0 for ``relu``).
    """
    return jacfwd(jacrev(func, argnums), argnums)
