"""The lecture's exercise: for a positive-definite X, what is d log det(X) / dX?

Answer: X^{-1}, and X^{-T} for a general invertible X (the two agree when X is symmetric). This
script asks autograd and compares, first for an SPD matrix, then for a general one with positive
determinant, then for a batch. It also checks the second derivative: the gradient X^{-T}, pulled
back along V, is -X^{-T} V^T X^{-T}.

    python examples/logdet.py            # on chainrule
    python examples/logdet.py --torch    # the same code on real PyTorch, for comparison
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import chainrule as torch

FAILURES: list[str] = []


def check(what: str, error: float, tol: float = 1e-10) -> None:
    ok = error <= tol
    print(f"  [{'ok' if ok else 'FAILED'}] {what}: max |difference| = {error:.2e}")
    if not ok:
        FAILURES.append(what)


def gradient_of_logdet(X: np.ndarray):
    """Autograd's d log det(X) / dX, and the log-determinant itself."""
    x = torch.tensor(X, requires_grad=True)
    f = torch.logdet(x).sum()  # sum: one scalar for a batch of matrices too
    f.backward()
    return x.grad.numpy(), f.item()


def main(argv: list[str] | None = None) -> int:
    global torch
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="run on real PyTorch instead")
    parser.add_argument("--n", type=int, default=5, help="matrix size")
    args = parser.parse_args(argv)
    if args.torch:
        import torch as real_torch

        torch = real_torch
    print(f"d log det(X) / dX with `torch` = {torch.__name__}")
    rng = np.random.default_rng(0)
    n = args.n

    print("\n1. X symmetric positive definite: the answer is X^{-1}")
    A = rng.standard_normal((n, n))
    X = A @ A.T + n * np.eye(n)
    grad, value = gradient_of_logdet(X)
    print(f"  log det X = {value:.6f}   (NumPy: {np.linalg.slogdet(X)[1]:.6f})")
    check("autograd vs X^{-1}", np.abs(grad - np.linalg.inv(X)).max())

    print("\n2. X general, det X > 0: the answer is X^{-T}")
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    if np.linalg.det(X) < 0:
        X[0] *= -1
    grad, _ = gradient_of_logdet(X)
    check("autograd vs X^{-T}", np.abs(grad - np.linalg.inv(X).T).max())
    print(f"  (and it is not X^{{-1}}: max |grad - X^{{-1}}| = {np.abs(grad - np.linalg.inv(X)).max():.2e})")

    print("\n3. a batch of 4 SPD matrices at once")
    A = rng.standard_normal((4, n, n))
    Xs = A @ A.transpose(0, 2, 1) + n * np.eye(n)
    grad, _ = gradient_of_logdet(Xs)
    check("autograd vs X^{-1}, each matrix", np.abs(grad - np.linalg.inv(Xs)).max())

    print("\n4. the second derivative: <V, d(X^{-T})> = <-X^{-T} V^T X^{-T}, dX>")
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    V = rng.standard_normal((n, n))
    x = torch.tensor(X, requires_grad=True)
    (g,) = torch.autograd.grad(torch.logdet(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=torch.tensor(V))  # sum_ij V_ij d g_ij / dX
    Xinv_T = np.linalg.inv(X).T
    # dg = -X^{-T} dX^T X^{-T}, so <V, dg> = -tr(V^T X^{-T} dX^T X^{-T}) = <-X^{-T} V^T X^{-T}, dX>
    expected = -Xinv_T @ V.T @ Xinv_T
    check("autograd's Hessian-vector product vs -X^{-T} V^T X^{-T}", np.abs(hv.numpy() - expected).max())

    print()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) FAILED: {', '.join(FAILURES)}")
        return 1
    print("All checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
