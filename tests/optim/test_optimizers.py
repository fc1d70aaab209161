"""Optimizers against torch.optim: 50-step parameter trajectories for every option combination,
param groups, zero_grad, closures, state_dict round trips (also across the two libraries), and
torch's errors.

Each run starts both libraries from the same NumPy values and computes the gradients from the same
loss in each library (a tanh regression plus a Rosenbrock valley, over three tensors of different
shapes in two param groups), so the trajectories agree up to float rounding.
"""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest
import torch
from oracle import grid, raises_like_torch

import chainrule

RNG = np.random.default_rng(1234)
X = RNG.uniform(0.2, 1.0, (5, 3))
INIT = (RNG.standard_normal((3, 4)) * 0.5, RNG.standard_normal(4) * 0.1, np.array([-0.5, 0.8]))
DTYPES = ("float32", "float64")
# float64: torch fuses multiply-adds (FMA) where NumPy rounds twice: 1-ulp differences, which the
# gradient feedback amplifies over 50 steps to ~1e-12. Float32 runs are held to a bound derived from
# their rounding instead (see ``assert_within_float32_bound``).
TOL64 = dict(rtol=1e-10, atol=1e-12)
EPS32 = float(np.finfo(np.float32).eps)
# A float32 step rounds each of its ~10 operations by up to eps32 / 2 relative; adding like a random
# walk that is ~1.6 eps32 per step, which the sensitivity runs below model as +-eps32 on the gradient
# and on the parameters. C_ROUNDING covers that factor and a sampled perturbation direction that is
# less unlucky than the worst one (2 samples). Measured: both libraries stay within 0.62 of the bound
# with C_ROUNDING = 1 (Intel Xeon, OpenBLAS), so 4 leaves a 6x margin for other kernels' rounding.
C_ROUNDING = 4.0
SENSITIVITY_SEEDS = (1, 2)


def objective(lib, W, b, c):
    """Couples the parameters, but every partial derivative stays positive along the way: no
    coordinate reaches a stationary point within 50 steps, where sign-like updates (Adam, RMSprop)
    would turn rounding differences into chaos."""
    x = lib.tensor(X, dtype=W.dtype)
    return 4 * lib.exp(0.5 * (x @ W + b)).mean() + lib.exp(c[0]) + lib.exp(c[1] - c[0] ** 2)


def make_params(lib, dtype):
    return [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in INIT]


def two_groups(params, lr2):
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr2}]


def run(lib, make_opt, dtype, steps=50, sign=1.0, params=None, opt=None):
    """``steps`` optimizer steps on the objective (times ``sign``); the parameters after each."""
    params = make_params(lib, dtype) if params is None else params
    opt = make_opt(lib, params) if opt is None else opt
    history = []
    for _ in range(steps):
        opt.zero_grad()
        (sign * objective(lib, *params)).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, params, opt


def assert_same_trajectory(ours, theirs, dtype, what=""):
    """float64 trajectories agree with torch's up to rounding; float32 ones are checked against the
    exact trajectory by ``assert_within_float32_bound``."""
    assert dtype == "float64"
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            assert x.dtype == y.dtype, f"{what}: step {step} param {i}: dtype {x.dtype} != torch {y.dtype}"
            np.testing.assert_allclose(x, y, err_msg=f"{what}: step {step + 1}, param {i}", **TOL64)


def _perturbed_run(make_opt, sign, seed, steps):
    """A float64 torch run whose gradients and parameters are multiplied by 1 +- eps32 (uniform) at
    each step: a model of float32 rounding, whose distance from the exact run measures how much this
    trajectory amplifies rounding."""
    rng = np.random.default_rng(seed)
    params = make_params(torch, "float64")
    opt = make_opt(torch, params)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        (sign * objective(torch, *params)).backward()
        with torch.no_grad():
            for p in params:
                p.grad.mul_(torch.from_numpy(1 + EPS32 * rng.uniform(-1, 1, p.shape)))
            opt.step()
            for p in params:
                p.mul_(torch.from_numpy(1 + EPS32 * rng.uniform(-1, 1, p.shape)))
        history.append([p.detach().numpy().copy() for p in params])
    return history, opt


class Float32Reference:
    """The exact (float64) trajectory of one optimizer and, per step and tensor, the bound on a
    float32 run's distance from it: C_ROUNDING * (sensitivity + (k + 1) * eps32 * max|x|) after step
    k, the second term for rounding that the trajectory does not amplify."""

    def __init__(self, make_opt, sign=1.0, steps=50):
        self.history, _, self.opt = run(torch, make_opt, "float64", steps=steps, sign=sign)
        self.perturbed = [_perturbed_run(make_opt, sign, seed, steps) for seed in SENSITIVITY_SEEDS]
        self.bounds = [
            [self._bound(k, [h[k][i] for h, _ in self.perturbed], x) for i, x in enumerate(ref)]
            for k, ref in enumerate(self.history)
        ]

    @staticmethod
    def _bound(k, perturbed, exact):
        sensitivity = max(np.max(np.abs(p - exact), initial=0.0) for p in perturbed)
        return C_ROUNDING * (sensitivity + (k + 1) * EPS32 * np.max(np.abs(exact), initial=0.0))

    def state_bound(self, i, name, exact):
        """The bound for optimizer state ``name`` of parameter ``i`` after the last step."""
        perturbed = [opt.state_dict()["state"][i][name].numpy() for _, opt in self.perturbed]
        return self._bound(len(self.history) - 1, perturbed, exact)

    def check(self, trajectory, what, first_step=0):
        """``trajectory`` (float32, from step ``first_step + 1`` on) lies within the bound."""
        assert len(trajectory) == len(self.history) - first_step
        for k, params in enumerate(trajectory, start=first_step):
            for i, x in enumerate(params):
                assert x.dtype == np.float32, f"{what}: step {k + 1} param {i}: dtype {x.dtype}"
                error = np.max(np.abs(x - self.history[k][i]), initial=0.0)
                assert error <= self.bounds[k][i], (
                    f"{what}: step {k + 1}, param {i}: {error:.3g} from the float64 trajectory, "
                    f"more than float32 rounding explains ({self.bounds[k][i]:.3g})"
                )


def assert_within_float32_bound(ours, theirs, make_opt, sign, what):
    """Both float32 trajectories against the exact one. Not against each other: where a coordinate's
    gradient nearly cancels (weight decay against the loss), sign-like updates (Adam, RMSprop) turn a
    1-ulp difference in it into up to lr * (that difference) / |gradient| in the step, and which
    elements do so depends on the CPU's FMA and SIMD kernels. torch meeting the bound checks the
    rounding model itself."""
    reference = Float32Reference(make_opt, sign)
    reference.check(theirs, f"torch {what} (the rounding model is wrong)")
    reference.check(ours, what)


def check_against_torch(cls_name, kwargs, dtype, lr2=0.02):
    def make_opt(lib, params):
        return getattr(lib.optim, cls_name)(two_groups(params, lr2), **kwargs)

    sign = -1.0 if kwargs.get("maximize") else 1.0
    ours, _, _ = run(chainrule, make_opt, dtype, sign=sign)
    theirs, _, _ = run(torch, make_opt, dtype, sign=sign)
    if dtype == "float64":
        assert_same_trajectory(ours, theirs, dtype, f"{cls_name}({kwargs})")
    else:
        assert_within_float32_bound(ours, theirs, make_opt, sign, f"{cls_name}({kwargs})")
    assert not np.allclose(ours[-1][2], INIT[2]), "the parameters did not move"


# ---- trajectories for every option combination ----------------------------------------------------
SGD_CASES = [
    k
    for k in grid(
        lr=[0.05],
        momentum=[0.0, 0.9],
        dampening=[0.0, 0.3],
        nesterov=[False, True],
        weight_decay=[0.0, 0.1],
        maximize=[False, True],
    )
    if not (k["nesterov"] and (k["momentum"] == 0 or k["dampening"] != 0))
]
ADAM_CASES = grid(
    lr=[0.03],
    betas=[(0.9, 0.999), (0.5, 0.8)],
    eps=[1e-8, 1e-3],
    weight_decay=[0.0, 0.1],
    amsgrad=[False, True],
    maximize=[False, True],
)
RMSPROP_CASES = grid(
    lr=[0.01],
    alpha=[0.99, 0.8],
    eps=[1e-8, 1e-2],
    weight_decay=[0.0, 0.1],
    momentum=[0.0, 0.5],
    centered=[False, True],
    maximize=[False, True],
)
ADAGRAD_CASES = grid(
    lr=[0.1],
    lr_decay=[0.0, 0.05],
    weight_decay=[0.0, 0.1],
    initial_accumulator_value=[0.0, 0.5],
    eps=[1e-10, 1e-2],
    maximize=[False, True],
)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_trajectory(kwargs, dtype):
    check_against_torch("SGD", kwargs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_trajectory(cls, kwargs, dtype):
    check_against_torch(cls, kwargs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_trajectory(kwargs, dtype):
    check_against_torch("RMSprop", kwargs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", ADAGRAD_CASES, ids=str)
def test_adagrad_trajectory(kwargs, dtype):
    check_against_torch("Adagrad", kwargs, dtype)


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_defaults_trajectory(cls):
    check_against_torch(cls, {}, "float64", lr2=0.01)


FED_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.03, betas=(0.5, 0.8), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.03, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.8, weight_decay=0.1, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
]


@pytest.mark.parametrize("cls,kwargs", FED_CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(FED_CASES)])
def test_trajectory_with_gradients_fed_from_numpy(cls, kwargs):
    """Without the feedback of a loss, float32 trajectories stay within a few ulps of torch's, even
    through gradients that change sign, vanish, or span six orders of magnitude."""
    rng = np.random.default_rng(7)
    start = [rng.standard_normal(200).astype(np.float32), np.float32(rng.standard_normal())]
    grads = [
        [
            (rng.standard_normal(200) * 10.0 ** rng.uniform(-5, 1, 200)).astype(np.float32),
            np.float32(0.0 if t % 7 == 3 else rng.standard_normal()),
        ]
        for t in range(50)
    ]
    grads[10][0][:50] = 0.0

    def program(lib):
        params = [lib.tensor(a, requires_grad=True) for a in start]
        opt = getattr(lib.optim, cls)(params, **kwargs)
        history = []
        for g in grads:
            for p, gp in zip(params, g):
                p.grad = lib.tensor(gp)
            opt.step()
            history.append([p.detach().numpy().copy() for p in params])
        return history

    for ours, theirs in zip(program(chainrule), program(torch)):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=5e-6, atol=5e-6)


def test_groups_override_other_hyperparameters():
    def make_opt(lib, params):
        return lib.optim.SGD(
            [
                {"params": params[:1], "lr": 0.01, "momentum": 0.5},
                {"params": params[1:2], "nesterov": True},
                {"params": params[2:], "weight_decay": 0.2, "dampening": 0.1},
            ],
            lr=0.04,
            momentum=0.9,
        )

    assert_same_trajectory(
        run(chainrule, make_opt, "float64")[0], run(torch, make_opt, "float64")[0], "float64"
    )


def test_params_without_grad_are_skipped_and_keep_no_state():
    def program(lib):
        params = make_params(lib, "float64")
        frozen = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.Adam(params + [frozen], lr=0.1)
        run(lib, None, "float64", steps=5, params=params, opt=opt)
        return frozen.detach().numpy().copy(), frozen in opt.state, len(opt.state)

    (a, in_a, n_a), (b, in_b, n_b) = program(chainrule), program(torch)
    np.testing.assert_array_equal(a, b)
    assert (in_a, n_a) == (in_b, n_b) == (False, 3)


def test_named_parameters_are_accepted_and_saved():
    def program(lib):
        params = make_params(lib, "float64")
        opt = lib.optim.SGD([("w", params[0]), ("b", params[1])], lr=0.1)
        names = opt.state_dict()["param_groups"][0]["param_names"]
        return names, opt.param_groups[0]["params"][0] is params[0]

    assert program(chainrule) == program(torch) == (["w", "b"], True)


def test_add_param_group_fills_defaults_like_torch():
    def program(lib):
        params = make_params(lib, "float64")
        opt = lib.optim.Adam(params[:2], lr=0.1, weight_decay=0.01)
        opt.add_param_group({"params": params[2], "lr": 0.5})
        return {k: v for k, v in opt.param_groups[1].items() if k != "params"}

    assert program(chainrule) == program(torch)


# ---- zero_grad --------------------------------------------------------------------------------------
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    def program(lib):
        params = make_params(lib, "float64")
        opt = lib.optim.SGD(params, lr=0.1, momentum=0.9)
        objective(lib, *params).backward()
        grad_before = params[0].grad
        opt.step()
        opt.zero_grad(set_to_none=set_to_none)
        grads = [None if p.grad is None else p.grad.numpy().copy() for p in params]
        same_object = params[0].grad is grad_before
        opt.step()  # a zero gradient still moves the parameters through the momentum; None skips them
        return grads, same_object, [p.detach().numpy().copy() for p in params]

    (grads, same, after), (t_grads, t_same, t_after) = program(chainrule), program(torch)
    assert same == t_same == (not set_to_none)
    for g, tg in zip(grads, t_grads):
        assert (g is None) == (tg is None) == set_to_none
        if g is not None:
            np.testing.assert_array_equal(g, tg)
            assert not g.any()
    for a, b in zip(after, t_after):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_detaches_a_grad_that_has_a_graph():
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (x**3).sum().backward(create_graph=True)
        had_graph = x.grad.requires_grad
        lib.optim.SGD([x], lr=0.1).zero_grad(set_to_none=False)
        return had_graph, x.grad.requires_grad, x.grad.grad_fn is None, x.grad.tolist()

    assert program(chainrule) == program(torch) == (True, False, True, [0.0, 0.0])


# ---- step ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_step_with_closure(cls):
    def program(lib):
        params = make_params(lib, "float64")
        opt = getattr(lib.optim, cls)(params, lr=0.05)
        losses = []

        def closure():
            opt.zero_grad()
            loss = objective(lib, *params)
            loss.backward()
            return loss

        with lib.no_grad():  # the closure runs with grad mode on all the same
            for _ in range(10):
                losses.append(opt.step(closure).item())
        return losses, [p.detach().numpy().copy() for p in params]

    (losses, params), (t_losses, t_params) = program(chainrule), program(torch)
    np.testing.assert_allclose(losses, t_losses, rtol=1e-12)
    for a, b in zip(params, t_params):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert chainrule.is_grad_enabled()


def test_step_without_closure_returns_none_and_records_no_graph():
    params = make_params(chainrule, "float32")
    opt = chainrule.optim.Adam(params)
    objective(chainrule, *params).backward()
    assert opt.step() is None
    assert all(p.is_leaf and p.requires_grad and p.grad_fn is None for p in params)


def test_step_bumps_the_version_so_a_stale_graph_refuses_backward():
    for lib in (chainrule, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.grad = lib.ones(2)
        loss = (w * w).sum()  # saves w
        lib.optim.SGD([w], lr=0.1).step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


def test_step_hooks():
    calls = []
    params = make_params(chainrule, "float64")
    opt = chainrule.optim.SGD(params, lr=0.1)
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    opt.step()
    pre.remove()
    opt.step()
    assert calls == [("pre", True), ("post", True), ("post", True)]


def test_repr_matches_torch():
    def program(lib):
        return repr(lib.optim.AdamW(make_params(lib, "float32"), lr=0.01))

    assert program(chainrule) == program(torch)


# ---- state_dict --------------------------------------------------------------------------------------
OPTIMIZERS = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05)),
    ("Adam", dict(lr=0.03, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.03, betas=(0.8, 0.9))),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def factory(cls, kwargs):
    return lambda lib, params: getattr(lib.optim, cls)(two_groups(params, 0.02), **kwargs)


def to_lib(obj, lib):
    """The same nested state with every tensor converted to ``lib``'s tensors (a copy)."""
    if isinstance(obj, chainrule.Tensor | torch.Tensor):
        return lib.tensor(np.array(obj.detach().numpy()))
    if isinstance(obj, dict):
        return {k: to_lib(v, lib) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_lib(v, lib) for v in obj)
    return obj


def resumed(lib, make_opt, state_dict_of_20, params_after_20, dtype):
    """A fresh optimizer over copies of the parameters, loaded with the given state: 30 steps more."""
    params = [lib.tensor(a, requires_grad=True) for a in params_after_20]
    opt = make_opt(lib, params)
    opt.load_state_dict(state_dict_of_20)
    return run(lib, None, dtype, steps=30, params=params, opt=opt)[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(OPTIMIZERS)])
def test_state_dict_round_trips_within_and_across_libraries(cls, kwargs, dtype):
    make_opt = factory(cls, kwargs)
    whole, _, _ = run(chainrule, make_opt, dtype)
    t_whole, _, _ = run(torch, make_opt, dtype)
    first, _, opt = run(chainrule, make_opt, dtype, steps=20)
    t_first, _, t_opt = run(torch, make_opt, dtype, steps=20)
    ours, theirs = opt.state_dict(), t_opt.state_dict()
    at_20 = Float32Reference(make_opt, steps=20) if dtype == "float32" else None

    # the same layout as torch: indices, state names, group keys
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for i in theirs["state"]:
        assert ours["state"][i].keys() == theirs["state"][i].keys()
        for name, value in theirs["state"][i].items():
            assert str(ours["state"][i][name].dtype) == str(value.dtype).replace("torch", "chainrule")
            if at_20 is None:
                np.testing.assert_allclose(ours["state"][i][name].numpy(), value.numpy(), **TOL64)
                continue
            exact = at_20.opt.state_dict()["state"][i][name].numpy()
            for who, state in (("torch", value), ("chainrule", ours["state"][i][name])):
                error = np.max(np.abs(state.numpy() - exact), initial=0.0)
                assert error <= at_20.state_bound(i, name, exact), f"{who}: state {i} {name}: {error:.3g}"

    saved = copy.deepcopy(ours)  # state_dict gives the live buffers, as torch's does
    np.testing.assert_array_equal(
        np.concatenate([a.ravel() for a in first[-1]]), np.concatenate([a.ravel() for a in whole[19]])
    )
    # within one library, resuming repeats the same operations: the same numbers
    resumed_ours = resumed(chainrule, make_opt, copy.deepcopy(saved), first[-1], dtype)
    for step, (a, b) in enumerate(zip(resumed_ours, whole[20:], strict=True)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"resume: step {step + 21}")
    # across the libraries (a loaded optimizer works on the state dict's tensors, as torch's does: give
    # each a copy): torch -> chainrule, converted, and as torch's own tensors (converted by
    # load_state_dict); chainrule -> torch
    crossed = {
        "from torch": resumed(chainrule, make_opt, to_lib(theirs, chainrule), t_first[-1], dtype),
        "from torch, unconverted": resumed(chainrule, make_opt, copy.deepcopy(theirs), t_first[-1], dtype),
        "to torch": resumed(torch, make_opt, to_lib(saved, torch), first[-1], dtype),
    }
    if dtype == "float64":
        for what, trajectory in crossed.items():
            assert_same_trajectory(trajectory, t_whole[20:], dtype, what)
        return
    reference = Float32Reference(make_opt)
    reference.check(t_whole[20:], "torch (the rounding model is wrong)", first_step=20)
    for what, trajectory in crossed.items():
        reference.check(trajectory, what, first_step=20)


def test_load_state_dict_casts_buffers_to_the_parameter_dtype_but_not_step():
    p32 = make_params(chainrule, "float32")
    opt = chainrule.optim.Adam(p32)
    objective(chainrule, *p32).backward()
    opt.step()
    state64 = to_lib(opt.state_dict(), chainrule)
    for s in state64["state"].values():
        s["exp_avg"] = s["exp_avg"].double()
        s["step"] = s["step"].double()
    fresh = chainrule.optim.Adam(make_params(chainrule, "float32"))
    fresh.load_state_dict(state64)
    s = fresh.state[fresh.param_groups[0]["params"][0]]
    assert s["exp_avg"].dtype == chainrule.float32 and s["step"].dtype == chainrule.float64


def test_load_state_dict_accepts_numbers_for_step_and_string_indices():
    """What a JSON round trip of a checkpoint gives: 'step' a number, state keys strings."""

    def program(lib, state_dict):
        params = make_params(lib, "float64")
        opt = lib.optim.Adam(params, lr=0.03)
        opt.load_state_dict(state_dict)
        run(lib, None, "float64", steps=5, params=params, opt=opt)
        return [p.detach().numpy() for p in params], opt.state[params[0]]["step"]

    _, _, t_opt = run(torch, lambda lib, ps: lib.optim.Adam(ps, lr=0.03), "float64", steps=3)
    sd = t_opt.state_dict()
    jsonish = {
        "state": {
            str(i): {k: v.item() if k == "step" else to_lib(v, chainrule) for k, v in s.items()}
            for i, s in sd["state"].items()
        },
        "param_groups": to_lib(sd["param_groups"], chainrule),
    }
    numbered = {
        "state": {
            i: {k: (v.item() if k == "step" else v) for k, v in s.items()} for i, s in sd["state"].items()
        },
        "param_groups": sd["param_groups"],
    }
    ours, step = program(chainrule, jsonish)
    theirs, t_step = program(torch, copy.deepcopy(numbered))
    assert isinstance(step, chainrule.Tensor) and step.item() == t_step.item() == 8.0
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_adagrad_creates_state_at_construction():
    def program(lib):
        params = make_params(lib, "float64")
        opt = lib.optim.Adagrad(params[:2], initial_accumulator_value=0.25)
        opt.add_param_group({"params": [params[2]]})
        return {i: {k: v.tolist() for k, v in s.items()} for i, s in opt.state_dict()["state"].items()}

    assert program(chainrule) == program(torch)


@pytest.mark.parametrize("what", ["groups", "sizes"])
def test_load_state_dict_that_does_not_fit(what):
    for lib in (chainrule, torch):
        params = make_params(lib, "float64")
        saved = lib.optim.SGD(two_groups(params, 0.1), lr=0.1).state_dict()
        target = lib.optim.SGD(
            [params[0]] if what == "groups" else [{"params": params[:1]}, {"params": params[1:]}], lr=0.1
        )
        message = "different number of parameter groups" if what == "groups" else "doesn't match the size"
        with pytest.raises(ValueError, match=message):
            target.load_state_dict(saved)


# ---- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_negative_lr(cls):
    raises_like_torch(
        lambda lib: getattr(lib.optim, cls)(make_params(lib, "float32"), lr=-0.1),
        "Invalid learning rate: -0.1",
    )


def test_non_leaf_parameter():
    def program(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        return lib.optim.SGD([w * 2], lr=0.1)

    raises_like_torch(program, "can't optimize a non-leaf Tensor")


def required_marker(lib):
    return importlib.import_module(lib.__name__ + ".optim.optimizer").required


def overlapping_groups(lib):
    params = make_params(lib, "float32")
    return lib.optim.SGD([{"params": params[:2]}, {"params": params[1:]}], lr=0.1)


@pytest.mark.parametrize(
    "program,match",
    [
        (lambda lib: lib.optim.SGD(make_params(lib, "float32")[0], lr=0.1), "iterable of Tensors or dicts"),
        (lambda lib: lib.optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda lib: lib.optim.SGD([np.zeros(2)], lr=0.1), "can only optimize Tensors"),
        (lambda lib: lib.optim.SGD([{"params": set(make_params(lib, "float32"))}]), "ordered collections"),
        (lambda lib: lib.optim.SGD(make_params(lib, "float32"), lr=0.1, nesterov=True), "Nesterov momentum"),
        (lambda lib: lib.optim.SGD(make_params(lib, "float32"), momentum=-1), "Invalid momentum value"),
        (
            lambda lib: lib.optim.Adam(make_params(lib, "float32"), betas=(1.0, 0.9)),
            "beta parameter at index 0",
        ),
        (
            lambda lib: lib.optim.Adam(make_params(lib, "float32"), betas=(0.9, 1)),
            "beta parameter at index 1",
        ),
        (lambda lib: lib.optim.Adam(make_params(lib, "float32"), eps=-1e-8), "Invalid epsilon value"),
        (lambda lib: lib.optim.Adam(make_params(lib, "float32"), weight_decay=-1), "Invalid weight_decay"),
        (lambda lib: lib.optim.RMSprop(make_params(lib, "float32"), alpha=-0.5), "Invalid alpha value"),
        (lambda lib: lib.optim.Adagrad(make_params(lib, "float32"), lr_decay=-1), "Invalid lr_decay value"),
        (lambda lib: overlapping_groups(lib), "more than one parameter group"),
        (
            lambda lib: lib.optim.Optimizer(make_params(lib, "float32"), {"lr": required_marker(lib)}),
            "required optimization parameter lr",
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_errors_match_torch(program, match):
    raises_like_torch(program, match)


def test_duplicate_parameters_warn():
    for lib in (chainrule, torch):
        w = lib.tensor([1.0], requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([w, w], lr=0.1)
