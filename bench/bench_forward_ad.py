"""Forward-mode JVP of a 3-layer MLP and of a small CNN: the cheap rules of
``autograd/_jvp_rules.py`` against the transpose-of-VJP fallback alone, and torch's forward mode.

Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python bench/bench_forward_ad.py`` (one BLAS thread:
on a shared machine, BLAS threads fighting for cores swamp the numbers); prints milliseconds per
JVP and ratios. Measured (2 shared cores, one BLAS thread): MLP 0.23 ms with the rules, 0.61 ms
with the fallback alone (2.7x), torch 0.65 ms; CNN 0.90 ms, 1.7 ms (1.9x; max_pool2d still falls
back), torch 1.2 ms.

``--func``: ``func.jacfwd`` and ``func.hessian`` of a 64->64 Linear-Tanh-Linear MLP (dual levels
nested under vmap and reverse mode); see docs/differences.md, forward-mode AD, for the numbers.
"""

from __future__ import annotations

import timeit

import numpy as np
import torch
import torch.autograd.forward_ad as tfw

import chainrule
import chainrule.autograd.forward_ad as fw
from chainrule.autograd._jvp_rules import RULES


def _models(lib):
    nn = lib.nn
    lib.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 10))
    cnn = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * 8 * 8, 10),
        nn.LogSoftmax(dim=1),
    )
    return mlp, cnn


def _jvp(lib, fwad, model, x, v):
    with fwad.dual_level():
        return fwad.unpack_dual(model(fwad.make_dual(x, v))).tangent


def _time(lib, fwad, model, x, v) -> float:
    """Seconds per JVP, the best of 5 runs of 20."""
    return min(timeit.repeat(lambda: _jvp(lib, fwad, model, x, v), number=20, repeat=5)) / 20


def main() -> None:
    torch.set_num_threads(1)  # a fair comparison with NumPy's single-threaded small ops
    rng = np.random.default_rng(0)
    cases = {"mlp (32x64)": (32, 64), "cnn (8x3x16x16)": (8, 3, 16, 16)}
    ours, theirs = _models(chainrule), _models(torch)
    for (name, shape), model, tmodel in zip(cases.items(), ours, theirs):
        x, v = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
        cx, cv, tx, tv = chainrule.tensor(x), chainrule.tensor(v), torch.tensor(x), torch.tensor(v)
        with chainrule.no_grad(), torch.no_grad():
            rules = _time(chainrule, fw, model, cx, cv)
            saved = {k: fw.JVP_RULES.pop(k) for k in RULES if fw.JVP_RULES.get(k) is RULES[k]}
            try:
                fallback = _time(chainrule, fw, model, cx, cv)
            finally:
                fw.JVP_RULES.update(saved)
            tt = _time(torch, tfw, tmodel, tx, tv)
        print(
            f"{name:18s} rules {rules * 1e3:7.3f} ms   fallback {fallback * 1e3:7.3f} ms "
            f"({fallback / rules:4.1f}x slower)   torch {tt * 1e3:7.3f} ms"
        )


def func_transforms() -> None:
    """jacfwd w.r.t. the input and the 8,320 parameters, hessian of the summed and of the vector
    output, of a 64->64 Linear-Tanh-Linear MLP at one input."""
    from chainrule import func, nn

    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 64))
    x = chainrule.tensor(np.random.default_rng(0).standard_normal(64).astype(np.float32))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def best(fn, number: int, repeat: int = 5) -> float:
        fn()
        return min(timeit.repeat(fn, number=number, repeat=repeat)) / number

    def of_params(p):
        return func.functional_call(model, p, (x,))

    def summed(x):
        return model(x).sum()

    print(f"jacfwd wrt input      {best(lambda: func.jacfwd(model)(x), 50) * 1e3:8.3f} ms")
    print(f"hessian (sum)         {best(lambda: func.hessian(summed)(x), 10) * 1e3:8.3f} ms")
    print(f"hessian (64 outputs)  {best(lambda: func.hessian(model)(x), 3) * 1e3:8.3f} ms")
    print(f"jacfwd wrt params     {best(lambda: func.jacfwd(of_params)(params), 1, 3):8.3f} s")


if __name__ == "__main__":
    import sys

    func_transforms() if "--func" in sys.argv else main()
