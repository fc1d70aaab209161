"""examples/manual_backprop.py: the lecture's network backpropagated by hand (rules 0-2) agrees
with autograd at every training step, and the autograd training ends at the same weights as the
same training on real PyTorch."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import torch
from oracle import load_example, run_example

import chainrule


def run_script(*args: str):
    return run_example("manual_backprop.py", *args, timeout=120)


def load(library, name: str):
    """A fresh copy of the example module whose autograd side runs on ``library``."""
    return load_example("manual_backprop.py", library, name)


def printed(stdout: str, what: str) -> list[float]:
    return [float(v) for v in re.findall(what + r" = ([0-9.e+-]+)", stdout)]


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess]:
    return {"chainrule": run_script(), "torch": run_script("--torch")}


def test_the_script_checks_every_step_and_passes(runs):
    run = runs["chainrule"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "autograd = chainrule" in run.stdout
    assert "All 200 steps agree: hand-written and autograd gradients within 1e-06" in run.stdout
    assert "DISAGREE" not in run.stdout
    differences = printed(run.stdout, r"max \|hand - autograd\|")
    assert len(differences) == 11  # every 20th of 200 steps, and the last
    assert max(differences) < 1e-12  # float64: they agree to rounding


def test_with_torch_the_script_prints_the_same_training(runs):
    ours, theirs = runs["chainrule"], runs["torch"]
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert "autograd = torch" in theirs.stdout
    np.testing.assert_allclose(printed(ours.stdout, "loss"), printed(theirs.stdout, "loss"), rtol=1e-10)


def test_final_weights_equal_those_of_the_same_training_on_real_torch():
    ours = load(chainrule, "manual_backprop_chainrule").train(verbose=False)
    theirs = load(torch, "manual_backprop_torch").train(verbose=False)
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(ours["autograd"][k], theirs["autograd"][k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours["hand"][k], ours["autograd"][k], rtol=1e-10, atol=1e-12)
        assert ours["autograd"][k].dtype == np.float64
    assert ours["losses"][-1] < 0.5 * ours["losses"][0]  # it did learn
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-10)


def test_the_hand_written_gradients_match_torch_autograd_at_the_start():
    module = load(torch, "manual_backprop_oracle")
    X, Y = module.simulate()
    w = module.initial_weights()
    loss, by_hand = module.hand_backward(w, X, Y)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in w.items()}
    z = torch.sigmoid(torch.tensor(X) @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    torch_loss = torch.nn.functional.mse_loss(z, torch.tensor(Y))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for k, p in params.items():
        assert by_hand[k].shape == p.shape  # rule 0
        np.testing.assert_allclose(by_hand[k], p.grad.numpy(), rtol=1e-10, atol=1e-14)


def forgets_rule_1(w, X, Y):
    """The hand-written backward with rule 1's sigmoid'(Z1) factor left out."""
    n, p = Y.shape
    A1 = 1.0 / (1.0 + np.exp(-(X @ w["W1"] + w["b1"])))
    Z2 = A1 @ w["W2"] + w["b2"]
    dZ2 = -2.0 * (Y - Z2) / (n * p)
    dZ1 = dZ2 @ w["W2"].T  # should be times A1 (1 - A1)
    grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(0), "W2": A1.T @ dZ2, "b2": dZ2.sum(0)}
    return np.mean((Y - Z2) ** 2), grads


def test_a_wrong_hand_written_rule_fails_the_check_and_the_exit_status(capsys):
    module = load(chainrule, "manual_backprop_wrong")
    result = module.train(steps=3, verbose=False, hand=forgets_rule_1)
    assert all(d > 1e-3 for d in result["differences"])
    ok, message = module.verdict(result["differences"])
    assert not ok and message.startswith("3 of 3 steps DISAGREE (first: step 0")
    assert module.main([], hand=forgets_rule_1) == 1
    assert "[DISAGREE]" in capsys.readouterr().out
