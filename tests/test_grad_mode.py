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
