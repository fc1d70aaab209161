"""A check of chainrule that needs no torch: for interpreters and dependency versions on which the torch
oracle cannot be installed (torch 2.13's CPU wheel here is for CPython 3.11 only). Each part is
compared with a closed form or with float64 finite differences, and touches the code that leans on
NumPy, SciPy and safetensors: ufuncs and reductions, BLAS/LAPACK through SciPy, vmap's NumPy
batching rules, an optimizer, and serialization. Exits non-zero on the first mismatch."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy

import chainrule as torch


def check(name: str, ok: bool) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not ok:
        sys.exit(1)


def main() -> None:
    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}, SciPy {scipy.__version__}")
    rng = np.random.default_rng(0)

    # gradients of ops across the families, against float64 central differences
    a = torch.tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    for name, fn in {
        "elementwise and reductions": lambda a, b: (a.sin() * a.exp()).sum(0).softmax(0) @ b.tanh(),
        "matmul and solve (LAPACK)": lambda a, b: torch.linalg.solve(a, b) @ b.mT,
        "det, inv, cholesky": lambda a, b: torch.linalg.det(a) * torch.linalg.inv(a)
        + torch.linalg.cholesky(a @ a.mT + torch.eye(3, dtype=a.dtype)),
        "eigh and svd (sign-free)": lambda a, b: torch.linalg.eigvalsh(a + a.mT).sum()
        + torch.linalg.svdvals(b).prod(),
        "lstsq and matrix_exp (SciPy)": lambda a, b: torch.linalg.lstsq(a, b).solution
        + torch.linalg.matrix_exp(a / 4)[:, :2],
        "conv2d and max_pool2d": lambda a, b: torch.nn.functional.max_pool2d(
            torch.nn.functional.conv2d(a.reshape(1, 1, 3, 3).repeat(1, 2, 2, 2), b.reshape(1, 2, 3, 1)), 2),
    }.items():
        check(name, torch.autograd.gradcheck(fn, (a, b)) and torch.autograd.gradgradcheck(fn, (a, b)))

    # vmap through NumPy's batching rules: the same as a loop over the samples
    xs = torch.tensor(rng.standard_normal((4, 3, 3)))
    f = lambda x: torch.linalg.norm(x @ x.mT, dim=-1) * x.sum()  # noqa: E731
    batched = torch.func.vmap(f)(xs)
    check("vmap", np.allclose(batched.numpy(), np.stack([f(x).numpy() for x in xs]), rtol=1e-12))

    # an optimizer on a least-squares problem reaches the normal equations' solution
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.1)
    for _ in range(500):
        opt.zero_grad()
        ((torch.tensor(X) @ w - torch.tensor(y)) ** 2).mean().backward()
        opt.step()
    check("Adam on least squares", np.allclose(w.detach().numpy(), np.linalg.lstsq(X, y, rcond=None)[0],
                                               atol=1e-4))

    # a module's state_dict through safetensors and back
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        torch.save(model.state_dict(), path)
        loaded = torch.load(path)
    check("save / load", all(np.array_equal(v.numpy(), loaded[k].numpy())
                             for k, v in model.state_dict().items()))


if __name__ == "__main__":
    main()
