"""Tensor: an n-dimensional array that remembers how it was computed.

A Tensor holds a NumPy (or CuPy) array in ``_data``. When an op runs in grad mode on an input
that requires grad, the result gets a ``grad_fn`` Node recording the op and its inputs; backward
walks those nodes in reverse. Operators and methods only delegate to the functions in
``chainrule.ops``, where each op's forward and derivative stand side by side.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import _dtype
from ._tensor_methods import TensorMethods
from .autograd.grad_mode import GRAD, GRAD_OFF, INFERENCE, INFERENCE_VERSION, saved_versions
from .autograd.graph import Node, Op, Retain

__all__ = ["Tensor", "Size", "wrap", "make_result", "make_unary_result"]

_new = object.__new__  # anomaly mode / check_graph swap this and Node while on (autograd/anomaly.py)
_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "uint8": "Byte",
               "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}
_NOT_SCALAR = ("only one element tensors can be converted to Python scalars (this one has shape "
               "{}); use .tolist() for several values")


class Tensor(TensorMethods):
    """A multi-dimensional array with reverse-mode autodiff (``torch.Tensor``).

    Create tensors with ``chainrule.tensor``, ``zeros``, ``randn`` ...; ``Tensor(data)`` also works
    and copies ``data`` like ``chainrule.tensor``.
    """

    # _hooks: None, or a leaf's gradient hooks (a non-leaf's live on its grad_fn)
    __slots__ = ("_data", "_rg", "grad", "grad_fn", "_vc", "_hooks", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, *data: Any, dtype=None, requires_grad: bool = False) -> None:
        from .ops.creation import _to_array

        if not data or all(type(d) is int for d in data):  # Tensor(2, 3): uninitialised (zeros)
            self._data = np.zeros(data or (0,), dtype=_dtype.to_numpy_dtype(dtype or float))
        else:  # Tensor(data): like chainrule.tensor, but always of the default float dtype
            self._data = _to_array(data[0], dtype or float, copy=True)
        self._rg = False
        self.grad = None
        self.grad_fn = None
        self._vc = None
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- autograd attributes -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf tensor; returns self."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "requires_grad_: you can only change requires_grad flags of leaf variables. "
                    "If you want to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._vc is INFERENCE_VERSION and not GRAD.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode "
                               "is not allowed.")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only Tensors of floating point dtype can require gradients, "
                f"got dtype {self.dtype}; convert first, e.g. x.float().requires_grad_()"
            )
        self._rg = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> Tensor:
        """The same values detached from the graph (shares memory, like ``torch.Tensor.data``)."""
        t = wrap(self._data)
        if self._vc is INFERENCE_VERSION:  # an inference tensor's data is one too
            t._vc = INFERENCE_VERSION
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def _version(self) -> int:
        if self._vc is INFERENCE_VERSION:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0] if self._vc is not None else 0

    def is_inference(self) -> bool:
        """True for a tensor made inside ``inference_mode()`` (or a view of one)."""
        return self._vc is INFERENCE_VERSION

    def _bump_version(self) -> None:
        if self._vc is None:
            self._vc = [1]
        elif self._vc is not INFERENCE_VERSION:  # inference tensors track no version
            self._vc[0] += 1

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep it)."""
        if not self._rg:
            raise RuntimeError("retain_grad: can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self.retains_grad:
            self.grad_fn.register_hook(Retain(weakref.ref(self)))

    @property
    def retains_grad(self) -> bool:
        hooks = self.grad_fn.hooks if self.grad_fn is not None else None
        return bool(hooks) and any(type(h) is Retain and h.tensor() is self for h in hooks)

    def register_hook(self, hook) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._rg:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if self.grad_fn is not None:  # a non-leaf's hooks belong to the node that made it
            self.grad_fn.register_hook(hook)
            return _HookHandle(self.grad_fn.hooks, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``chainrule.autograd.backward``)."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory and version counter)."""
        t = wrap(self._data)
        t._vc = self._shared_vc()
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._rg = False
        return self

    def _shared_vc(self) -> list:
        if self._vc is None:
            self._vc = [0]
        return self._vc

    # ---- array attributes ----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        from .ops._common import normalize_dim

        return self._data.shape[normalize_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        from ._device import device_of

        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements cannot be converted to Scalar "
                f"(shape {list(self._data.shape)}, dtype {self.dtype}); use .tolist() for several "
                "values"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying NumPy array (shares memory); refuses tensors that require grad."""
        if self._rg and not force:
            raise RuntimeError(
                "numpy: can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        from .backend import to_numpy

        return to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy(force=True)
        return a if dtype is None else a.astype(dtype)

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError(_NOT_SCALAR.format(list(self._data.shape)))
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError(_NOT_SCALAR.format(list(self._data.shape)))
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.reshape(()).item())

    __hash__ = object.__hash__  # identity, in C: tensors are dict keys in the engine

    def __repr__(self) -> str:
        from ._format import tensor_repr

        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._rg))

    def __deepcopy__(self, memo):
        t = wrap(self._data.copy())
        t._rg = self._rg
        if self.grad is not None:
            t.grad = wrap(self.grad._data.copy())
        memo[id(self)] = t
        return t

    # ---- conversions ---------------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype (``x.to(chainrule.float64)``) or device; returns self when nothing changes."""
        from .ops.creation import to

        return to(self, *args, **kwargs)

    def type(self, dtype=None):
        """The type name (``'chainrule.FloatTensor'``), or a conversion when ``dtype`` is given."""
        if dtype is None:
            return "chainrule." + _TYPE_NAMES.get(self._data.dtype.name, "") + "Tensor"
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def half(self) -> Tensor:
        return self.to(_dtype.float16)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to("cuda" if device is None else device)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def new_tensor(self, data, dtype=None, requires_grad=False) -> Tensor:
        from .ops.creation import tensor

        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False) -> Tensor:
        from .ops.creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False) -> Tensor:
        from .ops.creation import ones

        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False) -> Tensor:
        from .ops.creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    def clone(self, *, memory_format=None) -> Tensor:
        return _F.clone(self)

    def contiguous(self, memory_format=None) -> Tensor:
        return self if self._data.flags.c_contiguous else _F.clone(self)

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    # ---- arithmetic operators ------------------------------------------------------------------
    def __add__(self, other): return _F.add(self, other)
    def __radd__(self, other): return _F.add(other, self)
    def __sub__(self, other): return _F.sub(self, other)
    def __rsub__(self, other): return _F.sub(other, self)
    def __mul__(self, other): return _F.mul(self, other)
    def __rmul__(self, other): return _F.mul(other, self)
    def __truediv__(self, other): return _F.div(self, other)
    def __rtruediv__(self, other): return _F.div(other, self)
    def __floordiv__(self, other): return _F.floor_divide(self, other)
    def __rfloordiv__(self, other): return _F.floor_divide(other, self)
    def __mod__(self, other): return _F.remainder(self, other)
    def __rmod__(self, other): return _F.remainder(other, self)
    def __pow__(self, other): return _F.pow(self, other)
    def __rpow__(self, other): return _F.pow(other, self)
    def __matmul__(self, other): return _F.matmul(self, other)
    def __rmatmul__(self, other): return _F.matmul(other, self)
    def __neg__(self): return _F.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _F.abs(self)
    # NumPy's bitwise ops are the logical ones on bools, as torch's are
    def __invert__(self): return _F.bitwise_not(self)
    def __and__(self, other): return _F.bitwise_and(self, other)
    def __or__(self, other): return _F.bitwise_or(self, other)
    def __xor__(self, other): return _F.bitwise_xor(self, other)
    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __eq__(self, other): return _F.eq(self, other)  # type: ignore[override]
    def __ne__(self, other): return _F.ne(self, other)  # type: ignore[override]
    def __lt__(self, other): return _F.lt(self, other)
    def __le__(self, other): return _F.le(self, other)
    def __gt__(self, other): return _F.gt(self, other)
    def __ge__(self, other): return _F.ge(self, other)

    # in-place operators: x += y is x.add_(y)
    def __iadd__(self, other): return self.add_(other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)
    def __ipow__(self, other): return self.pow_(other)

    def __getitem__(self, index): return _F.getitem(self, index)
    def __setitem__(self, index, value) -> None: _F.setitem(self, index, value)


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``chainrule.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class _HookHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _rebuild(data, requires_grad):
    t = wrap(data)
    t._rg = requires_grad
    return t


def wrap(data) -> Tensor:
    """A new leaf Tensor around an existing array (no copy, no grad): the hot-path constructor."""
    t = _new(Tensor)
    t._data = data
    t._rg = False
    t.grad = None
    t.grad_fn = None
    t._vc = INFERENCE_VERSION if INFERENCE.count and GRAD.inference else None
    t._hooks = None
    return t


def make_result(data, op: Op, inputs: tuple, params: tuple = ()) -> Tensor:
    """Wrap an op's output array and, in grad mode, record the Node that produced it.

    The hot path of every op: kept to plain attribute stores and one loop over the inputs.
    """
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)  # NumPy gives scalars for 0-d results: keep a writable 0-d array
    t = _new(Tensor)
    t._data = data
    t.grad = None
    t._hooks = None
    t._vc = None
    if not GRAD_OFF.count or GRAD._enabled:  # GRAD.enabled, read fast (see GRAD_OFF)
        for x in inputs:
            if x._rg:
                break
        else:
            t._rg = False
            t.grad_fn = None
            return t
        versions = None  # None: every saved input was at version 0
        if op.saves_inputs:
            for x in inputs:
                if x._vc is not None and x._vc[0]:
                    versions = saved_versions(inputs)  # refuses inference tensors
                    break
        if len(inputs) == 1:  # where each input's gradient goes (see Node.edges)
            x = inputs[0]
            edges = (x.grad_fn or x,)
        else:
            edges = tuple([(x.grad_fn or x) if x._rg else None for x in inputs])
        if op.saves_out:
            t._vc = out_vc = [0]
            t.grad_fn = Node(op, inputs, data, params, versions, out_vc, edges)
        else:
            t.grad_fn = Node(op, inputs, None, params, versions, None, edges)
        t._rg = True
        return t
    t._rg = False
    t.grad_fn = None
    if INFERENCE.count and GRAD.inference:  # made in inference mode: an inference tensor
        t._vc = INFERENCE_VERSION
    return t


def make_unary_result(data, op: Op, x: Tensor, params: tuple = ()) -> Tensor:
    """``make_result`` for a one-input op (most calls: element-wise math, x * 2): no loops."""
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)
    t = _new(Tensor)
    t._data = data
    t.grad = None
    t._hooks = None
    if x._rg and (not GRAD_OFF.count or GRAD._enabled):
        vc = x._vc
        node = _new(Node)  # Node.__init__'s stores, inlined: this is the hottest path there is
        node.op = op
        node.inputs = (x,)
        node.edges = (x.grad_fn or x,)
        node.params = params
        node.versions = (vc[0],) if vc is not None and vc[0] and op.saves_inputs else None
        node.hooks = node.meta = None  # after op, inputs, edges: anomaly mode's Node records here
        if op.saves_out:
            node.out = data
            t._vc = node.out_version = [0]
        else:
            node.out = t._vc = node.out_version = None
        t.grad_fn = node
        t._rg = True
        return t
    t._vc = INFERENCE_VERSION if INFERENCE.count and GRAD.inference else None
    t._rg = False
    t.grad_fn = None
    return t


from . import _tensor_methods  # noqa: E402
from . import ops as _F  # noqa: E402  (the ops import Tensor; Tensor's methods call the ops)

_tensor_methods._F = _F
