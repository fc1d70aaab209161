"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode and is_grad_enabled, each
used as a context manager, a decorator and (set_grad_enabled) a plain call, nested, against torch.

Each program returns what it observed step by step; chainrule's list must equal torch's.
"""

from __future__ import annotations

import pytest
import torch
from oracle import leaf, same

import chainrule
from chainrule.autograd.grad_mode import GRAD


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """A failing test must not leave either library with grad mode off."""
    state = GRAD.save()
    yield
    GRAD.restore(state)
    torch.set_grad_enabled(True)


def inference_on(lib) -> bool:
    if lib is torch:
        return torch.is_inference_mode_enabled()
    return chainrule.autograd.is_inference_mode_enabled()


def records(lib) -> bool:
    """Whether an op on a tensor that requires grad builds a graph right now."""
    x = lib.ones(2, requires_grad=True)
    return (x * 2).requires_grad


def state(lib) -> tuple:
    return lib.is_grad_enabled(), records(lib), inference_on(lib)


def test_default_mode_records():
    assert same(state) == (True, True, False)


def test_no_grad_and_enable_grad_nest_as_context_managers():
    def program(lib):
        seen = [state(lib)]
        with lib.no_grad():
            seen.append(state(lib))
            with lib.enable_grad():
                seen.append(state(lib))
                with lib.no_grad():
                    seen.append(state(lib))
                seen.append(state(lib))
            seen.append(state(lib))
        seen.append(state(lib))
        return seen

    assert [s[0] for s in same(program)] == [True, False, True, False, True, False, True]


def test_the_mode_is_restored_when_the_block_raises():
    def program(lib):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError("inside")
        return state(lib)

    same(program)


def test_set_grad_enabled_as_call_context_manager_and_decorator():
    def program(lib):
        seen = []
        lib.set_grad_enabled(False)  # a plain call switches at once
        seen.append(state(lib))
        lib.set_grad_enabled(True)
        seen.append(state(lib))
        with lib.set_grad_enabled(False):
            seen.append(state(lib))
            with lib.set_grad_enabled(True):
                seen.append(state(lib))
            lib.set_grad_enabled(True)  # a call inside a block lasts until the block ends
            seen.append(state(lib))
        seen.append(state(lib))

        @lib.set_grad_enabled(False)
        def off():
            return state(lib)

        seen.append(state(lib))  # decorating does not switch
        seen.append(off())
        seen.append(state(lib))
        with lib.no_grad():
            with lib.set_grad_enabled(True):
                seen.append(state(lib))
            seen.append(state(lib))
        return seen

    same(program)


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
@pytest.mark.parametrize("parentheses", [True, False])
def test_decorators_with_and_without_parentheses(name: str, parentheses: bool):
    def program(lib):
        switch = getattr(lib, name)

        def probe():
            """Docstring kept."""
            return state(lib)

        decorated = switch()(probe) if parentheses else switch(probe)
        with lib.no_grad():
            under_no_grad = decorated()
        return decorated(), under_no_grad, state(lib), decorated.__name__, decorated.__doc__

    same(program)


def test_a_decorated_generator_runs_every_step_in_the_mode():
    def program(lib):
        @lib.no_grad()
        def steps():
            received = yield state(lib)
            yield received, state(lib)

        gen = steps()
        seen = [next(gen), state(lib)]  # outside, between steps: the caller's mode
        seen.append(gen.send("hello"))
        seen.append(state(lib))
        return seen

    same(program)


def test_inference_mode_nesting():
    def program(lib):
        seen = []
        with lib.inference_mode():
            seen.append(state(lib))
            with lib.enable_grad():  # grad mode on, yet nothing is recorded
                seen.append(state(lib))
            with lib.set_grad_enabled(True):
                seen.append(state(lib))
            with lib.inference_mode(False):  # really off
                seen.append(state(lib))
                with lib.no_grad():
                    seen.append(state(lib))
            with lib.no_grad():
                seen.append(state(lib))
            seen.append(state(lib))
        seen.append(state(lib))
        with lib.no_grad():
            with lib.inference_mode(False):  # turns grad mode on, as torch does
                seen.append(state(lib))
            with lib.inference_mode():
                with lib.enable_grad():
                    seen.append(state(lib))
                seen.append(state(lib))
            seen.append(state(lib))
        return seen

    seen = same(program)
    assert seen[1] == (True, False, True)


def test_inference_mode_false_as_a_decorator():
    def program(lib):
        @lib.inference_mode(False)
        def probe():
            return state(lib)

        with lib.no_grad():
            return probe(), state(lib)

    same(program)


def test_no_grad_results_can_be_used_later():
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        with lib.no_grad():
            y = x * 3
        z = (y * x).sum()
        z.backward()
        return y, y.requires_grad, x.grad

    same(program)


def test_grad_mode_during_backward_and_inside_a_function():
    def program(lib):
        seen = []

        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(("forward", lib.is_grad_enabled()))
                return x * 2

            @staticmethod
            def backward(ctx, g):
                seen.append(("backward", lib.is_grad_enabled()))
                return g * 2

        x = leaf(lib, [1.0, 2.0])
        y = Double.apply(x)
        y.register_hook(lambda g: seen.append(("hook", lib.is_grad_enabled())))
        (y * y).sum().backward(retain_graph=True)
        lib.autograd.grad((y * y).sum(), x, create_graph=True)
        seen.append(("after", lib.is_grad_enabled()))
        return seen

    same(program)


# ---- inference tensors -------------------------------------------------------------------------
def outcome(fn) -> object:
    """What ``fn()`` gives: ``('ok', is_inference, requires_grad)`` for a tensor, the value
    otherwise, or the error's type and message."""
    try:
        r = fn()
    except RuntimeError as e:
        return type(e).__name__, str(e)
    if hasattr(r, "is_inference"):
        return "ok", r.is_inference(), r.requires_grad
    return "ok", r


def test_which_tensors_are_inference_tensors():
    def program(lib):
        normal = lib.ones(3)
        with lib.inference_mode():
            a = lib.ones(3)
            made_inside = {
                "factory": a,
                "tensor": lib.tensor([1.0, 2.0]),
                "randn": lib.randn(2),
                "op on normal": normal * 2,
                "clone of normal": normal.clone(),
                "view of normal": normal.view(3),
                "detach of normal": normal.detach(),
                "op on inference": a.exp(),
            }
            with lib.inference_mode(False):
                made_inside["inference_mode(False)"] = lib.ones(1)
            with lib.no_grad():
                made_inside["no_grad inside"] = lib.ones(1)
        with lib.no_grad():
            made_inside["no_grad"] = lib.ones(1)
        outside = {
            "op": a * 2,
            "view": a.view(3, 1),
            "index": a[0],
            "transpose": a.t(),
            "detach": a.detach(),
            "clone": a.clone(),
            "data": a.data,
            "to float64": a.to(lib.float64),
            "same-dtype float()": a.float(),
        }
        return (
            {k: t.is_inference() for k, t in made_inside.items()},
            {k: t.is_inference() for k, t in outside.items()},
        )

    made_inside, outside = same(program)
    assert made_inside["factory"] and not made_inside["view of normal"]
    assert outside["view"] and not outside["op"] and not outside["clone"]


def test_inplace_update_of_an_inference_tensor_outside_inference_mode_raises():
    def program(lib):
        with lib.inference_mode():
            a, b = lib.ones(3), lib.full((3,), 2.0)
        seen = [
            outcome(lambda: a.add_(1)),
            outcome(lambda: a.mul_(lib.ones(3))),
            outcome(lambda: a.view(3).sin_()),
            outcome(lambda: a.zero_()),
            outcome(lambda: a.copy_(lib.zeros(3))),
            outcome(lambda: a.__setitem__(0, 5.0)),
        ]
        with lib.no_grad():
            seen.append(outcome(lambda: a.add_(1)))
        with lib.inference_mode():
            with lib.inference_mode(False):
                seen.append(outcome(lambda: a.add_(1)))
            seen.append(outcome(lambda: a.add_(1)))  # inside inference mode: allowed
            seen.append(outcome(lambda: a.__setitem__(1, 5.0)))
        normal = lib.ones(3)
        seen.append(outcome(lambda: normal.add_(b)))  # an inference tensor as the argument: fine
        seen.append(outcome(lambda: b.clone().add_(1)))
        with lib.inference_mode():
            seen.append(outcome(lambda: normal.add_(1)))  # a normal tensor inside: fine
        return seen, normal  # not a's values: torch writes them before it raises (see differences.md)

    seen = same(program)[0]
    assert seen[0][0] == "RuntimeError" and seen[0][1].startswith("Inplace update to inference tensor")


def test_inference_tensors_cannot_get_requires_grad_or_a_version_outside_inference_mode():
    def program(lib):
        with lib.inference_mode():
            a = lib.ones(3)
            inside = outcome(lambda: lib.ones(2).requires_grad_())
        return (
            inside,
            outcome(lambda: a.requires_grad_()),
            outcome(lambda: setattr(a, "requires_grad", True)),
            outcome(lambda: lib.nn.Parameter(a)),
            outcome(lambda: a.requires_grad_(False)),
            outcome(lambda: a._version),
            outcome(lambda: a.clone().requires_grad_()),
        )

    seen = same(program)
    assert seen[1] == (
        "RuntimeError",
        "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.",
    )


def test_inference_tensors_cannot_be_saved_for_backward():
    def program(lib):
        with lib.inference_mode():
            a = lib.ones(3, dtype=lib.float64)
            m = lib.ones(3, 3, dtype=lib.float64)
        w = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        weight = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        seen = [
            outcome(lambda: w * a),
            outcome(lambda: a * w),
            outcome(lambda: m @ w),
            outcome(lambda: w.exp() * a),
            outcome(lambda: lib.nn.functional.linear(a, weight)),
            outcome(lambda: w + a),
            outcome(lambda: w - a),
            outcome(lambda: lib.cat([w, a])),
            outcome(lambda: lib.stack([w, a])),
            outcome(lambda: w * a.clone()),
        ]
        with lib.no_grad():
            seen.append(outcome(lambda: w * a))  # nothing recorded, nothing saved
        with lib.inference_mode():
            with lib.inference_mode(False):
                seen.append(outcome(lambda: w * a))
        y = w + a  # not saved: backward works
        y.sum().backward()
        return seen, w.grad

    seen = same(program)[0]
    assert seen[0][0] == "RuntimeError" and seen[0][1].startswith(
        "Inference tensors cannot be saved for backward."
    )
    assert seen[5] == ("ok", False, True)


def test_backward_inside_inference_mode_records_nothing_even_with_create_graph():
    def program(lib):
        w = leaf(lib, [1.0, 2.0])
        loss = (w**3).sum()
        with lib.inference_mode():
            (g,) = lib.autograd.grad(loss, w, create_graph=True)
            seen = state(lib)
        return g, g.requires_grad, g.is_inference(), seen, state(lib)

    assert same(program)[1:3] == (False, True)


def test_a_number_first_seen_in_inference_mode_is_usable_outside_it() -> None:
    """Ops turn Python numbers into cached 0-d constants; one first made under inference_mode must
    not become an inference tensor that a later recorded op refuses to save (torch: works)."""
    grads = []
    for lib in (chainrule, torch):
        with lib.inference_mode():
            lib.ones(2) * 3.7125
        x = lib.ones(2, requires_grad=True)
        (x * 3.7125).pow(2).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
