"""torch's legacy tensor types (``torch.FloatTensor`` and friends) and the functions that take them.

``FloatTensor(2, 3)`` makes an uninitialised (here: zero) float32 tensor and ``FloatTensor([1, 2])``
one from data, as in torch; ``isinstance(t, FloatTensor)`` asks whether ``t`` is a float32 tensor.
They are not classes of tensors (torch's are not either: ``issubclass(FloatTensor, Tensor)`` is
False there too).
"""

from __future__ import annotations

import warnings

from . import _dtype, ops
from ._tensor import Tensor, UntypedStorage

__all__ = [
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "ByteTensor",
    "CharTensor",
    "ShortTensor",
    "IntTensor",
    "LongTensor",
    "BoolTensor",
    "BFloat16Tensor",
    "set_default_tensor_type",
    "typename",
    "is_storage",
]


class tensortype(type):
    """The metaclass of the legacy types: construction and isinstance by dtype."""

    dtype: _dtype.dtype

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0]
            if isinstance(data, Tensor):
                if data.dtype != cls.dtype:
                    raise TypeError(
                        f"{cls.__name__}: expected a tensor of dtype {cls.dtype}, got {data.dtype}; "
                        f"convert it with .to({cls.dtype})"
                    )
                return data
            return ops.tensor(data, dtype=cls.dtype)
        return ops.zeros(*(args or (0,)), dtype=cls.dtype)

    def __repr__(cls) -> str:
        return f"<class 'chainrule.{cls.__name__}'>"


def _legacy(name: str, dtype) -> tensortype:
    return tensortype(name, (), {"dtype": dtype, "is_cuda": False, "__module__": "chainrule"})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
CharTensor = _legacy("CharTensor", _dtype.int8)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
IntTensor = _legacy("IntTensor", _dtype.int32)
LongTensor = _legacy("LongTensor", _dtype.int64)
BoolTensor = _legacy("BoolTensor", _dtype.bool_)
BFloat16Tensor = _legacy("BFloat16Tensor", _dtype.bfloat16)


def set_default_tensor_type(t) -> None:
    """Deprecated in torch: the default float dtype from a legacy type (``torch.DoubleTensor`` or
    its name); use ``set_default_dtype``."""
    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(t, str):
        t = globals().get(t.rpartition(".")[2])
        if t is None:
            raise TypeError(f"set_default_tensor_type: invalid type {t!r}; use e.g. 'torch.DoubleTensor'")
    if not isinstance(t, tensortype) or t.dtype.name not in ("float32", "float64", "float16", "bfloat16"):
        raise TypeError("only floating-point types are supported as the default type")
    _dtype.set_default_dtype(t.dtype)


def typename(obj) -> str:
    """torch's name of a tensor's type (``'torch.FloatTensor'``), else the object's qualified type name."""
    if isinstance(obj, Tensor):
        return "torch." + obj.type().rpartition(".")[2]
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def is_storage(obj) -> bool:
    """Whether ``obj`` is a storage (``tensor.untyped_storage()``)."""
    return isinstance(obj, UntypedStorage)
