"""The in-place forms (``x.<op>_(...)``) of the element-wise ops, comparisons and logical ops
that ``ops/inplace.py`` does not define. Each goes through ``apply_inplace``, so views, version
counters and autograd behave as for ``add_`` (a comparison's result is cast to the tensor's dtype).
"""

from __future__ import annotations

from . import compare as _cmp
from . import elementwise as _ew
from . import elementwise_binary as _bin
from . import elementwise_unary as _un
from . import special as _erf
from . import special_functions as _sf
from . import unary as _unary_ops
from ._common import Tensor
from .inplace import apply_inplace
from .overlapping_writes import check_partial_overlap

__all__ = [
    # unary math
    "acos_", "arccos_", "asin_", "arcsin_", "atan_", "arctan_", "cosh_", "sinh_", "tan_", "expm1_",
    "log10_", "log1p_", "log2_", "rsqrt_", "sign_", "trunc_", "absolute_", "negative_",
    "asinh_", "acosh_", "atanh_", "arcsinh_", "arccosh_", "arctanh_", "exp2_", "sinc_", "deg2rad_",
    "rad2deg_", "frac_", "fix_", "sgn_", "nan_to_num_", "logit_", "erf_", "erfc_", "erfinv_", "i0_",
    "lgamma_", "digamma_", "polygamma_", "mvlgamma_",
    # binary and ternary
    "atan2_", "arctan2_", "divide_", "multiply_", "subtract_", "true_divide_", "floor_divide_",
    "fmod_", "float_power_", "clamp_min_", "clamp_max_", "xlogy_", "hypot_", "lerp_", "addcmul_",
    "addcdiv_", "copysign_", "heaviside_", "nextafter_", "ldexp_", "gcd_", "lcm_", "igamma_",
    "igammac_",
    # comparisons, logical and bitwise
    "eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
    "not_equal_", "logical_and_", "logical_or_", "logical_xor_", "logical_not_", "bitwise_and_",
    "bitwise_or_", "bitwise_xor_", "bitwise_not_", "bitwise_left_shift_", "bitwise_right_shift_",
]  # fmt: skip


def _inplace(name: str, fn):
    """``name``: the in-place form of ``fn(self, *args, **kwargs)``."""

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        check_partial_overlap(name, self, (*args, *kwargs.values()))
        return apply_inplace(name, self, lambda: fn(self, *args, **kwargs))

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: writes the result into this tensor."
    return method


acos_ = arccos_ = _inplace("acos_", _unary_ops.acos)
asin_ = arcsin_ = _inplace("asin_", _unary_ops.asin)
atan_ = arctan_ = _inplace("atan_", _unary_ops.atan)
cosh_ = _inplace("cosh_", _unary_ops.cosh)
sinh_ = _inplace("sinh_", _unary_ops.sinh)
tan_ = _inplace("tan_", _unary_ops.tan)
expm1_ = _inplace("expm1_", _unary_ops.expm1)
log10_ = _inplace("log10_", _unary_ops.log10)
log1p_ = _inplace("log1p_", _unary_ops.log1p)
log2_ = _inplace("log2_", _unary_ops.log2)
rsqrt_ = _inplace("rsqrt_", _unary_ops.rsqrt)
sign_ = _inplace("sign_", _unary_ops.sign)
trunc_ = fix_ = _inplace("trunc_", _unary_ops.trunc)
absolute_ = _inplace("absolute_", _unary_ops.abs)
negative_ = _inplace("negative_", _unary_ops.neg)
asinh_ = arcsinh_ = _inplace("asinh_", _un.asinh)
acosh_ = arccosh_ = _inplace("acosh_", _un.acosh)
atanh_ = arctanh_ = _inplace("atanh_", _un.atanh)
exp2_ = _inplace("exp2_", _un.exp2)
sinc_ = _inplace("sinc_", _un.sinc)
deg2rad_ = _inplace("deg2rad_", _un.deg2rad)
rad2deg_ = _inplace("rad2deg_", _un.rad2deg)
frac_ = _inplace("frac_", _un.frac)
sgn_ = _inplace("sgn_", _un.sgn)
nan_to_num_ = _inplace("nan_to_num_", _un.nan_to_num)
logit_ = _inplace("logit_", _un.logit)
erf_ = _inplace("erf_", _erf.erf)
erfc_ = _inplace("erfc_", _erf.erfc)
erfinv_ = _inplace("erfinv_", _sf.erfinv)
i0_ = _inplace("i0_", _sf.i0)
lgamma_ = _inplace("lgamma_", _sf.lgamma)
digamma_ = _inplace("digamma_", _sf.digamma)
mvlgamma_ = _inplace("mvlgamma_", _sf.mvlgamma)


def polygamma_(self: Tensor, n: int) -> Tensor:
    """In-place ``polygamma(n, self)``."""
    return apply_inplace("polygamma_", self, lambda: _sf.polygamma(n, self))


atan2_ = arctan2_ = _inplace("atan2_", _ew.atan2)
divide_ = true_divide_ = _inplace("div_", _ew.div)
multiply_ = _inplace("mul_", _ew.mul)
subtract_ = _inplace("sub_", _ew.sub)
floor_divide_ = _inplace("floor_divide_", _ew.floor_divide)
fmod_ = _inplace("fmod_", _ew.fmod)
clamp_min_ = _inplace("clamp_min_", _ew.clamp_min)
clamp_max_ = _inplace("clamp_max_", _ew.clamp_max)
xlogy_ = _inplace("xlogy_", _bin.xlogy)
hypot_ = _inplace("hypot_", _bin.hypot)
lerp_ = _inplace("lerp_", _bin.lerp)
addcmul_ = _inplace("addcmul_", _bin.addcmul)
addcdiv_ = _inplace("addcdiv_", _bin.addcdiv)
copysign_ = _inplace("copysign_", _bin.copysign)
heaviside_ = _inplace("heaviside_", _bin.heaviside)
nextafter_ = _inplace("nextafter_", _bin.nextafter)
ldexp_ = _inplace("ldexp_", _bin.ldexp)
gcd_ = _inplace("gcd_", _bin.gcd)
lcm_ = _inplace("lcm_", _bin.lcm)
igamma_ = _inplace("igamma_", _sf.igamma)
igammac_ = _inplace("igammac_", _sf.igammac)
bitwise_left_shift_ = _inplace("bitwise_left_shift_", _bin.bitwise_left_shift)
bitwise_right_shift_ = _inplace("bitwise_right_shift_", _bin.bitwise_right_shift)


def float_power_(self: Tensor, exponent) -> Tensor:
    """In-place ``float_power``: only a float64 tensor can hold its float64 result."""
    if self._data.dtype.name != "float64":
        raise RuntimeError(
            f"the base given to float_power_ has dtype {self.dtype} but the operation's result "
            "requires dtype Double; convert it first with .double()"
        )
    return apply_inplace("float_power_", self, lambda: _ew.float_power(self, exponent))


eq_ = _inplace("eq_", _cmp.eq)
ne_ = not_equal_ = _inplace("ne_", _cmp.ne)
lt_ = less_ = _inplace("lt_", _cmp.lt)
le_ = less_equal_ = _inplace("le_", _cmp.le)
gt_ = greater_ = _inplace("gt_", _cmp.gt)
ge_ = greater_equal_ = _inplace("ge_", _cmp.ge)
logical_and_ = _inplace("logical_and_", _cmp.logical_and)
logical_or_ = _inplace("logical_or_", _cmp.logical_or)
logical_xor_ = _inplace("logical_xor_", _cmp.logical_xor)
logical_not_ = _inplace("logical_not_", _cmp.logical_not)
bitwise_and_ = _inplace("bitwise_and_", _cmp.bitwise_and)
bitwise_or_ = _inplace("bitwise_or_", _cmp.bitwise_or)
bitwise_xor_ = _inplace("bitwise_xor_", _cmp.bitwise_xor)
bitwise_not_ = _inplace("bitwise_not_", _cmp.bitwise_not)
