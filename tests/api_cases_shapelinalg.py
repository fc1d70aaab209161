"""API-sweep entries for products, construction, shape/split ops, view scatters and linalg
factorisations (the shapelinalg area): each called the same way in chainrule and torch."""

from __future__ import annotations

from api_cases import BOOL, INT, Case, add, both, custom
from oracle import Arg

M = (3, 4)
SQ = (3, 3)
CONST = Arg(grad=False)


def fails(call, shapes=(M,), args=None, grad=False) -> Case:
    """Both libraries raise, the same exception type."""
    return custom(call, shapes, args, grad=grad, raises=True)


# ---- products ------------------------------------------------------------------------------------
add(
    custom(
        lambda f, m, a, b: (
            f(a, b, 1),
            f(a, b, dims=([0], [1])),
            f(a, b, 0),
            f(a, b, dims=m.tensor([[1], [0]])),
        ),
        ((3, 4), (4, 3)),
    ),
    *both("tensordot"),
)
add(fails(lambda f, m, a, b: f(a, b, 1), ((3, 4), (3, 4))), *both("tensordot"))
add(fails(lambda f, m, a, b: f(a, b.long(), 1), ((3, 4), (4, 3))), *both("tensordot"))
add(custom(lambda f, m, a, b: (f(a, b), f(a, b.long()), f(b[0], a)), ((2, 3), (2, 1, 2))), *both("kron"))
add(custom(lambda f, m, a, b: f(a.bool(), b.long()), ((2,), (2,)), grad=False), *both("kron"))
for name, shapes, out in (
    ("addmm", ((4,), (3, 2), (2, 4)), (3, 4)),
    ("addbmm", ((3, 4), (2, 3, 2), (2, 2, 4)), (3, 4)),
    ("baddbmm", ((1, 3, 4), (2, 3, 2), (2, 2, 4)), (2, 3, 4)),
    ("addmv", ((1,), (3, 2), (2,)), (3,)),
    ("addr", ((4,), (3,), (4,)), (3, 4)),
):
    add(
        custom(
            lambda f, m, i, a, b: (
                f(i, a, b),
                f(i, a, b, beta=0.5, alpha=-2.0),
                f(i * float("nan"), a, b, beta=0),
            ),
            shapes,
        ),
        *both(name),
    )
    if name != "addr":
        add(fails(lambda f, m, i, a, b: f(i, a.long(), b), shapes), *both(name))
    inplace_shapes = (out,) + shapes[1:]
    add(custom(lambda f, m, i, a, b: f(i * 1, a, b, beta=2.0, alpha=0.5), inplace_shapes), *both(name + "_"))
    add(fails(lambda f, m, i, a, b: f(i, a, b), inplace_shapes, grad=True), *both(name + "_"))  # a leaf
add(fails(lambda f, m, i, a, b: f(i, a, b), ((3, 3), (3, 2), (3, 3))), *both("addmm"))
add(custom(lambda f, m, a, b: (f(a, b), f(a.long(), b.long())), ((4,), (4,))), *both("vdot"))
add(fails(lambda f, m, a, b: f(a, b), ((4,), (3,))), *both("vdot"))
add(
    custom(
        lambda f, m, a, b: (
            f(a, b),
            f(a, b, p=1.0),
            f(a, b, 0.0),
            f(a, b, float("inf")),
            f(a, b, 3.0),
            f(a, a),
            f(a, b, compute_mode="use_mm_for_euclid_dist"),
        ),
        ((3, 2), (2, 4, 2)),
    ),
    "chainrule.cdist",
)
add(fails(lambda f, m, a, b: f(a, b), ((3, 2), (4, 3))), "chainrule.cdist")
add(fails(lambda f, m, a, b: f(a, b, -1.0), ((3, 2), (4, 2))), "chainrule.cdist")
add(
    custom(lambda f, m, a: (f(a), f(a, 1), f(a, float("inf")), f(a[[0, 1, 0]]), f(a[:1]), f(a, 0))),
    "chainrule.pdist",
)
add(fails(lambda f, m, a: f(a[0])), "chainrule.pdist")

# ---- view scatters -------------------------------------------------------------------------------
add(
    custom(lambda f, m, a, s: (f(a, s), f(a, s, 1), f(a[:, :3].mT, s, 0, 1, 0)), ((3, 4), (3,))),
    *both("diagonal_scatter"),
)
add(fails(lambda f, m, a, s: f(a, s), ((3, 4), (4,))), *both("diagonal_scatter"))
add(
    custom(lambda f, m, a, s: (f(a, s, 1, -1), f(a.mT, s, 0, 0), f(a, s.float(), 1, 0)), ((3, 4), (3,))),
    *both("select_scatter"),
)
add(fails(lambda f, m, a, s: f(a, s, 1, 4), ((3, 4), (3,))), *both("select_scatter"))
add(
    custom(
        lambda f, m, a, s: (f(a, s, 1, 1, None, 2), f(a.mT, s.mT, 0, 1, 3), f(a, s, dim=1, start=-2)),
        ((3, 4), (3, 2)),
    ),
    *both("slice_scatter"),
)
add(fails(lambda f, m, a, s: f(a, s, 1), ((3, 4), (3, 2))), *both("slice_scatter"))
add(
    custom(lambda f, m, a, s: (f(a, s, (2, 2), (1, 2), 1),), ((3, 4), (2, 2)), (CONST, CONST)),
    *both("as_strided_scatter"),
)
add(
    custom(
        lambda f, m, a: (
            f(a * 1, 2.5),
            f(a.mT * 1, -1),
            f(m.zeros(7, 3), 1, True),
            f(m.zeros(7, 3), 1, wrap=False),
        )
    ),
    *both("fill_diagonal_"),
)
add(custom(lambda f, m, a: f(m.zeros(2, 2, 2, dtype=m.int64), 3), grad=False), *both("fill_diagonal_"))
add(fails(lambda f, m, a: f(m.zeros(2, 3, 2), 1)), *both("fill_diagonal_"))

# ---- construction --------------------------------------------------------------------------------
add(
    custom(lambda f, m, a: (f(a), f(a, 1), f(a, -1, 0, 2), f(a[0]), f(a.long()))),
    "chainrule.diag_embed",
    "Tensor.diag_embed",
)
add(fails(lambda f, m, a: f(a, 0, 1, 1)), *both("diag_embed"))
add(custom(lambda f, m, a: (f(a), f(a, 2), f(a[0, 0]), f(a, -1))), *both("diagflat"))
add(
    custom(lambda f, m, a, b, c: (f(a, b, c), f(), f(a.int(), b.long())), ((), (3,), (2, 2))),
    "chainrule.block_diag",
)
add(fails(lambda f, m, a: f(a[None])), "chainrule.block_diag")
add(
    custom(
        lambda f, m, a: (
            tuple(
                g(*args) for g in (f,) for args in ((3, 4), (4, 3, 1), (4, 3, -2), (0, 3), (3, 3, 10), (1, 1))
            )
            + (f(3, 3, dtype=m.int32),)
        ),
        grad=False,
    ),
    "chainrule.tril_indices",
    "chainrule.triu_indices",
)
add(fails(lambda f, m, a: f(-1, 3)), "chainrule.tril_indices", "chainrule.triu_indices")
add(
    custom(
        lambda f, m, a: (
            f(m.tensor([[7, 11], [0, 5]]), (3, 4)),
            f(m.tensor(5), (2, 3)),
            f(m.tensor([-1, 3]), (2, 3)),
        ),
        grad=False,
    ),
    "chainrule.unravel_index",
)
add(fails(lambda f, m, a: f(a, (3, 4))), "chainrule.unravel_index")
add(
    custom(
        lambda f, m, a, b, c: (
            f(a, b, indexing="ij"),
            f(a, b, c, indexing="xy"),
            f([a, c], indexing="xy"),
            f(a, indexing="xy"),
        ),
        ((3,), (2,), ()),
    ),
    "chainrule.meshgrid",
)
add(fails(lambda f, m, a, b: f(a, b, indexing="ji"), ((3,), (2,))), "chainrule.meshgrid")
add(
    custom(lambda f, m, a, b, c: (f(a, b, c), f(a), f(a.long(), b.long())), ((3,), (2,), (1,))),
    "chainrule.cartesian_prod",
)
add(fails(lambda f, m, a: f(a, a)), "chainrule.cartesian_prod")
add(
    custom(lambda f, m, a: (f(a), f(a, 3), f(a, 2, True), f(a, 5), f(a.long(), 1)), ((4,),)),
    "chainrule.combinations",
)
add(custom(lambda f, m, a: f(a, 0), ((4,),)), "chainrule.combinations")
add(fails(lambda f, m, a: f(a)), "chainrule.combinations")
add(
    custom(
        lambda f, m, a: (f(a), f(a, 2), f(a, 5, True), f(m.tensor([1, 2, 3])), f(a, 0)), ((4,),), grad=False
    ),
    "chainrule.vander",
)
add(custom(lambda f, m, a: (f(a), f(a, N=4), f(a[0]), f(a.long(), N=3))), "linalg.vander")
add(fails(lambda f, m, a: f(a, N=1)), "linalg.vander")
for k in ("1", "2", "3"):
    add(
        custom(
            lambda f, m, a, b, c: (f(a), f(b), f(c), f(a, b), f([b, c]), f(c.unsqueeze(0))),
            ((), (3,), (2, 3)),
        ),
        f"chainrule.atleast_{k}d",
    )
add(custom(lambda f, m, a, b, c: (f([a, b, c]), f((b, b))), ((3,), (3,), (3, 2))), "chainrule.column_stack")
add(custom(lambda f, m, a, b: f([a, b, a]), ((3,), (2, 3))), "chainrule.row_stack")
add(
    custom(lambda f, m, a, b: (f([a, a]), f([b, b.unsqueeze(-1)]), f((a.int(), a))), ((3,), (2, 3))),
    "chainrule.dstack",
)
add(fails(lambda f, m, a: f(a)), "chainrule.dstack", "chainrule.column_stack", "chainrule.row_stack")
add(
    custom(
        lambda f, m, y, x: (
            f(y),
            f(y, dx=0.5),
            f(y, dim=0),
            f(y, x),
            f(y, x.expand(3, 4)),
            f(y.long()),
            f(y[:, :1]),
        ),
        ((3, 4), (4,)),
    ),
    "chainrule.trapezoid",
    "chainrule.trapz",
    "chainrule.cumulative_trapezoid",
)
add(
    fails(lambda f, m, y, x: f(y, x), ((3, 4), (3,))), "chainrule.trapezoid", "chainrule.cumulative_trapezoid"
)

_ = (BOOL, INT)  # (shared argument kinds, for the entries below)


# ---- shape and split ops -------------------------------------------------------------------------
def _flat_cat(m, pieces):
    """The pieces flattened into one tensor, and their shapes (as a float tensor)."""
    shapes = m.tensor([float(s) for p in pieces for s in p.shape] or [0.0])
    return m.cat([p.reshape(-1) for p in pieces]), shapes


add(
    custom(
        lambda f, m, a: (
            f(a),
            f(a, 2),
            f(a, -1, [1, 0]),
            f(a, 3, (0, 1)),
            f(a[None], 1, (-1, 0)),
            f(a.long()),
        )
    ),
    *both("rot90"),
)
add(fails(lambda f, m, a: f(a, 1, [0, 0])), *both("rot90"))
add(fails(lambda f, m, a: f(a[0])), *both("rot90"))
add(
    custom(
        lambda f, m, a: (
            f(a, 2),
            f(a, m.tensor([1, 0, 2]), dim=0),
            f(a, m.tensor([2]), 1),
            f(a, 2, dim=-1, output_size=8),
            f(a[0, 0], 3),
            f(a.long(), 2, 0),
        )
    ),
    *both("repeat_interleave"),
)
add(custom(lambda f, m, a: f(m.tensor([1, 0, 3])), grad=False), "chainrule.repeat_interleave")
add(fails(lambda f, m, a: f(a, m.tensor([1, 2]), dim=0)), *both("repeat_interleave"))
add(fails(lambda f, m, a: f(a, -1)), *both("repeat_interleave"))
add(
    custom(
        lambda f, m, a: tuple(
            _flat_cat(m, f(a, spec, dim))
            for spec, dim in (
                (2, 1),
                (3, 0),
                ([1, 3], 1),
                ([3, 1], 1),
                ([-1], -1),
                (m.tensor([1, 2]), 1),
                (m.tensor(2), 0),
                (5, 1),
            )
        )
    ),
    *both("tensor_split"),
)
add(fails(lambda f, m, a: f(a, 0)), *both("tensor_split"))
add(fails(lambda f, m, a: f(a[0, 0], 2)), *both("tensor_split"))
add(
    custom(lambda f, m, a: (_flat_cat(m, f(a, 2)), _flat_cat(m, f(a, [1])), _flat_cat(m, f(a[0], 4)))),
    *both("hsplit"),
)
add(custom(lambda f, m, a: (_flat_cat(m, f(a, 3)), _flat_cat(m, f(a, [1, 2])))), *both("vsplit"))
add(custom(lambda f, m, a: (_flat_cat(m, f(a, 2)), _flat_cat(m, f(a, [1]))), ((2, 3, 4),)), *both("dsplit"))
add(fails(lambda f, m, a: f(a, 3)), *both("hsplit"))
add(fails(lambda f, m, a: f(a[0], 2)), *both("vsplit"))
add(fails(lambda f, m, a: f(a, 2)), *both("dsplit"))
add(
    custom(lambda f, m, a: (_flat_cat(m, f(a, [1, 3], 1)), _flat_cat(m, f(a, [3, 0])))),
    *both("split_with_sizes"),
    *both("unsafe_split_with_sizes"),
)
add(fails(lambda f, m, a: f(a, [1, 1])), *both("split_with_sizes"))
add(custom(lambda f, m, a: (_flat_cat(m, f(a, 3, 1)), _flat_cat(m, f(a, 2)))), *both("unsafe_split"))
add(fails(lambda f, m, a: f(a, [1, 2])), *both("unsafe_split"))
add(custom(lambda f, m, a: (_flat_cat(m, f(a, 3, 1)), _flat_cat(m, f(a, 2)))), *both("unsafe_chunk"))
add(custom(lambda f, m, a: (f(a), f(a[None]), f(a.long()))), *both("adjoint"))
add(fails(lambda f, m, a: f(a[0])), *both("adjoint"))
add(custom(lambda f, m, a: (f(a, 1, 1, 2), f(a, 0, -2, 1))), *both("narrow_copy"))

# the *_copy functions: the result of the view op, as a new tensor
add(custom(lambda f, m, a: f(a)), "chainrule.alias_copy", "chainrule.t_copy")
add(
    custom(lambda f, m, a: f(a), args=(CONST,)), "chainrule.detach_copy"
)  # (torch: requires_grad, no grad_fn)
add(custom(lambda f, m, a: f(a, (2, 2), (1, 2), 1)), "chainrule.as_strided_copy")
add(custom(lambda f, m, a: (f(a), f(a, 1, 1, 0))), "chainrule.diagonal_copy")
add(custom(lambda f, m, a: (f(a[:1], (2, 3, 4)), f(a, [3, 4]))), "chainrule.expand_copy")
add(custom(lambda f, m, a: f(a, (1, 0))), "chainrule.permute_copy")
add(custom(lambda f, m, a: f(a, 1, -1)), "chainrule.select_copy")
add(custom(lambda f, m, a: (f(a), f(a, 1, 1, None, 2), f(a, 0, -2))), "chainrule.slice_copy")
add(custom(lambda f, m, a: (f(a, 2, 1), f(a, 2))), "chainrule.split_copy")
add(custom(lambda f, m, a: f(a, [1, 3], 1)), "chainrule.split_with_sizes_copy")
add(custom(lambda f, m, a: (f(a[None]), f(a[:1], 0))), "chainrule.squeeze_copy")
add(custom(lambda f, m, a: f(a, 0, 1)), "chainrule.transpose_copy")
add(custom(lambda f, m, a: (f(a), f(a, 1))), "chainrule.unbind_copy")
add(custom(lambda f, m, a: f(a, 1, 2, 1)), "chainrule.unfold_copy")
add(custom(lambda f, m, a: f(a, -1)), "chainrule.unsqueeze_copy")
add(custom(lambda f, m, a: (f(a, (4, 3)), f(a, [-1]))), "chainrule.view_copy")

# in-place changes of shape (on a non-leaf: a leaf that requires grad refuses, as in torch)
add(custom(lambda f, m, a: f(a * 1) * m.arange(3.0)), *both("t_"))
add(
    custom(lambda f, m, a: (f(a * 1, 0, 1), f(a[None] * 1, 0, -1))),
    *both("transpose_"),
    *both("swapaxes_"),
    *both("swapdims_"),
)
add(custom(lambda f, m, a: (f(a[None, :, None] * 1), f(a[None] * 1, 0))), *both("squeeze_"))
add(custom(lambda f, m, a: (f(a * 1, 1), f(a * 1, -1))), *both("unsqueeze_"))
add(custom(lambda f, m, a: f(a * 1, (2, 2), (1, 2), 1)), *both("as_strided_"))
add(fails(lambda f, m, a: f(a, 0, 1), grad=True), *both("transpose_"))
add(fails(lambda f, m, a: f(a), grad=True), *both("t_"))
add(
    custom(
        lambda f, m, a: (
            f(a.detach().clone(), 2, 3),
            f(a.detach().clone(), [2, 2]).clone(),
            f(a.detach().clone(), 12),
        ),
        grad=False,
    ),
    *both("resize_"),
)
add(custom(lambda f, m, a: f(a.detach().clone(), a[:2, :2]), grad=False), *both("resize_as_"))
add(fails(lambda f, m, a: f(a, 2, 2), grad=True), *both("resize_"))

# ---- LU, LDL, Householder ------------------------------------------------------------------------
WELL = lambda m, a: a + 3 * m.eye(a.shape[-1], dtype=a.dtype)  # noqa: E731
SYM = lambda m, a: a + a.mT + 4 * m.eye(a.shape[-1], dtype=a.dtype)  # noqa: E731
add(
    custom(lambda f, m, a: (f(a), f(a.mT), f(a[None])), (SQ,)),
    "linalg.lu_factor",
    "linalg.lu_factor_ex",
    "linalg.lu",
)
add(custom(lambda f, m, a: (f(a), f(a.mT)), ((3, 4),)), "linalg.lu_factor_ex", "linalg.lu")
add(fails(lambda f, m, a: f(a * 0)), "linalg.lu_factor")
add(fails(lambda f, m, a: f(a, pivot=False)), "linalg.lu_factor", "linalg.lu")
add(fails(lambda f, m, a: f(a[0])), "linalg.lu_factor", "linalg.lu")
add(custom(lambda f, m, a: (f(a), f(a, get_infos=True))), *both("lu"))
add(
    custom(lambda f, m, a: (f(*m.linalg.lu_factor(a)), f(*m.linalg.lu_factor(a.mT), unpack_pivots=False))),
    "chainrule.lu_unpack",
)
# (torch's backward fails when L and U are not unpacked: that call is checked without gradients)
add(
    custom(lambda f, m, a: f(*m.linalg.lu_factor(a), unpack_data=False), args=(CONST,)), "chainrule.lu_unpack"
)
add(
    custom(
        lambda f, m, a, b: (
            f(*m.linalg.lu_factor(WELL(m, a)), b),
            f(*m.linalg.lu_factor(WELL(m, a)), b, adjoint=True),
            f(*m.linalg.lu_factor(WELL(m, a)), b.mT, left=False),
            f(*m.linalg.lu_factor(WELL(m, a)), b.mT, left=False, adjoint=True),
        ),
        (SQ, (2, 3, 2)),
    ),
    "linalg.lu_solve",
)
add(fails(lambda f, m, a, b: f(*m.linalg.lu_factor(WELL(m, a)), b), (SQ, (2, 2))), "linalg.lu_solve")
add(custom(lambda f, m, a, b: f(b, *m.linalg.lu_factor(WELL(m, a))), (SQ, (3, 2))), *both("lu_solve"))
add(
    custom(
        lambda f, m, a, b: (
            f(WELL(m, a), b),
            f(WELL(m, a), b[:, 0]),
            f(WELL(m, a), b.mT, left=False),
            f(a * m.tensor([1.0, 0.0, 1.0]), b).info,  # (the inf/nan of a singular solve: LAPACK's)
        ),
        (SQ, (3, 2)),
    ),
    "linalg.solve_ex",
)
add(
    custom(
        lambda f, m, a, b: tuple(
            f(b, WELL(m, a), up, tr, unit)
            for up in (True, False)
            for tr in (True, False)
            for unit in (False, True)
        ),
        (SQ, (2, 3, 2)),
    ),
    *both("triangular_solve"),
)
add(fails(lambda f, m, a, b: f(b, a), (SQ, (2, 2))), *both("triangular_solve"))
add(
    custom(
        lambda f, m, a: (
            f(WELL(m, a), 1),
            f(WELL(m, a).reshape(3, 3, 1), 1),
        ),
        (SQ,),
    ),
    "linalg.tensorinv",
)
add(fails(lambda f, m, a: f(a, 1)), "linalg.tensorinv")
add(
    custom(
        lambda f, m, a, b: (f(WELL(m, a).reshape(3, 3), b), f(WELL(m, a).reshape(3, 1, 3), b.reshape(3, 1))),
        (SQ, (3,)),
    ),
    "linalg.tensorsolve",
)
add(custom(lambda f, m, a, b: f(WELL(m, a).mT, b, dims=(0,)), (SQ, (3,))), "linalg.tensorsolve")
add(
    custom(lambda f, m, a, t: (f(a, t), f(a, t[:1]), f(a[None], t[None])), ((4, 3), (3,))),
    "linalg.householder_product",
    *both("orgqr"),
)
add(fails(lambda f, m, a, t: f(a.mT, t), ((4, 3), (3,))), "linalg.householder_product")
add(
    custom(
        lambda f, m, a, t, c: tuple(
            f(a, t, c if left else c.mT, left, tr) for left in (True, False) for tr in (True, False)
        ),
        ((4, 3), (3,), (4, 2)),
    ),
    *both("ormqr"),
)
add(fails(lambda f, m, a, t, c: f(a, t, c.mT), ((4, 3), (3,), (4, 2))), *both("ormqr"))
add(custom(lambda f, m, a: (f(a), f(a.mT), f(a[None])), ((4, 3),), (CONST,)), *both("geqrf"))
add(
    custom(lambda f, m, a: (f(SYM(m, a)), f(SYM(m, a)[None])), (SQ,), (CONST,)),
    "linalg.ldl_factor",
    "linalg.ldl_factor_ex",
)
add(
    custom(lambda f, m, a, b: f(*m.linalg.ldl_factor(SYM(m, a)), b), (SQ, (3, 2)), (CONST, CONST)),
    "linalg.ldl_solve",
)
add(fails(lambda f, m, a: f(a[0])), "linalg.ldl_factor")
add(
    custom(
        lambda f, m, a: (
            f(a, 2, 3).shape,
            f(a, 2, 3).dtype,
            f(a, [1.0, 2.0]),
            f(a).shape,
            f(a, (2,)),
            f(a, m.Size([2, 1])).shape,
            f(a.int(), [1.5, -2.5]),
            f(a, a.detach()),
            f(a, a * 2),
        )
    ),
    "Tensor.new",
)
add(fails(lambda f, m, a: f(a, a.long())), "Tensor.new")
