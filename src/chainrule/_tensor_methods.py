"""Tensor methods that delegate to the functions in ``chainrule.ops`` (one line each).

Kept apart from ``_tensor.py`` so that the core class stays readable; ``x.sin()`` is exactly
``chainrule.sin(x)``. ``_F`` is bound to ``chainrule.ops`` once the ops are imported.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _dtype
from ._inplace_no_grad import inplace_no_grad, no_grad_alpha
from ._layout import strided
from .autograd.grad_mode import GRAD, GRAD_OFF

_F: Any = None


def _matrix_dims(tensor, who: str) -> tuple[int, int]:
    """The dims ``mT`` / ``mH`` swap: the last two; a 0-d tensor is its own (torch: deprecated, the
    identity); a 1-D one has no matrix dims (torch's RuntimeError)."""
    ndim = tensor._data.ndim
    if ndim == 1:
        raise RuntimeError(
            f"tensor.{who} is only supported on matrices or batches of matrices. Got 1-D tensor."
        )
    return (-2, -1) if ndim else (0, -1)


def _zero_d(tensor, who: str):
    """``mT`` / ``mH`` of a 0-d tensor: torch's deprecation warning, and the tensor itself (not a
    view: a hook or ``retain_grad`` on the result is one on the tensor, as in torch)."""
    hint = "Consider using x.conj()." if who == "mH" else "This function is the identity in these cases."
    warnings.warn(f"Tensor.{who} is deprecated on 0-D tensors. {hint}", UserWarning, stacklevel=3)
    return _F.conj(tensor) if who == "mH" else tensor  # (conj of a real tensor is the tensor)


class TensorMethods:
    """Mixin of ``Tensor``: the op methods."""

    __slots__ = ()

    # ---- sampling in place, memory layout and the device/layout queries torch programs ask ----
    # fmt: off
    def normal_(self, *args, **kwargs): return _F.normal_(self, *args, **kwargs)
    def uniform_(self, *args, **kwargs): return _F.uniform_(self, *args, **kwargs)
    def exponential_(self, *args, **kwargs): return _F.exponential_(self, *args, **kwargs)
    def geometric_(self, p, *, generator=None): return _F.geometric_(self, p, generator=generator)
    def log_normal_(self, *args, **kwargs): return _F.log_normal_(self, *args, **kwargs)
    def cauchy_(self, *args, **kwargs): return _F.cauchy_(self, *args, **kwargs)
    def random_(self, *args, **kwargs): return _F.random_(self, *args, **kwargs)
    def bernoulli_(self, p=0.5, *, generator=None): return _F.bernoulli_(self, p, generator=generator)
    def bernoulli(self, p=None, *, generator=None): return _F.bernoulli(self, p, generator=generator)
    def multinomial(self, *args, **kwargs): return _F.multinomial(self, *args, **kwargs)
    def is_nonzero(self): return _F.is_nonzero(self)
    def is_same_size(self, other): return _F.is_same_size(self, other)
    def tril_(self, diagonal=0): return _F.tril_(self, diagonal)
    def triu_(self, diagonal=0): return _F.triu_(self, diagonal)
    # fmt: on

    def stride(self, dim: int | None = None):
        """Elements to step in memory along each dim (NumPy's byte strides over the item size)."""
        array, item = self._data, self._data.itemsize
        if array.size == 0:  # NumPy leaves an empty array's strides open; torch's are contiguous
            strides = tuple(int(np.prod(array.shape[d + 1 :])) for d in range(array.ndim))
        else:
            strides = tuple(s // item for s in array.strides)
        if dim is None:
            return strides
        if not -len(strides) <= dim < max(len(strides), 1):
            raise IndexError(
                f"stride: Dimension out of range (expected to be in range of [{-len(strides)}, "
                f"{len(strides) - 1}], but got {dim})"
            )
        return strides[dim] if strides else 1

    def storage_offset(self) -> int:
        """Where this tensor starts in its storage, in elements."""
        return (self.data_ptr() - self.untyped_storage().data_ptr()) // self._data.itemsize

    def get_device(self) -> int:
        """-1 for a CPU tensor, the GPU's index otherwise."""
        index = self.device.index
        return -1 if self.device.type == "cpu" else (index or 0)

    def const_data_ptr(self) -> int:
        return self.data_ptr()

    def is_pinned(self) -> bool:
        return False

    def pin_memory(self):
        raise RuntimeError(
            "pin_memory: Cannot access accelerator device when none is available (pinned memory "
            "speeds up copies to a GPU); leave pin_memory off on the CPU"
        )

    def new_empty_strided(self, size, stride, *, dtype=None, requires_grad: bool = False, **kwargs):
        return _F.empty_strided(size, stride, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def as_subclass(self, cls):
        """This tensor (same memory and history) as an instance of the Tensor subclass ``cls``."""
        if not (isinstance(cls, type) and issubclass(cls, TensorMethods)):
            raise TypeError(f"as_subclass: {cls!r} is not a subclass of Tensor")
        out = self.view(self.shape)
        out.__class__ = cls
        return out

    @property
    def H(self):
        """The conjugate transpose of a matrix (2-D only, as in torch)."""
        if self.ndim not in (0, 2):
            raise RuntimeError(
                f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor; "
                "use mH for batches of matrices"
            )
        return self.mH if self.ndim == 2 else self

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def layout(self):
        return strided

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    # layouts and devices chainrule tensors never have: the answers torch gives for a CPU tensor
    is_sparse = is_sparse_csr = is_quantized = is_nested = is_meta = is_mkldnn = property(lambda self: False)
    is_vulkan = is_xpu = is_ipu = is_mps = is_mtia = is_maia = is_xla = property(lambda self: False)

    # one line per delegating method, so the table reads at a glance
    # fmt: off
    def abs(self): return _F.abs(self)
    def absolute(self): return _F.absolute(self)
    def acos(self): return _F.acos(self)
    def arccos(self): return _F.arccos(self)
    def asin(self): return _F.asin(self)
    def arcsin(self): return _F.arcsin(self)
    def atan(self): return _F.atan(self)
    def arctan(self): return _F.arctan(self)
    def ceil(self): return _F.ceil(self)
    def cos(self): return _F.cos(self)
    def cosh(self): return _F.cosh(self)
    def exp(self): return _F.exp(self)
    def expm1(self): return _F.expm1(self)
    def floor(self): return _F.floor(self)
    def log(self): return _F.log(self)
    def log10(self): return _F.log10(self)
    def log1p(self): return _F.log1p(self)
    def log2(self): return _F.log2(self)
    def neg(self): return _F.neg(self)
    def negative(self): return _F.negative(self)
    def reciprocal(self): return _F.reciprocal(self)
    def relu(self): return _F.relu(self)
    def round(self, *, decimals: int = 0): return _F.round(self, decimals=decimals)
    def rsqrt(self): return _F.rsqrt(self)
    def sigmoid(self): return _F.sigmoid(self)
    def sign(self): return _F.sign(self)
    def sin(self): return _F.sin(self)
    def sinh(self): return _F.sinh(self)
    def sqrt(self): return _F.sqrt(self)
    def square(self): return _F.square(self)
    def tan(self): return _F.tan(self)
    def tanh(self): return _F.tanh(self)
    def trunc(self): return _F.trunc(self)
    def isnan(self): return _F.isnan(self)
    def isinf(self): return _F.isinf(self)
    def isfinite(self): return _F.isfinite(self)
    def logical_not(self): return _F.logical_not(self)
    def t(self): return _F.t(self)
    def ravel(self): return _F.ravel(self)
    def add(self, other, *args, **kwargs): return _F.add(self, other, *args, **kwargs)
    def sub(self, other, *args, **kwargs): return _F.sub(self, other, *args, **kwargs)
    def subtract(self, other, *args, **kwargs): return _F.subtract(self, other, *args, **kwargs)
    def mul(self, other, *args, **kwargs): return _F.mul(self, other, *args, **kwargs)
    def multiply(self, other, *args, **kwargs): return _F.multiply(self, other, *args, **kwargs)
    def div(self, other, *args, **kwargs): return _F.div(self, other, *args, **kwargs)
    def divide(self, other, *args, **kwargs): return _F.divide(self, other, *args, **kwargs)
    def true_divide(self, other, *args, **kwargs): return _F.true_divide(self, other, *args, **kwargs)
    def floor_divide(self, other, *args, **kwargs): return _F.floor_divide(self, other, *args, **kwargs)
    def remainder(self, other, *args, **kwargs): return _F.remainder(self, other, *args, **kwargs)
    def fmod(self, other, *args, **kwargs): return _F.fmod(self, other, *args, **kwargs)
    def pow(self, other, *args, **kwargs): return _F.pow(self, other, *args, **kwargs)
    def float_power(self, other, *args, **kwargs): return _F.float_power(self, other, *args, **kwargs)
    def atan2(self, other, *args, **kwargs): return _F.atan2(self, other, *args, **kwargs)
    def arctan2(self, other, *args, **kwargs): return _F.arctan2(self, other, *args, **kwargs)
    def maximum(self, other, *args, **kwargs): return _F.maximum(self, other, *args, **kwargs)
    def minimum(self, other, *args, **kwargs): return _F.minimum(self, other, *args, **kwargs)
    def matmul(self, other, *args, **kwargs): return _F.matmul(self, other, *args, **kwargs)
    def mm(self, other, *args, **kwargs): return _F.mm(self, other, *args, **kwargs)
    def bmm(self, other, *args, **kwargs): return _F.bmm(self, other, *args, **kwargs)
    def dot(self, other, *args, **kwargs): return _F.dot(self, other, *args, **kwargs)
    def inner(self, other, *args, **kwargs): return _F.inner(self, other, *args, **kwargs)
    def mv(self, other, *args, **kwargs): return _F.mv(self, other, *args, **kwargs)
    def outer(self, other, *args, **kwargs): return _F.outer(self, other, *args, **kwargs)
    def ger(self, other, *args, **kwargs): return _F.ger(self, other, *args, **kwargs)
    def eq(self, other, *args, **kwargs): return _F.eq(self, other, *args, **kwargs)
    def ne(self, other, *args, **kwargs): return _F.ne(self, other, *args, **kwargs)
    def lt(self, other, *args, **kwargs): return _F.lt(self, other, *args, **kwargs)
    def le(self, other, *args, **kwargs): return _F.le(self, other, *args, **kwargs)
    def gt(self, other, *args, **kwargs): return _F.gt(self, other, *args, **kwargs)
    def ge(self, other, *args, **kwargs): return _F.ge(self, other, *args, **kwargs)
    def greater(self, other, *args, **kwargs): return _F.greater(self, other, *args, **kwargs)
    def greater_equal(self, other, *args, **kwargs): return _F.greater_equal(self, other, *args, **kwargs)
    def less(self, other, *args, **kwargs): return _F.less(self, other, *args, **kwargs)
    def less_equal(self, other, *args, **kwargs): return _F.less_equal(self, other, *args, **kwargs)
    def not_equal(self, other, *args, **kwargs): return _F.not_equal(self, other, *args, **kwargs)
    def logical_and(self, other, *args, **kwargs): return _F.logical_and(self, other, *args, **kwargs)
    def logical_or(self, other, *args, **kwargs): return _F.logical_or(self, other, *args, **kwargs)
    def logical_xor(self, other, *args, **kwargs): return _F.logical_xor(self, other, *args, **kwargs)
    def equal(self, other, *args, **kwargs): return _F.equal(self, other, *args, **kwargs)
    def allclose(self, other, *args, **kwargs): return _F.allclose(self, other, *args, **kwargs)
    def isclose(self, other, *args, **kwargs): return _F.isclose(self, other, *args, **kwargs)
    def expand_as(self, other, *args, **kwargs): return _F.expand_as(self, other, *args, **kwargs)
    def view_as(self, other, *args, **kwargs): return _F.view_as(self, other, *args, **kwargs)
    def reshape_as(self, other, *args, **kwargs): return _F.reshape_as(self, other, *args, **kwargs)
    def sum(self, *args, **kwargs): return _F.sum(self, *args, **kwargs)
    def mean(self, *args, **kwargs): return _F.mean(self, *args, **kwargs)
    def var(self, *args, **kwargs): return _F.var(self, *args, **kwargs)
    def std(self, *args, **kwargs): return _F.std(self, *args, **kwargs)
    def prod(self, *args, **kwargs): return _F.prod(self, *args, **kwargs)
    def max(self, *args, **kwargs): return _F.max(self, *args, **kwargs)
    def min(self, *args, **kwargs): return _F.min(self, *args, **kwargs)
    def amax(self, *args, **kwargs): return _F.amax(self, *args, **kwargs)
    def amin(self, *args, **kwargs): return _F.amin(self, *args, **kwargs)
    def argmax(self, *args, **kwargs): return _F.argmax(self, *args, **kwargs)
    def argmin(self, *args, **kwargs): return _F.argmin(self, *args, **kwargs)
    def logsumexp(self, *args, **kwargs): return _F.logsumexp(self, *args, **kwargs)
    def cumsum(self, *args, **kwargs): return _F.cumsum(self, *args, **kwargs)
    def cumprod(self, *args, **kwargs): return _F.cumprod(self, *args, **kwargs)
    def norm(self, *args, **kwargs): return _F.norm(self, *args, **kwargs)
    def qr(self, *args, **kwargs): return _F.qr(self, *args, **kwargs)
    def svd(self, *args, **kwargs): return _F.svd(self, *args, **kwargs)
    def det(self): return _F.det(self)
    def logdet(self): return _F.logdet(self)
    def slogdet(self): return _F.slogdet(self)
    def inverse(self): return _F.inverse(self)
    def cholesky(self, upper=False): return _F.cholesky(self, upper)
    def cholesky_solve(self, input2, upper=False): return _F.cholesky_solve(self, input2, upper)
    def cholesky_inverse(self, upper=False): return _F.cholesky_inverse(self, upper)
    def pinverse(self, rcond=1e-15): return _F.pinverse(self, rcond)
    def matrix_exp(self): return _F.matrix_exp(self)
    def matrix_power(self, n): return _F.matrix_power(self, n)
    def cross(self, other, dim=None): return _F.cross(self, other, dim)
    def all(self, *args, **kwargs): return _F.all(self, *args, **kwargs)
    def any(self, *args, **kwargs): return _F.any(self, *args, **kwargs)
    def clamp(self, *args, **kwargs): return _F.clamp(self, *args, **kwargs)
    def clip(self, *args, **kwargs): return _F.clip(self, *args, **kwargs)
    def clamp_min(self, *args, **kwargs): return _F.clamp_min(self, *args, **kwargs)
    def clamp_max(self, *args, **kwargs): return _F.clamp_max(self, *args, **kwargs)
    def reshape(self, *args, **kwargs): return _F.reshape(self, *args, **kwargs)
    def view(self, *args, **kwargs): return _F.view(self, *args, **kwargs)
    def flatten(self, *args, **kwargs): return _F.flatten(self, *args, **kwargs)
    def unflatten(self, *args, **kwargs): return _F.unflatten(self, *args, **kwargs)
    def squeeze(self, *args, **kwargs): return _F.squeeze(self, *args, **kwargs)
    def unsqueeze(self, *args, **kwargs): return _F.unsqueeze(self, *args, **kwargs)
    def transpose(self, *args, **kwargs): return _F.transpose(self, *args, **kwargs)
    def swapaxes(self, *args, **kwargs): return _F.swapaxes(self, *args, **kwargs)
    def swapdims(self, *args, **kwargs): return _F.swapdims(self, *args, **kwargs)
    def permute(self, *args, **kwargs): return _F.permute(self, *args, **kwargs)
    def expand(self, *args, **kwargs): return _F.expand(self, *args, **kwargs)
    def broadcast_to(self, *args, **kwargs): return _F.broadcast_to(self, *args, **kwargs)
    def repeat(self, *args, **kwargs): return _F.repeat(self, *args, **kwargs)
    def tile(self, *args, **kwargs): return _F.tile(self, *args, **kwargs)
    def split(self, *args, **kwargs): return _F.split(self, *args, **kwargs)
    def chunk(self, *args, **kwargs): return _F.chunk(self, *args, **kwargs)
    def flip(self, *args, **kwargs): return _F.flip(self, *args, **kwargs)
    def gather(self, *args, **kwargs): return _F.gather(self, *args, **kwargs)
    def scatter(self, *args, **kwargs): return _F.scatter(self, *args, **kwargs)
    def scatter_add(self, *args, **kwargs): return _F.scatter_add(self, *args, **kwargs)
    def index_select(self, *args, **kwargs): return _F.index_select(self, *args, **kwargs)
    def masked_fill(self, *args, **kwargs): return _F.masked_fill(self, *args, **kwargs)
    def narrow(self, *args, **kwargs): return _F.narrow(self, *args, **kwargs)
    def select(self, *args, **kwargs): return _F.select(self, *args, **kwargs)
    def fliplr(self): return _F.fliplr(self)
    def flipud(self): return _F.flipud(self)
    def argwhere(self): return _F.argwhere(self)
    def unbind(self, *args, **kwargs): return _F.unbind(self, *args, **kwargs)
    def movedim(self, *args, **kwargs): return _F.movedim(self, *args, **kwargs)
    def moveaxis(self, *args, **kwargs): return _F.moveaxis(self, *args, **kwargs)
    def sort(self, *args, **kwargs): return _F.sort(self, *args, **kwargs)
    def argsort(self, *args, **kwargs): return _F.argsort(self, *args, **kwargs)
    def topk(self, *args, **kwargs): return _F.topk(self, *args, **kwargs)
    def softmax(self, *args, **kwargs): return _F.softmax(self, *args, **kwargs)
    def log_softmax(self, *args, **kwargs): return _F.log_softmax(self, *args, **kwargs)
    def median(self, *args, **kwargs): return _F.median(self, *args, **kwargs)
    def diff(self, *args, **kwargs): return _F.diff(self, *args, **kwargs)
    def tril(self, *args, **kwargs): return _F.tril(self, *args, **kwargs)
    def triu(self, *args, **kwargs): return _F.triu(self, *args, **kwargs)
    def diag(self, *args, **kwargs): return _F.diag(self, *args, **kwargs)
    def diagonal(self, *args, **kwargs): return _F.diagonal(self, *args, **kwargs)
    def unfold(self, dimension, size, step): return _F.shape._unfold_windows(self, dimension, size, step)
    def as_strided(self, *args, **kwargs): return _F.as_strided(self, *args, **kwargs)
    def trace(self, *args, **kwargs): return _F.trace(self, *args, **kwargs)
    def kthvalue(self, *args, **kwargs): return _F.kthvalue(self, *args, **kwargs)
    def nonzero(self, *args, **kwargs): return _F.nonzero(self, *args, **kwargs)
    def count_nonzero(self, *args, **kwargs): return _F.count_nonzero(self, *args, **kwargs)
    def masked_select(self, *args, **kwargs): return _F.masked_select(self, *args, **kwargs)
    def take_along_dim(self, *args, **kwargs): return _F.take_along_dim(self, *args, **kwargs)
    def roll(self, *args, **kwargs): return _F.roll(self, *args, **kwargs)
    def index_add(self, *args, **kwargs): return _F.index_add(self, *args, **kwargs)
    def index_copy(self, *args, **kwargs): return _F.index_copy(self, *args, **kwargs)
    def index_fill(self, *args, **kwargs): return _F.index_fill(self, *args, **kwargs)
    def sum_to_size(self, *args, **kwargs): return _F.sum_to_size(self, *args, **kwargs)
    def where(self, condition, other): return _F.where(condition, self, other)  # torch's order
    def div_(self, *args, **kwargs): return _F.div_(self, *args, **kwargs)
    def pow_(self, *args, **kwargs): return _F.pow_(self, *args, **kwargs)
    def remainder_(self, *args, **kwargs): return _F.remainder_(self, *args, **kwargs)
    def clamp_(self, *args, **kwargs): return _F.clamp_(self, *args, **kwargs)
    def clip_(self, *args, **kwargs): return _F.clip_(self, *args, **kwargs)
    def neg_(self, *args, **kwargs): return _F.neg_(self, *args, **kwargs)
    def exp_(self, *args, **kwargs): return _F.exp_(self, *args, **kwargs)
    def log_(self, *args, **kwargs): return _F.log_(self, *args, **kwargs)
    def sqrt_(self, *args, **kwargs): return _F.sqrt_(self, *args, **kwargs)
    def abs_(self, *args, **kwargs): return _F.abs_(self, *args, **kwargs)
    def sigmoid_(self, *args, **kwargs): return _F.sigmoid_(self, *args, **kwargs)
    def tanh_(self, *args, **kwargs): return _F.tanh_(self, *args, **kwargs)
    def relu_(self, *args, **kwargs): return _F.relu_(self, *args, **kwargs)
    def floor_(self, *args, **kwargs): return _F.floor_(self, *args, **kwargs)
    def ceil_(self, *args, **kwargs): return _F.ceil_(self, *args, **kwargs)
    def round_(self, *args, **kwargs): return _F.round_(self, *args, **kwargs)
    def sin_(self, *args, **kwargs): return _F.sin_(self, *args, **kwargs)
    def cos_(self, *args, **kwargs): return _F.cos_(self, *args, **kwargs)
    def square_(self, *args, **kwargs): return _F.square_(self, *args, **kwargs)
    def reciprocal_(self, *args, **kwargs): return _F.reciprocal_(self, *args, **kwargs)
    def zero_(self, *args, **kwargs): return _F.zero_(self, *args, **kwargs)
    def fill_(self, *args, **kwargs): return _F.fill_(self, *args, **kwargs)
    def copy_(self, *args, **kwargs): return _F.copy_(self, *args, **kwargs)
    # ---- products, construction, shape/split ops, view scatters, linalg (shapelinalg) ----
    def kron(self, *args, **kwargs): return _F.kron(self, *args, **kwargs)
    def addmm(self, *args, **kwargs): return _F.addmm(self, *args, **kwargs)
    def addbmm(self, *args, **kwargs): return _F.addbmm(self, *args, **kwargs)
    def baddbmm(self, *args, **kwargs): return _F.baddbmm(self, *args, **kwargs)
    def addmv(self, *args, **kwargs): return _F.addmv(self, *args, **kwargs)
    def addr(self, *args, **kwargs): return _F.addr(self, *args, **kwargs)
    def addmm_(self, *args, **kwargs): return _F.addmm_(self, *args, **kwargs)
    def addbmm_(self, *args, **kwargs): return _F.addbmm_(self, *args, **kwargs)
    def baddbmm_(self, *args, **kwargs): return _F.baddbmm_(self, *args, **kwargs)
    def addmv_(self, *args, **kwargs): return _F.addmv_(self, *args, **kwargs)
    def addr_(self, *args, **kwargs): return _F.addr_(self, *args, **kwargs)
    def vdot(self, *args, **kwargs): return _F.vdot(self, *args, **kwargs)
    def diagonal_scatter(self, *args, **kwargs): return _F.diagonal_scatter(self, *args, **kwargs)
    def select_scatter(self, *args, **kwargs): return _F.select_scatter(self, *args, **kwargs)
    def slice_scatter(self, *args, **kwargs): return _F.slice_scatter(self, *args, **kwargs)
    def as_strided_scatter(self, *args, **kwargs): return _F.as_strided_scatter(self, *args, **kwargs)
    def fill_diagonal_(self, *args, **kwargs): return _F.fill_diagonal_(self, *args, **kwargs)
    def diag_embed(self, *args, **kwargs): return _F.diag_embed(self, *args, **kwargs)
    def diagflat(self, *args, **kwargs): return _F.diagflat(self, *args, **kwargs)
    def rot90(self, *args, **kwargs): return _F.rot90(self, *args, **kwargs)
    def repeat_interleave(self, *args, **kwargs): return _F.repeat_interleave(self, *args, **kwargs)
    def tensor_split(self, *args, **kwargs): return _F.tensor_split(self, *args, **kwargs)
    def hsplit(self, *args, **kwargs): return _F.hsplit(self, *args, **kwargs)
    def vsplit(self, *args, **kwargs): return _F.vsplit(self, *args, **kwargs)
    def dsplit(self, *args, **kwargs): return _F.dsplit(self, *args, **kwargs)
    def split_with_sizes(self, *args, **kwargs): return _F.split_with_sizes(self, *args, **kwargs)
    def unsafe_split(self, *args, **kwargs): return _F.unsafe_split(self, *args, **kwargs)
    def unsafe_chunk(self, *args, **kwargs): return _F.unsafe_chunk(self, *args, **kwargs)
    def unsafe_split_with_sizes(self, *args, **kw): return _F.unsafe_split_with_sizes(self, *args, **kw)
    def adjoint(self, *args, **kwargs): return _F.adjoint(self, *args, **kwargs)
    def narrow_copy(self, *args, **kwargs): return _F.narrow_copy(self, *args, **kwargs)
    def t_(self, *args, **kwargs): return _F.t_(self, *args, **kwargs)
    def transpose_(self, *args, **kwargs): return _F.transpose_(self, *args, **kwargs)
    def swapaxes_(self, *args, **kwargs): return _F.swapaxes_(self, *args, **kwargs)
    def swapdims_(self, *args, **kwargs): return _F.swapdims_(self, *args, **kwargs)
    def squeeze_(self, *args, **kwargs): return _F.squeeze_(self, *args, **kwargs)
    def unsqueeze_(self, *args, **kwargs): return _F.unsqueeze_(self, *args, **kwargs)
    def as_strided_(self, *args, **kwargs): return _F.as_strided_(self, *args, **kwargs)
    def resize_(self, *args, **kwargs): return _F.resize_(self, *args, **kwargs)
    def resize_as_(self, *args, **kwargs): return _F.resize_as_(self, *args, **kwargs)
    def lu(self, *args, **kwargs): return _F.lu(self, *args, **kwargs)
    def lu_solve(self, *args, **kwargs): return _F.lu_solve(self, *args, **kwargs)
    def triangular_solve(self, *args, **kwargs): return _F.triangular_solve(self, *args, **kwargs)
    def orgqr(self, *args, **kwargs): return _F.orgqr(self, *args, **kwargs)
    def ormqr(self, *args, **kwargs): return _F.ormqr(self, *args, **kwargs)
    def geqrf(self, *args, **kwargs): return _F.geqrf(self, *args, **kwargs)
    def new(self, *args): return _F.construct.tensor_new(self, *args)

    # ---- element-wise and special (elemspecial) ----
    def absolute_(self, *args, **kwargs): return _F.absolute_(self, *args, **kwargs)
    def acos_(self, *args, **kwargs): return _F.acos_(self, *args, **kwargs)
    def acosh(self, *args, **kwargs): return _F.acosh(self, *args, **kwargs)
    def acosh_(self, *args, **kwargs): return _F.acosh_(self, *args, **kwargs)
    def addcdiv(self, *args, **kwargs): return _F.addcdiv(self, *args, **kwargs)
    def addcdiv_(self, *args, **kwargs): return _F.addcdiv_(self, *args, **kwargs)
    def addcmul(self, *args, **kwargs): return _F.addcmul(self, *args, **kwargs)
    def addcmul_(self, *args, **kwargs): return _F.addcmul_(self, *args, **kwargs)
    def arccos_(self, *args, **kwargs): return _F.arccos_(self, *args, **kwargs)
    def arccosh(self, *args, **kwargs): return _F.arccosh(self, *args, **kwargs)
    def arccosh_(self, *args, **kwargs): return _F.arccosh_(self, *args, **kwargs)
    def arcsin_(self, *args, **kwargs): return _F.arcsin_(self, *args, **kwargs)
    def arcsinh(self, *args, **kwargs): return _F.arcsinh(self, *args, **kwargs)
    def arcsinh_(self, *args, **kwargs): return _F.arcsinh_(self, *args, **kwargs)
    def arctan2_(self, *args, **kwargs): return _F.arctan2_(self, *args, **kwargs)
    def arctan_(self, *args, **kwargs): return _F.arctan_(self, *args, **kwargs)
    def arctanh(self, *args, **kwargs): return _F.arctanh(self, *args, **kwargs)
    def arctanh_(self, *args, **kwargs): return _F.arctanh_(self, *args, **kwargs)
    def asin_(self, *args, **kwargs): return _F.asin_(self, *args, **kwargs)
    def asinh(self, *args, **kwargs): return _F.asinh(self, *args, **kwargs)
    def asinh_(self, *args, **kwargs): return _F.asinh_(self, *args, **kwargs)
    def atan2_(self, *args, **kwargs): return _F.atan2_(self, *args, **kwargs)
    def atan_(self, *args, **kwargs): return _F.atan_(self, *args, **kwargs)
    def atanh(self, *args, **kwargs): return _F.atanh(self, *args, **kwargs)
    def atanh_(self, *args, **kwargs): return _F.atanh_(self, *args, **kwargs)
    def bitwise_and(self, *args, **kwargs): return _F.bitwise_and(self, *args, **kwargs)
    def bitwise_and_(self, *args, **kwargs): return _F.bitwise_and_(self, *args, **kwargs)
    def bitwise_left_shift(self, *args, **kwargs): return _F.bitwise_left_shift(self, *args, **kwargs)
    def bitwise_left_shift_(self, *args, **kwargs): return _F.bitwise_left_shift_(self, *args, **kwargs)
    def bitwise_not(self, *args, **kwargs): return _F.bitwise_not(self, *args, **kwargs)
    def bitwise_not_(self, *args, **kwargs): return _F.bitwise_not_(self, *args, **kwargs)
    def bitwise_or(self, *args, **kwargs): return _F.bitwise_or(self, *args, **kwargs)
    def bitwise_or_(self, *args, **kwargs): return _F.bitwise_or_(self, *args, **kwargs)
    def bitwise_right_shift(self, *args, **kwargs): return _F.bitwise_right_shift(self, *args, **kwargs)
    def bitwise_right_shift_(self, *args, **kwargs): return _F.bitwise_right_shift_(self, *args, **kwargs)
    def bitwise_xor(self, *args, **kwargs): return _F.bitwise_xor(self, *args, **kwargs)
    def bitwise_xor_(self, *args, **kwargs): return _F.bitwise_xor_(self, *args, **kwargs)
    def clamp_max_(self, *args, **kwargs): return _F.clamp_max_(self, *args, **kwargs)
    def clamp_min_(self, *args, **kwargs): return _F.clamp_min_(self, *args, **kwargs)
    def copysign(self, *args, **kwargs): return _F.copysign(self, *args, **kwargs)
    def copysign_(self, *args, **kwargs): return _F.copysign_(self, *args, **kwargs)
    def cosh_(self, *args, **kwargs): return _F.cosh_(self, *args, **kwargs)
    def deg2rad(self, *args, **kwargs): return _F.deg2rad(self, *args, **kwargs)
    def deg2rad_(self, *args, **kwargs): return _F.deg2rad_(self, *args, **kwargs)
    def digamma(self, *args, **kwargs): return _F.digamma(self, *args, **kwargs)
    def digamma_(self, *args, **kwargs): return _F.digamma_(self, *args, **kwargs)
    def divide_(self, *args, **kwargs): return _F.divide_(self, *args, **kwargs)
    def eq_(self, *args, **kwargs): return _F.eq_(self, *args, **kwargs)
    def erf(self, *args, **kwargs): return _F.erf(self, *args, **kwargs)
    def erf_(self, *args, **kwargs): return _F.erf_(self, *args, **kwargs)
    def erfc(self, *args, **kwargs): return _F.erfc(self, *args, **kwargs)
    def erfc_(self, *args, **kwargs): return _F.erfc_(self, *args, **kwargs)
    def erfinv(self, *args, **kwargs): return _F.erfinv(self, *args, **kwargs)
    def erfinv_(self, *args, **kwargs): return _F.erfinv_(self, *args, **kwargs)
    def exp2(self, *args, **kwargs): return _F.exp2(self, *args, **kwargs)
    def exp2_(self, *args, **kwargs): return _F.exp2_(self, *args, **kwargs)
    def expm1_(self, *args, **kwargs): return _F.expm1_(self, *args, **kwargs)
    def fix(self, *args, **kwargs): return _F.fix(self, *args, **kwargs)
    def fix_(self, *args, **kwargs): return _F.fix_(self, *args, **kwargs)
    def float_power_(self, *args, **kwargs): return _F.float_power_(self, *args, **kwargs)
    def floor_divide_(self, *args, **kwargs): return _F.floor_divide_(self, *args, **kwargs)
    def fmax(self, *args, **kwargs): return _F.fmax(self, *args, **kwargs)
    def fmin(self, *args, **kwargs): return _F.fmin(self, *args, **kwargs)
    def fmod_(self, *args, **kwargs): return _F.fmod_(self, *args, **kwargs)
    def frac(self, *args, **kwargs): return _F.frac(self, *args, **kwargs)
    def frac_(self, *args, **kwargs): return _F.frac_(self, *args, **kwargs)
    def frexp(self, *args, **kwargs): return _F.frexp(self, *args, **kwargs)
    def gcd(self, *args, **kwargs): return _F.gcd(self, *args, **kwargs)
    def gcd_(self, *args, **kwargs): return _F.gcd_(self, *args, **kwargs)
    def ge_(self, *args, **kwargs): return _F.ge_(self, *args, **kwargs)
    def greater_(self, *args, **kwargs): return _F.greater_(self, *args, **kwargs)
    def greater_equal_(self, *args, **kwargs): return _F.greater_equal_(self, *args, **kwargs)
    def gt_(self, *args, **kwargs): return _F.gt_(self, *args, **kwargs)
    def heaviside(self, *args, **kwargs): return _F.heaviside(self, *args, **kwargs)
    def heaviside_(self, *args, **kwargs): return _F.heaviside_(self, *args, **kwargs)
    def hypot(self, *args, **kwargs): return _F.hypot(self, *args, **kwargs)
    def hypot_(self, *args, **kwargs): return _F.hypot_(self, *args, **kwargs)
    def i0(self, *args, **kwargs): return _F.i0(self, *args, **kwargs)
    def i0_(self, *args, **kwargs): return _F.i0_(self, *args, **kwargs)
    def igamma(self, *args, **kwargs): return _F.igamma(self, *args, **kwargs)
    def igamma_(self, *args, **kwargs): return _F.igamma_(self, *args, **kwargs)
    def igammac(self, *args, **kwargs): return _F.igammac(self, *args, **kwargs)
    def igammac_(self, *args, **kwargs): return _F.igammac_(self, *args, **kwargs)
    def isneginf(self, *args, **kwargs): return _F.isneginf(self, *args, **kwargs)
    def isposinf(self, *args, **kwargs): return _F.isposinf(self, *args, **kwargs)
    def isreal(self, *args, **kwargs): return _F.isreal(self, *args, **kwargs)
    def lcm(self, *args, **kwargs): return _F.lcm(self, *args, **kwargs)
    def lcm_(self, *args, **kwargs): return _F.lcm_(self, *args, **kwargs)
    def ldexp(self, *args, **kwargs): return _F.ldexp(self, *args, **kwargs)
    def ldexp_(self, *args, **kwargs): return _F.ldexp_(self, *args, **kwargs)
    def le_(self, *args, **kwargs): return _F.le_(self, *args, **kwargs)
    def lerp(self, *args, **kwargs): return _F.lerp(self, *args, **kwargs)
    def lerp_(self, *args, **kwargs): return _F.lerp_(self, *args, **kwargs)
    def less_(self, *args, **kwargs): return _F.less_(self, *args, **kwargs)
    def less_equal_(self, *args, **kwargs): return _F.less_equal_(self, *args, **kwargs)
    def lgamma(self, *args, **kwargs): return _F.lgamma(self, *args, **kwargs)
    def lgamma_(self, *args, **kwargs): return _F.lgamma_(self, *args, **kwargs)
    def log10_(self, *args, **kwargs): return _F.log10_(self, *args, **kwargs)
    def log1p_(self, *args, **kwargs): return _F.log1p_(self, *args, **kwargs)
    def log2_(self, *args, **kwargs): return _F.log2_(self, *args, **kwargs)
    def logaddexp(self, *args, **kwargs): return _F.logaddexp(self, *args, **kwargs)
    def logaddexp2(self, *args, **kwargs): return _F.logaddexp2(self, *args, **kwargs)
    def logical_and_(self, *args, **kwargs): return _F.logical_and_(self, *args, **kwargs)
    def logical_not_(self, *args, **kwargs): return _F.logical_not_(self, *args, **kwargs)
    def logical_or_(self, *args, **kwargs): return _F.logical_or_(self, *args, **kwargs)
    def logical_xor_(self, *args, **kwargs): return _F.logical_xor_(self, *args, **kwargs)
    def logit(self, *args, **kwargs): return _F.logit(self, *args, **kwargs)
    def logit_(self, *args, **kwargs): return _F.logit_(self, *args, **kwargs)
    def lt_(self, *args, **kwargs): return _F.lt_(self, *args, **kwargs)
    def multiply_(self, *args, **kwargs): return _F.multiply_(self, *args, **kwargs)
    def mvlgamma(self, *args, **kwargs): return _F.mvlgamma(self, *args, **kwargs)
    def mvlgamma_(self, *args, **kwargs): return _F.mvlgamma_(self, *args, **kwargs)
    def nan_to_num(self, *args, **kwargs): return _F.nan_to_num(self, *args, **kwargs)
    def nan_to_num_(self, *args, **kwargs): return _F.nan_to_num_(self, *args, **kwargs)
    def ne_(self, *args, **kwargs): return _F.ne_(self, *args, **kwargs)
    def negative_(self, *args, **kwargs): return _F.negative_(self, *args, **kwargs)
    def nextafter(self, *args, **kwargs): return _F.nextafter(self, *args, **kwargs)
    def nextafter_(self, *args, **kwargs): return _F.nextafter_(self, *args, **kwargs)
    def not_equal_(self, *args, **kwargs): return _F.not_equal_(self, *args, **kwargs)
    def polygamma(self, n): return _F.polygamma(n, self)  # torch's argument order
    def polygamma_(self, *args, **kwargs): return _F.polygamma_(self, *args, **kwargs)
    def positive(self, *args, **kwargs): return _F.positive(self, *args, **kwargs)
    def rad2deg(self, *args, **kwargs): return _F.rad2deg(self, *args, **kwargs)
    def rad2deg_(self, *args, **kwargs): return _F.rad2deg_(self, *args, **kwargs)
    def rsqrt_(self, *args, **kwargs): return _F.rsqrt_(self, *args, **kwargs)
    def sgn(self, *args, **kwargs): return _F.sgn(self, *args, **kwargs)
    def sgn_(self, *args, **kwargs): return _F.sgn_(self, *args, **kwargs)
    def sign_(self, *args, **kwargs): return _F.sign_(self, *args, **kwargs)
    def signbit(self, *args, **kwargs): return _F.signbit(self, *args, **kwargs)
    def sinc(self, *args, **kwargs): return _F.sinc(self, *args, **kwargs)
    def sinc_(self, *args, **kwargs): return _F.sinc_(self, *args, **kwargs)
    def sinh_(self, *args, **kwargs): return _F.sinh_(self, *args, **kwargs)
    def subtract_(self, *args, **kwargs): return _F.subtract_(self, *args, **kwargs)
    def tan_(self, *args, **kwargs): return _F.tan_(self, *args, **kwargs)
    def true_divide_(self, *args, **kwargs): return _F.true_divide_(self, *args, **kwargs)
    def trunc_(self, *args, **kwargs): return _F.trunc_(self, *args, **kwargs)
    def xlogy(self, *args, **kwargs): return _F.xlogy(self, *args, **kwargs)
    def xlogy_(self, *args, **kwargs): return _F.xlogy_(self, *args, **kwargs)
    def __lshift__(self, other): return _F.bitwise_left_shift(self, other)
    def __rlshift__(self, other): return _F.bitwise_left_shift(other, self)
    def __rshift__(self, other): return _F.bitwise_right_shift(self, other)
    def __rrshift__(self, other): return _F.bitwise_right_shift(other, self)
    def __ilshift__(self, other): return _F.bitwise_left_shift_(self, other)
    def __irshift__(self, other): return _F.bitwise_right_shift_(self, other)
    def __iand__(self, other): return _F.bitwise_and_(self, other)
    def __ior__(self, other): return _F.bitwise_or_(self, other)
    def __ixor__(self, other): return _F.bitwise_xor_(self, other)
    def __ifloordiv__(self, other): return _F.floor_divide_(self, other)
    def __imod__(self, other): return _F.remainder_(self, other)

    @property
    def T(self): return _F.permute(self, tuple(range(self.ndim))[::-1])

    @property
    def mT(self): return _F.transpose(self, *_matrix_dims(self, "mT")) if self.ndim else _zero_d(self, "mT")

    @property
    def mH(self):
        return _F.conj(_F.transpose(self, *_matrix_dims(self, "mH"))) if self.ndim else _zero_d(self, "mH")

    # ---- sorting, selection, reductions and scatter-style indexing (sortred) ----
    def nanmedian(self, *args, **kwargs): return _F.nanmedian(self, *args, **kwargs)
    def quantile(self, *args, **kwargs): return _F.quantile(self, *args, **kwargs)
    def nanquantile(self, *args, **kwargs): return _F.nanquantile(self, *args, **kwargs)
    def mode(self, *args, **kwargs): return _F.mode(self, *args, **kwargs)
    def msort(self, *args, **kwargs): return _F.msort(self, *args, **kwargs)
    def unique(self, *args, **kwargs): return _F.unique(self, *args, **kwargs)
    def unique_consecutive(self, *args, **kwargs): return _F.unique_consecutive(self, *args, **kwargs)
    def histc(self, *args, **kwargs): return _F.histc(self, *args, **kwargs)
    def histogram(self, *args, **kwargs): return _F.histogram(self, *args, **kwargs)
    def bincount(self, *args, **kwargs): return _F.bincount(self, *args, **kwargs)
    def nansum(self, *args, **kwargs): return _F.nansum(self, *args, **kwargs)
    def nanmean(self, *args, **kwargs): return _F.nanmean(self, *args, **kwargs)
    def aminmax(self, *args, **kwargs): return _F.aminmax(self, *args, **kwargs)
    def cummax(self, *args, **kwargs): return _F.cummax(self, *args, **kwargs)
    def cummin(self, *args, **kwargs): return _F.cummin(self, *args, **kwargs)
    def logcumsumexp(self, *args, **kwargs): return _F.logcumsumexp(self, *args, **kwargs)
    def cov(self, *args, **kwargs): return _F.cov(self, *args, **kwargs)
    def corrcoef(self, *args, **kwargs): return _F.corrcoef(self, *args, **kwargs)
    def dist(self, *args, **kwargs): return _F.dist(self, *args, **kwargs)
    def renorm(self, *args, **kwargs): return _F.renorm(self, *args, **kwargs)
    def scatter_reduce(self, *args, **kwargs): return _F.scatter_reduce(self, *args, **kwargs)
    def index_reduce(self, *args, **kwargs): return _F.index_reduce(self, *args, **kwargs)
    def take(self, *args, **kwargs): return _F.take(self, *args, **kwargs)
    def put(self, *args, **kwargs): return _F.put(self, *args, **kwargs)
    def masked_scatter(self, *args, **kwargs): return _F.masked_scatter(self, *args, **kwargs)
    def index_put(self, *args, **kwargs): return _F.index_put(self, *args, **kwargs)
    def scatter_(self, *args, **kwargs): return _F.scatter_(self, *args, **kwargs)
    def scatter_add_(self, *args, **kwargs): return _F.scatter_add_(self, *args, **kwargs)
    def scatter_reduce_(self, *args, **kwargs): return _F.scatter_reduce_(self, *args, **kwargs)
    def index_add_(self, *args, **kwargs): return _F.index_add_(self, *args, **kwargs)
    def index_copy_(self, *args, **kwargs): return _F.index_copy_(self, *args, **kwargs)
    def index_fill_(self, *args, **kwargs): return _F.index_fill_(self, *args, **kwargs)
    def index_reduce_(self, *args, **kwargs): return _F.index_reduce_(self, *args, **kwargs)
    def index_put_(self, *args, **kwargs): return _F.index_put_(self, *args, **kwargs)
    def masked_fill_(self, *args, **kwargs): return _F.masked_fill_(self, *args, **kwargs)
    def masked_scatter_(self, *args, **kwargs): return _F.masked_scatter_(self, *args, **kwargs)
    def put_(self, *args, **kwargs): return _F.put_(self, *args, **kwargs)
    def cumsum_(self, *args, **kwargs): return _F.cumsum_(self, *args, **kwargs)
    def cumprod_(self, *args, **kwargs): return _F.cumprod_(self, *args, **kwargs)
    def renorm_(self, *args, **kwargs): return _F.renorm_(self, *args, **kwargs)

    # ---- dtypes ----
    def bfloat16(self): return self.to(_dtype.bfloat16)
    def byte(self): return self.to(_dtype.uint8)
    def char(self): return self.to(_dtype.int8)
    def short(self): return self.to(_dtype.int16)
    def cfloat(self): return self.to(_dtype.complex64)
    def cdouble(self): return self.to(_dtype.complex128)
    def is_complex(self): return _F.is_complex(self)
    def is_signed(self): return self.dtype.is_signed
    def is_conj(self): return _F.is_conj(self)
    def is_neg(self): return _F.is_neg(self)
    def resolve_conj(self): return _F.resolve_conj(self)
    def resolve_neg(self): return _F.resolve_neg(self)
    def conj(self): return _F.conj(self)
    def conj_physical(self): return _F.conj_physical(self)
    def conj_physical_(self): return _F.conj_physical_(self)
    def angle(self): return _F.angle(self)

    @property
    def real(self): return _F.real(self)

    @property
    def imag(self): return _F.imag(self)
    # fmt: on

    # outside grad mode (an optimizer's or the manual SGD update), written straight into memory
    def add_(self, other, *args, alpha=1, **kwargs):
        """In-place ``self + alpha * other``."""
        a = no_grad_alpha(alpha)
        if a is not False and not args and not kwargs and inplace_no_grad(self, other, np.add, a):
            return self
        return _F.add_(self, other, *args, alpha=alpha, **kwargs)

    def sub_(self, other, *args, alpha=1, **kwargs):
        """In-place ``self - alpha * other``."""
        a = no_grad_alpha(alpha)
        if a is not False and not args and not kwargs and inplace_no_grad(self, other, np.subtract, a):
            return self
        return _F.sub_(self, other, *args, alpha=alpha, **kwargs)

    def mul_(self, other, *args, **kwargs):
        """In-place ``self * other``."""
        if (
            GRAD_OFF.count
            and not GRAD._enabled
            and not args
            and not kwargs
            and inplace_no_grad(self, other, np.multiply)
        ):
            return self
        return _F.mul_(self, other, *args, **kwargs)

    def __array_namespace__(self):  # pragma: no cover - not an array-API object
        raise TypeError("chainrule tensors do not implement the array API")

    # ---- nnfunc: activations that torch also has as Tensor methods ----
    # fmt: off
    def hardshrink(self, lambd=0.5): return _F.hardshrink(self, lambd)
    def prelu(self, weight): return _F.prelu(self, weight)
    # fmt: on

    # ---- gaps: short-time Fourier transforms ----
    # fmt: off
    def stft(self, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
             normalized=False, onesided=None, return_complex=None, align_to_window=None):
        return _F.stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized, onesided,
                       return_complex, align_to_window)
    def istft(self, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
              onesided=None, length=None, return_complex=False):
        return _F.istft(self, n_fft, hop_length, win_length, window, center, normalized, onesided, length,
                        return_complex)
    # fmt: on
    # ---- autograd ----
    def register_post_accumulate_grad_hook(self, hook):
        """Run ``hook(self)`` after backward has accumulated ``self.grad`` (a leaf only); returns a
        handle whose ``remove()`` unregisters it."""
        from .autograd._tables import register_post_accumulate_grad_hook

        return register_post_accumulate_grad_hook(self, hook)
