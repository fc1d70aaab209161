"""The backward pass: reverse-mode accumulation over the recorded graph.

Backward is the chain rule applied node by node, as in the lecture: visit the nodes in reverse
topological order; at each one, multiply the upstream gradient by the op's local derivative
(``op.backward``) and pass the results down its edges, summing where a value fed several ops.

The graph's vertices are Nodes (one per recorded op call) and leaf tensors that require grad; a
node's ``edges`` name, per input, the vertex that produced it when the op ran (so an in-place op
that later gives a tensor a new history does not reroute older consumers).

Two passes, both iterative (no recursion limit on deep graphs):
1. count, for every vertex reachable from the roots, how many edges point to it;
2. start from the roots; a vertex is ready once all its consumers have passed their gradient down.

``autograd.grad`` and ``backward(inputs=...)`` want the gradients of some tensors only: pass 1 then
also finds the nodes on a path to them, and only those run (and are freed), as in torch.

Freeing drops what a node kept for its rule (see ``Node``); a node that kept nothing (``a + b``)
stays runnable, so a second backward through it works, as in torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import _dtype
from .._fpe import quiet as _quiet
from .._tensor import Tensor, wrap
from ..backend import finished_grad
from ._tables import FORWARD, POST_ACCUMULATE, restore_out_tangents
from .anomaly import STATE as ANOMALY
from .anomaly import report_backward_error, watch_graph
from .grad_mode import GRAD
from .graph import Node, Outputs, Retain, saved_inputs
from .math import ARRAY_MATH, tensor_math

__all__ = ["backward", "grad"]

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _freed(node) -> RuntimeError:
    return RuntimeError(f"{_FREED} (the freed node: {node.name()})")


def vertex_of(t):
    """The graph vertex a tensor's gradient arrives at: its grad_fn, or the leaf itself."""
    return t.grad_fn if t.grad_fn is not None else t


def _count_consumers(roots) -> dict:
    """Pass 1: for each vertex below the roots, the number of edges into it."""
    consumers: dict = {}
    stack = list(roots)
    while stack:
        v = stack.pop()
        if type(v) is not Node and not isinstance(v, Node):
            continue  # a leaf
        if v.inputs is None:
            raise _freed(v)
        for e in v.edges:
            if e is not None:
                if e in consumers:
                    consumers[e] += 1
                else:
                    consumers[e] = 1
                    stack.append(e)
    return consumers


def _nodes_to_run(roots, capture: dict) -> tuple[set, dict]:
    """Pass 1 for ``autograd.grad`` and ``backward(inputs=...)``: run only the nodes on a path to
    a captured vertex (as torch does: others are neither run, nor freed, nor see their hooks fire).

    Returns the nodes that must run, and the consumer counts among them. A post-order walk,
    iterative: a node runs when one of its edges leads to a captured vertex or to a node that runs.
    A node already freed runs (and raises) unless it is captured: nothing is known below it.
    """
    run: set = set()
    seen: set = set()
    stack = [(r, False) for r in roots]
    while stack:
        v, edges_done = stack.pop()
        if edges_done:
            for e in v.edges:
                if e is not None and (e in run or e in capture):
                    run.add(v)
                    break
            continue
        if not isinstance(v, Node) or v in seen:
            continue
        seen.add(v)
        if v.inputs is None:
            if v not in capture:
                run.add(v)
            continue
        stack.append((v, True))
        stack.extend((e, False) for e in v.edges if e is not None and e not in seen)
    consumers: dict = {}
    for v in run:
        if v.inputs is not None:
            for e in v.edges:
                if e is not None and (e in run or e in capture):
                    consumers[e] = consumers.get(e, 0) + 1
    return run, consumers


def _check_versions(node) -> None:
    """Torch's error when a value backward needs was changed in place after it was saved."""
    if node.op.saves_inputs and node.inputs[0] is not None:
        versions = node.versions or (0,) * len(node.inputs)
        for x, v, saved in zip(node.inputs, versions, saved_inputs(node)):
            vc = x._vc
            if saved and vc is not None and vc[0] != v:
                _raise_modified(x, node, vc[0], v)
    if node.out_version is not None and node.out_version[0] != 0:
        _raise_modified(None, node, node.out_version[0], 0)


def _raise_modified(x, node, now, saved):
    what = (
        "its output or a tensor saved with it"
        if x is None
        else f"a tensor of shape {list(x.shape)} and dtype {x.dtype}"
    )
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {what}, saved by {node.op.node_name}, is at version {now}; expected version "
        f"{saved} instead. Hint: clone() the tensor before modifying it in place."
    )


@_quiet  # torch's backward is silent where IEEE arithmetic gives inf or NaN
def _run(roots, root_grads, retain_graph: bool, create_graph: bool, capture=None):
    """Run backward from the root vertices. Gradients go into leaves' ``.grad``, or into
    ``capture`` (a dict vertex -> gradient, for ``autograd.grad``) when given.

    The lecture's loop: take a vertex whose consumers have all sent their gradient, apply its
    local derivative (``_backward_step``), send each input's gradient down its edge, summing
    where several arrive at one vertex.
    """
    if capture is None:
        run = None  # every node below the roots runs
        consumers = _count_consumers(roots)
    else:  # only the nodes on a path to a captured vertex run
        run, consumers = _nodes_to_run(roots, capture)
    grads: dict = {}  # vertex -> the sum of the gradients that reached it so far
    for root, g in zip(roots, root_grads):
        grads[root] = grads[root] + g if root in grads else g
    ready = [root for root in dict.fromkeys(roots) if root not in consumers]
    F = tensor_math() if create_graph else ARRAY_MATH
    plain = not create_graph  # rules run on raw arrays
    # complex gradients need the slower step (see _complex_step); only once a complex tensor has
    # required grad in this process, so that real programs never pay for it
    complex_mode = _dtype.COMPLEX_AUTOGRAD[0]
    step = _complex_step if complex_mode else _backward_step
    plain_node, one_unsaved, one_needed = Node, _ONE_UNSAVED, _ONE_NEEDED  # (locals: the hot loop)
    if ANOMALY.enabled:  # once per call, not per node: every node checks its gradients
        watch_graph(roots)
    vertex = None
    # a chain (x * 2 then sin ...): a one-input node whose input has no other consumer hands its
    # gradient straight to that input, which runs next (as it would off ``ready``), bypassing
    # ``grads`` and ``ready``: ~0.1 us of 1.3 a node on bench/overhead.py's backward
    chained = chained_g = None
    stored: set = set()  # arrays already handed to a .grad, so the next one gets a copy
    previous_mode = GRAD.enabled
    GRAD.enabled = create_graph  # backward of backward is recorded only when asked for
    try:
        while ready or chained is not None:
            if chained is not None:
                vertex, g, chained = chained, chained_g, None
            else:
                vertex = ready.pop()
                g = grads.pop(vertex, None)
            if type(vertex) is not plain_node and not isinstance(vertex, Node):  # a leaf tensor
                if g is not None:
                    _deliver(vertex, g, create_graph, capture, stored)
                continue
            node = vertex
            if g is not None:
                if node.hooks:  # hooks of the tensor this node produced; retained grads
                    if type(node.hooks[0]) is Outputs:  # (a packed multi-output result)
                        _hook_unreached_outputs(node.hooks[0], consumers, roots)
                    g = _run_hooks(node.hooks, g, create_graph, _wrap, stored)
                if capture is not None and node in capture:
                    capture[node] = g
            if run is not None and node not in run:
                continue  # off every path to a captured vertex: it neither runs nor frees
            if node.inputs is None:
                raise _freed(node)
            # the chain rule at this node: upstream gradient times local derivative, per input
            if g is None:  # nothing flows through: only tell the inputs that this node is done
                input_grads = _nones(node)
            elif (
                plain
                and not complex_mode
                and type(node) is plain_node
                and len(node.edges) == 1
                and node.meta is None
            ):
                # _backward_step inlined for the commonest node (one input, x * 2, sin): a call
                # per node is 12-15% of bench/overhead.py's forward + backward
                op = node.op
                x = node.inputs[0]  # None where the rule reads no input value
                if (node.out_version is not None and node.out_version[0]) or (
                    x is not None and (node.versions is not None or (x._vc is not None and x._vc[0]))
                ):  # (_any_modified inlined)
                    _check_versions(node)
                gx = op.backward(
                    F, g, one_unsaved if x is None else (x._data,), node.out, node.params, one_needed
                )[0]
                if gx is not None and not op.same_shape:
                    shape, dtype = node.metas[0] if x is None else (x._data.shape, x._data.dtype)
                    if gx.shape != shape or gx.dtype != dtype:
                        gx = _fit(gx, shape, dtype, F)
                edge = node.edges[0]
                left = consumers[edge] - 1
                consumers[edge] = left
                if left == 0 and gx is not None and edge not in grads:
                    chained, chained_g = edge, gx  # its only gradient: it runs next
                else:
                    if gx is not None:
                        grads[edge] = grads[edge] + gx if edge in grads else gx
                    if left == 0:
                        ready.append(edge)
                if not retain_graph and op.saves:
                    node.inputs = node.out = node.params = None
                continue
            else:
                input_grads = step(node, g, F, consumers)
                op = node.op
                if not retain_graph and op.saves:
                    node.inputs = node.out = node.params = None  # what backward read; a ctx
            for edge, gx in zip(node.edges, input_grads):
                if edge is None or (run is not None and edge not in consumers):
                    continue  # a constant, or off the path to what autograd.grad wants
                if gx is not None:
                    grads[edge] = grads[edge] + gx if edge in grads else gx
                left = consumers[edge] - 1
                consumers[edge] = left
                if left == 0:
                    ready.append(edge)
    except Exception:  # costs nothing until raised
        if ANOMALY.enabled:
            report_backward_error(vertex)  # torch's warning: the failing node's forward call
        raise
    finally:
        GRAD.enabled = previous_mode


def _nones(node) -> tuple:
    return (None,) * len(node.edges)


def _backward_step(node, g, F, consumers: dict):
    """One node's part of the chain rule: ``g`` (dl/d output) times the local derivative, for each
    input that wants a gradient, each summed down to its input's shape and dtype."""
    op = node.op
    saved = None if type(node) is Node else node.unpack_saved()
    if saved is None:
        inputs, out = node.inputs, node.out
        if (node.out_version is not None and node.out_version[0]) or (
            op.saves_inputs and (node.versions is not None or _any_modified(inputs))
        ):
            _check_versions(node)
    else:  # saved-tensor hooks packed them: what unpack returns is used unchecked, as in torch
        inputs, out = saved
    if F is not ARRAY_MATH:  # create_graph: the rule runs on tensors, its own ops recorded
        if out is not None:  # the output, re-attached to this node
            out = _wrap(out)
            out._rg, out._grad_fn = True, node
            if FORWARD.active:  # forward over reverse: the output's tangents come along
                restore_out_tangents(node, out)
        needs = _needs(node, consumers)
        input_grads = op.backward(F, g, inputs, out, node.params, needs)
    elif len(inputs) == 1:  # plain backward on arrays; one input is the common case (x * 2, sin)
        x = inputs[0]
        needs = _ONE_NEEDED  # the node exists, so its one input wants a gradient
        input_grads = op.backward(F, g, _ONE_UNSAVED if x is None else (x._data,), out, node.params, needs)
    else:
        needs = _needs(node, consumers)
        input_grads = op.backward(
            F, g, [None if x is None else x._data for x in inputs], out, node.params, needs
        )
    if node.meta is not None:  # a debugging observer (anomaly mode, viz.explain)
        node.meta.after_backward(node, g, input_grads)
    if op.same_shape:
        return input_grads
    fitted = list(input_grads)
    for i, gx in enumerate(fitted):
        if gx is not None and needs[i]:
            x = inputs[i]
            shape, dtype = node.metas[i] if x is None else (x._data.shape, x._data.dtype)
            if gx.shape != shape or gx.dtype != dtype:
                fitted[i] = _fit(gx, shape, dtype, F)
    return fitted


def _complex_step(node, g, F, consumers: dict):
    """``_backward_step`` where gradients may be complex. torch's gradient of a complex input is
    the conjugate Wirtinger derivative: for a holomorphic f, ``grad_z = g * conj(f'(z))``; the
    rules are written as the plain chain rule ``g * f'(z)``, so conjugating the gradient on the way
    in and every result on the way out gives torch's. Ops whose rule already follows torch's
    convention (``op.complex_rule``: abs, real, imag, angle, casts) run as they are; an op without
    one that maps a complex input to a real output is refused rather than given a wrong gradient."""
    op = node.op
    if op.complex_rule:
        return _backward_step(node, g, F, consumers)
    if (g._data if F.is_tensor else g).dtype.kind == "c":
        grads = _backward_step(node, F.conj(g), F, consumers)
        return [None if gx is None else F.conj(gx) for gx in grads]
    for i, x in enumerate(node.inputs):
        if x is not None:
            dtype = x._data.dtype
        elif node.metas is not None:
            dtype = node.metas[i][1]
        else:
            continue  # same_shape: the input's dtype is the (real) gradient's
        if dtype.kind == "c":
            raise RuntimeError(
                f"{op.name}: the derivative for complex inputs is not implemented (it maps a "
                f"complex input to a real output); compute it from .real / .imag / .abs() instead"
            )
    return _backward_step(node, g, F, consumers)


def _needs(node, consumers: dict) -> list:
    """Which inputs want a gradient: those with an edge that backward will visit."""
    if len(node.edges) == 1:
        return _ONE_NEEDED
    return [e is not None and e in consumers for e in node.edges]


_ONE_UNSAVED = (None,)
_ONE_NEEDED = (True,)


def _any_modified(inputs) -> bool:
    """Cheap pre-check: only tensors changed in place have a non-zero version."""
    for x in inputs:
        if x is not None and x._vc is not None and x._vc[0]:
            return True
    return False


def _fit(gx, shape, dtype, F):
    """The one place where broadcasting is undone: sum the gradient down to the input's shape,
    and give it the input's dtype."""
    if gx.shape != shape:
        gx = F.sum_to(gx, shape)
    if dtype.kind != "c" and (gx._data if F.is_tensor else gx).dtype.kind == "c":
        gx = F.real(gx)  # a real input of a complex result: torch keeps the real part
    if F.is_tensor:
        if gx._data.dtype != dtype:
            gx = gx.to(dtype)
    elif gx.dtype is not dtype and gx.dtype != dtype:
        gx = gx.astype(dtype)
    return gx


def _deliver(leaf, g, create_graph: bool, capture, stored: set) -> None:
    """A leaf's finished gradient: through its hooks, then into ``.grad`` (or ``capture``)."""
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g, create_graph, _wrap)
    if capture is None:
        _accumulate(leaf, g, create_graph, stored, _wrap)
        if POST_ACCUMULATE:  # Tensor.register_post_accumulate_grad_hook
            entry = POST_ACCUMULATE.get(id(leaf))
            if entry is not None and entry[0]() is leaf:
                for hook in tuple(entry[1].values()):
                    hook(leaf)
    elif leaf in capture:
        capture[leaf] = g


def _run_hooks(hooks, g, create_graph: bool, wrap, stored=None):
    """Tensor hooks see the gradient first (one that returns a tensor replaces it); then the
    gradient is kept in ``.grad`` of the non-leaf tensors that asked to retain it.

    A hook may keep the gradient it saw or return one of the user's own tensors: what leaves here
    after a hook ran is then a view, which ``_accumulate`` copies rather than store and later add
    into in place (as HIPS autograd does with arrays it does not own).
    """
    ran = False
    for hook in hooks:
        if type(hook) is Retain or type(hook) is Outputs:
            continue
        seen = g if create_graph else wrap(g)
        result = hook(seen)
        ran = True
        if result is not None:
            _check_hook_result(hook, seen, result)
            g = result if create_graph else result._data
    if ran and not create_graph and type(g) is np.ndarray:
        g = g.view()
    for hook in hooks:
        if type(hook) is Retain:
            t = hook.tensor()
            if t is not None:
                _accumulate(t, g, create_graph, stored if stored is not None else set(), wrap)
    return g


def _hook_unreached_outputs(outputs: Outputs, consumers: dict, roots) -> None:
    """torch calls the hooks of every output of a node that runs, with None for an output no
    gradient reached (svd's U when only S is used): the parts of a packed result that this
    backward did not reach get their hooks called so (what they return is ignored)."""
    for ref in outputs.nodes:
        part = ref()
        if part is not None and part.hooks and part not in consumers and part not in roots:
            for hook in part.hooks:
                if type(hook) is not Retain and type(hook) is not Outputs:
                    hook(None)


def _check_hook_result(hook, seen, result) -> None:
    """A hook may replace a gradient only by a tensor of the same shape and type, as in torch."""
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    name = getattr(hook, "__name__", type(hook).__name__)
    was, got = seen._data, result._data
    if got.dtype != was.dtype or (type(got) is not type(was) and _library(got) != _library(was)):
        raise RuntimeError(
            f"hook '{name}' has changed the type of value (was {seen.type()} got {result.type()}); "
            f"return a gradient of the same dtype, e.g. result.to({seen.dtype})"
        )
    if got.shape != was.shape:
        raise RuntimeError(
            f"hook '{name}' has changed the size of value (was {list(was.shape)}, got "
            f"{list(got.shape)}); return a gradient of the same shape"
        )


def _library(array) -> str:
    """numpy or cupy: where an array lives (a NumPy scalar is at home with NumPy arrays)."""
    return type(array).__module__.partition(".")[0]


def _laid_out_like(g: np.ndarray, param: np.ndarray) -> bool:
    """torch's layout of ``.grad``: contiguous for a contiguous parameter (``p.grad.view(-1)``
    works), else the parameter's own strides."""
    return g.flags.c_contiguous if param.flags.c_contiguous else g.strides == param.strides


def _copy_laid_out_like(g: np.ndarray, param: np.ndarray) -> np.ndarray:
    if g.shape != param.shape or param.flags.c_contiguous:
        return np.array(g, order="C")
    out = np.empty_like(param, dtype=g.dtype)  # order "K": the parameter's memory order
    np.copyto(out, g)
    return out


def _accumulate(t, g, create_graph: bool, stored: set, wrap) -> None:
    """Add a finished gradient into ``t.grad``: the first one by reference (copied when the array
    is not the engine's own: a view, one already in a ``.grad``, read-only), later ones in place;
    with create_graph, a differentiable copy first and out-of-place sums after."""
    if type(g) is not np.ndarray:
        g = finished_grad(g, t._data, True)  # another array type may adjust it (see backend)
    grad = t._grad  # the slot behind the checked ``grad`` property: engine gradients fit
    if create_graph:
        # a copy, differentiable, as torch keeps: g may be the user's tensor (a hook's result,
        # grad_tensors), which a later backward would add into in place
        t._grad = g.clone() if grad is None else grad + g
        return
    if grad is None:
        if (
            type(g) is not np.ndarray
            or g.base is not None
            or id(g) in stored
            or not g.flags.writeable
            or not _laid_out_like(g, t._data)
        ):
            # a NumPy scalar (what ufuncs return for 0-d arrays) becomes a writable 0-d array
            if isinstance(g, np.generic):
                g = np.array(g)
            else:  # another array type (vmap's batched array) copies itself
                g = _copy_laid_out_like(g, t._data) if type(g) is np.ndarray else g.copy()
        stored.add(id(g))
        t._grad = wrap(g)
    else:  # in place, as torch does outside grad mode (even into a grad that has a history)
        grad._data += g
        vc = grad._vc  # a version bump: a graph that saved this grad sees the change
        if vc is None:
            grad._vc = [1]
        else:
            vc[0] += 1


def _root_gradients(outputs, grad_outputs, create_graph: bool, who: str):
    grads = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{who}: outputs must be Tensors, got {type(out).__name__}")
        if not out._rg:
            raise RuntimeError(
                f"{who}: element {i} of tensors does not require grad and does not have a grad_fn"
            )
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._data.dtype.kind == "c":
                raise RuntimeError(
                    f"{who}: grad can be implicitly created only for real scalar outputs, but the "
                    f"output has dtype {out.dtype}; reduce it to a real number first, e.g. "
                    "z.abs().sum().backward()"
                )
            if out._data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be implicitly created only for scalar outputs, but the "
                    f"output has shape {list(out.shape)}; pass gradient= (a tensor of that shape), "
                    "or reduce the output first, e.g. y.sum().backward()"
                )
            g = np.ones_like(out._data)
        else:
            g = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=out._data.dtype)
            if g.shape != out._data.shape:
                raise RuntimeError(
                    f"{who}: mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} "
                    f"and output[{i}] has a shape of {list(out.shape)}"
                )
            if create_graph and isinstance(grad_outputs[i], Tensor):
                grads.append(grad_outputs[i])
                continue
            # the user's array, maybe kept: a view, so that _accumulate copies it if it reaches a
            # .grad unchanged (a copy here would cost one when it does not)
            g = g.view()
        grads.append(_wrap(g) if create_graph else g)
    return grads


def _wrap(a):
    return wrap(a)


def _as_list(x) -> list:
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def backward(
    tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None
) -> None:
    """Compute the sum of gradients of ``tensors`` with respect to graph leaves into ``.grad``.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensors whose derivative is computed.
    grad_tensors : the "vector" of the vector-Jacobian product, one per tensor; may be None for
        one-element tensors.
    retain_graph : keep the graph for another backward (default: ``create_graph``).
    create_graph : record the backward pass itself, so that the gradients can be differentiated.
    inputs : accumulate only into these tensors' ``.grad``.
    """
    roots = _as_list(tensors)
    if grad_tensors is not None:
        grad_tensors = (
            _as_list(grad_tensors)
            if not isinstance(grad_tensors, Sequence) or type(grad_tensors) is not list
            else grad_tensors
        )
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = _root_gradients(roots, grad_tensors, create_graph, "backward")
    vertices = [vertex_of(r) for r in roots]
    if inputs is not None:
        inputs = _as_list(inputs)
        for i, x in enumerate(inputs):
            if not x._rg:
                raise RuntimeError(f"backward: inputs[{i}] of shape {list(x.shape)} does not require grad")
        capture = dict.fromkeys(vertex_of(x) for x in inputs)
        _run(vertices, root_grads, retain_graph, create_graph, capture)
        for x in inputs:
            g = capture[vertex_of(x)]
            if g is not None and not x.retains_grad:  # a retained grad was filled by _run
                if type(g) is np.ndarray:  # may also have gone to another input or a retained
                    g = g.view()  # grad: a view makes _accumulate copy it rather than share it
                _accumulate(x, g, create_graph, set(), _wrap)
        return
    _run(vertices, root_grads, retain_graph, create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated.

    Parameters
    ----------
    outputs, inputs : Tensors or sequences of Tensors.
    grad_outputs : the vector of the vector-Jacobian product (None for scalars).
    retain_graph : keep the graph (default: ``create_graph``).
    create_graph : record the derivative so that it can be differentiated again.
    allow_unused : return None for an input the outputs do not depend on instead of raising.
    is_grads_batched : the first dim of every ``grad_outputs`` entry is a batch: one
        vector-Jacobian product per row, stacked (torch uses vmap; here one backward per row over
        the retained graph).
    materialize_grads : return zeros instead of None for unused inputs.
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    if grad_outputs is not None:
        grad_outputs = _as_list(grad_outputs)
    if is_grads_batched:
        return _batched_grad(
            outs, ins, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
        )
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, x in enumerate(ins):
        if not x._rg:
            raise RuntimeError(f"grad: input {i} of shape {list(x.shape)} does not require grad")
    root_grads = _root_gradients(outs, grad_outputs, create_graph, "grad")
    capture = dict.fromkeys(vertex_of(x) for x in ins)
    _run([vertex_of(o) for o in outs], root_grads, retain_graph, create_graph, capture)
    result = []
    for i, x in enumerate(ins):
        g = capture[vertex_of(x)]
        if g is not None and type(g) is not np.ndarray:
            g = finished_grad(g, x._data)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: one of the differentiated Tensors (input {i}, shape {list(x.shape)}) "
                    "appears to not have been used in the graph. Set allow_unused=True if this is "
                    "the desired behavior."
                )
            if materialize_grads:
                result.append(wrap(np.zeros_like(x._data)))
            else:
                result.append(None)
        else:
            result.append(g if create_graph else _wrap(g))
    return tuple(result)


def _batched_grad(outs, ins, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``grad(..., is_grads_batched=True)``: one backward per row of the batched grad_outputs."""
    if grad_outputs is None:
        raise RuntimeError("grad: is_grads_batched=True needs grad_outputs (batched along dim 0)")
    sizes = set()
    for i, (g, out) in enumerate(zip(grad_outputs, outs)):
        if g is None or tuple(g.shape[1:]) != tuple(out.shape):
            shape = "None" if g is None else f"torch.Size({list(g.shape)})"
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output "
                "as the batch dimension. The sizes of the remaining dimensions are expected to "
                "match the shape of corresponding output, but a mismatch was detected: "
                f"grad_output[{i}] has a shape of {shape} and output[{i}] has a shape of "
                f"torch.Size({list(out.shape)}). If you only want some tensors in `grad_output` "
                "to be considered batched, consider using vmap."
            )
        sizes.add(int(g.shape[0]))
    if len(sizes) != 1:
        raise RuntimeError(f"grad: the batched grad_outputs disagree on the batch size: {sorted(sizes)}")
    (n,) = sizes
    rows = []
    for k in range(n):
        keep = True if k < n - 1 else retain_graph
        rows.append(
            grad(
                outs,
                ins,
                [g[k] for g in grad_outputs],
                keep,
                create_graph,
                allow_unused,
                False,
                materialize_grads,
            )
        )
    result = []
    for j in range(len(ins)):
        column = [row[j] for row in rows]
        if any(c is None for c in column):
            result.append(None)
            continue
        result.append(wrap(np.stack([c._data for c in column])) if not create_graph else _stack(column))
    return tuple(result)


def _stack(tensors):
    """Differentiable stack of gradients (create_graph): through the ops namespace, bound late."""
    from .math import tensor_math

    return tensor_math().stack(tensors)
