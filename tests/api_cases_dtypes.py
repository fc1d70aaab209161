"""api-sweep entries for dtypes, complex numbers and chainrule.fft (see tests/api_cases.py).
Complex results are compared through ``view_as_real`` so that the sweep's real gradient checks
apply to them."""

from __future__ import annotations

from api_cases import FLOAT, M34, NONZERO, PROPERTIES, add, custom

PROPERTIES.update({"real", "imag"})


def _dtype(f, m):
    t = m.zeros(2, dtype=f)
    return (
        t.to(m.float64) if f.is_floating_point else t.cdouble(),
        t.dtype,
        f.is_floating_point,
        f.is_complex,
        f.itemsize,
    )


add(custom(_dtype, (), ()), "chainrule.bfloat16", "chainrule.complex64", "chainrule.complex128")
add(custom(_dtype, (), ()), "chainrule.cfloat", "chainrule.cdouble")


def _z(m, x, y):
    return m.complex(x, y)


def _r(m, z):
    return m.view_as_real(z.resolve_conj())


PAIR = (M34, M34)
add(custom(lambda f, m, x, y: _r(m, f(x, y)), PAIR), "chainrule.complex")
add(custom(lambda f, m, x, y: _r(m, f(x.exp(), y)), PAIR), "chainrule.polar")
add(custom(lambda f, m, x, y: _r(m, f(_z(m, x, y) * 2)), PAIR), "chainrule.conj", "Tensor.conj")
add(
    custom(lambda f, m, x, y: _r(m, f(_z(m, x, y) * 2)), PAIR),
    "chainrule.conj_physical",
    "Tensor.conj_physical",
)
add(
    custom(lambda f, m, x, y: _r(m, f(_z(m, x, y) * 2)), PAIR),
    "chainrule.conj_physical_",
    "Tensor.conj_physical_",
)
add(custom(lambda f, m, x, y: (f(_z(m, x, y) * 2), f(x)), PAIR), "chainrule.real", "Tensor.real")
add(custom(lambda f, m, x, y: f(_z(m, x, y) * 2), PAIR), "chainrule.imag", "Tensor.imag")
add(
    custom(lambda f, m, x, y: (f(_z(m, x, y) * 2), f(x)), PAIR, (NONZERO, NONZERO)),
    "chainrule.angle",
    "Tensor.angle",
)
add(custom(lambda f, m, x, y: f(_z(m, x, y)) * 2, PAIR), "chainrule.view_as_real")
add(custom(lambda f, m, x: _r(m, f(x.reshape(6, 2)) ** 2)), "chainrule.view_as_complex")
add(
    custom(lambda f, m, x, y: (f(_z(m, x, y)), f(x)), PAIR, grad=False),
    "chainrule.is_complex",
    "Tensor.is_complex",
    "chainrule.is_conj",
    "Tensor.is_conj",
    "chainrule.is_neg",
    "Tensor.is_neg",
)
add(custom(lambda f, m, x: (f(x), f(x.int()), f(x.bool())), grad=False), "Tensor.is_signed")
add(
    custom(lambda f, m, x, y: _r(m, f(_z(m, x, y))), PAIR),
    *[f"{s}.{n}" for s in ("chainrule", "Tensor") for n in ("resolve_conj", "resolve_neg")],
)
add(custom(lambda f, m, x: f(x).float()), "Tensor.bfloat16")
add(custom(lambda f, m, x: f(x), grad=False), "Tensor.byte", "Tensor.char", "Tensor.short")
add(custom(lambda f, m, x: m.view_as_real(f(x))), "Tensor.cfloat", "Tensor.cdouble")
add(
    custom(
        lambda f, m: [
            (i.bits, i.eps, i.max, i.min, i.tiny, i.resolution, i.smallest_normal, str(i.dtype))
            for i in (f(m.float32), f(m.float64), f(m.float16), f(m.bfloat16), f(m.complex64), f())
        ],
        (),
        (),
    ),
    "chainrule.finfo",
)
add(
    custom(
        lambda f, m: [(i.bits, i.max, i.min, str(i.dtype)) for i in (f(m.int8), f(m.uint8), f(m.int64))],
        (),
        (),
    ),
    "chainrule.iinfo",
)
add(
    custom(
        lambda f, m: [
            f(a, b)
            for a in (m.bool, m.int32, m.float32, m.complex64)
            for b in (m.int64, m.float64, m.complex128, m.bool)
        ],
        (),
        (),
    ),
    "chainrule.can_cast",
)

# ---- chainrule.fft ----
add(
    custom(lambda f, m, x, y: (_r(m, f(_z(m, x, y))), _r(m, f(x, 5, 0, "ortho"))), PAIR),
    "fft.fft",
    "fft.ifft",
    "fft.fft2",
    "fft.ifft2",
    "fft.fftn",
    "fft.ifftn",
)
add(
    custom(
        lambda f, m, x: (_r(m, f(x)), _r(m, f(x, norm="forward"))),
    ),
    "fft.rfft",
    "fft.rfft2",
    "fft.rfftn",
    "fft.ihfft",
    "fft.ihfft2",
    "fft.ihfftn",
)
add(
    custom(lambda f, m, x, y: (f(_z(m, x, y)), f(_z(m, x, y), norm="ortho")), PAIR),
    "fft.irfft",
    "fft.irfft2",
    "fft.irfftn",
    "fft.hfft",
    "fft.hfft2",
    "fft.hfftn",
)
add(custom(lambda f, m: (f(5), f(6, 0.5), f(4, dtype=m.float64)), (), ()), "fft.fftfreq", "fft.rfftfreq")
add(custom(lambda f, m, x: (f(x), f(x, dim=0), f(x, dim=(-1,)))), "fft.fftshift", "fft.ifftshift")
_ = FLOAT
