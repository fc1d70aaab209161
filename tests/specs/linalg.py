"""Products: matmul in all of torch's 1-D / 2-D / batched forms, mm, bmm, dot, inner, mv, outer,
and einsum (explicit, implicit, repeated subscripts, ellipsis, list and sublist forms)."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import fixed

INT = Arg(-4, 4, kind="int")

MATMUL_CASES = fixed(
    ((4,), (4,)),  # 1-D @ 1-D: dot product, a 0-d result
    ((3, 4), (4,)),  # 2-D @ 1-D: matrix-vector
    ((4,), (4, 2)),  # 1-D @ 2-D: a row vector times a matrix
    ((3, 4), (4, 2)),  # 2-D @ 2-D
    ((2, 3, 4), (4,)),  # batched @ 1-D
    ((4,), (2, 4, 3)),  # 1-D @ batched
    ((2, 3, 4), (2, 4, 5)),  # batched @ batched
    ((2, 3, 4), (4, 5)),  # batched @ 2-D (broadcast)
    ((3, 4), (2, 4, 5)),  # 2-D @ batched
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast: (2, 1) with (5,)
    ((1, 3, 4), (2, 1, 4, 2)),
    ((1, 1), (1, 1)),
)


def _e(equation, *shapes, name=None, **kw):
    """An einsum spec called as ``m.einsum(equation, *tensors)``."""
    return OpSpec(
        name or f"einsum {equation}",
        lambda m, *xs, _eq=equation: m.einsum(_eq, *xs),
        fixed(tuple(shapes)),
        tuple(Arg() for _ in shapes),
        **kw,
    )


SPECS = [
    OpSpec("matmul", lambda m, a, b: m.matmul(a, b), MATMUL_CASES, (Arg(), Arg())),
    OpSpec("a @ b", lambda m, a, b: a @ b, MATMUL_CASES, (Arg(), Arg())),
    OpSpec("Tensor.matmul", lambda m, a, b: a.matmul(b), MATMUL_CASES, (Arg(), Arg())),
    OpSpec(
        "matmul (one input needs grad)",
        lambda m, a, b: m.matmul(a, b),
        MATMUL_CASES,
        (Arg(), Arg(grad=False)),
    ),
    OpSpec(
        "matmul int64",
        lambda m, a, b: m.matmul(a, b),
        fixed(((3, 4), (4, 2)), ((2, 3, 4), (4,)), ((4,), (4,))),
        (INT, INT),
        grad=False,
    ),
    OpSpec("mm", lambda m, a, b: m.mm(a, b), fixed(((3, 4), (4, 2)), ((1, 5), (5, 1))), (Arg(), Arg())),
    OpSpec("Tensor.mm", lambda m, a, b: a.mm(b), fixed(((2, 3), (3, 4))), (Arg(), Arg())),
    OpSpec(
        "bmm",
        lambda m, a, b: m.bmm(a, b),
        fixed(((2, 3, 4), (2, 4, 5)), ((1, 2, 2), (1, 2, 3))),
        (Arg(), Arg()),
    ),
    OpSpec("dot", lambda m, a, b: m.dot(a, b), fixed(((5,), (5,)), ((1,), (1,))), (Arg(), Arg())),
    OpSpec(
        "inner",
        lambda m, a, b: m.inner(a, b),
        fixed(((5,), (5,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((4, 3), (2, 1, 3)), ((), (2, 3)), ((3,), ())),
        (Arg(), Arg()),
    ),
    OpSpec("Tensor.dot", lambda m, a, b: a.dot(b), fixed(((3,), (3,))), (Arg(), Arg())),
    OpSpec("mv", lambda m, a, b: m.mv(a, b), fixed(((3, 4), (4,)), ((1, 2), (2,))), (Arg(), Arg())),
    OpSpec("outer", lambda m, a, b: m.outer(a, b), fixed(((3,), (4,)), ((1,), (2,))), (Arg(), Arg())),
    OpSpec("ger", lambda m, a, b: m.ger(a, b), fixed(((3,), (2,))), (Arg(), Arg())),
    OpSpec(
        "(a @ b).sum() twice",
        lambda m, a, b: (a @ b) @ (b.mT @ a.mT),
        fixed(((3, 4), (4, 2)), ((2, 3, 4), (2, 4, 3))),
        (Arg(), Arg()),
    ),
    # einsum: the derivative of every operand is again an einsum
    _e("ij,jk->ik", (3, 4), (4, 2)),
    _e("ij,jk", (3, 4), (4, 2), name="einsum implicit ij,jk"),
    _e("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    _e("i,j->ij", (3,), (4,)),
    _e("i,i->", (5,), (5,)),
    _e("i,i", (5,), (5,), name="einsum implicit i,i (dot)"),
    _e("ij->ji", (3, 4)),
    _e("ji", (3, 4), name="einsum implicit ji (transpose)"),
    _e("ij->i", (3, 4)),
    _e("ij->", (3, 4)),
    _e("ii->i", (4, 4)),
    _e("ii->", (4, 4)),
    _e("ii", (3, 3), name="einsum implicit ii (trace)"),
    _e("iij->j", (3, 3, 2)),
    _e("iji->ij", (2, 3, 2)),
    _e("ii,i->i", (3, 3), (3,)),
    _e("ij,ij->ij", (3, 4), (3, 4)),
    _e("ij,ij->", (3, 4), (3, 4)),
    _e("ijk->kji", (2, 3, 4)),
    _e("bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)),
    _e("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    _e("Ab,bC->AC", (2, 3), (3, 4)),
    _e(" i j , j k -> i k ", (2, 3), (3, 4), name="einsum with spaces"),
    _e("...ij,...jk", (2, 1, 3, 4), (5, 4, 2), name="einsum ...ij,...jk (broadcast batch)"),
    _e("...ij,...jk->...ik", (2, 3, 4), (4, 5)),
    _e("...ij,jk->ik", (2, 3, 4), (4, 2), name="einsum ...ij,jk->ik (ellipsis summed)"),
    _e("...ii->...i", (2, 3, 3)),
    _e("i...->...", (3, 2, 2)),
    _e("...", (2, 3), name="einsum ... (identity)"),
    _e("i,i->i", (3,), (1,), name="einsum i,i->i (size-1 broadcast)"),
    _e("ij,j->ij", (3, 1), (4,), name="einsum ij,j->ij (size-1 broadcast)"),
    _e("->", (), name="einsum of a 0-d tensor"),
    _e(",ij->ij", (), (2, 3), name="einsum 0-d times matrix"),
    OpSpec(
        "einsum list form",
        lambda m, a, b: m.einsum("ij,jk->ik", [a, b]),
        fixed(((3, 4), (4, 2))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "einsum tuple form",
        lambda m, a, b: m.einsum("bij,bjk", (a, b)),
        fixed(((2, 3, 4), (2, 4, 5))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "einsum sublist form",
        lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        fixed(((3, 4), (4, 2))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "einsum sublist form, implicit with Ellipsis",
        lambda m, a, b: m.einsum(a, [..., 1], b, [1, 2]),
        fixed(((2, 3, 4), (4, 2))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "einsum one operand needs grad",
        lambda m, a, b: m.einsum("ij,jk->ik", a, b),
        fixed(((3, 4), (4, 2))),
        (Arg(grad=False), Arg()),
    ),
    OpSpec("einsum same tensor twice", lambda m, a: m.einsum("ij,ij->i", a, a), fixed(((3, 4),))),
    OpSpec(
        "einsum int64",
        lambda m, a, b: m.einsum("ij,jk->ik", a, b),
        fixed(((3, 4), (4, 2))),
        (INT, INT),
        grad=False,
    ),
]
