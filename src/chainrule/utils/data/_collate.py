"""Collation: turning a list of samples into a batch (``torch.utils.data.default_collate``)."""

from __future__ import annotations

import collections.abc as abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...ops import stack
from ...ops.creation import as_tensor, tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_STR_OBJ = re.compile(r"[SaUO]")  # NumPy dtypes of strings and objects: not collated into tensors
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _collate_tensor(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def _collate_numpy_array(batch, *, collate_fn_map=None):
    if _STR_OBJ.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERR.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalar(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def _collate_float(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=np.float64)


def _collate_int(batch, *, collate_fn_map=None):
    return tensor(batch)


def _collate_str(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: _collate_tensor,
    np.ndarray: _collate_numpy_array,
    (np.bool_, np.number, np.object_): _collate_numpy_scalar,
    float: _collate_float,
    int: _collate_int,
    str: _collate_str,
    bytes: _collate_str,
}


def collate(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    """Collate a list of samples, element type by element type (torch's ``collate``).

    ``collate_fn_map`` maps a type (or tuple of types) to ``fn(batch, *, collate_fn_map)``; an
    element's exact type is looked up first, then each key in order with ``isinstance``.
    Mappings, namedtuples and sequences are collated field by field, recursively.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, abc.Mapping):
        fields = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        try:
            if isinstance(elem, abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError(
                f"each element in list of batch should be of equal size (got lengths "
                f"{[len(e) for e in batch]})"
            )
        columns = [collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as torch returns (for backwards compatibility)
        return _same_sequence_type(elem, columns)
    raise TypeError(_ERR.format(elem_type))


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate`` does.

    Tensors are stacked along a new dim 0; NumPy arrays and scalars become tensors (their dtype);
    Python floats a float64 tensor, ints an int64 tensor, bools a bool tensor; strings and bytes
    stay a list. Dicts are collated per key, namedtuples per field, lists per position; tuples
    per position too, returned as a list (as torch does).

    Examples
    --------
    >>> default_collate([{"x": 0, "y": 1.0}, {"x": 2, "y": 3.0}])
    {'x': tensor([0, 2]), 'y': tensor([1., 3.], dtype=chainrule.float64)}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (also inside dicts, lists, tuples) into tensors; the collate used when
    automatic batching is off (``batch_size=None``). Everything else is returned unchanged."""
    t = type(data)
    if isinstance(data, Tensor):
        return data
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "bytes_", "string_"):
        if isinstance(data, np.ndarray) and _STR_OBJ.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return t(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, str | bytes):
        return _same_sequence_type(data, [default_convert(d) for d in data])
    return data


def _same_sequence_type(like, items: list):
    """``items`` in a sequence of ``like``'s type, as torch rebuilds them (a list when it can't)."""
    try:
        if isinstance(like, abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items
