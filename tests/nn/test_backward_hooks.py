"""Module backward hooks against torch: what register_full_backward_hook and
register_full_backward_pre_hook see (grad_input, grad_output), replacing gradients, several inputs,
inputs that do not require grad, in-place ops inside the module, and the global hooks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import to_numpy

import chainrule
from chainrule.nn.modules import module as module_globals

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _summary(x):
    """A comparable form of a hook argument: tuples kept, tensors as arrays, None as None."""
    if isinstance(x, tuple):
        return tuple(_summary(v) for v in x)
    if x is None:
        return None
    return np.round(to_numpy(x.detach()), 10).tolist()


class _Record:
    def __init__(self):
        self.seen = []

    def full(self, replace=None):
        def hook(module, grad_input, grad_output):
            self.seen.append(("full", type(module).__name__, _summary(grad_input), _summary(grad_output)))
            return replace(grad_input) if replace else None

        return hook

    def pre(self, replace=None):
        def hook(module, grad_output):
            self.seen.append(("pre", type(module).__name__, _summary(grad_output)))
            return replace(grad_output) if replace else None

        return hook


def _modules(lib):
    class TwoInputs(lib.nn.Module):
        def forward(self, a, b, scale):
            return a * b * scale, a + 1

    class InPlace(lib.nn.Module):
        def forward(self, x):
            y = x * 2
            y.add_(1)
            y.mul_(x)
            return y

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 2)
            self.act = lib.nn.Tanh()

        def forward(self, x):
            return self.act(self.fc(x)).sum(-1)

    return TwoInputs, InPlace, Net


def _net(lib, Net):
    m = Net().double()
    with lib.no_grad():  # the same weights in both libraries
        m.fc.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 7 - 0.3))
        m.fc.bias.copy_(lib.tensor([0.1, -0.2]))
    return m


def _run(lib, case: str):
    TwoInputs, InPlace, Net = _modules(lib)
    rec = _Record()
    lib.manual_seed(0)
    a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    grads = []
    if case == "two_inputs":
        m = TwoInputs()
        m.register_full_backward_pre_hook(rec.pre())
        m.register_full_backward_hook(rec.full())
        out = m(a, b, 3.0)
        (out[0] * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
    elif case == "both_outputs_replaced":
        m = TwoInputs()
        m.register_full_backward_pre_hook(
            rec.pre(lambda go: tuple(None if g is None else g * 10 for g in go))
        )
        m.register_full_backward_hook(rec.full(lambda gi: (gi[0] + 1, gi[1], gi[2])))
        b.requires_grad_(True)
        out = m(a, b, 2.0)
        (out[0].sum() + (out[1] ** 2).sum()).backward()
        grads.append(b.grad)
    elif case == "inplace":
        m = InPlace()
        m.register_full_backward_hook(rec.full())
        m(a * 1).sum().backward()
    elif case == "no_input_requires_grad":
        m = _net(lib, Net)
        m.register_full_backward_hook(rec.full())
        m.register_full_backward_pre_hook(rec.pre())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m(b.reshape(1, 3)).sum().backward()
        grads.append(m.fc.weight.grad)
    elif case == "nested":
        m = _net(lib, Net)
        for mod in (m, m.fc, m.act):
            mod.register_full_backward_hook(rec.full())
        m.act.register_full_backward_pre_hook(rec.pre(lambda go: (go[0] * -1,)))
        m(a.reshape(1, 3)).sum().backward()
        grads.append(m.fc.weight.grad)
    elif case == "prepend_and_remove":
        m = InPlace()
        h1 = m.register_full_backward_hook(rec.full(lambda gi: (gi[0] * 2,)))
        m.register_full_backward_hook(rec.full(), prepend=True)
        m(a * 1).sum().backward()
        h1.remove()
        a.grad = None
        m(a * 1).sum().backward()
    grads.append(a.grad)
    return rec.seen, [_summary(g) for g in grads]


@pytest.mark.parametrize(
    "case",
    [
        "two_inputs",
        "both_outputs_replaced",
        "inplace",
        "no_input_requires_grad",
        "nested",
        "prepend_and_remove",
    ],
)
def test_backward_hooks_see_and_change_what_torch_does(case):
    ours, theirs = _run(chainrule, case), _run(torch, case)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12)


def test_hook_errors_and_warnings_match_torch():
    for lib in (chainrule, torch):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of grad_input"):
            m(lib.ones(1, 2, requires_grad=True)).sum().backward()
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
        with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of grad_output"):
            m(lib.ones(1, 2, requires_grad=True)).sum().backward()
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gi, go, lib=lib: (lib.ones(1, 2),))
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            with pytest.raises(
                RuntimeError, match="where no input requires gradient should always return None"
            ):
                m(lib.ones(1, 2)).sum().backward()


def test_no_graph_no_hook_and_double_backward():
    calls = []
    m = chainrule.nn.Tanh()
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    with chainrule.no_grad():
        m(chainrule.ones(2, requires_grad=True))
    x = chainrule.tensor([0.3, -0.2], dtype=chainrule.float64, requires_grad=True)
    (g,) = chainrule.autograd.grad(m(x).sum(), x, create_graph=True)
    g.sum().backward()  # the second pass does not go through the module's outputs: no call
    xt = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.tanh(xt).sum(), xt, create_graph=True)
    gt.sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_global_module_hooks():
    seen = []
    handles = [
        module_globals.register_module_forward_pre_hook(
            lambda m, args: seen.append(("pre", type(m).__name__))
        ),
        module_globals.register_module_forward_hook(
            lambda m, args, out: seen.append(("fwd", type(m).__name__))
        ),
        module_globals.register_module_full_backward_pre_hook(
            lambda m, go: seen.append(("bpre", type(m).__name__))
        ),
        module_globals.register_module_full_backward_hook(
            lambda m, gi, go: seen.append(("bwd", type(m).__name__))
        ),
    ]
    try:
        net = chainrule.nn.Sequential(chainrule.nn.Linear(2, 2), chainrule.nn.ReLU())
        net(chainrule.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for h in handles:
            h.remove()
    expected = [
        ("pre", "Sequential"),
        ("pre", "Linear"),
        ("fwd", "Linear"),
        ("pre", "ReLU"),
        ("fwd", "ReLU"),
        ("fwd", "Sequential"),
        ("bpre", "Sequential"),
        ("bpre", "ReLU"),
        ("bwd", "ReLU"),
        ("bpre", "Linear"),
        ("bwd", "Linear"),
        ("bwd", "Sequential"),
    ]
    tseen = []
    th = [
        torch.nn.modules.module.register_module_forward_pre_hook(
            lambda m, a: tseen.append(("pre", type(m).__name__))
        ),
        torch.nn.modules.module.register_module_forward_hook(
            lambda m, a, o: tseen.append(("fwd", type(m).__name__))
        ),
        torch.nn.modules.module.register_module_full_backward_pre_hook(
            lambda m, go: tseen.append(("bpre", type(m).__name__))
        ),
        torch.nn.modules.module.register_module_full_backward_hook(
            lambda m, gi, go: tseen.append(("bwd", type(m).__name__))
        ),
    ]
    try:
        tnet = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
        tnet(torch.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for h in th:
            h.remove()
    assert seen == tseen == expected


def test_registration_and_state_dict_hooks_match_torch():
    def program(lib):
        seen = []
        mm = lib.nn.modules.module
        handles = [
            mm.register_module_parameter_registration_hook(lambda m, n, p: seen.append(("param", n)) or None),
            mm.register_module_buffer_registration_hook(lambda m, n, b: seen.append(("buffer", n)) or None),
            mm.register_module_module_registration_hook(lambda m, n, c: seen.append(("module", n)) or None),
        ]
        try:
            net = lib.nn.Sequential(lib.nn.Linear(2, 2))
            net.extra = lib.nn.BatchNorm1d(2)
            net.register_buffer("flag", lib.zeros(1))
        finally:
            for h in handles:
                h.remove()
        calls = []
        net.register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append(("pre", prefix)))
        net[0].register_load_state_dict_pre_hook(
            lambda m, sd, prefix, *rest: calls.append(("load_pre", prefix))
        )

        def rename(state_dict, prefix, *rest):
            if prefix + "old_w" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "old_w")

        net[0]._register_load_state_dict_pre_hook(rename)
        sd = net.state_dict()
        sd["0.old_w"] = sd.pop("0.weight") * 0 + 3
        net.load_state_dict(sd)
        net.set_submodule("0", lib.nn.Linear(2, 2))
        with pytest.raises(AttributeError):
            net.set_submodule("missing", lib.nn.ReLU(), strict=True)
        return seen, calls, list(net.state_dict()), type(net[0]).__name__

    ours, theirs = program(chainrule), program(torch)
    assert ours == theirs
    lin = chainrule.nn.Linear(2, 2)
    assert lin.to_empty(device="cpu") is lin and lin.weight.shape == (2, 2)
    assert lin.share_memory() is lin


def test_weight_norm_loads_an_old_state_dict():
    old = chainrule.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chainrule.nn.utils.weight_norm(old)
    new = chainrule.nn.utils.parametrizations.weight_norm(chainrule.nn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.detach().numpy(), old.weight.detach().numpy(), rtol=1e-6)


def test_global_forward_hook_with_kwargs_and_always_call():
    def program(lib):
        seen = []
        mm = lib.nn.modules.module
        h1 = mm.register_module_forward_hook(
            lambda m, args, kwargs, out: seen.append((type(m).__name__, sorted(kwargs))), with_kwargs=True
        )
        h2 = mm.register_module_forward_hook(lambda m, args, out: seen.append(out is None), always_call=True)

        class Fails(lib.nn.Module):
            def forward(self, x, scale=1.0):
                raise ValueError("no")

        try:
            lib.nn.Identity()(lib.ones(1))
            with pytest.raises(ValueError):
                Fails()(lib.ones(1), scale=2.0)
        finally:
            h1.remove()
            h2.remove()
        return seen

    assert program(chainrule) == program(torch)
