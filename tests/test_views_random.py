"""Random programs of views and in-place ops, run on chainrule and on torch: the same loss and
gradients, or both refuse (the views-and-in-place rules of test_views.py, composed at random)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import chainrule

VIEWS = [
    ("[1:]", lambda t: t[1:] if t.dim() >= 1 and t.shape[0] > 1 else None),
    ("[:, 0]", lambda t: t[:, 0] if t.dim() >= 2 else None),
    ("t()", lambda t: t.t() if t.dim() == 2 else None),
    ("transpose", lambda t: t.transpose(0, -1) if t.dim() >= 2 else None),
    ("view(-1)", lambda t: t.view(-1) if t.is_contiguous() else None),
    ("unsqueeze", lambda t: t.unsqueeze(0)),
    ("diagonal", lambda t: t.diagonal() if t.dim() >= 2 else None),
    (
        "narrow",
        lambda t: t.narrow(0, 0, max(1, t.shape[0] - 1)) if t.dim() >= 1 and t.shape[0] >= 1 else None,
    ),
    ("select", lambda t: t.select(0, 0) if t.dim() >= 2 else None),
    ("[::2]", lambda t: t[::2] if t.dim() >= 1 else None),
    ("squeeze", lambda t: t.squeeze()),
    ("permute", lambda t: t.permute(*reversed(range(t.dim())))),
]


def INPLACE(rng):
    c = round(rng.uniform(0.5, 1.5), 2)
    return rng.choice(
        [
            ("mul_c", lambda t, w: t.mul_(c)),
            ("add_w", lambda t, w: t.add_(w.sum() * c)),
            ("mul_w", lambda t, w: t.mul_(w.mean())),
            ("sin_", lambda t, w: t.sin_()),
            ("exp_", lambda t, w: t.exp_()),
            ("tanh_", lambda t, w: t.tanh_()),
            ("fill_", lambda t, w: t.fill_(c)),
            ("zero_", lambda t, w: t.zero_()),
            ("copy_", lambda t, w: t.copy_(w.sum() * t.detach() * 0 + w.mean())),
            ("setitem", lambda t, w: t.__setitem__((0,) if t.dim() >= 1 else (), w.mean())),
            ("clamp_", lambda t, w: t.clamp_(-0.5, 0.8)),
            ("div_w", lambda t, w: t.div_(w.abs().sum() + 1)),
        ]
    )


def program(seed):
    rng = random.Random(seed)
    steps = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.5:
            steps.append(("view", rng.randrange(len(VIEWS))))
        else:
            steps.append(("inplace", INPLACE(rng)))
    reads = [rng.randrange(10) for _ in range(3)]
    return steps, reads


def _run(m, seed, shape=(3, 3)):
    steps, reads = program(seed)
    g = np.random.default_rng(seed)
    x = m.tensor(g.standard_normal(shape), dtype=m.float64, requires_grad=True)
    w = m.tensor(g.standard_normal(3), dtype=m.float64, requires_grad=True)
    a = x * 1.5
    tensors = [a]
    for kind, what in steps:
        t = tensors[-1] if random.Random(seed + len(tensors)).random() < 0.7 else tensors[0]
        if kind == "view":
            v = VIEWS[what][1](t)
            if v is not None:
                tensors.append(v)
        else:
            what[1](t, w)
    loss = (a * a).sum()
    for r in reads:
        t = tensors[r % len(tensors)]
        loss = loss + (t * t.cos()).sum()
    loss.backward()
    return loss.item(), x.grad.numpy().copy(), None if w.grad is None else w.grad.numpy().copy()


CASES = [((3, 3), block) for block in range(4)] + [(shape, 0) for shape in ((0, 3), (3, 0), (1, 1), (5, 1))]


@pytest.mark.parametrize(("shape", "block"), CASES, ids=[f"{s}-{b}" for s, b in CASES])
def test_random_programs_of_views_and_in_place_ops_match_torch(shape: tuple, block: int) -> None:
    """100 programs per case; empty and size-1 bases too (views of empty tensors are views)."""
    for seed in range(block * 100, block * 100 + 100):
        try:
            theirs = _run(torch, seed, shape)
        except (RuntimeError, TypeError, IndexError) as e:
            with pytest.raises(type(e)):
                _run(chainrule, seed, shape)
            continue
        ours = _run(chainrule, seed, shape)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9, err_msg=f"seed {seed}")
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12, err_msg=f"seed {seed}")
        assert (ours[2] is None) == (theirs[2] is None), f"seed {seed}"
        if ours[2] is not None:
            np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-9, atol=1e-12, err_msg=f"seed {seed}")
