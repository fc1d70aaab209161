"""Learning-rate schedulers against torch.optim.lr_scheduler: for each scheduler and option, the
sequence of learning rates (and OneCycleLR's momenta / betas) must be the very same floats; also
chained with real optimizer steps, resumed from state dicts (across the two libraries too), and
torch's warnings and errors.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from oracle import grid, raises_like_torch

import chainrule

LRS = (0.1, 0.05)  # two param groups with different learning rates


def make_optimizer(lib, cls="SGD", **kwargs):
    params = [
        lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True),
        lib.tensor([0.5], dtype=lib.float64, requires_grad=True),
    ]
    kwargs = kwargs or ({"momentum": 0.9} if cls == "SGD" else {})
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, LRS)]
    return getattr(lib.optim, cls)(groups, **kwargs), params


def snapshot(sched, opt):
    groups = opt.param_groups
    return (
        list(sched.get_last_lr()),
        [g["lr"] for g in groups],
        [g.get("momentum") for g in groups],
        [tuple(g["betas"]) if "betas" in g else None for g in groups],
    )


def lr_sequence(lib, make_sched, epochs=25, cls="SGD", metrics=None, **opt_kwargs):
    """The scheduler's state after construction and after each of ``epochs`` steps."""
    opt, _ = make_optimizer(lib, cls, **opt_kwargs)
    sched = make_sched(lib.optim.lr_scheduler, opt)
    out = [snapshot(sched, opt)]
    for epoch in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        out.append(snapshot(sched, opt))
    return out, sched, opt


def same_sequence(make_sched, **kwargs):
    ours, sched, opt = lr_sequence(chainrule, make_sched, **kwargs)
    theirs, t_sched, t_opt = lr_sequence(torch, make_sched, **kwargs)
    for epoch, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"epoch {epoch}: chainrule {a} != torch {b}"
    assert sched.state_dict() == t_sched.state_dict()
    strip = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    assert strip == [{k: v for k, v in g.items() if k != "params"} for g in t_opt.param_groups]
    return ours


# ---- each scheduler, each option -----------------------------------------------------------------
@pytest.mark.parametrize("kw", grid(step_size=[1, 3], gamma=[0.1, 0.5]), ids=str)
def test_step_lr(kw):
    same_sequence(lambda S, opt: S.StepLR(opt, **kw))


@pytest.mark.parametrize("kw", grid(milestones=[[2, 5, 9], [3, 3, 7], []], gamma=[0.1, 0.5]), ids=str)
def test_multi_step_lr(kw):
    same_sequence(lambda S, opt: S.MultiStepLR(opt, **kw))


@pytest.mark.parametrize("gamma", [0.9, 0.5])
def test_exponential_lr(gamma):
    same_sequence(lambda S, opt: S.ExponentialLR(opt, gamma=gamma))


@pytest.mark.parametrize("kw", grid(T_max=[5, 10], eta_min=[0.0, 0.01]), ids=str)
def test_cosine_annealing_lr(kw):
    seq = same_sequence(lambda S, opt: S.CosineAnnealingLR(opt, **kw), epochs=3 * kw["T_max"])
    t = 2  # and the closed form, for the first period
    expected = kw["eta_min"] + (LRS[0] - kw["eta_min"]) * (1 + math.cos(math.pi * t / kw["T_max"])) / 2
    assert seq[t][0][0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("per_group", [False, True])
def test_lambda_lr(per_group):
    def make(S, opt):
        if per_group:
            return S.LambdaLR(opt, [lambda e: 0.95**e, lambda e: 1.0 / (1 + e)])
        return S.LambdaLR(opt, lambda e: 0.5 ** (e // 4))

    same_sequence(make)


@pytest.mark.parametrize(
    "kw", grid(start_factor=[1.0 / 3, 0.5], end_factor=[1.0, 0.1], total_iters=[4, 8]), ids=str
)
def test_linear_lr(kw):
    same_sequence(lambda S, opt: S.LinearLR(opt, **kw), epochs=12)


@pytest.mark.parametrize("variant", ["warmup-cosine", "three", "milestone-at-1"])
def test_sequential_lr(variant):
    def make(S, opt):
        if variant == "warmup-cosine":
            return S.SequentialLR(
                opt,
                [
                    S.LinearLR(opt, start_factor=0.1, total_iters=5),
                    S.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
                ],
                milestones=[5],
            )
        if variant == "three":
            return S.SequentialLR(
                opt,
                [S.ExponentialLR(opt, gamma=0.9), S.StepLR(opt, 3, gamma=0.5), S.MultiStepLR(opt, [2, 4])],
                milestones=[4, 11],
            )
        return S.SequentialLR(
            opt, [S.LinearLR(opt, 0.5, total_iters=2), S.ExponentialLR(opt, 0.8)], milestones=[1]
        )

    same_sequence(make)


ONE_CYCLE = grid(
    anneal_strategy=["cos", "linear"],
    three_phase=[False, True],
    cycle_momentum=[True, False],
    shape=[
        dict(),
        dict(pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        dict(max_lr=[0.5, 0.2], base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95]),
        dict(epochs=4, steps_per_epoch=5),
    ],
)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("kw", ONE_CYCLE, ids=str)
def test_one_cycle_lr(kw, optimizer):
    options = {k: v for k, v in kw.items() if k != "shape"} | kw["shape"]
    options.setdefault("max_lr", 0.3)
    if "epochs" not in options:
        options["total_steps"] = 20
    seq = same_sequence(lambda S, opt: S.OneCycleLR(opt, **options), epochs=19, cls=optimizer)
    peak = max(s[1][0] for s in seq)
    max_lr = options["max_lr"][0] if isinstance(options["max_lr"], list) else options["max_lr"]
    assert seq[0][1][0] == pytest.approx(max_lr / options.get("div_factor", 25.0))
    assert 0.5 * max_lr < peak <= max_lr * (1 + 1e-12)
    if kw["cycle_momentum"]:  # momentum (SGD) or beta1 (Adam) moves against the lr
        momenta = [s[2][0] if optimizer == "SGD" else s[3][0][0] for s in seq]
        assert momenta[int(np.argmax([s[1][0] for s in seq]))] == pytest.approx(min(momenta))


def test_one_cycle_lr_steps_past_the_end():
    for lib in (chainrule, torch):
        opt, _ = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps"):
            sched.step()


PLATEAU = grid(
    mode=["min", "max"],
    threshold_mode=["rel", "abs"],
    patience=[0, 2],
    cooldown=[0, 2],
    min_lr=[0.0, [0.02, 0.001]],
    factor=[0.5],
)
PLATEAU += [dict(factor=0.9, eps=0.02), dict(factor=0.1, threshold=0.05), dict()]
METRICS = [
    1.0,
    0.9,
    0.9,
    0.95,
    0.8999,
    0.91,
    0.8,
    0.8,
    0.8,
    0.8,
    0.85,
    0.7,
    0.7001,
    0.69995,
    0.71,
    0.72,
    0.6,
    0.6,
    0.59,
    0.61,
    0.62,
    0.63,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
    0.5,
]


@pytest.mark.parametrize("kw", PLATEAU, ids=str)
def test_reduce_lr_on_plateau(kw):
    metrics = [-m for m in METRICS] if kw.get("mode") == "max" else METRICS
    seq = same_sequence(lambda S, opt: S.ReduceLROnPlateau(opt, **kw), epochs=len(metrics), metrics=metrics)
    if kw.get("patience") == 0 and kw.get("factor") == 0.5 and kw.get("cooldown") == 0:
        assert seq[-1][1][0] < LRS[0]  # it did reduce


def test_reduce_lr_on_plateau_takes_tensor_metrics():
    ours = lr_sequence(
        chainrule,
        lambda S, opt: S.ReduceLROnPlateau(opt, patience=0),
        epochs=6,
        metrics=[chainrule.tensor(m) for m in METRICS],
    )[0]
    theirs = lr_sequence(
        torch,
        lambda S, opt: S.ReduceLROnPlateau(opt, patience=0),
        epochs=6,
        metrics=[torch.tensor(m) for m in METRICS],
    )[0]
    assert ours == theirs


# ---- with real optimizer steps -------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls,make",
    [
        ("SGD", lambda S, opt: S.StepLR(opt, step_size=4, gamma=0.5)),
        ("Adam", lambda S, opt: S.OneCycleLR(opt, max_lr=0.2, total_steps=30, three_phase=True)),
        ("SGD", lambda S, opt: S.OneCycleLR(opt, max_lr=0.2, total_steps=30, anneal_strategy="linear")),
        ("RMSprop", lambda S, opt: S.CosineAnnealingLR(opt, T_max=7)),
    ],
)
def test_chained_with_optimizer_steps(cls, make):
    def program(lib):
        opt, params = make_optimizer(lib, cls, **({"momentum": 0.9} if cls == "SGD" else {}))
        sched = make(lib.optim.lr_scheduler, opt)
        lrs = []
        for _ in range(30):
            opt.zero_grad()
            w, c = params
            ((w**2).sum() * lib.exp(c).sum() + (w[0] - 3) ** 2).backward()
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return lrs, [p.detach().numpy().copy() for p in params]

    (lrs, params), (t_lrs, t_params) = program(chainrule), program(torch)
    assert lrs == t_lrs
    for a, b in zip(params, t_params):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---- state_dict ------------------------------------------------------------------------------------
RESUMABLE = {
    "StepLR": lambda S, opt: S.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda S, opt: S.MultiStepLR(opt, [4, 9, 9], gamma=0.5),
    "ExponentialLR": lambda S, opt: S.ExponentialLR(opt, gamma=0.8),
    "CosineAnnealingLR": lambda S, opt: S.CosineAnnealingLR(opt, T_max=6, eta_min=0.01),
    "LambdaLR": lambda S, opt: S.LambdaLR(opt, lambda e: 0.9**e),
    "LinearLR": lambda S, opt: S.LinearLR(opt, start_factor=0.2, total_iters=10),
    "SequentialLR": lambda S, opt: S.SequentialLR(
        opt, [S.LinearLR(opt, start_factor=0.2, total_iters=4), S.CosineAnnealingLR(opt, T_max=9)], [4]
    ),
    "OneCycleLR-Adam": lambda S, opt: S.OneCycleLR(opt, max_lr=0.5, total_steps=20),
    "ReduceLROnPlateau": lambda S, opt: S.ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5),
}


def resume(lib, make, state, optimizer_cls, steps, metrics):
    """A new optimizer and scheduler, loaded with ``state`` (scheduler first, as torch advises)."""
    opt, _ = make_optimizer(lib, optimizer_cls)
    sched = make(lib.optim.lr_scheduler, opt)
    sched.load_state_dict(state["scheduler"])
    opt.load_state_dict(state["optimizer"])
    out = []
    for m in metrics[:steps]:
        opt.step()
        sched.step(m) if m is not None else sched.step()
        out.append(snapshot(sched, opt))
    return out


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_state_dict_resume_within_and_across_libraries(name):
    make = RESUMABLE[name]
    cls = "Adam" if name.endswith("Adam") else "SGD"
    metrics = METRICS[:19] if name == "ReduceLROnPlateau" else None
    every = metrics or [None] * 19
    whole, _, _ = lr_sequence(chainrule, make, epochs=19, cls=cls, metrics=metrics)
    states = {}
    for lib in (chainrule, torch):
        _, sched, opt = lr_sequence(lib, make, epochs=7, cls=cls, metrics=metrics)
        states[lib] = {
            "scheduler": copy.deepcopy(sched.state_dict()),
            "optimizer": copy.deepcopy(opt.state_dict()),
        }
    assert states[chainrule]["scheduler"] == states[torch]["scheduler"]
    for source in (chainrule, torch):
        for target in (chainrule, torch):
            got = resume(target, make, copy.deepcopy(states[source]), cls, 12, every[7:])
            assert got == whole[8:], f"{source.__name__} state loaded into {target.__name__}"


# ---- the deprecated epoch argument, warnings, errors -----------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda S, opt: S.StepLR(opt, step_size=3, gamma=0.5),
        lambda S, opt: S.MultiStepLR(opt, [2, 5, 5]),
        lambda S, opt: S.ExponentialLR(opt, gamma=0.7),
        lambda S, opt: S.CosineAnnealingLR(opt, T_max=8, eta_min=0.01),
        lambda S, opt: S.LinearLR(opt, start_factor=0.25, total_iters=6),
        lambda S, opt: S.LambdaLR(opt, lambda e: 1 / (e + 1)),
    ],
)
def test_step_with_epoch_uses_the_closed_form(make):
    def program(lib):
        opt, _ = make_optimizer(lib)
        sched = make(lib.optim.lr_scheduler, opt)
        out = []
        for epoch in [3, 7, 4, 10]:
            opt.step()
            with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not"):
                sched.step(epoch)
            out.append(sched.get_last_lr())
        return out

    assert program(chainrule) == program(torch)


def test_scheduler_step_before_optimizer_step_warns():
    for lib in (chainrule, torch):
        opt, _ = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before"):
            sched.step()
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sched.step()


def test_get_lr_outside_step_warns():
    for lib in (chainrule, torch):
        opt, _ = make_optimizer(lib)
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            lib.optim.lr_scheduler.ExponentialLR(opt, 0.5).get_lr()


def test_scheduler_over_a_loaded_optimizer_resumes_with_last_epoch():
    def program(lib):
        opt, _ = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
        for _ in range(5):
            opt.step()
            sched.step()
        again = lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5, last_epoch=sched.last_epoch)
        return again.base_lrs, again.last_epoch, again.get_last_lr()

    assert program(chainrule) == program(torch)


def scheduler_error(make):
    return lambda lib: make(lib.optim.lr_scheduler, make_optimizer(lib)[0])


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda S, opt: S.StepLR(opt, 2, last_epoch=3),
            "param 'initial_lr' is not specified in param_groups",
        ),
        (lambda S, opt: S.StepLR([1], 2), "is not an Optimizer"),
        (lambda S, opt: S.LinearLR(opt, start_factor=0), "Starting multiplicative factor expected"),
        (lambda S, opt: S.LinearLR(opt, end_factor=1.5), "Ending multiplicative factor expected"),
        (lambda S, opt: S.LambdaLR(opt, [lambda e: 1.0]), "Expected 2 lr_lambdas, but got 1"),
        (
            lambda S, opt: S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 3)], milestones=[]),
            "number of milestone points",
        ),
        (
            lambda S, opt: S.SequentialLR(opt, [S.ReduceLROnPlateau(opt)], milestones=[]),
            "does not support `ReduceLROnPlateau`",
        ),
        (lambda S, opt: S.ReduceLROnPlateau(opt, factor=1.0), "Factor should be < 1.0"),
        (lambda S, opt: S.ReduceLROnPlateau(opt, mode="up"), "mode up is unknown"),
        (lambda S, opt: S.ReduceLROnPlateau(opt, threshold_mode="x"), "threshold mode x is unknown"),
        (lambda S, opt: S.ReduceLROnPlateau(opt, min_lr=[0.1]), "expected 2 min_lrs, got 1"),
        (lambda S, opt: S.OneCycleLR(opt, max_lr=0.1), "You must define either total_steps OR"),
        (
            lambda S, opt: S.OneCycleLR(opt, max_lr=0.1, total_steps=0),
            "Expected positive integer total_steps",
        ),
        (
            lambda S, opt: S.OneCycleLR(opt, max_lr=0.1, total_steps=9, pct_start=1.5),
            "Expected float between",
        ),
        (
            lambda S, opt: S.OneCycleLR(opt, max_lr=0.1, total_steps=9, anneal_strategy="exp"),
            "anneal_strategy must be one of",
        ),
        (lambda S, opt: S.OneCycleLR(opt, max_lr=[0.1], total_steps=9), "max_lr must have the same length"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_errors_match_torch(make, match):
    raises_like_torch(scheduler_error(make), match)


def test_one_cycle_needs_momentum_to_cycle():
    def program(lib):
        opt = lib.optim.Adagrad([lib.tensor([1.0], requires_grad=True)])
        return lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5)

    raises_like_torch(program, "optimizer must support momentum or beta1")


def test_multistep_state_from_json_keeps_working():
    """A JSON round trip turns the milestones Counter into a dict with string keys."""

    def program(lib, jsonish):
        opt, _ = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, [2, 4, 4], gamma=0.5)
        state = sched.state_dict()
        if jsonish:
            state["milestones"] = {str(k): v for k, v in state["milestones"].items()}
        sched.load_state_dict(state)
        out = []
        for _ in range(6):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        with pytest.warns(UserWarning):
            sched.step(5)
        return out + [sched.get_last_lr()]

    assert program(chainrule, jsonish=True) == program(torch, jsonish=False)


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_tensor_lr_is_updated_in_place(cls):
    def program(lib):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        lr = lib.tensor(0.1, dtype=lib.float64)
        opt = getattr(lib.optim, cls)([w], lr=lr)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        for _ in range(4):
            w.grad = lib.tensor([1.0, -1.0], dtype=lib.float64)
            opt.step()
            sched.step()
        return w.tolist(), lr.item(), opt.param_groups[0]["lr"] is lr, [x.item() for x in sched.get_last_lr()]

    assert program(chainrule) == program(torch)
