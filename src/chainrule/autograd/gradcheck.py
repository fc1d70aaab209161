"""``gradcheck`` and ``gradgradcheck``: compare analytical derivatives with finite differences.

``gradcheck`` builds, for every differentiable output and input, the full analytical Jacobian
(one backward pass per output element) and the numerical one (central differences: one pair of
forward calls per input element), and compares them entry by entry with
``|analytical - numerical| <= atol + rtol * |numerical|``, as torch does. ``gradgradcheck`` runs
``gradcheck`` on the function's backward pass (recorded with ``create_graph=True``), which checks
second derivatives. A failure raises ``GradcheckError`` (a ``RuntimeError``) whose message names
the output and input, the worst entry, both values, the errors and the tolerance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _tensor as _t  # a module object: autograd is imported while _tensor loads
from . import engine
from ._gradcheck_jacobians import (
    GradcheckError,
    analytical_jacobian,
    as_tuple,
    forward_jacobian,
    gradient_dtypes_ok,
    mismatch_report,
    numerical_jacobian,
    tensor_outputs,
)
from .grad_mode import enable_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]

_SEED = 0  # the random vectors of fast mode, batched checks and gradgradcheck's grad_outputs


def _check_inputs(inputs: tuple) -> list:
    """The indices of the inputs that require grad; torch's warning for non-float64 ones."""
    diff_idx = []
    for idx, x in enumerate(inputs):
        if isinstance(x, _t.Tensor) and x.requires_grad:
            if x._data.dtype not in (np.float64, np.complex128):
                warnings.warn(
                    f"Input #{idx} requires gradient and is not a double precision floating point "
                    "or complex. This check will likely fail if all the inputs are not of double "
                    "precision floating point or complex. ",
                    stacklevel=3,
                )
            if x._data.dtype.kind == "c":
                raise NotImplementedError(
                    f"gradcheck: input #{idx} is complex; chainrule's gradcheck compares real "
                    "Jacobians only (check the real and imaginary parts as separate real inputs)"
                )
            diff_idx.append(idx)
    if not diff_idx:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but "
            "none of them have requires_grad=True."
        )
    return diff_idx


def _unit_vector(rng: np.random.Generator, n: int) -> np.ndarray:
    """torch's fast-mode direction: uniform in [0, 1), normalised."""
    u = rng.random(n)
    norm = np.linalg.norm(u)
    return u / norm if norm > 0 else u


class _Check:
    """One gradcheck run: the function, its inputs and the tolerances."""

    def __init__(
        self, func: Callable, inputs: tuple, diff_idx: list, eps: float, atol: float, rtol: float
    ) -> None:
        self.func, self.inputs, self.diff_idx = func, inputs, diff_idx
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.diff_inputs = [inputs[i] for i in diff_idx]
        with enable_grad():
            self.outputs = tensor_outputs(func(*inputs))
        self.diff_out = [k for k, o in enumerate(self.outputs) if o._rg]
        self.hint = any(t._data.dtype != np.float64 for t in self.diff_inputs + self.outputs)

    def title(self, kind: str, n: int, j: int) -> str:
        where = f"Jacobian {kind}mismatch for output {n} with respect to input {j}"
        if self.diff_idx[j] != j:
            where += f" (argument {self.diff_idx[j]} of func)"
        return where

    def compare(
        self, kind: str, n: int, j: int, analytical: np.ndarray, numerical: np.ndarray, prefix: str = ""
    ) -> None:
        err = np.abs(analytical - numerical)
        if np.all(err <= self.atol + self.rtol * np.abs(numerical)):
            return
        out, x = self.outputs[self.diff_out[n]], self.diff_inputs[j]
        raise GradcheckError(
            prefix
            + mismatch_report(
                self.title(kind, n, j),
                analytical,
                numerical,
                tuple(out.shape),
                tuple(x.shape),
                self.atol,
                self.rtol,
                self.eps,
                self.hint,
            )
        )

    def no_differentiable_outputs(self) -> None:
        for row in numerical_jacobian(self.func, self.inputs, self.diff_idx, self.eps):
            if any(np.any(block != 0) for block in row):
                raise GradcheckError("Numerical gradient for function expected to be zero")

    def slow(
        self, check_backward_ad: bool, check_forward_ad: bool, nondet_tol: float, check_grad_dtypes: bool
    ) -> None:
        numerical = numerical_jacobian(self.func, self.inputs, self.diff_idx, self.eps)
        if check_backward_ad:
            outs = [self.outputs[k] for k in self.diff_out]
            first = analytical_jacobian(outs, self.diff_inputs)
            second = analytical_jacobian(outs, self.diff_inputs)
            if check_grad_dtypes and not gradient_dtypes_ok(outs, self.diff_inputs):
                raise GradcheckError("Gradient has dtype mismatch")
            for n, k in enumerate(self.diff_out):
                for j in range(len(self.diff_inputs)):
                    self.compare("", n, j, first[n][j], numerical[k][j])
            worst = max(
                (
                    float(np.max(np.abs(a - b), initial=0.0))
                    for ra, rb in zip(first, second)
                    for a, b in zip(ra, rb)
                ),
                default=0.0,
            )
            if worst > nondet_tol:
                raise GradcheckError(
                    "Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical "
                    f"gradient matches numerical gradient.The tolerance for nondeterminism was "
                    f"{nondet_tol} (the largest difference found: {worst!r})."
                )
        if check_forward_ad:
            forward = forward_jacobian(self.func, self.inputs, self.diff_idx)
            for n, k in enumerate(self.diff_out):
                for j in range(len(self.diff_inputs)):
                    self.compare("computed with forward mode ", n, j, forward[k][j], numerical[k][j])

    def fast(self) -> None:
        """torch's fast mode: compare ``v^T J u`` for random unit ``u`` (per input) and ``v`` (per
        output); a mismatch is reported with the full Jacobians of that pair (slow mode)."""
        rng = np.random.default_rng(_SEED)
        us = [_unit_vector(rng, x.numel()) for x in self.diff_inputs]
        vs = [_unit_vector(rng, self.outputs[k].numel()) for k in self.diff_out]
        numerical = [self._directional(j, u) for j, u in enumerate(us)]  # [input][output] J u
        for n, (k, v) in enumerate(zip(self.diff_out, vs)):
            out = self.outputs[k]
            grads = engine.grad(
                [out],
                self.diff_inputs,
                [_t.wrap(v.reshape(out._data.shape).astype(out._data.dtype))],
                retain_graph=True,
                allow_unused=True,
            )
            for j, (g, u) in enumerate(zip(grads, us)):
                a = 0.0 if g is None else float(g._data.reshape(-1).astype(np.float64) @ u)
                num = float(numerical[j][k] @ v)
                atol = self.atol * u.sum() * v.sum()  # torch's _adjusted_atol: v^T (atol) u
                if abs(a - num) <= atol + self.rtol * abs(num):
                    continue
                prefix = (
                    f"(fast mode: v^T J u is {a!r} analytically and {num!r} numerically, "
                    f"allowed difference {atol + self.rtol * abs(num)!r}; below, the full "
                    "Jacobians of this pair, computed in slow mode)\n"
                )
                full_num = numerical_jacobian(self.func, self.inputs, [self.diff_idx[j]], self.eps)[k][0]
                full_ana = analytical_jacobian([out], [self.diff_inputs[j]])[0][0]
                self.compare("", n, j, full_ana, full_num, prefix)
                raise GradcheckError(
                    prefix + self.title("", n, j) + " (in fast mode only: "
                    "the full Jacobians agree within the tolerance)"
                )

    def _directional(self, j: int, u: np.ndarray) -> list:
        """``J u`` for every floating-point output by central differences along ``u``."""
        x = self.diff_inputs[j]
        original = x._data
        step = (self.eps * u).reshape(original.shape)
        outs = []
        try:
            for sign in (1, -1):
                x._data = (original + sign * step).astype(original.dtype)
                outs.append(
                    [o._data.astype(np.float64, copy=True) for o in tensor_outputs(self.func(*self.inputs))]
                )
                x._data = original
        finally:
            x._data = original
        return [((a - b) / (2 * self.eps)).reshape(-1) for a, b in zip(*outs)]

    def mul_by_grad_output(self) -> None:
        """Zero output gradients must give zero input gradients of the right dtype and shape."""
        outs = [self.outputs[k] for k in self.diff_out]
        zeros = [_t.wrap(np.zeros(o._data.shape, dtype=o._data.dtype)) for o in outs]
        grads = engine.grad(outs, self.diff_inputs, zeros, retain_graph=True, allow_unused=True)
        for g, x in zip(grads, self.diff_inputs):
            if g is None:
                continue
            if np.any(g._data != 0):
                raise GradcheckError("backward not multiplied by grad_output")
            if g._data.dtype != x._data.dtype:
                raise GradcheckError("grad is incorrect type")
            if tuple(g.shape) != tuple(x.shape):
                raise GradcheckError("grad is incorrect size")

    def undefined_grad(self) -> None:
        """Backward must cope with outputs that get no gradient at all: chainrule's analog of
        torch's undefined gradients is an output left out of the backward pass (a custom Function
        then sees zeros, or None with ``ctx.set_materialize_grads(False)``). With zero gradients
        for the others, every input gradient must be zero or None."""
        if len(self.diff_out) < 2:
            return  # all outputs undefined: no backward runs at all
        for skip in self.diff_out:
            outs = [self.outputs[k] for k in self.diff_out if k != skip]
            zeros = [_t.wrap(np.zeros(o._data.shape, dtype=o._data.dtype)) for o in outs]
            try:
                grads = engine.grad(outs, self.diff_inputs, zeros, retain_graph=True, allow_unused=True)
            except RuntimeError as e:
                raise GradcheckError(
                    "Expected backward function to handle undefined output grads. Please look at "
                    '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
                ) from e
            if any(g is not None and np.any(g._data != 0) for g in grads):
                raise GradcheckError(
                    "Expected all input grads to be undefined or zero when all output grads are "
                    'undefined or zero. Please look at "Notes about undefined output gradients" '
                    'in "tools/autograd/derivatives.yaml"'
                )

    def batched_grad(self) -> None:
        """The vjps of a batch of random cotangents through the batched step (vmap) must equal
        the ones computed one at a time."""
        from ..func._jacobians import batched_vjp  # on use: autograd/__init__ loads this before func can

        rng = np.random.default_rng(_SEED)
        for n, k in enumerate(self.diff_out):
            out = self.outputs[k]

            def vjp(rows: list, out=out) -> list:
                gs = engine.grad([out], self.diff_inputs, rows, retain_graph=True, allow_unused=True)
                return [
                    _t.wrap(np.zeros(x._data.shape, x._data.dtype)) if g is None else g
                    for g, x in zip(gs, self.diff_inputs)
                ]

            basis = [_t.wrap(rng.uniform(-1, 1, (2, *out.shape)).astype(out._data.dtype))]
            got = batched_vjp(vjp, basis, vectorize=True)
            expected = batched_vjp(vjp, basis, vectorize=False)
            for j, (g, e) in enumerate(zip(got, expected)):
                if not np.allclose(g._data, e._data, rtol=1e-5, atol=1e-8):
                    raise GradcheckError(
                        f"For output {n} and input {j}:\n\nWhile computing batched gradients, got "
                        f"values that differ from the gradients computed one at a time.\n\nGot:\n"
                        f"{g._data}\n\nExpected:\n{e._data}"
                    )


def gradcheck(
    func: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check the derivatives of ``func`` at ``inputs`` against central finite differences.

    Parameters
    ----------
    func : a function of the inputs returning a Tensor or a tuple (non-tensors are ignored).
    inputs : a Tensor or a tuple of arguments; the tensors with ``requires_grad=True`` are
        checked (use float64: a warning is given otherwise, as torch).
    eps : the finite-difference step.
    atol, rtol : entries pass when ``|analytical - numerical| <= atol + rtol * |numerical|``.
    raise_exception : raise ``GradcheckError`` on failure (else return False).
    nondet_tol : how much two backward passes with the same inputs may differ.
    check_undefined_grad : backward must handle outputs that get no gradient (left out of the
        backward pass), giving zero input gradients with zero gradients for the others. (Zero
        gradients for all outputs must give zero input gradients in any case, as in torch.)
    check_grad_dtypes : each gradient must have its input's dtype.
    check_batched_grad : the batched step (``chainrule.func`` vmap) must agree with a loop.
    check_batched_forward_grad : accepted for compatibility; not checked separately.
    check_forward_ad : also check the forward-mode Jacobian (double-backward trick).
    check_backward_ad : check the reverse-mode Jacobian.
    fast_mode : compare ``v^T J u`` for random ``u``, ``v`` (one backward per output and one pair
        of forward calls per input); a failure is reported with the full Jacobians.
    masked : accepted for compatibility (chainrule has no sparse tensors).

    Returns
    -------
    True when every check passes; False on a failure with ``raise_exception=False``.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    inputs = as_tuple(inputs)
    diff_idx = _check_inputs(inputs)
    try:
        check = _Check(func, inputs, diff_idx, eps, atol, rtol)
        if not check.diff_out:
            check.no_differentiable_outputs()
            return True
        if fast_mode and check_backward_ad:
            check.fast()
            if check_forward_ad:
                check.slow(False, True, nondet_tol, check_grad_dtypes)
        else:
            check.slow(check_backward_ad, check_forward_ad, nondet_tol, check_grad_dtypes)
        if check_backward_ad:
            if check_batched_grad:
                check.batched_grad()
            check.mul_by_grad_output()
            if check_undefined_grad:
                check.undefined_grad()
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _random_grad_outputs(outputs: list, non_contiguous: bool) -> tuple:
    """gradgradcheck's cotangents: uniform in [-1, 1), from a fixed seed (reproducible, and the
    global random state is left alone), requiring grad."""
    rng = np.random.default_rng(_SEED)
    result = []
    for o in outputs:
        dtype = o._data.dtype if o._data.dtype.kind in "fc" else np.float64
        shape = tuple(o.shape)
        if non_contiguous and shape:
            wide = rng.uniform(-1, 1, (*shape[:-1], 2 * shape[-1])).astype(dtype)
            a = wide[..., ::2]  # every other column: a strided, non-contiguous view
        else:
            a = rng.uniform(-1, 1, shape).astype(dtype)
        result.append(_t.wrap(np.asarray(a)).requires_grad_())
    return tuple(result)


def gradgradcheck(
    func: Callable,
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: ``gradcheck`` of ``(inputs, grad_outputs) -> autograd.grad(
    func(inputs), inputs, grad_outputs, create_graph=True)``.

    Parameters
    ----------
    func, inputs, eps, atol, rtol, raise_exception, nondet_tol, check_undefined_grad,
    check_grad_dtypes, check_batched_grad, fast_mode, masked : as for ``gradcheck``.
    grad_outputs : the cotangents (a Tensor or tuple); by default random in [-1, 1) from a fixed
        seed, requiring grad, so derivatives with respect to them are checked too.
    gen_non_contig_grad_outputs : make the default cotangents non-contiguous arrays.
    check_fwd_over_rev, check_rev_over_rev : check the backward pass's Jacobian in forward mode
        (double-backward trick) and in reverse mode.

    Returns
    -------
    True when the checks pass; False on a failure with ``raise_exception=False``.
    """
    inputs = as_tuple(inputs)
    if grad_outputs is None:
        with enable_grad():
            outputs = [o for o in tensor_outputs(func(*inputs)) if o._rg]
        grad_outputs = _random_grad_outputs(outputs, gen_non_contig_grad_outputs)
    else:
        grad_outputs = as_tuple(grad_outputs)
    num_outputs = len(grad_outputs)
    diff_inputs = {i for i, x in enumerate(inputs) if isinstance(x, _t.Tensor) and x.requires_grad}
    diff_grads = {i for i, x in enumerate(grad_outputs) if x.requires_grad}

    def backward_of_func(*args: Any) -> tuple:
        # restore requires_grad: gradcheck's perturbations swap arrays, not flags, but be safe
        ins = tuple(x.requires_grad_() if i in diff_inputs else x for i, x in enumerate(args[:-num_outputs]))
        outs = [o for o in tensor_outputs(func(*ins)) if o._rg]
        cts = tuple(x.requires_grad_() if i in diff_grads else x for i, x in enumerate(args[-num_outputs:]))
        wrt = [x for i, x in enumerate(ins) if i in diff_inputs]
        grads = engine.grad(outs, wrt, list(cts), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        backward_of_func,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        fast_mode=fast_mode,
        masked=masked,
    )
