"""Random programs run in chainrule and in torch: the program, its interpreter, and the comparison.

A ``Program`` is a straight-line list of ``Step``s over numbered values ``v0, v1, ...``. Each step is
one call ``fn(lib, *inputs)`` written once for both libraries (``lib`` is ``chainrule`` or ``torch``);
its results (one tensor, or the items of a tuple) become the next values. After the last step the
program sums a random weighting of some of its differentiable values into a loss and calls
``loss.backward()``. ``run`` executes a program in one library and records every value, the ``.grad``
of every leaf and of every tensor that asked for ``retain_grad()``, and the first exception (which
step raised it, and its type). ``assert_same_outcome`` then demands what torch did: the same error
type at the same step, or no error; and then the same values, dtypes, shapes, ``requires_grad`` and
gradients within a tolerance that grows with the depth of the program.

Programs are drawn by ``program_steps.programs`` (hypothesis), which builds them against torch step by
step, so that it knows every value's shape and dtype while it draws the next step.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

import chainrule

# a value's absolute tolerance grows to rtol times the largest magnitude in its array: a sum of
# products (matmul, a reduction) that cancels to near zero errs by the scale of its terms
BASE_RTOL = {"float64": 1e-9, "float32": 1e-4}


@dataclass
class Step:
    """One call ``fn(lib, *values[inputs])``; ``text`` is its source with ``{out}`` for the names of
    its results (filled in once the program knows how many there are)."""

    fn: Callable
    inputs: tuple[int, ...]
    text: str
    n_out: int = 0
    retains: bool = False  # the step calls retain_grad() on its input: compare that input's .grad


@dataclass
class Program:
    """The steps, the values the loss weights (index, weight array), the leaves whose ``.grad`` is
    compared, the dtype the program runs in, and each value's depth (steps from a leaf)."""

    dtype: str
    steps: list[Step] = field(default_factory=list)
    loss: list[tuple[int, np.ndarray]] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    rtol_factor: float = 1.0  # the loosest tolerance of an op spec the program calls, over the default
    mixed: bool = False  # a float32 value in a float64 program: compared with float32's tolerance

    @property
    def n_values(self) -> int:
        return len(self.depth)

    def source(self) -> str:
        """The program as Python with ``m`` for the library: what a regression test copies."""
        lines, k = [], 0
        for step in self.steps:
            names = ", ".join(f"v{k + i}" for i in range(step.n_out)) or "_"
            lines.append(step.text.format(out=names))
            k += step.n_out
        if self.loss:
            terms = " + ".join(f"(v{i} * w{i}).sum()" for i, _ in self.loss)
            lines.append(f"({terms}).backward()  # w: fixed random weights")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Program({self.dtype}):\n{self.source()}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # how hypothesis prints a failing program
        printer.text(repr(self))


@dataclass
class Outcome:
    """What running a program in one library left: every value, the compared gradients, and the
    first exception as (step index, type, message); step ``len(steps)`` is the loss and backward."""

    values: list
    grads: dict[int, object]
    error: tuple[int, type, str] | None = None


def flatten(result) -> list:
    """A step's results as a flat list: a tensor, or the items of a (nested) tuple or list."""
    if result is None:
        return []
    if isinstance(result, tuple | list):
        return [item for part in result for item in flatten(part)]
    return [result]


def run(program: Program, lib) -> Outcome:
    """Execute ``program`` with ``lib`` (chainrule or torch); stop at the first exception."""
    values: list = []
    retained: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are compared elsewhere (tests/test_fpe.py)
        for k, step in enumerate(program.steps):
            try:
                out = flatten(step.fn(lib, *(values[i] for i in step.inputs)))
            except Exception as error:  # noqa: BLE001 - any exception is an outcome to compare
                return Outcome(values, {}, (k, type(error), str(error)))
            if step.retains:
                retained.append(step.inputs[0])
            values.extend(out)
        if not program.loss:
            return Outcome(values, {})
        try:
            loss = None
            for i, w in program.loss:
                term = (values[i] * lib.tensor(w.copy())).sum()
                loss = term if loss is None else loss + term
            loss.backward()
        except Exception as error:  # noqa: BLE001
            return Outcome(values, {}, (len(program.steps), type(error), str(error)))
    grads = {i: values[i].grad for i in program.leaves + retained if isinstance(values[i], lib.Tensor)}
    return Outcome(values, grads)


def same_error_type(ours: type, theirs: type) -> bool:
    """Torch's exception type, or one named as torch's (``torch.linalg.LinAlgError`` is a
    RuntimeError subclass of torch's own), or a subclass of it."""
    return ours.__name__ == theirs.__name__ or issubclass(ours, theirs)


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        if x._is_zerotensor():
            return np.zeros(tuple(x.shape), dtype=str(x.dtype).split(".")[-1])
        return x.detach().resolve_conj().resolve_neg().numpy()
    return x.detach().numpy()


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def assert_close_scaled(ours, theirs, rtol: float, what: str) -> None:
    """Same shape, dtype and values within ``rtol``, the absolute tolerance scaled by the array."""
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} != torch's"
    assert _dtype_name(ours) == _dtype_name(theirs), f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    a, b = to_numpy(ours), to_numpy(theirs)
    if b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    finite = np.abs(b[np.isfinite(b)])
    floor = 1e-12 if b.dtype == np.float64 else 1e-6
    atol = max(floor, rtol * float(finite.max(initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _assert_same_plain(ours, theirs, what: str) -> None:
    """Non-tensor results (numbers, dtypes, sizes) are equal."""
    if isinstance(theirs, float) and isinstance(ours, float | int):
        assert (
            ours == theirs
            or (math.isnan(ours) and math.isnan(theirs))
            or math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-9)
        ), f"{what}: {ours!r} vs torch {theirs!r}"
    elif isinstance(theirs, torch.dtype):
        assert str(ours).split(".")[-1] == str(theirs).split(".")[-1], f"{what}: {ours} vs {theirs}"
    else:
        assert ours == theirs, f"{what}: {ours!r} vs torch {theirs!r}"


def _requires_grad(t) -> bool | str:
    """``t.requires_grad``, or the error type reading it raises (an output of split whose base
    changed in place: torch refuses every use of it)."""
    try:
        return t.requires_grad
    except RuntimeError as error:
        return type(error).__name__


def assert_same_outcome(program: Program, ours: Outcome, theirs: Outcome) -> None:
    """chainrule's outcome is torch's: error or none, values, flags, gradients."""
    if theirs.error is not None:
        step, kind, message = theirs.error
        assert ours.error is not None, (
            f"torch raises {kind.__name__} at step {step} ({message}); chainrule does not"
        )
        assert ours.error[0] == step, (
            f"torch raises {kind.__name__} at step {step} ({message}); "
            f"chainrule raises {ours.error[1].__name__} at step {ours.error[0]} ({ours.error[2]})"
        )
        assert same_error_type(ours.error[1], kind), (
            f"step {step}: chainrule raises {ours.error[1].__name__} ({ours.error[2]}), "
            f"torch {kind.__name__} ({message})"
        )
    elif ours.error is not None:
        step, kind, message = ours.error
        raise AssertionError(f"chainrule raises {kind.__name__} at step {step} ({message}); torch does not")
    assert len(ours.values) == len(theirs.values), (
        f"{len(ours.values)} values, torch has {len(theirs.values)}"
    )
    base = BASE_RTOL["float32" if program.mixed else program.dtype] * program.rtol_factor
    for i, (a, b) in enumerate(zip(ours.values, theirs.values)):
        what = f"v{i}"
        if isinstance(b, torch.Tensor):
            assert isinstance(a, chainrule.Tensor), f"{what}: {type(a).__name__}, torch has a Tensor"
            assert _requires_grad(a) == _requires_grad(b), f"{what}: requires_grad {_requires_grad(a)}"
            assert_close_scaled(a, b, base * max(1, program.depth[i]), what)
        else:
            _assert_same_plain(a, b, what)
    deepest = max(program.depth, default=1)
    for i, g in theirs.grads.items():
        mine = ours.grads.get(i)
        if g is None:
            assert mine is None, f"v{i}.grad: torch has None, chainrule a tensor"
            continue
        assert mine is not None, f"v{i}.grad: None, torch has a gradient"
        assert_close_scaled(mine, g, base * max(1, deepest), f"v{i}.grad")


def ops_in_graph(values) -> set[str]:
    """The registered ops of every chainrule node below ``values`` (which ops a program exercised)."""
    seen, names = set(), set()
    stack = []
    for v in values:
        if isinstance(v, chainrule.Tensor):
            try:
                stack.append(v.grad_fn)
            except RuntimeError:  # a split output whose base changed in place: torch refuses it too
                continue
    while stack:
        node = stack.pop()
        if not isinstance(node, chainrule.autograd.graph.Node) or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.op.name)
        stack.extend(node.edges)
    return names
