"""``autograd.check_graph``: each node's local derivative against finite differences of that node
alone. A wrong custom Function (or op rule) is named with the line that called it, also in the
middle of a long chain where the end-to-end gradient is wrong but its neighbours are right. The
verdicts are checked against hand-derived derivatives and against torch's gradcheck of each
Function on its own."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import torch
from oracle import cube_function

import chainrule
from chainrule._record import make_unary_result
from chainrule.autograd import check_graph
from chainrule.autograd.graph import Op


def functions(lib) -> dict:
    """Custom Functions written once for either library: the right ones and a wrong one."""

    Cube = cube_function(lib)  # noqa: N806

    class BadCube(lib.autograd.Function):  # d(x^3)/dx written as 2x: the bug to find
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    class ScaledSinCos(lib.autograd.Function):  # two outputs and a non-tensor argument
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return lib.sin(x) * scale, lib.cos(x) * scale

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            return (g_sin * lib.cos(x) - g_cos * lib.sin(x)) * ctx.scale, None

    class SwappedSinCos(ScaledSinCos):  # the two outputs' derivatives mixed up
        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            return (g_cos * lib.cos(x) - g_sin * lib.sin(x)) * ctx.scale, None

    return {"Cube": Cube, "BadCube": BadCube, "ScaledSinCos": ScaledSinCos, "SwappedSinCos": SwappedSinCos}


F = functions(chainrule)
Cube, BadCube, ScaledSinCos, SwappedSinCos = (F["Cube"], F["BadCube"], F["ScaledSinCos"], F["SwappedSinCos"])


def double(*shape, seed=0, low=-1.0, high=1.0) -> chainrule.Tensor:
    rng = np.random.default_rng(seed)
    return chainrule.tensor(rng.uniform(low, high, shape), requires_grad=True)


def line_of(fn, text: str) -> int:
    """The line number of the line of ``fn``'s source that contains ``text``."""
    lines, start = inspect.getsourcelines(fn)
    (offset,) = [i for i, line in enumerate(lines) if text in line]
    return start + offset


def chain(x, w, bad=False):
    h = chainrule.sin(x @ w)
    h = Cube.apply(h)
    h = (BadCube if bad else Cube).apply(h + 0.5)
    s, c = ScaledSinCos.apply(h, 2.0)
    h = s * chainrule.exp(c)
    return (h * h).mean()


def test_a_chain_of_right_ops_and_functions_passes():
    x, w = double(3, 4), double(4, 2, seed=1)
    report = check_graph(chain, (x, w))
    assert report
    assert [n.name for n in report.nodes] == [
        "MeanBackward0",
        "MulBackward0",
        "MulBackward0",
        "ExpBackward0",
        "ScaledSinCosBackward",
        "CubeBackward",
        "AddBackward0",
        "CubeBackward",
        "SinBackward0",
        "MmBackward0",
    ]
    assert all(n.ok and n.checked > 0 and n.max_error < 1e-7 for n in report.nodes)
    assert all(n.filename == __file__ for n in report.nodes)
    assert report.failures == [] and report.first_failure is None
    assert str(report).startswith("check_graph ok: all 10 nodes have the right derivative")


def test_the_wrong_function_is_named_with_the_line_that_applied_it():
    x, w = double(3, 4), double(4, 2, seed=1)
    report = check_graph(lambda x, w: chain(x, w, bad=True), (x, w))
    assert not report
    (wrong,) = report.failures
    assert report.first_failure is wrong
    assert (wrong.name, wrong.kind) == ("BadCubeBackward", "function")
    assert (wrong.filename, wrong.lineno) == (__file__, line_of(chain, "(BadCube if bad"))
    assert wrong.code == "h = (BadCube if bad else Cube).apply(h + 0.5)"
    # the worst entry, against the hand-derived derivatives: the rule says 2x, the truth is 3x^2
    with chainrule.no_grad():
        cube_input = Cube.apply(chainrule.sin(x @ w)) + 0.5
    xj = cube_input[wrong.index].item()
    assert wrong.input == 0
    assert wrong.analytical / wrong.numerical == pytest.approx(2 / (3 * xj), rel=1e-6)
    # everything around it is right
    assert all(n.ok for n in report.nodes if n is not wrong)
    text = str(report)
    assert "FAILED: 1 of 10 nodes have a wrong derivative" in text
    assert re.search(r"\n  >> BadCubeBackward +WRONG +max \|err\| ", text)
    assert f"first wrong node: BadCubeBackward, called at {__file__}:{wrong.lineno}: " in text


def long_chain(x, bad_middle: bool):
    h = x
    for _ in range(3):
        h = Cube.apply(chainrule.sin(h) + 1.2)
    h = (BadCube if bad_middle else Cube).apply(h * 0.5)
    for _ in range(3):
        h = Cube.apply(chainrule.sigmoid(h) + 0.5)
    return h.sum()


def end_to_end_error(fn, x: chainrule.Tensor, eps: float = 1e-6) -> float:
    """|backward - central differences of the whole function|, the largest entry."""
    x = x.detach().requires_grad_()
    fn(x).backward()
    numerical = np.empty(x.numel())
    base = x.detach().numpy()
    for j in range(x.numel()):
        plus, minus = base.copy(), base.copy()
        plus.flat[j] += eps
        minus.flat[j] -= eps
        numerical[j] = (fn(chainrule.tensor(plus)).item() - fn(chainrule.tensor(minus)).item()) / (2 * eps)
    return float(np.abs(x.grad.numpy().reshape(-1) - numerical).max())


def test_a_wrong_function_in_the_middle_of_a_long_chain_is_the_only_one_named():
    x = double(5, seed=3)
    good, bad = (lambda x: long_chain(x, False)), (lambda x: long_chain(x, True))
    assert end_to_end_error(good, x) < 1e-6
    assert end_to_end_error(bad, x) > 1e-2  # the end-to-end gradient is wrong ...
    report = check_graph(bad, x)  # ... and check_graph says where
    assert [n.name for n in report.failures] == ["BadCubeBackward"]
    assert report.failures[0].lineno == line_of(long_chain, "(BadCube if bad_middle")
    assert sum(n.ok for n in report.nodes) == len(report.nodes) - 1 == 20
    assert check_graph(good, x)


@pytest.mark.parametrize("name", ["Cube", "BadCube", "ScaledSinCos", "SwappedSinCos"])
def test_the_verdict_on_each_function_agrees_with_torch_gradcheck_of_it_alone(name):
    theirs = functions(torch)[name]
    x = torch.tensor(np.random.default_rng(4).uniform(-1, 1, 6), requires_grad=True)
    extra = (2.0,) if "SinCos" in name else ()
    torch_ok = torch.autograd.gradcheck(lambda x: theirs.apply(x, *extra), (x,), raise_exception=False)
    ours = F[name]
    report = check_graph(
        lambda x: [o.sum() for o in _as_tuple(ours.apply(x, *extra))],
        chainrule.tensor(x.detach().numpy(), requires_grad=True),
    )
    (node,) = [n for n in report.nodes if n.kind == "function"]
    assert node.name == name + "Backward"
    assert node.ok == torch_ok == (not name.startswith(("Bad", "Swapped")))
    assert all(n.ok for n in report.nodes if n is not node)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


bad_square_op = Op("bad_square", lambda F, g, xs, out, params, needs: (g * xs[0],))


def bad_square(x):
    """An op whose registered-style rule forgets the factor 2 of d(x^2)/dx."""
    return make_unary_result(x._data**2, bad_square_op, x)


def test_a_wrong_op_rule_is_found_by_replaying_the_function():
    def fn(x):
        h = chainrule.exp(x) * 2
        h = bad_square(h)  # the node to find
        return chainrule.log(h + 1).sum()

    x = double(2, 3)
    report = check_graph(fn, x)
    assert [n.name for n in report.failures] == ["BadSquareBackward0"]
    wrong = report.failures[0]
    # the innermost line of user code: the helper that made the node
    assert (wrong.kind, wrong.filename, wrong.lineno) == (
        "op",
        __file__,
        line_of(bad_square, "make_unary_result"),
    )
    assert wrong.analytical / wrong.numerical == pytest.approx(0.5, rel=1e-6)  # g x vs 2 g x
    assert [n.name for n in report.nodes if n.ok] == [
        "SumBackward0",
        "LogBackward0",
        "AddBackward0",
        "MulBackward0",
        "ExpBackward0",
    ]


def test_each_node_is_checked_alone_with_its_other_inputs_held_fixed():
    """x * exp(x) and x * x: a node's derivative is with respect to each input separately (or the
    sum over the inputs that are the same tensor), not the total through its other inputs."""

    def fn(x, b):
        y = x * chainrule.exp(x)  # a leaf used twice, once through exp
        z = y * chainrule.sin(y)  # a non-leaf used twice, once through sin
        return (z * z + b).sum()  # z * z: one tensor in both inputs; b broadcast

    report = check_graph(fn, (double(4, 3), double(3, seed=2)))
    assert report, str(report)
    assert len(report.nodes) == 7


def test_random_ops_replay_with_the_same_random_numbers():
    def fn(x):
        return chainrule.nn.functional.dropout(chainrule.sin(x), 0.5, training=True).sum()

    x = double(20)
    chainrule.manual_seed(7)
    fn(x)
    after_one_run = chainrule.rand(3).tolist()
    chainrule.manual_seed(7)
    report = check_graph(fn, x)
    assert report, str(report)
    assert chainrule.rand(3).tolist() == after_one_run  # as if fn had run once


def test_modules_in_place_ops_and_inputs_made_outside_are_handled():
    chainrule.manual_seed(0)
    layer = chainrule.nn.Linear(3, 2).double()
    outside = double(4, 3) * 2  # a non-leaf input: its node is not part of the check

    def fn(x):
        h = layer(x).clone()
        h.mul_(3)
        return chainrule.sigmoid(h).mean()

    report = check_graph(fn, outside)
    assert report, str(report)
    assert [n.name for n in report.nodes] == [
        "MeanBackward0",
        "SigmoidBackward0",
        "MulBackward0",
        "CloneBackward0",
        "AddmmBackward0",  # torch's name for F.linear of a 2-D input
    ]


def test_big_inputs_are_sampled():
    report = check_graph(lambda x: chainrule.tanh(x).sum(), double(10, 10), max_entries=7)
    assert report
    assert all(n.checked == 7 for n in report.nodes)
    assert "input 0: 7 of 100 entries sampled" in report.nodes[0].note


def test_float32_inputs_warn():
    x = double(3).float().detach().requires_grad_()
    with pytest.warns(UserWarning, match="input 0 is chainrule.float32; .*float64"):
        check_graph(lambda x: chainrule.sin(x).sum(), x, atol=1e-2, rtol=1e-2)


def test_a_function_that_builds_a_different_graph_each_time_is_refused():
    calls = []

    def fn(x):
        calls.append(1)
        h = chainrule.sin(x) if len(calls) == 1 else chainrule.cos(x)
        return (h * 2).sum()

    with pytest.raises(RuntimeError, match="built a different graph when run again"):
        check_graph(fn, double(3))


def test_no_graph_and_raise_exception():
    with pytest.raises(RuntimeError, match="no graph"):
        check_graph(lambda x: x.detach() * 2, double(3))
    with pytest.raises(RuntimeError, match="BadCubeBackward") as info:
        check_graph(lambda x: BadCube.apply(x).sum(), double(3), raise_exception=True)
    assert "first wrong node: BadCubeBackward" in str(info.value)
