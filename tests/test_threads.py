"""Threads.

Grad mode and inference mode belong to each thread, as torch's do: two threads training their own
models and a third running ``no_grad`` inference, all at once, get exactly the numbers they get
one after another; ``no_grad`` / ``enable_grad`` / ``inference_mode`` blocks that overlap in two
threads leave each other alone; a new thread starts with torch's modes. Anomaly mode is
process-wide in torch 2.13, and in chainrule. Each program runs with chainrule and with torch and
must observe the same; threading.Barrier and Event force the overlaps (no sleeps).

At import, chainrule runs the OpenBLAS bundled with SciPy with one thread (see _threads.py), so
that SciPy's and NumPy's BLAS thread pools do not fight for the cores; the user's settings win.
Each such case runs in a fresh interpreter, since the setting is process-wide.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import threading
from collections.abc import Callable

import numpy as np
import pytest
import scipy
import torch

import chainrule

LIBS = glob.glob(os.path.join(os.path.dirname(scipy.__file__) + ".libs", "libscipy_openblas*.so*"))
needs_scipy_openblas = pytest.mark.skipif(not LIBS, reason="this SciPy does not bundle its own OpenBLAS")

PROBE = (
    f"""
import ctypes
import chainrule
print(ctypes.CDLL({LIBS[0]!r}).scipy_openblas_get_num_threads())
"""
    if LIBS
    else ""
)


def scipy_blas_threads(**env: str) -> int:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_NUM_THREADS", "CHAINRULE_SCIPY_BLAS_THREADS")
    }
    environ.update(env)
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=environ, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return int(run.stdout.split()[-1])


@needs_scipy_openblas
def test_scipy_blas_runs_one_thread_after_import() -> None:
    assert scipy_blas_threads() == 1


@needs_scipy_openblas
def test_the_users_settings_win() -> None:
    if (os.cpu_count() or 1) > 1:  # 'keep': OpenBLAS's own choice, one thread per core
        assert scipy_blas_threads(CHAINRULE_SCIPY_BLAS_THREADS="keep") > 1
    assert scipy_blas_threads(CHAINRULE_SCIPY_BLAS_THREADS="2") == 2
    assert scipy_blas_threads(OPENBLAS_NUM_THREADS="2") == 2


def test_set_num_threads_sizes_numpys_pool_which_runs_the_routed_routines() -> None:
    """One pool does the multi-threaded work: set_num_threads sizes NumPy's OpenBLAS pool, which
    also runs logdet's LU and the optimizers' large axpy (through ctypes), as torch's setting does."""
    from chainrule._threads import numpy_blas

    blas = numpy_blas()
    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(1)
        assert chainrule.get_num_threads() == 1
        if blas is not None:
            assert blas.get_num_threads() == 1
            rng = np.random.default_rng(0)
            a = rng.standard_normal((80, 80)) + 8 * np.eye(80)
            lu, piv, info = blas.getrf(a)
            inv, info2 = blas.getri(lu, piv)
            assert info == info2 == 0 and piv.min() >= 0
            np.testing.assert_allclose(inv, np.linalg.inv(a), rtol=1e-10, atol=1e-12)
            y, x = np.ones(50000, np.float32), np.full(50000, 2.0, np.float32)
            blas.axpy(-0.25, x, y)
            np.testing.assert_array_equal(y, 0.5)
        chainrule.set_num_threads(2)
        assert chainrule.get_num_threads() == 2
    finally:
        chainrule.set_num_threads(before)
    with pytest.raises(RuntimeError, match="must be positive"):
        chainrule.set_num_threads(0)


# ---- grad mode, inference mode and anomaly mode per thread -----------------------------------
WAIT = 60  # seconds: a thread that waits longer than this is stuck (the test fails, never hangs)


def state(lib) -> tuple:
    """This thread's modes: grad mode, whether an op records, inference mode, and whether a tensor
    made now is an inference tensor."""
    x = lib.ones(2, requires_grad=True)
    return (
        lib.is_grad_enabled(),
        (x * 2).requires_grad,
        lib.is_inference_mode_enabled(),
        lib.ones(1).is_inference(),
    )


def in_threads(*jobs: Callable) -> list:
    """Run each ``job(sync)`` in its own thread, all at once; ``sync()`` waits for every job to
    reach its next ``sync()``. Returns the jobs' results; re-raises the first error."""
    barrier = threading.Barrier(len(jobs), timeout=WAIT)
    results: list = [None] * len(jobs)
    errors: list = []

    def run(i: int, job: Callable) -> None:
        try:
            results[i] = job(barrier.wait)
        except BaseException as e:  # let the others stop waiting, then report it from the test
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 4)
    first = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] or errors
    if first:
        raise first[0]
    return results


def one_after_another(*jobs: Callable) -> list:
    return [job(lambda: None) for job in jobs]


def started_thread(target: Callable) -> threading.Thread:
    t = threading.Thread(target=target)
    t.start()
    return t


def observe(program: Callable) -> list:
    """``program(lib)`` with both libraries: chainrule must observe what torch does."""
    ours, theirs = program(chainrule), program(torch)
    assert ours == theirs, f"chainrule observed {ours}, torch {theirs}"
    return ours


def test_no_grad_in_one_thread_leaves_recording_on_in_another():
    def program(lib):
        inside, done = threading.Event(), threading.Event()
        seen = {}

        def worker():
            with lib.no_grad():
                seen["worker"] = state(lib)
                inside.set()
                done.wait(WAIT)
            seen["worker after"] = state(lib)

        t = started_thread(worker)
        assert inside.wait(WAIT)
        seen["main"] = state(lib)  # while the worker is inside no_grad
        done.set()
        t.join(WAIT)
        seen["main after"] = state(lib)
        return sorted(seen.items())

    seen = dict(observe(program))
    assert seen["main"] == (True, True, False, False)
    assert seen["worker"] == (False, False, False, False)


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on():
    # A enters, B enters, A leaves, B leaves: with one process-wide flag B's exit restored the
    # "off" it saw on entry, and recording stayed off for good
    def program(lib):
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        seen = {}

        def a():
            with lib.no_grad():
                a_in.set()
                assert b_in.wait(WAIT)
            seen["a after"] = state(lib)
            a_out.set()

        def b():
            assert a_in.wait(WAIT)
            with lib.no_grad():
                b_in.set()
                assert a_out.wait(WAIT)
                seen["b inside, a done"] = state(lib)
            seen["b after"] = state(lib)

        for t in [started_thread(a), started_thread(b)]:
            t.join(WAIT)
        seen["main after"] = state(lib)
        started_thread(lambda: seen.setdefault("new thread", state(lib))).join(WAIT)
        return sorted(seen.items())

    seen = dict(observe(program))
    assert seen["main after"] == seen["new thread"] == (True, True, False, False)


class Turns:
    """A schedule of steps across threads: ``take(k)`` waits until step k is due."""

    def __init__(self) -> None:
        self.due = 0
        self.cond = threading.Condition()

    def take(self, k: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.due == k, WAIT), f"step {k} never came"

    def done(self) -> None:
        with self.cond:
            self.due += 1
            self.cond.notify_all()


def test_interleaved_modes_in_two_threads():
    """no_grad, enable_grad, set_grad_enabled, inference_mode and inference_mode(False) blocks,
    opened and closed in two threads in an interleaved order: each thread sees only its own."""

    def program(lib):
        schedule = [
            ("a", "enter", lambda: lib.no_grad()),
            ("b", "enter", lambda: lib.inference_mode()),
            ("a", "look", None),
            ("b", "look", None),
            ("a", "enter", lambda: lib.inference_mode()),
            ("b", "enter", lambda: lib.enable_grad()),
            ("a", "look", None),
            ("b", "look", None),
            ("b", "enter", lambda: lib.inference_mode(False)),
            ("a", "enter", lambda: lib.enable_grad()),
            ("a", "look", None),
            ("b", "look", None),
            ("a", "exit", None),
            ("b", "look", None),
            ("a", "exit", None),
            ("a", "look", None),
            ("b", "enter", lambda: lib.set_grad_enabled(False)),
            ("a", "look", None),
            ("b", "look", None),
            ("b", "exit", None),
            ("b", "exit", None),
            ("b", "look", None),
            ("a", "exit", None),
            ("b", "exit", None),
            ("a", "look", None),
            ("b", "look", None),
            ("b", "exit", None),
            ("b", "look", None),
        ]
        turns, seen = Turns(), []

        def player(name):
            stack = []
            for k, (who, what, make) in enumerate(schedule):
                if who != name:
                    continue
                turns.take(k)
                if what == "enter":
                    stack.append(make())
                    stack[-1].__enter__()
                elif what == "exit":
                    stack.pop().__exit__(None, None, None)
                else:
                    seen.append((k, name, state(lib)))
                turns.done()

        for t in [started_thread(lambda: player("a")), started_thread(lambda: player("b"))]:
            t.join(WAIT)
        return seen

    seen = observe(program)
    assert len(seen) == 14
    # a: no_grad, then inference_mode: grad mode off; b: inference_mode, then enable_grad: grad
    # mode on, yet nothing recorded
    assert seen[2:4] == [(6, "a", (False, False, True, True)), (7, "b", (True, False, True, True))]
    assert seen[-3:] == [
        (24, "a", (True, True, False, False)),
        (25, "b", (False, False, True, True)),
        (27, "b", (True, True, False, False)),
    ]


def test_a_new_thread_starts_with_torchs_modes():
    """Grad mode on and inference mode off, whatever the starting thread is in; anomaly mode is
    process-wide in torch, so a new thread sees it."""

    def program(lib):
        seen = []

        def probe():
            seen.append(state(lib) + (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))

        starts = [
            lambda: lib.no_grad(),
            lambda: lib.inference_mode(),
            lambda: lib.enable_grad(),
            lambda: lib.set_grad_enabled(False),
            lambda: lib.autograd.set_detect_anomaly(True, check_nan=False),
        ]
        for make in starts:
            with make():
                started_thread(probe).join(WAIT)
        return seen

    seen = observe(program)
    assert seen[0] == (True, True, False, False, False, True)


@pytest.mark.filterwarnings("ignore:Error detected in LogBackward0", "ignore::RuntimeWarning")
def test_anomaly_mode_switched_on_in_one_thread_is_on_in_all_as_in_torch():
    def program(lib):
        on, done = threading.Event(), threading.Event()
        seen = []

        def worker():
            with lib.autograd.set_detect_anomaly(True):
                on.set()
                done.wait(WAIT)

        t = started_thread(worker)
        assert on.wait(WAIT)
        seen.append(lib.is_anomaly_enabled())
        x = lib.tensor([0.0], dtype=lib.float64, requires_grad=True)
        try:  # log(0) * 0 = nan: the worker's anomaly mode checks this thread's backward too
            (lib.log(x) * 0).sum().backward()
            seen.append("no error")
        except RuntimeError as e:
            seen.append(str(e).split(" ")[0])
        done.set()
        t.join(WAIT)
        seen.append(lib.is_anomaly_enabled())
        return seen

    assert observe(program) == [True, "Function", False]


def test_a_tensor_made_while_another_thread_is_in_inference_mode_is_normal():
    def program(lib):
        inside, done = threading.Event(), threading.Event()
        seen = {}

        def worker():
            with lib.inference_mode():
                seen["worker"] = lib.ones(2).is_inference()
                inside.set()
                done.wait(WAIT)

        t = started_thread(worker)
        assert inside.wait(WAIT)
        w = lib.ones(2, requires_grad=True)
        x = lib.ones(2) * 3
        seen["main"] = (x.is_inference(), (w * x).requires_grad, lib.tensor([1.0]).is_inference())
        x.add_(1)  # a normal tensor: no error
        done.set()
        t.join(WAIT)
        return sorted(seen.items())

    assert dict(observe(program)) == {"worker": True, "main": (False, True, False)}


# ---- two threads train, a third infers, all at once -------------------------------------------
STEPS = 24


def mlp(lib, seed: int):
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    x = lib.tensor(rng.standard_normal((16, 4)))
    t = lib.tensor(rng.standard_normal((16, 1)))
    return model, x, t


def train(lib, seed: int, sync: Callable) -> tuple:
    """SGD steps on one MLP. In each step the other threads are, deterministically: inside
    ``no_grad`` while this one computes its loss (sync 1 to 2), and free while this one is inside
    backward (sync 3 to 4, in a gradient hook)."""
    model, x, t = mlp(lib, seed)
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(STEPS):
        h = model[1](model[0](x))
        sync()  # 1
        loss = ((model[2](h) - t) ** 2).mean()
        sync()  # 2
        h.register_hook(lambda g: (sync(), sync(), None)[-1])  # 3, 4: inside backward
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def infer(lib, seed: int, sync: Callable) -> tuple:
    """``no_grad`` inference in a loop, with a probe of recording while the trainers are inside
    their backward (sync 3 to 4)."""
    model, x, _ = mlp(lib, seed)
    w = lib.ones(2, dtype=lib.float64, requires_grad=True)
    outputs, probes = [], []
    for _ in range(STEPS):
        with lib.no_grad():
            y = model[0](x)
            sync()  # 1
            sync()  # 2: the trainers computed their losses meanwhile, and recorded them
            y = model[2](model[1](y))
            probes.append(y.requires_grad)
        sync()  # 3: both trainers are inside backward now
        probes.append((w * 2).requires_grad)  # recording is still on in this thread
        sync()  # 4
        outputs.append(y.numpy().copy())
    return outputs, probes


def assert_same(a, b, exact: bool) -> None:
    """Nested lists / tuples of floats, flags and arrays: equal (exactly, or to rounding)."""
    if isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y, exact)
    elif exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_two_threads_train_while_a_third_infers_as_one_after_another():
    results = {}
    for lib in (chainrule, torch):
        jobs = [
            lambda sync, lib=lib: train(lib, 1, sync),
            lambda sync, lib=lib: train(lib, 2, sync),
            lambda sync, lib=lib: infer(lib, 3, sync),
        ]
        results[lib] = in_threads(*jobs)
        assert_same(results[lib], one_after_another(*jobs), exact=True)  # no thread disturbs another
    assert results[chainrule][2][1] == [False, True] * STEPS
    assert_same(results[chainrule], results[torch], exact=False)


def test_check_graph_in_one_thread_watches_only_its_own_ops():
    """check_graph's recorder belongs to its thread: another thread's ops (and custom Functions),
    run while it records and replays, are neither counted nor pinned, and get no debugging meta."""
    from chainrule.autograd import check_graph

    x = chainrule.tensor([0.5, 1.5], dtype=chainrule.float64, requires_grad=True)
    runs = []

    def fn(x, sync=lambda: None):
        runs.append(None)
        sync()  # 1: from here to 2, the other thread computes while check_graph watches this one
        sync()  # 2
        return chainrule.exp(chainrule.sin(x) * x).sum()

    alone = check_graph(fn, x)
    n_runs, runs[:] = len(runs), []

    def other(lib, sync):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, v):
                return v * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        v = lib.tensor([0.3, -1.2, 2.5], dtype=lib.float64, requires_grad=True)
        metas = []
        for _ in range(n_runs):
            sync()  # 1
            y = Double.apply(lib.tanh(v * v) * lib.cos(v))
            metas += [getattr(y.grad_fn, "meta", None), getattr(y.grad_fn.next_functions[0][0], "meta", None)]
            y.sum().backward()
            sync()  # 2
        return v.grad.numpy(), metas

    report, (grad, metas) = in_threads(
        lambda sync: check_graph(lambda x: fn(x, sync), x), lambda sync: other(chainrule, sync)
    )
    assert report and [n.name for n in report.nodes] == [n.name for n in alone.nodes]
    assert len(runs) == n_runs and metas == [None] * 2 * n_runs
    np.testing.assert_allclose(grad, other(torch, lambda: None)[0], rtol=1e-12)


def test_a_thread_that_ends_with_grad_mode_off_leaves_the_others_on_the_fast_path():
    """Ops skip the thread-local read of grad mode while no thread has it off (GRAD_OFF counts
    them): a thread that switches it off for good and ends must leave the count."""
    import gc

    from chainrule.autograd.grad_mode import GRAD_OFF

    before = GRAD_OFF.count
    done = threading.Event()

    def worker():
        chainrule.set_grad_enabled(False)
        assert GRAD_OFF.count == before + 1 and not (chainrule.ones(1, requires_grad=True) * 2).requires_grad
        done.set()

    started_thread(worker).join(WAIT)
    assert done.is_set()
    gc.collect()
    assert GRAD_OFF.count == before == 0
    assert (chainrule.ones(1, requires_grad=True) * 2).requires_grad
