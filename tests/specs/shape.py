"""Shape, joining and splitting ops: views, broadcasting, permutations, cat/stack/split, repeat."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

X = (Arg(),)
XY = (Arg(), Arg())
XYZ = (Arg(), Arg(), Arg())
EVEN = fixed(((2, 3),), ((4,),), ((2, 2, 2),), ((1, 6),))  # numel divisible by 2
THREE_D = fixed(((2, 3, 4),), ((1, 2, 3),), ((3, 1, 2),))
TWO_D = fixed(((3, 4),), ((1, 5),), ((4, 1),), ((2, 2),))
SQUEEZABLE = fixed(((1, 3, 1),), ((2, 1),), ((1,),), ((1, 1, 2),))


def _s(name, fn, shapes, args=X, **kw):
    return OpSpec(name, fn, shapes, args, **kw)


SPECS = [
    # ---- as_strided: any view of the storage (overlaps share their gradient) -----------------
    _s(
        "x.as_strided((2, 2), (1, 2), 1)",
        lambda m, x: (x * 1).as_strided((2, 2), (1, 2), 1),
        fixed(((6,),), ((2, 3),)),
    ),
    _s(
        "as_strided overlapping windows",
        lambda m, x: m.as_strided(x * 1, (3, 3), (1, 1)),
        fixed(((5,),), ((2, 3),)),
    ),
    # ---- sliding windows (a view; overlapping windows accumulate their gradients) -------------
    _s("x.unfold(1, 2, 1) (overlapping)", lambda m, x: x.unfold(1, 2, 1), fixed(((3, 4),), ((2, 5),))),
    _s("x.unfold(0, 2, 2)", lambda m, x: x.unfold(0, 2, 2), fixed(((4, 3),), ((5,),))),
    _s(
        "x.unfold(-1, 3, 2) 3-D",
        lambda m, x: x.unfold(-1, 3, 2),
        fixed(
            ((2, 2, 5),),
        ),
    ),
    # ---- reshape / view / flatten / squeeze -----------------------------------------------------
    _s("reshape(-1)", lambda m, x: x.reshape(-1), any_shape()),
    _s("reshape(2, -1)", lambda m, x: x.reshape(2, -1), EVEN),
    _s("reshape(tuple) fn", lambda m, x: m.reshape(x, (-1, 2)), EVEN),
    _s("reshape non-contiguous", lambda m, x: x.t().reshape(-1), TWO_D),
    _s("view(-1, 2)", lambda m, x: x.view(-1, 2), EVEN),
    _s("view(shape) then op", lambda m, x: x.view(x.shape[::-1]).exp(), any_shape()),
    _s(
        "view_as",
        lambda m, x, y: x.view_as(y),
        fixed(((2, 3), (3, 2)), ((4,), (2, 2))),
        (Arg(), Arg(grad=False)),
    ),
    _s(
        "reshape_as",
        lambda m, x, y: x.reshape_as(y),
        fixed(((2, 3), (6,)), ((4,), (1, 4))),
        (Arg(), Arg(grad=False)),
    ),
    _s("flatten()", lambda m, x: m.flatten(x), any_shape()),
    _s("flatten(1)", lambda m, x: x.flatten(1), THREE_D),
    _s("flatten(0, 1)", lambda m, x: x.flatten(0, 1), THREE_D),
    _s("flatten(-2, -1)", lambda m, x: x.flatten(-2, -1), THREE_D),
    _s("ravel", lambda m, x: x.t().ravel() if x.ndim == 2 else m.ravel(x), any_shape()),
    _s("unflatten", lambda m, x: x.unflatten(1, (2, -1)), fixed(((3, 4),), ((1, 6, 2),))),
    _s("squeeze()", lambda m, x: x.squeeze(), SQUEEZABLE),
    _s("squeeze(dim)", lambda m, x: x.squeeze(-1), SQUEEZABLE),
    _s("squeeze(non-1 dim)", lambda m, x: m.squeeze(x, 0), fixed(((2, 1),), ((3,),))),
    _s("squeeze(dims)", lambda m, x: x.squeeze((0, 2)), fixed(((1, 3, 1),), ((1, 2, 2),))),
    _s("unsqueeze(-1)", lambda m, x: x.unsqueeze(-1), any_shape()),
    _s("unsqueeze(0)", lambda m, x: m.unsqueeze(x, 0), any_shape()),
    _s("unsqueeze(1)", lambda m, x: x.unsqueeze(1), any_shape(min_dims=1)),
    # ---- permutations ----------------------------------------------------------------------------
    _s("transpose(0, -1)", lambda m, x: x.transpose(0, -1), any_shape(min_dims=1)),
    _s("transpose(1, 2)", lambda m, x: m.transpose(x, 1, 2), THREE_D),
    _s("swapaxes", lambda m, x: x.swapaxes(0, 1), THREE_D),
    _s("permute(2, 0, 1)", lambda m, x: x.permute(2, 0, 1), THREE_D),
    _s("permute(tuple) fn", lambda m, x: m.permute(x, (1, 0)), TWO_D),
    _s("permute(-1, 0, 1)", lambda m, x: x.permute(-1, 0, 1) * 2, THREE_D),
    _s(".T", lambda m, x: x.T, TWO_D),
    _s(".mT", lambda m, x: x.mT, any_shape(min_dims=2)),
    _s("t()", lambda m, x: m.t(x), any_shape(max_dims=2)),
    _s("movedim", lambda m, x: x.movedim(0, -1), THREE_D),
    _s("movedim(tuple)", lambda m, x: m.movedim(x, (0, 1), (2, 0)), THREE_D),
    # ---- broadcasting ----------------------------------------------------------------------------
    _s("expand(-1, 4)", lambda m, x: x.expand(-1, 4), fixed(((3, 1),), ((1, 1),), ((2, 4),))),
    _s("expand(2, -1, -1)", lambda m, x: x.expand(2, -1, -1), fixed(((3, 1),), ((1, 4),))),
    _s("expand(new dims)", lambda m, x: x.expand(2, 3, 4), fixed(((4,),), ((),), ((3, 1),))),
    _s(
        "broadcast_to",
        lambda m, x: m.broadcast_to(x, (2, 3, 4)),
        fixed(((3, 1),), ((1, 4),), ((4,),), ((),), ((2, 1, 4),)),
    ),
    _s(
        "expand_as",
        lambda m, x, y: x.expand_as(y),
        fixed(((3, 1), (2, 3, 4)), ((1,), (5,))),
        (Arg(), Arg(grad=False)),
    ),
    _s(
        "broadcast_tensors",
        lambda m, x, y: m.broadcast_tensors(x, y),
        fixed(((3, 1), (1, 4)), ((2,), (3, 1)), ((), (2, 2))),
        (Arg(), Arg()),
    ),
    _s("sum_to_size", lambda m, x: x.sum_to_size(1, 4), fixed(((3, 4),), ((2, 3, 4),))),
    _s("sum_to_size(2, 1, 4)", lambda m, x: x.sum_to_size((2, 1, 4)), fixed(((2, 3, 4),))),
    _s(
        "expand then sum_to_size",
        lambda m, x: x.expand(3, 2).sum_to_size(3, 1) * x,
        fixed(((3, 1),), ((1, 1),)),
    ),
    # ---- copies ----------------------------------------------------------------------------------
    _s("contiguous", lambda m, x: x.t().contiguous(), TWO_D),
    _s("contiguous (already)", lambda m, x: x.contiguous() * 3, any_shape()),
    _s("clone", lambda m, x: x.clone(), any_shape()),
    _s("clone fn", lambda m, x: m.clone(x) * x, any_shape()),
    # ---- cat / stack -----------------------------------------------------------------------------
    _s(
        "cat",
        lambda m, x, y: m.cat([x, y]),
        fixed(((2, 3), (4, 3)), ((1,), (3,)), ((2, 2, 2), (1, 2, 2))),
        XY,
    ),
    _s(
        "cat(dim=1)",
        lambda m, x, y, z: m.cat((x, y, z), dim=1),
        fixed(((2, 1), (2, 3), (2, 2)), ((1, 2, 3), (1, 1, 3), (1, 4, 3))),
        XYZ,
    ),
    _s("cat(dim=-1)", lambda m, x, y: m.cat([x, y], -1), fixed(((2, 3), (2, 1)), ((4,), (2,))), XY),
    _s("cat same tensor twice", lambda m, x: m.cat([x, x * 2, x]), any_shape(min_dims=1)),
    _s(
        "cat with a legacy empty",
        lambda m, x: m.cat([x, m.zeros(0, dtype=x.dtype)], 0),
        fixed(((2, 3),), ((4,),)),
    ),
    _s(
        "cat int and float",
        lambda m, x, i: m.cat([x, i]),
        fixed(((2, 3), (1, 3)), ((2,), (3,))),
        (Arg(), Arg(-3, 3, kind="int")),
    ),
    _s(
        "cat double and float (promotes)",
        lambda m, x, y: m.cat([x, y.float()], 0),
        fixed(((2, 3), (1, 3)), ((2,), (3,))),
        XY,
        fd=False,
    ),  # float32 rounding defeats FD
    _s("concat", lambda m, x, y: m.concat([x, y], 1), fixed(((2, 3), (2, 2))), XY),
    _s("concatenate", lambda m, x, y: m.concatenate([x, y], dim=0), fixed(((2, 3), (1, 3))), XY),
    _s("stack", lambda m, x, y: m.stack([x, y]), fixed(((2, 3), (2, 3)), ((), ()), ((4,), (4,))), XY),
    _s(
        "stack(dim=1)",
        lambda m, x, y, z: m.stack([x, y, z], dim=1),
        fixed(((2, 3), (2, 3), (2, 3)), ((3,), (3,), (3,))),
        XYZ,
    ),
    _s("stack(dim=-1)", lambda m, x, y: m.stack((x, y), -1), fixed(((2, 3), (2, 3))), XY),
    _s("stack same tensor", lambda m, x: m.stack([x, x.sin()], 0), any_shape()),
    _s("hstack", lambda m, x, y: m.hstack([x, y]), fixed(((2, 3), (2, 1)), ((3,), (2,))), XY),
    _s("vstack", lambda m, x, y: m.vstack([x, y]), fixed(((2, 3), (1, 3)), ((3,), (3,))), XY),
    # ---- split / chunk / unbind ------------------------------------------------------------------
    _s("split(int)", lambda m, x: m.split(x, 2), fixed(((5, 3),), ((4,),), ((1, 2),))),
    _s("split(int, dim=1)", lambda m, x: x.split(2, dim=1), fixed(((2, 5),), ((3, 4, 2),))),
    _s("split(sizes)", lambda m, x: m.split(x, [1, 3, 1]), fixed(((5, 2),), ((5,),))),
    _s("split(sizes, dim=-1)", lambda m, x: x.split([2, 0, 1], -1), fixed(((2, 3),), ((3,),))),
    _s(
        "split pieces reused",
        lambda m, x: [p * (i + 1) for i, p in enumerate(m.split(x, 1))] + [x.split(2)[0].exp()],
        fixed(((3, 2),), ((2,),)),
    ),
    _s("chunk", lambda m, x: m.chunk(x, 2), fixed(((5, 3),), ((4,),), ((1, 2),))),
    _s("chunk(3, dim=1)", lambda m, x: x.chunk(3, 1), fixed(((2, 7),), ((2, 3, 2),), ((1, 2),))),
    _s("chunk(more than size)", lambda m, x: m.chunk(x, 4), fixed(((3,),), ((5, 1),))),
    _s("unbind", lambda m, x: m.unbind(x), any_shape(min_dims=1)),
    _s("unbind(dim=-1)", lambda m, x: x.unbind(-1), THREE_D),
    _s("unbind then stack", lambda m, x: m.stack(x.unbind(1)[::-1], 0), THREE_D),
    # ---- repeat / tile ---------------------------------------------------------------------------
    _s("repeat", lambda m, x: x.repeat(2, 3), TWO_D),
    _s("repeat(new dims)", lambda m, x: x.repeat(2, 1, 3), fixed(((2,),), ((),), ((1, 2),))),
    _s("repeat(tuple)", lambda m, x: x.repeat((1, 2, 1)), THREE_D),
    _s("repeat(0)", lambda m, x: x.repeat(0, 2), TWO_D),
    _s("tile", lambda m, x: m.tile(x, (2,)), any_shape()),
    _s("tile(2, 2)", lambda m, x: x.tile((2, 2)), fixed(((3,),), ((2, 3),), ((2, 1, 2),))),
    # ---- flip / roll / triangles -----------------------------------------------------------------
    _s("flip", lambda m, x: m.flip(x, (0,)), any_shape(min_dims=1)),
    _s("flip(dims=[0, 2])", lambda m, x: m.flip(x, dims=[0, 2]), THREE_D),
    _s("flip(-1) method", lambda m, x: x.flip(-1) * x, any_shape(min_dims=1)),
    _s("fliplr", lambda m, x: m.fliplr(x), TWO_D),
    _s("flipud", lambda m, x: m.flipud(x), any_shape(min_dims=1)),
    _s("roll", lambda m, x: m.roll(x, 1), any_shape()),
    _s("roll(dims)", lambda m, x: x.roll(-2, 1), THREE_D),
    _s("roll(tuples)", lambda m, x: m.roll(x, (1, 5), (0, -1)), THREE_D),
    _s("tril", lambda m, x: m.tril(x), fixed(((3, 3),), ((2, 4),), ((2, 3, 2),))),
    _s("tril(-1)", lambda m, x: x.tril(-1), fixed(((3, 3),), ((4, 2),))),
    _s("triu", lambda m, x: m.triu(x), fixed(((3, 3),), ((2, 4),), ((2, 3, 2),))),
    _s("triu(1)", lambda m, x: x.triu(diagonal=1), fixed(((3, 3),), ((4, 2),))),
]
