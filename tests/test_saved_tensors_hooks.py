"""Saved-tensor hooks (``autograd.graph.saved_tensors_hooks``, ``save_on_cpu``,
``disable_saved_tensors_hooks``): the same programs run with chainrule and torch, comparing which
tensors get packed and unpacked (count and shapes) and the gradients."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from test_engine import leaf, same

import chainrule
from chainrule import _record
from chainrule.autograd.graph import Node

A = [0.3, -1.2, 2.5]
B = [1.5, 0.7, -0.4]


def logging_hooks(log: list, tag: str = ""):
    def pack(x):
        log.append((tag + "pack", tuple(x.shape)))
        return x

    def unpack(x):
        log.append((tag + "unpack", tuple(x.shape)))
        return x

    return pack, unpack


def test_pack_at_record_unpack_at_backward():
    def program(lib):
        log: list = []
        a, b = leaf(lib, [A, B]), leaf(lib, [B, A])
        w = leaf(lib, np.arange(6.0).reshape(3, 2) / 7)
        with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log)):
            y = ((a * b).exp().sin() @ w).tanh()  # saves a, b; exp's output; sin's input; ...
            forward = list(log)
        y.sum().backward()
        # which tensors, not in which order within one op (torch's mm saves them in another)
        return sorted(forward), sorted(log[len(forward) :]), a.grad, b.grad, w.grad

    forward, backward, *_ = same(program)
    assert len(forward) == 7 and len(backward) == 7


def test_unpack_once_per_backward_and_freed_after():
    def program(lib):
        log: list = []
        a = leaf(lib, A)
        with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log)):
            y = a.exp()
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        try:
            y.sum().backward()
        except RuntimeError as e:
            return log, a.grad, "backward through the graph a second time" in str(e)
        return log, a.grad, False

    assert same(program)[2]


def test_nested_hooks_innermost_applies():
    def program(lib):
        log: list = []
        a = leaf(lib, A)
        with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log, "outer ")):
            with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log, "inner ")):
                y = a.sin()
            z = y.exp()
        (z.sum()).backward()
        return log, a.grad

    same(program)


def test_pack_may_return_anything_and_change_the_value():
    def program(lib):
        a = leaf(lib, A)
        with lib.autograd.graph.saved_tensors_hooks(lambda x: ("boxed", x * 2), lambda box: box[1] / 2):
            y = a.sin() * a.cos()
        y.sum().backward()
        first = a.grad.clone()
        a.grad = None
        with lib.autograd.graph.saved_tensors_hooks(lambda x: x * 0 + 1, lambda x: x):
            y = a.sin()  # the hooks decide what backward sees: cos(1) instead of cos(a)
        y.sum().backward()
        return first, a.grad

    same(program)


@pytest.mark.parametrize("lib", [chainrule, torch])
def test_pack_sees_the_saved_output(lib):
    seen: list = []
    a = leaf(lib, A)
    with lib.autograd.graph.saved_tensors_hooks(lambda x: seen.append(x) or x, lambda x: x):
        y = a.exp()
    assert len(seen) == 1 and seen[0].grad_fn is y.grad_fn
    np.testing.assert_array_equal(seen[0].detach().numpy(), y.detach().numpy())


def test_hooked_values_are_not_version_checked():
    def program(lib):  # torch: changing a packed tensor in place is undefined, and unchecked
        a = leaf(lib, A)
        x = a * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = x.sin()
        with lib.no_grad():
            x.add_(1)
        y.sum().backward()
        return a.grad

    same(program)


def test_errors_match_torch():
    for lib in (chainrule, torch):
        a = leaf(lib, A)

        def modify(x):
            x.add_(1)
            return x

        with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
            with lib.autograd.graph.saved_tensors_hooks(modify, lambda x: x):
                (a * 1).exp()
        with lib.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: 5):
            y = a.exp()
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of type int"):
            y.sum().backward()


def test_disable_saved_tensors_hooks():
    for lib in (chainrule, torch):
        graph = lib.autograd.graph
        hooks = (lambda x: x, lambda x: x)
        with graph.disable_saved_tensors_hooks("outer"):
            with graph.disable_saved_tensors_hooks("inner"):
                with pytest.raises(RuntimeError, match="^inner$"):
                    with graph.saved_tensors_hooks(*hooks):
                        pass
            with pytest.raises(RuntimeError, match="^outer$"):
                with graph.saved_tensors_hooks(*hooks):
                    pass
        with graph.saved_tensors_hooks(*hooks):
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with graph.disable_saved_tensors_hooks("no hooks here"):
                    pass
        with graph.saved_tensors_hooks(*hooks):  # usable again after all that
            pass


@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu(pin_memory):
    def program(lib):
        a = leaf(lib, A)
        x = a * 1
        with lib.autograd.graph.save_on_cpu(pin_memory=pin_memory):
            y = (x.sin() * x).exp()
        with lib.no_grad():  # without pinning the saved x is x itself; pinned, a copy
            x.mul_(3)
        y.sum().backward()
        return a.grad

    same(program)


def test_custom_function_saved_tensors_are_packed():
    def program(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x

        log: list = []
        a = leaf(lib, A)
        with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log)):
            y = Square.apply(a)
            forward = list(log)
        y.sum().backward()
        return forward, log, a.grad

    same(program)


def test_double_backward_unpacks():
    def program(lib):
        log: list = []
        a = leaf(lib, A)
        with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log)):
            y = a.exp()
        (g,) = lib.autograd.grad(y.sum(), a, create_graph=True)
        g.sum().backward()
        return log, g, a.grad

    same(program)


@pytest.mark.parametrize("lib", [chainrule, torch])
def test_hooks_are_per_thread(lib):
    log: list = []
    a = leaf(lib, A)
    entered, done = threading.Event(), threading.Event()

    def other():
        entered.wait()
        a.sin()  # recorded while the main thread has hooks: not packed
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with lib.autograd.graph.saved_tensors_hooks(*logging_hooks(log)):
        entered.set()
        done.wait()
        a.sin()  # this thread's op is
    t.join()
    assert log == [("pack", (3,))]


def test_zero_cost_when_off_and_anomaly_mode_combines():
    assert _record.Node is Node
    log: list = []
    a = leaf(chainrule, A)
    with chainrule.autograd.detect_anomaly():
        with chainrule.autograd.graph.saved_tensors_hooks(*logging_hooks(log)):
            assert _record.Node is not Node
            y = (a - a).log()  # log(0): its derivative 1/0 is what anomaly mode reports
        assert log == [("pack", (3,))]
        with pytest.raises(RuntimeError, match="LogBackward0"):
            y.sum().backward()
        assert log[-1] == ("unpack", (3,))
    assert _record.Node is Node
