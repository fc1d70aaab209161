"""``torch.func.rearrange``: einops-style reordering of a tensor's dims by a pattern such as
``"b c h w -> b (c h w)"``, composed from ``reshape``, ``sum`` and ``permute`` (so it is
differentiable, and a view where reshape gives one).

A pattern is parsed once per string into its two sides; the sizes are then resolved against the
tensor's shape and the given ``axes_lengths``. Parsing follows torch's (einops') rules and
messages: one ``->``, identifiers that are Python names not starting or ending with ``_``, one
level of parentheses, at most one ``...`` (not parenthesised on the left), unnamed axes only of
size 1 (``1`` or ``()``), and the same identifiers on both sides. As in torch, a ``1`` or ``()`` on
the left matches any size and that dim is summed over (for a size-1 dim: dropped), which also
makes the result's integer dtype int64 as ``sum``'s.
"""

from __future__ import annotations

import functools
import keyword
import math
import warnings
from dataclasses import dataclass, field

from ..ops import permute, reshape, stack
from ..ops import sum as _sum
from ..ops._common import Tensor, as_tensor

__all__ = ["rearrange", "DimensionBindError"]

_ELLIPSIS = "\u2026"  # one character for "...", so the parser reads it as an identifier


class DimensionBindError(Exception):
    """The sizes of a pattern's axes do not fit the tensor's shape (torch raises functorch.dim's
    exception of this name, a plain Exception)."""


@dataclass
class _Side:
    """One side of a pattern: ``groups`` in order, each a list of identifiers (a bare axis is a
    group of one; ``[]`` is a unit axis ``1`` / ``()``), or the string ``_ELLIPSIS`` for a bare
    ``...``; a parenthesised ``...`` is the identifier ``_ELLIPSIS`` inside a group."""

    groups: list = field(default_factory=list)
    identifiers: set = field(default_factory=set)
    has_ellipsis: bool = False
    ellipsis_in_group: bool = False
    non_unit_numbers: bool = False


def _check_axis_name(name: str) -> None:
    if not name.isidentifier():
        raise ValueError(f"Invalid axis identifier: {name}\nnot a valid python identifier")
    if name[0] == "_" or name[-1] == "_":
        raise ValueError(
            f"Invalid axis identifier: {name}\naxis name should should not start or end with underscore"
        )
    if keyword.iskeyword(name):
        warnings.warn(f"It is discouraged to use axes names that are keywords: {name}", RuntimeWarning, 4)
    if name == "axis":
        warnings.warn(
            "It is discouraged to use 'axis' as an axis name and will raise an error in future",
            FutureWarning,
            4,
        )


def _parse_side(expression: str) -> _Side:
    side = _Side()
    if "." in expression:
        if "..." not in expression:
            raise ValueError("Expression may contain dots only inside ellipsis (...)")
        if expression.count("...") != 1 or expression.count(".") != 3:
            raise ValueError(
                "Expression may contain dots only inside ellipsis (...); only one ellipsis for tensor "
            )
        expression = expression.replace("...", _ELLIPSIS)
        side.has_ellipsis = True
    group: list | None = None  # the open parenthesised group

    def add(token: str) -> None:
        if token in side.identifiers:
            raise ValueError(f"Indexing expression contains duplicate dimension '{token}'")
        if token == _ELLIPSIS:
            side.identifiers.add(token)
            if group is None:
                side.groups.append(_ELLIPSIS)
            else:
                group.append(_ELLIPSIS)
                side.ellipsis_in_group = True
            return
        if token.isdecimal():
            value = int(token)
            if value == 1:  # a unit axis; inside parentheses it changes nothing
                if group is None:
                    side.groups.append([])
                return
            if value < 1:
                raise ValueError(f"Anonymous axis should have positive length, not {value}")
            side.non_unit_numbers = True  # (refused by rearrange once both sides are read)
            return
        _check_axis_name(token)
        side.identifiers.add(token)
        if group is None:
            side.groups.append([token])
        else:
            group.append(token)

    token = None
    for char in expression:
        if char in "() ":
            if token is not None:
                add(token)
            token = None
            if char == "(":
                if group is not None:
                    raise ValueError("Axis composition is one-level (brackets inside brackets not allowed)")
                group = []
            elif char == ")":
                if group is None:
                    raise ValueError("Brackets are not balanced")
                side.groups.append(group)
                group = None
        elif char.isalnum() or char in ("_", _ELLIPSIS):
            token = char if token is None else token + char
        else:
            raise ValueError(f"Unknown character '{char}'")
    if group is not None:
        raise ValueError(f"Imbalanced parentheses in expression: '{expression}'")
    if token is not None:
        add(token)
    return side


@functools.lru_cache(256)
def _parse(pattern: str) -> tuple[_Side, _Side]:
    parts = pattern.split("->")
    if len(parts) != 2:
        raise ValueError("Pattern must contain a single '->' separator")
    left, right = _parse_side(parts[0]), _parse_side(parts[1])
    if not left.has_ellipsis and right.has_ellipsis:
        raise ValueError(f"Ellipsis found in right side, but not left side of a pattern {pattern}")
    if left.has_ellipsis and left.ellipsis_in_group:
        raise ValueError(f"Ellipsis is parenthesis in the left side is not allowed: {pattern}")
    if left.non_unit_numbers or right.non_unit_numbers:
        raise ValueError("rearrange only supports unnamed axes of size 1")
    return left, right


def _validate(left: _Side, right: _Side, axes_lengths: dict) -> None:
    if _ELLIPSIS in axes_lengths:
        raise ValueError(f"'{_ELLIPSIS}' is not an allowed axis identifier")
    for length in axes_lengths.values():
        if type(length) is not int:
            raise TypeError(f"rearrange axis lengths must be integers, got: {type(length)}")
    difference = left.identifiers ^ right.identifiers
    if difference:
        raise ValueError(
            f"Identifiers only on one side of rearrange expression (should be on both): {difference}"
        )
    unmatched = axes_lengths.keys() - left.identifiers
    if unmatched:
        raise ValueError(f"Identifiers not found in rearrange expression: {unmatched}")


def _group_sizes(names: list, size: int, axes_lengths: dict) -> list[int]:
    """The sizes of the axes ``names`` that compose one dim of ``size``: given ones, and at most
    one inferred."""
    unknown = [n for n in names if n not in axes_lengths]
    known = math.prod(axes_lengths[n] for n in names if n in axes_lengths)
    if len(unknown) > 1:
        raise DimensionBindError(
            f"cannot infer the sizes of two dimensions at once {unknown[0]} and {unknown[1]}; give "
            f"their lengths, e.g. rearrange(x, pattern, {unknown[0]}=...)"
        )
    if unknown:
        if size % known:  # (a given length of 0 raises ZeroDivisionError here, as in torch)
            raise DimensionBindError(
                f"inferred dimension does not evenly fit into larger dimension: {size} vs "
                f"({', '.join(str(axes_lengths[n]) if n in axes_lengths else repr('?') for n in names)})"
            )
        inferred = size // known
        return [axes_lengths[n] if n in axes_lengths else inferred for n in names]
    if known != size:
        raise DimensionBindError(
            f"Dimension sizes to do not match ({size} != {known}) when matching dimension pack "
            f"({', '.join(names)}): the tensor's dim has size {size}"
        )
    return [axes_lengths[n] for n in names]


def rearrange(tensor, pattern: str, **axes_lengths: int) -> Tensor:
    """Reorder, merge, split, add and drop dims by an einops pattern (``torch.func.rearrange``).

    Parameters
    ----------
    tensor : Tensor, or a list/tuple of tensors (stacked along a new first dim)
    pattern : str
        ``"<left> -> <right>"``: each side names the dims, ``(a b)`` for a dim composed of axes
        ``a`` and ``b`` (row-major), ``...`` for any number of dims, ``1`` or ``()`` for a unit dim.
    **axes_lengths : int
        Lengths of axes that a composed dim on the left cannot infer (``b1=2``).

    Returns
    -------
    Tensor
        e.g. ``rearrange(x, "b c h w -> b (c h w)")`` flattens, ``"b (h1 h) w -> (b h1) h w"`` with
        ``h1=2`` splits. Differentiable; a view where ``reshape`` gives one.

    Raises
    ------
    ValueError for malformed patterns, TypeError for non-int lengths, ``DimensionBindError`` when
    the sizes do not fit the tensor's shape (all as torch).
    """
    if not isinstance(tensor, Tensor):
        tensor = stack(tensor) if isinstance(tensor, list | tuple) else as_tensor(tensor, "rearrange")
    left, right = _parse(pattern)
    _validate(left, right, axes_lengths)
    ndim = tensor.ndim
    n_unit = sum(1 for g in left.groups if isinstance(g, list) and not g)
    if left.has_ellipsis:
        n_ellipsis = ndim - (len(left.groups) - 1)
        n_named = len(left.identifiers) - 1
        if n_unit + n_named > ndim:
            raise ValueError(
                f"Number of dimensions in pattern ({n_unit + n_named}) must be less than or equal to "
                f"the number of dimensions in the tensor ({ndim})"
            )
    else:
        n_ellipsis = 0
        if len(left.groups) != ndim:
            raise ValueError(
                f"Number of dimensions in pattern ({len(left.groups)}) must be equal to the number of "
                f"dimensions in the tensor ({ndim})"
            )
        n_named = len(left.identifiers)
    if n_named + n_ellipsis + n_unit == 0:
        return tensor  # an identity on a 0-d tensor (torch returns the tensor itself)

    # the left side's elementary axes and their sizes
    sizes: dict = {}
    elementary, summed = [], []  # axis keys in the left's order; the unit axes (summed over)
    dim = 0
    for g in left.groups:
        if g == _ELLIPSIS:
            for k in range(n_ellipsis):
                key = (_ELLIPSIS, k)
                sizes[key] = tensor.shape[dim + k]
                elementary.append(key)
            dim += n_ellipsis
            continue
        if not g:  # a unit axis on the left: any size, summed over
            key = ("unit", dim)
            sizes[key] = tensor.shape[dim]
            elementary.append(key)
            summed.append(len(elementary) - 1)
        else:
            for name, size in zip(g, _group_sizes(g, tensor.shape[dim], axes_lengths)):
                sizes[name] = size
                elementary.append(name)
        dim += 1

    def keys_of(name: str) -> list:
        return [(_ELLIPSIS, k) for k in range(n_ellipsis)] if name == _ELLIPSIS else [name]

    result = reshape(tensor, tuple(sizes[k] for k in elementary))
    if summed:
        result = _sum(result, dim=tuple(summed))
        elementary = [k for i, k in enumerate(elementary) if i not in summed]
    order, shape = [], []
    for g in right.groups:
        if g == _ELLIPSIS:
            keys = keys_of(_ELLIPSIS)
            order += keys
            shape += [sizes[k] for k in keys]
        else:
            keys = [k for name in g for k in keys_of(name)]
            order += keys
            shape.append(math.prod(sizes[k] for k in keys))
    perm = tuple(elementary.index(k) for k in order)
    if perm != tuple(range(len(perm))):
        result = permute(result, perm)
    return reshape(result, tuple(shape))
