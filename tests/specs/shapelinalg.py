"""Products (tensordot, kron, addmm family, cdist, pdist), view scatters, construction (diag_embed,
block_diag, meshgrid, combinations, vander, trapezoid ...), shape/split ops and LU-based linalg:
values, gradients and second derivatives against torch over hypothesis-drawn shapes."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

FLOAT = Arg()
CONST = Arg(grad=False)
A2 = (FLOAT, FLOAT)
A3 = (FLOAT, FLOAT, FLOAT)
V = array_shapes(min_dims=1, max_dims=1, max_side=4)
D2 = any_shape(min_dims=2, max_dims=2)
D3 = any_shape(min_dims=3, max_dims=3)
ANY = any_shape()


def _mm_shapes(extra_input=None):
    """(input, mat1, mat2) for addmm: (n, p) or broadcastable, (n, m), (m, p)."""
    return st.tuples(st.integers(1, 4), st.integers(0, 3), st.integers(1, 4)).map(
        lambda t: ((t[0], t[2]) if extra_input is None else extra_input(t), (t[0], t[1]), (t[1], t[2]))
    )


def _points():
    """(x1, x2) point sets for cdist: (B, P, M) and (B, R, M)."""
    return st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)).map(
        lambda t: ((t[0], t[1], t[3]), (t[0], t[2], t[3]))
    )


def _shape(min_dims: int = 0, max_dims: int = 3, max_side: int = 4):
    """One shape (for ``st.tuples`` of several arguments' shapes)."""
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def _kron_shapes():
    return st.tuples(_shape(max_side=3), _shape(max_side=3))


SPECS = [
    # ---- products ----
    OpSpec(
        "tensordot(dims=1)",
        lambda m, a, b: m.tensordot(a, b, 1),
        fixed(((3, 4), (4, 2)), ((2, 3, 4), (4,))),
        A2,
    ),
    OpSpec(
        "tensordot(dims lists)",
        lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0])),
        fixed(((2, 3, 4), (4, 2, 5)), ((1, 2, 1), (1, 1, 3))),
        A2,
    ),
    OpSpec(  # a contracted dim of size 1 broadcasts against the other's (torch sums that first)
        "tensordot(dims lists) broadcasting size-1 dims",
        lambda m, a, b: m.tensordot(a, b, ([1, 2], [2, 0])),
        fixed(((4, 1, 3), (3, 5, 2)), ((2, 3, 1), (3, 2, 3))),
        A2,
    ),
    OpSpec("tensordot(dims=0)", lambda m, a, b: m.tensordot(a, b, 0), fixed(((3,), (2, 2)), ((), (2,))), A2),
    OpSpec("kron", lambda m, a, b: m.kron(a, b), _kron_shapes(), A2),
    OpSpec("addmm", lambda m, i, a, b: m.addmm(i, a, b), _mm_shapes(), A3),
    OpSpec(
        "addmm(beta, alpha, broadcast input)",
        lambda m, i, a, b: m.addmm(i, a, b, beta=0.5, alpha=-1.5),
        _mm_shapes(lambda t: (t[2],)),
        A3,
    ),
    OpSpec("addmm(beta=0)", lambda m, i, a, b: m.addmm(i, a, b, beta=0), _mm_shapes(), A3),
    OpSpec(
        "x.addmm_",
        lambda m, i, a, b: (i * 1).addmm_(a, b, alpha=2),
        _mm_shapes(),
        A3,
    ),
    OpSpec(
        "baddbmm",
        lambda m, i, a, b: m.baddbmm(i, a, b, beta=2.0, alpha=0.5),
        fixed(((2, 3, 4), (2, 3, 2), (2, 2, 4)), ((1,), (1, 1, 3), (1, 3, 1))),
        A3,
    ),
    OpSpec(
        "addbmm",
        lambda m, i, a, b: m.addbmm(i, a, b, beta=2.0, alpha=0.5),
        fixed(((3, 4), (2, 3, 2), (2, 2, 4)), ((1,), (3, 1, 3), (3, 3, 1))),
        A3,
    ),
    OpSpec(
        "addmv",
        lambda m, i, a, b: m.addmv(i, a, b, beta=-1.0),
        fixed(((3,), (3, 2), (2,)), ((2,), (2, 0), (0,))),
        A3,
    ),
    OpSpec(
        "addr",
        lambda m, i, a, b: m.addr(i, a, b, alpha=3.0),
        fixed(((3, 4), (3,), (4,)), ((4,), (1,), (4,))),
        A3,
    ),
    OpSpec("vdot", lambda m, a, b: m.vdot(a, b), fixed(((4,), (4,)), ((0,), (0,))), A2),
    # torch's cdist backward is not differentiable again (its _cdist_backward has no derivative)
    OpSpec("cdist", lambda m, a, b: m.cdist(a, b), _points(), A2, gradgrad=False),
    OpSpec("cdist(p=1)", lambda m, a, b: m.cdist(a, b, 1.0), _points(), A2, gradgrad=False),
    OpSpec("cdist(p=3)", lambda m, a, b: m.cdist(a, b, 3.0), _points(), A2, gradgrad=False),
    OpSpec("cdist(p=inf)", lambda m, a, b: m.cdist(a, b, float("inf")), _points(), A2, gradgrad=False),
    OpSpec(
        "cdist(zero distances)",
        lambda m, a, b: m.cdist(m.cat([a, b]), a),
        fixed(((3, 2), (2, 2))),
        A2,
        gradgrad=False,
        fd=False,
    ),
    OpSpec("pdist", lambda m, a: m.pdist(a), any_shape(min_dims=2, max_dims=2), (FLOAT,), gradgrad=False),
    OpSpec(
        "pdist(p=1.5)",
        lambda m, a: m.pdist(a, 1.5),
        any_shape(min_dims=2, max_dims=2),
        (FLOAT,),
        gradgrad=False,
    ),
    # ---- view scatters ----
    OpSpec(
        "diagonal_scatter",
        lambda m, a, s: m.diagonal_scatter(a, s, 1),
        fixed(((3, 4), (3,)), ((2, 2), (1,))),
        A2,
    ),
    OpSpec(
        "diagonal_scatter(dims)",
        lambda m, a, s: m.diagonal_scatter(a, s, -1, 2, 0),
        fixed(((3, 2, 4), (2, 3))),
        A2,
    ),
    OpSpec(
        "select_scatter",
        lambda m, a, s: m.select_scatter(a, s, -1, 1),
        fixed(((3, 4), (3,)), ((2, 2, 2), (2, 2))),
        A2,
    ),
    OpSpec(
        "slice_scatter",
        lambda m, a, s: m.slice_scatter(a, s, 1, 1, None, 2),
        fixed(((3, 4), (3, 2)), ((1, 5), (1, 2))),
        A2,
    ),
    # (torch's gradient with respect to the input of as_strided_scatter is wrong: docs/differences.md)
    OpSpec(
        "as_strided_scatter",
        lambda m, a, s: m.as_strided_scatter(a, s, (2, 2), (1, 2), 1),
        fixed(((3, 4), (2, 2))),
        (CONST, FLOAT),
    ),
    OpSpec(
        "x.fill_diagonal_",
        lambda m, a: (a * 1).fill_diagonal_(0.5),
        any_shape(min_dims=2, max_dims=2),
        (FLOAT,),
    ),
    OpSpec(
        "x.fill_diagonal_(wrap)",
        lambda m, a: (a * 1).fill_diagonal_(-1, True),
        fixed(((7, 2),), ((5, 3),)),
        (FLOAT,),
    ),
    # ---- construction ----
    OpSpec("diag_embed", lambda m, a: m.diag_embed(a), any_shape(min_dims=1), (FLOAT,)),
    OpSpec(
        "diag_embed(offset, dims)",
        lambda m, a: m.diag_embed(a, -1, 0, 2),
        any_shape(min_dims=2, max_dims=3),
        (FLOAT,),
    ),
    OpSpec("diagflat", lambda m, a: m.diagflat(a, 1), ANY, (FLOAT,)),
    OpSpec(
        "block_diag",
        lambda m, a, b, c: m.block_diag(a, b, c),
        st.tuples(st.just(()), V, _shape(2, 2)),
        A3,
    ),
    OpSpec("meshgrid(ij)", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), st.tuples(V, V), A2),
    OpSpec("meshgrid(xy)", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"), st.tuples(V, V, V), A3),
    OpSpec("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), st.tuples(V, V), A2),
    OpSpec("combinations", lambda m, a: m.combinations(a), any_shape(1, 1), (FLOAT,)),
    OpSpec(
        "combinations(3, with_replacement)",
        lambda m, a: m.combinations(a, 3, True),
        any_shape(1, 1),
        (FLOAT,),
    ),
    OpSpec("linalg.vander", lambda m, a: m.linalg.vander(a), any_shape(min_dims=1, min_side=2), (FLOAT,)),
    OpSpec("linalg.vander(N=4) at zero", lambda m, a: m.linalg.vander(a * 0, N=4), any_shape(1, 1), (FLOAT,)),
    OpSpec("atleast_3d", lambda m, a: m.atleast_3d(a) * 2, ANY, (FLOAT,)),
    OpSpec("column_stack", lambda m, a, b: m.column_stack([a, b]), fixed(((3,), (3, 2)), ((1,), (1, 1))), A2),
    OpSpec("dstack", lambda m, a, b: m.dstack([a, b]), fixed(((3,), (3,)), ((2, 3), (2, 3, 2))), A2),
    OpSpec("trapezoid", lambda m, y: m.trapezoid(y), any_shape(min_dims=1), (FLOAT,)),
    OpSpec(
        "trapezoid(x, dim=0)",
        lambda m, y, x: m.trapezoid(y, x, dim=0),
        fixed(((3, 2), (3,)), ((1,), (1,))),
        A2,
    ),
    OpSpec(
        "cumulative_trapezoid(dx)",
        lambda m, y: m.cumulative_trapezoid(y, dx=0.5),
        any_shape(min_dims=1),
        (FLOAT,),
    ),
    OpSpec(
        "cumulative_trapezoid(x)",
        lambda m, y, x: m.cumulative_trapezoid(y, x),
        fixed(((2, 4), (2, 4)), ((3,), (3,))),
        A2,
    ),
]


# ---- shape and split ops -------------------------------------------------------------------------
def _pieces(m, pieces):
    return m.cat([p.reshape(-1) * (k + 1) for k, p in enumerate(pieces)])


SPECS += [
    OpSpec("rot90", lambda m, a: m.rot90(a), any_shape(min_dims=2), (FLOAT,)),
    OpSpec("rot90(k=3, dims)", lambda m, a: m.rot90(a, 3, (-1, 0)), any_shape(min_dims=2), (FLOAT,)),
    OpSpec("repeat_interleave(2)", lambda m, a: m.repeat_interleave(a, 2), ANY, (FLOAT,)),
    OpSpec(
        "repeat_interleave(tensor, dim)",
        lambda m, a: m.repeat_interleave(a, m.arange(a.shape[-1]) % 3, dim=-1),
        any_shape(min_dims=1),
        (FLOAT,),
    ),
    OpSpec(
        "tensor_split(3)", lambda m, a: _pieces(m, m.tensor_split(a, 3, -1)), any_shape(min_dims=1), (FLOAT,)
    ),
    OpSpec(
        "tensor_split(indices)",
        lambda m, a: _pieces(m, m.tensor_split(a, [1, 3], 0)),
        any_shape(min_dims=1),
        (FLOAT,),
    ),
    OpSpec("hsplit", lambda m, a: _pieces(m, m.hsplit(a, [2])), any_shape(min_dims=1), (FLOAT,)),
    OpSpec("x.adjoint", lambda m, a: a.adjoint() * m.arange(a.shape[-2]), any_shape(min_dims=2), (FLOAT,)),
    OpSpec("x.t_", lambda m, a: (a * 1).t_() * m.arange(a.shape[0]), D2, (FLOAT,)),
    OpSpec("x.transpose_ then mul_", lambda m, a: (a * 1).transpose_(0, -1).mul_(2).exp(), D3, (FLOAT,)),
    OpSpec("x[0].unsqueeze_ then its base", lambda m, a: _unsqueeze_view(m, a), D2, (FLOAT,)),
]


def _unsqueeze_view(m, a):
    b = a * 1
    v = b[0]
    v.unsqueeze_(0)
    v.mul_(2)
    return b


# ---- LU and Householder ----------------------------------------------------------------------------
def _matrices(min_m=1, max_m=4, min_n=1, max_n=4):
    return st.tuples(
        array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=2),
        st.integers(min_m, max_m),
        st.integers(min_n, max_n),
    ).map(lambda t: (t[0] + (t[1], t[2]),))


def _well(m, a):
    return a + 3 * m.eye(a.shape[-2], a.shape[-1], dtype=a.dtype)


def _lu_parts(m, a):
    return m.cat([t.reshape(-1) for t in m.linalg.lu(_well(m, a))])


SQUARE = _matrices().map(lambda s: (s[0][:-1] + (s[0][-2],),))
SPECS += [
    OpSpec("linalg.lu_factor", lambda m, a: m.linalg.lu_factor(_well(m, a)).LU, SQUARE, (FLOAT,)),
    OpSpec("linalg.lu (any shape)", _lu_parts, _matrices(), (FLOAT,)),
    OpSpec(
        "linalg.lu_solve",
        lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(_well(m, a)), b),
        fixed(((3, 3), (3, 2)), ((2, 2, 2), (2, 1))),
        A2,
    ),
    OpSpec(
        "linalg.lu_solve(left=False, adjoint)",
        lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(_well(m, a)), b, left=False, adjoint=True),
        fixed(((3, 3), (2, 3)), ((2, 2, 2), (1, 2))),
        A2,
    ),
    OpSpec(
        "linalg.solve_ex",
        lambda m, a, b: m.linalg.solve_ex(_well(m, a), b).result,
        fixed(((3, 3), (3, 2))),
        A2,
    ),
    OpSpec(
        "triangular_solve",
        lambda m, b, a: m.triangular_solve(b, _well(m, a), False, True).solution,
        fixed(((3, 2), (3, 3)), ((2, 2, 1), (2, 2))),
        A2,
    ),
    OpSpec(
        "linalg.tensorinv",
        lambda m, a: m.linalg.tensorinv(_well(m, a).reshape(2, 2, 4), 2),
        fixed(((4, 4),)),
        (FLOAT,),
    ),
    OpSpec(
        "linalg.tensorsolve",
        lambda m, a, b: m.linalg.tensorsolve(_well(m, a).reshape(2, 3, 6), b),
        fixed(((6, 6), (2, 3))),
        A2,
    ),
    OpSpec(
        "linalg.householder_product",
        lambda m, a, t: m.linalg.householder_product(a, t),
        fixed(((4, 3), (3,)), ((3, 3), (2,)), ((2, 3, 2), (2, 1))),
        A2,
    ),
    OpSpec(
        "ormqr",
        lambda m, a, t, c: m.ormqr(a, t, c, True, True),
        fixed(((4, 3), (3,), (4, 2))),
        A3,
    ),
]
