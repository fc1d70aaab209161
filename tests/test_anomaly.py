"""Anomaly mode (``autograd.detect_anomaly``): the first NaN or inf in backward raises, naming the
node and the user's forward source line; checked against real torch's anomaly mode on the same
code. Also: nothing changes when nothing is wrong, and the mode switches back on exit."""

from __future__ import annotations

import inspect
import os
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import _record, _tensor
from chainrule.autograd import anomaly, function, graph

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # NumPy's log(0), 0/0
    # the forward traceback both libraries warn with; the tests that check it record it
    pytest.mark.filterwarnings("ignore:Error detected in:UserWarning"),
]

LIBS = [chainrule, torch]


def detect(lib, check_nan: bool = True):
    """``lib.autograd.detect_anomaly`` without its "Anomaly Detection has been enabled" warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.autograd.detect_anomaly(check_nan=check_nan)


def next_line() -> int:
    """The line number of the line after the call."""
    return inspect.currentframe().f_back.f_lineno + 1


def first_line(error: BaseException) -> str:
    return str(error).splitlines()[0]


def log_times_zero(lib):
    """log(0) = -inf, -inf * 0 = nan; backward: Mul passes 0 down, Log computes 0 / 0."""
    x = lib.tensor([0.0], requires_grad=True)
    with detect(lib):
        line = next_line()
        y = lib.log(x) * 0
        with pytest.raises(RuntimeError) as info, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.backward()
    return info.value, line, [str(w.message) for w in caught if "Error detected" in str(w.message)]


def test_log_of_zero_names_log_backward_as_torch_does_and_the_forward_line():
    ours, line, our_warnings = log_times_zero(chainrule)
    theirs, _, their_warnings = log_times_zero(torch)
    # the first NaN comes out of LogBackward0 (MulBackward0 passes down g * 0 = 0), in both
    assert first_line(theirs) == "Function 'LogBackward0' returned nan values in its 0th output."
    assert first_line(ours) == first_line(theirs)
    message = str(ours)
    assert f"{__file__}:{line}: y = lib.log(x) * 0" in message
    assert "upstream gradient was finite" in message
    # torch's warning: the traceback of the forward call
    assert len(our_warnings) == len(their_warnings) == 1
    assert our_warnings[0].startswith("Error detected in LogBackward0. Traceback of forward call")
    assert their_warnings[0].startswith("Error detected in LogBackward0. Traceback of forward call")
    for warning in (our_warnings[0], their_warnings[0]):
        assert f'File "{__file__}", line {line}, in log_times_zero' in warning
        assert "y = lib.log(x) * 0" in warning


def test_the_traceback_skips_chainrules_frames_and_names_the_users_innermost_line():
    class Model(chainrule.nn.Module):
        def forward(self, x):
            h = x * 2
            return chainrule.sqrt(h - h)  # sqrt(0): an infinite derivative

    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect(chainrule):
        outer = next_line()
        y = Model()(x).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0") as info:
            y.backward()
    inner = inspect.getsourcelines(Model.forward)[1] + 2
    assert f"{__file__}:{inner}: return chainrule.sqrt(h - h)" in str(info.value)
    sqrt_node = y.grad_fn.next_functions[0][0]
    assert sqrt_node.name() == "SqrtBackward0"
    trace = anomaly.trace_of(sqrt_node)
    assert trace.frames[-1][:2] == (__file__, inner)
    assert (__file__, outer) in [f[:2] for f in trace.frames]  # the module call, further out
    package = os.path.dirname(chainrule.__file__)
    assert not any(f[0].startswith(package) for f in trace.frames)


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_create_graph_backward_is_checked_too(lib):
    x = lib.tensor([0.0], requires_grad=True)
    with detect(lib):
        y = lib.log(x) * 0
        with pytest.raises(
            RuntimeError,
            match=r"^Function 'LogBackward0' returned nan values in "
            r"its 0th output\.",
        ):
            lib.autograd.grad(y, x, create_graph=True)


def test_create_graph_gives_the_same_second_derivative_with_the_mode_on():
    results = []
    for on in (False, True):
        x = chainrule.tensor([0.3, 1.5], dtype=chainrule.float64, requires_grad=True)
        mode = detect(chainrule) if on else chainrule.enable_grad()
        with mode:
            y = (chainrule.sin(x) * chainrule.log(x)).sum()
            (g,) = chainrule.autograd.grad(y, x, create_graph=True)
            (h,) = chainrule.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    x = torch.tensor([0.3, 1.5], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad((torch.sin(x) * torch.log(x)).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(results[1][1], h.numpy(), rtol=1e-12)


def make_recip(lib):
    """A custom Function whose backward divides by its input: 0 / 0 at x = 0."""

    class Recip(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 0 / x

    return Recip


def test_a_custom_functions_nan_is_named_with_the_line_that_applied_it():
    messages = []
    for lib in LIBS:
        Fn = make_recip(lib)
        x = lib.tensor([0.0], requires_grad=True)
        with detect(lib):
            line = next_line()
            y = Fn.apply(x)
            with pytest.raises(RuntimeError) as info, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y.sum().backward()
        messages.append(str(info.value))
    ours, theirs = messages
    assert first_line(theirs) == "Function 'RecipBackward' returned nan values in its 0th output."
    assert first_line(ours) == first_line(theirs)
    assert f"{__file__}:{line}: y = Fn.apply(x)" in ours


def test_an_error_raised_in_backward_gets_the_forward_traceback_warning_as_in_torch():
    caught_messages = []
    for lib in LIBS:

        class Fail(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                raise ValueError("broken backward")

        x = lib.tensor([1.0], requires_grad=True)
        with detect(lib):
            line = next_line()
            y = Fail.apply(x).sum()
            with (
                pytest.raises(ValueError, match="broken backward"),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                y.backward()
        caught_messages.append([str(w.message) for w in caught if "Error detected" in str(w.message)])
    ours, theirs = caught_messages
    assert len(ours) == len(theirs) == 1
    assert (
        ours[0].splitlines()[0]
        == theirs[0].splitlines()[0]
        == ("Error detected in FailBackward. Traceback of forward call that caused the error:")
    )
    assert f'File "{__file__}", line {line}' in ours[0]
    assert "y = Fail.apply(x).sum()" in ours[0]


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_forward_outside_backward_inside_still_checks_as_torch_does(lib):
    x = lib.tensor([0.0], requires_grad=True)
    y = lib.log(x) * 0
    with (
        detect(lib),
        pytest.raises(RuntimeError, match="'LogBackward0' returned nan") as info,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        y.backward()
    if lib is chainrule:
        assert "forward ran with anomaly mode off" in str(info.value)


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_forward_inside_backward_outside_is_not_checked_as_in_torch(lib):
    x = lib.tensor([0.0], requires_grad=True)
    with detect(lib):
        y = lib.log(x) * 0
    y.backward()
    assert np.isnan(x.grad.item())


def test_inf_is_an_anomaly_too_where_torch_checks_nan_only():
    x = torch.tensor([0.0], requires_grad=True)
    with detect(torch):
        torch.sqrt(x).backward()  # torch: no error
    assert x.grad.item() == np.inf
    x = chainrule.tensor([0.0], requires_grad=True)
    with detect(chainrule):
        line = next_line()
        y = chainrule.sqrt(x)
        with pytest.raises(RuntimeError) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y.backward()
    assert first_line(info.value) == "Function 'SqrtBackward0' returned inf values in its 0th output."
    assert f"{__file__}:{line}: y = chainrule.sqrt(x)" in str(info.value)


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_a_nan_arriving_from_upstream_is_reported_by_the_first_node_it_reaches(lib):
    x = lib.tensor([1.0], requires_grad=True)
    with detect(lib), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = lib.exp(x)
        with pytest.raises(RuntimeError, match="'ExpBackward0' returned nan") as info:
            y.backward(lib.tensor([float("nan")]))
    if lib is chainrule:
        assert "upstream gradient already held non-finite values" in str(info.value)


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_check_nan_false_records_but_does_not_check(lib):
    x = lib.tensor([0.0], requires_grad=True)
    with detect(lib, check_nan=False):
        assert lib.is_anomaly_enabled() if lib is torch else anomaly.is_anomaly_enabled()
        y = lib.log(x) * 0
        y.backward()
    assert np.isnan(x.grad.item())


def model_grads(mode) -> list[np.ndarray]:
    """Gradients of a small network with a custom Function, under ``mode``."""
    Fn = make_recip(chainrule)
    rng = np.random.default_rng(0)
    x = chainrule.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = chainrule.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with mode:
        h = chainrule.sigmoid(x @ w)
        h = Fn.apply(h) + chainrule.log(h)
        loss = (h * h).mean()
        loss.backward()
    return [x.grad.numpy(), w.grad.numpy()]


def test_no_error_and_the_same_gradients_when_nothing_is_wrong():
    plain = model_grads(chainrule.enable_grad())
    watched = model_grads(detect(chainrule))
    for a, b in zip(plain, watched):
        np.testing.assert_array_equal(a, b)


def test_graphs_recorded_in_anomaly_mode_behave_as_usual():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect(chainrule):
        h = x * 3
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(g.tolist()))
        y = chainrule.exp(h).sum()
    assert y.grad_fn.name() == "SumBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "ExpBackward0"
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([3.0, 6.0]), rtol=1e-6)
    assert seen == [h.grad.tolist()]


def plain_classes_in_place() -> bool:
    return (
        _record.Node is graph.Node
        and _record._new is _tensor._new is object.__new__
        and function._WATCH is None
    )


def test_the_mode_switches_back_on_exit_and_on_exceptions():
    assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()
    with detect(chainrule):
        assert anomaly.is_anomaly_enabled() and anomaly.is_anomaly_check_nan_enabled()
        assert not plain_classes_in_place()
    assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()
    with pytest.raises(KeyError), detect(chainrule):
        raise KeyError("inside")
    assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()


def test_nested_modes_restore_the_outer_one():
    with detect(chainrule):
        with detect(chainrule, check_nan=False):
            assert anomaly.is_anomaly_enabled() and not anomaly.is_anomaly_check_nan_enabled()
            with chainrule.autograd.set_detect_anomaly(False):
                assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()
            assert anomaly.is_anomaly_enabled()
        assert anomaly.is_anomaly_enabled() and anomaly.is_anomaly_check_nan_enabled()
    assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_set_detect_anomaly_switches_at_once_and_restores_as_a_context(lib):
    enabled = torch.is_anomaly_enabled if lib is torch else anomaly.is_anomaly_enabled
    lib.autograd.set_detect_anomaly(True)
    try:
        assert enabled()
        with lib.autograd.set_detect_anomaly(False):
            assert not enabled()
        assert enabled()
    finally:
        lib.autograd.set_detect_anomaly(False)
    assert not enabled()


def test_detect_anomaly_decorates_functions_and_warns_like_torch():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        decorator = chainrule.autograd.detect_anomaly()

    @decorator
    def depth(n: int) -> tuple:
        inner = depth(n - 1) if n else ()
        return (anomaly.is_anomaly_enabled(), *inner)

    assert depth(2) == (True, True, True)  # re-entered by recursion, restored each time
    assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()

    @decorator
    def backward_of_log_zero():
        x = chainrule.tensor([0.0], requires_grad=True)
        (chainrule.log(x) * 0).backward()

    with pytest.raises(RuntimeError, match="LogBackward0"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backward_of_log_zero()
    assert not anomaly.is_anomaly_enabled() and plain_classes_in_place()


class Observer:
    """Another debugging observer (as viz.explain keeps): records what backward passed down."""

    def __init__(self, inner=None) -> None:
        self.inner = inner
        self.calls: list = []

    def after_backward(self, node, g, input_grads) -> None:
        self.calls.append((node.name(), [None if a is None else np.array(a) for a in input_grads]))
        if self.inner is not None:
            self.inner.after_backward(node, g, input_grads)


def test_anomaly_mode_chains_to_an_observer_that_was_there_first():
    x = chainrule.tensor([0.0], requires_grad=True)
    y = chainrule.log(x) * 0
    log_node = y.grad_fn.next_functions[0][0]
    watcher = Observer()
    log_node.meta = watcher
    with detect(chainrule), pytest.raises(RuntimeError, match="LogBackward0"):
        y.backward()
    assert [name for name, _ in watcher.calls] == ["LogBackward0"]
    assert np.isnan(watcher.calls[0][1][0]).all()


def test_an_observer_added_later_keeps_the_anomaly_trace_as_its_inner():
    x = chainrule.tensor([0.0], requires_grad=True)
    with detect(chainrule):
        line = next_line()
        y = chainrule.log(x) * 0
        log_node = y.grad_fn.next_functions[0][0]
        log_node.meta = Observer(inner=log_node.meta)  # chains, as the protocol asks
        assert anomaly.trace_of(log_node).where() == f"{__file__}:{line}: y = chainrule.log(x) * 0"
        with pytest.raises(RuntimeError, match=f"{line}: y = chainrule.log"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y.backward()
    assert [name for name, _ in log_node.meta.calls] == ["LogBackward0"]


def test_a_two_output_functions_nan_is_reported_once_for_the_function():
    messages = []
    for lib in LIBS:

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, a, b):
                (x,) = ctx.saved_tensors
                return (a + b) / x  # 0 / 0 at x = 0

        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with detect(lib):
            line = next_line()
            p, q = Two.apply(x)
            with pytest.raises(RuntimeError) as info, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                (p * q).sum().backward()
        messages.append(str(info.value))
    ours, theirs = messages
    assert (
        first_line(ours)
        == first_line(theirs)
        == ("Function 'TwoBackward' returned nan values in its 0th output.")
    )
    assert f"{__file__}:{line}: p, q = Two.apply(x)" in ours
    assert "upstream gradient was finite" in ours
