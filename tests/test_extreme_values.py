"""inf, -inf, NaN, huge, tiny and -0.0 through every op spec, against torch, with no NumPy warning.

Each spec of ``tests/specs`` (the registry ``tests/test_ops.py`` iterates) is run once on its usual
inputs with one extreme value written into the first element of every floating-point argument:
``inf``, ``-inf``, ``nan``, ``1e38`` (near float32's largest, so a product overflows), ``1e-45``
(float32's smallest subnormal, so a reciprocal overflows) and ``-0.0`` (whose sign ``1 / x`` and
``atan2`` see). The values of every output and a vector-Jacobian product with every float input
must equal torch's: NaN where torch gives NaN, the same infinities with the same signs, the
finite values to float32 tolerance, the signs of exact zeros in the outputs; or both libraries
raise the same type of exception. chainrule runs with ``RuntimeWarning`` as an error: where torch is
silent, so is chainrule.

The specs' own value ranges stay as they are around the extreme element, so an op whose spec keeps
its input inside a domain (``log`` on positives) still meets the extreme value there.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import OpSpec, _outputs, _tensors, assert_close, make_inputs, to_numpy
from specs import all_specs

import chainrule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EXTREMES = {
    "inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
    "huge": 1e38,
    "tiny": 1e-45,
    "-0.0": -0.0,
}

# spec name -> why its extreme variants are not compared with torch
SKIPPED: dict[str, str] = {}

SPECS = all_specs()


def _with_extreme(spec: OpSpec, arrays: list, value: float) -> list:
    """The spec's float arrays with ``value`` as their first element (others unchanged)."""
    out = []
    for a, arg in zip(arrays, spec.args):
        if arg.kind == "float" and a.size:
            a = a.astype(np.float32)  # float32: 1e38 and 1e-45 are extreme only there
            a.reshape(-1)[0] = value
        out.append(a)
    return out


def _run(lib, spec: OpSpec, arrays: list):
    """Forward and a vector-Jacobian product in ``lib``: (outputs, gradients), or the exception."""
    ins = _tensors(lib, arrays, spec, np.float32)
    try:
        outs = _outputs(spec.fn(lib, *ins))
        tensors = [o for o in outs if isinstance(o, lib.Tensor)]
        wrt = [t for t, a in zip(ins, spec.args) if a.kind == "float" and t.requires_grad]
        pairs = [o for o in tensors if o.requires_grad]
        grads = []
        if spec.grad and pairs and wrt:
            rng = np.random.default_rng(7)
            vs = [
                lib.tensor(rng.standard_normal(tuple(o.shape)).astype(str(o.dtype).split(".")[-1]))
                for o in pairs
            ]
            grads = lib.autograd.grad(pairs, wrt, vs, allow_unused=True)
    except Exception as e:  # noqa: BLE001  (compared with torch's below)
        return e
    return outs, list(grads)


def _builtin_base(error: BaseException) -> type:
    """The first built-in class among the exception's bases (torch's LinAlgError is a RuntimeError)."""
    return next(k for k in type(error).__mro__ if k.__module__ == "builtins")


def _same_zero_signs(ours, theirs, what: str) -> None:
    a, b = to_numpy(ours), to_numpy(theirs)
    if b.dtype.kind != "f":
        return
    zeros = b == 0
    np.testing.assert_array_equal(
        np.signbit(a[zeros]), np.signbit(b[zeros]), err_msg=f"{what}: signs of zeros"
    )


def _compare(spec: OpSpec, label: str, ours, theirs) -> None:
    if isinstance(theirs, BaseException) or isinstance(ours, BaseException):
        assert isinstance(ours, BaseException), f"{label}: torch raised {theirs!r}, chainrule did not"
        assert isinstance(theirs, BaseException), f"{label}: chainrule raised {ours!r}, torch did not"
        assert _builtin_base(ours) is _builtin_base(theirs), f"{label}: {ours!r}, torch {theirs!r}"
        return
    (outs_o, grads_o), (outs_t, grads_t) = ours, theirs
    assert len(outs_o) == len(outs_t), f"{label}: {len(outs_o)} outputs, torch {len(outs_t)}"
    for k, (o, t) in enumerate(zip(outs_o, outs_t)):
        if isinstance(t, torch.Tensor):
            assert_close(o, t, 2e-4, 1e-5, f"{label} output {k}")
            _same_zero_signs(o, t, f"{label} output {k}")
        else:
            assert o == t or (o != o and t != t), f"{label} output {k}: {o} vs torch {t}"
    assert len(grads_o) == len(grads_t), f"{label}: gradients"
    for k, (o, t) in enumerate(zip(grads_o, grads_t)):
        if t is None or o is None:
            zero = o if t is None else t
            assert zero is None or not np.any(to_numpy(zero)), f"{label} gradient {k}: one of them is None"
            continue
        assert_close(o, t, 2e-4, 1e-5, f"{label} gradient {k}")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_extreme_values_match_torch(spec: OpSpec, data) -> None:
    if spec.name in SKIPPED:
        pytest.skip(SKIPPED[spec.name])
    shapes = data.draw(spec.shapes, label="shapes")
    arrays = make_inputs(spec, shapes, 0)
    if not any(a.kind == "float" for a in spec.args):
        pytest.skip("no floating-point argument")
    for label, value in EXTREMES.items():
        extreme = _with_extreme(spec, arrays, value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _run(torch, spec, extreme)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            ours = _run(chainrule, spec, extreme)
        _compare(spec, f"{spec.name} with {label}", ours, theirs)
