"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, Adafactor, LBFGS and SparseAdam against torch.optim:
parameter trajectories over 30 steps for each option, state dicts (layout, values, and loading
across the two libraries), float32 runs, and torch's argument errors.

Both libraries start from the same NumPy values and take gradients of the same loss (a tanh-free
exponential bowl coupling three tensors of different shapes, in two param groups).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from oracle import grid, raises_like_torch

import chainrule

RNG = np.random.default_rng(99)
X = RNG.uniform(0.2, 1.0, (5, 3))
INIT = (RNG.standard_normal((3, 4)) * 0.5, RNG.standard_normal(4) * 0.1, np.array([-0.5, 0.8]))
TOL64 = dict(rtol=1e-9, atol=1e-12)


def objective(lib, W, b, c):
    x = lib.tensor(X, dtype=W.dtype)
    return 4 * lib.exp(0.5 * (x @ W + b)).mean() + lib.exp(c[0]) + lib.exp(c[1] - c[0] ** 2) + (W**2).sum()


def make_params(lib, dtype="float64"):
    return [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in INIT]


def make_groups(params, lr2):
    if lr2 is None:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr2}]


def run(lib, cls, kwargs, dtype="float64", steps=30, lr2=0.02, sign=1.0, params=None, opt=None):
    params = make_params(lib, dtype) if params is None else params
    opt = getattr(lib.optim, cls)(make_groups(params, lr2), **kwargs) if opt is None else opt
    history = []
    for _ in range(steps):
        opt.zero_grad()
        (sign * objective(lib, *params)).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, params, opt


def assert_same(ours, theirs, what, **tol):
    tol = tol or TOL64
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for i, (x, y) in enumerate(zip(a, b)):
            assert x.dtype == y.dtype, f"{what}: dtype {x.dtype} != {y.dtype}"
            np.testing.assert_allclose(x, y, err_msg=f"{what}: step {step + 1}, param {i}", **tol)


def state_as_numpy(state_dict):
    out = {}
    for i, s in state_dict["state"].items():
        out[i] = {k: (np.asarray(v.numpy()) if hasattr(v, "numpy") else v) for k, v in s.items()}
    return out


def assert_same_state(ours, theirs, what):
    assert ours["param_groups"] == theirs["param_groups"], what
    a, b = state_as_numpy(ours), state_as_numpy(theirs)
    assert a.keys() == b.keys()
    for i in b:
        assert a[i].keys() == b[i].keys(), f"{what}: state keys of {i}"
        for name in b[i]:
            x, y = a[i][name], b[i][name]
            assert str(x.dtype) == str(y.dtype), f"{what}: {i}.{name} dtype {x.dtype} != {y.dtype}"
            np.testing.assert_allclose(x, y, err_msg=f"{what}: state {i}.{name}", **TOL64)


CASES = (
    [("Adadelta", k) for k in grid(lr=[1.0, 0.5], rho=[0.9, 0.5], eps=[1e-6, 1e-2], weight_decay=[0.0, 0.1])]
    + [("Adadelta", dict(maximize=True, weight_decay=0.1))]
    + [("Adamax", k) for k in grid(lr=[0.02], betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-2])]
    + [("Adamax", dict(lr=0.02, weight_decay=0.1, maximize=True))]
    + [
        ("NAdam", k)
        for k in grid(
            lr=[0.02],
            betas=[(0.9, 0.999), (0.5, 0.8)],
            weight_decay=[0.0, 0.1],
            momentum_decay=[4e-3, 0.1],
            decoupled_weight_decay=[False, True],
        )
    ]
    + [("NAdam", dict(lr=0.02, maximize=True))]
    + [
        ("RAdam", k)
        for k in grid(
            lr=[0.02],
            betas=[(0.9, 0.999), (0.5, 0.8)],
            weight_decay=[0.0, 0.1],
            decoupled_weight_decay=[False, True],
        )
    ]
    + [("RAdam", dict(lr=0.02, maximize=True, eps=1e-3))]
    + [
        ("ASGD", k)
        for k in grid(lr=[0.02], lambd=[1e-4, 0.1], alpha=[0.75, 0.5], t0=[1e6, 5], weight_decay=[0, 0.1])
    ]
    + [("ASGD", dict(lr=0.02, t0=3, maximize=True))]
    + [
        ("Rprop", k)
        for k in grid(lr=[0.01, 0.05], etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50), (1e-3, 0.02)])
    ]
    + [("Rprop", dict(lr=0.01, maximize=True))]
    + [
        ("Adafactor", k)
        for k in grid(lr=[0.01, 0.1], beta2_decay=[-0.8, -0.5], eps=[(None, 1e-3), (1e-3, 0.1)], d=[1.0, 2.0])
    ]
    + [("Adafactor", dict(lr=0.05, weight_decay=0.1)), ("Adafactor", dict(lr=0.05, maximize=True))]
    + [("AdamW", dict(lr=0.02, amsgrad=True, weight_decay=0.1)), ("Adam", dict(lr=0.02, amsgrad=True))]
    + [("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)), ("RMSprop", dict(lr=0.01, centered=True))]
)
IDS = [f"{c}-{k}" for c, k in CASES]


@pytest.mark.parametrize("cls,kwargs", CASES, ids=IDS)
def test_trajectory_and_state_dict(cls, kwargs):
    sign = -1.0 if kwargs.get("maximize") else 1.0
    ours, _, opt = run(chainrule, cls, kwargs, sign=sign)
    theirs, _, t_opt = run(torch, cls, kwargs, sign=sign)
    assert_same(ours, theirs, f"{cls}({kwargs})")
    assert not np.allclose(ours[-1][0], INIT[0]), "the parameters did not move"
    assert_same_state(opt.state_dict(), t_opt.state_dict(), f"{cls}({kwargs})")


@pytest.mark.parametrize("cls", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor"])
def test_defaults(cls):
    ours, _, opt = run(chainrule, cls, {}, lr2=None)
    theirs, _, t_opt = run(torch, cls, {}, lr2=None)
    assert_same(ours, theirs, cls)
    assert_same_state(opt.state_dict(), t_opt.state_dict(), cls)
    assert opt.defaults == t_opt.defaults


@pytest.mark.parametrize("cls", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor"])
def test_float32_stays_float32_and_tracks_torch(cls):
    ours, params, opt = run(chainrule, cls, {}, dtype="float32", steps=10)
    theirs, _, t_opt = run(torch, cls, {}, dtype="float32", steps=10)
    assert_same(ours, theirs, cls, rtol=2e-5, atol=2e-6)
    for state in opt.state.values():
        for name, value in state.items():
            if isinstance(value, chainrule.Tensor) and value.ndim > 0:
                assert value.dtype == chainrule.float32, name


STATE_CASES = [
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adamax", dict(lr=0.02)),
    ("NAdam", dict(lr=0.02, decoupled_weight_decay=True, weight_decay=0.1)),
    ("RAdam", dict(lr=0.02)),
    ("ASGD", dict(lr=0.02, t0=5)),
    ("Rprop", dict(lr=0.02)),
    ("Adafactor", dict(lr=0.05)),
]


def to_lib(obj, lib):
    if isinstance(obj, chainrule.Tensor | torch.Tensor):
        return lib.tensor(np.array(obj.detach().numpy()))
    if isinstance(obj, dict):
        return {k: to_lib(v, lib) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_lib(v, lib) for v in obj)
    return obj


@pytest.mark.parametrize("cls,kwargs", STATE_CASES, ids=[c for c, _ in STATE_CASES])
def test_state_dict_resumes_across_libraries(cls, kwargs):
    whole, _, _ = run(torch, cls, kwargs, steps=30)
    first, _, t_opt = run(torch, cls, kwargs, steps=12)
    c_first, _, opt = run(chainrule, cls, kwargs, steps=12)

    def resume(lib, state_dict, start):
        params = [lib.tensor(a, requires_grad=True) for a in start]
        opt = getattr(lib.optim, cls)(make_groups(params, 0.02), **kwargs)
        opt.load_state_dict(state_dict)
        return run(lib, cls, kwargs, steps=18, params=params, opt=opt)[0]

    # torch itself resumed: loading casts the state to the parameters' dtype (ASGD's eta and mu, and
    # NAdam's mu_product, kept in the default dtype until then), so this is the reference
    reference = resume(torch, copy.deepcopy(t_opt.state_dict()), first[-1])
    assert_same(reference, whole[12:], "torch resumed", rtol=1e-6, atol=1e-9)
    assert_same(resume(chainrule, to_lib(t_opt.state_dict(), chainrule), first[-1]), reference, "torch->ours")
    assert_same(resume(chainrule, copy.deepcopy(t_opt.state_dict()), first[-1]), reference, "torch tensors")
    assert_same(resume(torch, to_lib(opt.state_dict(), torch), c_first[-1]), reference, "ours->torch")


def test_frozen_params_keep_no_state_and_add_param_group():
    def program(lib):
        params = make_params(lib)
        opt = lib.optim.NAdam(params[:2], lr=0.05)
        opt.add_param_group({"params": params[2], "lr": 0.1, "momentum_decay": 0.01})
        frozen = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
        opt.add_param_group({"params": [frozen]})
        history, _, _ = run(lib, None, None, params=params, opt=opt, steps=10)
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        return history, groups, len(opt.state)

    (a, ga, na), (b, gb, nb) = program(chainrule), program(torch)
    assert_same(a, b, "add_param_group")
    assert ga == gb and na == nb == 3


def test_adafactor_on_3d_and_0d_parameters():
    rng = np.random.default_rng(3)
    start = [rng.standard_normal((2, 3, 4)), np.array(0.7), rng.standard_normal(5)]

    def program(lib):
        params = [lib.tensor(a, requires_grad=True) for a in start]
        opt = lib.optim.Adafactor(params, lr=0.05)
        history = []
        for _ in range(15):
            opt.zero_grad()
            (lib.sin(params[0]).sum() * params[1] ** 2 + (params[2] ** 3).sum()).backward()
            opt.step()
            history.append([p.detach().numpy().copy() for p in params])
        return history, opt.state_dict()

    (a, sa), (b, sb) = program(chainrule), program(torch)
    assert_same(a, b, "Adafactor nd")
    assert_same_state(sa, sb, "Adafactor nd")


# ---- LBFGS ------------------------------------------------------------------------------------
def rosenbrock(lib, xy):
    return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(line_search_fn="strong_wolfe"),
        dict(line_search_fn="strong_wolfe", history_size=3, max_iter=7),
        dict(lr=0.01),
        dict(lr=0.005, max_iter=5, history_size=2),
        dict(line_search_fn="strong_wolfe", tolerance_grad=1e-3, tolerance_change=1e-5),
    ],
    ids=str,
)
def test_lbfgs_on_rosenbrock(kwargs):
    def program(lib):
        xy = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([xy], **kwargs)
        evaluations = []

        def closure():
            opt.zero_grad()
            loss = rosenbrock(lib, xy)
            loss.backward()
            evaluations.append(xy.detach().numpy().copy())
            return loss

        losses = []
        for _ in range(8):
            losses.append(opt.step(closure).item())
        state = opt.state[xy]
        return xy.detach().numpy().copy(), losses, evaluations, state["func_evals"], state["n_iter"]

    (x, losses, evals, nf, ni), (tx, t_losses, t_evals, t_nf, t_ni) = program(chainrule), program(torch)
    assert (nf, ni) == (t_nf, t_ni)
    assert len(evals) == len(t_evals)
    # every point the closure was evaluated at. torch's add(alpha=) fuses multiply-adds where NumPy
    # rounds twice: 1-ulp differences, which the Rosenbrock valley amplifies (measured: to 6e-7
    # after 50 evaluations with a history of 3), while the path and the evaluation count agree
    np.testing.assert_allclose(np.array(evals), np.array(t_evals), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(losses, t_losses, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(x, tx, rtol=1e-6, atol=1e-8)
    if kwargs.get("line_search_fn") and "tolerance_grad" not in kwargs:
        np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-4)


def test_lbfgs_on_a_model_with_several_params_and_state_dict():
    def program(lib):
        params = make_params(lib)
        opt = lib.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=5)

        def closure():
            opt.zero_grad()
            loss = objective(lib, *params)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return [p.detach().numpy().copy() for p in params], opt.state_dict()

    (a, sa), (b, sb) = program(chainrule), program(torch)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-10)
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"][0].keys() == sb["state"][0].keys()
    np.testing.assert_allclose(sa["state"][0]["d"].numpy(), sb["state"][0]["d"].numpy(), rtol=1e-6, atol=1e-9)
    assert len(sa["state"][0]["old_dirs"]) == len(sb["state"][0]["old_dirs"])


def test_lbfgs_resumes_from_torch_state():
    def program(lib, start, state=None):
        xy = lib.tensor(start, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([xy], line_search_fn="strong_wolfe", max_iter=4)
        if state is not None:
            opt.load_state_dict(state)

        def closure():
            opt.zero_grad()
            loss = rosenbrock(lib, xy)
            loss.backward()
            return loss

        opt.step(closure)
        return xy.detach().numpy().copy(), copy.deepcopy(opt.state_dict())

    mid, saved = program(torch, [-1.5, 2.0])  # torch's first step; its state continues the history
    theirs, _ = program(torch, mid, copy.deepcopy(saved))
    ours, _ = program(chainrule, mid, to_lib(saved, chainrule))
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    assert not np.allclose(ours, mid)


def test_lbfgs_errors_match_torch():
    def two_groups(lib):
        a, b = make_params(lib)[:2]
        return lib.optim.LBFGS([{"params": [a]}, {"params": [b]}])

    raises_like_torch(two_groups, "doesn't support per-parameter options")

    def bad_line_search(lib):
        xy = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([xy], line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = rosenbrock(lib, xy)
            loss.backward()
            return loss

        opt.step(closure)

    raises_like_torch(bad_line_search, "only 'strong_wolfe' is supported")


# ---- SparseAdam ---------------------------------------------------------------------------------
def test_sparse_adam_refuses_dense_gradients_like_torch():
    def program(lib):
        params = make_params(lib)
        opt = lib.optim.SparseAdam(params, lr=0.01)
        objective(lib, *params).backward()
        opt.step()

    raises_like_torch(program, "SparseAdam does not support dense gradients")
    ours = chainrule.optim.SparseAdam(make_params(chainrule), lr=0.01, betas=(0.8, 0.9))
    theirs = torch.optim.SparseAdam(make_params(torch), lr=0.01, betas=(0.8, 0.9))
    assert ours.defaults == theirs.defaults
    assert ours.step() is None and theirs.step() is None  # no gradients: nothing to refuse


# ---- errors -------------------------------------------------------------------------------------
def P(lib):
    return make_params(lib, "float32")


@pytest.mark.parametrize(
    "program,match",
    [
        (lambda lib: lib.optim.Adadelta(P(lib), lr=-1), "Invalid learning rate"),
        (lambda lib: lib.optim.Adadelta(P(lib), rho=1.5), "Invalid rho value"),
        (lambda lib: lib.optim.Adadelta(P(lib), eps=-1), "Invalid epsilon value"),
        (lambda lib: lib.optim.Adadelta(P(lib), weight_decay=-1), "Invalid weight_decay value"),
        (lambda lib: lib.optim.Adamax(P(lib), betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
        (lambda lib: lib.optim.Adamax(P(lib), betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (lambda lib: lib.optim.NAdam(P(lib), momentum_decay=-1), "Invalid momentum_decay value"),
        (lambda lib: lib.optim.NAdam(P(lib), lr=-0.1), "Invalid learning rate"),
        (lambda lib: lib.optim.RAdam(P(lib), betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
        (lambda lib: lib.optim.RAdam(P(lib), weight_decay=-1), "Invalid weight_decay value"),
        (lambda lib: lib.optim.ASGD(P(lib), lr=-1), "Invalid learning rate"),
        (lambda lib: lib.optim.ASGD(P(lib), weight_decay=-1), "Invalid weight_decay value"),
        (lambda lib: lib.optim.Rprop(P(lib), etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
        (lambda lib: lib.optim.Rprop(P(lib), lr=-1), "Invalid learning rate"),
        (lambda lib: lib.optim.Adafactor(P(lib), lr=-1), "Learning rate should be >= 0"),
        (lambda lib: lib.optim.Adafactor(P(lib), beta2_decay=0.5), "beta2_decay should be <= 0"),
        (lambda lib: lib.optim.Adafactor(P(lib), eps=(-1.0, 1e-3)), "epsilon1 should be >= 0"),
        (lambda lib: lib.optim.Adafactor(P(lib), eps=(None, -1.0)), "epsilon2 should be >= 0"),
        (lambda lib: lib.optim.Adafactor(P(lib), d=0.5), "Clipping threshold d should be >= 1"),
        (lambda lib: lib.optim.Adafactor(P(lib), weight_decay=-1), "weight_decay should be >= 0"),
        (lambda lib: lib.optim.SparseAdam(P(lib), lr=0), "Invalid learning rate"),
        (lambda lib: lib.optim.SparseAdam(P(lib), eps=0), "Invalid epsilon value"),
        (lambda lib: lib.optim.LBFGS(P(lib), lr=-1), "Invalid learning rate"),
        (lambda lib: lib.optim.NAdam([], lr=0.1), "empty parameter list"),
        (lambda lib: lib.optim.Adamax(lib.zeros(2, requires_grad=True)), "iterable of Tensors or dicts"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_errors_match_torch(program, match):
    raises_like_torch(program, match)


@pytest.mark.parametrize("cls", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_foreach_accepted_and_differentiable_refused(cls):
    params = make_params(chainrule)
    chainrule.optim.__dict__[cls](params, foreach=True)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        chainrule.optim.__dict__[cls](params, differentiable=True)


@pytest.mark.parametrize(
    "cls", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor", "LBFGS"]
)
def test_repr_matches_torch(cls):
    assert repr(getattr(chainrule.optim, cls)(P(chainrule))) == repr(getattr(torch.optim, cls)(P(torch)))


@pytest.mark.parametrize("cls", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor"])
def test_nan_gradient_spreads_as_in_torch(cls):
    def program(lib):
        w = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, cls)([w], lr=0.1)
        history = []
        for g in ([0.5, float("nan"), -1.0], [0.2, 0.3, -0.4], [0.1, -0.2, 0.3]):
            w.grad = lib.tensor(g, dtype=lib.float64)
            opt.step()
            history.append(w.detach().numpy().copy())
        state = {k: v.numpy().copy() for k, v in opt.state[w].items()}
        return history, state

    (a, sa), (b, sb) = program(chainrule), program(torch)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12, equal_nan=True)
    for name in sb:
        np.testing.assert_allclose(sa[name], sb[name], rtol=1e-12, equal_nan=True, err_msg=name)


def test_lbfgs_float32_stays_float32_and_tracks_torch():
    def program(lib):
        xy = lib.tensor([-1.2, 1.0], requires_grad=True)
        opt = lib.optim.LBFGS([xy], line_search_fn="strong_wolfe", max_iter=10)

        def closure():
            opt.zero_grad()
            loss = rosenbrock(lib, xy)
            loss.backward()
            return loss

        opt.step(closure)
        return xy.detach().numpy().copy()

    ours, theirs = program(chainrule), program(torch)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)


def test_lbfgs_without_closure_raises_like_torch():
    def program(lib):
        lib.optim.LBFGS(P(lib)).step()

    raises_like_torch(program, "closure")


COMPLEX_CASES = ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS"]
COMPLEX_CASES += ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


@pytest.mark.parametrize("cls", COMPLEX_CASES)
def test_complex_parameters_are_pairs_of_reals_as_in_torch(cls):
    start = np.array([[1.0 + 0.5j, -0.3 + 0.2j], [0.7 - 1.0j, 0.1 + 0.0j]])
    target = np.array([[0.2 - 0.1j, 0.4 + 0.3j], [-0.5 + 0.5j, 0.9 - 0.2j]])

    def program(lib):
        w = lib.tensor(start, requires_grad=True)
        t = lib.tensor(target)
        kwargs = (
            {"lr": 0.5} if cls == "LBFGS" else {"lr": 0.05, "weight_decay": 0.01} if cls != "Rprop" else {}
        )
        opt = getattr(lib.optim, cls)([w], **kwargs)

        def closure():
            opt.zero_grad()
            loss = ((w - t).abs() ** 2).sum()
            loss.backward()
            return loss

        history = []
        for _ in range(8):
            opt.step(closure)
            history.append(w.detach().numpy().copy())
        return history

    ours, theirs = program(chainrule), program(torch)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == np.complex128
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_adafactor_refuses_complex_parameters_like_torch():
    def program(lib):
        w = lib.tensor([1.0 + 1.0j], requires_grad=True)
        w.grad = lib.tensor([1.0 + 0.0j])
        lib.optim.Adafactor([w]).step()

    raises_like_torch(program, "Adafactor does not support complex parameters")


ALL_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"] + ["Adadelta", "Adamax", "NAdam", "RAdam"]
ALL_OPTIMIZERS += ["ASGD", "Rprop", "Adafactor"]


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS)
def test_tensor_lr_computes_as_torch(cls):
    """A float32 tensor lr makes torch compute the step sizes in float32: so does chainrule."""

    def program(lib):
        w = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, cls)([w], lr=lib.tensor(0.05))
        history = []
        for _ in range(6):
            w.grad = lib.tensor([0.3, -0.2, 0.1], dtype=lib.float64) * w.detach()
            opt.step()
            history.append(w.detach().numpy().copy())
        return history

    for a, b in zip(program(chainrule), program(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_lbfgs_survives_a_deep_copy():
    xy = chainrule.tensor([-1.5, 2.0], dtype=chainrule.float64, requires_grad=True)
    opt = copy.deepcopy(chainrule.optim.LBFGS([xy]))
    assert opt._params[0] is opt.param_groups[0]["params"][0]


def test_lbfgs_with_no_elements_raises_like_torch():
    def program(lib):
        w = lib.zeros(0, requires_grad=True)
        opt = lib.optim.LBFGS([w])

        def closure():
            opt.zero_grad()
            loss = (w**2).sum()
            loss.backward()
            return loss

        opt.step(closure)

    raises_like_torch(program, "Expected reduction dim to be specified for input.numel")


@pytest.mark.parametrize("cls", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_empty_and_0d_parameters(cls):
    def program(lib):
        params = [lib.zeros(0, 3, dtype=lib.float64, requires_grad=True), lib.tensor(0.7, requires_grad=True)]
        opt = getattr(lib.optim, cls)(params, lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (params[0].sum() + params[1] ** 2).backward()
            opt.step()
        return [p.detach().numpy().copy() for p in params]

    (e, z), (te, tz) = program(chainrule), program(torch)
    assert e.shape == te.shape == (0, 3) and z.dtype == tz.dtype == np.float32
    np.testing.assert_allclose(z, tz, rtol=1e-6)
