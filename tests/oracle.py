"""Helpers that compare chainrule with the oracle, real PyTorch (CPU), on the same inputs.

An ``OpSpec`` describes how to call one op: ``fn(lib, *tensors)`` runs unchanged with ``lib`` bound
to ``chainrule`` or to ``torch``. ``check_spec`` compares forward values, first derivatives (a random
vector-Jacobian product), second derivatives (the derivative of that product along another random
vector, through ``create_graph=True``) and, in float64, the first derivative against central
finite differences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

import chainrule

Shapes = Sequence[tuple]  # one shape per tensor argument


@dataclass
class Arg:
    """One tensor argument: its value range and kind ('float', 'int', 'bool', 'index')."""

    low: float = -2.0
    high: float = 2.0
    kind: str = "float"
    grad: bool = True  # this argument requires grad (floats only)
    away_from_zero: float = 0.0  # keep |x| >= this (for ops singular at 0)


@dataclass
class OpSpec:
    """How to exercise one op; ``shapes`` lists argument shapes to draw from."""

    name: str
    fn: Callable
    shapes: Sequence[Shapes]
    args: Sequence[Arg] = field(default_factory=lambda: (Arg(),))
    grad: bool = True
    gradgrad: bool = True
    fd: bool = True
    rtol: float = 1e-6
    atol: float = 1e-8
    float32: bool = True
    broadcast: bool = False  # also try every argument's shape broadcast against the others

    def __repr__(self) -> str:
        return f"OpSpec({self.name})"


def make_inputs(spec: OpSpec, shapes: Shapes, seed: int):
    """NumPy arrays for each argument (float64 for floats)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for arg, shape in zip(spec.args, shapes):
        if arg.kind == "float":
            a = rng.uniform(arg.low, arg.high, size=shape)
            if arg.away_from_zero:
                a = np.where(np.abs(a) < arg.away_from_zero,
                             np.sign(a + 1e-300) * arg.away_from_zero + a, a)
        elif arg.kind == "int":
            a = rng.integers(int(arg.low), int(arg.high), size=shape).astype(np.int64)
        elif arg.kind == "bool":
            a = rng.random(size=shape) < 0.5
        elif arg.kind == "index":  # valid indices into a dim of size ``high``
            a = rng.integers(0, int(arg.high), size=shape).astype(np.int64)
        else:
            raise ValueError(arg.kind)
        arrays.append(np.asarray(a))
    return arrays


def _tensors(lib, arrays, spec: OpSpec, dtype):
    out = []
    for a, arg in zip(arrays, spec.args):
        if arg.kind == "float":
            t = lib.tensor(a.astype(dtype), requires_grad=spec.grad and arg.grad)
        else:
            t = lib.tensor(a)
        out.append(t)
    return out


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        if x._is_zerotensor():  # torch's symbolic zero (e.g. abs's second derivative)
            return np.zeros(x.shape, dtype=str(x.dtype).split(".")[-1])
        return x.detach().numpy()
    if isinstance(x, chainrule.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _outputs(result):
    """The differentiable float outputs of a result (a tensor or a tuple such as max's)."""
    items = result if isinstance(result, tuple | list) else (result,)
    return [r for r in items]


def assert_close(ours, theirs, rtol, atol, what: str) -> None:
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    if b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


def check_spec(spec: OpSpec, shapes: Shapes, seed: int) -> None:
    arrays = make_inputs(spec, shapes, seed)
    _check_dtype(spec, arrays, np.float64, spec.rtol, spec.atol, second=spec.gradgrad)
    if spec.float32:
        _check_dtype(spec, arrays, np.float32, 2e-4, 1e-5, second=False)
    if spec.fd and spec.grad:
        check_finite_differences(spec, arrays)


def _check_dtype(spec, arrays, dtype, rtol, atol, second: bool) -> None:
    ours_in = _tensors(chainrule, arrays, spec, dtype)
    torch_in = _tensors(torch, arrays, spec, dtype)
    ours = _outputs(spec.fn(chainrule, *ours_in))
    theirs = _outputs(spec.fn(torch, *torch_in))
    assert len(ours) == len(theirs), f"{spec.name}: {len(ours)} outputs, torch has {len(theirs)}"
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert_close(o, t, rtol, atol, f"{spec.name} forward output {k} ({dtype.__name__})")
        if isinstance(t, torch.Tensor):
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
                f"{spec.name}: dtype {o.dtype} != torch's {t.dtype}"
    if not spec.grad:
        return
    pairs = [(o, t) for o, t in zip(ours, theirs)
             if isinstance(t, torch.Tensor) and t.requires_grad]
    wrt = [i for i, a in enumerate(spec.args) if a.kind == "float" and a.grad]
    if not pairs or not wrt:
        return
    rng = np.random.default_rng(1234)
    vs = [rng.standard_normal(t.shape).astype(dtype) for _, t in pairs]
    ours_g = chainrule.autograd.grad([o for o, _ in pairs], [ours_in[i] for i in wrt],
                                     [chainrule.tensor(v) for v in vs], create_graph=second,
                                     allow_unused=True)
    theirs_g = torch.autograd.grad([t for _, t in pairs], [torch_in[i] for i in wrt],
                                   [torch.tensor(v) for v in vs], create_graph=second,
                                   allow_unused=True)
    for i, o, t in zip(wrt, ours_g, theirs_g):
        if t is None:
            assert o is None or np.all(to_numpy(o) == 0), f"{spec.name}: grad {i} should be None"
            continue
        assert o is not None, f"{spec.name}: grad of input {i} is None, torch has one"
        assert_close(o, t, rtol, atol, f"{spec.name} grad of input {i} ({dtype.__name__})")
    if not second:
        return
    # second derivative: d/dx_j of sum_i <grad_i, w_i>
    ours_terms, theirs_terms = [], []
    for o, t in zip(ours_g, theirs_g):
        if t is None or not t.requires_grad:
            continue
        w = rng.standard_normal(t.shape).astype(dtype)
        theirs_terms.append((t * torch.tensor(w)).sum())
        ours_terms.append((o * chainrule.tensor(w)).sum())
    if not theirs_terms:
        return
    ours_s = ours_terms[0]
    for term in ours_terms[1:]:
        ours_s = ours_s + term
    theirs_s = sum(theirs_terms[1:], theirs_terms[0])
    if ours_s.requires_grad:
        ours_gg = chainrule.autograd.grad(ours_s, [ours_in[i] for i in wrt], allow_unused=True)
    else:  # our first derivative does not depend on the inputs: the second one is zero
        ours_gg = [None] * len(wrt)
    theirs_gg = torch.autograd.grad(theirs_s, [torch_in[i] for i in wrt], allow_unused=True)
    for i, o, t in zip(wrt, ours_gg, theirs_gg):
        if t is None:
            assert o is None or np.allclose(to_numpy(o), 0, atol=atol), \
                f"{spec.name}: second derivative {i} should be zero"
            continue
        if o is None:
            np.testing.assert_allclose(to_numpy(t), 0, atol=atol,
                                       err_msg=f"{spec.name}: second derivative {i} missing")
            continue
        assert_close(o, t, rtol, atol, f"{spec.name} second derivative wrt input {i}")


def check_finite_differences(spec: OpSpec, arrays, eps: float = 1e-6) -> None:
    """Our float64 vector-Jacobian product against central finite differences."""
    ins = _tensors(chainrule, arrays, spec, np.float64)
    outs = [o for o in _outputs(spec.fn(chainrule, *ins))
            if isinstance(o, chainrule.Tensor) and o.requires_grad]
    wrt = [i for i, a in enumerate(spec.args) if a.kind == "float" and a.grad]
    if not outs or not wrt:
        return
    rng = np.random.default_rng(99)
    vs = [rng.standard_normal(o.shape) for o in outs]
    grads = chainrule.autograd.grad(outs, [ins[i] for i in wrt], [chainrule.tensor(v) for v in vs],
                                    allow_unused=True)

    def scalar(arrs) -> float:
        with chainrule.no_grad():
            ts = [chainrule.tensor(a) if a.dtype.kind != "f" else chainrule.tensor(a)
                  for a in arrs]
            res = [o for o in _outputs(spec.fn(chainrule, *ts))
                   if isinstance(o, chainrule.Tensor) and o.dtype.is_floating_point]
            return float(sum((r.numpy() * v).sum() for r, v in zip(res, vs)))

    for i, g in zip(wrt, grads):
        base = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
        numeric = np.zeros(base[i].shape)
        flat = base[i].reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            up = scalar(base)
            flat[j] = old - eps
            down = scalar(base)
            flat[j] = old
            numeric.reshape(-1)[j] = (up - down) / (2 * eps)
        analytic = np.zeros(base[i].shape) if g is None else g.numpy()
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{spec.name}: gradient of input {i} vs finite differences")
