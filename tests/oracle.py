"""Helpers that compare chainrule with the oracle, real PyTorch (CPU), on the same inputs.

An ``OpSpec`` describes how to call one op: ``fn(lib, *tensors)`` runs unchanged with ``lib`` bound
to ``chainrule`` or to ``torch``. ``check_spec`` compares forward values, first derivatives (a random
vector-Jacobian product), second derivatives (the derivative of that product along another random
vector, through ``create_graph=True``) and, in float64, the first derivative against central
finite differences.

The other helpers that test files share live here too, so that each is written once: conversions
(``to_numpy``, ``pair``, ``both``, ``tensor_of``, ``leaf``), comparisons (``assert_close``,
``assert_same_tree``, ``same`` for a program run with both libraries, ``raises_like_torch``), nn layers
against torch's (``layer_pair``, ``copy_torch_weights``, ``compare_layer``), a custom Function written
once for both libraries (``cube_function``), parameter grids, and running the scripts in examples/.
Fixtures are in conftest.py.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

import chainrule

Shapes = Sequence[tuple]  # one shape per tensor argument
LIBS = (chainrule, torch)
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


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
                a = np.where(np.abs(a) < arg.away_from_zero, np.sign(a + 1e-300) * arg.away_from_zero + a, a)
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
        return x.detach().resolve_conj().resolve_neg().numpy()  # (hfft's gradients are lazy negations)
    if isinstance(x, chainrule.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _outputs(result):
    """The differentiable float outputs of a result (a tensor or a tuple such as max's)."""
    items = result if isinstance(result, tuple | list) else (result,)
    return [r for r in items]


def assert_close(ours, theirs, rtol, atol, what: str) -> None:
    """Same shape and values. In float32 the absolute tolerance grows to ``rtol`` times the array's
    largest magnitude: an element of a sum of products (matmul, conv, a reduction) errs by eps32
    times the sum of its terms' magnitudes, which for an element that cancels to near zero is the
    array's scale, not its own; which elements cancel how much differs between BLAS kernels."""
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    if b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    if np.float32 in (a.dtype, b.dtype):
        finite = np.abs(b[np.isfinite(b)])
        atol = max(atol, rtol * float(finite.max(initial=0.0)))
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
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (
                f"{spec.name}: dtype {o.dtype} != torch's {t.dtype}"
            )
    if not spec.grad:
        return
    pairs = [(o, t) for o, t in zip(ours, theirs) if isinstance(t, torch.Tensor) and t.requires_grad]
    wrt = [i for i, a in enumerate(spec.args) if a.kind == "float" and a.grad]
    if not pairs or not wrt:
        return
    rng = np.random.default_rng(1234)
    vs = [rng.standard_normal(t.shape).astype(dtype) for _, t in pairs]
    ours_g = chainrule.autograd.grad(
        [o for o, _ in pairs],
        [ours_in[i] for i in wrt],
        [chainrule.tensor(v) for v in vs],
        create_graph=second,
        allow_unused=True,
    )
    theirs_g = torch.autograd.grad(
        [t for _, t in pairs],
        [torch_in[i] for i in wrt],
        [torch.tensor(v) for v in vs],
        create_graph=second,
        allow_unused=True,
    )
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
            assert o is None or np.allclose(to_numpy(o), 0, atol=atol), (
                f"{spec.name}: second derivative {i} should be zero"
            )
            continue
        if o is None:
            np.testing.assert_allclose(
                to_numpy(t), 0, atol=atol, err_msg=f"{spec.name}: second derivative {i} missing"
            )
            continue
        assert_close(o, t, rtol, atol, f"{spec.name} second derivative wrt input {i}")


def check_finite_differences(spec: OpSpec, arrays, eps: float = 1e-6) -> None:
    """Our float64 vector-Jacobian product against central finite differences."""
    ins = _tensors(chainrule, arrays, spec, np.float64)
    outs = [
        o for o in _outputs(spec.fn(chainrule, *ins)) if isinstance(o, chainrule.Tensor) and o.requires_grad
    ]
    wrt = [i for i, a in enumerate(spec.args) if a.kind == "float" and a.grad]
    if not outs or not wrt:
        return
    rng = np.random.default_rng(99)
    vs = [rng.standard_normal(o.shape) for o in outs]
    grads = chainrule.autograd.grad(
        outs, [ins[i] for i in wrt], [chainrule.tensor(v) for v in vs], allow_unused=True
    )

    def scalar(arrs) -> float:
        with chainrule.no_grad():
            ts = [chainrule.tensor(a) if a.dtype.kind != "f" else chainrule.tensor(a) for a in arrs]
            res = [
                o
                for o in _outputs(spec.fn(chainrule, *ts))
                if isinstance(o, chainrule.Tensor) and o.dtype.is_floating_point
            ]
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
        np.testing.assert_allclose(
            analytic,
            numeric,
            rtol=1e-4,
            atol=1e-5,
            err_msg=f"{spec.name}: gradient of input {i} vs finite differences",
        )


# ---- conversions ---------------------------------------------------------------------------------
def pair(array, requires_grad: bool = False):
    """The same leaf in chainrule and in torch."""
    return (
        chainrule.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def both(fn, array, requires_grad: bool = False) -> list:
    """``[fn(chainrule, tensor), fn(torch, tensor)]`` on the same array."""
    return [fn(lib, lib.tensor(array, requires_grad=requires_grad)) for lib in LIBS]


def tensor_of(lib, values, requires_grad: bool = False, dtype: str = "float64"):
    """A ``dtype`` tensor of ``values`` in ``lib`` (a copy: no negative strides)."""
    t = lib.tensor(np.array(values, dtype=dtype))
    return t.requires_grad_() if requires_grad else t


def grid(**options) -> list[dict]:
    """Every combination of the options' values, as keyword dicts."""
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


def cube_function(lib):
    """``Cube``: x^3 as a custom ``lib.autograd.Function`` whose backward is written with
    differentiable ops, so that it can be differentiated again."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    return Cube


# ---- comparisons -----------------------------------------------------------------------------------
def assert_same_tree(
    ours, theirs, where: str = "result", rtol: float = 1e-10, requires_grad: bool = True
) -> None:
    """Same pytree structure (tuples, lists, dicts in order), shapes, values and (unless told not to)
    requires_grad; ``theirs`` is torch's result, or chainrule's own for a second chainrule path."""
    if isinstance(theirs, torch.Tensor | chainrule.Tensor):
        assert isinstance(ours, chainrule.Tensor), f"{where}: {type(ours).__name__}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{where}: {ours.shape} vs {theirs.shape}"
        if requires_grad:
            assert ours.requires_grad == theirs.requires_grad, f"{where}: requires_grad"
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=rtol, atol=1e-12, err_msg=where)
    elif isinstance(theirs, tuple | list):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), f"{where}: {ours!r}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert_same_tree(o, t, f"{where}[{i}]", rtol, requires_grad)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{where}: keys"
        for k in theirs:
            assert_same_tree(ours[k], theirs[k], f"{where}[{k!r}]", rtol, requires_grad)
    else:
        assert ours == theirs, where


def same(program, rtol: float = 1e-6, atol: float = 1e-9):
    """Run ``program(lib)`` with chainrule and with torch; assert both return the same things.

    Returns chainrule's result, for checks against closed forms.
    """
    ours, theirs = program(chainrule), program(torch)
    _compare(ours, theirs, program.__name__, rtol, atol)
    return ours


def _compare(a, b, what: str, rtol: float, atol: float) -> None:
    if isinstance(b, torch.Tensor):
        assert isinstance(a, chainrule.Tensor), f"{what}: {type(a).__name__}, torch has a Tensor"
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (
            f"{what}: dtype {a.dtype} != torch's {b.dtype}"
        )
        assert_close(a, b, rtol, atol, what)
    elif isinstance(b, tuple | list):
        assert isinstance(a, tuple | list) and len(a) == len(b), f"{what}: {a!r} vs torch {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _compare(x, y, f"{what}[{i}]", rtol, atol)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), f"{what}: {a!r} vs torch {b!r}"
        for k in b:
            _compare(a[k], b[k], f"{what}[{k!r}]", rtol, atol)
    elif isinstance(b, float):
        assert a == pytest.approx(b, rel=rtol, abs=atol), f"{what}: {a} vs torch {b}"
    else:
        assert a == b, f"{what}: {a!r} vs torch {b!r}"


def same_or_same_error(program, shapes, fragments=(), rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """``program(lib, *leaves)`` on float64 leaves of ``shapes`` (random values) in both libraries:
    the same outputs and gradients of ``sum(out * w)`` (w random) with respect to every leaf (None
    and zeros alike), or the same built-in exception type at the same stage, with chainrule's
    message naming each of ``fragments`` (the op, the shapes)."""
    ours, theirs = (_run_with_gradients(lib, program, shapes) for lib in (chainrule, torch))
    if "error" in theirs:
        stage, exc = theirs["error"]
        kind = next(k for k in type(exc).__mro__ if k.__module__ == "builtins")
        assert "error" in ours, f"torch raises {type(exc).__name__} in {stage} ({exc}); we do not"
        assert ours["error"][0] == stage and isinstance(ours["error"][1], kind), (
            f"torch raises {type(exc).__name__} in {stage} ({exc}); we: {ours['error']!r}"
        )
        missing = [f for f in fragments if f not in str(ours["error"][1])]
        assert not missing, f"message {str(ours['error'][1])!r} does not mention {missing}"
        return
    assert "error" not in ours, f"we raise {ours['error']!r}; torch does not"
    _compare(ours["out"], theirs["out"], "forward", rtol, atol)
    for i, (g, t) in enumerate(zip(ours["grads"], theirs["grads"])):
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def _run_with_gradients(lib, program, shapes) -> dict:
    ins = [leaf(lib, np.random.default_rng(i).standard_normal(s)) for i, s in enumerate(shapes)]
    try:
        out = program(lib, *ins)
    except Exception as exc:  # noqa: BLE001 (compared with the other library's)
        return {"error": ("forward", exc)}
    outs = [o for o in (out if isinstance(out, tuple | list) else (out,)) if o.requires_grad]
    ws = [lib.tensor(np.random.default_rng(9).standard_normal(tuple(o.shape))) for o in outs]
    try:
        grads = lib.autograd.grad(outs, ins, ws, allow_unused=True) if outs else [None] * len(ins)
    except Exception as exc:  # noqa: BLE001
        return {"error": ("gradient", exc)}
    return {"out": out, "grads": [np.zeros(s) if g is None else to_numpy(g) for g, s in zip(grads, shapes)]}


def leaf(lib, values, dtype=None):
    """A float64 (or ``dtype``) leaf that requires grad."""
    return lib.tensor(np.asarray(values, dtype=np.float64), dtype=dtype or lib.float64, requires_grad=True)


def raises_like_torch(program, match: str) -> None:
    """``program(lib)`` raises the same exception type, with torch's message, in both libraries."""
    with pytest.raises(Exception, match=match) as theirs:
        program(torch)
    with pytest.raises(theirs.type, match=match):
        program(chainrule)


# ---- nn layers against torch's ---------------------------------------------------------------------
def copy_torch_weights(ours, theirs) -> None:
    """Load torch module ``theirs``'s parameters and buffers into chainrule module ``ours``."""
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})


def layer_pair(name: str, *args, dtype: str = "float64", **kwargs):
    """chainrule's layer ``nn.<name>(*args, **kwargs)`` and torch's, both holding torch's weights."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    ours = getattr(chainrule.nn, name)(*args, **kwargs).to(getattr(chainrule, dtype))
    copy_torch_weights(ours, theirs)
    return ours, theirs


def _close_or_absent(a, b, rtol, atol, what) -> None:
    if b is None:
        assert a is None or not to_numpy(a).any(), f"{what}: torch has no gradient"
        return
    assert a is not None, f"{what}: missing, torch has one"
    assert_close(a, b, rtol, atol, what)


def compare_layer(
    ours, theirs, inputs, *, dtype: str = "float64", second: bool = True, modes=("train", "eval"), call=None
) -> None:
    """Outputs, input and parameter gradients for a random upstream gradient and, with ``second``,
    the derivative of their random projection (double backward), in each mode. ``inputs``: one
    array or a list of them; ``call(layer, *tensors)`` defaults to ``layer(*tensors)``."""
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    call = call or (lambda layer, *xs: layer(*xs))
    rtol, atol = (1e-9, 1e-11) if dtype == "float64" else (1e-4, 1e-5)
    rng = np.random.default_rng(7)
    for mode in modes:
        getattr(ours, mode)()
        getattr(theirs, mode)()
        xs_o = [chainrule.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        xs_t = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out_o, out_t = call(ours, *xs_o), call(theirs, *xs_t)
        assert_close(out_o, out_t, rtol, atol, f"{mode} forward")
        assert str(out_o.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1]
        wrt_o = xs_o + [p for _, p in sorted(ours.named_parameters())]
        wrt_t = xs_t + [p for _, p in sorted(theirs.named_parameters())]
        v = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
        g_o = chainrule.autograd.grad(
            out_o, wrt_o, chainrule.tensor(v), create_graph=second, allow_unused=True
        )
        g_t = torch.autograd.grad(out_t, wrt_t, torch.tensor(v), create_graph=second, allow_unused=True)
        for i, (a, b) in enumerate(zip(g_o, g_t)):
            _close_or_absent(a, b, rtol, atol, f"{mode} grad {i}")
        if not second:
            continue
        terms_o, terms_t = [], []
        for a, b in zip(g_o, g_t):
            if b is not None and b.requires_grad:
                u = rng.standard_normal(tuple(b.shape)).astype(dtype)
                terms_t.append((b * torch.tensor(u)).sum())
                if a is not None and a.requires_grad:  # else a constant: no second derivative
                    terms_o.append((a * chainrule.tensor(u)).sum())
        if not terms_t:
            continue
        s_t = sum(terms_t[1:], terms_t[0])
        gg_t = torch.autograd.grad(s_t, wrt_t, allow_unused=True)
        if terms_o and (s_o := sum(terms_o[1:], terms_o[0])).requires_grad:
            gg_o = chainrule.autograd.grad(s_o, wrt_o, allow_unused=True)
        else:  # our first derivatives are constants: every second derivative is zero
            gg_o = [None] * len(wrt_o)
        for i, (a, b) in enumerate(zip(gg_o, gg_t)):
            if b is not None and a is None:
                a = np.zeros(tuple(b.shape), dtype=dtype)
            _close_or_absent(a, b, rtol, atol, f"{mode} second derivative {i}")


# ---- the scripts in examples/ ----------------------------------------------------------------------
def run_example(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python examples/<name> *args`` in a subprocess, from the repository root, with this
    checkout's src first on PYTHONPATH; ``name`` may also be a path to any script."""
    return run_python(EXAMPLES / name, *args, timeout=timeout)


def run_python(
    path,
    *args: str,
    timeout: float = 300,
    flags: Sequence[str] = (),
    env_extra: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """``python *flags path *args`` in a subprocess, from the repository root, with this checkout's
    src first on PYTHONPATH and the variables ``env_extra`` set."""
    env = {**os.environ, **(env_extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *flags, str(path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def load_example(name: str, library, module_name: str) -> ModuleType:
    """A fresh copy of examples/<name> as a module, switched to ``library`` by its ``use()``."""
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.use(library)
    return module
