"""Printing tensors exactly as torch does: ``tensor([1.0000, 2.5000], requires_grad=True)``.

A port of torch's ``_tensor_str`` onto NumPy arrays. One formatter per tensor chooses the style
from the finite non-zero values: integers print as ``1.`` (int mode), values spanning more than
three decades, above 1e8 or below 1e-4 in scientific notation (``1.0000e-05``), the rest with four
decimals; every element is padded to the widest. Rows wrap at 80 characters, nested dims are
indented under their bracket and separated by a blank line per extra dim, and above 1000 elements
only the first and last three entries of each dim are shown, with ``...`` between them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable

import numpy as np

from . import _dtype
from .backend import to_numpy

__all__ = ["tensor_repr", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as ``torch.set_printoptions``.

    Parameters
    ----------
    precision : digits after the decimal point (default 4).
    threshold : element count above which tensors print summarized (default 1000).
    edgeitems : entries shown at each end of a summarized dim (default 3).
    linewidth : characters per line before wrapping (default 80).
    profile : ``"default"``, ``"short"`` (precision 2, 2 edge items) or ``"full"`` (no summary).
    sci_mode : force scientific notation on (True) or off (False); None chooses per tensor.
    """
    if profile is not None:
        presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}
        if profile not in presets:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; use one of {sorted(presets)}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth) = presets[
            profile
        ]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Change the print options inside a ``with`` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """The style and the common width of every element of one tensor."""

    def __init__(self, a: np.ndarray) -> None:
        self.floating = a.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = a.reshape(-1)
        if not self.floating:
            if flat.size:  # the longest printed integer is the largest or the smallest one
                ends = [flat.min().item(), flat.max().item()]
                self.max_width = max(len(str(v)) for v in ends)
            return
        with np.errstate(invalid="ignore"):
            values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        magnitudes = np.abs(values).astype(np.float64)
        lo, hi = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if PRINT_OPTS.sci_mode is None:
            with np.errstate(over="ignore"):
                self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        items = values.tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{p}e}") for v in items)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") + 1 for v in items)  # + 1: the trailing "."
        else:
            self.max_width = max(len(f"{v:.{p}f}") for v in items)

    def format(self, value) -> str:
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                text = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{p}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    element_length = fmt.max_width + 2  # with ", "
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = (
            [fmt.format(v) for v in a[:edge].tolist()]
            + [" ..."]
            + [fmt.format(v) for v in a[-edge:].tolist()]
        )
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * edge:
        rows = (
            [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(edge)]
            + ["..."]
            + [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0] - edge, a.shape[0])]
        )
    else:
        rows = [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _summarized(a: np.ndarray) -> np.ndarray:
    """The entries a summarized print shows: the formatter's width is chosen from these only."""
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:edge], a[-edge:])) if a.shape[0] > 2 * edge else a
    if not edge:
        return np.empty((0,) * a.ndim, dtype=a.dtype)
    rows = list(range(a.shape[0]))
    if a.shape[0] > 2 * edge:
        rows = rows[:edge] + rows[-edge:]
    return np.stack([_summarized(a[i]) for i in rows])


class _ComplexFormatter:
    """torch's complex style: the real and the imaginary parts each formatted as a real tensor of
    its own (``1.5000+2.j``); the width counts both parts and the ``j``."""

    def __init__(self, a: np.ndarray) -> None:
        self.real = _Formatter(a.real)
        self.imag = _Formatter(a.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _tensor_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    if _dtype.KIND.get(a.dtype) == 2 and a.dtype.kind != "f":  # bfloat16: printed from float32
        a = a.astype(np.float32)
    summarize = a.size > PRINT_OPTS.threshold
    shown = _summarized(a) if summarize else a
    fmt = _ComplexFormatter(shown) if a.dtype.kind == "c" else _Formatter(shown)
    return _nested_str(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, dtype=...`` etc., on a new line where the line would pass the line width. The
    width is measured as torch's text (``torch.float64``), so lines break where torch's do."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        width = len(suffix.replace("chainrule.", "torch."))
        if last_line_len + width + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + width
        else:
            parts.append(", " + suffix)
            last_line_len += width + 2
    parts.append(")")
    return "".join(parts)


#: array type -> ``fn(tensor) -> str``: the text of a tensor holding such an array, registered by the
#: package that defines the type (vmap's batched array prints as torch's BatchedTensor)
_ARRAY_REPRS: dict[type, Callable] = {}


def register_array_repr(cls: type, fn: Callable) -> None:
    """Print tensors whose data is a ``cls`` with ``fn(tensor)``."""
    _ARRAY_REPRS[cls] = fn


def tensor_repr(t) -> str:
    """``repr(t)``: torch's text with ``chainrule.`` in dtype names."""
    a = t._data
    if type(a) is not np.ndarray:
        custom = _ARRAY_REPRS.get(type(a))
        if custom is not None:
            return custom(t)
        a = to_numpy(a)  # a device array: print from host memory
    prefix = "tensor(" if type(t).__name__ in ("Tensor", "Parameter") else type(t).__name__ + "("
    indent = len(prefix)
    suffixes = []
    device = t.device
    if device.type != "cpu":
        suffixes.append(f"device='{device}'")
    default = _dtype.get_default_dtype().np
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != default:  # nothing to infer the dtype from: shown even for int64
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        default_complex = _dtype.get_default_dtype().to_complex().np
        if a.dtype != default and a.dtype != np.int64 and a.dtype != np.bool_ and a.dtype != default_complex:
            suffixes.append(f"dtype={t.dtype!r}")
        body = _tensor_str(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
