"""Parameter: a tensor that a Module registers as one of its learnable weights.

A ``Parameter`` is a leaf ``Tensor`` that requires grad by default; assigning one as a module
attribute registers it (``module.parameters()`` then yields it). It shares memory with the tensor
it was made from, as torch's does. Every op accepts it wherever a Tensor is accepted; results of
ops on parameters are plain Tensors.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap

__all__ = [
    "Parameter",
    "Buffer",
    "UninitializedParameter",
    "UninitializedBuffer",
    "UninitializedTensorMixin",
    "is_lazy",
]


class Parameter(Tensor):
    """A learnable tensor of a Module (``torch.nn.Parameter``).

    Parameters
    ----------
    data : Tensor, optional
        The initial values; the parameter shares its memory (no copy). ``None`` gives an empty
        tensor of the default float dtype.
    requires_grad : bool, default True
        Whether the parameter records gradients.

    Examples
    --------
    >>> import chainrule as torch
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> w.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty(0, dtype=_dtype.get_default_dtype().np)
            vc = None
        elif isinstance(data, Tensor):
            array = data._data
            vc = data._shared_vc()  # a Parameter is a view of its data: one version counter
        else:
            raise TypeError(
                f"Parameter: expected a Tensor as data, got {type(data).__name__}; wrap it first, "
                "e.g. nn.Parameter(chainrule.tensor(values))"
            )
        self._data = array
        self._rg = False
        self.grad = None
        self.grad_fn = None  # always a leaf, even when made from a computed tensor
        self._vc = vc
        self._hooks = None
        self._base = None
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._rg))

    def __deepcopy__(self, memo) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]

        result = Parameter(wrap(self._data.copy()), self._rg)
        if self.grad is not None:
            result.grad = wrap(self.grad._data.copy())
        memo[id(self)] = result
        return result


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(wrap(data), requires_grad)


class Buffer(Tensor):
    """A marker for a tensor a Module should register as a buffer (``torch.nn.Buffer``).

    Assigning ``module.name = nn.Buffer(tensor)`` is ``module.register_buffer(name, tensor,
    persistent)``; the module stores the plain tensor, not this wrapper.

    Parameters
    ----------
    data : Tensor
        The buffer's values (shared, not copied).
    persistent : bool, default True
        Whether the buffer is part of the module's ``state_dict``.
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor, *, persistent: bool = True) -> None:
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor, got {type(data).__name__}")
        self._data = data._data
        self._rg = data._rg if data.grad_fn is None else False
        self.grad = None
        self.grad_fn = None
        self._vc = data._shared_vc()
        self._hooks = None
        self._base = None
        self.persistent = persistent


# ---- lazy modules' placeholders ------------------------------------------------------------------
_UNINITIALIZED_MESSAGE = (
    "Attempted to use an uninitialized parameter in {}. This error happens when you are using a "
    "`LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. "
    "When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
    "calling torch functions"
)


class UninitializedTensorMixin:
    """What the placeholders of a lazy module share: ``materialize(shape)`` turns the object itself
    into a real tensor of that shape (its class becomes ``cls_to_become``), so references to it
    (an optimizer's, a module's) stay valid."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Become a ``cls_to_become`` of ``shape`` (uninitialised values, the placeholder's dtype
        unless ``dtype`` is given)."""
        np_dtype = self._data.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = np.empty(shape, dtype=np_dtype)
        self._bump_version()
        self.__class__ = self.cls_to_become

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
            "the parameters before calling `module.share_memory()`."
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, proto):
        return (type(self), (self._rg,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._rg, dtype=_dtype.from_numpy_dtype(self._data.dtype))
        return memo[id(self)]


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (``torch.nn.UninitializedParameter``): a lazy
    module materializes it at its first call. It becomes a :class:`Parameter`."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        Parameter.__init__(self, None, requires_grad)
        if dtype is not None:
            self._data = self._data.astype(_dtype.to_numpy_dtype(dtype))


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (``torch.nn.UninitializedBuffer``); it becomes a plain
    Tensor when materialized."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None, persistent: bool = True) -> None:
        self._data = np.empty(
            0, dtype=(_dtype.get_default_dtype().np if dtype is None else _dtype.to_numpy_dtype(dtype))
        )
        self._rg = False
        self.grad = None
        self.grad_fn = None
        self._vc = None
        self._hooks = None
        self._base = None
        if requires_grad:
            self.requires_grad_(True)


def is_lazy(param) -> bool:
    """Whether ``param`` is a lazy module's not yet materialized placeholder."""
    return isinstance(param, UninitializedTensorMixin)
