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

from . import _dtype, _tensor_methods
from ._device import check_device, device_of
from ._format import tensor_repr
from ._inplace_no_grad import inplace_no_grad
from ._tensor_methods import TensorMethods
from .autograd.grad_mode import GRAD, GRAD_OFF, INFERENCE, INFERENCE_VERSION
from .autograd.graph import Retain
from .backend import to_numpy

__all__ = [
    "Tensor",
    "Size",
    "UntypedStorage",
    "wrap",
    "storage_array",
    "set_history",
    "sync_view",
    "MultiOutputViewSteps",
]

_new = object.__new__  # check_graph swaps this (and _record's) while on (autograd/anomaly.py)
_TYPE_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "uint8": "Byte",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "bool": "Bool",
    "bfloat16": "BFloat16",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}
_NOT_SCALAR = (
    "only one element tensors can be converted to Python scalars (this one has shape "
    "{}); use .tolist() for several values"
)


class Tensor(TensorMethods):
    """A multi-dimensional array with reverse-mode autodiff (``torch.Tensor``).

    Create tensors with ``chainrule.tensor``, ``zeros``, ``randn`` ...; ``Tensor(data)`` also works
    and copies ``data`` like ``chainrule.tensor``.
    """

    # _rg: requires_grad; _grad_fn: the Node that made it (None for leaves); _vc: the version
    # counter, a one-element list shared by a base and its views (None until first needed);
    # _hooks: None, or a leaf's gradient hooks (a non-leaf's live on its grad_fn).
    # A view (see chainrule.autograd.views) has _base, the tensor whose memory it shares (never
    # itself a view), _view_steps, the ops that make it from _base (None for a view made outside
    # grad mode, which has no history of its own), and _view_version, the shared version its
    # history was made at: when the base or another view of it changes in place, the history is
    # made again from the base's.
    __slots__ = (
        "_data",
        "_rg",
        "_grad",
        "_grad_fn",
        "_vc",
        "_hooks",
        "_base",
        "_view_steps",
        "_view_version",
        "__weakref__",
    )
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, *data: Any, dtype=None, requires_grad: bool = False) -> None:
        if not data or all(type(d) is int for d in data):  # Tensor(2, 3): uninitialised (zeros)
            self._data = np.zeros(data or (0,), dtype=_dtype.to_numpy_dtype(dtype or float))
        else:  # Tensor(data): like chainrule.tensor, but always of the default float dtype
            self._data = _F.creation._to_array(data[0], dtype or float, copy=True)
        self._rg = False
        self._grad = None
        self._grad_fn = None
        self._vc = None
        self._hooks = None
        self._base = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- autograd attributes -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if self._base is not None:
            sync_view(self, refuse=False)  # (torch reads the flag of a view it refuses to use)
        return self._rg

    @property
    def grad_fn(self):
        """The Node that made this tensor (None for a leaf): its backward step, of the class
        torch names it by (``MulBackward0``, see ``Node.named``)."""
        if self._base is not None:
            sync_view(self)
        node = self._grad_fn
        return node if node is None else node.named()

    @grad_fn.setter
    def grad_fn(self, node) -> None:
        self._grad_fn = node

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another one (shares its memory and version)."""
        return self._base is not None

    def data_ptr(self) -> int:
        """The address of this tensor's first element."""
        return int(self._data.__array_interface__["data"][0])

    def untyped_storage(self) -> UntypedStorage:
        """The memory this tensor (and every view of the same base) lives in."""
        return UntypedStorage(storage_array(self))

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
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
            )
        if requires_grad and self._data.dtype not in _dtype.INEXACT:
            raise RuntimeError(
                f"requires_grad_: only Tensors of floating point dtype can require gradients, "
                f"got dtype {self.dtype}; convert first, e.g. x.float().requires_grad_()"
            )
        if requires_grad and self._data.dtype.kind == "c":
            _dtype.COMPLEX_AUTOGRAD[0] = True
        self._rg = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        """The gradient that backward accumulated here (None until then); assignable, as in torch,
        with a tensor of this tensor's shape, dtype and device, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value  # the engine writes ``_grad`` directly: its gradients fit by construction

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

    def backward(
        self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``chainrule.autograd.backward``)."""
        _BACKWARD[0](self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory and version counter)."""
        t = wrap(self._data)
        t._vc = self._shared_vc()
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (torch refuses it for views)."""
        if self._base is not None:
            raise RuntimeError(
                "detach_: can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
                "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                "function in torch/optim/optimizer.py as the solution."
            )
        self._grad_fn = None
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
        return self._data.shape[_F._common.normalize_dim(dim, self._data.ndim, "size")]

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
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return _dtype.KIND.get(self._data.dtype) == 2

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
                "numpy: can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
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
                f"Boolean value of Tensor with {self._data.size} values is ambiguous; use .any() or .all()"
            )
        return bool(self._data.reshape(()).item())

    __hash__ = object.__hash__  # identity, in C: tensors are dict keys in the engine

    def __repr__(self) -> str:
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:  # as torch: a 0-d tensor formats as its number
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._rg))

    def __deepcopy__(self, memo):
        t = wrap(self._data.copy())
        t._rg = self._rg
        if self._grad is not None:
            t._grad = wrap(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # ---- conversions ---------------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype (``x.to(chainrule.float64)``) or device; returns self when nothing changes."""
        return _F.to(self, *args, **kwargs)

    def type(self, dtype=None):
        """torch's type name (``'torch.FloatTensor'``), or a conversion when ``dtype`` is given: a
        dtype, a legacy type (``torch.LongTensor``) or its name (``'torch.LongTensor'``)."""
        if dtype is None:
            return "torch." + _TYPE_NAMES.get(self._data.dtype.name, "") + "Tensor"
        if isinstance(dtype, _dtype.dtype):
            return self.to(dtype)
        name = (
            dtype
            if isinstance(dtype, str)
            else getattr(dtype, "__module__", "") + "." + getattr(dtype, "__name__", "")
        )
        module, _, short = name.rpartition(".")
        if module.endswith(".cuda"):  # torch.cuda.FloatTensor: a CUDA tensor (torch's RuntimeError)
            raise RuntimeError(
                f"Cannot initialize CUDA without ATen_cuda library (type({name}): chainrule keeps "
                "every tensor on the CPU; use the CPU type, e.g. 'torch.FloatTensor')"
            )
        kinds = {v: k for k, v in _TYPE_NAMES.items()}
        kind = short.removesuffix("Tensor")
        if module not in ("torch", "chainrule") or not short.endswith("Tensor") or kind not in kinds:
            shown = dtype if isinstance(dtype, str) else getattr(dtype, "__name__", dtype)
            raise ValueError(f"invalid type: '{shown}' (type: use a dtype, or e.g. 'torch.FloatTensor')")
        return self.to(_dtype.from_numpy_dtype(np.dtype(kinds[kind])))

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

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        """Raises torch's error for a build without CUDA (chainrule's tensors live on the CPU)."""
        check_device("cuda" if device is None else device)
        return self

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _F.tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _F.zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _F.ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
        return _F.full(
            size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad
        )

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def clone(self, *, memory_format=None) -> Tensor:
        return _F.clone(self)

    def contiguous(self, memory_format=None) -> Tensor:
        return self if self._data.flags.c_contiguous else _F.clone(self)

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    # ---- arithmetic operators ------------------------------------------------------------------
    # one line per delegating method, so the table reads at a glance
    # fmt: off
    def __add__(self, other): return _F.add(self, other)
    def __radd__(self, other): return _F.add(other, self)
    def __sub__(self, other): return _F.sub(self, other)
    def __rsub__(self, other): return _F.sub(other, self)
    def __mul__(self, other): return _F.mul(self, other)
    def __rmul__(self, other): return _F.mul(other, self)
    def __truediv__(self, other): return _F.div(self, other)
    def __rtruediv__(self, other): return _rdiv(self, other)
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
    def __invert__(self): return _F.compare.invert_operator(self)  # (TypeError for floats)
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

    # in-place operators: x += y is x.add_(y) (+=, -=, *=, /= below the table)
    def __ipow__(self, other): return self.pow_(other)

    def __getitem__(self, index): return _F.getitem(self, index)
    # fmt: on
    def __setitem__(self, index, value) -> None:
        _F.setitem(self, index, value)

    # outside grad mode (the manual SGD update ``p -= lr * p.grad``), written straight into memory
    # (see inplace_no_grad)
    def __iadd__(self, other):
        if GRAD_OFF.count and not GRAD._enabled and inplace_no_grad(self, other, np.add):
            return self
        return self.add_(other)

    def __isub__(self, other):
        if GRAD_OFF.count and not GRAD._enabled and inplace_no_grad(self, other, np.subtract):
            return self
        return self.sub_(other)

    def __imul__(self, other):
        if GRAD_OFF.count and not GRAD._enabled and inplace_no_grad(self, other, np.multiply):
            return self
        return self.mul_(other)

    def __itruediv__(self, other):
        if GRAD_OFF.count and not GRAD._enabled and inplace_no_grad(self, other, np.divide):
            return self
        return self.div_(other)


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


def storage_array(t: Tensor) -> np.ndarray:
    """The array that owns the memory ``t`` lives in (for a view: its base's)."""
    owner = (t._base if t._base is not None else t)._data
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    return owner


class UntypedStorage:
    """The memory block behind a tensor and its views (``torch.UntypedStorage``)."""

    __slots__ = ("_array",)

    def __init__(self, array: np.ndarray | int = 0, *, device=None) -> None:
        # UntypedStorage(nbytes), as torch's constructor; the tensor's memory block otherwise
        self._array = np.zeros(int(array), dtype=np.uint8) if isinstance(array, int) else array

    def data_ptr(self) -> int:
        return int(self._array.__array_interface__["data"][0])

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    size = nbytes

    def __len__(self) -> int:
        return int(self._array.nbytes)


class _HookHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


#: C++ type names, as torch's "assigned grad" errors print dtypes
_CPP_NAMES = {
    "float64": "double",
    "float32": "float",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
    "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
}


def _check_assigned_grad(t: Tensor, value) -> None:
    """``t.grad = value`` as torch checks it: a tensor (not ``t`` itself) of t's dtype, device and
    shape, in that order."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
        )
    if value is t:
        raise RuntimeError("can't assign Variable as its own grad")
    data, vdata = t._data, value._data
    if vdata.dtype != data.dtype:
        got, want = vdata.dtype.name, data.dtype.name
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{_CPP_NAMES.get(got, got)}' to a tensor "
            f"with grad_dtype '{_TYPE_NAMES.get(want, want)}'. The "
            "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype); convert it "
            "first, e.g. t.grad = g.to(t.dtype)"
        )
    if type(vdata) is not type(data) and value.device != t.device:
        raise RuntimeError(
            f"attempting to assign a gradient with device type '{value.device.type}' to a tensor with "
            f"device type '{t.device.type}'. Please ensure that the gradient and the tensor are on the "
            "same device"
        )
    if vdata.shape != data.shape:
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(vdata.shape)}' to a tensor of size "
            f"'{list(data.shape)}'. Please ensure that the gradient and the tensor are the same size"
        )


def _rebuild(data, requires_grad):
    t = wrap(data)
    t._rg = requires_grad
    return t


def wrap(data) -> Tensor:
    """A new leaf Tensor around an existing array (no copy, no grad): the hot-path constructor."""
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)  # NumPy gives read-only scalars for 0-d results: a writable 0-d array
    t = _new(Tensor)
    t._data = data
    t._rg = False
    t._grad = None
    t._grad_fn = None
    t._vc = INFERENCE_VERSION if INFERENCE.count and GRAD.inference else None
    t._hooks = None
    t._base = None
    return t


class MultiOutputViewSteps(tuple):
    """The ``_view_steps`` of a view made by split, chunk or unbind (or a view of one): torch
    refuses in-place changes of those in grad mode."""

    __slots__ = ()


def set_history(t: Tensor, node, requires_grad: bool = True) -> None:
    """Give ``t`` a new grad_fn (an in-place op, or a view's regenerated history). retain_grad
    follows the tensor to it; hooks registered on the old grad_fn stay there and see the gradient
    of the old value, as in torch."""
    old = t._grad_fn
    t._grad_fn = node
    t._rg = requires_grad
    if old is not None and old.hooks:
        retains = [h for h in old.hooks if type(h) is Retain and h.tensor() is t]
        if retains:
            old.hooks[:] = [h for h in old.hooks if h not in retains]
            if node is not None:
                node.register_hook(retains[0])


def sync_view(t: Tensor, refuse: bool = True) -> None:
    """Make a view's history current: after an in-place change of its base (or of any view of
    the base, itself included), the view's values come from the base's new history, so its
    grad_fn is made again by replaying the view ops on the base (torch regenerates it the same
    way). Views made outside grad mode have no history to regenerate. An output of split, chunk
    or unbind cannot be remade alone: torch refuses to use it then (RuntimeError; ``refuse``
    False: leave it as it is, for reading its flags)."""
    base = t._base
    version = base._vc[0]
    if t._view_version == version:
        return
    steps = t._view_steps
    if type(steps) is MultiOutputViewSteps and base._rg:
        # torch cannot remake one output of a multi-output view node alone, and refuses the
        # view from then on (every use raises: the version stays behind)
        if not refuse:
            return
        raise RuntimeError(
            f"A view made by split, chunk or unbind (or a view of one; shape {list(t.shape)}) is a "
            "view and its base or another view of its base has been modified inplace. This view "
            "is the output of a function that returns multiple views. Such functions do not "
            "allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one (or take the views after the change)."
        )
    t._view_version = version
    if steps is None or not base._rg:
        return
    was = GRAD.enabled
    GRAD.enabled = True
    try:
        replayed = base
        for fn, args in steps:
            replayed = fn(replayed, *args)
    finally:
        GRAD.enabled = was
    set_history(t, replayed._grad_fn, replayed._rg)


# Tensor's operators and methods call the ops, which sit in a layer above (they make Tensors):
# the ops layer binds itself here when it loads (``bind_ops``), so nothing here imports it.
_F: Any = None


def _rdiv(x: Tensor, other):
    """``other / x`` as torch's ``__rtruediv__``: for a number, ``reciprocal(x) * other`` (its
    numbers, its nodes, and a node that saves only the reciprocal, so an in-place change of ``x``
    after ``1 / x`` passes backward); else a division."""
    if type(other) in (int, float):
        return _F.mul(_F.reciprocal(x), other)
    return _F.div(other, x)


_BACKWARD: list = [None]  # autograd.engine.backward, bound with the ops


def bind_ops(ops, backward) -> None:
    """Let Tensor's operators and methods call ``ops`` (``chainrule.ops``) and ``backward``
    (``chainrule.autograd.engine.backward``); called once, by ``chainrule.ops`` as it loads."""
    global _F
    _F = ops
    _tensor_methods._F = ops
    _BACKWARD[0] = backward
