"""Complex numbers: parts as views (``real``, ``imag``, ``view_as_real``, ``view_as_complex``),
``conj``, ``angle``, ``polar``, ``complex``, and the derivative rules that are not holomorphic.

torch's gradient of a complex tensor is the conjugate Wirtinger derivative (for a real loss L of
z = x + iy, ``z.grad = dL/dx + i dL/dy``). Holomorphic ops keep their plain rules, and the engine
conjugates around them (autograd/engine.py ``_complex_step``); the rules here follow torch's
convention themselves (``op.complex_rule = True``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._record import make_view
from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, any_true, as_array, as_tensor, make_result, shape_str
from .inplace import apply_inplace

__all__ = [
    "real",
    "imag",
    "view_as_real",
    "view_as_complex",
    "view_as_real_copy",
    "view_as_complex_copy",
    "conj",
    "conj_physical",
    "conj_physical_",
    "resolve_conj",
    "resolve_neg",
    "is_conj",
    "is_neg",
    "is_complex",
    "angle",
    "polar",
    "complex",
]


def _complex_rule(op):
    op.complex_rule = True
    return op


def _mark_complex_graph(*inputs: Tensor) -> None:
    """A complex result of real inputs that require grad: backward takes the complex step."""
    for x in inputs:
        if x._rg:
            _dtype.COMPLEX_AUTOGRAD[0] = True


def _is_complex_array(a) -> bool:
    return a.dtype.kind == "c"


def is_complex(input: Tensor) -> bool:
    """True for tensors of a complex dtype (complex64, complex128)."""
    return as_tensor(input, "is_complex")._data.dtype.kind == "c"


def is_conj(input: Tensor) -> bool:
    """Always False: chainrule's ``conj`` makes the conjugate at once (no lazy conjugate bit)."""
    return False


def is_neg(input: Tensor) -> bool:
    """Always False: chainrule has no lazy negative bit."""
    return False


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: its conjugate bit is never set (see ``is_conj``)."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: its negative bit is never set (see ``is_neg``)."""
    return input


# ---- parts -------------------------------------------------------------------------------------
@_complex_rule
@defop("real", saves_inputs=False, formula="{g0} = {gy}")
def _real(F, g, xs, out, p, needs):
    return (g,)  # the engine's dtype fit makes it complex: dl/dx + i * 0


@_complex_rule
@defop("imag", saves_inputs=False, formula="{g0} = i * {gy}")
def _imag(F, g, xs, out, p, needs):
    return (F.complex(F.zeros_like(g), g),)


def real(input: Tensor) -> Tensor:
    """The real part of a complex tensor, as a writable view (``input`` itself when real)."""
    input = as_tensor(input, "real")
    x = input._data
    if not _is_complex_array(x):
        return input
    return make_view(x.real, _real, input, (), (real, ()))


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor, as a writable view."""
    input = as_tensor(input, "imag")
    x = input._data
    if not _is_complex_array(x):
        raise RuntimeError(
            f"imag is not implemented for tensors with non-complex dtypes (got {input.dtype}); "
            "the imaginary part of a real tensor is zero: use torch.zeros_like"
        )
    return make_view(x.imag, _imag, input, (), (imag, ()))


@_complex_rule
@defop("view_as_real", saves_inputs=False, formula="{g0} = {gy}[..., 0] + i {gy}[..., 1]")
def _view_as_real(F, g, xs, out, p, needs):
    return (F.complex(F.getitem(g, (..., 0)), F.getitem(g, (..., 1))),)


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor as a real one with a last dim of 2 (real, imaginary), sharing memory."""
    input = as_tensor(input, "view_as_real")
    x = input._data
    if not _is_complex_array(x):
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got {input.dtype}")
    parts = x.real  # a view with x's strides; the imaginary part sits half an element further
    data = np.lib.stride_tricks.as_strided(
        parts, x.shape + (2,), parts.strides + (parts.itemsize,), writeable=x.flags.writeable
    )
    return make_view(data, _view_as_real, input, (), (view_as_real, ()))


@_complex_rule
@defop("view_as_complex", saves_inputs=False, formula="{g0} = stack(re {gy}, im {gy})")
def _view_as_complex(F, g, xs, out, p, needs):
    return (F.view_as_real_copy(g),)


def view_as_complex(input: Tensor) -> Tensor:
    """A real tensor with a last dim of size 2 (real, imaginary) as a complex one, sharing memory."""
    input = as_tensor(input, "view_as_complex")
    x = input._data
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"view_as_complex is only supported for float and double tensors, but got a tensor of "
            f"scalar type: {input.dtype}"
        )
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError(
            f"view_as_complex: Tensor must have a last dimension of size 2, got shape {shape_str(x.shape)}"
        )
    if x.strides[-1] != x.itemsize or any(s % (2 * x.itemsize) for s in x.strides[:-1]):
        raise RuntimeError(
            "view_as_complex: Tensor must have a last dimension with stride 1 and the other strides "
            "divisible by 2; call .contiguous() first"
        )
    ctype = np.complex64 if x.dtype == np.float32 else np.complex128
    data = x.view(ctype)[..., 0]  # NumPy reinterprets a contiguous last axis; other strides kept
    _mark_complex_graph(input)
    return make_view(data, _view_as_complex, input, (), (view_as_complex, ()))


# ---- conjugation -------------------------------------------------------------------------------
@_complex_rule
@defop("conj", saves_inputs=False, formula="{g0} = conj({gy})")
def _conj(F, g, xs, out, p, needs):
    return (F.conj(g),)


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate (a new tensor); a real tensor is returned as it is, as torch."""
    input = as_tensor(input, "conj_physical")
    x = input._data
    if not _is_complex_array(x):
        return input
    return make_result(np.conj(x), _conj, (input,))


def conj(input: Tensor) -> Tensor:
    """The complex conjugate. torch returns a lazy view; chainrule computes it (``is_conj`` is
    False, and writing into the result does not write into ``input``)."""
    return conj_physical(input)


def conj_physical_(input: Tensor) -> Tensor:
    """In-place complex conjugate."""
    if not _is_complex_array(input._data):
        return input
    return apply_inplace("conj_physical_", input, lambda: conj_physical(input))


# ---- polar form --------------------------------------------------------------------------------
@_complex_rule
@defop("angle", formula="{g0} = {gy} * i {x0} / |{x0}|^2  (0 where {x0} = 0)")
def _angle(F, g, xs, out, p, needs):
    z = xs[0]
    if F.dtype_of(z).kind != "c":  # a real input's angle is piecewise constant
        return (g * 0,)
    # torch: 0 only where z is exactly 0; where |z|^2 underflows to 0 for a tiny z its division by
    # that zero (a complex 0 in torch) is NaN, not 0
    size = F.real(z * F.conj(z))
    at_zero = z == 0
    underflow = (size == 0) & ~at_zero
    safe = F.where(size == 0, 1.0, size)
    grad = F.where(underflow, math.nan, g * F.complex(-F.imag(z), F.real(z)) / safe)
    return (F.where(at_zero, 0.0, grad),)


def angle(input: Tensor) -> Tensor:
    """The argument of each element in radians (0 or pi for real tensors; integers as floats)."""
    input = as_tensor(input, "angle")
    x = input._data
    if x.dtype.kind in "biu":
        x = x.astype(_dtype.get_default_dtype().np)
    if _is_complex_array(x):
        out = np.angle(x)
    else:  # torch: pi for negative values, 0 otherwise, nan kept
        out = np.where(x < 0, np.asarray(np.pi, x.dtype), np.asarray(0, x.dtype))
        out = np.where(np.isnan(x), x, out)
    return make_result(as_array(out, np.zeros((), x.dtype).real.dtype), _angle, (input,))


@_complex_rule
# torch's ComplexBackward0 saves each input that requires grad (its rule takes the input's dtype
# and shape), so an in-place change of it fails backward
@defop("complex", reads=((0,), (1,)), formula=("{g0} = re {gy}", "{g1} = im {gy}"))
def _complex(F, g, xs, out, p, needs):
    return F.real(g), F.imag(g)


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001  (torch's name)
    """``real + i * imag`` from two real tensors of one floating dtype (broadcast)."""
    re, im = as_tensor(real, "complex"), as_tensor(imag, "complex")
    a, b = re._data, im._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"complex: expected both inputs to have the same dtype, but got {re.dtype} and {im.dtype}"
        )
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"complex: expected both inputs to be Half, Float or Double tensors but got {re.dtype} "
            f"and {im.dtype}"
        )
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"complex: the shapes of real {shape_str(a.shape)} and imag {shape_str(b.shape)} do not broadcast"
        ) from None
    out = np.empty(shape, np.complex64 if a.dtype == np.float32 else np.complex128)
    out.real = a
    out.imag = b
    _mark_complex_graph(re, im)
    return make_result(out, _complex, (re, im))


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002  (torch's names)
    """``abs * (cos(angle) + i sin(angle))`` from two real tensors of one floating dtype."""
    from .elementwise import mul
    from .unary import cos, sin

    r, theta = as_tensor(abs, "polar"), as_tensor(angle, "polar")
    if r._data.dtype != theta._data.dtype or r._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"polar: expected abs and angle to be float or double tensors of one dtype, got "
            f"{r.dtype} and {theta.dtype}"
        )
    return complex(mul(r, cos(theta)), mul(r, sin(theta)))


# ---- sgn of complex numbers (the derivative of abs) --------------------------------------------
@_complex_rule
@defop("sgn", saves_out=True, formula="{g0} = ({gy} - {y}^2 conj({gy})) / (2 |{x0}|)")
def _sgn(F, g, xs, out, p, needs):
    z = xs[0]
    size = F.abs(z)
    safe = F.where(size == 0, 1.0, size)
    return (F.where(size == 0, 0.0, (g - out * out * F.conj(g)) / (2 * safe)),)


def complex_sgn(input: Tensor) -> Tensor:
    """``z / |z|`` (0 at 0) of a complex tensor, with torch's derivative (``sgn`` of complex)."""
    input = as_tensor(input, "sgn")
    x = input._data
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.abs(x)
        out = np.where(size == 0, np.zeros((), x.dtype), x / np.where(size == 0, 1, size))
    return make_result(np.asarray(out, x.dtype), _sgn, (input,))


# ---- the math interface of derivative rules ----------------------------------------------------
def _conj_array(a):
    return np.conj(a) if a.dtype.kind == "c" else a


def _real_array(a):
    return a.real if a.dtype.kind == "c" else a


def _complex_array(re, im):
    return re + 1j * im if re.dtype == np.float64 else (re + np.complex64(1j) * im).astype(np.complex64)


def _view_as_real_copy_array(g):
    return np.stack((g.real, g.imag), axis=-1)


def _sgn_array(a):
    out = np.sign(a)  # NumPy 2: z / |z| for complex, as torch's sgn
    # torch's sgn of a real NaN is 0 (so abs's gradient at NaN is 0)
    if a.dtype.kind == "f" and any_true(out != out):  # (any_true: vmap's arrays too)
        out = np.where(out != out, a.dtype.type(0), out)
    return out


def _sgn_tensor(x):
    from .unary import sign

    return complex_sgn(x) if x._data.dtype.kind == "c" else sign(x)


def _view_as_real_copy_tensor(g):
    from .join import stack

    return stack((real(g), imag(g)), -1)


register("conj", _conj_array, conj)
register("real", _real_array, real)
register("imag", lambda a: a.imag, imag)
register("complex", _complex_array, complex)
register("view_as_real_copy", _view_as_real_copy_array, _view_as_real_copy_tensor)
register("sgn", _sgn_array, _sgn_tensor)


def view_as_real_copy(input: Tensor) -> Tensor:
    """``view_as_real`` as a copy (its own memory, as torch's ``*_copy`` functions)."""
    return view_as_real(input).clone()


def view_as_complex_copy(input: Tensor) -> Tensor:
    """``view_as_complex`` as a copy."""
    return view_as_complex(input).clone()
