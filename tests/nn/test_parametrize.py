"""nn.utils.parametrize, nn.utils.parametrizations and the hook-based weight/spectral norms against
torch: state dict keys, the parametrized values, gradients of the originals, power-iteration state."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, to_numpy

import chainrule
import chainrule.nn as nn
from chainrule.nn.utils import parametrizations as P
from chainrule.nn.utils import parametrize

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TP, TPS = torch.nn.utils.parametrize, torch.nn.utils.parametrizations


def _close(a, b, what: str, tol: float = 1e-10) -> None:
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol, err_msg=what)


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    return Symmetric


def _scale(lib):
    class Scale(lib.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, A):
            return A / 2

    return Scale


def _linear_pair(n_in=3, n_out=4, cls="Linear", *args):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(n_in, n_out, *args).double()
    ours = getattr(nn, cls)(n_in, n_out, *args).double()
    copy_torch_weights(ours, theirs)
    return ours, theirs


def _check_call(ours, theirs, x: np.ndarray, tol: float = 1e-10) -> None:
    """Same output and same gradient of every parameter (names included) for one call."""
    xo, xt = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    _close(yo, yt, "output", tol)
    g = np.cos(np.arange(yt.numel())).reshape(tuple(yt.shape))
    (yo * chainrule.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(xo.grad, xt.grad, "input grad", tol)
    params_t = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(params_t)
    for name, p in ours.named_parameters():
        _close(p.grad, params_t[name].grad, f"grad of {name}", tol)


def test_register_parametrization_matches_torch():
    ours, theirs = _linear_pair(4, 4)
    parametrize.register_parametrization(ours, "weight", _symmetric(chainrule)())
    TP.register_parametrization(theirs, "weight", _symmetric(torch)())
    assert type(ours).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    assert isinstance(ours, nn.Linear) and type(nn.Linear(2, 2)) is nn.Linear
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, "original")
    _close(ours.weight, theirs.weight, "weight")
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    _check_call(ours, theirs, np.random.default_rng(0).standard_normal((2, 4)))
    # assigning goes through right_inverse
    a = np.random.default_rng(1).standard_normal((4, 4))
    a = a + a.T
    ours.weight = chainrule.tensor(a)
    with torch.no_grad():
        theirs.weight = torch.tensor(a)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, "after set")
    _close(ours.weight, theirs.weight, "weight after set")
    # a second parametrization on the same tensor is appended
    parametrize.register_parametrization(ours, "weight", _scale(chainrule)())
    TP.register_parametrization(theirs, "weight", _scale(torch)())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight, "weight with two parametrizations")
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, "original")


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations(leave_parametrized):
    ours, theirs = _linear_pair(4, 4)
    for lib, m in ((chainrule, ours), (torch, theirs)):
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _scale(lib)())
        lib.nn.utils.parametrize.register_parametrization(m, "bias", _scale(lib)())
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized)
    assert type(ours).__name__ == "ParametrizedLinear"
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight, "weight")
    for lib, m in ((chainrule, ours), (torch, theirs)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "bias", leave_parametrized)
    assert type(ours) is nn.Linear and not hasattr(ours, "parametrizations")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.weight, nn.Parameter)
    _check_call(ours, theirs, np.ones((2, 4)))
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(ours, "weight")


def test_cached_computes_once_and_buffers_can_be_parametrized():
    calls = []

    class Count(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 3

    m = nn.BatchNorm1d(3)
    parametrize.register_parametrization(m, "running_mean", Count())
    calls.clear()
    with parametrize.cached():
        a, b = m.running_mean, m.running_mean
        assert a is b and len(calls) == 1
    _ = m.running_mean  # outside the block: computed again
    assert len(calls) == 2
    assert "parametrizations.running_mean.original" in m.state_dict()


def test_parametrized_copy_pickle_and_errors():
    m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", _symmetric(chainrule)())
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    np.testing.assert_array_equal(c.weight.detach().numpy(), m.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)

    class Shrink(nn.Module):
        def forward(self, x):
            return x[0]

    class ShrinkT(torch.nn.Module):
        def forward(self, x):
            return x[0]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
    with pytest.raises(ValueError, match="may not change the shape"):
        TP.register_parametrization(torch.nn.Linear(3, 3), "weight", ShrinkT())
    parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink(), unsafe=True)
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(nn.Linear(3, 3), "nothing", Shrink())


@pytest.mark.parametrize("dim", [0, 1, None, -2])
@pytest.mark.parametrize("cls", ["Linear", "Conv1d"])
def test_weight_norm_matches_torch(dim, cls):
    if cls == "Linear" and dim == -2:
        dim = -1
    ours, theirs = _linear_pair(3, 4, cls, *([2] if cls == "Conv1d" else []))
    P.weight_norm(ours, dim=dim)
    TPS.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k in ("original0", "original1"):
        _close(getattr(ours.parametrizations.weight, k), getattr(theirs.parametrizations.weight, k), k)
    x = np.random.default_rng(2).standard_normal((2, 3) if cls == "Linear" else (2, 3, 5))
    _check_call(ours, theirs, x)


@pytest.mark.parametrize(
    "cls,args", [("Linear", (3, 4)), ("Conv2d", (2, 3, 2)), ("ConvTranspose2d", (2, 3, 2))]
)
@pytest.mark.parametrize("iterations", [1, 3])
def test_spectral_norm_matches_torch(cls, args, iterations):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*args).double()
    ours = getattr(nn, cls)(*args).double()
    TPS.spectral_norm(theirs, n_power_iterations=iterations)
    P.spectral_norm(ours, n_power_iterations=iterations)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_weights(ours, theirs)  # u and v too: torch's random start
    x = np.random.default_rng(3).standard_normal((2, 3) if cls == "Linear" else (1, 2, 4, 4))
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        _check_call(ours, theirs, x, 1e-9)
        for k in ("_u", "_v"):
            _close(
                getattr(ours.parametrizations.weight[0], k), getattr(theirs.parametrizations.weight[0], k), k
            )


def test_spectral_norm_start_is_normalised_and_errors():
    chainrule.manual_seed(0)  # the power iteration starts from a random vector
    m = P.spectral_norm(nn.Linear(5, 7))
    sn = m.parametrizations.weight[0]
    assert np.linalg.norm(sn._u.numpy()) == pytest.approx(1) and sn._u.shape == (7,)
    w = m.weight.detach().numpy()
    assert np.linalg.svd(w, compute_uv=False)[0] == pytest.approx(1, rel=0.05)
    with pytest.raises(ValueError, match="n_power_iterations"):
        P.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        P.spectral_norm(nn.Linear(2, 2), dim=3)
    b = P.spectral_norm(nn.Linear(2, 2), name="bias")  # a vector: normalised, no power iteration
    # float32: one rounding of the division, a few of the norm
    np.testing.assert_allclose(np.linalg.norm(b.bias.detach().numpy()), 1.0, rtol=4e-7)


@pytest.mark.parametrize(
    "shape,orth_map,trivial",
    [
        ((4, 4), None, True),
        ((5, 3), None, True),
        ((3, 5), "householder", True),
        ((4, 4), "cayley", True),
        ((5, 3), "matrix_exp", True),
        ((5, 3), "householder", False),
        ((3, 5), "householder", False),
    ],
)
def test_orthogonal_matches_torch(shape, orth_map, trivial):
    ours, theirs = _linear_pair(shape[1], shape[0])
    P.orthogonal(ours, orthogonal_map=orth_map, use_trivialization=trivial)
    TPS.orthogonal(theirs, orthogonal_map=orth_map, use_trivialization=trivial)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    w = ours.weight.detach().numpy()
    small = min(shape)
    gram = w @ w.T if shape[0] < shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, "original")
    if not (trivial and shape[0] != shape[1]):  # the completion of a non-square base is random
        _close(ours.weight, theirs.weight, "weight", 1e-9)
    copy_torch_weights(ours, theirs)
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(0.1 * torch.randn(shape, dtype=torch.float64))
    copy_torch_weights(ours, theirs)
    _check_call(ours, theirs, np.random.default_rng(4).standard_normal((2, shape[1])), 1e-9)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix"):
        P.orthogonal(nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        P.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    m = P.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError):
        m.weight = chainrule.eye(3)


# ---- the old hook-based forms ---------------------------------------------------------------------
def test_old_weight_norm_matches_torch():
    ours, theirs = _linear_pair(3, 4)
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight_g, theirs.weight_g, "g")
    _check_call(ours, theirs, np.random.default_rng(5).standard_normal((2, 3)))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(ours)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight, "weight after remove")
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(ours)


@pytest.mark.parametrize("cls,args", [("Linear", (3, 4)), ("ConvTranspose1d", (2, 3, 2))])
def test_old_spectral_norm_matches_torch(cls, args):
    torch.manual_seed(0)
    theirs = torch.nn.utils.spectral_norm(getattr(torch.nn, cls)(*args).double(), n_power_iterations=2)
    ours = nn.utils.spectral_norm(getattr(nn, cls)(*args).double(), n_power_iterations=2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_weights(ours, theirs)
    x = np.random.default_rng(6).standard_normal((2, 3) if cls == "Linear" else (1, 2, 4))
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        _check_call(ours, theirs, x, 1e-9)
        _close(ours.weight_u, theirs.weight_u, "u", 1e-9)
        _close(ours.weight, theirs.weight, "weight", 1e-9)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight, "weight after remove", 1e-9)


def test_type_before_and_transfer_parametrizations():
    for lib in (chainrule, torch):
        pz = lib.nn.utils.parametrize
        m = pz.register_parametrization(lib.nn.Linear(3, 3), "weight", _scale(lib)())
        assert pz.type_before_parametrizations(m) is lib.nn.Linear
        assert pz.type_before_parametrizations(lib.nn.ReLU()) is lib.nn.ReLU
        target = lib.nn.Linear(3, 3)
        pz.transfer_parametrizations_and_params(m, target)
        assert pz.is_parametrized(target, "weight")
        assert target.parametrizations.weight.original is m.parametrizations.weight.original
        np.testing.assert_allclose(to_numpy(target.weight.detach()), to_numpy(m.weight.detach()))


@pytest.mark.parametrize("orth_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_batched_weights(orth_map):
    def make(lib):
        class Holder(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = lib.nn.Parameter(
                    lib.tensor(np.random.default_rng(0).standard_normal((2, 4, 3)))
                )

        return Holder()

    ours, theirs = make(chainrule), make(torch)
    P.orthogonal(ours, orthogonal_map=orth_map, use_trivialization=False)
    TPS.orthogonal(theirs, orthogonal_map=orth_map, use_trivialization=False)
    if orth_map != "householder":  # no right_inverse without trivialization: the original is kept
        copy_torch_weights(ours, theirs)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, "original")
    _close(ours.weight, theirs.weight, "weight", 1e-9)
    g = np.random.default_rng(1).standard_normal((2, 4, 3))
    (ours.weight * chainrule.tensor(g)).sum().backward()
    (theirs.weight * torch.tensor(g)).sum().backward()
    _close(
        ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad, "grad", 1e-9
    )
