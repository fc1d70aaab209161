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

Bounded: in ``make test`` each spec of the ``TRIAGED`` spec modules meets one extreme value (the
six rotate over the specs); ``make fuzz`` (marker ``fuzz``) runs all six on every spec of every
module.
Every spec module has been swept with all six values and triaged; what still differs would be
listed in ``KNOWN`` (and docs/differences.md, "Extreme values"), each a difference to fix, not a
domain where comparing is meaningless: the list is empty. In ``make fuzz`` a listed case is run too
and must still differ from torch (a strict xfail): once it matches, the test fails and says to
remove the entry. The modules outside ``TRIAGED`` (the slowest) run in ``make fuzz`` only.
Where torch's own answer is wrong or an artifact of which of its kernels ran (garbage singular
vectors of a matrix holding an inf, a variance merge that multiplies an overflowed square by a zero
count), the case is in ``TORCH_WRONG`` instead, with the test that checks chainrule's result by hand.
Where the outputs are determined only far above float32's precision of them (eigh of a matrix that
1e38 swamps), the case is in ``ILL_CONDITIONED``, with the test that checks them by residual.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections import Counter

import numpy as np
import pytest
import specs
import torch
from fuzzing import scale
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import OpSpec, _outputs, _tensors, assert_close, make_inputs, to_numpy

import chainrule

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:TF32 acceleration"),  # (torch's, on turning oneDNN off)
]

EXTREMES = {
    "inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
    "huge": 1e38,
    "tiny": 1e-45,
    "-0.0": -0.0,
}

# spec modules in make test (tests/specs/<name>.py); every module is swept and triaged (KNOWN), but
# linalg_solve, reduce, shape, shapelinalg and sortred, the slowest, run in make fuzz only (about
# 12 s more on the bounded run)
TRIAGED = {
    "creation",
    "distributions",
    "dtypes",
    "elementwise",
    "elemspecial",
    "func_vmap",
    "gradfn",
    "index",
    "linalg",
    "linalg_decomp",
    "linalg_eig",
    "nn_attention",
    "nn_basic",
    "nn_conv",
    "nn_norm",
    "nn_recurrent",
    "nnfunc",
    "nnspatial",
    "sorting",
}

# spec name -> the extreme values where chainrule still differs from torch (docs/differences.md,
# "Extreme values"), each a difference to fix: empty since issue 14 closed the last of them. Every
# spec module is swept with all six values; LU, QR, Cholesky, inverses, solves and determinants of
# a matrix holding inf or NaN follow torch's through LAPACK's reference algorithms
# (chainrule.kernels.lapack_reference). A new entry must be a spec name and a subset of EXTREMES
# (test_listed_cases_name_specs_that_meet_an_extreme_value), and make fuzz fails once it matches.
KNOWN: dict[str, set[str]] = {}

# (part of TORCH_WRONG below) the extreme values where torch's result is an artifact of its kernel,
# not a convention to copy (chainrule's result is checked by hand in the named test)
_TORCH_WRONG_NORMS: dict[str, set[str]] = {
    # 1e38: the row's variance overflows float32. torch's RowwiseMoments merges per-lane Welford
    # moments with m2 += delta^2 * c * m0, and its first merge (into an empty accumulator: m0 = 0,
    # c = 0 for an empty lane) multiplies the overflowed delta^2 = inf by 0: NaN, or not, by the
    # row's length against the SIMD width (a 9-element row gives 0, a 4- or 32-element one NaN).
    # chainrule's variance is inf, so invstd = 0 and the row's output is the bias, at every length
    # (tests/nn/test_norm_fused.py::test_layer_and_group_norm_of_an_overflowing_row).
    "layer_norm": {"huge"},
    "layer_norm no affine, eps=0.5": {"huge"},
    "layer_norm whole input, weight only": {"huge"},
    "group_norm(2)": {"huge"},
    "group_norm(3) no affine": {"huge"},
}


# spec name -> the extreme values where torch's own answer is wrong, so chainrule does not copy it
# (the sweep checks that each still differs, like KNOWN; tests/test_linalg_extreme.py checks
# chainrule's by hand). A
# matrix holding an inf has no SVD: torch's S is NaN (as chainrule's), but its U and Vh are the
# permutation matrices MKL's gesdd leaves after rejecting the inf (they change with the values,
# and for some positions of the inf torch raises instead), so everything built from them is
# garbage: the singular vectors themselves (svd), the gradients through S (U diag(g) Vh: svdvals,
# the nuclear norm), and pinv, which drops every NaN singular value and returns the zero matrix
# (the limit of pinv([[x, 0], [0, 1]]) as x grows is [[0, 0], [0, 1]], not 0), so lstsq's
# gradients (through pinv) and gelss's solution (0) too. chainrule gives NaN there.
TORCH_WRONG: dict[str, set[str]] = {
    name: {"-inf", "inf"}
    for name in (
        "linalg.svd",
        "linalg.svd (batches)",
        "linalg.svd full_matrices=True",
        "linalg.svd U only",
        "linalg.svd Vh only",
        "linalg.svd S only",
        "linalg.svdvals",
        "linalg.svdvals (batches)",
        "svd",
        "svd some=False",
        "svd compute_uv=False",
        "Tensor.svd",
        "linalg.matrix_norm ord=nuc",
        "linalg.matrix_norm ord=nuc dim=(2, 0) keepdim",
        "linalg.norm 'nuc'",
        "norm p='nuc'",
        "norm p='nuc' dim=(0, 2)",
        "Tensor.norm p='nuc' keepdim",
        "nuclear_norm",
        "linalg.pinv",
        "linalg.pinv atol, rtol",
        "pinverse",
        "Tensor.pinverse",
        "linalg.lstsq",
        "linalg.lstsq, B a vector",
        "linalg.lstsq underdetermined (minimum norm)",
        "linalg.lstsq gelss",
    )
}
TORCH_WRONG.update(_TORCH_WRONG_NORMS)
# element-wise, special and complex ops (each checked by hand in the op's tests)
TORCH_WRONG.update(
    {
        # torch's Hurwitz zeta(s, q) is NaN for q = inf (and for s = q = 1e38): its Euler-Maclaurin
        # tail multiplies 0 by inf; the sum of (q + k)^-s is 0 there (tests/test_special_extremes.py)
        "zeta": {"huge", "inf"},
        "zeta (forward)": {"huge", "inf"},
        # polygamma(n >= 2, inf) is (-1)^(n+1) n! zeta(n + 1, inf), NaN in torch for the same reason;
        # the limit is 0 (polygamma(1)'s gradient at inf is polygamma(2, inf))
        "polygamma(1)": {"inf"},
        "polygamma(2) method": {"inf"},
        # torch's float32 igamma(a, x) underflows to 0 for a subnormal a (1e-45 at x = 1e-45 or 0.5),
        # where P(a, x) ~ x^a / Gamma(a + 1) ~ 1 (its float64 result, and igamma + igammac = 1)
        "igamma": {"tiny"},
        # at NaN torch's gradient depends on the tensor's length and layout: its vectorized kernel
        # (contiguous, at least one vector register long) gives hardswish NaN and hardtanh 0, its scalar
        # kernel (the sweep's short tensors) passes the incoming gradient; chainrule gives the
        # vectorized kernel's answer whatever the length (tests/test_activation_extremes.py)
        "F.hardswish": {"nan"},
        "F.hardtanh_ on a copy": {"nan"},
        # torch's complex a + b is a + alpha * b with alpha = 1 + 0i even for add, so an infinite part
        # of b makes 0 * inf = NaN in the other part: (1 + i) + (inf + i) is inf + NaN i in torch (and
        # b + a is inf + 2i); log(z) + sqrt(w) at z = w = -inf - inf i is NaN + NaN i there
        "log sqrt": {"-inf", "inf"},
        # torch's abs'(z) = sgn(z) = z / |z| is inf / inf = NaN for z = inf + y i (finite y), where the
        # limit is 1 + 0i (as for real abs at inf, where torch gives 1)
        "view_as_complex batched": {"-inf", "inf"},
        # torch's polar backward takes e^(i angle) as sgn(result), NaN where the result is infinite
        # (abs = exp(1e38)); the derivative with respect to abs is e^(i angle), finite for any angle
        "polar": {"huge"},
        # torch's complex matmul is MKL's cgemm, whose result at an infinity depends on the sizes: with
        # one entry inf + 0.5i (the rest 0.5 + 0.25i) a (4, 4) @ (4, 4) product gives inf + inf i, the
        # sum of its terms, a (3, 3) one NaN + NaN i (the specs' (3, 4) @ (4, 3) forward: NaN + NaN i;
        # their backward's (3, 3) @ (3, 4): the terms' sums). chainrule sums the terms part by part
        # wherever BLAS's result is not finite (inf, and 1e38, whose products overflow to inf), in the
        # forward and the backward (tests/test_complex_extremes.py, against a complex128 reference)
        "matmul": {"-inf", "huge", "inf"},
        "matmul mH": {"-inf", "huge", "inf"},
    }
)
# A^4 with a 1e38 entry: every entry of the exact power is beyond float32, so the rounded answer
# is inf with the exact sign; torch's MKL rounds two overflowing products to inf and -inf before
# adding them (NaN at one entry), NumPy's OpenBLAS adds them by fused multiply-adds (inf): chainrule's
# is the rounded exact power (tests/test_linalg_extreme.py::
# test_matrix_power_of_a_huge_entry_is_the_rounded_exact_power, which admits either per entry)
TORCH_WRONG["Tensor.matrix_power"] = {"huge"}
# lstsq's gels with A[0, 0] = B[0, 0] = 1e38: the solutions agree (LAPACK's gels in both), but torch's
# residuals are those of the problem sgels scaled down by bignum / max|B| (it unscales only the
# solution rows): 5e-14 where ||A x - B||^2 is about 5 (tests/test_linalg_extreme.py::
# test_gels_with_a_huge_entry_is_the_least_squares_solution)
TORCH_WRONG["linalg.lstsq gels"] = {"huge"}
# torch's var_mean/std_mean take the mean from Welford's running update, which turns an inf
# followed by any value into inf - inf = NaN (the mean of [inf, 1] is NaN, of [1, inf] inf);
# chainrule's mean is torch.mean's: inf. torch's logcumsumexp backward works in log space,
# exp(log(g) - y + x): with y = x = 1e38, log(g) is lost beside 1e38 and the gradient is 1 whatever
# g is; chainrule's is g exp(x - y) = g. (tests/test_extreme_reductions.py checks both by hand.)
TORCH_WRONG.update(
    {
        "var_mean(dim=1)": {"-inf", "inf"},
        "std_mean(unbiased=False)": {"-inf", "inf"},
        "x.logcumsumexp(-1) wide": {"huge"},
    }
)


# spec name -> the extreme values where the outputs are determined only to a tolerance far above
# float32's precision of them, so comparing them with torch's element by element is meaningless
# (skipped by the sweep like KNOWN): eigh of a matrix whose 1e38 swamps the rest fixes the small
# eigenvalues only to eps * ||A|| (about 1e31; torch's are like 4e30 where the exact ones are O(1))
# and their eigenvectors not at all (torch's MKL and NumPy's LAPACK return different ones, both
# backward stable). tests/test_linalg_extreme.py::test_eigh_with_a_huge_entry_is_backward_stable
# checks chainrule's (and torch's) by residual, orthonormality and eigenvalues against float64.
ILL_CONDITIONED: dict[str, set[str]] = {
    "linalg.eigh UPLO='U'": {"huge"},
    "linalg.eigh of a non-symmetric input": {"huge"},
}


def _specs_by_module() -> list[tuple[str, OpSpec]]:
    """(module name, spec) for every spec of tests/specs, in the registry's order (all_specs)."""
    found = []
    for info in pkgutil.iter_modules(specs.__path__):
        module = importlib.import_module(f"specs.{info.name}")
        found.extend((info.name, spec) for spec in module.SPECS)
    return found


def _cases() -> list:
    """One case per spec: in make test the triaged modules' specs with one rotating value each;
    under CHAINRULE_FUZZ_SCALE > 1 (make fuzz) every spec with all six values."""
    labels = list(EXTREMES)
    cases = []
    for k, (module, spec) in enumerate(_specs_by_module()):
        if scale() > 1:
            cases.append(pytest.param(spec, tuple(labels), id=spec.name, marks=pytest.mark.fuzz))
        elif module in TRIAGED:
            cases.append(pytest.param(spec, (labels[k % len(labels)],), id=spec.name))
    return cases


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
        else:
            assert o == t or (o != o and t != t), f"{label} output {k}: {o} vs torch {t}"
    assert len(grads_o) == len(grads_t), f"{label}: gradients"
    for k, (o, t) in enumerate(zip(grads_o, grads_t)):
        if t is None or o is None:
            zero = o if t is None else t
            assert zero is None or not np.any(to_numpy(zero)), f"{label} gradient {k}: one of them is None"
            continue
        assert_close(o, t, 2e-4, 1e-5, f"{label} gradient {k}")


def _run_both(spec: OpSpec, arrays: list, label: str) -> tuple:
    """(chainrule's, torch's) forward and vector-Jacobian product with the extreme ``label``."""
    extreme = _with_extreme(spec, arrays, EXTREMES[label])
    with warnings.catch_warnings(), torch.backends.mkldnn.flags(enabled=False):
        # (oneDNN off: which of torch's convolution kernels runs depends on the CPU's features
        # and threads, and they disagree beside the padding, tests/nn/test_conv_non_finite.py;
        # its reference kernels are the same on every CPU)
        warnings.simplefilter("ignore")
        theirs = _run(torch, spec, extreme)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = _run(chainrule, spec, extreme)
    return ours, theirs


def _still_differs(spec: OpSpec, label: str, ours, theirs) -> bool:
    """Whether a listed case still differs from torch (``_compare`` fails on it)."""
    try:
        _compare(spec, f"{spec.name} with {label}", ours, theirs)
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize(("spec", "labels"), _cases())
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_extreme_values_match_torch(spec: OpSpec, labels: tuple, data) -> None:
    """Each value of ``labels`` gives torch's result; in make fuzz, a value listed in KNOWN or
    TORCH_WRONG must still differ (strict-xfail semantics), so a fix tells that its entry is to go."""
    if not any(a.kind == "float" for a in spec.args):
        return  # nothing to make extreme (integer, bool or index arguments only)
    shapes = data.draw(spec.shapes, label="shapes")
    arrays = make_inputs(spec, shapes, 0)
    stale = []
    for label in labels:
        if label in ILL_CONDITIONED.get(spec.name, ()):
            continue  # (nothing to compare: checked by residual, see ILL_CONDITIONED)
        listed = [
            name
            for name, table in (("KNOWN", KNOWN), ("TORCH_WRONG", TORCH_WRONG))
            if label in table.get(spec.name, ())
        ]
        if listed and scale() == 1:
            # (make test skips the listed cases: torch's result in some of them depends on the CPU,
            # e.g. its variance merge on the SIMD width, MKL's gesdd on its code path, so whether
            # one still differs is checked by make fuzz, on the machine of whoever edits the lists)
            continue
        ours, theirs = _run_both(spec, arrays, label)
        if listed:
            # (a name that several specs share is checked over all of them below: one of them
            # still differing keeps the entry)
            if not _still_differs(spec, label, ours, theirs) and spec.name not in _SHARED_NAMES:
                stale.append(f"{label} (in {' and '.join(listed)})")
            continue
        _compare(spec, f"{spec.name} with {label}", ours, theirs)
    assert not stale, (
        f"{spec.name!r} now matches torch with {', '.join(stale)}: remove the value from its entry "
        "in KNOWN (or TORCH_WRONG, whose hand test then deserves a look) and from docs/differences.md"
    )


def test_listed_cases_name_specs_that_meet_an_extreme_value() -> None:
    """Every KNOWN and TORCH_WRONG entry names a spec with a float argument and values of EXTREMES,
    so a renamed or removed spec cannot leave an entry that nothing checks."""
    float_specs = {spec.name for _, spec in _specs_by_module() if any(a.kind == "float" for a in spec.args)}
    tables = (("KNOWN", KNOWN), ("TORCH_WRONG", TORCH_WRONG), ("ILL_CONDITIONED", ILL_CONDITIONED))
    for table_name, table in tables:
        for name, labels in table.items():
            assert name in float_specs, (
                f"{table_name}[{name!r}]: no spec of tests/specs with a float argument"
            )
            assert labels and labels <= set(EXTREMES), (
                f"{table_name}[{name!r}]: {labels} not among {list(EXTREMES)}"
            )


def _listed(name: str) -> set[str]:
    """The extreme values listed for spec ``name`` (KNOWN and TORCH_WRONG together)."""
    return KNOWN.get(name, set()) | TORCH_WRONG.get(name, set())


def _shared_listed_names() -> list[str]:
    """The listed spec names that more than one spec carries (their entries cannot say which)."""
    counts = Counter(spec.name for _, spec in _specs_by_module())
    return sorted(name for name, n in counts.items() if n > 1 and _listed(name))


_SHARED_NAMES = set(_shared_listed_names())


@pytest.mark.fuzz
@pytest.mark.parametrize("name", _shared_listed_names())
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_listed_name_that_specs_share_still_differs_in_one_of_them(name: str, data) -> None:
    """An entry whose name several specs carry (``matmul``: a real and a complex spec) is stale once
    no spec of that name differs from torch with the listed value any more."""
    differing: set[str] = set()
    for _, spec in _specs_by_module():
        if spec.name != name or not any(a.kind == "float" for a in spec.args):
            continue
        arrays = make_inputs(spec, data.draw(spec.shapes, label=f"shapes of {spec.name}"), 0)
        for label in sorted(_listed(name) - differing):
            ours, theirs = _run_both(spec, arrays, label)
            if _still_differs(spec, label, ours, theirs):
                differing.add(label)
    stale = sorted(_listed(name) - differing)
    assert not stale, (
        f"no spec named {name!r} differs from torch with {stale} any more: remove them from its "
        "entry in KNOWN (or TORCH_WRONG) and from docs/differences.md"
    )
