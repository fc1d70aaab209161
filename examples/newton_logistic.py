"""Logistic regression fitted by Newton's method, with the Hessian from autodiff.

Newton's step for a smooth loss L(beta) is beta <- beta - H^{-1} g, with g the gradient and H the
Hessian. ``torch.func.grad`` and ``torch.func.hessian`` give both from the loss alone; for logistic
regression the hand-derived answers are known, so the script checks them at every step:

    L(beta) = mean(softplus(X beta) - y * X beta)
    g = X^T (p - y) / n,   H = X^T diag(p (1 - p)) X / n,   p = sigmoid(X beta)

Newton converges quadratically: the gradient's norm roughly squares at each step.

    python examples/newton_logistic.py            # on chainrule
    python examples/newton_logistic.py --torch    # the same code on real PyTorch, for comparison
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import chainrule as torch  # noqa: F401  (main uses it, or real torch with --torch)


def simulate(n: int = 500, p: int = 4, seed: int = 0):
    """Features with an intercept column and labels drawn from a known logistic model."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    beta = rng.uniform(-1.5, 1.5, size=p)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ beta))).astype(np.float64)
    return X, y, beta


def main(argv: list[str] | None = None) -> int:
    global torch
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="run on real PyTorch instead")
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args(argv)
    if args.torch:
        import torch as real_torch

        torch = real_torch
    print(f"Newton's method for logistic regression with `torch` = {torch.__name__}")
    X_np, y_np, beta_true = simulate()
    X, y = torch.tensor(X_np), torch.tensor(y_np)
    n = X_np.shape[0]

    def loss(beta):
        z = X @ beta
        return torch.mean(torch.nn.functional.softplus(z) - y * z)

    grad_fn, hessian_fn = torch.func.grad(loss), torch.func.hessian(loss)
    beta = torch.zeros(X_np.shape[1], dtype=torch.float64)
    worst = 0.0
    grad_norm = np.inf
    for step in range(args.steps):
        g, H = grad_fn(beta), hessian_fn(beta)
        # the hand-derived gradient and Hessian, in NumPy
        p = 1.0 / (1.0 + np.exp(-X_np @ beta.numpy()))
        g_hand = X_np.T @ (p - y_np) / n
        H_hand = X_np.T @ (X_np * (p * (1 - p))[:, None]) / n
        error = max(np.abs(g.numpy() - g_hand).max(), np.abs(H.numpy() - H_hand).max())
        worst = max(worst, error)
        grad_norm = float(np.linalg.norm(g.numpy()))
        print(
            f"  step {step}: loss = {loss(beta).item():.12f}   |g| = {grad_norm:.3e}   "
            f"autodiff vs hand: {error:.1e}"
        )
        beta = beta - torch.linalg.solve(H, g)
    print(f"  fitted beta = {np.array2string(beta.numpy(), precision=4)}")
    print(f"  true beta   = {np.array2string(beta_true, precision=4)}")
    ok_match = worst < 1e-12
    ok_converged = grad_norm < 1e-10
    print(
        f"  [{'ok' if ok_match else 'FAILED'}] gradient and Hessian equal the hand-derived ones "
        f"(max |difference| {worst:.1e})"
    )
    print(f"  [{'ok' if ok_converged else 'FAILED'}] converged: |g| = {grad_norm:.1e} < 1e-10")
    if ok_match and ok_converged:
        print("All checks passed.")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
