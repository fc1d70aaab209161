"""Every public name, called against torch.

The names: those of ``chainrule.Tensor`` (methods, properties and the dunder operators it
defines), and the public functions of ``chainrule``, ``chainrule.nn.functional`` and
``chainrule.linalg`` (sub-modules such as ``chainrule.nn`` are namespaces, not functions). Each has
an entry in ``CASES`` (tests/api_cases.py): the arguments, built the same way for both libraries,
and the call. The test compares the results (values, dtypes, shapes, requires_grad) and, where
torch's result is differentiable, the gradient of the sum of the outputs with respect to every
float input, by ``backward`` on both sides. A public name with no entry, and not in ``EXCLUDED``
with its reason, fails ``test_every_public_name_has_an_entry``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from api_cases import CASES, EXCLUDED, KNOWN_BROKEN, SUPERSET, Case, resolve
from oracle import OpSpec, assert_close, make_inputs

import chainrule


def _dunders(cls) -> set:
    """The callable dunders that ``cls`` itself defines (operators, conversions, protocols)."""
    return {
        n
        for klass in cls.__mro__
        if klass is not object
        for n, v in vars(klass).items()
        if n.startswith("__") and n.endswith("__") and callable(v)
    }


def public_names() -> set:
    names = {f"Tensor.{n}" for n in dir(chainrule.Tensor) if not n.startswith("_")}
    names |= {f"Tensor.{n}" for n in _dunders(chainrule.Tensor)}
    spaces = [("chainrule", chainrule), ("F", chainrule.nn.functional), ("linalg", chainrule.linalg)]
    for name in ("special", "fft"):  # torch's namespaces, once chainrule has them as its own modules
        module = getattr(chainrule, name, None)
        if getattr(module, "__name__", "") == f"chainrule.{name}":
            spaces.append((name, module))
    for space, module in spaces:
        names |= {
            f"{space}.{n}"
            for n in dir(module)
            if not n.startswith("_") and not isinstance(getattr(module, n), type(np))
        }
    return names


def test_every_public_name_has_an_entry() -> None:
    missing = sorted(public_names() - set(CASES) - set(EXCLUDED))
    assert not missing, f"public names with no entry in tests/api_cases.py: {missing}"


def test_no_stale_entries() -> None:
    names = public_names()
    stale = sorted((set(CASES) | set(EXCLUDED)) - names)
    assert not stale, f"entries for names that are not public any more: {stale}"
    both = sorted(set(CASES) & set(EXCLUDED))
    assert not both, f"names both tested and excluded: {both}"
    assert all(reason.strip() for reason in EXCLUDED.values())


# ---- the comparison -----------------------------------------------------------------------------
def _inputs(lib, case: Case, dtype: str = "float64"):
    arrays = make_inputs(OpSpec("", None, (), case.args), case.shapes, 0)
    out = []
    for a, arg in zip(arrays, case.args):
        if arg.kind == "float":
            out.append(lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=case.grad and arg.grad))
        else:
            out.append(lib.tensor(a))
    return out


def _flat(result) -> list:
    if isinstance(result, tuple | list):
        return [leaf for item in result for leaf in _flat(item)]
    return [result]


def _same(ours, theirs, case: Case, what: str) -> None:
    if isinstance(theirs, str) and theirs.startswith("raises ") and isinstance(ours, chainrule.Tensor):
        op = what.split(".", 1)[1].split("[", 1)[0]
        assert op in SUPERSET, f"{what}: a result where torch {theirs}"
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, chainrule.Tensor), f"{what}: {type(ours)} where torch has a Tensor"
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (
            f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
        )
        assert ours.requires_grad == theirs.requires_grad, (
            f"{what}: requires_grad {ours.requires_grad} != torch's {theirs.requires_grad}"
        )
        if case.values:
            assert_close(ours, theirs, case.rtol, case.atol, what)
        else:
            assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape"
    elif isinstance(theirs, torch.dtype | torch.device):
        assert str(ours).split(".")[-1] == str(theirs).split(".")[-1], f"{what}: {ours} {theirs}"
    elif isinstance(theirs, tuple | list) and not isinstance(theirs, torch.Size):
        assert isinstance(ours, tuple | list), f"{what}: {type(ours)} where torch has a sequence"
        assert len(ours) == len(theirs), f"{what}: {len(ours)} items, torch has {len(theirs)}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            _same(o, t, case, f"{what}[{k}]")
    elif isinstance(theirs, float):
        assert isinstance(ours, float), f"{what}: {type(ours)} where torch has a float"
        np.testing.assert_allclose(ours, theirs, case.rtol, case.atol, err_msg=what)
    else:
        if isinstance(theirs, torch.Size):
            theirs = tuple(theirs)
        assert type(ours) is type(theirs) or isinstance(theirs, tuple), (
            f"{what}: {type(ours).__name__} where torch has {type(theirs).__name__}"
        )
        assert (tuple(ours) if isinstance(theirs, tuple) else ours) == theirs, (
            f"{what}: {ours!r} != torch's {theirs!r}"
        )


def check(name: str, case: Case, dtype: str = "float64") -> None:
    ours_in, theirs_in = _inputs(chainrule, case, dtype), _inputs(torch, case, dtype)
    if dtype != "float64":
        case = dataclasses.replace(case, rtol=max(case.rtol, 2e-5), atol=max(case.atol, 2e-5))
    if case.raises:
        with pytest.raises(Exception) as theirs:
            case.call(resolve(name, torch), torch, *theirs_in)
        with pytest.raises(type(theirs.value)):
            case.call(resolve(name, chainrule), chainrule, *ours_in)
        return
    theirs = case.call(resolve(name, torch), torch, *theirs_in)
    ours = case.call(resolve(name, chainrule), chainrule, *ours_in)
    _same(ours, theirs, case, name)
    pairs = [
        (o, t) for o, t in zip(_flat(ours), _flat(theirs)) if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    if not pairs:
        return
    sum(t.sum() for _, t in pairs).backward()
    sum(o.sum() for o, _ in pairs).backward()
    for k, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if t.requires_grad:
            if t.grad is None:
                assert o.grad is None or not o.grad.numpy().any(), f"{name}: grad {k} not None"
            else:
                assert o.grad is not None, f"{name}: no gradient for input {k}; torch has one"
                assert_close(o.grad, t.grad, case.rtol, case.atol, f"{name} gradient of input {k}")


def test_known_broken_are_marked() -> None:
    marked = {name for name, cases in CASES.items() if any(c.broken for c in cases)}
    assert marked == set(KNOWN_BROKEN), "KNOWN_BROKEN and the cases marked broken differ"


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name: str) -> None:
    torch.manual_seed(0)
    chainrule.manual_seed(0)
    for case in CASES[name]:
        if not case.broken:
            check(name, case)
    for case in CASES[name]:
        if case.broken:  # still failing as recorded; when it passes, unmark it
            with pytest.raises((AssertionError, RuntimeError)):
                check(name, case)
    if name in KNOWN_BROKEN:
        pytest.xfail(KNOWN_BROKEN[name])


@pytest.mark.parametrize(
    "name", sorted(n for n, cases in CASES.items() if any(a.kind == "float" for c in cases for a in c.args))
)
def test_matches_torch_float32(name: str) -> None:
    """The same calls on float32 inputs: results keep torch's dtypes (no silent float64)."""
    torch.manual_seed(0)
    chainrule.manual_seed(0)
    for case in CASES[name]:
        if not case.broken:
            check(name, case, "float32")
