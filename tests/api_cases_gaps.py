"""API sweep entries: short-time Fourier transforms, torch.gradient, histogramdd, the general
convolution entry, autocast and its switches, GradScaler (see tests/api_cases.py for how entries
run). Fuller tests: tests/test_gaps_ops.py, tests/test_amp.py, tests/utils/test_distributed_sampler.py.
"""

from __future__ import annotations

from api_cases import add, both, custom
from oracle import Arg

POS = Arg(0.5, 2.0)
CONST = Arg(grad=False)


# ---- short-time Fourier transforms (complex results compared as view_as_real) --------------------
def _stft(f, m, x, w):
    spec = f(x, 8, hop_length=3, window=w, return_complex=True)
    return (
        m.view_as_real(spec),
        m.view_as_real(f(x, 7, center=False, return_complex=True)),
        m.view_as_real(f(x, 8, pad_mode="constant", normalized=True, onesided=False, return_complex=True)),
    )


add(custom(_stft, ((2, 30), (8,)), (Arg(), POS)), *both("stft"))


def _istft(f, m, x, w):
    spec = m.stft(x, 8, hop_length=2, window=w, return_complex=True)
    return f(spec, 8, hop_length=2, window=w), f(spec, 8, hop_length=2, window=w, length=25)


add(custom(_istft, ((2, 30), (8,)), (Arg(), POS)), *both("istft"))

# ---- sampled-data numerics ----------------------------------------------------------------------
add(
    custom(
        lambda f, m, x, t: (
            f(x),
            f(x, spacing=2.0, dim=1),
            f(x, spacing=[0.5, 3.0], edge_order=2),
            f(x, spacing=[m.cumsum(t, 0)], dim=-1, edge_order=2),
            f(x, spacing=(m.cumsum(t, 0),), dim=1),
        ),
        ((4, 5), (5,)),
        (Arg(), Arg(0.5, 2.0, grad=False)),
    ),
    "chainrule.gradient",
)
add(
    custom(
        lambda f, m, x, w: (
            f(x, 3),
            f(x, [2, 4], range=[-1.0, 1.0, -2.0, 2.0], weight=w),
            f(x, 4, density=True),
        ),
        ((20, 2), (20,)),
        (CONST, Arg(0.0, 1.0, grad=False)),
        grad=False,
    ),
    "chainrule.histogramdd",
)

# ---- the general convolution --------------------------------------------------------------------
add(
    custom(
        lambda f, m, x, w, b: (
            f(x, w, b, [1, 2], [1, 0], [1, 1], False, [0, 0], 1),
            f(x, w.transpose(0, 1), None, [2, 1], [0, 1], [1, 2], True, [1, 0], 1),
            f(x[:, :, 0], w[:, :, 0], b, [1], [1], [2], False, [0], 1),
            f(x[:2], w[:4, :1], None, [1, 1], [0, 0], [1, 1], False, [0, 0], 2),
        ),
        ((2, 2, 6, 5), (4, 2, 3, 2), (4,)),
    ),
    "chainrule.convolution",
)


# ---- autocast and its switches ------------------------------------------------------------------
def _autocast(f, m, x, w):
    with f("cpu"):
        y = m.nn.functional.linear(x.float(), w.float())
        z = x.float() @ w.float().t()
        kept = (x.float() + 1, x.double() @ w.double().t())  # not listed; float64 is never cast
        with f("cpu", enabled=False):
            off = x.float() @ w.float().t()
    with f("cpu", dtype=m.float16):
        half = m.mm(x.float(), w.float().t())
    return y.float(), z.float(), *kept, off, half.float(), y.dtype, half.dtype


add(custom(_autocast, ((3, 4), (5, 4)), rtol=1e-2, atol=1e-2), "chainrule.autocast")


def _switches(f, m, x):
    name = f.__name__
    if name.startswith("set_") or name == "clear_autocast_cache":
        return None
    if name in ("get_autocast_dtype", "is_autocast_enabled"):
        with m.autocast("cpu", dtype=m.float16):
            inside = f("cpu")
        return f("cpu"), inside
    with m.autocast("cpu", cache_enabled=False):
        inside = f()
    return f(), inside


add(
    custom(_switches, grad=False),
    "chainrule.is_autocast_enabled",
    "chainrule.get_autocast_dtype",
    "chainrule.is_autocast_cache_enabled",
    "chainrule.get_autocast_cpu_dtype",
    "chainrule.is_autocast_cpu_enabled",
)


def _set_enabled(f, m, x):
    f("cpu", True)
    try:
        y = x.float() @ x.float().t()
    finally:
        f("cpu", False)
    return y.dtype, m.is_autocast_enabled("cpu")


def _set_cpu_enabled(f, m, x):
    f(True)
    try:
        y = x.float() @ x.float().t()
    finally:
        f(False)
    return y.dtype, m.is_autocast_enabled("cpu")


def _set_dtype(f, m, x):
    f("cpu", m.float16)
    try:
        with m.autocast("cpu"):
            y = x.float() @ x.float().t()
    finally:
        f("cpu", m.bfloat16)
    return y.dtype, m.get_autocast_dtype("cpu")


def _set_cpu_dtype(f, m, x):
    f(m.float16)
    try:
        got = m.get_autocast_cpu_dtype()
    finally:
        f(m.bfloat16)
    return got, m.get_autocast_cpu_dtype()


def _set_cache(f, m, x):
    f(False)
    try:
        got = m.is_autocast_cache_enabled()
    finally:
        f(True)
    return got, m.is_autocast_cache_enabled()


def _clear_cache(f, m, x):
    with m.autocast("cpu"):
        y = m.nn.functional.linear(x.float(), x.float())
        f()
        z = m.nn.functional.linear(x.float(), x.float())
    return y.float(), z.float(), y.dtype


add(custom(_set_enabled, grad=False), "chainrule.set_autocast_enabled")
add(custom(_set_cpu_enabled, grad=False), "chainrule.set_autocast_cpu_enabled")
add(custom(_set_dtype, grad=False), "chainrule.set_autocast_dtype")
add(custom(_set_cpu_dtype, grad=False), "chainrule.set_autocast_cpu_dtype")
add(custom(_set_cache, grad=False), "chainrule.set_autocast_cache_enabled")
add(custom(_clear_cache, rtol=1e-2, atol=1e-2), "chainrule.clear_autocast_cache")


def _scaler(f, m, x, w):
    scaler = f("cpu", init_scale=256.0, growth_interval=1)
    w = w * 1
    w.retain_grad()
    opt = m.optim.SGD([x], lr=0.1)
    loss = (x * w).sum()
    scaler.scale(loss).backward()
    scaled = x.grad.clone()
    scaler.step(opt)
    scaler.update()
    off = f("cpu", enabled=False)
    return (
        scaled,
        scaler.get_scale(),
        scaler.state_dict()["_growth_tracker"],
        off.scale(loss.detach()),
        off.get_scale(),
    )


add(custom(_scaler, ((3, 4), (3, 4)), (Arg(), Arg())), "chainrule.GradScaler")


# ---- randomized low-rank factorizations and LOBPCG (random starts: compare what they determine) --
def _svd_lowrank(f, m, a):
    U, S, V = f(a, q=4)
    U2, S2, V2 = f(a.mT, q=4, niter=3)
    return U @ m.diag_embed(S) @ V.mT, S, U2 @ m.diag_embed(S2) @ V2.mT, U.shape, V2.shape


add(custom(_svd_lowrank, ((6, 4),)), "chainrule.svd_lowrank")


def _pca_lowrank(f, m, a):
    U, S, V = f(a)
    centred = a - a.mean(0, keepdim=True)
    U2, S2, V2 = f(a, q=3, center=False)
    return U @ m.diag_embed(S) @ V.mT, centred.shape, S2, U2 @ m.diag_embed(S2) @ V2.mT


add(custom(_pca_lowrank, ((7, 3),)), "chainrule.pca_lowrank")


def _lobpcg(f, m, a, b):
    A = a + a.mT
    B = b @ b.mT + 9 * m.eye(9, dtype=b.dtype)
    E, X = f(A, k=2)
    E_small, X_small = f(A, k=3, largest=False, method="ortho")
    E_general, _ = f(A.detach(), k=2, B=B)  # (torch has no backward with B)
    residual = A @ X - X * E  # the eigenvector equation holds, to torch's tolerance
    return E, E_small, E_general, residual.abs().max() < 1e-2, (X.mT @ X_small).abs().max() < 1e-2


add(custom(_lobpcg, ((9, 9), (9, 9)), (Arg(), Arg(grad=False)), rtol=2e-3, atol=2e-3), "chainrule.lobpcg")
