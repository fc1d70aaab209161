"""Custom differentiable functions: subclass ``Function`` with ``forward`` and ``backward``.

class Exp(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        y, = ctx.saved_tensors
        return grad_output * y
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from .._tensor import set_history as _set_tensor_history
from ..backend import recorded
from . import _tables as _forward_ad  # forward-mode tangents (filled by forward_ad)
from .grad_mode import GRAD
from .graph import Node, Op, node_class
from .saved_hooks import _pack, _Packed, current_hooks

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` passed to a custom Function's forward and backward."""

    def __init__(self) -> None:
        self._saved: tuple = ()
        self._versions: tuple = ()
        self._saved_outputs: dict = {}  # position in _saved -> weakrefs to (output, its node)
        self._name = "Function"
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_differentiable: set = set()
        self._dirty: tuple = ()
        self._saved_forward: tuple | None = None  # save_for_forward's tensors, while jvp runs

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for ``jvp`` (forward-mode AD); ``jvp`` reads them from ``saved_tensors``."""
        self._forward_tensors = tensors

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; changing them in place afterwards makes backward raise."""
        self._saved = tensors
        self._versions = tuple(t._version if t is not None else 0 for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors; a saved output comes back attached to its node, as in torch, so a
        backward written with differentiable ops can itself be differentiated."""
        if self._saved_forward is not None:  # inside jvp: what save_for_forward kept
            return self._saved_forward
        result = []
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if type(t) is _Packed:  # saved-tensor hooks packed it: unpacked, unchecked, as in torch
                result.append(t.get())
                continue
            if t is not None and t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: a tensor of shape {list(t.shape)} and dtype {t.dtype} "
                    f"saved by {self._name}Backward (save_for_backward) is at version "
                    f"{t._version}; expected version {v} instead. Hint: clone() the tensor before "
                    "modifying it in place."
                )
            refs = self._saved_outputs.get(i)
            if refs is not None:  # the returned output itself: one tensor per node for the engine
                out = refs[0]()
                if out is None:  # dropped by the user, so not in any graph: a stand-in will do
                    out = wrap(t._data)
                    out._vc, node = t._vc, refs[1]()
                    if node is not None:
                        out._rg, out.grad_fn = True, node
                t = out
            result.append(t)
        return tuple(result)

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """Declare the inputs that forward changed in place. They must be returned: ``apply`` then
        returns those same objects, with this Function's node as their history, as torch does."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class Function:
    """Base class of user-defined ops; call them with ``MyFunction.apply(*args)``."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement backward(ctx, *grads)")

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Forward-mode rule: the outputs' tangents from the inputs' (one per forward argument;
        zeros for a tensor without one, None for a non-tensor)."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = FunctionCtx()
        ctx._name = cls.__name__
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        previous = GRAD.enabled
        GRAD.enabled = False
        forward_mode = _forward_ad.FORWARD.active
        _forward_ad.FORWARD.active = False  # forward sees plain tensors; jvp gives the tangents
        try:
            if _has_setup_context(cls):  # forward(*args), then setup_context(ctx, inputs, output)
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            GRAD.enabled = previous
            _forward_ad.FORWARD.active = forward_mode
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if forward_mode:
            outputs = _with_tangents(cls, ctx, args, outputs, outs, single)
            outs = (outputs,) if single else outputs
        dirty = _dirty_ids(ctx, outs) if ctx._dirty else None
        if not (previous and any(ctx.needs_input_grad)):
            return outputs
        # differentiable outputs: float tensors not marked non-differentiable
        diff = [
            k
            for k, o in enumerate(outs)
            if isinstance(o, Tensor) and o._data.dtype.kind in "fc" and id(o) not in ctx._non_differentiable
        ]
        if not diff:
            return outputs
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        inputs = tuple(args[i] for i in positions)
        if dirty is not None:  # the node keeps stand-ins with the old history (no cycle through it)
            inputs = tuple(_stand_in(x, cls) if id(x) in dirty else x for x in inputs)
        metas = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs)
        in_metas = tuple((x._data.shape, x._data.dtype) for x in inputs)
        node = Node(_op_for(cls), inputs, None, (ctx, positions, diff, metas, in_metas), None, None)
        for k in diff:  # results of another array type (vmap's) may adjust the node, as an op's do
            if type(outs[k]._data) is not np.ndarray:
                recorded(node, inputs, outs[k]._data)
        results = list(outs)
        if len(diff) == 1:
            nodes = [node]
        else:  # one backward call for all outputs: their nodes feed a hidden tensor (see _Gather)
            gather = wrap(_GATHER_DATA)
            gather._rg, gather.grad_fn = True, node
            select = _select_op_for(cls)
            nodes = [
                _OutputNode(select, (gather,), None, (j, len(diff)), None, None) for j in range(len(diff))
            ]
        for k, node_k in zip(diff, nodes):
            inner = outs[k]
            if dirty is not None and id(inner) in dirty:  # changed in place: the same object
                out = inner
                set_history(out, node_k)
            else:
                out = wrap(inner._data)  # a new tensor (even for a returned input), sharing memory
                out._vc = inner._shared_vc()  # and version counter: in-place changes are seen
                out._rg, out.grad_fn = True, node_k
                if forward_mode:  # the tangents jvp gave go with the tensor returned
                    for level in _forward_ad.FORWARD.levels:
                        tangent = _forward_ad.tangent_of(inner, level)
                        if tangent is not None:
                            _forward_ad.set_tangent(out, tangent, level)
            results[k] = out
            for i, saved in enumerate(ctx._saved):  # weak: ctx -> output -> node -> ctx
                if saved is inner:
                    ctx._saved_outputs[i] = (weakref.ref(out), weakref.ref(node_k))
        hooks = current_hooks()
        if hooks is not None:  # saved-tensor hooks: the saved tensors are packed, as an op's are
            ctx._saved = tuple(None if t is None else _pack(hooks, t) for t in ctx._saved)
        if _WATCH is not None:  # anomaly mode or check_graph is on (see anomaly.py)
            _WATCH(cls, args, kwargs, node, nodes, diff, results)
        return results[0] if single else tuple(results)


def _with_tangents(cls, ctx: FunctionCtx, args: tuple, outputs, outs: tuple, single: bool):
    """A Function called on dual tensors: its ``jvp`` gives the outputs' tangents."""
    levels = [
        level
        for level in _forward_ad.FORWARD.levels
        if any(isinstance(a, Tensor) and _forward_ad.tangent_of(a, level) is not None for a in args)
    ]
    if not levels:
        return outputs
    if len(levels) > 1:  # forward needs rerunning per level, with the outer ones active
        raise NotImplementedError(
            f"{cls.__name__}: nested forward-mode AD (jacfwd(jacfwd(f)), jvp of jvp) through a "
            "custom autograd.Function is not implemented; use reverse mode for the outer level "
            "(jacrev(jacfwd(f)))"
        )
    (level,) = levels
    tangents = [_forward_ad.tangent_of(a, level) if isinstance(a, Tensor) else None for a in args]
    tangents = [
        (t if t is not None else wrap(np.zeros_like(a._data))) if isinstance(a, Tensor) else None
        for a, t in zip(args, tangents)
    ]
    ctx._saved_forward = getattr(ctx, "_forward_tensors", ())
    _forward_ad.FORWARD.active = False
    try:
        result = cls.jvp(ctx, *tangents)
    finally:
        _forward_ad.FORWARD.active = True
        ctx._saved_forward = None
    result = (result,) if not isinstance(result, tuple) else result
    if len(result) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp: expected {len(outs)} tangent(s), one per output, got {len(result)}"
        )
    fresh = []
    for out, tangent in zip(outs, result):
        if isinstance(out, Tensor) and any(out is a for a in args):
            out = out.view_as(out)  # a returned input: the tangent goes to a new tensor, as in torch
        if isinstance(out, Tensor) and tangent is not None and out._data.dtype.kind in "fc":
            if tuple(tangent.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"{cls.__name__}.jvp: the tangent of shape {list(tangent.shape)} does not match "
                    f"its output's shape {list(out.shape)}"
                )
            _forward_ad.set_tangent(out, tangent, level)
        fresh.append(out)
    return fresh[0] if single else tuple(fresh)


#: the ops layer's CopySlices for a view marked dirty (``ops.inplace.rebase_view_history``),
#: bound from above when it loads
REBASE_VIEW: list = [None]


def set_history(t, node) -> None:
    """Give tensor ``t``, changed in place, the new history ``node``: what torch's
    ``rebase_history`` does for a Function's dirty output. Its version was bumped already; a view
    passes the change on to its base (see ``ops.inplace``)."""
    if t._base is not None:
        REBASE_VIEW[0](node.name(), t, node)
        return
    _set_tensor_history(t, node)


def _dirty_ids(ctx: FunctionCtx, outs: tuple) -> set:
    """The ids of the tensors marked dirty, once checked to be returned; their versions are bumped
    (the in-place change), and ``ctx.saved_tensors`` expects the new version of the saved ones."""
    returned = {id(o) for o in outs}
    dirty = {id(t) for t in ctx._dirty}
    if not dirty <= returned:
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as output. "
            "The inputs that are modified inplace must all be outputs of the Function."
        )
    for t in {id(t): t for t in ctx._dirty}.values():
        t._bump_version()
    ctx._versions = tuple(t._version if t is not None else 0 for t in ctx._saved)
    return dirty


def _stand_in(x, cls):
    """The value an input marked dirty had before the call, as the Function's node keeps it."""
    if x._rg and x.grad_fn is None:
        raise RuntimeError(
            f"{cls.__name__}: a leaf Variable that requires grad has been used in an in-place "
            "operation (it was marked dirty with ctx.mark_dirty). Pass a clone() of it instead."
        )
    old = wrap(x._data)
    old._rg, old.grad_fn, old._vc = x._rg, x.grad_fn, x._vc
    return old


def once_differentiable(backward):
    """Decorator for a Function's ``backward`` that cannot itself be differentiated.

    The backward runs without recording, even under ``create_graph=True``; when its inputs (the
    gradients) require grad, its results lead to a node that raises if a second backward reaches
    it, as ``torch.autograd.function.once_differentiable`` does.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *args):
        previous = GRAD.enabled
        GRAD.enabled = False
        try:
            outputs = backward(ctx, *args)
        finally:
            GRAD.enabled = previous
        if not previous:
            return outputs
        inputs = tuple(a for a in args if isinstance(a, Tensor) and a._rg)
        if not inputs:
            return outputs
        node = Node(_ONCE_ERROR, inputs, None, (), None, None)
        single = not isinstance(outputs, tuple)
        results = []
        for o in (outputs,) if single else outputs:
            if isinstance(o, Tensor):
                o = wrap(o._data)
                o._rg, o.grad_fn = True, node
            results.append(o)
        return results[0] if single else tuple(results)

    return wrapper


def _raise_once_differentiable(F, g, xs, out, params, needs):
    raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


_ONCE_ERROR = Op("once_differentiable_error", _raise_once_differentiable, saves_inputs=False)
_ONCE_ERROR.node_name = "Error"

#: ``anomaly.py`` sets this while it watches: called with each recorded Function call
_WATCH = None
_OPS: dict = {}
_SELECT_OPS: dict = {}
_SETUP_CONTEXT: dict = {}


def _has_setup_context(cls) -> bool:
    """Whether ``cls`` uses the forward / setup_context style (torch 2's alternative to ctx)."""
    found = _SETUP_CONTEXT.get(cls)
    if found is None:
        found = False
        for base in cls.__mro__:
            if base is Function:
                break
            if "setup_context" in vars(base):
                found = True
        _SETUP_CONTEXT[cls] = found
    return found


#: the data of the hidden tensor that gathers a multi-output Function's gradients
_GATHER_DATA = np.empty((), dtype=np.float64)


class _Gather:
    """The gradients of a multi-output Function's outputs, one slot each (None: none arrived).

    Each output's node sends its gradient in its own slot to one hidden tensor, whose node is the
    Function's; the engine sums what arrives there (``+`` merges slots) like any gradient, and the
    user's backward then runs once with all of them. Shaped like ``_GATHER_DATA``, so the engine's
    un-broadcasting leaves it alone.
    """

    __slots__ = ("grads",)
    shape = _GATHER_DATA.shape
    dtype = _GATHER_DATA.dtype

    def __init__(self, grads: tuple) -> None:
        self.grads = grads

    @property
    def _data(self) -> _Gather:  # what the engine's create_graph path reads the dtype from
        return self

    def __add__(self, other: _Gather) -> _Gather:
        return _Gather(
            tuple(b if a is None else a if b is None else a + b for a, b in zip(self.grads, other.grads))
        )


class _OutputNode(Node):
    """The node of one output of a multi-output Function: shown as the Function's node."""

    __slots__ = ()

    @property
    def next_functions(self) -> tuple:
        return self.edges[0].next_functions if self.inputs is not None else ()


_OutputNode.kind = _OutputNode  # its own kind of node class (see graph.node_class)


def _select_op_for(cls) -> Op:
    op = _SELECT_OPS.get(cls)
    if op is None:

        def select(F, g, xs, out, params, needs):
            j, n = params
            return (_Gather(tuple(g if i == j else None for i in range(n))),)

        op = Op(cls.__name__ + "_output", select, saves_inputs=False)
        _name_as_function(op, cls)
        _SELECT_OPS[cls] = op
    return op


def _expandable(shape: tuple, to: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``to`` (a gradient of that shape can be summed down)."""
    try:
        return np.broadcast_shapes(shape, to) == to
    except ValueError:
        return False


def _op_for(cls) -> Op:
    op = _OPS.get(cls)
    if op is None:
        op = Op(cls.__name__, _custom_backward(cls), saves_inputs=False)
        op.saves = True  # its ctx (in the node's params) and what it saved
        _name_as_function(op, cls)
        _OPS[cls] = op
    return op


def _name_as_function(op: Op, cls) -> None:
    """torch's name for a Function's node: ``<class '...autograd.function.MyFnBackward'>``."""
    op.node_name = cls.__name__ + "Backward"
    op.node_class = node_class(op.node_name, Node, __name__)


def _custom_backward(cls):
    """The engine-facing rule of a Function: gather the outputs' gradients, call the user's
    backward once, and hand back one gradient per tensor input."""

    def backward(F, g, xs, out, params, needs):
        ctx, positions, diff, metas, in_metas = params
        per_output = g.grads if type(g) is _Gather else (g,)
        grads_out: list = [None] * len(metas)
        for k, meta in enumerate(metas):
            if meta is not None and ctx.materialize_grads:  # torch: zeros for the ones unused
                grads_out[k] = np.zeros(meta[0], meta[1])
        for k, gk in zip(diff, per_output):
            if gk is not None:
                grads_out[k] = gk
        grads_out = [x if x is None or isinstance(x, Tensor) else wrap(x) for x in grads_out]
        result = cls.backward(ctx, *grads_out)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(ctx.needs_input_grad)
        if len(result) < n_args:
            raise RuntimeError(
                f"function {cls.__name__}Backward returned an incorrect number of gradients "
                f"(expected {n_args}, got {len(result)})"
            )
        grads = []
        for pos, (shape, dtype) in zip(positions, in_metas):
            r = result[pos]
            if r is None:
                grads.append(None)
                continue
            if not isinstance(r, Tensor):
                r = wrap(np.asarray(r, dtype=dtype))
            if r.shape != shape and not _expandable(shape, tuple(r.shape)):
                raise RuntimeError(
                    f"Function {cls.__name__}Backward returned an invalid gradient at index {pos}"
                    f" - got {list(r.shape)} but expected shape compatible with {list(shape)}"
                )
            if F.is_tensor:
                grads.append(r)
            else:  # the user's array, maybe kept: a view tells the engine it is not its own to
                d = r._data  # store in a .grad and add into in place (engine._accumulate copies)
                grads.append(d.view() if type(d) is np.ndarray else d)
        return tuple(grads)

    return backward
