"""Every op spec of tests/specs under vmap: ``vmap(spec.fn)`` over 3 drawn samples equals the 3
unbatched results stacked, and the gradients through vmap equal the per-sample gradients (stacked
for mapped inputs, summed for shared ones).

Two mappings per spec: every argument mapped, and only the first (the others shared, unbatched,
so batched and unbatched operands meet in every op). Ops that vmap cannot batch, or only through
the per-sample fallback loop, are listed below with the reason; a new op that breaks vmap (or
silently falls back) fails this test. A listed data-dependent op that starts working must leave
the list.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import OpSpec, _outputs, _tensors, make_inputs, to_numpy
from specs import all_specs
from specs import dtypes as dtypes_specs

import chainrule
from chainrule.func import _batched

SPECS = all_specs()

#: the number of nonzero / selected elements differs per sample: no batched shape exists (torch
#: raises for these under vmap too)
DATA_DEPENDENT = {
    "nonzero",
    "nonzero method",
    "nonzero(as_tuple)",
    "argwhere",
    "where(cond)",
    "masked_select",
    "masked_select method",
    "x[bool mask]",
    "x[x > 0]",
    "x[:, bool mask]",
    "y[mask] = v",
    "masked_fill(0-d tensor)",  # the fill value's gradient sums g over a batched mask
    "F.cross_entropy label_smoothing weight ignore",  # float() of a sum over the kept targets
}

#: batched through the per-sample loop of the fallback (correct, slow): name -> NumPy function
FALLBACK: dict = {
    "embedding(padding_idx=1, scale_grad_by_freq)": "numpy.bincount (counts differ per sample)",
}

#: views of the storage itself: a sample's storage is a slice of the batch's (torch's vmap supports
#: only some of these); chainrule raises a clear error
STORAGE_VIEWS = {"x.as_strided((2, 2), (1, 2), 1)", "as_strided overlapping windows"}

#: draws from the generator: each call differs, so there is no per-sample reference (torch's vmap
#: refuses random ops by default too, randomness="error"); chainrule raises a clear error
RANDOM = {"distributions standard_gamma passes gradients"}

#: complex numbers and fft (tests/specs/dtypes.py): vmap has no batching rules for complex parts,
#: complex() and the transforms yet; these raise vmap's clear error (listed in docs/differences.md)
COMPLEX_NOT_BATCHED = {s.name for s in dtypes_specs.SPECS} - {
    "x.real of a real tensor",
    "angle of a real tensor",
    "fftshift",
    "ifftshift(dim=0)",
}

#: written with NumPy code that does not dispatch for vmap's batched arrays yet (a Python loop
#: over lanes, a NaN count or a mask read as a number, np.add.at into a fresh buffer): they raise
#: vmap's clear error
NOT_YET_BATCHED = {
    "nanmedian",
    "nanmedian with NaN",
    "nanmedian with ties",
    "nanmedian(dim=0)",
    "nanmedian(dim=-1, keepdim) with NaN",
    "mode",
    "mode with ties",
    "x.mode(0, keepdim)",
    "mode int",
    "scatter_reduce(prod, include_self=True)",
    "scatter_reduce(prod, include_self=False)",
    "scatter_reduce(prod) with zeros",
    "x.scatter_reduce(prod) self zero",
    "index_reduce(prod, include_self=True)",
    "index_reduce(prod, include_self=False)",
    "masked_scatter",
    "x.masked_scatter_",
    "x.index_put(bool mask, accumulate)",  # a batched bool mask: data-dependent as written
    # vmap takes attention's composed path (ops/attention.py's fused node is NumPy-only): its check
    # for rows that attend to nothing reads the whole batch
    "F.scaled_dot_product_attention bool mask",
    # the fused recurrent layers write into preallocated buffers (out=); nn.LSTM / nn.GRU take the
    # composed per-step path under vmap instead
    "lstm_layer",
    "lstm_layer(reverse)",
    "lstm_layer(bias=False)",
    "gru_layer",
    "gru_layer(reverse)",
    "gru_layer(bias=False)",
}

ALLOWED = DATA_DEPENDENT | STORAGE_VIEWS | RANDOM | NOT_YET_BATCHED


def _differentiable(spec: OpSpec) -> list:
    return [k for k, a in enumerate(spec.args) if a.kind == "float" and a.grad and spec.grad]


def _per_sample(spec: OpSpec, samples: list, cotangents: list | None):
    """Each sample's outputs, and its gradients for the cotangents (None: forward only)."""
    outs, grads = [], []
    for i, arrays in enumerate(samples):
        ins = _tensors(chainrule, arrays, spec, np.float64)
        o = _outputs(spec.fn(chainrule, *ins))
        outs.append([to_numpy(t) for t in o])
        if cotangents is not None:
            pairs = [(t, c[i]) for t, c in zip(o, cotangents) if c is not None]
            wrt = [ins[k] for k in _differentiable(spec)]
            grads.append(
                chainrule.autograd.grad(
                    [t for t, _ in pairs], wrt, [chainrule.tensor(c) for _, c in pairs], allow_unused=True
                )
            )
    return outs, grads


def check_vmap(spec: OpSpec, shapes, seed: int, mapped: str) -> None:
    samples = [make_inputs(spec, shapes, seed + i) for i in range(3)]
    n = len(samples[0])
    in_dims = tuple(0 if mapped == "all" or k == 0 else None for k in range(n))
    for k in range(n):  # shared arguments: the same value in every sample
        if in_dims[k] is None:
            for s in samples[1:]:
                s[k] = samples[0][k]
    # every spec draws valid inputs (tests/test_ops.py runs them unbatched): an error here is a failure
    ref_outs, _ = _per_sample(spec, samples, None)
    batched = [np.stack([s[k] for s in samples]) if d == 0 else samples[0][k] for k, d in enumerate(in_dims)]
    ins = _tensors(chainrule, batched, spec, np.float64)
    outs = _outputs(chainrule.func.vmap(lambda *xs: spec.fn(chainrule, *xs), in_dims=in_dims)(*ins))
    assert len(outs) == len(ref_outs[0])
    for j, o in enumerate(outs):
        ref = np.stack([r[j] for r in ref_outs])
        assert to_numpy(o).shape == ref.shape, f"output {j}: shape {to_numpy(o).shape} != {ref.shape}"
        np.testing.assert_allclose(
            to_numpy(o), ref, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=f"{spec.name} output {j}"
        )
    wrt = _differentiable(spec)
    diff = [o for o in outs if isinstance(o, chainrule.Tensor) and o.requires_grad]
    if not wrt or not diff:
        return
    rng = np.random.default_rng(seed)
    cots = [
        rng.standard_normal(o.shape) if isinstance(o, chainrule.Tensor) and o.requires_grad else None
        for o in outs
    ]
    got = chainrule.autograd.grad(
        [o for o, c in zip(outs, cots) if c is not None],
        [ins[k] for k in wrt],
        [chainrule.tensor(c) for c in cots if c is not None],
        allow_unused=True,
    )
    _, ref_grads = _per_sample(spec, samples, cots)
    for g, k, col in zip(got, wrt, zip(*ref_grads)):
        if all(r is None for r in col):
            assert g is None or np.allclose(to_numpy(g), 0), f"{spec.name}: grad {k} should be None"
            continue
        rows = [np.zeros(samples[i][k].shape) if r is None else to_numpy(r) for i, r in enumerate(col)]
        ref = np.stack(rows) if in_dims[k] == 0 else np.sum(rows, axis=0)
        assert g is not None, f"{spec.name}: no gradient for input {k}"
        np.testing.assert_allclose(
            to_numpy(g),
            ref,
            rtol=1e-7,
            atol=1e-9,
            equal_nan=True,
            err_msg=f"{spec.name} grad of input {k} ({mapped} mapped)",
        )


def _run_checked(spec: OpSpec, shapes, seed: int, mapped: str) -> list:
    """check_vmap, returning the fallback warnings it raised (each function warns once: reset)."""
    _batched._WARNED.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_vmap(spec, shapes, seed, mapped)
    return [str(w.message) for w in caught if "performance drop" in str(w.message)]


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.name not in ALLOWED | COMPLEX_NOT_BATCHED], ids=lambda s: s.name
)
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_op_under_vmap(spec: OpSpec, data) -> None:
    shapes = data.draw(spec.shapes, label="shapes")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    for mapped in ("all", "first"):
        fell_back = _run_checked(spec, shapes, seed, mapped)
        if spec.name not in FALLBACK:
            assert not fell_back, f"{spec.name} runs through the per-sample fallback: {fell_back}"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.name in ALLOWED], ids=lambda s: s.name)
def test_data_dependent_op_raises(spec: OpSpec) -> None:
    """A data-dependent op raises a clear error under vmap (for one of a few draws and mappings at
    least); if it starts to work, take it off the list."""
    errors = []

    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def attempt(data) -> None:
        shapes = data.draw(spec.shapes, label="shapes")
        for mapped in ("all", "first"):
            seed = data.draw(st.integers(0, 2**31 - 1))
            _per_sample(spec, [make_inputs(spec, shapes, seed)], None)  # valid unbatched: not caught
            try:
                _run_checked(spec, shapes, seed, mapped)
            except (RuntimeError, IndexError) as e:
                errors.append(str(e))

    attempt()
    assert errors, f"{spec.name} works under vmap now: remove it from the allow-list"


def test_allow_lists_name_real_specs() -> None:
    names = {s.name for s in SPECS}
    assert not (ALLOWED | set(FALLBACK)) - names
