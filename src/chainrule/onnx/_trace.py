"""Tracing one forward pass for export: the recorded graph, walked from the outputs.

The exporter runs the model once with every floating input and parameter requiring grad, so that
each differentiable op leaves a Node with its op name and parameters (autograd/graph.py). While it
runs, ``SAVE_ALL_INPUTS`` is on (the switch anomaly mode uses), so every node keeps its input
tensors: their shapes and, for inputs that need no gradient, their values. Modules whose ONNX form
is one operator (LSTM, BatchNorm in eval, Embedding) are caught by forward hooks: their outputs'
nodes become one step, and the walk continues from their inputs.

The walk follows each node's ``edges`` (where its inputs came from *when it ran*), not the input
tensors' current ``grad_fn``, so an in-place op later in the forward does not confuse it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor
from ..autograd import graph as _graph
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import Node
from ._builder import UnsupportedOperatorError

__all__ = ["Step", "ModuleCall", "Trace", "trace", "flatten", "unflatten"]


class ModuleCall:
    """One call of a module exported as a whole: its inputs (producer, tensor) and outputs."""

    __slots__ = ("module", "inputs", "outputs", "path")

    def __init__(self, module, inputs: list, outputs: list, path: str) -> None:
        self.module, self.inputs, self.outputs, self.path = module, inputs, outputs, path


class Step:
    """One producer of values in the exported graph: a recorded node, a module call or a leaf
    tensor (an input, a parameter or a constant). ``out_meta[i]`` is output ``i``'s (shape, dtype)."""

    __slots__ = ("key", "kind", "obj", "inputs", "out_meta", "out_tensors")

    def __init__(self, key: tuple, kind: str, obj) -> None:
        self.key, self.kind, self.obj = key, kind, obj
        self.inputs: list = []  # (Step, output index) per input; None for an absent optional input
        self.out_meta: dict = {}
        self.out_tensors: dict = {}  # output index -> a tensor holding that output's value

    def label(self) -> str:
        if self.kind == "node":
            return self.obj.op.name
        if self.kind == "call":
            return type(self.obj.module).__name__
        return "leaf"


class Trace:
    """The steps of one traced forward pass in topological order, with its inputs and outputs."""

    def __init__(self, inputs: list, outputs: list, output_structure, keep: list) -> None:
        self.inputs = inputs  # the fresh input tensors the model ran on
        self.input_ids = {id(t): i for i, t in enumerate(inputs) if isinstance(t, Tensor)}
        self.outputs = outputs  # flattened output tensors
        self.output_structure = output_structure
        self.steps: list[Step] = []
        self.roots: list = []  # (Step, index) per output
        self._by_key: dict = {}
        self._keep = keep  # module calls and tensors: alive until export ends (ids stay unique)
        self.boundary: dict = {}  # id(node) -> (ModuleCall, output index)

    def ref(self, producer, tensor: Tensor) -> tuple[Step, int]:
        """The step making ``producer``'s value (a Node or a leaf tensor), noting its shape."""
        if isinstance(producer, Node):
            hit = self.boundary.get(id(producer))
            if hit is not None:
                call, index = hit
                key, kind, obj = ("call", id(call)), "call", call
            else:
                key, kind, obj, index = ("node", id(producer)), "node", producer, 0
        else:
            key, kind, obj, index = ("leaf", id(producer)), "leaf", producer, 0
        step = self._by_key.get(key)
        if step is None:
            step = self._by_key[key] = Step(key, kind, obj)
        step.out_meta[index] = (tuple(tensor.shape), tensor._data.dtype)
        step.out_tensors[index] = tensor
        return step, index

    def walk(self) -> None:
        """Put the steps that the outputs depend on in topological order (iterative DFS)."""
        for t in self.outputs:
            self.roots.append(self.ref(t.grad_fn if t.grad_fn is not None else t, t))
        done: set = set()
        stack = [(step, False) for step, _ in reversed(self.roots)]
        while stack:
            step, expanded = stack.pop()
            if step.key in done:
                continue
            if expanded:
                done.add(step.key)
                self.steps.append(step)
                continue
            stack.append((step, True))
            step.inputs = self._inputs_of(step)
            for ref in reversed(step.inputs):
                if ref is not None and ref[0].key not in done:
                    stack.append((ref[0], False))

    def _inputs_of(self, step: Step) -> list:
        if step.kind == "leaf":
            return []
        if step.kind == "call":
            return [None if t is None else self.ref(p, t) for p, t in step.obj.inputs]
        node = step.obj
        unpacked = node.unpack_saved()  # saved-tensor hooks packed the inputs
        inputs = unpacked[0] if unpacked is not None else node.inputs
        refs = []
        for edge, x in zip(node.edges, inputs):
            if x is None:
                raise RuntimeError(f"onnx.export: the node of {node.op.name!r} kept no input tensors")
            refs.append(self.ref(edge if edge is not None else x, x))
        return refs


def flatten(value) -> tuple[list, object]:
    """The tensors in nested tuples / lists / dicts, and a structure to rebuild it with."""
    if isinstance(value, Tensor):
        return [value], "T"
    if isinstance(value, (tuple, list)):
        leaves, structure = [], []
        for v in value:
            sub, s = flatten(v)
            leaves += sub
            structure.append(s)
        return leaves, (type(value), structure)
    if isinstance(value, dict):
        leaves, structure = [], {}
        for k, v in value.items():
            sub, s = flatten(v)
            leaves += sub
            structure[k] = s
        return leaves, (dict, structure)
    return [], ("C", value)


def unflatten(leaves: list, structure):
    it = iter(leaves)

    def build(s):
        if s == "T":
            return next(it)
        kind, inner = s
        if kind == "C":
            return inner
        if kind is dict:
            return {k: build(v) for k, v in inner.items()}
        items = [build(v) for v in inner]
        if kind is list:
            return items
        return kind(*items) if hasattr(kind, "_fields") else kind(items)  # a named tuple takes fields

    return build(structure)


def trace(
    model, args: tuple, kwargs: dict, input_arrays: list, boundary_types: dict[type, Callable], input_tensor
) -> Trace:
    """Run ``model(*args, **kwargs)`` once on fresh tensors made from ``input_arrays`` and walk its graph.

    ``boundary_types``: module classes exported as a whole (their converter decides later whether
    the module's configuration is supported). ``input_tensor(array, like)`` makes an input tensor.
    """
    leaves, structure = flatten((args, kwargs))
    fresh = [input_tensor(a, t) for a, t in zip(input_arrays, leaves)]
    keep: list = []
    calls: list[ModuleCall] = []
    handles = []
    paths = {id(m): name for name, m in model.named_modules()} if hasattr(model, "named_modules") else {}
    pending: dict = {}

    def pre_hook(module, args, kwargs):
        if kwargs:  # forward(input, hx=None): the arguments in their order
            unknown = set(kwargs) - {"input", "hx"}
            if unknown:
                raise UnsupportedOperatorError(
                    f"onnx.export: {type(module).__name__} called with the arguments {sorted(unknown)}"
                )
            args = tuple(args) + tuple(kwargs[k] for k in ("input", "hx") if k in kwargs)
        if not args or not isinstance(args[0], Tensor):  # a PackedSequence
            raise UnsupportedOperatorError(
                f"onnx.export: {type(module).__name__} on a {type(args[0]).__name__ if args else 'missing'} "
                "input is not supported; pass a padded tensor"
            )
        flat, _ = flatten(args)
        refs = [(t.grad_fn if t.grad_fn is not None else t, t) for t in flat]
        pending.setdefault(id(module), []).append((args, refs))

    def post_hook(module, args, output):
        call_args_, refs = pending[id(module)].pop()
        flat_out, _ = flatten(output)
        inputs = _call_inputs(call_args_, refs)
        calls.append(ModuleCall(module, inputs, flat_out, paths.get(id(module), "")))

    if hasattr(model, "modules"):
        for m in model.modules():
            if type(m) in boundary_types:
                handles.append(m.register_forward_pre_hook(pre_hook, with_kwargs=True))
                handles.append(m.register_forward_hook(post_hook))
    saved_switch = _graph.SAVE_ALL_INPUTS[0]
    _graph.SAVE_ALL_INPUTS[0] = True
    try:
        with enable_grad():
            # clones of the inputs that require grad: the model may change them in place, as in
            # torch (the graph then starts with an Identity)
            given = [t.clone() if t.requires_grad else t for t in fresh]
            call_args, call_kwargs = unflatten(given, structure)
            output = model(*call_args, **call_kwargs)
    finally:
        _graph.SAVE_ALL_INPUTS[0] = saved_switch
        for h in handles:
            h.remove()
    outputs, out_structure = flatten(output)
    if not outputs:
        raise RuntimeError("onnx.export: the model returned no tensor")
    result = Trace(fresh, outputs, out_structure, keep)
    for call in calls:
        keep.append(call)
        for i, t in enumerate(call.outputs):
            if t.grad_fn is not None:
                result.boundary[id(t.grad_fn)] = (call, i)
    keep.append(output)
    result.walk()
    return result


def _call_inputs(args: tuple, refs: list) -> list:
    """(producer, tensor) per positional argument of a module call (None where it is None)."""
    out, k = [], 0
    for a in args:
        if isinstance(a, Tensor):
            out.append(refs[k])
            k += 1
        elif a is None:
            out.append(None)
        elif isinstance(a, (tuple, list)):  # LSTM's (h0, c0)
            for v in a:
                if isinstance(v, Tensor):
                    out.append(refs[k])
                    k += 1
        else:
            raise RuntimeError(f"onnx.export: a module argument of type {type(a).__name__} is not supported")
    return out


def same_structure(a: Trace, b: Trace) -> bool:
    if len(a.steps) != len(b.steps):
        return False
    return all(x.kind == y.kind and x.label() == y.label() for x, y in zip(a.steps, b.steps))


def leaf_values_equal(x: Tensor, y: Tensor) -> bool:
    return x.shape == y.shape and np.array_equal(x._data, y._data, equal_nan=x._data.dtype.kind in "fc")
