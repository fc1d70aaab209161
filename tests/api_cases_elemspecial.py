"""The api-sweep entries of the element-wise ops, torch.special and the in-place variants
(src/chainrule/ops/elementwise_unary.py, elementwise_binary.py, special_functions.py,
special_polynomials.py, inplace_elementwise.py; src/chainrule/special.py)."""

from __future__ import annotations

import dataclasses

from api_cases import (
    BOOL,
    CONST,
    FLOAT,
    INT,
    M34,
    NONZERO,
    POS,
    SMALL_INT,
    UNIT,
    Arg,
    add,
    binary,
    both,
    custom,
    inplace,
    unary,
)

GT1 = Arg(1.2, 3.0)
PROB = Arg(0.05, 0.95)
SHAPE_PARAM = Arg(0.5, 2.0, grad=False)  # igamma's first input: torch has no derivative for it
MV = Arg(1.5, 3.0)  # mvlgamma(x, p) needs x > (p - 1) / 2
SHIFT = Arg(0, 5, kind="int")
NOGRAD = Arg(grad=False)


def _nan_inf(m):
    return m.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 1.5, -2.5])


# ---- unary math ---------------------------------------------------------------------------------
add(
    unary(),
    *both("asinh", "arcsinh", "exp2", "sinc", "deg2rad", "rad2deg", "frac", "fix", "sgn", "positive"),
    *both("nan_to_num", "i0", "erf", "erfc"),
)
add(unary(GT1), *both("acosh", "arccosh"))
add(unary(UNIT), *both("atanh", "arctanh", "erfinv"))
add(unary(PROB), *both("logit"))
add(unary(POS), *both("lgamma", "digamma"))
add(unary(FLOAT, M34, False), *both("signbit", "isneginf", "isposinf", "isreal"))
add(
    custom(lambda f, m, x: (f(_nan_inf(m)), f(x)), grad=False),
    *both("signbit", "isneginf", "isposinf", "isreal"),
)
add(custom(lambda f, m, x: (f(x, 0.2), f(x, eps=0.3), f(x * 3))), *both("logit"))
add(custom(lambda f, m, x: (f(x, 1), f(x, p=3)), args=(MV,)), *both("mvlgamma"))
add(custom(lambda f, m, x: (f(1, x), f(0, x), f(3, x)), args=(POS,)), "chainrule.polygamma")
add(custom(lambda f, m, x: (f(x, 1), f(x, 0), f(x, 2)), args=(POS,)), "Tensor.polygamma")
add(
    custom(
        lambda f, m, x: (
            f(m.log(x) * 1e300 * 1e10),
            f(m.log(x) * 1e300 * 1e10, nan=1.0, posinf=2.0, neginf=-3.0),
            f(_nan_inf(m).float(), posinf=7.0),
        ),
        args=(Arg(-1.0, 2.0),),
    ),
    *both("nan_to_num"),
)
add(custom(lambda f, m, x: f(x), args=(NONZERO,)), *both("frexp"))
add(custom(lambda f, m, x: f(x).mantissa + f(x).exponent, args=(NONZERO,)), *both("frexp"))

# integer inputs compute in the default float dtype; empty, 0-d and non-contiguous inputs
_INT_TO_FLOAT = ("exp2", "sinc", "deg2rad", "rad2deg", "asinh", "lgamma", "digamma", "i0", "erfinv", "logit")
add(
    dataclasses.replace(unary(INT, M34, False), rtol=1e-6),
    *both(*_INT_TO_FLOAT, "nan_to_num", "sgn", "fix", "positive", "signbit"),
)
add(unary(FLOAT, (0, 3)), *both(*_INT_TO_FLOAT[:-2], "frac", "nan_to_num", "exp2"))
add(unary(POS, ()), *both("lgamma", "digamma", "exp2", "sinc", "i0"))
add(
    custom(lambda f, m, x: (f(x.t()), f(x[:, ::2])), args=(POS,)),
    *both("lgamma", "digamma", "exp2", "sinc", "i0"),
)
add(custom(lambda f, m, x: f(x), args=(INT,), grad=False, raises=True), *both("frac"))
add(custom(lambda f, m, x: f(x > 0), grad=False, raises=True), *both("positive"))
add(custom(lambda f, m, x: f(-1, x), grad=False, raises=True), "chainrule.polygamma")
add(custom(lambda f, m, x: f(x, 0), grad=False, raises=True), *both("mvlgamma"))
add(custom(lambda f, m, x: f(x), args=(INT,), grad=False, raises=True), *both("frexp"))

# ---- binary and ternary -------------------------------------------------------------------------
add(binary(), *both("fmax", "fmin", "logaddexp", "logaddexp2"))
add(binary(NONZERO, NONZERO), *both("hypot", "copysign"))
add(binary(FLOAT, POS, scalar=1.5), *both("xlogy"))
add(custom(lambda f, m, y: (f(2.0, y), f(y * 0, y), f(y, 3)), args=(POS,)), "chainrule.xlogy")
add(custom(lambda f, m, x, y: (f(x, -1), f(x, y > 0)), (M34, (4,)), (INT, FLOAT)), *both("copysign"))
add(
    custom(lambda f, m, x, y: (f(_nan_inf(m), _nan_inf(m).flip(0)), f(x, y)), (M34, M34), grad=False),
    *both("fmax", "fmin", "logaddexp", "hypot", "copysign", "nextafter"),
)
add(
    custom(lambda f, m, x, y: f(x, y), (M34, M34), (INT, INT), grad=False, raises=True),
    *both("logaddexp", "hypot"),
)
add(custom(lambda f, m, x: f(x, 1.5), grad=False, raises=True), *both("fmax", "fmin", "hypot", "logaddexp"))
add(
    custom(lambda f, m, x, y, w: (f(x, y, 0.3), f(x, y, w), f(x, y, 0.7)), (M34, (4,), (3, 1))),
    *both("lerp"),
)
add(
    custom(lambda f, m, x, y: f(x.float(), y.double(), 0.5), (M34, M34), grad=False, raises=True),
    *both("lerp"),
)
add(
    custom(
        lambda f, m, x, y, z: (f(x, y, z), f(x, y, z, value=-0.5), f(x, y, z, value=2)),
        (M34, (4,), (3, 1)),
        (FLOAT, FLOAT, NONZERO),
    ),
    *both("addcmul", "addcdiv"),
)
add(custom(lambda f, m, x, y: f(x, x, y), (M34, M34), (INT, INT), grad=False), *both("addcmul"))
add(custom(lambda f, m, x, y: f(x, x, y), (M34, M34), (INT, INT), grad=False, raises=True), *both("addcdiv"))
add(
    custom(lambda f, m, x, e: (f(x, e), f(x.float(), e), f(e, e)), (M34, (4,)), (FLOAT, SHIFT)),
    *both("ldexp"),
)
add(binary(INT, INT, (M34, M34), False), *both("gcd", "lcm"))
add(custom(lambda f, m, x, y: f(x, y), (M34, M34), grad=False, raises=True), *both("gcd", "lcm"))
add(binary(INT, SHIFT, (M34, M34), False, scalar=2), *both("bitwise_left_shift", "bitwise_right_shift"))
add(
    custom(lambda f, m, x: (f(x, 70), f(x, -1), f(x.int(), 3), f(x.to(m.uint8), 7)), args=(INT,), grad=False),
    *both("bitwise_left_shift", "bitwise_right_shift"),
)
add(binary(FLOAT, FLOAT, (M34, (4,)), False), *both("heaviside", "nextafter"))
add(binary(), *both("nextafter"))
add(custom(lambda f, m, x, y: f(x * (x > 0), y), (M34, (4,)), grad=False), *both("heaviside"))
add(custom(lambda f, m, x, y: f(x, y.int()), (M34, M34), grad=False, raises=True), *both("heaviside"))
add(custom(lambda f, m, a, x: f(a, x), (M34, (4,)), (SHAPE_PARAM, POS)), *both("igamma", "igammac"))
add(custom(lambda f, m, a, x: f(a, x).sum().backward(), (M34, M34), (POS, POS), raises=True), *both("igamma"))
add(custom(lambda f, m, a, x: f(a, x), (M34, M34), (INT, INT), grad=False, raises=True), *both("igamma"))
add(
    custom(lambda f, m, x, y: (f(x, y), f(x, 2.0), f(x, y, alpha=2), f(x, 3, alpha=-1)), (M34, (4,))),
    "chainrule.rsub",
)

# ---- in place: unary ----------------------------------------------------------------------------
add(
    inplace(FLOAT),
    *both(
        "atan_", "arctan_", "cosh_", "sinh_", "expm1_", "sign_", "trunc_", "fix_", "absolute_", "negative_"
    ),
    *both("exp2_", "sinc_", "deg2rad_", "rad2deg_", "frac_", "sgn_", "nan_to_num_"),
    *both("erf_", "erfc_", "i0_"),
)
add(inplace(UNIT), *both("acos_", "arccos_", "asin_", "arcsin_", "tan_", "erfinv_"))
# torch has no derivative for these in-place forms (backward raises); chainrule's is the
# out-of-place op's (docs/differences.md): compared without gradients
add(custom(lambda f, m, x: f(x * 1), grad=False), *both("asinh_", "arcsinh_"))
add(custom(lambda f, m, x: f(x * 1), args=(UNIT,), grad=False), *both("atanh_", "arctanh_"))
add(custom(lambda f, m, x: f(x * 1), args=(GT1,), grad=False), *both("acosh_", "arccosh_"))
add(inplace(POS), *both("log10_", "log1p_", "log2_", "rsqrt_", "lgamma_", "digamma_"))
add(inplace(PROB), *both("logit_"))
add(inplace(PROB, 0.2), *both("logit_"))
add(inplace(POS, 1), *both("polygamma_"))
add(inplace(MV, 2), *both("mvlgamma_"))
add(inplace(FLOAT, 0.3), *both("clamp_min_"))
add(inplace(FLOAT, -0.3), *both("clamp_max_"))
add(custom(lambda f, m, x: f(x.double() * 1, 1.5), args=(POS,)), *both("float_power_"))
add(custom(lambda f, m, x: f(x.float(), 2.0), grad=False, raises=True), *both("float_power_"))
add(
    custom(lambda f, m, x: f(m.tensor([1, 2])), grad=False, raises=True),
    *both("frac_", "exp2_", "lgamma_", "sinc_"),
)

# ---- in place: binary and ternary ---------------------------------------------------------------
add(
    inplace(shapes=(M34, (4,)), args=(FLOAT, NONZERO)), *both("atan2_", "arctan2_", "divide_", "true_divide_")
)
add(inplace(shapes=(M34, (4,))), *both("multiply_", "subtract_", "fmod_", "hypot_", "copysign_"))
add(inplace(shapes=(M34, (4,)), args=(FLOAT, POS)), *both("xlogy_"))
add(custom(lambda f, m, x, y: f(x * 1, y), (M34, (4,)), (FLOAT, NONZERO), grad=False), *both("floor_divide_"))
add(custom(lambda f, m, x, y: (f(x * 1, y, 0.3), f(x * 1, y, y)), (M34, (4,))), *both("lerp_"))
add(
    custom(lambda f, m, x, y, z: f(x * 1, y, z, value=0.5), (M34, (4,), (3, 1)), (FLOAT, FLOAT, NONZERO)),
    *both("addcmul_", "addcdiv_"),
)
add(custom(lambda f, m, x, e: f(x * 1, e), (M34, (4,)), (FLOAT, SHIFT)), *both("ldexp_"))
add(custom(lambda f, m, x, y: f(x * 1, y), (M34, (4,)), grad=False), *both("heaviside_", "nextafter_"))
add(inplace(shapes=(M34, (4,))), *both("nextafter_"))
add(
    custom(lambda f, m, a, x: f(a * 1, x), (M34, (4,)), (SHAPE_PARAM, POS), grad=False),
    *both("igamma_", "igammac_"),
)
add(custom(lambda f, m, x, y: f(x * 1, y), (M34, M34), (INT, INT), grad=False), *both("gcd_", "lcm_"))
add(
    custom(lambda f, m, x, y: f(x * 1, y), (M34, M34), (INT, SHIFT), grad=False),
    *both("bitwise_left_shift_", "bitwise_right_shift_"),
)
add(
    custom(lambda f, m, x, y: f(x * 1, y), (M34, M34), (INT, INT), grad=False),
    *both("bitwise_and_", "bitwise_or_", "bitwise_xor_"),
)
add(custom(lambda f, m, x, y: f(x * 1, y), (M34, M34), (BOOL, BOOL), grad=False), *both("bitwise_and_"))
add(custom(lambda f, m, x: f(x * 1), args=(INT,), grad=False), *both("bitwise_not_"))
add(custom(lambda f, m, x: f(x.clone()), args=(BOOL,), grad=False), *both("bitwise_not_", "logical_not_"))

# comparisons and logical ops in place: the result cast to the tensor's dtype (a zero gradient)
_COMPARE = ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_")
add(
    custom(lambda f, m, x, y: (f(x * 1, y), f(x * 1, 0.3)), (M34, (4,)), (FLOAT, CONST)),
    *both(*_COMPARE, "not_equal_"),
)
add(custom(lambda f, m, x, y: f(x * 1, y), (M34, (4,)), (INT, INT), grad=False), *both(*_COMPARE))
add(
    custom(lambda f, m, x, y: f(x * 1, y), (M34, (4,)), (FLOAT, BOOL), grad=False),
    *both("logical_and_", "logical_or_", "logical_xor_"),
)
add(custom(lambda f, m, x: f(x * 1), grad=False), *both("logical_not_"))

# in-place errors: a result that broadcasts beyond the tensor, a float result into an integer tensor
add(custom(lambda f, m, x, y: f(x[0] * 1, y), (M34, M34), raises=True), *both("hypot_", "multiply_", "lerp_"))
add(custom(lambda f, m, x, y: m.ones(3).add_(m.ones(2, 3)), grad=False, raises=True), "Tensor.add_")

# ---- operators ----------------------------------------------------------------------------------
add(binary(INT, SHIFT, (M34, M34), False, scalar=2), "Tensor.__lshift__", "Tensor.__rshift__")
add(binary(SHIFT, SMALL_INT, (M34, M34), False, scalar=3), "Tensor.__rlshift__", "Tensor.__rrshift__")
add(
    inplace(shapes=(M34, M34), args=(INT, SHIFT)),
    "Tensor.__ilshift__",
    "Tensor.__irshift__",
    "Tensor.__iand__",
    "Tensor.__ior__",
    "Tensor.__ixor__",
)
add(
    custom(lambda f, m, x, y: f(x * 1, y), (M34, M34), (BOOL, BOOL), grad=False),
    "Tensor.__iand__",
    "Tensor.__ior__",
)
add(custom(lambda f, m, x, y: f(x * 1, y), (M34, (4,)), (FLOAT, NONZERO), grad=False), "Tensor.__ifloordiv__")
add(inplace(shapes=(M34, (4,)), args=(FLOAT, NONZERO)), "Tensor.__imod__")
# integer division by zero: torch's RuntimeError (NumPy would warn and give 0)
add(
    custom(lambda f, m, x: f(x, x * 0), args=(INT,), grad=False, raises=True),
    "Tensor.__floordiv__",
    "Tensor.__mod__",
    "Tensor.__ifloordiv__",
    "Tensor.__imod__",
    *both("floor_divide", "remainder", "fmod"),
)
add(
    custom(lambda f, m, x: f(x, 0), args=(INT,), grad=False, raises=True),
    "Tensor.__floordiv__",
    "Tensor.__mod__",
)
add(
    custom(lambda f, m, x: f(x, x * 0, rounding_mode="trunc"), args=(INT,), grad=False, raises=True),
    *both("div"),
)
add(
    custom(lambda f, m, x: f(x, x * 0, rounding_mode="floor"), args=(INT,), grad=False, raises=True),
    *both("div"),
)
add(custom(lambda f, m, x: (f(x, x * 0), f(x * 0, x * 0)), args=(INT,), grad=False), *both("div"))
add(custom(lambda f, m, x: f(x > 0), grad=False, raises=True), "Tensor.__neg__")

# ---- torch.special ------------------------------------------------------------------------------
_S = "special."
add(
    unary(),
    *(
        _S + n
        for n in (
            "erf",
            "erfc",
            "expit",
            "expm1",
            "exp2",
            "sinc",
            "i0",
            "i0e",
            "i1",
            "i1e",
            "erfcx",
            "ndtr",
            "log_ndtr",
            "round",
            "bessel_j0",
            "bessel_j1",
            "modified_bessel_i0",
            "modified_bessel_i1",
            "airy_ai",
            "spherical_bessel_j0",
        )
    ),
)
add(
    unary(POS),
    *(
        _S + n
        for n in (
            "gammaln",
            "digamma",
            "psi",
            "entr",
            "log1p",
            "bessel_y0",
            "bessel_y1",
            "modified_bessel_k0",
            "modified_bessel_k1",
            "scaled_modified_bessel_k0",
            "scaled_modified_bessel_k1",
        )
    ),
)
add(unary(UNIT), _S + "erfinv")
add(unary(PROB), _S + "ndtri", _S + "logit")
add(unary(INT, M34, False), *(_S + n for n in ("i0e", "i1", "ndtr", "entr", "bessel_j0", "airy_ai", "erfcx")))
add(custom(lambda f, m, x: (f(x), f(_nan_inf(m))), args=(FLOAT,), grad=False), _S + "entr", _S + "ndtr")
add(custom(lambda f, m, x: (f(x, 0.1), f(x, eps=0.2))), _S + "logit")
add(custom(lambda f, m, x: (f(1, x), f(0, x)), args=(POS,)), _S + "polygamma")
add(custom(lambda f, m, x: (f(x, 1), f(x, p=2)), args=(MV,)), _S + "multigammaln")
add(custom(lambda f, m, x: (f(x, 1), f(x, (0, 1)), f(x, 0, keepdim=True))), _S + "logsumexp")
add(custom(lambda f, m, x: (f(x, 1), f(x, dim=0))), _S + "softmax", _S + "log_softmax")
add(custom(lambda f, m, x: (f(x), f(x, decimals=1))), _S + "round")
add(binary(FLOAT, POS, scalar=1.5), _S + "xlogy")
add(binary(FLOAT, Arg(-0.5, 2.0), scalar=1.5), _S + "xlog1py")
add(custom(lambda f, m, y: (f(2.0, y), f(y * 0, y - 3)), args=(POS,)), _S + "xlog1py")
add(
    custom(lambda f, m, x, q: (f(x, q), f(x, 2.0), f(3.0, q)), (M34, (4,)), (Arg(1.5, 4), POS), grad=False),
    _S + "zeta",
)
add(
    custom(lambda f, m, x, q: f(x, q).sum().backward(), (M34, M34), (Arg(1.5, 4), POS), raises=True),
    _S + "zeta",
)
add(custom(lambda f, m, a, x: f(a, x), (M34, (4,)), (SHAPE_PARAM, POS)), _S + "gammainc", _S + "gammaincc")
add(custom(lambda f, m, a, x: f(a, 2.0), grad=False, raises=True), _S + "gammainc")
_POLYNOMIALS = tuple(
    _S + n
    for n in (
        "chebyshev_polynomial_t",
        "chebyshev_polynomial_u",
        "chebyshev_polynomial_v",
        "chebyshev_polynomial_w",
        "shifted_chebyshev_polynomial_t",
        "shifted_chebyshev_polynomial_u",
        "shifted_chebyshev_polynomial_v",
        "shifted_chebyshev_polynomial_w",
        "hermite_polynomial_h",
        "hermite_polynomial_he",
        "laguerre_polynomial_l",
        "legendre_polynomial_p",
    )
)
add(
    custom(
        lambda f, m, x, n: (f(x, 3), f(x, n), f(x, n - 2), f(x.float(), 7), f(0.5, n), f(x, 8.7)),
        (M34, M34),
        (UNIT, Arg(0, 6, kind="int")),
        rtol=1e-6,
    ),
    *_POLYNOMIALS,
)
add(
    custom(lambda f, m, x: (f(m.tensor([1.0, -1.0, 0.0]), 5), f(x, 0)), args=(INT,), grad=False),
    *_POLYNOMIALS,
)

# ---- errors of the older element-wise ops: torch's exception types, never NumPy's ---------------
add(
    custom(lambda f, m, x, y: f(x, y), (M34, (3,)), grad=False, raises=True),
    *both("pow", "floor_divide", "remainder", "fmod", "maximum", "atan2", "fmax", "xlogy"),
    "Tensor.__pow__",
    "Tensor.__floordiv__",
    "Tensor.__mod__",
)
add(custom(lambda f, m, x, y: f(x > 0, x, y), (M34, (3,)), grad=False, raises=True), "chainrule.where")
add(custom(lambda f, m, x: f(x), grad=False, raises=True), "Tensor.__invert__")
add(
    custom(
        lambda f, m, x, y: (f(x, y.abs()), f(x, -y.abs()), f(m.tensor([0, 1, -1, 2]), -y.abs()[0])),
        (M34, (4,)),
        (INT, INT),
        grad=False,
    ),
    *both("pow"),
    "Tensor.__pow__",
)
add(custom(lambda f, m, x: f(x, -1), args=(INT,), grad=False, raises=True), *both("pow"), "Tensor.__pow__")
