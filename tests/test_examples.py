"""examples/lecture.py: it runs (as a script, in a subprocess) and passes its own checks against
the hand-derived derivatives, and its training loop gives the same losses as real PyTorch running
the same code on the same data."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import torch
from oracle import load_example, run_example

import chainrule


def run_script(*args: str):
    return run_example("lecture.py", *args, timeout=120)


def load_lecture(library, name: str):
    """A fresh copy of the lecture module whose ``torch`` is ``library``."""
    return load_example("lecture.py", library, name)


def printed_losses(stdout: str) -> list[float]:
    return [float(v) for v in re.findall(r"iteration \d+, loss = ([0-9.e+-]+)", stdout)]


@pytest.fixture(scope="module")
def chainrule_run() -> subprocess.CompletedProcess:
    return run_script()


def test_the_script_runs_and_its_checks_pass(chainrule_run):
    out = chainrule_run.stdout
    assert chainrule_run.returncode == 0, out + chainrule_run.stderr
    assert "All checks passed." in out
    assert "FAILED" not in out
    assert "torch` = chainrule" in out
    for section in ("Section 2", "Section 3", "Section 4"):
        assert section in out
    assert out.count("[ok]") >= 6
    if not hasattr(chainrule, "nn"):
        assert "skipped: chainrule has no nn / optim yet" in out


def test_the_script_prints_the_same_training_log_as_with_real_torch(chainrule_run):
    with_torch = run_script("--torch")
    assert with_torch.returncode == 0, with_torch.stdout + with_torch.stderr
    ours, theirs = printed_losses(chainrule_run.stdout), printed_losses(with_torch.stdout)
    assert len(ours) == len(theirs) == 20  # sections 3 and 4 each print every 50th of 500 epochs
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_training_gives_the_same_losses_as_torch_on_the_same_data():
    ours = load_lecture(chainrule, "lecture_chainrule")
    theirs = load_lecture(torch, "lecture_torch")
    X, Y, _ = ours.simulate()
    bhat_ours, losses_ours = ours.fit(chainrule.tensor(X), chainrule.tensor(Y), X.shape[1], verbose=False)
    bhat_theirs, losses_theirs = theirs.fit(torch.tensor(X), torch.tensor(Y), X.shape[1], verbose=False)
    assert len(losses_ours) == len(losses_theirs) == 500
    assert abs(losses_ours[-1] - losses_theirs[-1]) < 1e-5
    np.testing.assert_allclose(losses_ours, losses_theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bhat_ours.detach().numpy(), bhat_theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert bhat_ours.dtype == chainrule.float32 and bhat_theirs.dtype == torch.float32


def test_section_2_gradients_match_torch_and_the_formulas():
    grads = {}
    for library in (chainrule, torch):
        x = library.tensor([1.0], requires_grad=True)
        y = library.tensor([2.0], requires_grad=True)
        f = x + library.log(x) + library.sin(x * y)
        f.backward()
        grads[library.__name__] = (x.grad.item(), y.grad.item())
    assert grads["chainrule"] == pytest.approx(grads["torch"], rel=1e-6)
    assert grads["chainrule"] == pytest.approx((1 + 1 + 2 * np.cos(2), np.cos(2)), rel=1e-6)
