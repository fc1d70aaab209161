"""One helper for the spatial tests: a functional call made in both libraries, compared."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule


def _lib_args(lib, args, dtype, grad: bool):
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                out.append(lib.tensor(a.astype(dtype), requires_grad=grad))
            else:
                out.append(lib.tensor(a))
        else:
            out.append(a)
    return out


def _tensors(result) -> list:
    if isinstance(result, tuple | list):
        return [t for r in result for t in _tensors(r)]
    return [result]


def check(name, *args, dtype="float64", second=True, grad=True, call=None, **kwargs) -> None:
    """``nn.functional.<name>(*args, **kwargs)`` (or ``call(lib, *args)``) in both libraries: the
    same outputs (or the same exception type), the same gradient of a random projection of the
    float outputs w.r.t. every float array argument, and (``second``) the same derivative of a
    random projection of those gradients."""
    rtol, atol = (1e-9, 1e-11) if dtype == "float64" else (1e-4, 1e-5)

    def run(lib, xs):
        if call is not None:
            return call(lib, *xs)
        kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return getattr(lib.nn.functional, name)(*xs, **kw)

    xs_t = _lib_args(torch, args, dtype, grad)
    try:
        out_t = run(torch, xs_t)
    except Exception as e:  # torch refuses: so must we, with its exception type
        with pytest.raises(type(e)):
            run(chainrule, _lib_args(chainrule, args, dtype, grad))
        return
    xs_o = _lib_args(chainrule, args, dtype, grad)
    out_o = run(chainrule, xs_o)
    outs_t, outs_o = _tensors(out_t), _tensors(out_o)
    assert len(outs_t) == len(outs_o)
    for k, (a, b) in enumerate(zip(outs_o, outs_t)):
        assert_close(a, b, rtol, atol, f"{name} output {k}")
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"{name} dtype"
    wrt_t = [x for x in xs_t if isinstance(x, torch.Tensor) and x.requires_grad]
    wrt_o = [x for x in xs_o if isinstance(x, chainrule.Tensor) and x.requires_grad]
    diff = [k for k, b in enumerate(outs_t) if b.requires_grad]
    if not wrt_t or not diff:
        return
    rng = np.random.default_rng(3)
    vs = [rng.standard_normal(tuple(outs_t[k].shape)).astype(dtype) for k in diff]
    s_t = sum((outs_t[k] * torch.tensor(v)).sum() for k, v in zip(diff, vs))
    s_o = sum((outs_o[k] * chainrule.tensor(v)).sum() for k, v in zip(diff, vs))
    g_t = torch.autograd.grad(s_t, wrt_t, create_graph=second, allow_unused=True, materialize_grads=True)
    g_o = chainrule.autograd.grad(s_o, wrt_o, create_graph=second, allow_unused=True, materialize_grads=True)
    for k, (a, b) in enumerate(zip(g_o, g_t)):
        assert_close(a, b, rtol, atol, f"{name} gradient {k}")
    if not second:
        return
    us = [rng.standard_normal(tuple(b.shape)).astype(dtype) for b in g_t]
    terms_t = [(b * torch.tensor(u)).sum() for b, u in zip(g_t, us) if b.requires_grad]
    terms_o = [(a * chainrule.tensor(u)).sum() for a, u in zip(g_o, us) if a.requires_grad]
    if not terms_t:
        return
    gg_t = torch.autograd.grad(sum(terms_t), wrt_t, allow_unused=True, materialize_grads=True)
    if not terms_o:
        for b in gg_t:
            assert not to_numpy(b).any(), f"{name}: torch has a second derivative, ours is zero"
        return
    gg_o = chainrule.autograd.grad(sum(terms_o), wrt_o, allow_unused=True, materialize_grads=True)
    for k, (a, b) in enumerate(zip(gg_o, gg_t)):
        assert_close(a, b, rtol, atol, f"{name} second derivative {k}")
