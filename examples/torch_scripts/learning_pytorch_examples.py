"""Fitting y = sin(x) with a third-order polynomial, four ways, in the style of the
"Learning PyTorch with Examples" tutorial.

    python learning_pytorch_examples.py --steps 500

1. raw tensors with autograd and a manual update under ``torch.no_grad()``;
2. a custom ``torch.autograd.Function`` (the Legendre polynomial P3) with ``ctx.save_for_backward``;
3. ``nn.Sequential`` of ``Linear`` and ``Flatten`` trained with ``optim.RMSprop``;
4. the ``DynamicNet`` whose forward pass reuses one ``Linear`` layer a random number of times.

Plain PyTorch: run it with `python -m chainrule.run learning_pytorch_examples.py` to use chainrule.
The starting coefficients and weights come from NumPy, and the dynamic net's depth from Python's
``random``, so that one seed gives the same run under any library.
"""

import argparse
import math
import random

import numpy as np
import torch


def numpy_scalar(rng, dtype):
    """One standard normal number as a 0-d tensor that requires grad (torch.randn(()) in the tutorial)."""
    return torch.tensor(rng.standard_normal(), dtype=dtype, requires_grad=True)


def fit_with_autograd(x, y, steps, rng):
    dtype = x.dtype
    a, b, c, d = (numpy_scalar(rng, dtype) for _ in range(4))
    learning_rate = 1e-6
    for t in range(steps):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            print(f"autograd {t} {loss.item():.7e}")
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f"Result: y = {a.item():.7f} + {b.item():.7f} x + {c.item():.7f} x^2 + {d.item():.7f} x^3")


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2, with its derivative written by hand."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def fit_with_custom_function(x, y, steps):
    dtype = x.dtype
    # the tutorial starts close to the answer: the fit is slow to converge from far away
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            print(f"legendre {t} {loss.item():.7e}")
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad.zero_()
    print(f"Result: y = {a.item():.7f} + {b.item():.7f} * P3({c.item():.7f} + {d.item():.7f} x)")


def fit_with_nn_and_rmsprop(x, y, steps, rng):
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)  # (2000, 3): x, x^2, x^3
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(param.shape)).astype(np.float32)))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            print(f"rmsprop {t} {loss.item():.7e}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    linear_layer = model[0]
    print(
        f"Result: y = {linear_layer.bias.item():.7f} + {linear_layer.weight[:, 0].item():.7f} x + "
        f"{linear_layer.weight[:, 1].item():.7f} x^2 + {linear_layer.weight[:, 2].item():.7f} x^3"
    )


class DynamicNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.input_linear = torch.nn.Linear(D_in, H)
        self.middle_linear = torch.nn.Linear(H, H)
        self.output_linear = torch.nn.Linear(H, D_out)

    def forward(self, x):
        """A forward pass of random depth: the middle layer is applied 0 to 3 times, each time with the
        same weights; autograd adds up its gradient over all the uses."""
        h_relu = self.input_linear(x).clamp(min=0)
        for _ in range(random.randint(0, 3)):
            h_relu = self.middle_linear(h_relu).clamp(min=0)
        y_pred = self.output_linear(h_relu)
        return y_pred


def fit_dynamic_net(steps, rng):
    N, D_in, H, D_out = 64, 100, 50, 10
    x = torch.from_numpy(rng.standard_normal((N, D_in)).astype(np.float32))
    y = torch.from_numpy(rng.standard_normal((N, D_out)).astype(np.float32))
    model = DynamicNet(D_in, H, D_out)
    with torch.no_grad():
        for name, param in model.named_parameters():
            bound = 1.0 / math.sqrt(model.get_submodule(name.split(".")[0]).in_features)
            param.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(param.shape)).astype(np.float32)))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 10 == 9:
            print(f"dynamic {t} {loss.item():.7e}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser(description="Learning PyTorch with examples: fitting sin(x)")
    parser.add_argument("--steps", type=int, default=500, help="steps of each polynomial fit")
    parser.add_argument("--dynamic-steps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)

    fit_with_autograd(x, y, args.steps, rng)
    fit_with_custom_function(x, y, args.steps)
    fit_with_nn_and_rmsprop(x, y, args.steps, rng)
    fit_dynamic_net(args.dynamic_steps, rng)


if __name__ == "__main__":
    main()
