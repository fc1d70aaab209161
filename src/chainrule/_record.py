"""Recording: the Node an op call leaves in the graph, and the Tensor it returns.

Every op ends in ``make_result`` (``make_unary_result`` for one input, ``make_view`` for a view of
its input): in grad mode, when an input requires grad, it records a ``Node`` (autograd/graph.py)
keeping exactly what the op's derivative reads, and the new tensor's ``grad_fn`` is that node.
The hottest path of the library: plain attribute stores, no comprehensions, no calls.
"""

from __future__ import annotations

import numpy as np

from ._tensor import MultiOutputViewSteps, Tensor, sync_view
from .autograd._tables import FORWARD
from .autograd.grad_mode import GRAD, GRAD_OFF, INFERENCE, INFERENCE_VERSION, saved_versions
from .autograd.graph import _UNSAVED, SAVE_ALL_INPUTS, Node, Op
from .backend import recorded

__all__ = ["make_result", "make_unary_result", "make_view", "mark_multi_output_views", "save_outputs"]

_new = object.__new__  # anomaly mode / check_graph swap this and Node while on (autograd/anomaly.py)


def make_result(data, op: Op, inputs: tuple, params: tuple = (), *, _seen: bool = False) -> Tensor:
    """Wrap an op's output array and, in grad mode, record the Node that produced it.

    The hot path of every op: kept to plain attribute stores and one loop over the inputs.
    (``_seen``: internal, the result of another array type whose node is adjusted afterwards.)
    """
    if FORWARD.active:  # a forward-mode dual level is open (autograd/forward_ad.py)
        return _with_tangent(data, op, inputs, params)
    if type(data) is not np.ndarray:
        if isinstance(data, np.generic):
            data = np.asarray(data)  # NumPy gives scalars for 0-d results: keep a writable 0-d array
        elif not _seen:  # another array type (vmap's batched array) may adjust the node: off the
            # hot path, which pays nothing for it (the keyword's default costs no time)
            return _adjusted(make_result(data, op, inputs, params, _seen=True), inputs, data)
    t = _new(Tensor)
    t._data = data
    t._grad = None
    t._hooks = None
    t._vc = None
    t._base = None
    if not GRAD_OFF.count or GRAD._enabled:  # GRAD.enabled, read fast (see GRAD_OFF)
        requires_grad = False
        for x in inputs:
            if x._base is not None:
                sync_view(x)  # a view whose base changed in place: its history first
            requires_grad = requires_grad or x._rg
        if not requires_grad:
            t._rg = False
            t._grad_fn = None
            return t
        versions = None  # None: every saved input was at version 0
        if op.saves_inputs:
            for x in inputs:
                if x._vc is not None and x._vc[0]:
                    versions = saved_versions(inputs)  # refuses inference tensors
                    break
        # where each input's gradient goes (see Node.edges)
        if len(inputs) == 2:  # (spelled out: a comprehension costs a call)
            a, b = inputs
            edges = ((a._grad_fn or a) if a._rg else None, (b._grad_fn or b) if b._rg else None)
        else:
            edges = tuple([(x._grad_fn or x) if x._rg else None for x in inputs])
        node = _new(Node)  # Node.__init__'s stores, inlined (see make_unary_result)
        node.op = op
        if op.saves_inputs or SAVE_ALL_INPUTS[0]:
            node.inputs = inputs
            node.metas = None
        else:  # the rule reads no input value: keep only shapes and dtypes (see Node)
            n = len(inputs)
            node.inputs = _UNSAVED[n] if n < 4 else (None,) * n
            if op.same_shape:
                node.metas = None
            elif n == 1:
                a = inputs[0]._data
                node.metas = ((a.shape, a.dtype),)
            elif n == 2:
                a, b = inputs[0]._data, inputs[1]._data
                node.metas = ((a.shape, a.dtype), (b.shape, b.dtype))
            else:
                node.metas = tuple([(x._data.shape, x._data.dtype) for x in inputs])
        node.edges = edges
        node.params = params
        node.versions = versions
        node.hooks = node.meta = None  # after op, inputs, edges: anomaly mode's Node records here
        if op.saves_out:
            node.out = data
            t._vc = node.out_version = [0]
        else:
            node.out = node.out_version = None
        t._grad_fn = node
        t._rg = True
        return t
    t._rg = False
    t._grad_fn = None
    if INFERENCE.count and GRAD.inference:  # made in inference mode: an inference tensor
        t._vc = INFERENCE_VERSION
    return t


def make_unary_result(data, op: Op, x: Tensor, params: tuple = (), *, _seen: bool = False) -> Tensor:
    """``make_result`` for a one-input op (most calls: element-wise math, x * 2): no loops."""
    if FORWARD.active:  # a forward-mode dual level is open (autograd/forward_ad.py)
        return _with_tangent(data, op, (x,), params)
    if type(data) is not np.ndarray:
        if isinstance(data, np.generic):
            data = np.asarray(data)
        elif not _seen:  # another array type: see make_result
            return _adjusted(make_unary_result(data, op, x, params, _seen=True), (x,), data)
    t = _new(Tensor)
    t._data = data
    t._grad = None
    t._hooks = None
    t._base = None
    if (not GRAD_OFF.count or GRAD._enabled) and (  # GRAD.enabled, read fast (see GRAD_OFF)
        x._rg if x._base is None else _synced_requires_grad(x)
    ):
        vc = x._vc
        node = _new(Node)  # Node.__init__'s stores, inlined: this is the hottest path there is
        node.op = op
        if op.saves_inputs or SAVE_ALL_INPUTS[0]:
            node.inputs = (x,)
            node.metas = None
            node.versions = (vc[0],) if vc is not None and vc[0] else None
        else:  # the rule reads no input value: keep only the shape and dtype (see Node)
            node.inputs = _ONE_UNSAVED
            node.metas = None if op.same_shape else ((x._data.shape, x._data.dtype),)
            node.versions = None
        node.edges = (x._grad_fn or x,)
        node.params = params
        node.hooks = node.meta = None  # after op, inputs, edges: anomaly mode's Node records here
        if op.saves_out:
            node.out = data
            t._vc = node.out_version = [0]
        else:
            node.out = t._vc = node.out_version = None
        t._grad_fn = node
        t._rg = True
        return t
    t._vc = INFERENCE_VERSION if INFERENCE.count and GRAD.inference else None
    t._rg = False
    t._grad_fn = None
    return t


_ONE_UNSAVED = (None,)


def _adjusted(t: Tensor, inputs: tuple, data) -> Tensor:
    """``t``, whose node (if one was recorded) the array type of ``data`` has seen and may have
    adjusted (``chainrule.backend.recorded``)."""
    if t._grad_fn is not None:
        recorded(t._grad_fn, inputs, data)
    return t


def _with_tangent(data, op: Op, inputs: tuple, params: tuple) -> Tensor:
    """``make_result`` while a dual level is open: the result, then its tangent."""
    for x in inputs:
        if x._base is not None and x._view_version != x._base._vc[0]:
            FORWARD.refresh_view(x)  # its base changed in place: its tangents change with it
    FORWARD.active = False
    try:
        t = make_result(data, op, inputs, params)
    finally:
        FORWARD.active = True
    return FORWARD.compute(t, op, inputs, params)  # autograd.forward_ad.dual_result


def _synced_requires_grad(view: Tensor) -> bool:
    sync_view(view)
    return view._rg


class SavedOutputs:
    """The version of the outputs a node saved for backward: how many in-place changes they saw
    since (what ``Node.out_version[0]`` means once ``save_outputs`` ran). Each output keeps its
    own counter, so a change of one that was not saved (min's values) passes."""

    __slots__ = ("counters", "saved")

    def __init__(self, counters: list) -> None:
        self.counters = counters
        self.saved = [c[0] for c in counters]

    def __getitem__(self, i: int) -> int:
        return sum(c[0] - v for c, v in zip(self.counters, self.saved))


def save_outputs(result: Tensor, *outputs: Tensor) -> None:
    """Have ``result``'s node check, when its backward runs, that ``outputs`` (tensors the same op
    call returned, which torch saves for this backward: min's indices, ctc_loss's result) were
    not changed in place since; torch's "modified by an inplace operation" error if they were.

    Also for the inputs of a function that chainrule composes from several ops where torch has
    one node that saves them (cdist's, take's): the last node checks them, at no cost to the
    nodes of other ops."""
    node = result._grad_fn
    if node is None:
        return
    counters = [] if node.out_version is None else [node.out_version]
    for t in outputs:
        if t._vc is None:
            t._vc = [0]
        if t._vc is not INFERENCE_VERSION and t._vc is not node.out_version:
            counters.append(t._vc)
    node.out_version = SavedOutputs(counters)


def mark_multi_output_views(views: tuple) -> tuple:
    """Mark the outputs of a function returning several views of one tensor (see above)."""
    for v in views:
        if v._view_steps is not None:
            v._view_steps = MultiOutputViewSteps(v._view_steps)
    return views


def make_view(data, op: Op, input: Tensor, params: tuple, replay: tuple) -> Tensor:
    """``make_result`` for an op whose output is a view of ``input``'s memory.

    The view shares the input's version counter and records its base and ``replay``, a pair
    ``(fn, args)`` with ``fn(input, *args)`` making this view again, so that its history can be
    regenerated when the base changes in place (see ``sync_view``).
    """
    if FORWARD.active:  # a dual level is open: the tangent once the view knows its base (a view too)
        if input._base is not None and input._view_version != input._base._vc[0]:
            FORWARD.refresh_view(input)  # its base changed in place: its tangents change with it
        FORWARD.active = False
        try:
            t = make_view(data, op, input, params, replay)
        finally:
            FORWARD.active = True
        return FORWARD.compute(t, op, (input,), params)
    t = make_unary_result(data, op, input, params)
    vc = input._vc
    if vc is None:
        vc = input._vc = [0]
    elif vc is INFERENCE_VERSION:  # a view of an inference tensor is one too: no history to follow
        t._vc = vc
        return t
    t._vc = vc
    recording = not GRAD_OFF.count or GRAD._enabled  # GRAD.enabled, read fast (see GRAD_OFF)
    base = input._base
    if base is None:
        t._base = input
        t._view_steps = (replay,) if recording else None
    else:
        t._base = base
        steps = input._view_steps
        t._view_steps = type(steps)(steps + (replay,)) if steps is not None and recording else None
    t._view_version = vc[0]
    return t
