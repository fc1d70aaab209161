"""Devices: 'cpu' (NumPy) everywhere; 'cuda' when CuPy is installed and a GPU is present."""

from __future__ import annotations

from .backend import cupy_available, is_cupy

__all__ = ["device", "device_of", "check_device", "get_default_device", "set_default_device"]


class device:
    """A device name like torch.device: ``device('cpu')``, ``device('cuda', 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, idx = type.split(":")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        self.type = type
        self.index = index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


_CPU = device("cpu")


def device_of(array) -> device:
    return device("cuda", 0) if is_cupy(array) else _CPU


def check_device(d) -> None:
    """Accept 'cpu'; refuse 'cuda' with a clear message while no CuPy backend is available."""
    d = device(d) if not isinstance(d, device) else d
    if d.type == "cuda":
        if not cupy_available():
            raise RuntimeError(
                "to: CUDA is not available (chainrule runs on GPUs through CuPy: install cupy and "
                "use a machine with an NVIDIA GPU); use device='cpu'"
            )
        raise NotImplementedError("to: moving tensors to CUDA is not implemented yet")


def get_default_device() -> device:
    """Where factory functions put tensors: the CPU (``set_default_device`` accepts only it while
    chainrule has no GPU backend of its own)."""
    return _CPU


def set_default_device(d) -> None:
    """``torch.set_default_device``: 'cpu' (or None) is accepted; other devices raise the error
    that moving a tensor there would."""
    if d is None:
        return
    d = device(d) if not isinstance(d, device) else d
    if d.type != "cpu":
        check_device(d)
        raise RuntimeError(f"set_default_device: chainrule creates tensors on the CPU only, not {d}")
