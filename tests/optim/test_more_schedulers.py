"""MultiplicativeLR, ConstantLR, PolynomialLR, ChainedScheduler, CyclicLR,
CosineAnnealingWarmRestarts, SWALR and a user subclass of LRScheduler against torch: the lrs (and
momenta / betas) after every step must be the very same floats, the state dicts equal, resuming
from a state dict (also torch's) continue the sequence, and torch's errors."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from oracle import grid, raises_like_torch
from test_lr_scheduler import lr_sequence, make_optimizer, same_sequence, snapshot

import chainrule


def swa_utils(S):
    """The namespace of SWALR, from the scheduler namespace a test receives."""
    return chainrule.optim.swa_utils if S is chainrule.optim.lr_scheduler else torch.optim.swa_utils


@pytest.mark.parametrize("per_group", [False, True])
def test_multiplicative_lr(per_group):
    def make(S, opt):
        if per_group:
            return S.MultiplicativeLR(opt, [lambda e: 0.95, lambda e: 1.0 - 0.01 * e])
        return S.MultiplicativeLR(opt, lambda e: 0.9 if e % 3 else 1.05)

    same_sequence(make)


@pytest.mark.parametrize("kw", grid(factor=[1.0 / 3, 0.5, 1.0], total_iters=[1, 4, 30]), ids=str)
def test_constant_lr(kw):
    same_sequence(lambda S, opt: S.ConstantLR(opt, **kw))


@pytest.mark.parametrize("kw", grid(total_iters=[1, 5, 10], power=[1.0, 2.0, 0.5]), ids=str)
def test_polynomial_lr(kw):
    same_sequence(lambda S, opt: S.PolynomialLR(opt, **kw), epochs=14)


@pytest.mark.parametrize("variant", ["const-exp", "linear-step-multiplicative", "one"])
def test_chained_scheduler(variant):
    def make(S, opt):
        if variant == "const-exp":
            return S.ChainedScheduler(
                [S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, 0.9)]
            )
        if variant == "one":
            return S.ChainedScheduler([S.StepLR(opt, 3)], optimizer=opt)
        return S.ChainedScheduler(
            [
                S.LinearLR(opt, start_factor=0.2, total_iters=4),
                S.StepLR(opt, step_size=5, gamma=0.5),
                S.MultiplicativeLR(opt, lambda e: 0.99),
            ]
        )

    same_sequence(make)


def test_sequential_lr_with_the_new_schedulers():
    def make(S, opt):
        return S.SequentialLR(
            opt,
            [S.ConstantLR(opt, factor=0.5, total_iters=3), S.PolynomialLR(opt, total_iters=8, power=2.0)],
            milestones=[4],
        )

    same_sequence(make)


CYCLIC = grid(
    mode=["triangular", "triangular2", "exp_range"],
    step_size_up=[3, 4],
    step_size_down=[None, 2],
    cycle_momentum=[True, False],
)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("kw", CYCLIC, ids=str)
def test_cyclic_lr(kw, optimizer):
    same_sequence(
        lambda S, opt: S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, gamma=0.9, **kw), epochs=30, cls=optimizer
    )


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_cyclic_lr_custom_scale_fn_and_per_group_bounds(scale_mode):
    def make(S, opt):
        return S.CyclicLR(
            opt,
            base_lr=[0.01, 0.02],
            max_lr=[0.1, 0.05],
            step_size_up=2,
            scale_fn=lambda x: 1.0 / (1.0 + 0.1 * x),
            scale_mode=scale_mode,
            base_momentum=[0.7, 0.75],
            max_momentum=[0.95, 0.9],
        )

    same_sequence(make, epochs=20)


@pytest.mark.parametrize("kw", grid(T_0=[1, 3, 5], T_mult=[1, 2, 3], eta_min=[0.0, 0.01]), ids=str)
def test_cosine_annealing_warm_restarts(kw):
    same_sequence(lambda S, opt: S.CosineAnnealingWarmRestarts(opt, **kw), epochs=40)


@pytest.mark.parametrize("T_mult", [1, 2])
def test_cosine_annealing_warm_restarts_with_fractional_epochs(T_mult):
    """Stepped once per batch with ``epoch + i / iters``, as torch's documentation shows."""

    def program(lib):
        opt, _ = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult, eta_min=0.001)
        out = []
        iters = 4
        for epoch in range(9):
            for i in range(iters):
                opt.step()
                sched.step(epoch + i / iters)
                out.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        sched.step(0.5)  # and back
        out.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        return out, sched.state_dict()

    (ours, state), (theirs, t_state) = program(chainrule), program(torch)
    assert ours == theirs
    assert state == t_state


@pytest.mark.parametrize(
    "kw",
    grid(anneal_epochs=[0, 1, 5], anneal_strategy=["cos", "linear"], swa_lr=[0.01, [0.01, 0.2]]),
    ids=str,
)
def test_swalr(kw):
    same_sequence(lambda S, opt: swa_utils(S).SWALR(opt, **kw), epochs=12)


def test_swalr_after_another_scheduler():
    def program(lib):
        opt, _ = make_optimizer(lib)
        first = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        out = []
        for _ in range(5):
            opt.step()
            first.step()
            out.append(first.get_last_lr())
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=3)
        for _ in range(6):
            opt.step()
            swa.step()
            out.append(swa.get_last_lr())
        return out

    assert program(chainrule) == program(torch)


def test_a_user_scheduler_subclassing_lr_scheduler():
    def program(lib):
        class Halving(lib.optim.lr_scheduler.LRScheduler):
            def __init__(self, optimizer, every, last_epoch=-1):
                self.every = every
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                if self.last_epoch == 0 or self.last_epoch % self.every:
                    return [g["lr"] for g in self.optimizer.param_groups]
                return [g["lr"] / 2 for g in self.optimizer.param_groups]

        opt, _ = make_optimizer(lib)
        sched = Halving(opt, 3)
        out = [sched.get_last_lr()]
        for _ in range(10):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out, sorted(sched.state_dict())

    assert program(chainrule) == program(torch)


# ---- closed forms (the deprecated step(epoch)) ---------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda S, opt: S.ConstantLR(opt, factor=0.25, total_iters=3),
        lambda S, opt: S.PolynomialLR(opt, total_iters=6, power=1.5),
    ],
    ids=["constant", "polynomial"],
)
def test_step_with_an_epoch_uses_the_closed_form(make):
    def program(lib):
        opt, _ = make_optimizer(lib)
        sched = make(lib.optim.lr_scheduler, opt)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (2, 5, 1, 9, 3):
                opt.step()
                sched.step(epoch)
                out.append(sched.get_last_lr())
        return out

    assert program(chainrule) == program(torch)


# ---- state dicts ------------------------------------------------------------------------------------
class Scale:
    """A callable object: its attributes are saved in a state dict (a lambda's are not)."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, x):
        return self.factor**x


RESUMABLE = {
    "multiplicative": lambda S, opt: S.MultiplicativeLR(opt, Scale(0.97)),
    "constant": lambda S, opt: S.ConstantLR(opt, factor=0.5, total_iters=8),
    "polynomial": lambda S, opt: S.PolynomialLR(opt, total_iters=15, power=2.0),
    "cyclic": lambda S, opt: S.CyclicLR(opt, 0.01, 0.1, step_size_up=3, mode="triangular2"),
    "cyclic-custom": lambda S, opt: S.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=Scale(0.9)),
    "warm-restarts": lambda S, opt: S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2),
    "chained": lambda S, opt: S.ChainedScheduler([S.ConstantLR(opt, 0.5, 4), S.ExponentialLR(opt, 0.95)]),
    "swalr": lambda S, opt: swa_utils(S).SWALR(opt, swa_lr=0.03, anneal_epochs=8, anneal_strategy="linear"),
}


def clean(state):
    """A state dict without callables (to compare across libraries)."""
    return {k: v for k, v in state.items() if not callable(v)}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_state_dict_resumes_within_and_across_libraries(name):
    make = RESUMABLE[name]
    whole, _, _ = lr_sequence(torch, make, epochs=16)

    def resumed(lib, saved_from):
        first, sched, opt = lr_sequence(saved_from, make, epochs=6)
        state = copy.deepcopy(sched.state_dict())
        opt_state = copy.deepcopy(opt.state_dict())
        fresh_opt, _ = make_optimizer(lib)
        fresh = make(lib.optim.lr_scheduler, fresh_opt)
        fresh_opt.load_state_dict(opt_state)
        fresh.load_state_dict(state)
        out = []
        for _ in range(10):
            fresh_opt.step()
            fresh.step()
            out.append(snapshot(fresh, fresh_opt))
        return out

    for lib, source in ((chainrule, chainrule), (chainrule, torch), (torch, chainrule)):
        assert resumed(lib, source) == whole[7:], f"{source.__name__} -> {lib.__name__}"


def test_training_run_with_schedulers_matches_torch():
    """Parameters after 25 real steps of Adam + CyclicLR (beta1 cycling) and SGD + warm restarts."""
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))

    def program(lib, opt_name, make_sched):
        lin = lib.nn.Linear(3, 1).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor([[0.3, -0.2, 0.5]], dtype=lib.float64))
            lin.bias.fill_(0.1)
        opt = (
            lib.optim.Adam(lin.parameters(), lr=0.01)
            if opt_name == "Adam"
            else lib.optim.SGD(lin.parameters(), lr=0.05, momentum=0.9)
        )
        sched = make_sched(lib.optim.lr_scheduler, opt)
        x, y = lib.tensor(X), lib.tensor(Y)
        history = []
        for _ in range(25):
            opt.zero_grad()
            ((lin(x) - y) ** 2).mean().backward()
            opt.step()
            sched.step()
            history.append((sched.get_last_lr(), lin.weight.detach().numpy().copy()))
        return history

    for opt_name, make in (
        ("Adam", lambda S, opt: S.CyclicLR(opt, 0.001, 0.05, step_size_up=4, mode="exp_range", gamma=0.95)),
        ("SGD", lambda S, opt: S.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=1e-3)),
        ("SGD", lambda S, opt: S.ChainedScheduler([S.ConstantLR(opt, 0.5, 5), S.PolynomialLR(opt, 20, 2.0)])),
    ):
        for (lr, w), (t_lr, t_w) in zip(program(chainrule, opt_name, make), program(torch, opt_name, make)):
            assert lr == t_lr
            np.testing.assert_allclose(w, t_w, rtol=1e-10, atol=1e-12)


# ---- errors ------------------------------------------------------------------------------------------
def opt_of(lib, cls="SGD", **kw):
    return make_optimizer(lib, cls, **kw)[0]


@pytest.mark.parametrize(
    "program,match",
    [
        (lambda lib: lib.optim.lr_scheduler.ConstantLR(opt_of(lib), factor=1.5), "between 0 and 1"),
        (
            lambda lib: lib.optim.lr_scheduler.MultiplicativeLR(opt_of(lib), [lambda e: 1.0]),
            "Expected 2 lr_lambdas",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.MultiplicativeLR(opt_of(lib), 0.5),
            "lr_lambda should be a function",
        ),
        (lambda lib: lib.optim.lr_scheduler.ChainedScheduler([]), "expects at least one scheduler"),
        (
            lambda lib: lib.optim.lr_scheduler.ChainedScheduler(
                [lib.optim.lr_scheduler.ReduceLROnPlateau(opt_of(lib))]
            ),
            "does not support `ReduceLROnPlateau`",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.ChainedScheduler(
                [lib.optim.lr_scheduler.StepLR(opt_of(lib), 2), lib.optim.lr_scheduler.StepLR(opt_of(lib), 2)]
            ),
            "expects all schedulers to belong to the same optimizer",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt_of(lib), T_0=0),
            "positive integer T_0",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt_of(lib), T_0=2.0),
            "positive integer",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt_of(lib), T_0=2, T_mult=0),
            "integer T_mult >= 1",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt_of(lib), T_0=2, eta_min="0"),
            "Expected float or int eta_min",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt_of(lib), T_0=2).step(-1),
            "Expected non-negative epoch",
        ),
        (lambda lib: lib.optim.lr_scheduler.CyclicLR(opt_of(lib), 0.1, 1.0, mode="saw"), "mode is invalid"),
        (lambda lib: lib.optim.lr_scheduler.CyclicLR(object(), 0.1, 1.0), "is not an Optimizer"),
        (
            lambda lib: lib.optim.lr_scheduler.CyclicLR(opt_of(lib, "Adagrad"), 0.1, 1.0),
            "optimizer must support momentum or beta1",
        ),
        (
            lambda lib: lib.optim.lr_scheduler.CyclicLR(opt_of(lib), [0.1], 1.0),
            "base_lr must have the same length",
        ),
        (
            lambda lib: lib.optim.swa_utils.SWALR(opt_of(lib), 0.1, anneal_strategy="exp"),
            "anneal_strategy must be",
        ),
        (lambda lib: lib.optim.swa_utils.SWALR(opt_of(lib), 0.1, anneal_epochs=-1), "anneal_epochs must be"),
        (
            lambda lib: lib.optim.swa_utils.SWALR(opt_of(lib), [0.1, 0.2, 0.3]),
            "swa_lr must have the same length",
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_errors_match_torch(program, match):
    raises_like_torch(program, match)


def test_verbose_is_gone_as_in_torch():
    for lib in (chainrule, torch):
        with pytest.raises(TypeError):
            lib.optim.lr_scheduler.ConstantLR(opt_of(lib), verbose=True)
        assert not hasattr(lib.optim.lr_scheduler.ConstantLR, "print_lr")


def test_get_lr_outside_step_warns_like_torch():
    for lib in (chainrule, torch):
        sched = lib.optim.lr_scheduler.PolynomialLR(opt_of(lib))
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            sched.get_lr()
    assert math.isfinite(sched.get_last_lr()[0])
