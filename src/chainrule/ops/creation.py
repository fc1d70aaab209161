"""Making tensors: from data, filled, ranges, random; and dtype conversion (``to``, ``clone``)."""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._device import check_device as _check_device
from .._fpe import user_stacklevel as _user_stacklevel
from .._random import rng
from .._record import make_result
from .._tensor import Tensor, wrap
from ..autograd.graph import defop
from ..backend import any_true
from ..backend import is_extended as _is_extended


def _to_array(data, dtype=None, copy: bool = False) -> np.ndarray:
    """``data`` (Tensor, array, number, nested lists) as an array of the dtype torch gives it.

    Python floats take the default dtype, Python ints int64, bools bool; NumPy scalars, arrays and
    tensors inside the data keep their dtypes, promoted together (``[np.float64(1.5), 2.0]`` is
    float64, ``[np.int32(1), np.int32(2)]`` int32).
    """
    target = None if dtype is None else _dtype.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        a = data._data
    elif type(data) is not np.ndarray and _is_extended(data):  # a registered array type (vmap's): kept
        a = data
    elif isinstance(data, np.ndarray | np.generic):
        a = np.asarray(data)
        _dtype.from_numpy_dtype(a.dtype)  # raises for dtypes torch has no equivalent of
    else:
        if isinstance(data, list | tuple) and any(isinstance(d, Tensor) for d in data):
            data = [d.detach() if isinstance(d, Tensor) else d for d in data]
        try:
            a = np.asarray(data)
        except ValueError:
            raise ValueError(_ragged_message(data)) from None
        kind = a.dtype.kind
        if kind in "uO" and _python_int_beyond_int64(data):
            if target is None:  # floats among the data make it floating, as in torch
                target = _float_dtype_of(data, none_if_no_float=True)
            if target is None or target.kind not in "fc":
                raise ValueError(_UNPACK_OVERFLOW)
            a, kind = np.asarray(data, dtype=np.float64), "f"
        if kind == "f":
            if target is None and isinstance(data, float):
                target = _dtype.get_default_dtype().np
            elif target is None:
                target = _float_dtype_of(data, none_if_no_float=True)
                if target is None:  # no float: empty, or Python ints beyond int64 (torch refuses)
                    if _python_int_beyond_int64(data):
                        raise ValueError(_UNPACK_OVERFLOW)
                    target = _dtype.get_default_dtype().np
        elif kind == "c":  # Python complex numbers: the default dtype's complex (complex64)
            if target is None:
                target = _dtype.from_numpy_dtype(_float_dtype_of(data, complex_too=True)).to_complex().np
        elif kind not in "biu":
            what = type(data).__name__ if a.ndim == 0 else f"sequence of {a.dtype}"
            raise TypeError(
                f"tensor: can't convert {what} to a tensor; only numbers and bools (and nested "
                "sequences of them) are supported"
            )
        else:
            _dtype.from_numpy_dtype(a.dtype)  # e.g. uint64 from a Python int above 2**63
        if target is not None and target.kind in "iu" and a.dtype != target:
            _check_fits(a, target)
    if target is not None and a.dtype != target:
        with np.errstate(over="ignore", invalid="ignore"):  # torch casts silently (inf, wrap)
            return a.astype(target)
    return a.copy() if copy and isinstance(data, Tensor | np.ndarray) else a


# torch's words (a ValueError from its C++ unpacking) for a Python int outside int64 in data whose
# dtype it infers as int64; given a floating dtype, such ints are converted like any number
_UNPACK_OVERFLOW = (
    "Overflow when unpacking long long: tensor: a Python int in the data is outside int64's "
    "range [-2**63, 2**63); pass dtype=torch.float64 (or write it as a float) to keep it approximately"
)


def _python_int_beyond_int64(data) -> bool:
    """Whether nested Python data holds an int outside int64 (NumPy makes such data uint64,
    float64 or object, where torch refuses it)."""
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, list | tuple):
            stack.extend(x)
        elif type(x) is int and not -(2**63) <= x < 2**63:
            return True
    return False


def _check_fits(a: np.ndarray, target: np.dtype) -> None:
    """torch refuses Python numbers that an integer ``target`` dtype cannot hold (300 as int8, NaN
    or 1e19 as int64) where NumPy would wrap them or make them INT_MIN."""
    if not a.size or a.dtype.kind == "b":
        return
    info = np.iinfo(target)
    # an unsigned dtype takes negative numbers down to -max, wrapping them (c10's overflows())
    low = info.min if target.kind == "i" else -int(info.max)
    if a.dtype.kind == "f":
        # float(info.max) rounds up for int64 (2**63): values must stay below it
        fits = np.isfinite(a) & (a >= low) & (a < float(info.max) + 1)
    elif a.dtype.kind in "iu":
        fits = (a >= low) & (a <= info.max)
    else:
        return
    if not fits.all():
        bad = a.reshape(-1)[np.argmin(fits.reshape(-1))]
        raise RuntimeError(
            f"value cannot be converted to type {target} without overflow: tensor: {bad!r} is outside "
            f"{target}'s range [{info.min}, {info.max}]; choose a wider dtype"
        )


def _float_dtype_of(data, complex_too: bool = False, none_if_no_float: bool = False) -> np.dtype | None:
    """The floating dtype torch infers for nested data: Python floats count as the default dtype,
    NumPy floats / arrays and tensors as their own; the widest wins. With ``complex_too``,
    complex values count as their real dtype (for nested data holding complex numbers). Without
    any floating value: the default dtype, or None with ``none_if_no_float``."""
    default = _dtype.get_default_dtype().np
    found = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, list | tuple):
            stack.extend(x)
            continue
        if isinstance(x, float):
            dt = default if not isinstance(x, np.floating) else x.dtype
        elif isinstance(x, np.floating | np.ndarray):
            dt = x.dtype
        elif isinstance(x, Tensor):
            dt = x._data.dtype
        elif complex_too and isinstance(x, complex):
            dt = default if not isinstance(x, np.complexfloating) else x.real.dtype
        else:
            continue
        if complex_too and dt.kind == "c":
            dt = dt.type(0).real.dtype
        if dt.kind == "f":
            found = dt if found is None else np.promote_types(found, dt)
            if found == np.float64:
                break
    if found is None:
        return None if none_if_no_float else default
    return found


def _ragged_message(data) -> str:
    """torch's wording for nested sequences of uneven lengths."""
    shape = []
    x = data
    while isinstance(x, list | tuple):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    stack = [(data, 0)]
    while stack:
        x, dim = stack.pop()
        if dim >= len(shape):
            continue
        got = len(x) if isinstance(x, list | tuple) else None
        if got != shape[dim]:
            what = "a non-sequence" if got is None else str(got)
            return (
                f"tensor: expected sequence of length {shape[dim]} at dim {dim} (got {what});"
                " nested lists must be rectangular"
            )
        stack.extend((y, dim + 1) for y in x)
    return "tensor: can't build a tensor from ragged nested sequences"


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    if device is not None:
        _check_device(device)
    t = wrap(_to_array(data, dtype, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor``, but shares memory with a Tensor or NumPy array that needs no conversion."""
    if device is not None:
        _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data._data.dtype == _dtype.to_numpy_dtype(dtype)):
        return data
    return wrap(_to_array(data, dtype, copy=False))


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (writes show in both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return wrap(array)


@defop("to", saves_inputs=False, formula="{g0} = {gy} converted back to {x0}'s dtype")
def _to(F, g, xs, out, p, needs):
    return (g,)  # the engine casts the gradient back to the input's dtype


def to(input: Tensor, *args, **kwargs) -> Tensor:
    """Convert to a dtype (and/or a device, 'cpu' here); differentiable between float dtypes."""
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, Tensor):  # first: ``a in (...)`` below would compare a tensor
            dtype = a.dtype
        elif isinstance(a, _dtype.dtype | np.dtype) or a is float or a is int or a is bool:
            dtype = a
        elif isinstance(a, str) or hasattr(a, "type") or type(a) is int:  # an int: an accelerator index
            device = a
    if device is not None:
        _check_device(device)
    x = input._data
    if dtype is None:
        return make_result(x.copy(), _clone, (input,)) if copy else input
    target = _dtype.to_numpy_dtype(dtype)
    if target == x.dtype and not copy:
        return input
    if x.dtype.kind == "c" and target.kind != "c":
        warnings.warn(  # torch's warning; NumPy's ComplexWarning would name NumPy
            "Casting complex values to real discards the imaginary part",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
        x = x.real
    with np.errstate(over="ignore", invalid="ignore"):  # torch casts silently (inf, wrap)
        out = x.astype(target)
    if target not in _dtype.INEXACT:  # integers and bools are not differentiable: the graph stops here
        return wrap(out)
    if target.kind == "c" and input._rg:
        _dtype.COMPLEX_AUTOGRAD[0] = True
    return make_result(out, _to, (input,))


_to.complex_rule = True  # a cast is real-linear: the engine's dtype fit keeps the real part


@defop("clone", saves_inputs=False, formula="{g0} = {gy}")
def _clone(F, g, xs, out, p, needs):
    return (g,)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory; gradients flow back to ``input``."""
    input = as_tensor(input)
    x = input._data
    out = np.array(x, copy=True, order="C") if type(x) is np.ndarray else x.copy()  # (other array types)
    return make_result(out, _clone, (input,))


def view_as_dtype(input: Tensor, dtype) -> Tensor:
    return wrap(input._data.view(_dtype.to_numpy_dtype(dtype)))


# ---- filled tensors ------------------------------------------------------------------------------
def _size(size) -> tuple:
    if len(size) == 1 and not isinstance(size[0], int | np.integer):
        size = size[0]
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"expected a sequence of integers for the size, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def _shape_of(shape: tuple, size) -> tuple:
    """The shape from varargs (``zeros(2, 3)``, ``zeros((2, 3))``) or the ``size=`` keyword."""
    return _size(shape if size is None else (size,))


def _float_dtype(dtype) -> np.dtype:
    return _dtype.get_default_dtype().np if dtype is None else _dtype.to_numpy_dtype(dtype)


def _leaf(a: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of zeros of the given size (varargs or one sequence; default dtype float32)."""
    if device is not None:
        _check_device(device)
    return _leaf(np.zeros(_shape_of(shape, size), _float_dtype(dtype)), requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of ones of the given size (varargs or one sequence)."""
    if device is not None:
        _check_device(device)
    return _leaf(np.ones(_shape_of(shape, size), _float_dtype(dtype)), requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, **kwargs) -> Tensor:
    """An uninitialised tensor (zeros here, which is a valid uninitialised value)."""
    if device is not None:
        _check_device(device)
    return zeros(*shape, size=size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value when not given."""
    if device is not None:
        _check_device(device)
    if dtype is None:
        dtype = _dtype.result_type(fill_value)
    return _leaf(np.full(_size((size,)), fill_value, _dtype.to_numpy_dtype(dtype)), requires_grad)


def _like(input: Tensor, dtype) -> np.dtype:
    return input._data.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)


def zeros_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    if device is not None:
        _check_device(device)
    input = as_tensor(input)
    x = input._data
    if type(x) is not np.ndarray:  # other array types: NumPy dispatches to theirs
        return _leaf(np.zeros_like(x, dtype=_like(input, dtype)), requires_grad)
    return _leaf(np.zeros(x.shape, _like(input, dtype)), requires_grad)


def ones_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    if device is not None:
        _check_device(device)
    input = as_tensor(input)
    x = input._data
    if type(x) is not np.ndarray:  # other array types: NumPy dispatches to theirs
        return _leaf(np.ones_like(x, dtype=_like(input, dtype)), requires_grad)
    return _leaf(np.ones(x.shape, _like(input, dtype)), requires_grad)


def empty_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    if device is not None:
        _check_device(device)
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(
    input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    if device is not None:
        _check_device(device)
    input = as_tensor(input)
    x = input._data
    if type(x) is not np.ndarray:  # other array types: NumPy dispatches to theirs
        return _leaf(np.full_like(x, fill_value, dtype=_like(input, dtype)), requires_grad)
    return _leaf(np.full(x.shape, fill_value, _like(input, dtype)), requires_grad)


# ---- random ------------------------------------------------------------------------------------
# chainrule draws from NumPy's PCG64 (``chainrule.manual_seed`` / ``Generator``): the streams are
# reproducible under a seed, but they are not torch's (the same seed gives other numbers).
def _random_dtype(dtype, who: str) -> np.dtype:
    dt = _float_dtype(dtype)
    if dt not in _dtype.INEXACT:
        raise NotImplementedError(
            f"{who}: random floats need a floating dtype, got {_dtype.from_numpy_dtype(dt)}; use "
            "randint for integers"
        )
    return dt


def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) of the given size (varargs or one sequence).

    The numbers come from chainrule's generator (NumPy's PCG64), not torch's: a seed reproduces
    chainrule's stream, not torch's values.
    """
    if device is not None:
        _check_device(device)
    dt = _random_dtype(dtype, "rand")
    g = rng(generator)
    shape = _shape_of(shape, size)
    if dt.kind == "c":  # torch: real and imaginary parts each uniform in [0, 1)
        real = np.float64 if dt == np.complex128 else np.float32
        a = (g.random(shape, dtype=real) + 1j * g.random(shape, dtype=real)).astype(dt)
    elif dt.itemsize == 2:  # float16, bfloat16: round down to stay below 1
        a = g.random(shape, dtype=np.float32).astype(dt)
        a[a >= 1] = (
            np.nextafter(np.float16(1), np.float16(0)) if dt == np.float16 else np.asarray(255 / 256, dt)
        )
    else:
        a = g.random(shape, dtype=dt)
    return _leaf(a, requires_grad)


def randn(*shape, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of the given size (chainrule's stream, not torch's)."""
    if device is not None:
        _check_device(device)
    dt = _random_dtype(dtype, "randn")
    wide = np.float64 if dt in (np.float64, np.complex128) else np.float32
    g = rng(generator)
    a = g.standard_normal(_shape_of(shape, size), dtype=wide)
    if dt.kind == "c":  # torch: unit variance overall, each part with variance 1/2
        a = (a + 1j * g.standard_normal(a.shape, dtype=wide)) * np.sqrt(0.5)
    return _leaf(a.astype(dt, copy=False), requires_grad)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Integers uniformly drawn from [low, high); ``randint(high, size)`` works too (int64).

    chainrule's stream, not torch's: a seed reproduces chainrule's numbers only.
    """
    if device is not None:
        _check_device(device)
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    np_dtype = np.dtype(np.int64) if dtype is None else _dtype.to_numpy_dtype(dtype)
    if low >= high:
        raise RuntimeError(
            f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    info = np.iinfo(np_dtype) if np_dtype.kind in "iu" else None
    if info is not None and (low < info.min or high - 1 > info.max):
        raise RuntimeError(
            f"randint: [{low}, {high}) is out of bounds for dtype {_dtype.from_numpy_dtype(np_dtype)}"
        )
    return _leaf(rng(generator).integers(low, high, _size((size,))).astype(np_dtype), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    if device is not None:
        _check_device(device)
    np_dtype = np.dtype(np.int64) if dtype is None else _dtype.to_numpy_dtype(dtype)
    return _leaf(rng(generator).permutation(n).astype(np_dtype), requires_grad)


def rand_like(
    input: Tensor, *, dtype=None, generator=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    """``rand`` with the shape (and dtype, unless given) of ``input``."""
    if device is not None:
        _check_device(device)
    return rand(input.shape, dtype=dtype or input.dtype, generator=generator, requires_grad=requires_grad)


def randn_like(
    input: Tensor, *, dtype=None, generator=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    """``randn`` with the shape (and dtype, unless given) of ``input``."""
    if device is not None:
        _check_device(device)
    return randn(input.shape, dtype=dtype or input.dtype, generator=generator, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, dtype=None, generator=None, device=None) -> Tensor:
    """``randint`` with the shape (and dtype, unless given) of ``input``."""
    if device is not None:
        _check_device(device)
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)


def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers with ``size``.

    chainrule's stream, not torch's: a seed reproduces chainrule's numbers only.
    """
    if device is not None:
        _check_device(device)
    g = rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = as_tensor(mean)._data
        s = as_tensor(std)._data
        like = mean if isinstance(mean, Tensor) else std
        dt = _random_dtype(like.dtype, "normal")
        if any_true(s < 0):
            raise RuntimeError(f"normal expects std >= 0.0, but found std {s.min()}")
        shape = np.broadcast_shapes(m.shape, s.shape)
        return wrap((m + s * g.standard_normal(shape)).astype(dt))
    if size is None:
        raise TypeError("normal: give size= when mean and std are numbers")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _random_dtype(dtype, "normal")
    return _leaf((mean + std * g.standard_normal(_size((size,)))).astype(dt), requires_grad)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0."""
    input = as_tensor(input)
    prob = input._data if p is None else p
    return wrap((rng(generator).random(input._data.shape) < prob).astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Draw category indices with the given (unnormalised) weights, per row."""
    w = as_tensor(input)._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim} dims")
    n = w.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"({num_samples} > {n})"
        )
    if num_samples < 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample < 0 samples ({num_samples})")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, n)
    if (rows.sum(-1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and ((rows > 0).sum(-1) < num_samples).any():
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (with replacement=False, not enough "
            "non-negative category to sample)"
        )
    g = rng(generator)
    out = np.stack([g.choice(r.size, num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return wrap(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: the same memory, cut from the graph."""
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """``input.detach_()``: cut ``input`` itself from the graph."""
    return input.detach_()
