"""Complex numbers and torch.fft against torch. The inputs are real (float64, float32) pairs made
complex with ``complex`` and the outputs made real with ``view_as_real`` or ``abs``, so the
oracle's real gradients, second derivatives and finite differences check torch's convention for
complex gradients (the conjugate Wirtinger derivative) end to end."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

FLOAT = Arg()
AWAY = Arg(-2.0, 2.0, away_from_zero=0.3)
D1 = any_shape(min_dims=1)
ANY = any_shape()
PAIR = ((3, 4), (3, 4))
PAIRS = fixed(PAIR, ((5,), (5,)), ((2, 1, 3), (2, 1, 3)))


def _z(m, x, y):
    return m.complex(x, y)


def _r(m, z):
    """A complex result as a real tensor (torch's conj results are lazy: resolved first)."""
    return m.view_as_real(z.resolve_conj())


def _pair(name, fn, shapes=PAIRS, args=(FLOAT, FLOAT), **kw):
    return OpSpec(name, fn, shapes, args, **kw)


def _one(name, fn, shapes=D1, arg=FLOAT, **kw):
    return OpSpec(name, fn, shapes, (arg,), **kw)


SPECS = [
    # ---- parts, conjugation, polar form ----
    _pair("complex", lambda m, x, y: _r(m, _z(m, x, y))),
    _pair("complex broadcast", lambda m, x, y: _r(m, m.complex(x, y)), fixed(((3, 1), (4,)))),
    _pair("real", lambda m, x, y: (_z(m, x, y) * _z(m, y, x)).real),
    _pair("imag", lambda m, x, y: (_z(m, x, y) * _z(m, y, x)).imag),
    _pair("x.real of a real tensor", lambda m, x, y: x.real * y),
    _pair("view_as_real", lambda m, x, y: m.view_as_real(_z(m, x, y).exp())),
    _one(
        "view_as_complex",
        lambda m, x: _r(m, m.view_as_complex(x.reshape(-1, 2)) ** 2),
        fixed(((6,),), ((2,),)),
    ),
    _one(
        "view_as_complex batched",
        lambda m, x: m.view_as_complex(x.reshape(3, 2, 2)).abs(),
        fixed(((12,),)),
    ),
    _pair("conj", lambda m, x, y: _r(m, m.conj(_z(m, x, y)) * _z(m, y, x))),
    _pair("conj_physical", lambda m, x, y: _r(m, m.conj_physical(_z(m, x, y) ** 2))),
    _pair("abs", lambda m, x, y: _z(m, x, y).abs(), args=(AWAY, AWAY)),
    _pair("abs squared", lambda m, x, y: _z(m, x, y).abs() ** 2),
    _pair("angle", lambda m, x, y: m.angle(_z(m, x, y) * 2), args=(AWAY, AWAY)),
    _one("angle of a real tensor", lambda m, x: m.angle(x), ANY, AWAY),
    _pair("polar", lambda m, x, y: _r(m, m.polar(x.exp(), y))),
    # ---- holomorphic ops on complex tensors: the engine's conjugation around their rules ----
    _pair("exp mul add", lambda m, x, y: _r(m, m.exp(_z(m, x, y) * _z(m, y, x) + 1))),
    _pair("div sub", lambda m, x, y: _r(m, _z(m, x, y) / (_z(m, y, x) - 3)), args=(FLOAT, AWAY)),
    _pair("sin cos tanh", lambda m, x, y: _r(m, m.sin(_z(m, x, y)) * m.cos(_z(m, y, x)).tanh() / 4)),
    _pair("log sqrt", lambda m, x, y: _r(m, m.log(_z(m, x, y)) + m.sqrt(_z(m, y, x))), args=(AWAY, AWAY)),
    _pair("matmul", lambda m, x, y: _r(m, _z(m, x, y) @ _z(m, y, x).mT), fixed(PAIR)),
    _pair("matmul mH", lambda m, x, y: _r(m, _z(m, x, y) @ _z(m, y, x).mH), fixed(PAIR)),
    _pair("sum mean", lambda m, x, y: _r(m, (_z(m, x, y) ** 2).sum(0) + _z(m, x, y).mean())),
    _pair("sigmoid", lambda m, x, y: _r(m, m.sigmoid(_z(m, x, y)))),
    _pair("var and std of complex", lambda m, x, y: _z(m, x, y).var(0) + _z(m, x, y).std()),
    _pair(
        "vector_norm of complex",
        lambda m, x, y: m.linalg.vector_norm(_z(m, x, y), 3, dim=-1),
        args=(AWAY, AWAY),
    ),
    _pair("vdot", lambda m, x, y: _r(m, m.vdot(_z(m, x, y).flatten(), _z(m, y, x).flatten()))),
    _pair("complex with a real factor", lambda m, x, y: _r(m, _z(m, x, y) * y + 1j)),
    _pair("to complex and back", lambda m, x, y: (x.to(m.complex128) * _z(m, y, x)).real),
    # ---- fft: complex to complex ----
    _pair("fft", lambda m, x, y: _r(m, m.fft.fft(_z(m, x, y)))),
    _pair("fft(n=7, dim=0, ortho)", lambda m, x, y: _r(m, m.fft.fft(_z(m, x, y), 7, 0, "ortho"))),
    _pair("ifft(n=2, forward)", lambda m, x, y: _r(m, m.fft.ifft(_z(m, x, y), n=2, norm="forward"))),
    _pair("fft2", lambda m, x, y: _r(m, m.fft.fft2(_z(m, x, y))), fixed(PAIR)),
    _pair("ifft2(s)", lambda m, x, y: _r(m, m.fft.ifft2(_z(m, x, y), s=(4, 3))), fixed(PAIR)),
    _pair("fftn", lambda m, x, y: _r(m, m.fft.fftn(_z(m, x, y)))),
    _pair("ifftn(dim=0, ortho)", lambda m, x, y: _r(m, m.fft.ifftn(_z(m, x, y), dim=0, norm="ortho"))),
    _one("fftn of a real tensor", lambda m, x: _r(m, m.fft.fftn(x))),
    # ---- fft: real to complex and back ----
    _one("rfft", lambda m, x: _r(m, m.fft.rfft(x))),
    _one("rfft(n=5, ortho)", lambda m, x: _r(m, m.fft.rfft(x, n=5, norm="ortho"))),
    _one("rfft2", lambda m, x: _r(m, m.fft.rfft2(x)), fixed(((3, 4),), ((2, 5),))),
    _one("rfftn(forward)", lambda m, x: _r(m, m.fft.rfftn(x, norm="forward")), fixed(((3, 4),))),
    _pair("irfft", lambda m, x, y: m.fft.irfft(_z(m, x, y))),
    _pair("irfft(n=7, ortho)", lambda m, x, y: m.fft.irfft(_z(m, x, y), n=7, norm="ortho")),
    _pair("irfft2", lambda m, x, y: m.fft.irfft2(_z(m, x, y)), fixed(PAIR)),
    _pair(
        "irfftn(s, forward)", lambda m, x, y: m.fft.irfftn(_z(m, x, y), s=(2, 6), norm="forward"), fixed(PAIR)
    ),
    _pair("hfft", lambda m, x, y: m.fft.hfft(_z(m, x, y))),
    _one("ihfft", lambda m, x: _r(m, m.fft.ihfft(x))),
    _pair("hfft2", lambda m, x, y: m.fft.hfft2(_z(m, x, y)), fixed(PAIR)),
    _one("ihfftn(ortho)", lambda m, x: _r(m, m.fft.ihfftn(x, norm="ortho")), fixed(((3, 4),))),
    _one("ihfft2", lambda m, x: _r(m, m.fft.ihfft2(x)), fixed(((3, 4),))),
    _pair("hfftn", lambda m, x, y: m.fft.hfftn(_z(m, x, y)), fixed(PAIR)),
    _one("fftshift", lambda m, x: m.fft.fftshift(x), D1),
    _one("ifftshift(dim=0)", lambda m, x: m.fft.ifftshift(x, dim=0), D1),
]
