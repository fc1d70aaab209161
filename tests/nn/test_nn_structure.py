"""nn's structure against torch: lazy modules, DataParallel, Container, factory_kwargs, the
torch.nn.modules.* import paths, nn.modules.utils, nn.common_types and nn.init's deprecated names."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, to_numpy

import chainrule
import chainrule.nn as nn

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:Lazy modules are a new feature"),
]


def _close(a, b, what: str, tol: float = 1e-10) -> None:
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol, err_msg=what)


# ---- lazy modules ---------------------------------------------------------------------------------
LAZY_CASES = [
    ("LazyLinear", (4,), {}, (2, 3)),
    ("LazyLinear", (4,), {"bias": False}, (5, 2, 6)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", (6, 3), {"groups": 2, "stride": 2}, (1, 4, 6, 6)),
    ("LazyConv2d", (4, 2), {}, (3, 5, 5)),
    ("LazyConvTranspose1d", (3, 2), {"stride": 2}, (2, 4, 5)),
    ("LazyConvTranspose2d", (2, 3), {"bias": False}, (1, 3, 4, 4)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), {"affine": False}, (2, 3, 4, 4)),
    ("LazyBatchNorm1d", (), {"bias": False, "track_running_stats": False}, (4, 3, 2)),
    ("LazyBatchNorm3d", (), {"momentum": None}, (2, 2, 3, 3, 3)),
    ("LazyConv3d", (2, 2), {"padding": 1}, (1, 3, 3, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), {"stride": 2}, (1, 2, 2, 3, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), {"affine": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {"track_running_stats": False}, (2, 2, 3, 3, 3)),
]


@pytest.mark.parametrize(
    "name,args,kw,shape", LAZY_CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(LAZY_CASES)]
)
def test_lazy_modules_materialize_as_torch(name, args, kw, shape):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    assert all(isinstance(p, nn.UninitializedParameter) for p in ours.parameters())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(chainrule.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert isinstance(ours, getattr(nn, name[4:]))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), k
        assert type(a) is chainrule.Tensor
    assert all(type(p) is nn.Parameter for p in ours.parameters())
    if "Norm" in name:  # deterministic start: ones, zeros, and the running stats of one batch
        for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            _close(a, b, k, 1e-6)
    copy_torch_weights(ours, theirs)
    ours.eval()
    theirs.eval()
    _close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)).detach(), "output after copying weights", 1e-5)


def test_lazy_module_loads_a_state_dict_and_copies():
    src = nn.Linear(3, 2)
    lazy = nn.LazyLinear(2)
    lazy.load_state_dict(src.state_dict())
    assert not lazy.has_uninitialized_params() and type(lazy).__name__ == "LazyLinear"
    np.testing.assert_array_equal(lazy.weight.detach().numpy(), src.weight.detach().numpy())
    out = lazy(chainrule.ones(1, 3))  # becomes a Linear, keeping the loaded values
    assert type(lazy) is nn.Linear and lazy.in_features == 3
    np.testing.assert_allclose(out.detach().numpy(), src(chainrule.ones(1, 3)).detach().numpy())
    fresh = nn.LazyConv2d(4, 3)
    opt_params = list(fresh.parameters())
    fresh(chainrule.zeros(1, 2, 5, 5))
    assert opt_params[0] is fresh.weight and fresh.weight.shape == (4, 2, 3, 3)  # same objects
    import copy

    lazy_copy = copy.deepcopy(nn.LazyLinear(3))
    lazy_copy(chainrule.ones(2, 5))
    assert type(lazy_copy) is nn.Linear and lazy_copy.weight.shape == (3, 5)


def test_lazy_errors_and_warning():
    with pytest.warns(UserWarning, match="Lazy modules are a new feature"):
        nn.LazyLinear(3)
    for lib in (chainrule, torch):
        with pytest.raises(
            RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"
        ):
            lib.nn.LazyConv2d(2, 3)(lib.zeros(2, 3))
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.nn.LazyConv2d(4, 3, groups=2)(lib.zeros(1, 3, 5, 5))
    u = nn.UninitializedParameter()
    assert u.requires_grad and repr(u) == "<UninitializedParameter>"
    u.materialize((2, 3), dtype=chainrule.float64)
    assert type(u) is nn.Parameter and u.dtype == chainrule.float64 and u.shape == (2, 3)
    b = nn.UninitializedBuffer()
    b.materialize(4)
    assert type(b) is chainrule.Tensor and not b.requires_grad


# ---- DataParallel, Container, factory_kwargs ------------------------------------------------------
def test_data_parallel_runs_the_module():
    inner_o, inner_t = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    copy_torch_weights(inner_o, inner_t)
    dp_o, dp_t = nn.DataParallel(inner_o), torch.nn.DataParallel(inner_t)
    assert dp_o.module is inner_o and dp_o.device_ids == dp_t.device_ids == []
    assert list(dp_o.state_dict()) == list(dp_t.state_dict())
    assert repr(dp_o) == repr(dp_t)
    x = np.ones((4, 3), dtype=np.float32)
    _close(dp_o(chainrule.tensor(x)), dp_t(torch.tensor(x)).detach(), "output", 1e-6)


def test_container_and_factory_kwargs():
    for lib in (chainrule, torch):
        with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
            c = lib.nn.Container(a=lib.nn.Linear(2, 2), b=lib.nn.ReLU())
        assert [n for n, _ in c.named_children()] == ["a", "b"]
    for kwargs in (
        None,
        {},
        {"device": "cpu", "dtype": None},
        {"factory_kwargs": {"dtype": 1}, "device": "cpu"},
    ):
        assert nn.factory_kwargs(kwargs) == torch.nn.factory_kwargs(kwargs)
    for bad in ({"other": 1}, {"factory_kwargs": {"dtype": 1}, "dtype": 2}):
        with pytest.raises(TypeError):
            torch.nn.factory_kwargs(bad)
        with pytest.raises(TypeError):
            nn.factory_kwargs(bad)


# ---- import paths ---------------------------------------------------------------------------------
SUBMODULES = [
    "activation",
    "linear",
    "conv",
    "rnn",
    "loss",
    "module",
    "container",
    "batchnorm",
    "normalization",
    "dropout",
    "pooling",
    "sparse",
    "transformer",
    "flatten",
    "lazy",
]


@pytest.mark.parametrize("sub", SUBMODULES)
def test_torch_nn_modules_import_paths(sub):
    ours = importlib.import_module(f"chainrule.nn.modules.{sub}")
    theirs = importlib.import_module(f"torch.nn.modules.{sub}")
    assert set(ours.__all__) <= set(theirs.__all__), set(ours.__all__) - set(theirs.__all__)
    for name in ours.__all__:
        obj = getattr(ours, name)
        assert obj is getattr(nn, name, obj) or obj is getattr(nn.modules.module, name, None)
    assert getattr(nn.modules, sub) is ours


def test_subclassing_from_the_module_paths():
    from chainrule.nn.modules.activation import ReLU
    from chainrule.nn.modules.loss import _Loss
    from chainrule.nn.modules.module import Module

    class MyLoss(_Loss):
        def forward(self, a, b):
            return ((a - b) ** 2).mean() if self.reduction == "mean" else ((a - b) ** 2).sum()

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.act = ReLU()

        def forward(self, x):
            return self.act(x)

    assert MyLoss(reduction="sum")(chainrule.ones(2), chainrule.zeros(2)).item() == 2.0
    assert Net()(chainrule.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
    assert nn.modules.Linear is nn.Linear and nn.modules.LazyLinear is nn.LazyLinear
    assert nn.parameter.UninitializedParameter is nn.UninitializedParameter


def test_modules_utils_and_common_types():
    from chainrule.nn.modules import utils as ours

    theirs = torch.nn.modules.utils
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4]):
            assert getattr(ours, name)(value) == getattr(theirs, name)(value)
        assert getattr(ours, name).__name__ == name
    assert ours._ntuple(5)(2) == theirs._ntuple(5)(2)
    assert ours._reverse_repeat_tuple((1, 2, 3), 2) == theirs._reverse_repeat_tuple((1, 2, 3), 2)
    assert ours._list_with_default([None, 3], [7, 8, 9]) == theirs._list_with_default([None, 3], [7, 8, 9])
    with pytest.raises(ValueError, match="Input dimension should be at least"):
        ours._list_with_default([None, 3], [1, 2])
    sd_o = nn.DataParallel(nn.Linear(2, 2)).state_dict()
    sd_t = torch.nn.DataParallel(torch.nn.Linear(2, 2)).state_dict()
    ours.consume_prefix_in_state_dict_if_present(sd_o, "module.")
    theirs.consume_prefix_in_state_dict_if_present(sd_t, "module.")
    assert list(sd_o) == list(sd_t) and list(sd_o._metadata) == list(sd_t._metadata)
    from chainrule.nn import common_types

    for name in ("_size_1_t", "_size_2_t", "_size_3_t", "_size_any_t", "_ratio_2_t", "_size_2_opt_t"):
        assert getattr(common_types, name) == getattr(torch.nn.common_types, name)


# ---- nn.init's deprecated names -------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,args",
    [("constant", (0.5,)), ("eye", ()), ("dirac", ())],
)
def test_deprecated_init_deterministic(name, args):
    shape = (3, 3) if name != "dirac" else (4, 2, 3)
    ours, theirs = chainrule.zeros(*shape), torch.zeros(*shape)
    with pytest.warns(
        FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"
    ):
        getattr(nn.init, name)(ours, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(torch.nn.init, name)(theirs, *args)
    _close(ours, theirs, name)
    assert getattr(nn.init, name).__name__ == name


@pytest.mark.parametrize(
    "name",
    [
        "uniform",
        "normal",
        "xavier_uniform",
        "xavier_normal",
        "kaiming_uniform",
        "kaiming_normal",
        "orthogonal",
    ],
)
def test_deprecated_init_random(name):
    ours, theirs = chainrule.zeros(200, 300), torch.zeros(200, 300)
    with pytest.warns(FutureWarning, match="is now deprecated"):
        getattr(nn.init, name)(ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(torch.nn.init, name)(theirs)
    a, b = ours.numpy(), theirs.numpy()
    assert abs(a.std() - b.std()) < 0.03 * b.std() and abs(a.mean() - b.mean()) < 0.03 * b.std() + 1e-3
    if "uniform" in name:  # the same bounds
        assert abs(a.min() - b.min()) < 0.05 * b.std() and abs(a.max() - b.max()) < 0.05 * b.std()
    if name == "orthogonal":
        np.testing.assert_allclose(a @ a.T, np.eye(200), atol=1e-5)


def test_deprecated_sparse():
    ours = chainrule.zeros(10, 40)
    with pytest.warns(FutureWarning, match="`nn.init.sparse` is now deprecated"):
        nn.init.sparse(ours, 0.3)
    assert ((ours.numpy() == 0).sum(0) >= 3).all()
