"""The matrix-calculus examples (issue: linalg and function transforms) run as scripts, pass their
own checks against hand-derived answers, and print the same numbers as real PyTorch running the same
code."""

from __future__ import annotations

import re

import pytest
from oracle import run_example


@pytest.mark.parametrize("name", ["logdet.py", "newton_logistic.py", "per_sample_grads.py"])
def test_the_example_passes_its_checks(name):
    run = run_example(name)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All checks passed." in run.stdout
    assert "FAILED" not in run.stdout
    assert "`torch` = chainrule" in run.stdout


def test_newton_fits_the_same_coefficients_as_torch():
    ours, theirs = run_example("newton_logistic.py"), run_example("newton_logistic.py", "--torch")
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr

    def numbers(stdout: str) -> list[str]:  # losses per step and the fitted coefficients, as printed
        losses = re.findall(r"loss = ([0-9.]+)", stdout)
        fitted = re.search(r"fitted beta = (.*)", stdout).group(1)
        return losses + [fitted]

    assert numbers(ours.stdout) == numbers(theirs.stdout)
