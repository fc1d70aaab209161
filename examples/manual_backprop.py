"""The lecture's network, backpropagated by hand (rules 0-2), trained next to autograd.

Section 1 of /work/shared/seed/README.md, in batch form (n rows of data, m inputs, h hidden
sigmoid units, p outputs)::

    Z1 = X W1 + 1 b1^T,   A1 = sigmoid(Z1),   Yhat = Z2 = A1 W2 + 1 b2^T,
    l  = mean((Y - Yhat)^2)        the mean over all n x p entries, as torch.mean(torch.square(...))
                                   in the lecture's section 3; so dl/dYhat = -2 (Y - Yhat) / (n p)

The backward pass written by hand, each step "upstream derivative x local derivative"::

    dl/dZ2 = -2 (Y - Yhat) / (n p)
    dl/dW2 = A1^T dl/dZ2,   dl/db2 = (dl/dZ2)^T 1_n,   dl/dA1 = dl/dZ2 W2^T      rule 2
    dl/dZ1 = dl/dA1 * A1 (1 - A1)                                                rule 1
    dl/dW1 = X^T dl/dZ1,    dl/db1 = (dl/dZ1)^T 1_n                              rule 2

and every gradient has its parameter's shape (rule 0).

Two trainings run side by side from the same initial weights on the same data (simulated with
NumPy, float64): one updates its weights with the hand-written gradients, the other with
autograd's (``loss.backward()``). At every step the two gradients must agree to 1e-6; the script
prints the largest difference every 20 steps, a verdict at the end, and exits with status 1 if
any step disagrees.

The hand-written part is plain NumPy, not chainrule tensors under no_grad: then it shares no code
with autograd at all (no Tensor, no op, no graph), so their agreement is an independent check, and
the same hand-written code stands next to real PyTorch in the ``--torch`` run.

    python examples/manual_backprop.py            # autograd = chainrule
    python examples/manual_backprop.py --torch    # autograd = real PyTorch, for comparison
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import numpy as np

import chainrule as torch  # the autograd side is written as torch code; it runs on chainrule

TOLERANCE = 1e-6
NAMES = ("W1", "b1", "W2", "b2")


def use(library) -> None:
    """Run the autograd side on ``library`` (chainrule, or real torch for comparison)."""
    global torch
    torch = library


def simulate(n: int = 64, m: int = 3, p: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X (n, m) and Y = sin(X B) + noise (n, p), float64."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m))
    B = rng.standard_normal((m, p))
    Y = np.sin(X @ B) + 0.1 * rng.standard_normal((n, p))
    return X, Y


def initial_weights(m: int = 3, h: int = 5, p: int = 2, seed: int = 1) -> dict[str, np.ndarray]:
    """W1 (m, h), b1 (h,), W2 (h, p), b2 (p,), float64; the biases are vectors (b^T as rows)."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((m, h)),
        "b1": np.zeros(h),
        "W2": rng.standard_normal((h, p)) / np.sqrt(h),
        "b2": np.zeros(p),
    }


# ---- by hand -----------------------------------------------------------------------------------
def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def hand_backward(w: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray):
    """The loss and its gradients, forward and backward written out with NumPy."""
    n, p = Y.shape
    ones = np.ones(n)
    Z1 = X @ w["W1"] + np.outer(ones, w["b1"])  # X W1 + 1 b1^T
    A1 = sigmoid(Z1)
    Z2 = A1 @ w["W2"] + np.outer(ones, w["b2"])  # Yhat
    loss = np.mean((Y - Z2) ** 2)

    dZ2 = -2.0 * (Y - Z2) / (n * p)  # dl/dYhat
    dW2 = A1.T @ dZ2  # rule 2: A^T dl/dZ
    db2 = dZ2.T @ ones  # rule 2: (dl/dZ)^T 1_n
    dA1 = dZ2 @ w["W2"].T  # rule 2: dl/dZ W^T
    dZ1 = dA1 * A1 * (1.0 - A1)  # rule 1: times sigmoid'(Z1), element-wise
    dW1 = X.T @ dZ1
    db1 = dZ1.T @ ones
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# ---- by autograd ---------------------------------------------------------------------------------
def autograd_backward(params: dict, x, y):
    """The same network as torch code; ``loss.backward()`` fills each parameter's ``.grad``."""
    z1 = torch.matmul(x, params["W1"]) + params["b1"]  # broadcasting adds b1^T to every row
    a1 = torch.sigmoid(z1)
    yhat = torch.matmul(a1, params["W2"]) + params["b2"]
    loss = torch.mean(torch.square(y - yhat))
    loss.backward()
    return loss.item(), {k: v.grad.detach().numpy() for k, v in params.items()}


def train(
    steps: int = 200,
    learning_rate: float = 0.5,
    every: int = 20,
    verbose: bool = True,
    hand: Callable = hand_backward,
) -> dict:
    """Both trainings, side by side; returns the final weights of each, the losses and, per step,
    the largest |hand - autograd| over all gradient entries."""
    X, Y = simulate()
    w = initial_weights(X.shape[1], 5, Y.shape[1])
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in w.items()}
    x, y = torch.tensor(X), torch.tensor(Y)
    differences, losses = [], []
    for i in range(steps):
        loss, by_hand = hand(w, X, Y)
        autograd_loss, by_autograd = autograd_backward(params, x, y)
        assert all(by_hand[k].shape == w[k].shape for k in NAMES)  # rule 0
        difference = max(float(np.abs(by_hand[k] - by_autograd[k]).max()) for k in NAMES)
        differences.append(difference)
        losses.append(autograd_loss)
        if verbose and (i % every == 0 or i == steps - 1):
            print(
                f"  step {i:3d}: loss = {autograd_loss:.12f} (by hand {loss:.12f}), "
                f"max |hand - autograd| = {difference:.1e}  "
                f"[{'ok' if difference <= TOLERANCE else 'DISAGREE'}]"
            )
        for k in NAMES:  # gradient descent, on both copies of the weights
            w[k] = w[k] - learning_rate * by_hand[k]
        with torch.no_grad():
            for p in params.values():
                p -= learning_rate * p.grad
                p.grad = None
    return {
        "hand": w,
        "autograd": {k: v.detach().numpy() for k, v in params.items()},
        "losses": losses,
        "differences": differences,
    }


def verdict(differences: list[float]) -> tuple[bool, str]:
    bad = [i for i, d in enumerate(differences) if not d <= TOLERANCE]
    if bad:
        return False, (
            f"{len(bad)} of {len(differences)} steps DISAGREE (first: step {bad[0]}, "
            f"max |hand - autograd| = {differences[bad[0]]:.1e} > {TOLERANCE:g})"
        )
    return True, (
        f"All {len(differences)} steps agree: hand-written and autograd gradients within "
        f"{TOLERANCE:g} (largest difference {max(differences):.1e})."
    )


def main(argv: list[str] | None = None, hand: Callable = hand_backward) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="run autograd on real PyTorch instead")
    args = parser.parse_args(argv)
    if args.torch:
        import torch as real_torch

        use(real_torch)
    print(f"Backprop by hand (NumPy, rules 0-2) next to autograd = {torch.__name__}")
    print("  l = mean((Y - Yhat)^2) over all entries; 64 rows, 3 inputs, 5 sigmoid units, 2 outputs")
    result = train(hand=hand)
    print(f"  final loss = {result['losses'][-1]:.12f}")
    print(f"  final W2 (autograd) = {np.array2string(result['autograd']['W2'].ravel(), precision=10)}")
    ok, message = verdict(result["differences"])
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
