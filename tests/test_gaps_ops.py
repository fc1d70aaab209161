"""stft / istft, gradient, histogramdd and torch.convolution against torch: values, gradients (and
second derivatives where composed of differentiable ops), dtypes and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, raises_like_torch

import chainrule

LIBS = (chainrule, torch)
RNG = np.random.default_rng(0)


def _pair(a, requires_grad=True):
    return chainrule.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


# ---- stft / istft -------------------------------------------------------------------------------
STFT_CASES = [
    dict(n_fft=8),
    dict(n_fft=8, hop_length=3, win_length=6, window="hann"),
    dict(n_fft=7, center=False),
    dict(n_fft=8, pad_mode="constant", normalized=True),
    dict(n_fft=8, onesided=False, pad_mode="replicate"),
    dict(n_fft=8, pad_mode="circular", window="hamming", hop_length=2),
    dict(n_fft=16, hop_length=16, center=False),
]


def _kwargs(m, kw, dtype):
    kw = dict(kw)
    if kw.get("window") == "hann":
        kw["window"] = m.hann_window(kw.get("win_length", kw["n_fft"]), dtype=dtype)
    elif kw.get("window") == "hamming":
        kw["window"] = m.hamming_window(kw.get("win_length", kw["n_fft"]), dtype=dtype)
    return kw


@pytest.mark.parametrize("kw", STFT_CASES)
@pytest.mark.parametrize("shape", [(40,), (3, 37)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_stft_values_and_gradients(kw, shape, dtype) -> None:
    a = RNG.standard_normal(shape).astype(dtype)
    outs, grads = [], []
    for m in LIBS:
        x = m.tensor(a, requires_grad=True)
        spec = m.stft(x, return_complex=True, **_kwargs(m, kw, getattr(m, dtype)))
        (m.view_as_real(spec) ** 3).sum().backward()
        outs.append(spec)
        grads.append(x.grad)
    assert str(outs[0].dtype).split(".")[-1] == str(outs[1].dtype).split(".")[-1]
    tol = 1e-4 if dtype == "float32" else 1e-10
    assert_close(chainrule.view_as_real(outs[0]), torch.view_as_real(outs[1]), tol, tol, "stft")
    assert_close(grads[0], grads[1], tol, tol, "stft gradient")


def test_stft_align_to_window() -> None:
    a = RNG.standard_normal(30)
    outs = [
        m.view_as_real(
            m.stft(
                m.tensor(a),
                8,
                win_length=6,
                window=m.hann_window(6, dtype=m.float64),
                center=False,
                return_complex=True,
                align_to_window=True,
            )
        )
        for m in LIBS
    ]
    assert_close(outs[0], outs[1], 1e-10, 1e-10, "stft align_to_window")
    raises_like_torch(
        lambda m: m.stft(m.ones(20), 8, return_complex=True, align_to_window=True), "align_to_window"
    )


def test_stft_complex_input_and_window_gradient() -> None:
    a = RNG.standard_normal((2, 30)) + 1j * RNG.standard_normal((2, 30))
    w = RNG.uniform(0.5, 1.5, 8)
    results = []
    for m in LIBS:
        x, win = m.tensor(a, requires_grad=True), m.tensor(w, requires_grad=True)
        spec = m.stft(x, 8, hop_length=3, window=win, return_complex=True)
        (spec.abs() ** 2).sum().backward()
        results.append((m.view_as_real(spec), x.grad, win.grad))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, 1e-10, 1e-10, "complex stft")


@pytest.mark.parametrize("kw", [k for k in STFT_CASES if k.get("center", True)])
@pytest.mark.parametrize("shape", [(40,), (2, 37)])
def test_istft_inverts_and_matches_torch(kw, shape) -> None:
    a = RNG.standard_normal(shape)
    results = []
    for m in LIBS:
        k = _kwargs(m, kw, m.float64)
        k.pop("pad_mode", None)
        spec = m.stft(m.tensor(a), return_complex=True, **k).requires_grad_()
        signal = m.istft(spec, length=shape[-1], **k)
        (signal**2).sum().backward()
        results.append((signal, m.view_as_real(spec.grad)))
    assert_close(results[0][0], results[1][0], 1e-10, 1e-10, "istft")
    assert_close(results[0][0], a, 1e-10, 1e-10, "istft(stft(x)) == x")
    assert_close(results[0][1], results[1][1], 1e-10, 1e-10, "istft gradient")


@pytest.mark.parametrize("length", [None, 20, 45])
def test_istft_lengths_and_no_centre(length) -> None:
    a = RNG.standard_normal(40)
    for center in (True, False):
        outs = []
        for m in LIBS:
            w = m.hamming_window(8, dtype=m.float64)
            spec = m.stft(m.tensor(a), 8, hop_length=2, window=w, center=center, return_complex=True)
            outs.append(m.istft(spec, 8, hop_length=2, window=w, center=center, length=length))
        assert_close(outs[0], outs[1], 1e-10, 1e-10, f"istft center={center} length={length}")


def test_istft_two_sided_and_complex_output() -> None:
    a = RNG.standard_normal((2, 30)) + 1j * RNG.standard_normal((2, 30))
    outs = []
    for m in LIBS:
        spec = m.stft(m.tensor(a), 8, return_complex=True)
        outs.append(m.view_as_real(m.istft(spec, 8, onesided=False, return_complex=True)))
    assert_close(outs[0], outs[1], 1e-10, 1e-10, "complex istft")


def test_stft_second_derivative() -> None:
    a = RNG.standard_normal(20)
    grads = []
    for m in LIBS:
        x = m.tensor(a, requires_grad=True)
        y = (m.stft(x, 8, return_complex=True).abs() ** 2).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (gg,) = m.autograd.grad((g**2).sum(), x)
        grads.append(gg)
    assert_close(grads[0], grads[1], 1e-9, 1e-9, "stft second derivative")


def test_stft_method_and_return_complex_false() -> None:
    a = RNG.standard_normal(30)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        theirs = torch.tensor(a).stft(8, return_complex=False, window=torch.ones(8, dtype=torch.float64))
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        ours = chainrule.tensor(a).stft(8, return_complex=False)
    assert_close(ours, theirs, 1e-10, 1e-10, "stft return_complex=False")
    back = chainrule.tensor(a).stft(8, return_complex=True).istft(8)
    assert_close(back, a, 1e-10, 1e-10, "Tensor.istft")


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda m: m.stft(m.ones(20), 8), "return_complex"),
        (lambda m: m.stft(m.arange(20), 8, return_complex=True), "floating point or complex"),
        (lambda m: m.istft(m.ones(5, 0, dtype=m.complex64), 8), "cannot be empty"),
        (lambda m: m.stft(m.ones(20), 8, window=m.ones(5), return_complex=True), "window"),
        (lambda m: m.stft(m.ones(2, 2, 20), 8, return_complex=True), ""),
        (lambda m: m.stft(m.ones(20), 0, return_complex=True), ""),
        (lambda m: m.stft(m.ones(20), 30, center=False, return_complex=True), ""),
        (lambda m: m.stft(m.ones(20), 8, hop_length=0, return_complex=True), ""),
        (lambda m: m.stft(m.ones(20, dtype=m.complex128), 8, onesided=True, return_complex=True), "onesided"),
        (lambda m: m.istft(m.ones(5, 11), 8), ""),
        (lambda m: m.istft(m.ones(4, 11, dtype=m.complex128), 8), ""),
        (lambda m: m.istft(m.ones(5, 11, dtype=m.complex128), 8, window=m.zeros(8)), "overlap add min"),
    ],
)
def test_stft_errors_like_torch(program, match) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(program, match)


# ---- gradient -----------------------------------------------------------------------------------
GRADIENT_CASES = [
    dict(),
    dict(spacing=2.0),
    dict(spacing=[1.5, 0.5, 2.0]),
    dict(dim=1, edge_order=2),
    dict(dim=-1, spacing="coordinates", edge_order=2),
    dict(dim=[2], spacing="coordinates"),
    dict(dim=(0, 2), edge_order=2, spacing=(3, 1)),
]


@pytest.mark.parametrize("kw", GRADIENT_CASES)
def test_gradient_values_and_derivatives(kw) -> None:
    a = RNG.standard_normal((3, 4, 5))
    coordinates = np.cumsum(RNG.uniform(0.5, 2.0, 5))
    results = []
    for m in LIBS:
        k = dict(kw)
        if k.get("spacing") == "coordinates":
            k["spacing"] = [m.tensor(coordinates)]
        x = m.tensor(a, requires_grad=True)
        outs = m.gradient(x, **k)
        total = sum((o**3).sum() for o in outs)
        (g,) = m.autograd.grad(total, x, create_graph=True)
        (gg,) = m.autograd.grad((g**2).sum(), x)
        results.append((outs, g, gg))
    assert len(results[0][0]) == len(results[1][0])
    for ours, theirs in zip(results[0][0], results[1][0]):
        assert_close(ours, theirs, 1e-10, 1e-10, "gradient")
    assert_close(results[0][1], results[1][1], 1e-9, 1e-9, "gradient's derivative")
    assert_close(results[0][2], results[1][2], 1e-9, 1e-9, "gradient's second derivative")


def test_gradient_dtypes_and_views() -> None:
    for a in (np.arange(12).reshape(3, 4), np.arange(12.0, dtype=np.float32).reshape(3, 4)):
        ours, theirs = chainrule.gradient(chainrule.tensor(a).t()), torch.gradient(torch.tensor(a).t())
        for o, t in zip(ours, theirs):
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            assert_close(o, t, 1e-6, 1e-6, "gradient of a transposed view")
    inf = np.array([0.0, 1.0, np.inf, 3.0, np.nan])
    assert_close(
        chainrule.gradient(chainrule.tensor(inf))[0], torch.gradient(torch.tensor(inf))[0], 0, 0, "nan"
    )


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda m: m.gradient(m.ones(3, 3), edge_order=3), "edge_order"),
        (lambda m: m.gradient(m.ones(3, 3), spacing=[1.0, 2.0, 3.0]), "spacing"),
        (lambda m: m.gradient(m.ones(3, 2), dim=1, edge_order=2), "edge_order\\+1"),
        (lambda m: m.gradient(m.ones(1, 3)), "edge_order\\+1"),
        (lambda m: m.gradient(m.ones(3, 3), dim=2), ""),
    ],
)
def test_gradient_errors_like_torch(program, match) -> None:
    raises_like_torch(program, match)


# ---- histogramdd --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        dict(bins=4),
        dict(bins=[3, 5], range=[-1.0, 1.0, -2.0, 2.0]),
        dict(bins=3, weight=True, density=True),
        dict(bins="edges"),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_histogramdd(kw, dtype) -> None:
    points = RNG.standard_normal((4, 10, 2)).astype(dtype)
    weight = RNG.uniform(size=(4, 10)).astype(dtype)
    results = []
    for m in LIBS:
        k = dict(kw)
        if k.get("weight"):
            k["weight"] = m.tensor(weight)
        if k.get("bins") == "edges":
            k["bins"] = [
                m.tensor([-3.0, 0.0, 0.5, 3.0], dtype=getattr(m, dtype)),
                m.tensor([-1.0, 1.0], dtype=getattr(m, dtype)),
            ]
        hist, edges = m.histogramdd(m.tensor(points), **k)
        results.append((hist, edges))
    (h0, e0), (h1, e1) = results
    assert str(h0.dtype).split(".")[-1] == str(h1.dtype).split(".")[-1]
    assert_close(h0, h1, 1e-6, 1e-6, "histogramdd")
    for a, b in zip(e0, e1):
        assert_close(a, b, 1e-6, 1e-6, "histogramdd edges")


# ---- torch.convolution --------------------------------------------------------------------------
CONVOLUTIONS = [
    # input shape, weight shape, stride, padding, dilation, transposed, output_padding, groups
    ((2, 4, 9), (6, 2, 3), [2], [1], [1], False, [0], 2),
    ((2, 3, 7, 6), (4, 3, 3, 2), [1, 2], [1, 0], [2, 1], False, [0, 0], 1),
    ((1, 2, 5, 5, 4), (3, 2, 2, 3, 2), [1, 1, 2], [0, 1, 1], [1, 1, 1], False, [0, 0, 0], 1),
    ((2, 4, 5), (4, 3, 3), [2], [1], [1], True, [1], 2),
    ((2, 3, 4, 5), (3, 2, 3, 3), [2, 2], [1, 0], [1, 1], True, [1, 0], 1),
    ((1, 2, 3, 4, 3), (2, 2, 2, 2, 2), [2, 1, 1], [0, 1, 0], [1, 1, 1], True, [1, 0, 0], 1),
]


@pytest.mark.parametrize("case", CONVOLUTIONS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_convolution(case, with_bias) -> None:
    x_shape, w_shape, stride, padding, dilation, transposed, output_padding, groups = case
    a, w = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    channels = w_shape[1] * groups if transposed else w_shape[0]
    b = RNG.standard_normal(channels)
    results = []
    for m in LIBS:
        x, k, bias = (
            m.tensor(a, requires_grad=True),
            m.tensor(w, requires_grad=True),
            m.tensor(b, requires_grad=True),
        )
        y = m.convolution(
            x, k, bias if with_bias else None, stride, padding, dilation, transposed, output_padding, groups
        )
        (y**2).sum().backward()
        results.append((y, x.grad, k.grad, bias.grad if with_bias else None))
    for ours, theirs in zip(*results):
        if theirs is not None:
            assert_close(ours, theirs, 1e-10, 1e-10, "convolution")


def test_histogramdd_of_integers_raises_like_torch() -> None:
    raises_like_torch(lambda m: m.histogramdd(m.arange(6).reshape(3, 2), 2), "not implemented for 'Long'")


def test_convolution_errors_like_torch() -> None:
    raises_like_torch(
        lambda m: m.convolution(m.ones(3, 5), m.ones(4, 3, 2), None, [1], [0], [1], False, [0], 1),
        "Expected 3-dimensional input",
    )


# ---- svd_lowrank, pca_lowrank, lobpcg ----------------------------------------------------------
def test_svd_lowrank_batched_low_rank_matrices() -> None:
    a = RNG.standard_normal((3, 20, 4)) @ RNG.standard_normal((3, 4, 9))
    results = []
    for m in LIBS:
        x = m.tensor(a, requires_grad=True)
        U, S, V = m.svd_lowrank(x, q=5)
        S[..., :4].sum().backward()  # the 5th singular value is 0: its vectors are arbitrary
        results.append((U @ m.diag_embed(S) @ V.mT, S[..., :4], x.grad))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, 1e-8, 1e-8, "svd_lowrank")


def test_pca_lowrank_components() -> None:
    a = RNG.standard_normal((30, 3)) @ RNG.standard_normal((3, 5)) + 4.0
    ours, theirs = chainrule.pca_lowrank(chainrule.tensor(a)), torch.pca_lowrank(torch.tensor(a))
    assert_close(ours[1][:3], theirs[1][:3], 1e-8, 1e-8, "pca_lowrank singular values")
    projector = [(V[:, :3] @ V[:, :3].mT) for V in (ours[2], theirs[2])]
    assert_close(projector[0], projector[1], 1e-8, 1e-8, "pca_lowrank principal subspace")


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda m: m.pca_lowrank(m.ones(4, 3), q=5), "must be non-negative"),
        (lambda m: m.pca_lowrank(m.ones(4, 3), niter=-1), "niter"),
        (lambda m: m.lobpcg(m.eye(5), k=2), "3 x the"),
        (lambda m: m.lobpcg(m.ones(6, 5)), "square"),
    ],
)
def test_lowrank_errors_like_torch(program, match) -> None:
    raises_like_torch(program, match)


@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_eigenvalues_and_gradient(largest) -> None:
    s = RNG.standard_normal((15, 15))
    s = s + s.T
    results = []
    for m in LIBS:
        A = m.tensor(s, requires_grad=True)
        E, X = m.lobpcg(A, k=3, largest=largest)
        (E * m.tensor([1.0, 2.0, 3.0], dtype=m.float64)).sum().backward()
        results.append((E, A.grad, (X.mT @ X)))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, 1e-6, 1e-6, "lobpcg")
