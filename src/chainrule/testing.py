"""``torch.testing``: ``assert_close`` and ``make_tensor``, as tests written for PyTorch call them.

``assert_close`` compares tensors (and NumPy arrays), Python numbers, booleans and None, and
sequences and mappings of them, with torch's default tolerances per dtype, its checks (shape,
device, dtype, stride) and its messages; the messages name chainrule's dtypes and sizes
(``chainrule.float32``) where torch's name its own.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import ops
from ._dtype import (
    bfloat16,
    bool_,
    complex64,
    complex128,
    finfo,
    float16,
    float32,
    float64,
    iinfo,
    int64,
    promote_types,
)
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

# torch's default (rtol, atol) per dtype; every other dtype compares exactly
_DTYPE_PRECISIONS = {
    float16: (0.001, 1e-5),
    bfloat16: (0.016, 1e-5),
    float32: (1.3e-6, 1e-5),
    float64: (1e-7, 1e-7),
    complex64: (1.3e-6, 1e-5),
    complex128: (1e-7, 1e-7),
}
_NUMBER_DTYPES = {int: int64, float: float64, complex: complex128}


class _Mismatch(Exception):
    """A failed comparison: the exception type torch raises, its message, and where it happened."""

    def __init__(self, kind: type[Exception], message: str, path: tuple = ()) -> None:
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path

    def to_error(self, msg: str | Callable[[str], str] | None) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        message = self.message
        if self.path:
            message += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.path)}"
        return self.kind(msg(message) if callable(msg) else message)


def _tolerances(*dtypes, rtol: float | None, atol: float | None) -> tuple[float, float]:
    if rtol is not None:
        return rtol, atol
    pairs = [_DTYPE_PRECISIONS.get(dtype, (0.0, 0.0)) for dtype in dtypes]
    return max(r for r, _ in pairs), max(a for _, a in pairs)


def _mismatch_message(
    identifier: str, extra: str, abs_diff, rel_diff, atol: float, rtol: float, abs_idx=None, rel_idx=None
) -> str:
    """torch's text: 'X are not close!', the extra line, then the greatest differences."""
    equality = rtol == 0 and atol == 0

    def line(kind: str, diff, idx, tol) -> str:
        text = (
            f"{kind.title()} difference: {diff}"
            if idx is None
            else f"Greatest {kind} difference: {diff} at index {idx}"
        )
        return text + ("" if equality else f" (up to {tol} allowed)") + "\n"

    text = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    text += line("absolute", abs_diff, abs_idx, atol) + line("relative", rel_diff, rel_idx, rtol)
    return text.strip()


def _scalar_message(actual, expected, rtol: float, atol: float) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_message(
        "Scalars", f"Expected {expected} but got {actual}.", abs_diff, rel_diff, atol, rtol
    )


def _tensor_message(actual: Tensor, expected: Tensor, matches: Tensor, rtol: float, atol: float) -> str:
    total = matches.numel()
    mismatches = total - int(matches.sum().item())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    actual_flat, expected_flat, matches_flat = actual.flatten(), expected.flatten(), matches.flatten()
    if not actual.dtype.is_floating_point and not actual.dtype.is_complex:
        actual_flat, expected_flat = actual_flat.to(int64), expected_flat.to(int64)  # no overflow
    abs_diff = ops.abs(actual_flat - expected_flat)
    abs_diff[matches_flat] = 0  # only the mismatches count
    max_abs, abs_at = ops.max(abs_diff, 0)
    rel_diff = abs_diff / ops.abs(expected_flat)
    rel_diff[matches_flat] = 0
    max_rel, rel_at = ops.max(rel_diff, 0)

    def index(flat: Tensor) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(int(flat.item()), tuple(actual.shape)))

    return _mismatch_message(
        "Tensor-likes", extra, max_abs.item(), max_rel.item(), atol, rtol, index(abs_at), index(rel_at)
    )


def _compare_tensors(actual, expected, path: tuple, options: dict) -> None:
    actual, expected = (ops.as_tensor(x).detach() for x in (actual, expected))

    def attribute(name: str, a, e) -> None:
        raise _Mismatch(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", path)

    if actual.shape != expected.shape:
        attribute("shape", actual.shape, expected.shape)
    if options["check_stride"] and actual.stride() != expected.stride():
        attribute("stride()", actual.stride(), expected.stride())
    if options["check_device"] and actual.device != expected.device:
        attribute("device", actual.device, expected.device)
    if options["check_dtype"] and actual.dtype != expected.dtype:
        attribute("dtype", actual.dtype, expected.dtype)
    rtol, atol = _tolerances(actual.dtype, expected.dtype, rtol=options["rtol"], atol=options["atol"])
    if actual.dtype != expected.dtype:
        common = promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(common), expected.to(common)
    matches = ops.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=options["equal_nan"])
    if bool(matches.all().item()):
        return
    if actual.dim() == 0:
        message = _scalar_message(actual.item(), expected.item(), rtol, atol)
    else:
        message = _tensor_message(actual, expected, matches, rtol, atol)
    raise _Mismatch(AssertionError, message, path)


def _compare_numbers(actual, expected, path: tuple, options: dict) -> None:
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(
            AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", path
        )
    if actual == expected:
        return
    if options["equal_nan"] and cmath.isnan(actual) and cmath.isnan(expected):
        return
    rtol, atol = _tolerances(
        _NUMBER_DTYPES[type(actual)],
        _NUMBER_DTYPES[type(expected)],
        rtol=options["rtol"],
        atol=options["atol"],
    )
    abs_diff = abs(actual - expected)
    if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol), path)


def _is_number(x) -> bool:
    return isinstance(x, (int, float, complex)) and not isinstance(x, bool)


def _compare(actual, expected, path: tuple, options: dict) -> None:
    """torch's pairing: sequences and mappings recurse; then None, booleans, numbers, tensor-likes."""
    if isinstance(actual, np.number):
        actual = actual.item()
    if isinstance(expected, np.number):
        expected = expected.item()
    if all(isinstance(x, Sequence) and not isinstance(x, str) for x in (actual, expected)):
        if len(actual) != len(expected):
            raise _Mismatch(
                AssertionError,
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                path,
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, (*path, i), options)
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        if missing or extra:
            lines = ["The keys of the mappings do not match:"]
            if missing:
                lines.append(f"Missing keys in the actual mapping: {sorted(missing)}")
            if extra:
                lines.append(f"Additional keys in the actual mapping: {sorted(extra)}")
            raise _Mismatch(AssertionError, "\n".join(lines), path)
        for key in expected:
            _compare(actual[key], expected[key], (*path, key), options)
        return
    if actual is None or expected is None:
        if not (actual is None and expected is None):
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}", path)
        return
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) != bool(expected):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}", path)
        return
    if _is_number(actual) and _is_number(expected):
        _compare_numbers(actual, expected, path, options)
        return
    same_kind = all(isinstance(x, Tensor) for x in (actual, expected)) or all(
        isinstance(x, np.ndarray) for x in (actual, expected)
    )
    if same_kind and (options["allow_subclasses"] or type(actual) is type(expected)):
        _compare_tensors(actual, expected, path, options)
        return
    raise _Mismatch(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.",
    )


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close, as torch's ``assert_close``.

    Two values are close when ``|actual - expected| <= atol + rtol * |expected|`` elementwise (NaNs
    equal only with ``equal_nan``). Without ``rtol``/``atol``, the tolerances are torch's defaults
    for the dtypes (float32: 1.3e-6 and 1e-5; float64: 1e-7 and 1e-7; integers and bools: exact).

    Parameters
    ----------
    actual, expected : tensors, NumPy arrays, numbers, booleans, None, or sequences and mappings of them.
    rtol, atol : both or neither.
    equal_nan : whether NaNs compare equal.
    check_device, check_dtype, check_stride : also require equal devices, dtypes, strides.
    check_layout : accepted (chainrule has one layout).
    msg : a message to raise instead of the generated one, or a function from it to the message.

    Raises
    ------
    AssertionError
        When they are not close (the message says how many elements differ, and by how much at most).
    ValueError
        When only one of ``rtol`` and ``atol`` is given.
    TypeError
        When the inputs cannot be compared (a tensor against a number, for instance).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}."
        )
    options = {
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_device": check_device,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
        "allow_subclasses": allow_subclasses,
    }
    try:
        _compare(actual, expected, (), options)
    except _Mismatch as mismatch:
        raise mismatch.to_error(msg) from None


def make_tensor(
    *shape,
    dtype,
    device,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format=None,
) -> Tensor:
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)``, as torch's
    ``make_tensor`` (defaults: [-9, 9) for floating and complex dtypes, [-9, 10) for integers,
    clamped to what the dtype holds; bools are random). The draws come from chainrule's generator.

    ``device`` is required, as in torch (chainrule's tensors are CPU tensors: "cpu" or None).

    Raises
    ------
    ValueError
        When ``low`` or ``high`` is NaN, ``low >= high``, the interval lies outside the dtype's
        range, or ``requires_grad`` is asked of an integral or bool dtype.
    """
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    shape = tuple(int(n) for n in shape)
    floating = dtype.is_floating_point or dtype.is_complex
    if requires_grad and not floating:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes")
    if dtype == bool_:
        low, high = _low_high(low, high, dtype, 0, 2, 0, 2)
        result = ops.randint(low, high, shape).to(bool_)
    elif floating:
        biggest = float(finfo(dtype).max)
        low, high = _low_high(low, high, dtype, -biggest, biggest, -9, 9)
        real = float64 if dtype in (float64, complex128) else float32
        result = ops.rand(shape, dtype=real) * (high - low) + low
        if dtype.is_complex:
            result = ops.complex(result, ops.rand(shape, dtype=real) * (high - low) + low)
        result = result.to(dtype)
    else:
        info = iinfo(dtype)
        top = info.max + (1 if dtype != int64 else 0)
        low, high = _low_high(low, high, dtype, int(info.min), int(top), -9, 10)
        result = ops.randint(low, high, shape, dtype=dtype)
    if noncontiguous and result.numel() > 1:
        result = ops.repeat_interleave(result, 2, dim=-1)[..., ::2]
    if exclude_zero:
        result[result == 0] = float(finfo(dtype).tiny) if floating else 1
    if requires_grad:
        result.requires_grad_(True)
    return result


def _low_high(
    low, high, dtype, lowest: float, highest_exclusive: float, default_low: float, default_high: float
):
    """torch's checks of ``low`` and ``high``, its defaults, and its clamping to the dtype's range."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low >= high and not (low == high and (dtype.is_floating_point or dtype.is_complex)):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if high < lowest or low >= highest_exclusive:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), "
            f"but {dtype} only supports [{lowest}, {highest_exclusive})"
        )
    low, high = min(max(low, lowest), highest_exclusive), min(max(high, lowest), highest_exclusive)
    if not (dtype.is_floating_point or dtype.is_complex):
        return math.ceil(low), math.ceil(high)
    return low, high
