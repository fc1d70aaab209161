"""Every op spec on empty (0-sized) inputs against torch: value, gradient, second derivative and
the type of any error raised.

The sweep is driven by the registry's specs (``tests/specs/``, the same list ``tests/test_ops.py``
runs): for each drawn argument shape it derives empty variants and runs the spec in both
libraries. Which variant makes sense depends on the op (a batch dim, a reduced dim, the inner dim
of a product), so every variant is tried and torch decides: where torch returns, chainrule must
return the same values, dtypes, gradients (empty or zero) and second derivatives; where torch
raises, chainrule must raise the same built-in exception type at the same stage (forward, first or
second derivative). chainrule must also emit no NumPy ``RuntimeWarning`` where torch is silent.

The variants of shapes drawn for a spec, with ``x`` its first argument that has a dim:

- ``x``'s leading (batch) dim set to 0, the other arguments unchanged;
- every dim of every argument with the size of ``x``'s leading dim set to 0 (a batch dim shared by
  all arguments, the broadcast partner of an element-wise op);
- every dim of every argument with the size of ``x``'s last dim set to 0 (a reduced dim, the inner
  dim of a matrix product).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import OpSpec, _outputs, _tensors, make_inputs, to_numpy
from specs import all_specs

import chainrule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPECS = all_specs()

# Specs that cannot take an empty shape, and why (reviewed: keep it short).
SKIP = {
    # torch's side of these is the recurrence written step by step (a Python loop over the
    # sequence, torch.stack of the steps), not the fused op chainrule runs: an empty sequence is
    # an error of that loop, not of the op. LSTM and GRU with batch 0 and an empty sequence are
    # compared layer against layer in tests/nn/test_empty_layers.py.
    "lstm_layer": "torch's side is a hand-written recurrence (see tests/nn/test_empty_layers.py)",
    "lstm_layer(reverse)": "torch's side is a hand-written recurrence",
    "lstm_layer(bias=False)": "torch's side is a hand-written recurrence",
    "gru_layer": "torch's side is a hand-written recurrence",
    "gru_layer(reverse)": "torch's side is a hand-written recurrence",
    "gru_layer(bias=False)": "torch's side is a hand-written recurrence",
    # torch 2.13's pdist backward on an input with no rows crashes the process (SIGSEGV)
    "pdist": "torch's pdist backward segfaults on (0, n)",
    "pdist(p=1.5)": "torch's pdist backward segfaults on (0, n)",
    "F.multi_margin_loss": "torch 2.13's mean over 0 samples is uninitialized memory, not nan",
}
SKIP.update(
    dict.fromkeys(
        [
            "addcmul_ (in place)",
            "gather 0-d",
            "einsum of a 0-d tensor",
            "softmax 0-d",
            "log_softmax 0-d",
            "sum(0-d, dim=0)",
            "max(0-d, dim=0)",
            "cumsum(0-d)",
            "cumprod(0-d)",
            "sort(stable) 0-d",
            "median(0-d, dim=0)",
            "x.nanmedian(0-d, dim=0)",
            "mode 0-d",
            "x.take 0-d",
        ],
        "0-d inputs only: no dim to make empty",
    )
)

# Where chainrule still differs from torch on empty inputs (docs/differences.md): strict xfails,
# so that a fix shows up as a failure until its entry goes.
KNOWN: dict[str, str] = {}

# Where torch 2.13 is wrong on empty inputs and chainrule gives the mathematically right result:
# the sweep checks that each still differs from torch; each has a hand test of chainrule's result
# below.
TORCH_BUGS = {
    # torch places a 1-D empty block as one row of zero width, then reads the next blocks'
    # gradients one row too high
    "block_diag": "torch's backward reads a block after a 1-D empty one a row too high",
    # LAPACK's gels returns at once for n = 0 and torch reads 0 residuals from it, yet its own
    # gradient is that of |b|^2 (the residual of the empty solution), as gelsd's value is
    "linalg.lstsq gels": "torch's gels residuals are 0 for 0 unknowns (|b|^2 for gelsd, and its gradient)",
    # an empty output cannot depend on the weight, yet torch's group_norm backward multiplies by
    # the empty groups' mean (NaN); its instance_norm (group_norm with a channel per group) gives 0
    "group_norm(2)": "torch's weight gradient over empty groups is NaN (its instance_norm's is 0)",
}

# torch's errors on empty inputs that come from its own implementation tripping on them, not
# from a check of the arguments (an internal select of element 0, a complex view of an empty
# gradient, MKL's FFT plan, a storage offset): where torch raises one of these, chainrule may
# return a result or raise its own documented error, and that stage is not compared.
TORCH_INTERNAL = re.compile(
    "|".join(
        [
            r"Tensor must have a last dimension with stride 1",
            r"MKL FFT error",
            r"setStorage:",
            r"select\(\): index 0 out of range for tensor of size \[0\]",
            r"The expanded size of the tensor \(0\) must match",
            r"self indexing axis dim should be positive",
            r"Padding_idx must be within num_embeddings",
            r"cannot reshape tensor of 0 elements into shape \[-1, 0\]",
        ]
    )
)


def _variants(shapes) -> list[tuple[str, tuple]]:
    """The distinct empty variants of ``shapes`` (see the module's docstring)."""
    first = next((s for s in shapes if len(s) >= 1), None)
    if first is None:
        return []  # all 0-d: nothing to make empty
    k = next(i for i, s in enumerate(shapes) if len(s) >= 1)
    candidates = [
        (f"dim 0 of input {k}", tuple((0,) + s[1:] if i == k else s for i, s in enumerate(shapes))),
        (f"every dim of size {first[0]}", _zero_size(shapes, first[0])),
        (f"every dim of size {first[-1]}", _zero_size(shapes, first[-1])),
    ]
    seen, out = set(), []
    for label, variant in candidates:
        if variant not in seen:
            seen.add(variant)
            out.append((label, variant))
    return out


def _zero_size(shapes, size: int) -> tuple:
    return tuple(tuple(0 if n == size else n for n in s) for s in shapes)


def _builtin_type(exc: BaseException) -> type:
    """The nearest built-in class of an exception (torch's LinAlgError is a RuntimeError)."""
    return next(k for k in type(exc).__mro__ if k.__module__ == "builtins")


class _Run:
    """One spec run in one library: forward, a vector-Jacobian product, and its derivative."""

    def __init__(self, lib, spec: OpSpec, arrays, positions=None):
        self.stages: list[tuple[str, object]] = []
        self.error: tuple[str, BaseException] | None = None
        self.positions = positions  # which outputs are differentiated (torch's, for chainrule)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._run(lib, spec, arrays)
            except Exception as exc:  # noqa: BLE001 (compared with torch's below)
                self.error = (self._next_stage, exc)
        self.warnings = [w for w in caught]

    def _run(self, lib, spec, arrays) -> None:
        self._next_stage = "forward"
        ins = _tensors(lib, arrays, spec, np.float64)
        outs = _outputs(spec.fn(lib, *ins))
        self.stages.append(("forward", outs))
        if self.positions is None:
            self.positions = [i for i, o in enumerate(outs) if isinstance(o, lib.Tensor) and o.requires_grad]
        wrt = [ins[i] for i, a in enumerate(spec.args) if a.kind == "float" and a.grad]
        if not (spec.grad and self.positions and wrt):
            return
        self._next_stage = "gradient"
        rng = np.random.default_rng(0)
        outs = [outs[i] for i in self.positions]
        vs = [lib.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
        grads = lib.autograd.grad(outs, wrt, vs, create_graph=spec.gradgrad, allow_unused=True)
        self.stages.append(("gradient", grads))
        if not spec.gradgrad:
            return
        self._next_stage = "second derivative"
        terms = []
        for k, g in enumerate(grads):
            if g is not None and g.requires_grad:  # else a constant: no second derivative
                w = np.random.default_rng(k + 1).standard_normal(tuple(g.shape))
                terms.append((g * lib.tensor(w)).sum())
        if terms:
            second = lib.autograd.grad(sum(terms[1:], terms[0]), wrt, allow_unused=True)
        else:
            second = [None] * len(wrt)
        self.stages.append(("second derivative", second))


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def _same_value(ours, theirs, what: str, rtol: float, atol: float) -> None:
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, chainrule.Tensor), f"{what}: {type(ours).__name__}, torch has a Tensor"
        a, b = to_numpy(ours), to_numpy(theirs)
        assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
        assert _dtype_name(ours) == _dtype_name(theirs), (
            f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
        )
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    elif isinstance(theirs, tuple | list):
        assert isinstance(ours, tuple | list) and len(ours) == len(theirs), f"{what}: {ours!r}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _same_value(o, t, f"{what}[{i}]", rtol, atol)
    elif isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=rtol, abs=atol, nan_ok=True), f"{what}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{what}: {ours!r} != torch's {theirs!r}"


def _same_grads(ours, theirs, what: str, rtol: float, atol: float, strict: bool) -> None:
    """torch's ``None`` (no path) may be our ``None`` or zeros; torch's tensor must be ours
    (``strict``) or, for second derivatives, where our first derivative was a constant, zero."""
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if t is None:
            assert o is None or not to_numpy(o).any(), f"{what} {i}: torch has None"
        elif o is None:
            assert not strict, f"{what} {i}: None, torch has a tensor of shape {tuple(t.shape)}"
            assert not to_numpy(t).any(), f"{what} {i}: missing, torch's is not zero"
        else:
            _same_value(o, t, f"{what} {i}", rtol, atol)


def check_empty(spec: OpSpec, shapes, label: str) -> None:
    """The spec on ``shapes`` (an empty variant) in both libraries: same results or same error."""
    arrays = make_inputs(spec, shapes, 0)
    theirs = _Run(torch, spec, arrays)
    ours = _Run(chainrule, spec, arrays, theirs.positions)
    where = f"{spec.name} on {label} {list(shapes)}"
    if theirs.error is not None and TORCH_INTERNAL.search(str(theirs.error[1])):
        stages = [name for name, _ in theirs.stages]  # compare only what came before
        assert ours.error is None or ours.error[0] not in stages, f"{where}: we raise {ours.error}"
        ours.stages = [(name, v) for name, v in ours.stages if name in stages]
    elif theirs.error is not None:
        stage, exc = theirs.error
        assert ours.error is not None, (
            f"{where}: torch raises {type(exc).__name__} in {stage} ({exc}), we do not"
        )
        assert (ours.error[0], _builtin_type(ours.error[1])) == (stage, _builtin_type(exc)), (
            f"{where}: we raise {type(ours.error[1]).__name__} in {ours.error[0]} ({ours.error[1]}), "
            f"torch raises {type(exc).__name__} in {stage} ({exc})"
        )
    elif ours.error is not None:
        stage, exc = ours.error
        raise AssertionError(f"{where}: we raise {type(exc).__name__} in {stage}: {exc}") from exc
    for (stage, o), (_, t) in zip(ours.stages, theirs.stages):
        if stage == "forward":
            _same_value(o, t, f"{where}: forward", spec.rtol, spec.atol)
        else:
            _same_grads(o, t, f"{where}: {stage} of input", spec.rtol, spec.atol, stage == "gradient")
    if not theirs.warnings:
        numpy_warnings = [str(w.message) for w in ours.warnings if issubclass(w.category, RuntimeWarning)]
        assert not numpy_warnings, f"{where}: RuntimeWarning where torch is silent: {numpy_warnings}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_op_on_empty_inputs_matches_torch(spec: OpSpec, request) -> None:
    if spec.name in SKIP:
        pytest.skip(SKIP[spec.name])
    if spec.name in TORCH_BUGS:
        pytest.skip(TORCH_BUGS[spec.name])
    if spec.name in KNOWN:
        request.applymarker(pytest.mark.xfail(reason=KNOWN[spec.name], strict=True))
    checked: list[str] = []

    # The first example hypothesis tries is its simplest (0-d shapes for most specs), so a few
    # examples run; each checks one variant of the shapes it drew.
    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def run(data) -> None:
        variants = _variants(data.draw(spec.shapes, label="shapes"))
        if variants:
            label, shapes = variants[data.draw(st.integers(0, len(variants) - 1), label="variant")]
            check_empty(spec, shapes, label)
            checked.append(label)

    run()
    assert checked, f"{spec.name}: no drawn shape has a dim to make empty; give a reason in SKIP"


_NO_DIM = "0-d inputs only: no dim to make empty"
_LISTED = sorted({*TORCH_BUGS, *(name for name, why in SKIP.items() if why == _NO_DIM)})


@pytest.mark.parametrize("name", _LISTED)
def test_listed_specs_still_need_their_entry(name: str) -> None:
    """The lists are kept honest: a spec in TORCH_BUGS must still differ from torch on an empty
    variant it draws (else its entry goes, and its hand test deserves a look), and a spec skipped as
    0-d only must still draw no dim to make empty (else the sweep should check it). (KNOWN's
    entries run in the sweep as strict xfails.)"""
    specs = [spec for spec in SPECS if spec.name == name]
    checked: list[str] = []
    differing: list[str] = []

    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def draw(data) -> None:
        for spec in specs:
            variants = _variants(data.draw(spec.shapes, label="shapes"))
            if not variants:
                continue
            label, shapes = variants[data.draw(st.integers(0, len(variants) - 1), label="variant")]
            checked.append(label)
            if name in TORCH_BUGS:
                try:
                    check_empty(spec, shapes, label)
                except AssertionError:
                    differing.append(label)

    draw()
    if name in TORCH_BUGS:
        assert differing, (
            f"{name}: now gives torch's result on every empty variant drawn ({checked}): remove it "
            "from TORCH_BUGS (and check that its hand test still holds)"
        )
    else:
        assert not checked, (
            f"{name}: now draws a dim to make empty ({checked}): remove it from SKIP, so that the "
            "sweep checks it"
        )


def test_listed_specs_exist() -> None:
    """Every name in SKIP, KNOWN and TORCH_BUGS is a spec's, so a renamed spec leaves no stale entry."""
    names = {spec.name for spec in SPECS}
    for table_name, table in (("SKIP", SKIP), ("KNOWN", KNOWN), ("TORCH_BUGS", TORCH_BUGS)):
        missing = sorted(set(table) - names)
        assert not missing, f"{table_name} names no spec of tests/specs: {missing}"


def test_variants_cover_batch_shared_and_inner_dims() -> None:
    """The variants of a matrix product's and an element-wise op's shapes."""
    assert _variants([(2, 3), (3, 4)]) == [
        ("dim 0 of input 0", ((0, 3), (3, 4))),
        ("every dim of size 3", ((2, 0), (0, 4))),
    ]
    assert _variants([(), (2, 2)]) == [
        ("dim 0 of input 1", ((), (0, 2))),
        ("every dim of size 2", ((), (0, 0))),
    ]
    assert _variants([(), ()]) == []


def test_block_diag_after_a_one_dimensional_empty_block_takes_the_gradient_of_its_own_rows():
    """torch 2.13 places a 1-D empty block as one row of zero width, then reads the next blocks'
    gradients one row too high: the gradient checked here is the forward's own, by hand."""
    empty = chainrule.zeros(0, dtype=chainrule.float64, requires_grad=True)
    b = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=chainrule.float64, requires_grad=True)
    c = chainrule.tensor([[5.0]], dtype=chainrule.float64, requires_grad=True)
    out = chainrule.block_diag(empty, b, c)
    weights = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(out.detach().numpy()[1:3, :2], b.detach().numpy())
    (out * chainrule.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), weights[1:3, :2])
    np.testing.assert_array_equal(c.grad.numpy(), weights[3:, 2:])
    assert empty.grad.shape == (0,)


def test_lstsq_gels_with_no_unknowns_has_the_residuals_of_the_empty_solution():
    """0 unknowns: the solution is empty and each residual is |b|^2, as torch's gelsd gives (torch's
    gels gives 0 with |b|^2's gradient); the gradient is 2 b."""
    rng = np.random.default_rng(0)
    a, b = np.zeros((5, 0)), rng.standard_normal((5, 2))
    B = chainrule.tensor(b, requires_grad=True)
    ours = chainrule.linalg.lstsq(chainrule.tensor(a), B, driver="gels")
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver="gelsd")
    assert tuple(ours.solution.shape) == (0, 2)
    np.testing.assert_allclose(ours.residuals.detach().numpy(), theirs.residuals.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.residuals.detach().numpy(), (b**2).sum(0), rtol=1e-12)
    ours.residuals.sum().backward()
    np.testing.assert_allclose(B.grad.numpy(), 2 * b, rtol=1e-12)


def test_group_norm_over_empty_groups_gives_the_weight_no_gradient():
    """No spatial extent: the output is empty, so the weight and bias gradients are 0, as torch's
    instance_norm gives for the same map (torch's group_norm gives NaN for the weight)."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 0)), rng.standard_normal(4), rng.standard_normal(4)
    grads = {}
    for lib, norm in (
        (chainrule, lambda m, x, w, b: m.nn.functional.group_norm(x, 4, w, b)),
        (torch, lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b)),
    ):
        ins = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = norm(lib, *ins)
        assert tuple(out.shape) == (2, 4, 0)
        grads[lib.__name__] = [g.numpy() for g in lib.autograd.grad(out.sum(), ins)]
    for ours, theirs in zip(grads["chainrule"], grads["torch"]):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(grads["chainrule"][1], np.zeros(4))
