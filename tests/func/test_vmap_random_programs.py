"""Random small programs under vmap against torch.func.vmap: inputs mapped at dim 0, at dim 1, or
shared (in_dim None), a closed-over tensor, several outputs (some of which do not depend on the
mapped inputs), a loss that also uses the inputs outside the vmap; the loss and the gradient of
every input must agree with torch's. Deterministic (a fixed seed) and quick."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

N_PROGRAMS = 300
SIZE, BATCH = 4, 3

# each op takes and returns logical (4,)-shaped values (reductions keep a broadcastable dim)
UNARY = [
    ("sin", lambda lib, x: x.sin()),
    ("exp", lambda lib, x: (x * 0.3).exp()),
    ("tanh", lambda lib, x: x.tanh()),
    ("scale", lambda lib, x: x * 2.5),
    ("square", lambda lib, x: x * x),
    ("sum", lambda lib, x: x.sum(-1, keepdim=True) + 0 * x),
    ("mean", lambda lib, x: x.mean() + x),
    ("softmax", lambda lib, x: lib.softmax(x, -1)),
    ("logsumexp", lambda lib, x: lib.logsumexp(x, -1, keepdim=True) * x),
    ("flip", lambda lib, x: x.flip(0)),
    ("cumsum", lambda lib, x: x.cumsum(0)),
    ("index", lambda lib, x: x[lib.tensor([2, 0, 1, 3])]),
    ("matvec", lambda lib, x: lib.tensor(_M) @ x),
    ("norm", lambda lib, x: x / (x.norm() + 1)),
    ("sigmoid", lambda lib, x: lib.sigmoid(x)),
    ("abs", lambda lib, x: (x + 0.1).abs()),
    ("pow", lambda lib, x: (x * x + 1).pow(0.5)),
    ("reshape", lambda lib, x: x.reshape(2, 2).t().reshape(4)),
    ("cat", lambda lib, x: lib.cat([x[:2], x[2:] * 3])),
    ("where", lambda lib, x: lib.where(x > 0, x, x * 0.1)),
]
BINARY = [
    ("add", lambda lib, x, y: x + y),
    ("mul", lambda lib, x, y: x * y),
    ("sub", lambda lib, x, y: x - y),
    ("div", lambda lib, x, y: x / (y * y + 1)),
    ("dot", lambda lib, x, y: lib.dot(x, y) * x),
    ("outer", lambda lib, x, y: lib.outer(x, y).sum(0)),
    ("maximum", lambda lib, x, y: lib.maximum(x, y + 0.05)),
    ("stack", lambda lib, x, y: lib.stack([x, y]).prod(0)),
    ("atan2", lambda lib, x, y: lib.atan2(x, y + 3)),
]

_M = np.random.default_rng(3).standard_normal((SIZE, SIZE))


def _program(rng: np.random.Generator):
    """A random program: its inputs' arrays, in_dims, and a body ``body(lib, *inputs)``."""
    n_inputs = int(rng.integers(2, 4))
    kinds = [0] + [int(k) for k in rng.choice([0, 1, -1], size=n_inputs - 1)]  # -1: shared
    arrays, in_dims = [], []
    for kind in kinds:
        if kind == -1:
            arrays.append(rng.standard_normal(SIZE))
            in_dims.append(None)
        elif kind == 0:
            arrays.append(rng.standard_normal((BATCH, SIZE)))
            in_dims.append(0)
        else:
            arrays.append(rng.standard_normal((SIZE, BATCH)))
            in_dims.append(1)
    closed = rng.standard_normal(SIZE)
    steps = []
    for _ in range(int(rng.integers(2, 7))):
        if rng.random() < 0.5:
            steps.append(("u", int(rng.integers(len(UNARY))), int(rng.integers(100))))
        else:
            pick = int(rng.integers(len(BINARY)))
            steps.append(("b", pick, int(rng.integers(100)), int(rng.integers(100))))
    n_out = int(rng.integers(2, 4))
    outputs = [int(rng.integers(100)) for _ in range(n_out)]
    use_closed = bool(rng.random() < 0.5)
    outside = bool(rng.random() < 0.5)

    def body(lib, closed_t, *xs):
        pool = list(xs) + ([closed_t] if use_closed else [])
        for step in steps:
            if step[0] == "u":
                pool.append(UNARY[step[1]][1](lib, pool[step[2] % len(pool)]))
            else:
                fn = BINARY[step[1]][1]
                pool.append(fn(lib, pool[step[2] % len(pool)], pool[step[3] % len(pool)]))
        return tuple(pool[k % len(pool)] * 1.0 for k in outputs)

    def describe() -> str:
        names = [UNARY[s[1]][0] if s[0] == "u" else BINARY[s[1]][0] for s in steps]
        return f"in_dims={in_dims} steps={names} outputs={outputs} closed={use_closed} outside={outside}"

    return arrays, tuple(in_dims), closed, body, outside, describe


def _run(lib, arrays, in_dims, closed, body, outside):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    c = lib.tensor(closed, requires_grad=True)
    c2 = c * 1.5  # a closed-over non-leaf
    outs = lib.func.vmap(lambda *ys: body(lib, c2, *ys), in_dims=in_dims)(*xs)
    loss = sum(((o * (k + 1.25)).sin()).sum() for k, o in enumerate(outs))
    if outside:
        loss = loss + sum((x * x).sum() for x in xs) + c2.sum()
    loss.backward()
    return float(loss), [x.grad for x in xs] + [c.grad]


def _numpy(t):
    return None if t is None else np.asarray(t.tolist())


@pytest.mark.parametrize("start", range(0, N_PROGRAMS, 50), ids=lambda s: f"programs {s}-{s + 49}")
def test_random_programs_under_vmap(start) -> None:
    for index in range(start, start + 50):
        arrays, in_dims, closed, body, outside, describe = _program(np.random.default_rng(index))
        theirs, their_grads = _run(torch, arrays, in_dims, closed, body, outside)
        ours, our_grads = _run(chainrule, arrays, in_dims, closed, body, outside)
        what = f"program {index}: {describe()}"
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-10), what
        for k, (o, t) in enumerate(zip(our_grads, their_grads)):
            o, t = _numpy(o), _numpy(t)
            if t is None or o is None:  # unused: torch leaves None, as must we (or zeros)
                assert t is None or not np.any(t), f"{what}: input {k}: torch {t}, ours None"
                assert o is None or not np.any(o), f"{what}: input {k}: ours {o}, torch None"
                continue
            np.testing.assert_allclose(o, t, rtol=1e-8, atol=1e-10, err_msg=f"{what}: gradient of input {k}")
