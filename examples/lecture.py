"""The lecture's PyTorch code (sections 2 to 4 of /work/shared/seed/README.md), run on chainrule.

The code below is the lecture's, unchanged: it says ``torch`` and means chainrule, through
``import chainrule as torch``. Each section then checks what autograd computed against the
derivative worked out by hand, and the script exits with status 1 if any check fails.

    python examples/lecture.py            # on chainrule
    python examples/lecture.py --torch    # the same code on real PyTorch, for comparison

The data are simulated with NumPy, so that both libraries see exactly the same X and y.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import chainrule as torch  # the lecture's code, on chainrule

FAILURES: list[str] = []


def use(library) -> None:
    """Run the lecture code on ``library`` (chainrule, or real torch for comparison)."""
    global torch
    torch = library


def check(what: str, ok: bool, detail: str = "") -> None:
    print(f"  [{'ok' if ok else 'FAILED'}] {what}" + (f"  ({detail})" if detail else ""))
    if not ok:
        FAILURES.append(what)


def heading(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


# ---- section 2: automatic differentiation --------------------------------------------------------
def section2() -> None:
    heading("Section 2: f = x + log(x) + sin(x y), by autograd and by hand")
    x = torch.tensor([1.0], requires_grad=True)
    y = torch.tensor([2.0], requires_grad=True)
    f = x + torch.log(x) + torch.sin(x * y)
    f.backward()  # reverse pass
    with torch.no_grad():  # plain numbers, no graph
        dfdx = 1.0 + 1.0 / x + y * torch.cos(x * y)
        dfdy = x * torch.cos(x * y)
    print(f"  f       = {f.item():.7f}")
    print(f"  x.grad  = {x.grad.item():.7f}   by hand 1 + 1/x + y cos(xy) = {dfdx.item():.7f}")
    print(f"  y.grad  = {y.grad.item():.7f}   by hand x cos(xy)           = {dfdy.item():.7f}")
    check("df/dx = 1 + 1/x + y cos(xy)", abs(x.grad.item() - dfdx.item()) < 1e-6)
    check("df/dy = x cos(xy)", abs(y.grad.item() - dfdy.item()) < 1e-6)
    check(
        "the formulas, computed under no_grad, have no graph", not dfdx.requires_grad and dfdx.grad_fn is None
    )


# ---- section 3: a linear model fitted by gradient descent ----------------------------------------
def simulate(n: int = 200, p: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y = X beta + eps, with NumPy and a fixed seed: X (n, p), y (n,), beta (p,), float32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = rng.uniform(-3, 3, size=p)
    eps = 0.5 * rng.standard_normal(n)
    Y = X @ beta + eps
    return X.astype(np.float32), Y.astype(np.float32), beta


def loss_fn(bhat, x, y):
    yhat = torch.matmul(x, bhat)
    return torch.mean(torch.square(y - yhat))


def fit(x, y, p: int, nepoch: int = 500, learning_rate: float = 0.01, verbose: bool = True):
    """The lecture's training loop, verbatim; returns bhat and the losses."""
    bhat = torch.zeros(p, requires_grad=True)
    losses = []
    for i in range(nepoch):
        loss = loss_fn(bhat, x, y)
        loss.backward()  # fills bhat.grad
        losses.append(loss.item())  # a number, not a tensor, for the plot
        if i % 50 == 0 and verbose:
            print(f"  iteration {i}, loss = {loss.item()}")
        with torch.no_grad():
            bhat -= learning_rate * bhat.grad
        bhat.grad = None  # clear the gradient
    return bhat, losses


def section3(X: np.ndarray, Y: np.ndarray, beta: np.ndarray):
    n, p = X.shape
    heading(f"Section 3: Y = X beta + eps (n = {n}, p = {p}), fitted by gradient descent")
    x, y = torch.tensor(X), torch.tensor(Y)
    bhat, losses = fit(x, y, p)
    print(f"  final loss = {losses[-1]:.7f}")

    # bhat's gradient now, by autograd and by hand: d/db mean((y - X b)^2) = -2/n X^T (y - X b)
    loss_fn(bhat, x, y).backward()
    with torch.no_grad():
        by_hand = -2.0 / n * torch.matmul(x.T, y - torch.matmul(x, bhat))
    autograd_grad, hand = bhat.grad.detach().numpy(), by_hand.numpy()
    print(f"  bhat.grad            = {np.array2string(autograd_grad, precision=6)}")
    print(f"  -2/n X^T (y - X bhat) = {np.array2string(hand, precision=6)}")
    check(
        "bhat.grad equals the hand-derived MSE gradient",
        np.allclose(autograd_grad, hand, rtol=1e-4, atol=1e-6),
        f"max difference {np.abs(autograd_grad - hand).max():.2e}",
    )

    least_squares = np.linalg.lstsq(X.astype(np.float64), Y.astype(np.float64), rcond=None)[0]
    fitted = bhat.detach().numpy()
    print(f"  bhat          = {np.array2string(fitted, precision=5)}")
    print(f"  least squares = {np.array2string(least_squares, precision=5)}")
    print(f"  true beta     = {np.array2string(beta, precision=5)}")
    check(
        "bhat is close to the least-squares solution",
        np.allclose(fitted, least_squares, atol=1e-3),
        f"max difference {np.abs(fitted - least_squares).max():.2e}",
    )
    check(
        "the loss went down every epoch (to float32 rounding)",
        all(b <= a + 1e-6 for a, b in zip(losses, losses[1:])),
    )
    return bhat, losses


# ---- section 4: modular programming --------------------------------------------------------------
def section4(X: np.ndarray, Y: np.ndarray, bhat_section3, losses_section3) -> None:
    heading("Section 4: the same model as an nn.Module, trained by optim.SGD")
    if not (hasattr(torch, "nn") and hasattr(torch, "optim")):
        print(f"  skipped: {torch.__name__} has no nn / optim yet")
        return
    nn = torch.nn
    n, p = X.shape
    x, y = torch.tensor(X), torch.tensor(Y)

    class MyModel(nn.Module):
        def __init__(self, beta_dim):
            super(MyModel, self).__init__()  # noqa: UP008  (as the lecture writes it)
            self.bhat = nn.Parameter(torch.zeros(beta_dim))

        def forward(self, x):
            return torch.matmul(x, self.bhat)  # predictions

    nepoch, learning_rate, losses = 500, 0.01, []
    model = MyModel(beta_dim=p)
    print(f"  {list(model.parameters())}")
    opt = torch.optim.SGD(model.parameters(), lr=learning_rate)
    for i in range(nepoch):
        yhat = model(x)  # calls forward
        loss = torch.mean(torch.square(y - yhat))
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()  # bhat -= lr * bhat.grad
        if i % 50 == 0:
            print(f"  iteration {i}, loss = {loss.item()}")
    fitted = model.bhat.detach().numpy()
    check(
        "nn.Module + SGD gives section 3's bhat",
        np.allclose(fitted, bhat_section3.detach().numpy(), atol=1e-6),
    )
    check("and the same losses", np.allclose(losses, losses_section3, rtol=1e-6, atol=1e-7))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="run on real PyTorch instead")
    args = parser.parse_args(argv)
    if args.torch:
        import torch as real_torch

        use(real_torch)
    print(f"Running the lecture's code with `torch` = {torch.__name__}")
    section2()
    X, Y, beta = simulate()
    bhat, losses = section3(X, Y, beta)
    section4(X, Y, bhat, losses)
    print()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) FAILED: {', '.join(FAILURES)}")
        return 1
    print("All checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
