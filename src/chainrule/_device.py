"""Devices: torch's device names; every chainrule tensor lives on the CPU (NumPy).

``device`` parses and compares device names as torch does (``device('cuda:1')``,
``device('cpu') == 'cpu'`` is False, as in torch: a device equals only a device). Asking for a
tensor anywhere but the CPU raises torch's error for a build without that device
("Torch not compiled with CUDA enabled", an AssertionError, as torch raises it).
"""

from __future__ import annotations

from .backend import is_cupy

__all__ = [
    "device",
    "device_of",
    "check_device",
    "get_default_device",
    "set_default_device",
    "DEVICE_TYPES",
    "no_accelerator_error",
    "not_compiled_error",
]

#: torch's device types, in the order its error message lists them
DEVICE_TYPES = (
    "cpu",
    "cuda",
    "ipu",
    "xpu",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "hip",
    "ve",
    "fpga",
    "maia",
    "xla",
    "lazy",
    "vulkan",
    "mps",
    "meta",
    "hpu",
    "mtia",
    "privateuseone",
)
_ASSERTED = {"cuda": "CUDA", "xpu": "XPU"}  # torch asserts these (AssertionError); others: RuntimeError


def no_accelerator_error() -> RuntimeError:
    """torch's error for asking an accelerator (a bare device index, ``cuda(1)``) on a CPU-only build."""
    return RuntimeError(
        "Cannot access accelerator device when none is available. (chainrule keeps every tensor on "
        "the CPU; use device='cpu')"
    )


def not_compiled_error(device_type: str = "cuda") -> Exception:
    """torch's error for a device type its build lacks: an AssertionError for CUDA and XPU."""
    if device_type in _ASSERTED:
        return AssertionError(
            f"Torch not compiled with {_ASSERTED[device_type]} enabled (chainrule keeps every tensor "
            f"on the CPU; pick the device with torch.{device_type}.is_available(), e.g. "
            f"device = '{device_type}' if torch.{device_type}.is_available() else 'cpu')"
        )
    return RuntimeError(
        f"PyTorch is not linked with support for {device_type} devices (chainrule keeps every tensor "
        "on the CPU; use device='cpu')"
    )


class device:
    """A device name like torch.device: ``device('cpu')``, ``device('cuda', 0)``, ``device('cuda:1')``.

    Every device type torch knows can be named; tensors can be made on 'cpu' (and 'meta', which
    chainrule backs with ordinary CPU memory) only.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device | int, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):  # an index on the accelerator
            raise no_accelerator_error()
        elif not isinstance(type, str):
            raise TypeError(
                f"device() received an invalid combination of arguments - got ({_typename(type)}), "
                "but expected one of: (torch.device device), (str type, int index = -1)"
            )
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {_typename(index)}")
        name = type
        if ":" in type:
            type, _, idx = type.partition(":")
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{name}'")
            index = int(idx)
        if type not in DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {type}"
            )
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = type
        self.index = index

    def __eq__(self, other) -> bool:
        # as torch: a device equals only a device (``device('cpu') == 'cpu'`` is False)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self) -> device:
        """``with torch.device('cpu'):``: factories inside make tensors there (the CPU is the
        default already; any other device raises as ``set_default_device`` does)."""
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        pass


def _typename(obj) -> str:
    return type(obj).__name__


_CPU = device("cpu")


def device_of(array) -> device:
    return device("cuda", 0) if is_cupy(array) else _CPU


def check_device(d) -> None:
    """Accept the CPU (and 'meta'); raise torch's error for any other device.

    ``d`` is a device, a device string, or an int (an accelerator index: torch's error for none).
    """
    if type(d) is not device:
        d = device(d)
    if d.type not in ("cpu", "meta"):
        raise not_compiled_error(d.type)


def get_default_device() -> device:
    """Where factory functions put tensors: the CPU (``set_default_device`` accepts only it while
    chainrule has no GPU backend of its own)."""
    return _CPU


def set_default_device(d) -> None:
    """``torch.set_default_device``: 'cpu' (or None) is accepted; other devices raise the error
    that making a tensor there would."""
    if d is not None:
        check_device(d)
