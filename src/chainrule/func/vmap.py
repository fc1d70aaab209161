"""``chainrule.func.vmap``: the vectorizing map, with torch.func.vmap's signature and semantics.

``vmap(f)(x)`` calls ``f`` ONCE, on tensors whose arrays are ``BatchedArray``s (``_batched.py``):
every NumPy call the ops make dispatches to a batching rule that computes the whole batch in one
NumPy call. The ops' derivative rules are NumPy code too, so gradients taken inside ``f``
(per-sample gradients) and backward through ``vmap`` from outside both work unchanged.

At the boundary two differentiable ops add and remove the batch dim (``_add_batch_dim`` and
``_remove_batch_dim``, each the other's derivative), so ``y = vmap(f)(x); y.sum().backward()``
reaches ``x.grad``, to any order.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from .. import _random
from .._record import make_result
from .._tensor import Tensor
from ..autograd.graph import Node, defop
from ..autograd.math import ARRAY_MATH, register, tensor_math
from ..ops.join import cat

# the rule modules register themselves in _batched's tables and with chainrule.backend as they load
from . import (  # noqa: F401
    _batched_namespace,
    _batching_index,
    _batching_linalg,
    _batching_nn,
    _batching_random,
    _batching_rules,
    _batching_shape,
    _batching_ufunc,
)
from ._batched import BatchedArray, add_batch_dim, remove_batch_dim
from ._batched_namespace import BATCHED
from ._pytree import broadcast_to_and_flatten, tree_flatten, tree_unflatten

__all__ = ["vmap"]

#: every vmap call gets a fresh level, larger than all levels alive (so inner > outer)
_LEVELS = itertools.count(1)


# ---- the boundary ops ----------------------------------------------------------------------------
@defop("_add_batch_dim", saves_inputs=False, formula="{g0} = {gy} with the batch dim moved back")
def _add_batch_dim_rule(F, g, xs, out, p, needs):
    dim, level, size = p
    return (F.remove_batch_dim(g, level, size, dim),)


@defop(
    "_remove_batch_dim",
    saves_inputs=False,
    formula="{g0} = {gy} batched (summed over the batch where {x0} was not batched)",
)
def _remove_batch_dim_rule(F, g, xs, out, p, needs):
    level, size, dim, was_batched = p
    if not was_batched:  # the forward expanded x over the batch: its adjoint sums
        return (F.sum(g, dim),)
    return (F.add_batch_dim(g, dim, level, size),)


def _add_batch_dim(x: Tensor, dim: int, level: int, size: int) -> Tensor:
    """``x`` with logical dim ``dim`` made the batch dim of ``level`` (a view: in-place writes show)."""
    t = make_result(add_batch_dim(x._data, dim, level), _add_batch_dim_rule, (x,), (dim, level, size))
    t._vc = x._shared_vc()
    return t


def _is_batched_at(value, level: int) -> bool:
    while type(value) is BatchedArray and value._level >= level:
        if value._level == level:
            return True
        value = value._p
    return False


def _remove_batch_dim(t: Tensor, level: int, size: int, dim: int) -> Tensor:
    """The batch of ``level`` as a plain dim ``dim`` of the result (expanded if ``t`` lacks it)."""
    was = _is_batched_at(t._data, level)
    return make_result(
        remove_batch_dim(t._data, level, size, dim), _remove_batch_dim_rule, (t,), (level, size, dim, was)
    )


def _levels(value) -> frozenset:
    """The vmap levels ``value`` is batched at."""
    if type(value) is not BatchedArray:
        return _NO_LEVELS
    levels = set()
    while type(value) is BatchedArray:
        levels.add(value._level)
        value = value._p
    return frozenset(levels)


_NO_LEVELS: frozenset = frozenset()


def _finished_batches(data, batched_at) -> list:
    """``(level, size)`` of each batch of the gradient array ``data`` that is to be summed: a
    level the tensor is not batched at (not in ``batched_at``), whose vmap call has returned."""
    active = {level for level, _, _ in _batching_random.ACTIVE}
    finished = []
    while type(data) is BatchedArray:
        if data._level not in batched_at and data._level not in active:
            finished.append((data._level, data._b))
        data = data._p
    return finished


def _sum_batches(F, g, batches: list):
    for level, size in batches:
        g = F.sum(F.remove_batch_dim(g, level, size, 0), 0)
    return g


# ---- shared inputs: a gradient summed over the batch on its way to the tensor -------------------
@defop(
    "_shared_by_batch",
    saves_inputs=False,
    formula="{g0} = {gy} summed over the batch of each vmap that has returned and did not vary {x0}",
)
def _shared_by_batch_rule(F, g, xs, out, p, needs):
    (batched_at,) = p
    data = g._data if F.is_tensor else g
    if type(data) is not BatchedArray:
        return (g,)
    return (_sum_batches(F, g, _finished_batches(data, batched_at)),)


_shared_by_batch_rule.same_shape = True  # the summed gradient has the tensor's (logical) shape


def route_shared_inputs(node: Node, inputs: tuple, data) -> None:
    """The backend's ``recorded`` for batched results: the gradient of each input that a batch of
    the result does not vary (a tensor shared by the samples: passed with in_dim None, closed
    over, or computed from such tensors inside ``f``) goes through a ``_shared_by_batch`` node.

    Why: an op of a batched result computes one gradient per sample for such an input (``b * a``
    gives ``g * b``, batched). While the vmap runs (``autograd.grad`` inside ``f``) that is the
    answer: one gradient per sample. Once it has returned, the input's gradient is their sum; the
    node sums right there, before the gradient meets the input's other gradients (a path that
    does not go through the batch, ``a * 2`` returned by ``f``, or ``a`` used outside ``vmap``),
    which are totals already: adding a per-sample gradient to a total would count the total once
    per sample.
    """
    if node.op is _add_batch_dim_rule:  # its rule moves the batch back to a plain dim itself
        return
    out_levels = _levels(data)
    edges = node.edges
    routed = None
    for i, x in enumerate(inputs):
        edge = edges[i]
        if edge is None or (type(edge) is Node and edge.op is _shared_by_batch_rule):
            continue  # a constant, or routed already (an op with several results)
        batched_at = _levels(x._data)
        if out_levels <= batched_at:
            continue
        if routed is None:
            routed = list(edges)
        routed[i] = Node(_shared_by_batch_rule, (x,), None, (batched_at,), None, None, edges=(edge,))
    if routed is not None:
        node.edges = tuple(routed)


def leaf_grad(g, xd, into_grad: bool = False):
    """The gradient ``g`` of a tensor whose data is ``xd``, once backward has finished with it.

    A gradient batched at a vmap level whose call has returned (backward through ``vmap(f)(x)``
    from outside), for a tensor that is not batched at that level (a tensor ``f`` shared by all
    samples: closed over, or passed with in_dim None), is summed over that batch: the tensor fed
    every sample (``_shared_by_batch`` nodes sum such gradients on their way already; this is the
    last line, for nodes that did not pass through ``recorded``). While the vmap runs
    (``autograd.grad`` inside ``f``) the gradient stays batched: one per sample; ``.grad``
    (``into_grad``, from ``backward()``) cannot hold that for a shared tensor, which raises as in
    torch. ``g`` is an array, or a tensor when the backward builds a graph.
    """
    data = g._data if isinstance(g, Tensor) else g
    batched_at = _levels(xd)
    if into_grad:
        active = {level for level, _, _ in _batching_random.ACTIVE}
        level_data = data
        while type(level_data) is BatchedArray:
            if level_data._level in active and level_data._level not in batched_at:
                raise RuntimeError(
                    "backward() called inside a functorch transform (vmap) for a tensor that is "
                    "shared by the samples: its .grad would need one gradient per sample. Use "
                    "chainrule.autograd.grad or chainrule.func.grad inside vmap, or call backward() "
                    "outside of vmap."
                )
            level_data = level_data._p
    finished = _finished_batches(data, batched_at)
    if not finished:
        return g
    return _sum_batches(tensor_math() if isinstance(g, Tensor) else ARRAY_MATH, g, finished)


# the backend's hooks for batched arrays (chainrule.backend.finished_grad and .recorded): the
# engine calls finished_grad on every finished gradient of another array type; recording an op
# with a batched result calls recorded
BATCHED.finished_grad = leaf_grad
BATCHED.recorded = route_shared_inputs


# ---- argument checking, as torch words it --------------------------------------------------------
def _name(func) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return repr(func)


def _process_inputs(in_dims, args: tuple, func) -> tuple[int, list, list, Any]:
    if not isinstance(in_dims, int) and not isinstance(in_dims, tuple):
        raise ValueError(
            f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or "
            f"a (potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    if len(args) == 0:
        raise ValueError(
            f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
            "are trying to vmap over a function with no inputs. The latter is unsupported."
        )
    flat_args, spec = tree_flatten(args)
    flat_in_dims = broadcast_to_and_flatten(in_dims, spec)
    if flat_in_dims is None:
        raise ValueError(
            f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
            f"the structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
            f"structure {spec}."
        )
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if in_dim is not None and (not isinstance(in_dim, int) or isinstance(in_dim, bool)):
            raise ValueError(
                f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an "
                "input but in_dim must be either an integer dimension or None."
            )
        if in_dim is not None and not isinstance(arg, Tensor):
            raise ValueError(
                f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an "
                f"input but the input is of type {type(arg)}. We cannot vmap over non-Tensor "
                "arguments, please use None as the respective in_dim"
            )
        if in_dim is not None:
            nd = arg.dim()
            if not -nd <= in_dim < nd:
                raise ValueError(
                    f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for "
                    f"some input, but that input is a Tensor of dimensionality {nd} so expected in_dim "
                    f"to satisfy -{nd} <= in_dim < {nd}."
                )
            flat_in_dims[i] = in_dim % nd
    sizes = [arg.shape[d] for d, arg in zip(flat_in_dims, flat_args) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension"
        )
    return sizes[0], flat_in_dims, flat_args, spec


def _check_out_dims(out_dims, func) -> None:
    if isinstance(out_dims, int):
        return
    leaves, _ = tree_flatten(out_dims)
    for d in leaves:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(
                f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
                "python collection of ints representing where in the outputs the vmapped dimension "
                "should appear."
            )


def _flat_out_dims(outputs, out_dims, spec, func) -> list:
    """One out_dim per output leaf (torch's rules, with its edge case for a single tensor)."""
    if isinstance(outputs, Tensor):  # a single tensor takes out_dims=(d,) too
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None
    else:
        flat = broadcast_to_and_flatten(out_dims, spec)
    if flat is None:
        raise ValueError(
            f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
            f"the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs has "
            f"structure {spec}."
        )
    return flat


def _unwrap_outputs(outputs, out_dims, level: int, size: int, func) -> Any:
    flat, spec = tree_flatten(outputs)
    flat_dims = _flat_out_dims(outputs, out_dims, spec, func)
    name = _name(func)
    result = []
    for out, d in zip(flat, flat_dims):
        if d is None:
            if isinstance(out, Tensor) and _is_batched_at(out._data, level):
                raise ValueError(
                    f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None"
                )
            result.append(out)
            continue
        if not isinstance(out, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(out)}. Did you "
                "mean to set out_dims= to None for output?"
            )
        nd = out.dim() + 1
        if not -nd <= d < nd:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {d})"
            )
        result.append(_remove_batch_dim(out, level, size, d % nd))
    return tree_unflatten(result, spec)


# ---- vmap ----------------------------------------------------------------------------------------
def _flat_vmap(
    func, size: int, flat_in_dims: list, flat_args: list, spec, out_dims, randomness: str, kwargs: dict
) -> Any:
    level = next(_LEVELS)
    _batching_random.push(level, size, randomness)
    try:
        batched = [
            arg if d is None else _add_batch_dim(arg, d, level, size)
            for d, arg in zip(flat_in_dims, flat_args)
        ]
        outputs = func(*tree_unflatten(batched, spec), **kwargs)
        return _unwrap_outputs(outputs, out_dims, level, size, func)
    finally:
        _batching_random.pop()


def _chunked_vmap(
    func,
    size: int,
    flat_in_dims: list,
    flat_args: list,
    spec,
    out_dims,
    randomness: str,
    chunk_size: int,
    kwargs: dict,
) -> Any:
    """vmap ``chunk_size`` samples at a time and concatenate the outputs along their out_dims."""
    state = _random.default_generator._rng.bit_generator.state if randomness == "same" else None
    chunks = []
    for start in range(0, size, chunk_size):
        stop = min(start + chunk_size, size)
        args = [
            a if d is None else a[(slice(None),) * d + (slice(start, stop),)]
            for d, a in zip(flat_in_dims, flat_args)
        ]
        if state is not None:  # every chunk draws the same numbers, as one vmap would
            _random.default_generator._rng.bit_generator.state = state
        chunks.append(_flat_vmap(func, stop - start, flat_in_dims, args, spec, out_dims, randomness, kwargs))
    flat_chunks = [tree_flatten(c)[0] for c in chunks]
    out_spec = tree_flatten(chunks[0])[1]
    flat_dims = _flat_out_dims(chunks[0], out_dims, out_spec, func)
    merged = []
    for k, d in enumerate(flat_dims):
        parts = [fc[k] for fc in flat_chunks]
        if d is None:
            merged.append(parts[0])
        else:
            nd = parts[0].dim()
            merged.append(cat(parts, dim=d % nd))
    return tree_unflatten(merged, out_spec)


def vmap(
    func: Callable, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size: int | None = None
) -> Callable:
    """Vectorize ``func`` over a dim of its inputs (``torch.func.vmap``).

    Parameters
    ----------
    func : a function of tensors (and other values) returning a tensor or a pytree (tuple, list,
        dict) of tensors.
    in_dims : the dim of each input to map over: an int for all, or a tuple with one entry per
        positional argument (nested like the argument for lists, tuples and dicts); None for
        an input that is not mapped over (and for non-tensor inputs). Negative dims count from
        the end.
    out_dims : where the mapped dim goes in each output: an int, or a pytree matching the output;
        None for an output that does not depend on the mapped inputs.
    randomness : 'error' (random ops inside ``func`` raise), 'different' (each sample draws its
        own numbers) or 'same' (one draw shared by the whole batch).
    chunk_size : map this many samples at a time (less memory); None maps all at once.

    Returns
    -------
    The batched function: it takes ``func``'s arguments with the extra dims and returns its
    outputs with the mapped dim at ``out_dims``. Keyword arguments are passed through unmapped.

    Notes
    -----
    ``func`` runs once, on batched tensors: each op computes the whole batch in one NumPy call.
    Data-dependent Python control flow on a batched value (``if x.sum() > 0``, ``x.item()``)
    raises, as in torch. NumPy functions without a batching rule run once per sample with a
    one-time warning.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}"
        )
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        _check_out_dims(out_dims, func)
        size, flat_in_dims, flat_args, spec = _process_inputs(in_dims, args, func)
        if chunk_size is not None and chunk_size < size:
            return _chunked_vmap(
                func, size, flat_in_dims, flat_args, spec, out_dims, randomness, chunk_size, kwargs
            )
        return _flat_vmap(func, size, flat_in_dims, flat_args, spec, out_dims, randomness, kwargs)

    return wrapped


# vmap's boundary ops, for the rules of _add_batch_dim/_remove_batch_dim (registered from here:
# the math interface below knows nothing of vmap)
register("add_batch_dim", lambda x, dim, level, size: add_batch_dim(x, dim, level), _add_batch_dim)
register("remove_batch_dim", remove_batch_dim, _remove_batch_dim)
