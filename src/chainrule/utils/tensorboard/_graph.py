"""``add_graph``: a TensorBoard ``GraphDef`` of a module, read from the graph one forward pass records.

torch traces the module with TorchScript; chainrule has no tracer, but it has the autograd graph:
every differentiable op a forward runs leaves a node whose edges name its inputs. The model runs once
in eval mode with its floating-point inputs made to require grad (so they appear as leaves of that
graph); forward hooks note which module produced which outputs, so each op is named under the
innermost module that ran it (``Net/Linear[fc1]/linear``), as torch's graphs are scoped.

What such a graph cannot show: ops that record nothing (those on integer tensors, under no_grad, or
that no gradient flows through, such as ``argmax``), so an Embedding's indices enter with no edge.
"""

from __future__ import annotations

import re
from typing import Any

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ..._tensor import Tensor
from ...autograd.grad_mode import enable_grad
from ...autograd.graph import REGISTRY, Node

__all__ = ["build_graph"]


def _tensors_in(value: Any) -> list[Tensor]:
    """The tensors in a (nested) tuple, list or dict of module inputs or outputs."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def _source(tensor: Tensor) -> Any:
    """Where a tensor's value comes from in the recorded graph: its grad_fn, itself (a leaf), or None."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    return tensor if tensor.requires_grad else None


def _op_name(node: Node) -> str:
    """The op the node records, as TorchScript names it: ``aten::linear``, ``aten::mse_loss``
    (the op's own name, not its node's: torch's tracer sees ``linear`` where autograd records
    ``AddmmBackward0``); a custom Function's node by its class name, ``MyFnBackward`` ->
    ``aten::my_fn``."""
    op = getattr(node, "op", None)
    if op is not None and getattr(op, "name", None) in REGISTRY:
        return "aten::" + op.name
    base = re.sub(r"Backward\d*$", "", node.name())
    return "aten::" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()


def _shape_proto(shape) -> dict[str, AttrValue]:
    dims = [TensorShapeProto.Dim(size=int(d)) for d in shape]
    return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))}


def _module_scopes(model: Any) -> dict[int, str]:
    """id(module) -> its scope, ``Net/Sequential[features]/Conv2d[0]`` as torch writes scopes."""
    scopes: dict[str, str] = {}
    by_id: dict[int, str] = {}
    for name, module in model.named_modules():
        if not name:
            scope = type(module).__name__
        else:
            parent, _, attr = name.rpartition(".")
            scope = f"{scopes[parent]}/{type(module).__name__}[{attr}]"
        scopes[name] = scope
        by_id.setdefault(id(module), scope)
    return by_id


def _run_recorded(model: Any, args: tuple) -> tuple[list, list, list[Tensor], list]:
    """Run ``model(*args)`` in eval mode with hooks on every submodule; returns the module calls as
    (module, boundary sources, output tensors), the leaf inputs standing for ``args``, the outputs,
    and the positional inputs as passed."""
    calls: list = []
    pending: dict[int, list] = {}

    def before(module, module_args, module_kwargs):
        boundary = {id(s) for s in map(_source, _tensors_in((module_args, module_kwargs))) if s is not None}
        pending.setdefault(id(module), []).append(boundary)

    def after(module, module_args, module_kwargs, output):
        calls.append((module, pending[id(module)].pop(), _tensors_in(output)))

    # floating inputs become leaves that require grad, so the ops reading them are recorded
    leaves = [
        x.detach().requires_grad_(True) if isinstance(x, Tensor) and x.is_floating_point() else x
        for x in args
    ]
    handles = []
    for _, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after, with_kwargs=True))
    was_training = model.training
    model.train(False)
    try:
        with enable_grad():
            outputs = _tensors_in(model(*leaves))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return calls, leaves, outputs, list(args)


def _reachable(starts: list, stop: set[int]) -> list[Node]:
    """The nodes reachable from ``starts`` along edges, not going past ids in ``stop``; inputs before
    the nodes that read them."""
    order: list[Node] = []
    seen: set[int] = set()
    stack = [(s, False) for s in reversed(starts) if isinstance(s, Node)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen or id(node) in stop:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for edge in reversed(node.edges):
            if isinstance(edge, Node) and id(edge) not in seen:
                stack.append((edge, False))
    return order


def _input_shapes(node: Node) -> list:
    """The shape of each input of ``node`` where the node kept it (saved input or shape metadata)."""
    inputs = getattr(node, "inputs", None) or ()
    metas = getattr(node, "metas", None) or ()
    shapes = []
    for i in range(len(node.edges)):
        if i < len(inputs) and isinstance(inputs[i], Tensor):
            shapes.append(tuple(inputs[i].shape))
        elif i < len(metas):
            shapes.append(tuple(metas[i][0]))
        else:
            shapes.append(None)
    return shapes


def build_graph(
    model: Any, input_to_model: Any = None, verbose: bool = False
) -> tuple[GraphDef, RunMetadata]:
    """The ``GraphDef`` and (empty) run metadata of one forward pass of ``model``, as torch's
    ``add_graph`` logs them."""
    if not hasattr(model, "named_modules"):
        raise TypeError(
            f"add_graph: model must be a chainrule nn.Module; got {type(model).__name__} (wrap a plain "
            "function in an nn.Module whose forward calls it)"
        )
    if input_to_model is None:
        args: tuple = ()
    elif isinstance(input_to_model, (tuple, list)):
        args = tuple(input_to_model)
    else:
        args = (input_to_model,)
    calls, leaves, outputs, originals = _run_recorded(model, args)
    scope_of = _module_scopes(model)
    root = scope_of[id(model)]

    # each node under the innermost module whose call reached it (a child's call is inside its
    # parent's, so the deeper scope is the right one)
    node_scope: dict[int, str] = {}
    for module, boundary, module_outputs in calls:
        scope = scope_of.get(id(module), root)
        for node in _reachable([t.grad_fn for t in module_outputs], boundary):
            known = node_scope.get(id(node))
            if known is None or scope.count("/") > known.count("/"):
                node_scope[id(node)] = scope

    parameter_names: dict[int, str] = {}
    for name, parameter in model.named_parameters():
        owner, _, attr = name.rpartition(".")
        owner_module = model.get_submodule(owner) if owner else model
        parameter_names.setdefault(id(parameter), f"{scope_of[id(owner_module)]}/{attr}")

    shapes: dict[int, tuple] = {}
    for tensor in outputs + [t for _, _, outs in calls for t in outs]:
        if tensor.grad_fn is not None:
            shapes[id(tensor.grad_fn)] = tuple(tensor.shape)

    proto_nodes: list[NodeDef] = []
    names: dict[int, str] = {}
    taken: dict[str, int] = {}

    def unique(name: str) -> str:
        count = taken.get(name, 0)
        taken[name] = count + 1
        return name if count == 0 else f"{name}.{count}"

    for position, (leaf, original) in enumerate(zip(leaves, originals, strict=True), 1):
        if isinstance(original, Tensor):
            name = f"input/input.{position}"
            names[id(leaf)] = name
            proto_nodes.append(NodeDef(name=name, op="IO Node", attr=_shape_proto(original.shape)))

    graph_nodes = _reachable([t.grad_fn for t in outputs], set())
    for node in graph_nodes:  # shapes a consumer kept of its inputs fill in the producers' shapes
        for edge, shape in zip(node.edges, _input_shapes(node), strict=True):
            if isinstance(edge, Node) and shape is not None:
                shapes.setdefault(id(edge), shape)

    def leaf_name(leaf: Tensor, scope: str) -> str:
        if id(leaf) not in names:
            name = unique(parameter_names.get(id(leaf), f"{scope}/tensor"))
            names[id(leaf)] = name
            proto_nodes.append(
                NodeDef(
                    name=name,
                    op="prim::GetAttr",
                    attr={**_shape_proto(leaf.shape), "attr": AttrValue(s=b"{}")},
                )
            )
        return names[id(leaf)]

    for node in graph_nodes:
        scope = node_scope.get(id(node), root)
        inputs = []
        for edge in node.edges:
            if isinstance(edge, Node):
                inputs.append(names[id(edge)])
            elif isinstance(edge, Tensor):
                inputs.append(leaf_name(edge, scope))
        op = _op_name(node)
        name = unique(f"{scope}/{op.removeprefix('aten::')}")
        names[id(node)] = name
        attr = {"attr": AttrValue(s=b"{}")}
        if id(node) in shapes:
            attr.update(_shape_proto(shapes[id(node)]))
        proto_nodes.append(NodeDef(name=name, op=op, input=inputs, attr=attr))

    for position, tensor in enumerate(outputs, 1):
        source = _source(tensor)
        inputs = [names[id(source)]] if source is not None and id(source) in names else []
        proto_nodes.append(
            NodeDef(
                name=f"output/output.{position}", op="IO Node", input=inputs, attr=_shape_proto(tensor.shape)
            )
        )
    if verbose:
        for proto in proto_nodes:
            print(f"{proto.name} = {proto.op}({', '.join(proto.input)})")
    # torch logs the graph as run on the CPU with no step statistics; TensorBoard wants the entry
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=proto_nodes, versions=VersionDef(producer=22)), stats
