"""Per-sample gradients of an MLP with vmap(grad(...)) and functional_call.

A training step usually needs only the gradient of the batch's mean loss. Some methods need one
gradient per example (differential privacy clips each one; influence functions and gradient-noise
statistics use them). The naive way runs backward once per example. ``torch.func`` does it in one
vectorised pass:

    def loss_of(params, x, y):            # the loss of ONE example, as a function of the weights
        logits = functional_call(model, params, (x[None],))
        return cross_entropy(logits, y[None])

    per_sample = vmap(grad(loss_of), in_dims=(None, 0, 0))(params, X, Y)

The script checks the vectorised result against the loop, and that the per-sample gradients
average to the ordinary batch gradient, then times both.

    python examples/per_sample_grads.py            # on chainrule
    python examples/per_sample_grads.py --torch    # the same code on real PyTorch, for comparison
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import chainrule as torch


def build(seed: int = 0):
    """A 784-128-10 MLP with weights drawn by NumPy (the same in both libraries), and a batch."""
    rng = np.random.default_rng(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.05, 0.05, size=tuple(p.shape)).astype(np.float32)))
    return model


def main(argv: list[str] | None = None) -> int:
    global torch
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="run on real PyTorch instead")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    if args.torch:
        import torch as real_torch

        torch = real_torch
    from_numpy = torch.tensor
    F = torch.nn.functional
    print(f"Per-sample gradients with `torch` = {torch.__name__}, batch of {args.batch}")
    model = build()
    rng = np.random.default_rng(1)
    X = from_numpy(rng.standard_normal((args.batch, 784)).astype(np.float32))
    Y = from_numpy(rng.integers(0, 10, size=args.batch))
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss_of(params, x, y):
        logits = torch.func.functional_call(model, params, (x[None],))
        return F.cross_entropy(logits, y[None])

    per_sample_grads = torch.func.vmap(torch.func.grad(loss_of), in_dims=(None, 0, 0))
    per_sample_grads(params, X, Y)  # warm-up: the first call pays for imports and caches
    start = time.perf_counter()
    per_sample = per_sample_grads(params, X, Y)
    vmap_time = time.perf_counter() - start

    start = time.perf_counter()
    looped = {name: [] for name in params}
    for i in range(args.batch):
        model.zero_grad()
        F.cross_entropy(model(X[i : i + 1]), Y[i : i + 1]).backward()
        for name, p in model.named_parameters():
            looped[name].append(p.grad.clone())
    loop_time = time.perf_counter() - start

    model.zero_grad()
    F.cross_entropy(model(X), Y).backward()
    worst_loop = worst_mean = 0.0
    for name, p in model.named_parameters():
        ours = per_sample[name].numpy()
        print(f"  {name:9s} per-sample gradients: shape {tuple(per_sample[name].shape)}")
        worst_loop = max(worst_loop, float(np.abs(ours - torch.stack(looped[name]).numpy()).max()))
        worst_mean = max(worst_mean, float(np.abs(ours.mean(axis=0) - p.grad.numpy()).max()))
    ok_loop, ok_mean = worst_loop < 1e-5, worst_mean < 1e-6  # float32 sums in another order
    print(
        f"  [{'ok' if ok_loop else 'FAILED'}] vmap(grad) equals one backward per example "
        f"(max |difference| {worst_loop:.1e})"
    )
    print(
        f"  [{'ok' if ok_mean else 'FAILED'}] their mean equals the batch gradient "
        f"(max |difference| {worst_mean:.1e})"
    )
    print(f"  time: vmap(grad) {vmap_time * 1e3:.1f} ms, loop of backward passes {loop_time * 1e3:.1f} ms")
    if ok_loop and ok_mean:
        print("All checks passed.")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
