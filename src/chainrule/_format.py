"""Printing tensors the way torch does: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import numpy as np


def tensor_repr(t) -> str:
    a = t._data
    body = np.array2string(a, separator=", ", prefix="tensor(")
    suffix = []
    if a.dtype.kind == "f" and a.dtype != np.float32:
        suffix.append(f"dtype=chainrule.{t.dtype.name}")
    elif a.dtype.kind in "iu" and a.dtype != np.int64:
        suffix.append(f"dtype=chainrule.{t.dtype.name}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"
