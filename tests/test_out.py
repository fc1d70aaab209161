"""``out=`` on chainrule's top-level functions, against torch's."""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pytest
import torch
from oracle import raises_like_torch

import chainrule
from chainrule._out import OUT_OPS


def _torch_takes_out(name: str) -> bool:
    """Whether torch's ``name`` takes out=: its signature, the overloads torch's argument parser
    lists on a bad call, or the signature lines of its docstring say so."""
    fn = getattr(torch, name)
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        pass
    for count in (9, 1, 2, 3, 0):
        try:
            fn(*[object()] * count)
        except TypeError as e:
            if re.search(r"Tensors? out = None|tuple of Tensors out", str(e)):
                return True
        except Exception:
            pass
    doc = fn.__doc__ or ""
    return any(re.search(r"\bout\b", line) for line in doc.split("\n") if line.strip().startswith(name + "("))


def _functions(module) -> list[str]:
    return [
        n
        for n in dir(module)
        if not n.startswith("_") and callable(getattr(module, n)) and not isinstance(getattr(module, n), type)
    ]


def test_the_list_is_torchs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert OUT_OPS == {n for n in _functions(torch) if _torch_takes_out(n)}


def test_every_function_torch_gives_out_takes_it() -> None:
    lacking = []
    for name in _functions(chainrule):
        fn = getattr(chainrule, name)
        if name not in OUT_OPS or getattr(fn, "__wrapped_for_out__", False):
            continue
        try:
            if "out" not in inspect.signature(fn).parameters:
                lacking.append(name)
        except (TypeError, ValueError):
            lacking.append(name)
    assert not lacking, f"torch's functions take out=, chainrule's do not: {lacking}"


def _pair(program):
    return program(chainrule), program(torch)


@pytest.mark.parametrize(
    "program",
    [
        lambda m: m.add(m.ones(2, 3), m.arange(3.0), alpha=2, out=m.zeros(2, 3)),
        lambda m: m.mul(m.ones(2, 3), 3.0, out=m.empty(0)),
        lambda m: m.matmul(
            m.ones(2, 3, dtype=m.float64), m.ones(3, 4, dtype=m.float64), out=m.zeros(2, 4, dtype=m.float64)
        ),
        lambda m: m.cat([m.ones(2), m.zeros(3)], out=m.zeros(5)),
        lambda m: m.sin(m.arange(4.0), out=m.zeros(4, dtype=m.float64)),
        lambda m: m.add(m.ones(2, dtype=m.int64), 1, out=m.zeros(2)),
        lambda m: m.sum(m.ones(2, 3), 1, out=m.zeros(2)),
        lambda m: m.where(m.tensor([True, False]), m.ones(2), m.zeros(2), out=m.zeros(2)),
    ],
)
def test_out_gets_the_result(program) -> None:
    def run(m):
        result = program(m)
        return result.numpy().copy(), str(result.dtype).split(".")[-1]

    ours, theirs = _pair(run)
    np.testing.assert_allclose(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_out_is_returned_and_written_in_place() -> None:
    for m in (chainrule, torch):
        out = m.zeros(3)
        view = out[1:]
        assert m.exp(m.zeros(3), out=out) is out
        assert view.tolist() == [1.0, 1.0]


def test_tuple_results() -> None:
    x = np.random.default_rng(0).normal(size=(3, 4))
    got = []
    for m in (chainrule, torch):
        values, indices = m.zeros(3, dtype=m.float64), m.zeros(3, dtype=m.int64)
        result = m.max(m.tensor(x), 1, out=(values, indices))
        assert result[0] is values and result.indices is indices
        sort_v, sort_i = m.zeros(0, dtype=m.float64), m.zeros(0, dtype=m.int64)
        m.sort(m.tensor(x), out=(sort_v, sort_i))
        got.append(
            (values.numpy().copy(), indices.numpy().copy(), sort_v.numpy().copy(), sort_i.numpy().copy())
        )
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)


def test_resizing_a_nonempty_out_warns_as_torch() -> None:
    for m in (chainrule, torch):
        with pytest.warns(UserWarning, match="resized"):
            out = m.add(m.ones(3), 1, out=m.zeros(2))
        assert tuple(out.shape) == (3,)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m.add(m.ones(3), 1, out=m.empty(0))  # an empty out is resized silently


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda m: m.add(m.ones(2), m.ones(2), out=m.zeros(2, dtype=m.int64)), "can't be cast"),
        (lambda m: m.add(m.ones(2, requires_grad=True), 1, out=m.zeros(2)), "automatic differentiation"),
    ],
)
def test_refusals_as_torch(program, match: str) -> None:
    raises_like_torch(program, match)


def test_no_grad_allows_inputs_that_require_grad() -> None:
    for m in (chainrule, torch):
        w = m.ones(2, requires_grad=True)
        with m.no_grad():
            out = m.mul(w, 3, out=m.zeros(2))
        assert out.tolist() == [3.0, 3.0] and not out.requires_grad
