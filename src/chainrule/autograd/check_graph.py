"""check_graph: test every node's local derivative on its own, and say which one is wrong.

``torch.autograd.gradcheck`` tests a function's end-to-end gradient: when it fails, some derivative
in the chain is wrong, but which? ``check_graph`` runs the function once, then checks each node of
the graph it built separately, as the lecture computes backprop: the node's local rule (its
vector-Jacobian product with a random upstream vector ``u``, exactly what backward would compute
there) against central finite differences of that node's own forward, with every other value held
fixed::

    analytical[j] = (rule applied to u)[j]
    numerical[j]  = u . (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)

A wrong custom ``Function`` in the middle of a long chain is then named exactly, with the source
line that applied it, while its neighbours pass.

How a node's forward is run again on perturbed inputs:

* a custom ``Function``: ``apply`` again (under no_grad) with its recorded arguments, the tensor
  being perturbed replaced.
* a built-in op (its forward is not kept): ``fn`` is replayed from the start, with chainrule's
  random generator restored, until the node is made again. The replay *pins* the node's inputs:
  the op that produced each input gets its output overwritten (the perturbed value for the input
  being varied, the recorded value for the others), and a leaf input is swapped for the duration.
  So ``x * exp(x)`` checks ``d(a*b)/da`` alone, not the path through ``exp``.

Both rely on ``fn`` building the same graph each time it runs (no data-dependent branching on
the perturbed values, randomness only from chainrule's generator); the replay checks that it does.
Only inputs that carry a graph can be pinned: a node's input computed from a varied leaf outside
the graph (``x.detach() * 2``, or under ``no_grad``) moves with it, and the node may be reported
wrong. Custom Functions have no such limit.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._random import default_generator
from .._tensor import Tensor, wrap
from .anomaly import STATE, AnomalyMeta, ForwardTrace, capture_trace, install
from .engine import _fit
from .function import _Gather
from .grad_mode import enable_grad, no_grad
from .graph import Node
from .math import ARRAY_MATH

__all__ = ["check_graph", "GraphCheck", "NodeCheck"]


# ---- the report -------------------------------------------------------------------------------
@dataclass
class NodeCheck:
    """The check of one node.

    Attributes
    ----------
    name : the node's name (``'MulBackward0'``; a custom Function's ``'MyFnBackward'``).
    kind : ``'op'`` (a built-in op) or ``'function'`` (a custom ``autograd.Function``).
    filename, lineno, code : where the forward was called in the user's code.
    ok : every checked entry within ``atol + rtol * |numerical|``.
    max_error : the largest ``|analytical - numerical|`` over the checked entries.
    input : which input the worst entry belongs to (a Function's argument position).
    index : the worst entry's index in that input.
    analytical, numerical : the worst entry's two values.
    checked : how many input entries were perturbed.
    note : what was left out (sampled entries, skipped inputs).
    """

    name: str
    kind: str
    filename: str | None
    lineno: int | None
    code: str
    ok: bool = True
    max_error: float = 0.0
    input: int | None = None
    index: tuple | None = None
    analytical: float = float("nan")
    numerical: float = float("nan")
    checked: int = 0
    note: str = ""

    def where(self) -> str:
        return f"{self.filename}:{self.lineno}: {self.code}" if self.filename else "(unknown)"

    def worst(self) -> str:
        if self.input is None:
            return "nothing to compare"
        what = "argument" if self.kind == "function" else "input"
        return (
            f"worst entry: {what} {self.input} {list(self.index)}: analytical "
            f"{self.analytical:.6g} vs numerical {self.numerical:.6g}"
        )


@dataclass
class GraphCheck:
    """What ``check_graph`` found: truthy when every node's derivative is right.

    Attributes
    ----------
    nodes : one ``NodeCheck`` per node, in backward order (the output's node first).
    eps, atol, rtol : the settings used.
    """

    nodes: list[NodeCheck] = field(default_factory=list)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    @property
    def failures(self) -> list[NodeCheck]:
        """The nodes whose derivative is wrong, in backward order."""
        return [n for n in self.nodes if not n.ok]

    @property
    def first_failure(self) -> NodeCheck | None:
        """The wrong node that backward reaches first (its gradient corrupts everything below)."""
        wrong = self.failures
        return wrong[0] if wrong else None

    def __bool__(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        wrong = self.failures
        verdict = (
            f"FAILED: {len(wrong)} of {len(self.nodes)} nodes have a wrong derivative"
            if wrong
            else f"ok: all {len(self.nodes)} nodes have the right derivative"
        )
        lines = [
            f"check_graph {verdict} (eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})",
            "  each node's local rule against central differences of its own forward, in backward order:",
        ]
        width = max((len(n.name) for n in self.nodes), default=0)
        first = self.first_failure
        for n in self.nodes:
            mark = ">>" if n is first else "  "
            status = "ok   " if n.ok else "WRONG"
            lines.append(f"  {mark} {n.name:<{width}}  {status}  max |err| {n.max_error:.1e}  {n.where()}")
            if not n.ok:
                lines.append(f"     {' ' * width}  {n.worst()}")
            if n.note:
                lines.append(f"     {' ' * width}  ({n.note})")
        if first is not None:
            lines.append(f"first wrong node: {first.name}, called at {first.where()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<GraphCheck {'ok' if self else 'FAILED'}: {len(self.nodes)} nodes, {len(self.failures)} wrong>"
        )


# ---- recording and replaying fn ---------------------------------------------------------------
class _Entry:
    """A node to check, as recorded when it was made."""

    __slots__ = (
        "seq",
        "kind",
        "node",
        "trace",
        "index",
        "inputs",
        "edges",
        "values",
        "outputs",
        "cls",
        "args",
        "kwargs",
    )

    def __init__(self, seq: int, kind: str, node: Node, trace: ForwardTrace, outputs: list) -> None:
        self.seq = seq
        self.kind = kind
        self.node = node
        self.trace = trace
        self.index = -1  # an op's number in the replay
        self.inputs = tuple(node.inputs)  # as at creation (an in-place op swaps them later)
        self.edges = node.edges
        self.values = [x._data.copy() for x in node.inputs]
        self.outputs = outputs
        self.cls = self.args = self.kwargs = None


class _StopReplay(BaseException):
    """Raised inside the replayed fn once the node being checked has run (BaseException: user
    code that catches Exception does not swallow it)."""

    def __init__(self, outputs: list) -> None:
        self.outputs = outputs


class _Diverged(BaseException):
    def __init__(self, message: str) -> None:
        self.message = message


class _Recorder:
    """Counts the ops that make nodes, and knows the tensor each one made (``new``)."""

    def __init__(self) -> None:
        self.tensor_cls = Tensor
        self.count = 0
        self.last = None  # the Tensor most recently made: the output of the node being made

    def new(self, cls):
        obj = object.__new__(cls)
        if cls is self.tensor_cls:
            self.last = obj
        return obj


class _Recording(_Recorder):
    """The first run of fn: numbers the nodes and keeps what checking them needs."""

    def __init__(self) -> None:
        super().__init__()
        self.index_of: dict = {}  # node -> its number, for every node that made a tensor
        self.kinds: list = []  # per number: the op or Function class (the replay must agree)
        self.entries: list[_Entry] = []

    def on_node(self, node: Node) -> AnomalyMeta:
        trace = capture_trace()
        entry = _Entry(len(self.entries), "op", node, trace, [self.last._data.copy()])
        entry.index = self._number(node, node.op)
        self.entries.append(entry)
        return AnomalyMeta(trace)

    def on_function(self, cls, args, kwargs, node, out_nodes, diff, results) -> None:
        trace = capture_trace()
        entry = _Entry(len(self.entries), "function", node, trace, [results[k]._data.copy() for k in diff])
        entry.cls, entry.args, entry.kwargs = cls, args, kwargs
        self.entries.append(entry)
        for n in out_nodes:
            self._number(n, cls)
        for n in dict.fromkeys((node, *out_nodes)):
            n.meta = AnomalyMeta(trace, n.meta)

    def _number(self, node: Node, kind: Any) -> int:
        number = self.count
        self.count += 1
        self.index_of[node] = number
        self.kinds.append(kind)
        return number


class _Replay(_Recorder):
    """A later run of fn: overwrites the pinned outputs and stops once the target node is made."""

    def __init__(self, kinds: list, target: _Entry, pins: dict) -> None:
        super().__init__()
        self.kinds = kinds
        self.target = target
        self.pins = pins  # number -> the value its output must have

    def _next(self, kind: Any, what: str) -> int:
        number = self.count
        self.count += 1
        if number >= len(self.kinds) or self.kinds[number] is not kind:
            expected = self.kinds[number] if number < len(self.kinds) else "nothing"
            raise _Diverged(f"its node {number} was {what} instead of {_kind_name(expected)}")
        return number

    def on_node(self, node: Node) -> None:
        number = self._next(node.op, node.op.node_name)
        pin = self.pins.get(number)
        if pin is not None:
            self.last._data = pin.copy()
        if number == self.target.index:
            raise _StopReplay([self.last._data])
        return None

    def on_function(self, cls, args, kwargs, node, out_nodes, diff, results) -> None:
        for k, _ in zip(diff, out_nodes):
            pin = self.pins.get(self._next(cls, cls.__name__))
            if pin is not None:
                results[k]._data = pin.copy()


def _kind_name(kind: Any) -> str:
    return getattr(kind, "node_name", None) or getattr(kind, "__name__", str(kind))


def _run_watched(recorder, fn: Callable, inputs: tuple):
    previous = STATE.recorder
    STATE.recorder = recorder
    install()
    try:
        with enable_grad():
            return fn(*inputs)
    finally:
        STATE.recorder = previous
        install()


# ---- the check --------------------------------------------------------------------------------
def check_graph(
    fn: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_entries: int = 64,
    seed: int = 0,
    raise_exception: bool = False,
) -> GraphCheck:
    """Check every node of the graph ``fn(*inputs)`` builds against finite differences of that
    node alone; report which nodes have a wrong derivative and where they were called.

    Meant for custom ``autograd.Function``s: one wrong backward in a long chain is named, with the
    line that applied it, while the ops around it pass.

    Parameters
    ----------
    fn : builds the graph; returns a Tensor or a tuple / list of Tensors. It runs once, then again
        for each perturbation of a built-in op's input (see the module docstring), so it must build
        the same graph every time.
    inputs : a Tensor or a tuple of arguments of ``fn`` (as ``torch.autograd.gradcheck``). Use
        float64: finite differences in float32 are too coarse (a warning says so).
    eps : the finite-difference step.
    atol, rtol : an entry passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.
    max_entries : the most entries of one input perturbed per node; a bigger input gets a random
        sample of entries (said in the node's ``note``).
    seed : seeds the upstream vectors and the samples (the report is reproducible).
    raise_exception : raise a RuntimeError with the report when a node is wrong.

    Returns
    -------
    GraphCheck
        Truthy when every node is right; ``str()`` gives a readable table; ``failures`` lists the
        wrong nodes in backward order, ``first_failure`` the first.

    Examples
    --------
    >>> x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    >>> report = chainrule.autograd.check_graph(lambda x: MyCube.apply(x.sin()).sum(), x)
    >>> print(report)
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._data.dtype.kind == "f" and x._data.dtype != np.float64:
            warnings.warn(
                f"check_graph: input {i} is {x.dtype}; finite differences need float64 "
                "to be accurate (pass x.double())",
                stacklevel=2,
            )
    rng_state = copy.deepcopy(default_generator._rng.bit_generator.state)
    recording = _Recording()
    out = _run_watched(recording, fn, inputs)
    after_state = copy.deepcopy(default_generator._rng.bit_generator.state)
    outputs = [o for o in (out if isinstance(out, tuple | list) else (out,)) if isinstance(o, Tensor)]
    roots = [o.grad_fn for o in outputs if o.grad_fn is not None]
    if not roots:
        raise RuntimeError(
            "check_graph: fn's output has no graph (nothing it used requires grad); "
            "make an input require grad, e.g. x.requires_grad_()"
        )
    reached = _reachable(roots)
    entries = sorted((e for e in recording.entries if e.node in reached), key=lambda e: -e.seq)
    rng = np.random.default_rng(seed)
    report = GraphCheck(eps=eps, atol=atol, rtol=rtol)
    replay = _Replayer(fn, inputs, recording, default_generator, rng_state)
    try:
        for entry in entries:
            report.nodes.append(_check_node(entry, replay, rng, eps, atol, rtol, max_entries))
    finally:
        default_generator._rng.bit_generator.state = after_state  # as if fn had run once
    if raise_exception and not report:
        raise RuntimeError(str(report))
    return report


def _reachable(roots: list) -> set:
    seen: set = set()
    stack = list(roots)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        stack.extend(e for e in v.edges if isinstance(e, Node) and e not in seen)
    return seen


class _Replayer:
    """Runs a node's forward again on chosen input values (the ways are in the module docstring)."""

    def __init__(self, fn, inputs, recording: _Recording, generator, rng_state) -> None:
        self.fn = fn
        self.inputs = inputs
        self.recording = recording
        self.generator = generator
        self.rng_state = rng_state

    def __call__(self, entry: _Entry, varied: list[int], value: np.ndarray) -> list:
        if entry.kind == "function":
            return self._apply(entry, varied, value)
        return self._replay(entry, varied, value)

    def _apply(self, entry: _Entry, varied: list[int], value: np.ndarray) -> list:
        _, positions, diff, _, _ = entry.node.params  # (ctx, tensor positions, outputs, metas, ..)
        args = list(entry.args)
        for i, pos in enumerate(positions):
            args[pos] = wrap((value if i in varied else entry.values[i]).copy())
        with no_grad():
            outs = entry.cls.apply(*args, **entry.kwargs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return [outs[k]._data for k in diff]

    def _replay(self, entry: _Entry, varied: list[int], value: np.ndarray) -> list:
        index_of = self.recording.index_of
        pins: dict = {}
        swaps: list = []  # (tensor, its data): inputs made outside fn or leaves, set directly
        for i, x in enumerate(entry.inputs):
            e = entry.edges[i]
            number = index_of.get(e) if isinstance(e, Node) else None
            if i in varied:
                if number is not None:
                    pins[number] = value
                elif not any(t is x for t, _ in swaps):
                    swaps.append((x, x._data))
            elif number is not None:
                pins[number] = entry.values[i]  # held fixed, even if it depends on a varied leaf
        replay = _Replay(self.recording.kinds, entry, pins)
        self.generator._rng.bit_generator.state = copy.deepcopy(self.rng_state)
        for x, _ in swaps:
            x._data = value.copy()
        try:
            _run_watched(replay, self.fn, self.inputs)
        except _StopReplay as stop:
            return stop.outputs
        except _Diverged as d:
            raise RuntimeError(
                f"check_graph: fn built a different graph when run again ({d.message});"
                " it must build the same graph every time (randomness only from "
                "chainrule's generator, no branching on values)"
            ) from None
        finally:
            for x, data in swaps:
                x._data = data
        raise RuntimeError(
            f"check_graph: fn did not make {entry.node.name()} again when run again; "
            "it must build the same graph every time"
        )


def _check_node(
    entry: _Entry, replay: _Replayer, rng, eps: float, atol: float, rtol: float, max_entries: int
) -> NodeCheck:
    trace = entry.trace
    result = NodeCheck(entry.node.name(), entry.kind, trace.filename, trace.lineno, trace.code)
    if any(a.dtype.kind == "c" for a in (*entry.outputs, *entry.values)):
        result.note = "complex values: not checked"
        return result
    upstream = [rng.standard_normal(o.shape).astype(o.dtype) for o in entry.outputs]
    analytical = _vjp(entry, upstream)
    positions = entry.node.params[1] if entry.kind == "function" else range(len(entry.inputs))
    notes = []
    worst = -np.inf  # the largest excess |a - n| - allowed so far: the entry reported
    for group in _input_groups(entry):
        x0 = entry.values[group[0]]
        a = np.zeros(x0.shape)
        for i in group:
            if analytical[i] is not None:
                a = a + analytical[i]
        if x0.size > max_entries:
            flat = np.sort(rng.choice(x0.size, max_entries, replace=False))
            notes.append(f"input {positions[group[0]]}: {max_entries} of {x0.size} entries sampled")
        else:
            flat = np.arange(x0.size)
        a = a.reshape(-1)[flat]
        n = np.array([_central_difference(entry, replay, group, x0, j, upstream, eps) for j in flat])
        err = np.abs(a - n)
        excess = err - (atol + rtol * np.abs(n))
        excess[np.isnan(excess)] = np.inf  # a NaN on either side is wrong
        result.checked += len(flat)
        result.max_error = float(np.max([result.max_error, *err]))  # NaN shows as NaN
        result.ok = result.ok and not (excess > 0).any()
        k = int(np.argmax(excess))
        if excess[k] > worst:
            worst = excess[k]
            result.input = positions[group[0]]
            result.index = tuple(int(i) for i in np.unravel_index(int(flat[k]), x0.shape))
            result.analytical, result.numerical = float(a[k]), float(n[k])
    result.note = "; ".join(notes)
    return result


def _input_groups(entry: _Entry) -> list[list[int]]:
    """The positions of the inputs that want a gradient, grouped by tensor (``x * x`` varies the
    one tensor, and compares with the sum of the two gradients)."""
    groups: dict = {}
    for i, (x, e) in enumerate(zip(entry.inputs, entry.edges)):
        if e is not None and x._data.dtype.kind == "f" and entry.values[i].size:
            groups.setdefault(id(x), []).append(i)
    return list(groups.values())


def _vjp(entry: _Entry, upstream: list) -> list:
    """The node's own rule applied to ``upstream``: one gradient per input, un-broadcast."""
    node = entry.node
    g = upstream[0] if len(upstream) == 1 else _Gather(tuple(upstream))
    needs = [e is not None for e in entry.edges]
    with no_grad():
        grads = node.op.backward(
            ARRAY_MATH, g, [v.copy() for v in entry.values], node.out, node.params, needs
        )
    return [
        None if gx is None or not need else _fit(np.asarray(gx), v.shape, v.dtype, ARRAY_MATH)
        for gx, need, v in zip(grads, needs, entry.values)
    ]


def _central_difference(
    entry: _Entry, replay: _Replayer, group: list[int], x0: np.ndarray, j: int, upstream: list, eps: float
) -> float:
    ys = []
    for step in (eps, -eps):
        x = x0.copy()
        x.flat[j] += step
        ys.append(replay(entry, group, x))
    return float(
        sum(
            np.sum(np.asarray(u, np.float64) * (np.asarray(p, np.float64) - np.asarray(m, np.float64)))
            for u, p, m in zip(upstream, *ys)
        )
        / (2 * eps)
    )
