"""The Jacobians gradcheck compares, and the report of a mismatch.

Every Jacobian here is a NumPy array ``J[o, i] = d output.flat[o] / d input.flat[i]`` (rows:
output elements, columns: input elements), one per (output, input) pair, in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _tensor as _t  # a module object: autograd is imported while _tensor loads
from . import engine
from .grad_mode import enable_grad

__all__ = [
    "GradcheckError",
    "numerical_jacobian",
    "analytical_jacobian",
    "forward_jacobian",
    "mismatch_report",
    "as_tuple",
    "tensor_outputs",
]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when a check fails."""


def as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def tensor_outputs(out) -> list:
    """The function's outputs that can have a derivative: floating-point tensors."""
    return [o for o in as_tuple(out) if isinstance(o, _t.Tensor) and o._data.dtype.kind in "fc"]


def numerical_jacobian(func: Callable, inputs: tuple, diff_idx: list, eps: float) -> list:
    """Central differences: ``J[:, i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``, one pair of
    calls per element of each differentiable input. Returns ``[output][input]`` arrays for every
    floating-point output.

    An input is perturbed by swapping in a perturbed copy of its array (then restoring the
    original), so closures that hold the tensor see the change and no saved array is modified.
    """
    jac: list | None = None
    for n, idx in enumerate(diff_idx):
        x = inputs[idx]
        original = x._data
        cols = []
        try:
            for k in range(original.size):
                outs = []
                for sign in (1, -1):
                    perturbed = original.copy()
                    perturbed.flat[k] += sign * eps
                    x._data = perturbed
                    outs.append(
                        [o._data.astype(np.float64, copy=True) for o in tensor_outputs(func(*inputs))]
                    )
                    x._data = original
                cols.append([(a - b).reshape(-1) / (2 * eps) for a, b in zip(*outs)])
        finally:
            x._data = original
        if jac is None:
            outputs = tensor_outputs(func(*inputs))
            jac = [[None] * len(diff_idx) for _ in outputs]
            sizes = [o.numel() for o in outputs]
        for o in range(len(jac)):
            jac[o][n] = np.stack([c[o] for c in cols], axis=1) if cols else np.zeros((sizes[o], 0))
    return jac if jac is not None else []


def analytical_jacobian(outputs: list, diff_inputs: list) -> list:
    """Reverse mode: row ``o`` of ``J`` is the backward pass of the unit vector ``e_o`` (one
    backward per output element, over the retained graph). Returns ``[output][input]`` arrays;
    also the gradients' dtypes and shapes per input, for the attribute checks."""
    jac = []
    for out in outputs:
        blocks = [np.zeros((out.numel(), x.numel())) for x in diff_inputs]
        if out._rg:
            for k in range(out.numel()):
                e = np.zeros(out._data.size, dtype=out._data.dtype)
                e[k] = 1
                grads = engine.grad(
                    [out],
                    diff_inputs,
                    [_t.wrap(e.reshape(out._data.shape))],
                    retain_graph=True,
                    allow_unused=True,
                )
                for block, g, x in zip(blocks, grads, diff_inputs):
                    if g is not None:
                        if tuple(g.shape) != tuple(x.shape):
                            raise GradcheckError("Analytical gradient has incorrect size")
                        block[k] = g._data.reshape(-1)
        jac.append(blocks)
    return jac


def gradient_dtypes_ok(outputs: list, diff_inputs: list) -> bool:
    """Whether every gradient has its input's dtype (one backward per output)."""
    for out in outputs:
        if not out._rg:
            continue
        ones = _t.wrap(np.ones(out._data.shape, dtype=out._data.dtype))
        grads = engine.grad([out], diff_inputs, [ones], retain_graph=True, allow_unused=True)
        if any(g is not None and g.dtype != x.dtype for g, x in zip(grads, diff_inputs)):
            return False
    return True


def forward_jacobian(func: Callable, inputs: tuple, diff_idx: list) -> list:
    """Forward mode by the double-backward trick: column ``i`` of ``J`` is ``d<J^T u, e_i>/du``
    for a dummy cotangent ``u``. Returns ``[output][input]`` arrays."""
    with enable_grad():
        fresh = list(inputs)
        for i in diff_idx:
            fresh[i] = inputs[i].detach().requires_grad_()
        diff_inputs = [fresh[i] for i in diff_idx]
        outputs = tensor_outputs(func(*fresh))
        live = [o for o in outputs if o._rg]
        us = [_t.wrap(np.zeros(o._data.shape, dtype=o._data.dtype)).requires_grad_() for o in live]
        transposed = []
        if live:
            transposed = engine.grad(live, diff_inputs, us, create_graph=True, allow_unused=True)
    jac = [[np.zeros((o.numel(), x.numel())) for x in diff_inputs] for o in outputs]
    live_pos = [k for k, o in enumerate(outputs) if o._rg]
    for n, (x, g) in enumerate(zip(diff_inputs, transposed)):
        if g is None or not g._rg:
            continue
        for k in range(x.numel()):
            e = np.zeros(x._data.size, dtype=x._data.dtype)
            e[k] = 1
            cols = engine.grad(
                [g], us, [_t.wrap(e.reshape(x._data.shape))], retain_graph=True, allow_unused=True
            )
            for pos, c in zip(live_pos, cols):
                if c is not None:
                    jac[pos][n][:, k] = c._data.reshape(-1)
    return jac


def _fmt(a: np.ndarray) -> str:
    return np.array2string(a, precision=6, suppress_small=False, max_line_width=100)


def mismatch_report(
    title: str,
    analytical: np.ndarray,
    numerical: np.ndarray,
    out_shape: tuple,
    in_shape: tuple,
    atol: float,
    rtol: float,
    eps: float,
    hint: bool,
) -> str:
    """The message of a failed comparison: the worst entry (the largest ratio of its error to
    its allowed error ``atol + rtol * |numerical|``), its values, errors and tolerance, how many
    entries fail, and both Jacobians when they are small."""
    err = np.abs(analytical - numerical)
    allowed = atol + rtol * np.abs(numerical)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, err / np.where(allowed > 0, allowed, 1), np.where(err > 0, np.inf, 0.0))
    o, i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    a, n, e, tol = (float(v[o, i]) for v in (analytical, numerical, err, allowed))
    rel = e / abs(n) if n != 0 else float("inf")
    out_index = tuple(int(v) for v in np.unravel_index(o, out_shape)) if out_shape else ()
    in_index = tuple(int(v) for v in np.unravel_index(i, in_shape)) if in_shape else ()
    lines = [
        f"{title},",
        f"{int((~(err <= allowed)).sum())} of {err.size} entries differ; the worst is "
        f"d output{list(out_index)} / d input{list(in_index)} (jacobian row {o}, column {i}):",
        f"    analytical: {a!r}",
        f"    numerical:  {n!r}",
        f"    absolute error: {e!r}, relative error: {rel!r}",
        f"    tolerance: atol + rtol * |numerical| = {atol!r} + {rtol!r} * {abs(n)!r} = {tol!r}",
        f"numerical: central differences with eps={eps!r}.",
    ]
    if err.size <= 100:
        lines += [
            "analytical jacobian (rows: output elements, columns: input elements):",
            _fmt(analytical),
            "numerical jacobian:",
            _fmt(numerical),
        ]
    if hint:
        lines.append(
            "Hint: some inputs or outputs are not float64; finite differences in lower "
            "precision are unreliable: run gradcheck on float64 tensors (x.double())."
        )
    return "\n".join(lines)
