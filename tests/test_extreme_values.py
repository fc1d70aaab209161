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
Every spec module has been swept with all six values and triaged; what still differs is listed in
``KNOWN`` (and docs/differences.md, "Extreme values"), each a difference to fix, not a domain where
comparing is meaningless; where torch's own result is wrong (or depends on which of its kernels
runs), the case is in ``TORCH_WRONG`` and chainrule's result is checked by hand in the op's tests.
The modules outside ``TRIAGED`` (the slowest) run in ``make fuzz`` only.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import numpy as np
import pytest
import specs
import torch
from fuzzing import scale
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import OpSpec, _outputs, _tensors, assert_close, make_inputs, to_numpy

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
# "Extreme values"): a NaN or an infinity in a gradient where torch has a finite number or the
# other way round, because chainrule's rule multiplies where torch's selects (or computes another
# formula at the singular point)
KNOWN: dict[str, set[str]] = {
    # gradients that multiply an inf by a 0 (NaN) where torch's rule selects, or the reverse
    # complex matmul (tests/specs/dtypes.py): the second operand's gradient, a^H g, has NaN where
    # torch's has inf: both come from complex BLAS kernels (torch's takes a^H by a conjugate-
    # transpose flag), which fuse and order the products differently; not the real matmul's
    "matmul": {"-inf", "inf"},
    "matmul mH": {"-inf", "inf"},
    # derivatives at a singular point (0, a subnormal, -0.0, an infinity) by another formula
    # the spec compares chainrule's 0 * sample + a with torch's a: at a = inf the sample is inf (in
    # torch too), so chainrule's side is NaN; chainrule's sampler at inf is checked against torch's
    # in tests/distributions/test_standard_gamma_extremes.py
    "distributions standard_gamma passes gradients": {"inf"},
    # ---- the modules from linalg_decomp on, swept with all six values (issue 14): per spec the
    # first difference each value shows (output or gradient k, and what torch gives there). The
    # linalg decompositions' differences at inf and NaN are LAPACK's: torch returns NaN or factors
    # of another driver, chainrule raises LinAlgError before an SVD-based driver (which can loop
    # forever on an inf, docs/differences.md) or returns another driver's numbers.
    # linalg_decomp
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "linalg.eigh (batches)": {"-inf", "inf", "nan"},
    # huge: output 1: finite values differ
    "linalg.eigh UPLO='U'": {"huge"},
    # huge: output 1: finite values differ
    "linalg.eigh of a non-symmetric input": {"huge"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.svd": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not; huge: gradient 0: NaN where torch's is
    # finite
    "linalg.svd (batches)": {"-inf", "huge", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.svd full_matrices=True": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not; huge: gradient 0: NaN where torch's is
    # finite
    "linalg.svd U only": {"-inf", "huge", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not; huge: gradient 0: NaN where torch's is
    # finite
    "linalg.svd Vh only": {"-inf", "huge", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.svd S only": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.svdvals": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.svdvals (batches)": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not; huge: gradient 0: NaN where torch's is
    # finite
    "svd": {"-inf", "huge", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not; huge: gradient 0: NaN where torch's is
    # finite
    "svd some=False": {"-inf", "huge", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "svd compute_uv=False": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "Tensor.svd": {"-inf", "inf"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 1: NaN where torch's is finite
    "linalg.qr": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN
    "linalg.qr Q only": {"-inf", "inf"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 0: NaN where torch's is finite
    "linalg.qr R only": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 1: NaN where torch's is finite
    "linalg.qr complete (m <= n)": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 1: NaN where torch's is finite
    "linalg.qr complete (m > n)": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 0: NaN where torch's is finite
    "linalg.qr mode='r'": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 1: NaN where torch's is finite
    "qr": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 1: NaN where torch's is finite
    "qr some=False": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: finite where torch's is NaN; nan: output 1: NaN where torch's is finite
    "Tensor.qr": {"-inf", "inf", "nan"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm ord=nuc": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm ord=nuc dim=(2, 0) keepdim": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm ord=2": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm ord=2 dim=(2, 0) keepdim": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm ord=-2": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm ord=-2 dim=(2, 0) keepdim": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.matrix_norm dtype=float64": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.norm ord=2 of a matrix": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.norm 'nuc'": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "norm p='nuc'": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "norm p='nuc' dim=(0, 2)": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "Tensor.norm p='nuc' keepdim": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "nuclear_norm": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.cond": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.cond p=-2": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.cond p='nuc'": {"-inf", "inf"},
    # nan: chainrule raises LinAlgError, torch _LinAlgError
    "linalg.matrix_rank (rank 2)": {"nan"},
    # nan: chainrule raises LinAlgError, torch _LinAlgError
    "linalg.matrix_rank hermitian atol": {"nan"},
    # linalg_solve
    # inf/-inf/nan: gradient 0: NaN where torch's is finite; tiny: gradient 0: inf where torch's is
    # finite
    "linalg.det": {"-inf", "inf", "nan", "tiny"},
    # inf/-inf: gradient 0: inf where torch's is NaN
    "linalg.det of 32x32 matrices (batched LAPACK path)": {"-inf", "inf"},
    # nan: output 0: NaN where torch's is finite
    "linalg.slogdet": {"nan"},
    # nan: output 0: NaN where torch's is finite
    "slogdet": {"nan"},
    # nan: output 0: finite values differ
    "Tensor.slogdet": {"nan"},
    # nan: output 0: NaN where torch's is finite
    "linalg.slogdet of 32x32 matrices (batched LAPACK path)": {"nan"},
    # nan: output 0: NaN where torch's is finite
    "linalg.slogdet of a 200x200 matrix (inverse from products)": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "inverse": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "Tensor.inverse": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.inv_ex": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "linalg.solve, B a vector": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.solve left=False": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.solve (only A needs grad)": {"nan"},
    # inf/-inf/huge: torch raises _LinAlgError, chainrule does not
    "linalg.cholesky reads the lower triangle only": {"-inf", "huge", "inf"},
    # inf/-inf/huge: output 0: finite where torch's is NaN; nan: output 0: NaN where torch's is finite
    "linalg.cholesky_ex": {"-inf", "huge", "inf", "nan"},
    # inf/-inf/huge: torch raises _LinAlgError, chainrule does not
    "Tensor.cholesky": {"-inf", "huge", "inf"},
    # nan: output 0: NaN where torch's is finite
    "Tensor.cholesky_inverse": {"nan"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.lstsq": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.lstsq, B a vector": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.lstsq underdetermined (minimum norm)": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.pinv": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.pinv atol, rtol": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "pinverse": {"-inf", "inf"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "Tensor.pinverse": {"-inf", "inf"},
    # huge: output 0: NaN where torch's is inf
    "Tensor.matrix_exp": {"huge"},
    # huge: output 0: inf where torch's is NaN
    "Tensor.matrix_power": {"huge"},
    # inf/-inf: chainrule raises LinAlgError, torch does not
    "linalg.lstsq gelss": {"-inf", "inf"},
    # huge: output 0: finite values differ
    "linalg.lstsq gels": {"huge"},
    # nn_attention
    # inf/-inf/huge: gradient 2: finite where torch's is NaN
    "F.scaled_dot_product_attention gqa": {"-inf", "huge", "inf"},
    # nn_basic
    # nn_conv
    # inf/-inf/nan: output 0: NaN where torch's is finite
    "conv2d(stride=2, padding=1), no bias": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: NaN where torch's is inf
    "conv2d(stride=(1, 2), padding=(2, 0), dilation=(2, 1))": {"-inf", "inf"},
    # inf/-inf/nan: output 0: NaN where torch's is finite
    "conv2d(padding='same') even kernel": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: NaN where torch's is inf
    "conv2d 3x3, 2-16 inputs, 4-16 outputs (the direct kernels, input gradient too)": {"-inf", "inf"},
    # inf/-inf: output 0: NaN where torch's is inf
    "conv2d 5x5, 3 inputs (the direct kernels)": {"-inf", "inf"},
    # inf/-inf: output 0: NaN where torch's is inf; nan: gradient 0: NaN where torch's is finite
    "conv2d depthwise (groups=C=O)": {"-inf", "inf", "nan"},
    # inf/-inf/nan: output 0: NaN where torch's is finite
    "conv2d depthwise stride 2 dilation 2": {"-inf", "inf", "nan"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "conv_transpose2d depthwise stride 2": {"-inf", "inf", "nan"},
    # inf/-inf: output 0: NaN where torch's is inf
    "conv2d more outputs than inputs (input gradient by col2im)": {"-inf", "inf"},
    # inf/-inf: output 0: NaN where torch's is inf
    "conv2d non-contiguous input": {"-inf", "inf"},
    # inf/-inf: output 0: NaN where torch's is inf
    "conv1d(stride=2, padding=1)": {"-inf", "inf"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "conv_transpose2d(stride=2, padding=1, output_padding=1)": {"-inf", "inf", "nan"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "conv_transpose1d(stride=3, padding=1)": {"-inf", "inf", "nan"},
    # inf/-inf/nan: output 0: NaN where torch's is finite
    "adaptive_avg_pool2d(3)": {"-inf", "inf", "nan"},
    # inf/-inf/nan: output 0: NaN where torch's is finite
    "adaptive_avg_pool1d(4)": {"-inf", "inf", "nan"},
    # nn_norm
    # inf/-inf: gradient 0: inf where torch's is NaN; huge: output 0: finite where torch's is NaN
    "layer_norm": {"-inf", "huge", "inf"},
    # huge: output 0: finite where torch's is NaN
    "layer_norm no affine, eps=0.5": {"huge"},
    # huge: output 0: finite where torch's is NaN
    "layer_norm whole input, weight only": {"huge"},
    # inf/-inf: output 0: inf where torch's is NaN; huge: output 0: finite where torch's is NaN
    "group_norm(2)": {"-inf", "huge", "inf"},
    # huge: output 0: finite where torch's is NaN
    "group_norm(3) no affine": {"huge"},
    # nnfunc
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "F.pairwise_distance(p=1, keepdim)": {"-inf", "inf", "nan"},
    # huge: output 0: NaN where torch's is finite
    "F.cosine_similarity": {"huge"},
    # huge: output 0: NaN where torch's is finite
    "F.cosine_similarity(dim=-1, eps above the norms)": {"huge"},
    # nan: output 0: NaN where torch's is finite
    "F.multi_margin_loss": {"nan"},
    # nan: output 0: NaN where torch's is finite
    "F.multi_margin_loss(p=2, margin, weight, none)": {"nan"},
    # inf/nan: output 0: NaN where torch's is finite; -inf: output 0: NaN where torch's is inf
    "F.multilabel_margin_loss": {"-inf", "inf", "nan"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "F.triplet_margin_loss(p=1, swap, none)": {"-inf", "inf", "nan"},
    # huge: output 0: NaN where torch's is finite
    "F.triplet_margin_with_distance_loss(cosine, swap)": {"huge"},
    # inf: output 0: inf where torch's is NaN
    "F.ctc_loss(sum) of log_probs directly": {"inf"},
    # nan: output 0: NaN where torch's is finite
    "F.embedding_bag(max)": {"nan"},
    # reduce
    # huge: output 0: inf where torch's is finite
    "std": {"huge"},
    # huge: output 0: inf where torch's is finite
    "std(dim=0)": {"huge"},
    # huge: output 0: inf where torch's is finite
    "std(x, -1, True, True) legacy": {"huge"},
    # huge: output 0: inf where torch's is finite
    "std(dim=[0, -1], correction=0)": {"huge"},
    # huge: output 0: inf where torch's is finite
    "x.std(False)": {"huge"},
    # inf/-inf: output 1: inf where torch's is NaN
    "var_mean(dim=1)": {"-inf", "inf"},
    # inf/-inf: output 1: inf where torch's is NaN; huge: output 0: inf where torch's is finite
    "std_mean(unbiased=False)": {"-inf", "huge", "inf"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "norm": {"huge", "tiny"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "x.norm()": {"huge", "tiny"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "norm(p=2, dim=1)": {"huge", "tiny"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "norm(p='fro', dim=(0, 1), keepdim)": {"huge", "tiny"},
    # nan: gradient 0: NaN where torch's is finite
    "norm(p=1, dim=-1)": {"nan"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite where torch's is NaN
    "norm(p=3)": {"huge", "tiny"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "norm(p=1.5, dim=0)": {"huge", "tiny"},
    # nan: gradient 0: NaN where torch's is finite
    "norm(p=inf, dim=1)": {"nan"},
    # nan: gradient 0: NaN where torch's is finite
    "norm(p=-inf)": {"nan"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "norm(p=0)": {"huge", "tiny"},
    # huge: output 0: inf where torch's is finite; tiny: gradient 0: finite values differ
    "norm(p=None, dim=[0])": {"huge", "tiny"},
    # sortred
    # huge: gradient 0: finite values differ
    "x.logcumsumexp(-1) wide": {"huge"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "dist(inf)": {"-inf", "inf", "nan"},
    # nan: gradient 0: NaN where torch's is finite; huge: output 0: finite values differ
    "renorm(2, dim=0, 1.5)": {"huge", "nan"},
    # nan: gradient 0: NaN where torch's is finite
    "x.renorm(1, -1, 2.0)": {"nan"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "scatter_reduce(prod, include_self=False)": {"-inf", "inf", "nan"},
    # nan: gradient 0: finite where torch's is NaN
    "scatter_reduce(amax, include_self=True)": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "scatter_reduce(amax, include_self=False)": {"nan"},
    # nan: gradient 0: finite where torch's is NaN
    "scatter_reduce(amin, include_self=True)": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "scatter_reduce(amin, include_self=False)": {"nan"},
    # inf/-inf/nan: gradient 0: finite where torch's is NaN
    "scatter_reduce(amax) with ties": {"-inf", "inf", "nan"},
    # inf/-inf/nan: gradient 0: finite where torch's is NaN
    "scatter_reduce(amin) three-way ties, not include_self": {"-inf", "inf", "nan"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite
    "index_reduce(prod, include_self=False)": {"-inf", "inf", "nan"},
    # nan: gradient 0: finite where torch's is NaN
    "index_reduce(amax, include_self=True)": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "index_reduce(amax, include_self=False)": {"nan"},
    # nan: gradient 0: finite where torch's is NaN
    "index_reduce(amin, include_self=True)": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "index_reduce(amin, include_self=False)": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "x.scatter_reduce_(amax)": {"nan"},
    # nan: gradient 0: NaN where torch's is finite; huge: output 0: finite values differ
    "x.renorm_": {"huge", "nan"},
    # shapelinalg
    # inf/-inf/nan: output 0: NaN where torch's is finite
    "cdist(p=inf)": {"-inf", "inf", "nan"},
    # inf/-inf/nan: gradient 0: NaN where torch's is finite; tiny: gradient 0: finite values differ
    "linalg.vander": {"-inf", "inf", "nan", "tiny"},
    # inf/-inf/nan: output 0: finite where torch's is NaN
    "trapezoid": {"-inf", "inf", "nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.lu_solve": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.lu_solve(left=False, adjoint)": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.solve_ex": {"nan"},
    # nan: output 0: finite where torch's is NaN
    "linalg.tensorinv": {"nan"},
    # nan: gradient 1: finite where torch's is NaN
    "linalg.tensorsolve": {"nan"},
    # inf/-inf/nan: gradient 1: finite where torch's is NaN; huge: output 0: finite where torch's is inf
    "linalg.householder_product": {"-inf", "huge", "inf", "nan"},
    # inf/-inf: output 0: NaN where torch's is inf; huge: output 0: NaN where torch's is finite
    "ormqr": {"-inf", "huge", "inf"},
}

# spec name -> the extreme values where torch's own result is wrong (a torch bug or an artifact of
# its kernels, not a convention), so chainrule keeps the right one; each is checked by hand in the
# op's tests instead (docs/differences.md, "Extreme values")
TORCH_WRONG: dict[str, set[str]] = {
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
    if not any(a.kind == "float" for a in spec.args):
        return  # nothing to make extreme (integer, bool or index arguments only)
    shapes = data.draw(spec.shapes, label="shapes")
    arrays = make_inputs(spec, shapes, 0)
    for label in labels:
        if label in KNOWN.get(spec.name, ()) or label in TORCH_WRONG.get(spec.name, ()):
            continue
        extreme = _with_extreme(spec, arrays, EXTREMES[label])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _run(torch, spec, extreme)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            ours = _run(chainrule, spec, extreme)
        _compare(spec, f"{spec.name} with {label}", ours, theirs)
