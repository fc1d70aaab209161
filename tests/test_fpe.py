"""IEEE special values: chainrule is as silent as torch, and leaves NumPy's error state alone.

torch computes log(0), 0/0, exp(1000), sqrt(-1) and float16 overflow without a warning. chainrule's
ops, backward passes and optimizer steps must be as silent (no NumPy RuntimeWarning, which
``-W error`` turns into an exception), in any thread, while the user's own NumPy code keeps
NumPy's defaults (importing a library must not change them).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close

import chainrule


def _special_values(lib):
    """Forward, backward and an optimizer step that all meet inf or NaN."""
    x = lib.tensor([0.0, 1.0, -1.0, 1000.0], requires_grad=True)
    outs = [
        lib.log(x),
        x / 0,
        lib.exp(x),
        lib.sqrt(x),
        lib.linalg.vector_norm(x * 1e300, dtype=lib.float64),
        lib.nn.functional.softplus(x, beta=1000),
        lib.special.xlogy(x, x),
        lib.fft.fft(x * lib.tensor(float("inf"))).real,
        lib.tensor([60000.0], dtype=lib.float16) * 2,
    ]
    loss = sum((o * 0).sum() for o in outs if o.dtype == lib.float32)
    loss.backward()
    optimizer = lib.optim.Adam([x], lr=0.1)
    optimizer.step()
    return [o.detach() for o in outs] + [x.grad, x.detach()]


def _silently(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails
        return fn()


def test_ops_backward_and_step_are_silent_and_match_torch() -> None:
    ours = _silently(lambda: _special_values(chainrule))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _special_values(torch)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(a, b, 1e-6, 1e-6, f"result {k}")


def test_silent_in_another_thread() -> None:
    results, errors = [], []

    def run() -> None:
        try:
            results.append(_silently(lambda: _special_values(chainrule)))
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert not errors, errors
    assert len(results) == 1


def test_users_numpy_keeps_its_warnings_after_chainrule_ran() -> None:
    chainrule.log(chainrule.zeros(2))
    with pytest.raises(RuntimeError):  # an op that fails restores NumPy's state on the way out
        chainrule.add(chainrule.ones(3), chainrule.ones(2))
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.zeros(1))
    with pytest.warns(RuntimeWarning, match="overflow"):
        np.exp(np.array([1000.0]))


def test_import_leaves_numpy_error_state_alone() -> None:
    """In a fresh interpreter: NumPy's error settings are the same before and after import."""
    code = (
        "import numpy as np; before = np.geterr(); import chainrule; "
        "chainrule.log(chainrule.zeros(1)); assert np.geterr() == before, (before, np.geterr())"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_warnings_point_at_the_users_line() -> None:
    """The quiet wrappers add frames: a warning from an op must still name the caller's file."""
    x = chainrule.ones(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension") as caught:
        chainrule.nn.functional.softmax(x)
    with pytest.warns(UserWarning, match="deprecated") as caught_op:
        chainrule.cholesky(chainrule.eye(2))
    assert {w.filename for w in list(caught) + list(caught_op)} == {__file__}
