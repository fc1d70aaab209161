"""Anomaly detection: where did this NaN come from? (``torch.autograd.detect_anomaly``)

While anomaly mode is on, every recorded node remembers where its forward op was called (the
user's source lines, chainrule's own frames skipped), and backward checks what each node's local
rule passes down: a NaN *or an infinity* raises a RuntimeError that names the node and the forward
source line, after a warning that shows the forward call's traceback (as torch's does).

    with chainrule.autograd.detect_anomaly():
        y = torch.log(x) * 0        # log(0) = -inf; -inf * 0 = nan
        y.backward()                # RuntimeError: Function 'LogBackward0' returned nan values
                                    # in its 0th output. Forward call that created it:
                                    # test.py:12: y = torch.log(x) * 0

Zero cost when off. Nothing on the hot path tests a flag: switching the mode on swaps the Node
class that ``make_result`` and ``make_unary_result`` instantiate for ``_TracedNode``, whose ``meta``
is a property: the store of ``meta`` at creation records the forward trace instead. The engine
already sends nodes with a meta down its general path, which calls ``meta.after_backward``; custom
Functions tell ``_WATCH`` in function.py (a check on their already slow path). Switching off swaps
the plain class back. ``check_graph`` uses the same switch to record and replay a graph.

Threads: anomaly mode is process-wide, as torch 2.13's is (switched on in one thread, every
thread records traces and checks its backward). ``check_graph``'s recorder belongs to the thread
that runs it: the classes are swapped while any thread records, and each node made in a thread
without a recorder (and with anomaly mode off) gets no meta, as with the plain class.

Observers chain: ``node.meta`` is shared with other debugging tools (``viz.explain``). One that
finds a meta already there keeps it in its own ``inner`` attribute and calls its
``after_backward`` too; ``AnomalyMeta`` does the same.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _record, _tensor
from . import function
from . import saved_hooks as _saved_hooks
from .graph import SAVE_ALL_INPUTS, Node

__all__ = [
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "set_anomaly_enabled",
    "ForwardTrace",
    "AnomalyMeta",
    "trace_of",
]

#: frames from files under this folder are chainrule's own, never "where the user called it"
_PACKAGE = os.path.dirname(os.path.dirname(__file__)) + os.sep
_MAX_FRAMES = 32  # the innermost user frames kept per node (torch keeps all; this bounds the cost)


class _AnomalyState:
    __slots__ = ("enabled", "check_nan", "recording", "_local", "_lock")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True
        self.recording = 0  # how many threads have a recorder now
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def recorder(self) -> Any:
        """This thread's check_graph recording or replay of a graph, while it runs (else None)."""
        return getattr(self._local, "recorder", None)

    @recorder.setter
    def recorder(self, recorder: Any) -> None:
        with self._lock:
            self.recording += (recorder is not None) - (self.recorder is not None)
            self._local.recorder = recorder


#: read by the engine once per backward call, never per op
STATE = _AnomalyState()


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on (``torch.is_anomaly_enabled``)."""
    return STATE.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection also checks backward for NaN and inf values."""
    return STATE.check_nan


def _set(enabled: bool, check_nan: bool) -> None:
    STATE.enabled = bool(enabled)
    STATE.check_nan = bool(check_nan)
    install()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly detection on or off for the whole process (``torch.set_anomaly_enabled``)."""
    _set(enabled, check_nan)


class detect_anomaly:
    """Context manager and decorator: anomaly detection on inside (``torch.autograd.detect_anomaly``).

    Inside, each op records the source line that called it, and backward raises a RuntimeError
    when a node's local derivative produces NaN or inf (torch checks NaN only), naming the node
    and that source line. It slows every op down; use it for debugging only.

    Parameters
    ----------
    check_nan : False records the forward traces (shown when backward raises) without checking
        the values.

    Examples
    --------
    >>> with chainrule.autograd.detect_anomaly():
    ...     loss = model(x).sum()
    ...     loss.backward()
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._saved: list = []  # a stack, so that the same object may be entered again inside
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self._saved.append((STATE.enabled, STATE.check_nan))
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self._saved.pop())

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):
            raise TypeError(
                "detect_anomaly: decorating a generator function is not supported; "
                "use `with detect_anomaly():` inside it"
            )

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off at once; as a context manager, restore it on exit.

    Parameters
    ----------
    mode : True to detect anomalies, False not to.
    check_nan : whether backward also raises on NaN and inf values.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._before = (STATE.enabled, STATE.check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(*self._before)


# ---- where a node was made --------------------------------------------------------------------
class ForwardTrace:
    """The user's stack when a forward op ran: ``(filename, lineno, function)``, outermost first.

    Source lines are read only when shown (``linecache``), so recording costs one frame walk.
    """

    __slots__ = ("frames",)

    def __init__(self, frames: tuple) -> None:
        self.frames = frames

    @property
    def filename(self) -> str | None:
        return self.frames[-1][0] if self.frames else None

    @property
    def lineno(self) -> int | None:
        return self.frames[-1][1] if self.frames else None

    @property
    def code(self) -> str:
        """The source text of the innermost user line ('' when it cannot be read)."""
        return linecache.getline(self.frames[-1][0], self.frames[-1][1]).strip() if self.frames else ""

    def where(self) -> str:
        """``file:line: code`` of the call in the user's code."""
        if not self.frames:
            return "(called from chainrule itself: no user frame)"
        return f"{self.filename}:{self.lineno}: {self.code}"

    def format(self) -> str:
        """The frames as a Python traceback shows them."""
        lines = []
        for filename, lineno, name in self.frames:
            lines.append(f'  File "{filename}", line {lineno}, in {name}')
            code = linecache.getline(filename, lineno).strip()
            if code:
                lines.append(f"    {code}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ForwardTrace({self.where()!r})"


def capture_trace() -> ForwardTrace:
    """The current stack without chainrule's frames (the innermost ``_MAX_FRAMES`` of them)."""
    frames = []
    f = sys._getframe(1)
    while f is not None and len(frames) < _MAX_FRAMES:
        code = f.f_code
        if not code.co_filename.startswith(_PACKAGE):
            frames.append((code.co_filename, f.f_lineno, code.co_name))
        f = f.f_back
    frames.reverse()
    return ForwardTrace(tuple(frames))


class AnomalyMeta:
    """A node's debugging observer in anomaly mode: its forward trace, and the NaN/inf check."""

    __slots__ = ("trace", "inner")

    def __init__(self, trace: ForwardTrace | None, inner: Any = None) -> None:
        self.trace = trace  # None: the node was recorded with anomaly mode off
        self.inner = inner  # an observer that was there first: it still sees every call

    def after_backward(self, node: Node, g: Any, input_grads: Any) -> None:
        if self.inner is not None:
            self.inner.after_backward(node, g, input_grads)
        if STATE.enabled and STATE.check_nan:  # as torch: checked while the mode is on in backward
            _check_finite(node, g, input_grads, self.trace)


def trace_of(node: Any) -> ForwardTrace | None:
    """The forward trace recorded for ``node`` (None if it was recorded with anomaly mode off)."""
    meta = getattr(node, "meta", None)
    while meta is not None:
        if type(meta) is AnomalyMeta:
            return meta.trace
        meta = getattr(meta, "inner", None)
    return None


def _values(x: Any):
    """The array of a gradient (an array, or a Tensor under create_graph); None for others."""
    a = getattr(x, "_data", x)
    if isinstance(a, np.ndarray | np.generic) or hasattr(a, "__cuda_array_interface__"):
        return a
    return None  # None, or a multi-output Function's gathered gradients (checked per output)


def _all_finite(g: Any) -> bool:
    """Whether an upstream gradient holds only finite values (each output's, for a
    multi-output Function's gathered gradients)."""
    for part in getattr(g, "grads", (g,)):
        a = _values(part)
        if a is not None and a.dtype.kind in "fc" and not bool(np.isfinite(a).all()):
            return False
    return True


def _check_finite(node: Node, g: Any, input_grads: Any, trace: ForwardTrace | None) -> None:
    for i, gx in enumerate(input_grads):
        a = _values(gx)
        if a is None or a.dtype.kind not in "fc" or bool(np.isfinite(a).all()):
            continue
        kinds = [k for k, test in (("nan", np.isnan), ("inf", np.isinf)) if bool(test(a).any())]
        if _all_finite(g):
            cause = (
                "Its upstream gradient was finite, so this op's local derivative made them "
                "(e.g. log, division or sqrt at 0)."
            )
        else:
            cause = "Its upstream gradient already held non-finite values."
        if trace is not None:
            where = f"Forward call that created it: {trace.where()}"
        else:
            where = (
                "Its forward ran with anomaly mode off, so where it was called is unknown; run "
                "the forward inside detect_anomaly() as well."
            )
        raise RuntimeError(
            f"Function '{node.name()}' returned {' and '.join(kinds)} values in its "
            f"{i}th output.\n  {where}\n  {cause}"
        )


def watch_graph(roots) -> None:
    """Give every node below ``roots`` an ``AnomalyMeta`` (the engine calls this once per backward
    in anomaly mode): nodes recorded with the mode off are checked too, as in torch."""
    stack = [r for r in roots if isinstance(r, Node)]
    seen: set = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not _has_anomaly_meta(node):
            node.meta = AnomalyMeta(None, node.meta)
        stack.extend(e for e in node.edges if isinstance(e, Node) and e not in seen)


def _has_anomaly_meta(node: Node) -> bool:
    meta = node.meta
    while meta is not None:
        if type(meta) is AnomalyMeta:
            return True
        meta = getattr(meta, "inner", None)
    return False


def report_backward_error(vertex: Any) -> None:
    """Torch's warning when backward fails in anomaly mode: the failing node's forward trace."""
    trace = trace_of(vertex) if isinstance(vertex, Node) else None
    if trace is not None and trace.frames:
        warnings.warn(
            f"Error detected in {vertex.name()}. Traceback of forward call that caused the "
            f"error:\n{trace.format()}",
            stacklevel=_user_stacklevel(),
        )


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the user's call into chainrule."""
    level, f = 1, sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        level, f = level + 1, f.f_back
    return level


# ---- the switch --------------------------------------------------------------------------------
class _TracedNode(Node):
    """The Node class ops instantiate while anomaly mode or check_graph watches.

    Both ways of making a node store ``meta = None`` once (``Node.__init__`` and the inlined stores
    of ``make_unary_result``), after ``op``, ``inputs`` and ``edges``: that first store records.
    """

    __slots__ = ("_meta",)

    @property
    def meta(self) -> Any:
        return self._meta

    @meta.setter
    def meta(self, value: Any) -> None:
        if not hasattr(self, "_meta"):  # the store at creation
            value = _on_create(self)
        self._meta = value


_TracedNode.kind = _TracedNode  # a kind of node class (see graph.node_class)


def _on_create(node: Node) -> Any:
    recorder = STATE.recorder
    if recorder is not None:
        return recorder.on_node(node)  # check_graph: its meta, possibly pinning or stopping
    if STATE.enabled:
        return AnomalyMeta(capture_trace())
    return None  # check_graph runs in another thread: this node is not watched


def _new_in_thread(cls):
    """``_tensor._new`` and ``_record._new`` while some thread runs check_graph: its recorder sees
    only its own tensors."""
    recorder = STATE.recorder
    return recorder.new(cls) if recorder is not None else object.__new__(cls)


def _on_function(
    cls, args: tuple, kwargs: dict, node: Node, out_nodes: list, diff: list, results: list
) -> None:
    """Called by ``Function.apply`` after it recorded a custom Function's node(s)."""
    recorder = STATE.recorder
    if recorder is not None:
        recorder.on_function(cls, args, kwargs, node, out_nodes, diff, results)
        return
    if not STATE.enabled:
        return  # check_graph runs in another thread
    trace = capture_trace()
    for n in dict.fromkeys((node, *out_nodes)):  # a one-output Function's node is its out node
        n.meta = AnomalyMeta(trace, n.meta)


#: picks the Node class ops instantiate; ``hooked_nodes`` binds its own when it loads,
#: so that anomaly mode and saved-tensor hooks combine
NODE_CLASS: list = [lambda watching: _TracedNode if watching else Node]


def install() -> None:
    """Swap the classes and hooks that ops use to match the state (the plain ones when off)."""
    with STATE._lock:  # read and swap at once: threads switching together end in the last state
        watching = STATE.enabled or STATE.recording > 0
        _record.Node = NODE_CLASS[0](watching)  # hooked too while saved-tensor hooks are active
        SAVE_ALL_INPUTS[0] = watching  # the trace and check_graph's replay read every input
        function._WATCH = _on_function if watching else None
        # check_graph also needs each node's output tensor: the last one ``_new`` made before it
        _tensor._new = _record._new = _new_in_thread if STATE.recording > 0 else object.__new__


_saved_hooks.INSTALL[0] = install  # the saved-tensor hooks swap node classes through this too
