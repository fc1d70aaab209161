"""NumPy's exceptions, leaving an op, become torch's: one translation at the op boundary.

chainrule computes with NumPy, whose errors have other types than torch's for the same mistake:
``ValueError`` where shapes do not broadcast, ``TypeError`` where a dtype has no loop (``-`` on a
bool array), ``AxisError`` for a dim out of range, ``OverflowError`` for a Python int beyond
int64. torch raises ``RuntimeError`` for the first, second and fourth and ``IndexError`` for the
third, and code written for torch catches those. The ops check their arguments themselves, with
torch's errors and messages that name the op and shapes; what slips past such a check reaches the
op's quiet wrapper (``chainrule._fpe.quiet``), which hands the exception to ``translate`` here.

Only NumPy's own exceptions are translated: its exception classes, and built-in exceptions whose
message is one of the NumPy messages listed below. An exception raised by chainrule itself (a
deliberate ``ValueError`` with torch's wording, or any other) passes through unchanged, so a bug
in chainrule is never dressed up as a user error; a translated error keeps NumPy's as its
``__cause__``, whose traceback shows where inside the op it came from.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NUMPY_ERRORS", "translate", "describe_arguments", "describe_call"]

#: what the wrappers catch (and then hand to ``translate``, which re-raises what is not NumPy's)
NUMPY_ERRORS = (ValueError, TypeError, OverflowError)

# NumPy's messages for a mistake torch reports as a RuntimeError (shapes, dims, dtypes, sizes)
_RUNTIME_MESSAGES = re.compile(
    "|".join(
        (
            r"operands could not be broadcast together",
            r"shape mismatch: objects cannot be broadcast",
            r"non-broadcastable output operand",
            r"could not broadcast input array",
            r"cannot reshape array of size",
            r"repeated axis in transpose",
            r"axes don't match array",
            r"all the input array dimensions except for the concatenation axis",
            r"all the input arrays must have same number of dimensions",
            r"all input arrays must have the same shape",
            r"need at least one array to (concatenate|stack)",
            r"has a mismatch in its core dimension",
            r"negative dimensions are not allowed",
            r"maximum supported dimension for an ndarray",
            r"array is too big",
            r"ufunc '\w+' not supported for the input types",
            r"ufunc '\w+' did not contain a loop with signature",
            r"The numpy boolean negative",
            r"numpy boolean subtract",
            r"Python int too large to convert to C",
            r"int too big to convert",
        )
    )
)


def _numpy_class(error: BaseException) -> bool:
    return type(error).__module__.partition(".")[0] == "numpy"


def describe_arguments(args: tuple) -> str:
    """The tensors and arrays among ``args`` (one level into lists and tuples) as
    ``shape [2, 3] float32`` phrases, for an error message."""
    found = []
    for a in args:
        items = a if isinstance(a, list | tuple) else (a,)
        for x in items:
            data = getattr(x, "_data", x)  # a Tensor's array, or an array itself
            shape, dtype = getattr(data, "shape", None), getattr(data, "dtype", None)
            if shape is not None and dtype is not None:
                found.append(f"shape {list(shape)} {dtype}")
    return "; ".join(found) if found else "no tensor arguments"


def translate(error: BaseException, op: str, args: tuple) -> None:
    """Raise torch's exception type for NumPy's ``error`` that escaped op ``op`` called with
    ``args``; return (and let the caller re-raise ``error`` as it is) when it is not NumPy's."""
    message = str(error)
    if _numpy_class(error) and isinstance(error, IndexError):  # AxisError: a dim out of range
        kind: type[Exception] = IndexError
        message = f"Dimension out of range: {message}"
    elif _RUNTIME_MESSAGES.search(message) and not isinstance(error, IndexError):
        kind = RuntimeError
    else:
        return
    raise kind(f"{op}: {message} (arguments: {describe_arguments(args)})") from error


def describe_call(args: tuple, kwargs: dict[str, Any]) -> tuple:
    """The positional and keyword argument values of a call, as one tuple for ``translate``."""
    return (*args, *kwargs.values())
