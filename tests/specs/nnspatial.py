"""Spatial ops with their own registered derivative: the linear and cubic modes of interpolate
(op resample_along; its adjoint resample_along_transpose appears in their second derivatives)."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import fixed

FLOAT = Arg()


def _interp(name, shapes, **kwargs):
    return OpSpec(
        name,
        lambda m, x: m.nn.functional.interpolate(x, **kwargs),
        fixed(*[(s,) for s in shapes]),
        (FLOAT,),
    )


def _interp_grad(m, x, g):
    """The gradient of bilinear upsampling as a function of the upstream gradient ``g`` (the
    adjoint op, resample_along_transpose, recorded with inputs that require grad)."""
    with m.enable_grad():
        x = x.detach().requires_grad_(True)  # (linear in x: only g matters)
        y = m.nn.functional.interpolate(x, size=(5, 3), mode="bilinear")
        return m.autograd.grad(y, x, g, create_graph=True)[0]


SPECS = [
    OpSpec(
        "interpolate bilinear: gradient in g",
        _interp_grad,
        fixed(((2, 2, 4, 5), (2, 2, 5, 3))),
        (FLOAT, FLOAT),
    ),
    _interp("interpolate linear x2", [(2, 3, 5), (1, 1, 1)], scale_factor=2, mode="linear"),
    _interp("interpolate linear down", [(2, 2, 7)], size=3, mode="linear", align_corners=True),
    _interp("interpolate bilinear", [(2, 2, 4, 5), (1, 3, 1, 2)], size=(5, 3), mode="bilinear"),
    _interp("interpolate bicubic", [(1, 2, 4, 5)], scale_factor=(1.5, 0.6), mode="bicubic"),
    _interp("interpolate bicubic aligned", [(2, 1, 3, 4)], size=(6, 2), mode="bicubic", align_corners=True),
    _interp("interpolate trilinear", [(1, 2, 3, 2, 4)], scale_factor=1.7, mode="trilinear"),
]
