"""API-sweep entries for linalg.eig and linalg.eigvals (the eig area).

Their results are complex and the eigenvectors unique only up to a phase, so the calls return
real, phase-free quantities (real and imaginary parts of the eigenvalues, ``|V|``): the sweep's
gradient of the sum of the outputs is then defined, as in torch.
"""

from __future__ import annotations

from api_cases import INT, add, custom
from oracle import Arg

SQ = (3, 3)
CONST = Arg(grad=False)


def _shifted(m, a):
    """``a`` plus a diagonal ramp: eigenvalues apart, so eigenvector gradients stay finite."""
    n = a.shape[-1]
    return a + m.diag(m.arange(n, dtype=a.dtype) * 3)


def _eig_parts(f, m, a):
    L, V = f(a)
    return L.real, L.imag, V.abs()


def square(call, **kw):
    """A call on one 3 by 3 argument."""
    return custom(call, (SQ,), **kw)


def fails(call, shapes=(SQ,), args=None):
    """Both libraries raise, the same exception type."""
    return custom(call, shapes, args, grad=False, raises=True)


# ---- eig -----------------------------------------------------------------------------------------
add(
    square(
        lambda f, m, a: (
            *_eig_parts(f, m, _shifted(m, a)),
            *_eig_parts(f, m, _shifted(m, a).mT),  # a non-contiguous view
            *_eig_parts(f, m, a.reshape(1, 3, 3) * 0.1 + m.eye(3, dtype=a.dtype)),  # batched
            f(a[:1, :1]).eigenvalues.real,  # 1 by 1
        )
    ),
    "linalg.eig",
)
add(  # rotations: complex conjugate pairs, and the names of the results
    square(
        lambda f, m, a: (
            f(m.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=a.dtype)).eigenvalues,
            f(m.stack([a[:2, :2], a[1:, 1:]])).eigenvalues.abs(),
            f(m.complex(a, a.flip(0))).eigenvalues.real,
        )
    ),
    "linalg.eig",
)
add(  # empty matrices and batches, results without grad, out=
    square(
        lambda f, m, a: (
            [x.shape for x in f(a[:0, :0])],
            [x.shape for x in f(m.zeros(0, 2, 2, dtype=a.dtype))],
            [x.shape for x in f(m.zeros(2, 0, 0, dtype=a.dtype))],
            f(a).eigenvalues.dtype,
            f(a, out=(m.empty(0, dtype=m.complex128), m.empty(0, dtype=m.complex128)))[0].real,
        ),
        args=(CONST,),
        grad=False,
    ),
    "linalg.eig",
)
add(fails(lambda f, m, a: f(a[0])), "linalg.eig")  # one dim
add(fails(lambda f, m, a: f(a[:2])), "linalg.eig")  # not square
add(fails(lambda f, m, a: f(a.bfloat16())), "linalg.eig")
add(fails(lambda f, m, a: f(a / 0.0)), "linalg.eig")  # nan and inf
add(fails(lambda f, m, a: f(a, out=(m.empty(0), m.empty(0, dtype=m.complex64)))), "linalg.eig")
for case in (
    fails(lambda f, m, a: f(a), args=(INT,)),
    fails(lambda f, m, a: f(a.bool()), args=(INT,)),
):
    add(case, "linalg.eig", "linalg.eigvals")
add(  # the loss depends on the eigenvectors' phases: backward refuses
    square(
        lambda f, m, a: m.autograd.grad(f(m.complex(a, a.flip(0))).eigenvectors.real.sum(), a),
        raises=True,
    ),
    "linalg.eig",
)

# ---- eigvals ---------------------------------------------------------------------------------------
add(
    square(
        lambda f, m, a: (
            f(_shifted(m, a)).real,
            f(a).abs(),
            f(a.mT).imag.abs(),
            f(a.reshape(1, 3, 3)).abs(),
            f(m.complex(a, a.flip(1))).real,
        )
    ),
    "linalg.eigvals",
)
add(
    square(
        lambda f, m, a: (
            f(a[:0, :0]).shape,
            f(m.zeros(0, 2, 2, dtype=a.dtype)).shape,
            f(m.zeros(2, 0, 0, dtype=a.dtype)).shape,
            f(a).dtype,
            f(a, out=m.empty(0, dtype=m.complex128)).abs(),
        ),
        args=(CONST,),
        grad=False,
    ),
    "linalg.eigvals",
)
add(fails(lambda f, m, a: f(a[:2])), "linalg.eigvals")
add(fails(lambda f, m, a: f(a[0])), "linalg.eigvals")
add(fails(lambda f, m, a: f(a, out=m.empty(0))), "linalg.eigvals")
