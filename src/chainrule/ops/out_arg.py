"""Writing an op's result into the ``out=`` tensor a caller gives, as torch does: the result
cast to ``out``'s dtype where that loses no kind (float into int refuses), an ``out`` of another
shape resized (with torch's warning unless it was empty), and ``out=`` refused for inputs that
require grad while grad mode is on. Hot ops call ``write_out`` themselves (a keyword argument
costs them nothing); ``chainrule._out`` wraps the other top-level functions."""

from __future__ import annotations

import warnings

import numpy as np

from .._fpe import user_stacklevel as _user_stacklevel
from ..autograd.grad_mode import GRAD
from ._common import Tensor

__all__: list[str] = []


def write_out(who: str, out, result):
    """Store ``result`` (a tensor or a tuple of them) into ``out``; returns what the op returns."""
    results = result if isinstance(result, tuple) else (result,)
    outs = out if isinstance(out, tuple | list) else (out,)
    if GRAD.enabled and any(isinstance(r, Tensor) and r.requires_grad for r in results):
        raise RuntimeError(
            f"{who}(): functions with out=... arguments don't support automatic differentiation, but one "
            "of the arguments requires grad."
        )
    if len(outs) != len(results):
        raise TypeError(f"{who}(): out= expects {len(results)} tensors, got {len(outs)}")
    written = tuple(_write_one(who, o, r) for o, r in zip(outs, results))
    if isinstance(result, tuple):
        return type(result)(*written) if hasattr(result, "_fields") else written
    return written[0]


def _write_one(who: str, out, result) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}(): argument 'out' must be Tensor, not {type(out).__name__}")
    value = result._data if isinstance(result, Tensor) else np.asarray(result)
    s, r = out._data.dtype, value.dtype
    if s != r and ((r.kind == "f" and s.kind != "f") or (r.kind in "iuf" and s.kind == "b")):
        raise RuntimeError(
            f"result type {_name(r)} can't be cast to the desired output type {_name(s)}; give an out "
            f"tensor of dtype {_name(r)}"
        )
    if out._data.shape != value.shape:
        if out._base is not None:
            raise RuntimeError(
                f"{who}(): cannot resize the view given as out= from {list(out.shape)} to {list(value.shape)}"
            )
        if out._data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                f"which does not match the required output shape {list(value.shape)}. This behavior is "
                "deprecated, "
                "and in a future PyTorch release outputs will not be resized unless they have zero elements.",
                UserWarning,
                stacklevel=_user_stacklevel(),
            )
        out._data = np.empty(value.shape, dtype=s)
    np.copyto(out._data, value, casting="unsafe")
    out._bump_version()
    return out


def _name(dt: np.dtype) -> str:
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int"}
    return names.get(dt.name, dt.name.capitalize())
