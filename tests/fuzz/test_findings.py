"""Regression tests for what the differential fuzzer (test_differential.py) found: each is the
minimal program it reported, run in chainrule and in torch (docs/testing.md lists the findings)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import raises_like_torch, same

import chainrule


def _version_error(lib, program):
    """``program(lib, x, w)`` then backward: torch's "modified by an inplace operation" error."""
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, 3.0], dtype=lib.float64, requires_grad=True)
    y = x * 1
    program(y, w)
    y.sum().backward()
    return x.grad, w.grad


@pytest.mark.parametrize(
    "program",
    [
        lambda y, w: y.mul_(y),
        lambda y, w: y.div_(y),
        lambda y, w: y.pow_(y),
        lambda y, w: y.atan2_(y),
        lambda y, w: y.addcmul_(y, w),
    ],
    ids=["mul_", "div_", "pow_", "atan2_", "addcmul_"],
)
def test_inplace_op_reading_its_own_tensor_fails_backward(program) -> None:
    """Found: ``y.mul_(y)`` gave 2y as the gradient. torch saves the second operand as it is, which
    the op then modifies, so backward raises; chainrule used to save a copy of both."""
    raises_like_torch(lambda lib: _version_error(lib, program), "modified by an inplace operation")


@pytest.mark.parametrize(
    "program",
    [lambda y, w: y.add_(y), lambda y, w: y.sub_(y), lambda y, w: y.lerp_(y, 0.3), lambda y, w: y.mul_(w)],
    ids=["add_", "sub_", "lerp_", "mul_ other"],
)
def test_inplace_op_reading_its_own_tensor_without_saving_it(program) -> None:
    """The ops whose derivative does not read the second operand still work, as in torch."""

    def grads(lib):
        return _version_error(lib, program)

    same(grads)


def test_movedim_of_a_0d_tensor() -> None:
    """Found: ``movedim(0, 0)`` / ``movedim(-1, 0)`` of a 0-d tensor raised; torch takes dims 0 and -1
    of a 0-d tensor and returns it unchanged."""

    def program(lib):
        x = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        y = x.movedim(0, 0) * x.movedim(-1, 0) * x.movedim([0], [-1])
        y.backward()
        return y, x.grad

    same(program)


def test_transpose_of_a_0d_tensor_checks_its_dims() -> None:
    """Found: ``transpose(0, 1)`` of a 0-d tensor returned it; torch raises IndexError (only dims 0
    and -1 exist), and accepts ``transpose(0, -1)``."""
    raises_like_torch(lambda lib: lib.tensor(1.0).transpose(0, 1), "Dimension out of range")
    same(lambda lib: lib.tensor(2.0).transpose(0, -1))


def test_inplace_on_a_single_unfold_window() -> None:
    """Found: an in-place op on ``x.unfold(0, 3, 1)`` of a 3-row ``x`` (one window: nothing overlaps)
    raised "read-only view"; torch writes it, and into the base."""

    def program(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        y = x * 1
        window = y.unfold(0, 3, 1)
        window.mul_(window.detach() + 1)
        (y * y).sum().backward()
        return y, x.grad

    same(program)


def test_mT_of_0d_and_1d_tensors() -> None:
    """Found: ``mT`` of a 1-D tensor raised IndexError (torch: RuntimeError) and of a 0-d one raised
    (torch: the tensor itself); ``flatten(1, 0)`` of a 0-d tensor returned (torch: IndexError)."""
    raises_like_torch(lambda lib: lib.tensor([1.0, 2.0]).mT, "only supported on matrices")
    raises_like_torch(lambda lib: lib.tensor([1.0, 2.0]).mH, "only supported on matrices")
    with warnings.catch_warnings():  # torch deprecates mT of a 0-d tensor (once per process)
        warnings.simplefilter("ignore", UserWarning)
        same(lambda lib: lib.tensor(2.0).mT)
    raises_like_torch(lambda lib: lib.tensor(2.0).flatten(1, 0), "Dimension out of range")


def test_mT_of_a_0d_tensor_is_the_tensor() -> None:
    """Found by a make fuzz run: ``mT`` (and ``mH``) of a 0-d tensor made a view, so a hook or
    ``retain_grad`` on it was not one on the tensor; torch returns the tensor itself (with its
    deprecation warning)."""

    def program(lib):
        x = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():  # (torch warns once per process)
            warnings.simplefilter("ignore", UserWarning)
            same_tensor = [x.mT is x, x.mH is x, x.mT.mT is x]
            x.mT.register_hook(lambda g: g * 0.5)
        (x * 3).backward()
        return same_tensor, x.grad

    same(program)
    with pytest.warns(UserWarning, match="Tensor.mT is deprecated on 0-D tensors"):
        assert chainrule.tensor(1.0).mT.ndim == 0


_RNG = np.random.default_rng(0)
_X, _W = _RNG.standard_normal((2, 1, 3)), _RNG.standard_normal((2, 1, 3, 2))


def test_inplace_write_into_a_real_view_of_a_complex_tensor() -> None:
    """Found: ``view_as_real(fftn(x)).copy_(s)`` gave the imaginary parts of ``s``'s gradient the
    wrong sign: the in-place write's node (CopySlices) got the conjugated complex gradient."""

    def program(lib):
        x = lib.tensor(_X, requires_grad=True)
        s = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        c = lib.fft.fftn(x)
        lib.view_as_real(c).copy_(s)
        (lib.view_as_real(c) * lib.tensor(_W)).sum().backward()
        return s.grad, x.grad

    same(program)


def test_inplace_on_real_and_imag_views() -> None:
    def program(lib):
        x = lib.tensor(_X, requires_grad=True)
        s = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        c = lib.fft.fft(x)
        c.real.mul_(s[0])
        c.imag.add_(s[1])
        lib.view_as_real(c)[..., 1].mul_(s[0])
        (lib.view_as_real(c) * lib.tensor(_W)).sum().backward()
        return s.grad, x.grad

    same(program)


@pytest.mark.parametrize(
    "reduction",
    [
        "sum",
        "mean",
        "amax",
        "amin",
        "logsumexp",
        "std",
        "var",
        "norm",
        "all",
        "any",
        "nansum",
        "count_nonzero",
    ],
)
def test_reduction_of_a_0d_tensor_checks_its_dim(reduction) -> None:
    """Found: ``logsumexp(1)`` of a 0-d tensor returned it (as did these reductions); torch accepts
    only dims 0 and -1 of a 0-d tensor and raises IndexError for any other."""

    def call(lib, dim):
        x = lib.tensor(1.5)
        return getattr(x, reduction)(dim=dim) if reduction == "norm" else getattr(x, reduction)(dim)

    for bad in (1, -2):
        raises_like_torch(lambda lib, _d=bad: call(lib, _d), "Dimension out of range")
    for good in (0, -1):
        same(lambda lib, _d=good: call(lib, _d))


# ---- found, not fixed yet (tests/fuzz/known.py lets the fuzzer pass over them) -----------------------
# strict: when one is fixed its test fails, asking for its entry in known.py and this mark to go
pending = pytest.mark.xfail(strict=True, reason="a known difference from torch (tests/fuzz/known.py)")


def test_diagonal_of_identical_dims() -> None:
    """Found: ``ones(3).diagonal(0, 0, 0)`` raised IndexError (dim 1 out of range); torch wraps both
    dims first and raises RuntimeError for identical ones, IndexError only for a dim out of range."""
    raises_like_torch(lambda lib: lib.ones(3).diagonal(0, 0, 0), "cannot be identical")
    raises_like_torch(lambda lib: lib.ones(3).diagonal(0, 0, -1), "cannot be identical")
    raises_like_torch(lambda lib: lib.diagonal_copy(lib.tensor(1.0), 0, 0, -1), "cannot be identical")
    raises_like_torch(lambda lib: lib.ones(3).diagonal(), "Dimension out of range")


def test_permute_duplicate_dims() -> None:
    raises_like_torch(lambda lib: lib.ones(2, 2).permute(0, 0), "duplicate dims")
    raises_like_torch(lambda lib: lib.ones(2, 2, 3).permute(1, -2, 0), "duplicate dims")


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ((0, 0), (1, 2), "repeated dim in `source`"),
        ((0, 1), (-2, 1), "repeated dim in `destination`"),
        ((0, 1), (1,), "same number of dims"),
    ],
)
def test_movedim_repeated_or_unpaired_dims(source, destination, message) -> None:
    """Found with the permute finding: ``movedim`` with a repeated destination returned a tensor and
    one with a repeated source failed inside permute; torch names the argument."""
    raises_like_torch(lambda lib: lib.ones(2, 2, 3).movedim(source, destination), message)


@pytest.mark.parametrize(
    ("shape", "dim", "index"),
    [
        ((2, 1), 1, [1]),
        ((2, 3, 4), -2, [0, 7]),
        ((2, 3, 4), 0, [-1]),
        ((2, 3, 4), 2, [4]),
        ((3,), 0, [3]),
        ((), 0, [1]),
        ((), 0, [0, 0]),
        ((2, 0), 0, [5]),
        ((3, 2, 0), 2, [0]),
        ((0,), 0, [0]),
    ],
)
def test_index_select_out_of_range(shape, dim, index) -> None:
    """Found: an index out of range along dim 1 raised IndexError; torch's CPU kernel has a loop
    of its own for dim 1 (and for empty tensors) that raises RuntimeError, IndexError elsewhere."""
    raises_like_torch(
        lambda lib: lib.ones(shape).index_select(dim, lib.tensor(index, dtype=lib.long)),
        "out of|Index to scalar|should be positive",
    )


def test_expand_without_sizes() -> None:
    """Found: ``expand()`` with no size returned the tensor; torch raises TypeError (a missing
    argument), and takes ``expand(())`` of a 0-d tensor."""
    raises_like_torch(lambda lib: lib.tensor(1.0).expand(), "missing")
    same(lambda lib: lib.tensor(1.0).expand(()))


def _split_then(lib, change, use):
    y = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
    parts = y.split(1, 1) if use != "unbind" else y.unbind(1)
    part = parts[0][0] if use == "view of a part" else parts[0]
    if change == "base":
        y.tanh_()
    elif change == "base under no_grad":
        with lib.no_grad():
            y.mul_(2)
    else:  # another output, under no_grad (in grad mode that itself is refused)
        with lib.no_grad():
            parts[1].mul_(2)
    return part.grad_fn if use == "grad_fn" else part * 2


@pytest.mark.parametrize("change", ["base", "base under no_grad", "another output"])
@pytest.mark.parametrize("use", ["op", "grad_fn", "unbind", "view of a part"])
def test_split_output_used_after_its_base_changed(change, use) -> None:
    """Found: torch refuses to use an output of split/chunk/unbind (a multi-output view) once its
    base or another of its views changed in place; chainrule read the view's new values."""
    raises_like_torch(
        lambda lib: _split_then(lib, change, use), "is a view and its base or another view of its base"
    )


def test_split_outputs_without_history_follow_their_base() -> None:
    """Views taken without grad (or of a tensor that does not require grad) simply see the change."""

    def program(lib):
        y = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        parts = y.split(1, 1)
        y.tanh_()
        with lib.no_grad():
            z = lib.tensor([[1.0, 2.0]], dtype=lib.float64, requires_grad=True) * 1
            halves = z.chunk(2, 1)
        z.mul_(3)
        return parts[0] * 2, halves[1] * 2

    same(program)


_WITH_INDICES = {
    "min": lambda lib, x: x.min(-1),
    "max": lambda lib, x: x.max(0),
    "median": lambda lib, x: x.median(-1),
    "nanmedian": lambda lib, x: x.nanmedian(-1),
    "mode": lambda lib, x: x.mode(-1),
    "cummin": lambda lib, x: x.cummin(-1),
    "cummax": lambda lib, x: x.cummax(0),
    "sort": lambda lib, x: x.sort(-1),
    "topk": lambda lib, x: x.topk(2),
    "kthvalue": lambda lib, x: x.kthvalue(2),
    "aminmax": lambda lib, x: x.aminmax(dim=-1),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x[None], 2, return_indices=True),
    "adaptive_max_pool1d": lambda lib, x: lib.nn.functional.adaptive_max_pool1d(
        x[None], 2, return_indices=True
    ),
}


@pytest.mark.parametrize("op", sorted(_WITH_INDICES))
@pytest.mark.parametrize("changed", [0, 1])
def test_saved_indices_modified_in_place(op, changed) -> None:
    """Found: torch saves the indices of ``min(dim)``, ``cummin``, ``sort`` ... for backward and
    checks their version; chainrule kept a copy and ignored the change. Changing the values
    (output 0) passes, as in torch (aminmax saves both of its results)."""

    def program(lib):
        x = lib.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, 1.0]], dtype=lib.float64, requires_grad=True)
        outputs = _WITH_INDICES[op](lib, x)
        outputs[changed].mul_(2) if changed == 0 else outputs[changed].zero_()
        outputs[0].sum().backward()
        return x.grad

    try:
        program(torch)
    except RuntimeError:
        raises_like_torch(program, "modified by an inplace operation")
    else:
        same(program)


_SAVED_FOR_SHAPE = {  # torch's ops whose node saves an input that their rule takes for its shape
    "gather": lambda lib, x: x.gather(1, lib.tensor([[1]])),
    "take_along_dim": lambda lib, x: lib.take_along_dim(x, lib.tensor([[1]]), 1),
    "masked_select": lambda lib, x: x.masked_select(lib.tensor([True, False])),
    "take": lambda lib, x: x.take(lib.tensor([1])),
    "cdist": lambda lib, x: lib.cdist(x, x.detach() + 1),
    "cdist of x2": lambda lib, x: lib.cdist(x.detach() + 1, x),
    "pdist": lambda lib, x: lib.pdist(x.view(2, 1)),  # (a view shares its base's version)
    "dist": lambda lib, x: lib.dist(x, x.detach()),
    "index_add source": lambda lib, x: lib.zeros(1, 3).double().index_add(1, lib.tensor([0, 2]), x),
    "index_copy source": lambda lib, x: lib.zeros(1, 3).double().index_copy(1, lib.tensor([0, 2]), x),
    "put source": lambda lib, x: lib.zeros(3, dtype=lib.float64).put(lib.tensor([0, 2]), x[0]),
}


@pytest.mark.parametrize("op", sorted(_SAVED_FOR_SHAPE))
def test_unread_saved_input_modified_in_place(op) -> None:
    """Found: torch saves the input of ``gather`` (and both of ``cdist``) for backward and checks
    its version, though the gradient needs only its shape; chainrule kept the shape alone. The
    other ops whose torch node saves an input for its shape alone, the same."""

    def program(lib):
        x = lib.tensor([[0.5, -1.5]], dtype=lib.float64, requires_grad=True)
        y = _SAVED_FOR_SHAPE[op](lib, x)
        with lib.no_grad():
            x.mul_(0.5)
        y.sum().backward()

    raises_like_torch(program, "modified by an inplace operation")


_NOT_SAVED = {  # an input torch's node does not save: an in-place change of it passes
    "einsum of one operand": lambda lib, x, b: lib.einsum("ij->", x),
    "einsum diagonal": lambda lib, x, b: lib.einsum("ii->i", x),
    "conv1d bias": lambda lib, x, b: lib.nn.functional.conv1d(x.view(1, 2, 2), x.view(2, 2, 1), b),
    "conv_transpose1d bias": lambda lib, x, b: lib.nn.functional.conv_transpose1d(
        x.view(1, 2, 2), x.view(2, 1, 2), b[:1]
    ),
}


@pytest.mark.parametrize("op", sorted(_NOT_SAVED))
def test_unsaved_input_modified_in_place(op) -> None:
    """Found by a make fuzz run (einsum "ij->", conv_transpose2d's bias): chainrule's node kept
    an input torch's does not save, and refused backward after an in-place change of it."""

    def program(lib):
        x = lib.tensor([[0.5, -1.5], [2.0, 0.25]], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.5, -0.5], dtype=lib.float64, requires_grad=True)
        x1, b1 = x * 1, b * 1
        out = _NOT_SAVED[op](lib, x1.detach() if "bias" in op else x1, b1)
        (b1 if "bias" in op else x1).add_(1)
        (out * lib.arange(float(out.numel()), dtype=lib.float64).view(out.shape)).sum().backward()
        return out, x.grad if x.grad is not None else b.grad

    same(program)


def test_view_of_an_index_select_along_a_later_dim() -> None:
    """Found by a make fuzz run: ``index_select`` along the last dim kept NumPy's layout of a
    mixed index (the selected dim outermost), so ``view(-1)`` of it raised; torch's result is
    contiguous. And ``copy_`` of a source that broadcasts with a smaller destination, not to it,
    raised NumPy's ValueError (torch: RuntimeError)."""

    def program(lib):
        x = lib.arange(4.0, dtype=lib.float64).view(1, 4, 1)
        y = x.index_select(-1, lib.tensor([0, 0]))
        return y.stride(), y.is_contiguous(), y.view(-1)

    same(program)
    raises_like_torch(lambda lib: lib.tensor(0.5).copy_(lib.ones(3, 3)), "doesn't match the broadcast shape")


@pytest.mark.parametrize(
    ("grads", "changed"),
    [((True, True), "imag"), ((True, True), "real"), ((True, False), "imag"), ((True, False), "real")],
)
def test_complex_input_modified_in_place(grads, changed) -> None:
    """Found by a make fuzz run: torch's ``complex(real, imag)`` saves each input that requires
    grad, so an in-place change of it fails backward; chainrule's kept neither."""

    def program(lib):
        real = lib.tensor([[1.0, 2.0]], requires_grad=grads[0])
        imag = lib.tensor([[0.5, 0.25]], requires_grad=grads[1])
        z = lib.view_as_real(lib.complex(real, imag))
        with lib.no_grad():
            (real if changed == "real" else imag).mul_(0.5)
        z.sum().backward()
        return real.grad

    if grads[changed == "imag"]:
        raises_like_torch(program, "modified by an inplace operation")
    else:
        same(program)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("rfft", {}),
        ("rfft", {"n": 3}),
        ("rfft", {"n": 6}),
        ("ihfft", {}),
        ("ihfftn", {}),
        ("fft", {}),
        ("fft", {"n": 6}),
        ("ifft", {}),
        ("fft2", {}),
        ("rfft2", {"s": (2, 5)}),
    ],
)
def test_real_fft_input_modified_in_place(name, kwargs) -> None:
    """Found by a make fuzz run (ihfftn): torch's real-to-complex FFT node saves its input, so an
    in-place change of it fails backward, unless the input was padded (torch saved its padded
    copy) or the transform is a complex one over several dims (of a complex copy)."""

    def program(lib):
        x = lib.ones(3, 4, dtype=lib.float64, requires_grad=True)
        y = x * 1
        out = getattr(lib.fft, name)(y, **kwargs)
        y.add_(1)
        out.real.sum().backward()
        return x.grad

    padded = kwargs.get("n", 4) > 4 or kwargs.get("s", (3, 4))[-1] > 4
    if padded or name == "fft2":
        same(program)
    else:
        raises_like_torch(program, "modified by an inplace operation")


@pytest.mark.parametrize("changed", ["out", "q", "k", "v", "mask"])
@pytest.mark.parametrize("ndim", [2, 4])
def test_inplace_on_an_attention_output(ndim, changed) -> None:
    """Found: chainrule's scaled_dot_product_attention saved its output for backward, torch's
    math path (matmul, softmax, matmul: inputs that are not 4-d) does not, so an in-place change
    of the output passes there, and one of q or k too; one of v fails. Its flash kernel (4-d
    inputs) saves q, k, v and the output."""

    def program(lib):
        shape = (1, 1, 2, 3)[4 - ndim :]
        q, k, v, mask = (
            lib.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
            for seed in range(4)
        )
        mask = mask.detach()[..., :2]  # (a mask that requires grad takes the math path anyway)
        q1, k1, v1, mask1 = (x * 1 for x in (q, k, v, mask))
        out = lib.nn.functional.scaled_dot_product_attention(q1, k1, v1, attn_mask=mask1)
        {"out": out, "q": q1, "k": k1, "v": v1, "mask": mask1}[changed].add_(0.5)
        (out * lib.arange(3.0, dtype=lib.float64)).sum().backward()
        return out, q.grad, k.grad, v.grad

    if changed == "v" or ndim == 4:
        raises_like_torch(program, "modified by an inplace operation")
    else:
        same(program)


_FACTORS = {  # torch's linalg outputs in LAPACK's column-major layout
    "eig": lambda lib, a, s: lib.linalg.eig(s).eigenvectors,
    "eigh": lambda lib, a, s: lib.linalg.eigh(s).eigenvectors,
    "qr": lambda lib, a, s: lib.linalg.qr(a),
    "qr r": lambda lib, a, s: lib.linalg.qr(a, mode="r").R,
    "svd": lambda lib, a, s: (lib.linalg.svd(a).U, lib.linalg.svd(a, full_matrices=False).Vh),
    "torch.svd": lambda lib, a, s: lib.svd(a),
    "cholesky": lambda lib, a, s: (lib.linalg.cholesky(s), lib.linalg.cholesky_ex(s, upper=True).L),
    "inv": lambda lib, a, s: (lib.linalg.inv(s), lib.linalg.inv_ex(s).inverse),
    "lu_factor": lambda lib, a, s: lib.linalg.lu_factor(s).LU,
}


@pytest.mark.parametrize("batch", [(), (2,)])
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("op", sorted(_FACTORS))
def test_view_of_a_decomposition_factor(op, grad, batch) -> None:
    """Found: torch's ``linalg.eig`` returns the eigenvectors column-major (LAPACK's layout), so
    ``V.view(9)`` raises; chainrule's were row-major and viewed. The other factors torch returns
    column-major too: their strides, ``is_contiguous`` and ``view`` as torch's."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(batch + (4, 3))
    s = a.swapaxes(-1, -2) @ a + 3 * np.eye(3)

    def layouts(lib):
        outs = _FACTORS[op](lib, lib.tensor(a, requires_grad=grad), lib.tensor(s, requires_grad=grad))
        outs = outs if isinstance(outs, tuple) else (outs,)
        return [(o.stride(), o.is_contiguous(), o.mT.reshape(-1).shape) for o in outs if o.ndim >= 2]

    same(layouts)
    raises_like_torch(
        lambda lib: lib.linalg.eig(lib.tensor(s)).eigenvectors.view(-1), "compatible with input tensor's size"
    )


def _lu(lib, s):
    return lib.linalg.lu_factor(s)


_SOLVES = {  # torch's solver results: column-major, except left=False solves through a transpose
    "solve": lambda lib, a, s, b, v: lib.linalg.solve(s, b),
    "solve vector": lambda lib, a, s, b, v: lib.linalg.solve(s, v),
    "solve left=False": lambda lib, a, s, b, v: lib.linalg.solve(s, b.mT, left=False),
    "solve_ex": lambda lib, a, s, b, v: lib.linalg.solve_ex(s, b).result,
    "solve_triangular": lambda lib, a, s, b, v: lib.linalg.solve_triangular(s.triu(), b, upper=True),
    "solve_triangular left=False": lambda lib, a, s, b, v: lib.linalg.solve_triangular(
        s.tril(), b.mT, upper=False, left=False
    ),
    "lu_solve": lambda lib, a, s, b, v: lib.linalg.lu_solve(*_lu(lib, s), b),
    "lu_solve adjoint": lambda lib, a, s, b, v: lib.linalg.lu_solve(*_lu(lib, s), b, adjoint=True),
    "lu_solve left=False": lambda lib, a, s, b, v: lib.linalg.lu_solve(*_lu(lib, s), b.mT, left=False),
    "torch.lu_solve": lambda lib, a, s, b, v: lib.lu_solve(b, *_lu(lib, s)),
    "cholesky_solve": lambda lib, a, s, b, v: (
        lib.cholesky_solve(b, lib.linalg.cholesky(s)),
        lib.cholesky_solve(b, lib.linalg.cholesky(s, upper=True), upper=True),
    ),
    "cholesky_inverse": lambda lib, a, s, b, v: (
        lib.cholesky_inverse(lib.linalg.cholesky(s)),
        lib.cholesky_inverse(lib.linalg.cholesky(s, upper=True), upper=True),
    ),
    "triangular_solve": lambda lib, a, s, b, v: (
        *lib.triangular_solve(b, s.triu()),
        lib.triangular_solve(b, s.tril(), upper=False).solution,
    ),
    "matrix_power": lambda lib, a, s, b, v: (lib.linalg.matrix_power(s, -1), lib.linalg.matrix_power(s, -2)),
    "geqrf": lambda lib, a, s, b, v: lib.geqrf(a.detach()),
    "householder_product": lambda lib, a, s, b, v: lib.linalg.householder_product(
        a, lib.geqrf(a.detach())[1]
    ),
    "ormqr": lambda lib, a, s, b, v: (
        lib.ormqr(*lib.geqrf(a.detach()), lib.cat([b, b[..., :1, :]], -2)),
        lib.ormqr(*lib.geqrf(a.detach()), lib.cat([b, b[..., :1, :]], -2), transpose=True),
        lib.ormqr(*lib.geqrf(a.detach()), lib.cat([b, b[..., :1, :]], -2).mT, left=False),
    ),
    "ldl": lambda lib, a, s, b, v: (
        lib.linalg.ldl_factor(s.detach()).LD,
        lib.linalg.ldl_factor_ex(s.detach()).LD,
        lib.linalg.ldl_solve(*lib.linalg.ldl_factor(s.detach()), b.detach()),
    ),
}


@pytest.mark.parametrize("batch", [(), (2,)])
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("op", sorted(_SOLVES))
def test_layout_of_a_solver_result(op, grad, batch) -> None:
    """The solvers' results in torch's layout (column-major: LAPACK's; row-major where torch
    solves ``X A = B`` through a transpose), batched, with vector right-hand sides: the same
    values, strides and ``is_contiguous``, and ``view(-1)`` raising or not as in torch."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal(batch + (4, 3))
    s = a.swapaxes(-1, -2) @ a + 3 * np.eye(3)
    b, v = rng.standard_normal(batch + (3, 2)), rng.standard_normal(batch + (3,))

    def layouts(lib):
        leaves = [lib.tensor(x, requires_grad=grad) for x in (a, s, b, v)]
        outs = _SOLVES[op](lib, *leaves)
        outs = outs if isinstance(outs, tuple) else (outs,)
        found = []
        for o in outs:
            try:
                viewed = o.view(-1).shape
            except RuntimeError:
                viewed = None
            found += [o.detach(), (o.stride(), o.is_contiguous(), viewed)]
        return found

    same(layouts, rtol=1e-10, atol=1e-12)


_ZERO_D_RESULTS = {  # ops whose 0-d result NumPy gives as a (read-only) scalar
    "eq": lambda lib: lib.eq(lib.tensor(1), lib.tensor(0)),
    "lt": lambda lib: lib.tensor(1.0) < lib.tensor(0.5),
    "logical_xor": lambda lib: lib.logical_xor(lib.tensor(True), lib.tensor(False)),
    "logical_not": lambda lib: lib.logical_not(lib.tensor(0.0)),
    "isnan": lambda lib: lib.isnan(lib.tensor(1.0)),
    "signbit": lambda lib: lib.signbit(lib.tensor(-1.0)),
    "isclose": lambda lib: lib.isclose(lib.tensor(1.0), lib.tensor(1.0)),
    "and": lambda lib: lib.tensor(6) & lib.tensor(3),
    "invert": lambda lib: ~lib.tensor(6),
    "matrix_rank": lambda lib: lib.linalg.matrix_rank(lib.eye(3)),
    "cond": lambda lib: lib.linalg.cond(lib.eye(2), 1),
}


@pytest.mark.parametrize("op", sorted(_ZERO_D_RESULTS))
def test_inplace_on_a_0d_comparison_result(op) -> None:
    """Found: ``eq`` of two 0-d tensors held a read-only NumPy scalar, so ``fill_`` on it raised
    "read-only view"; torch writes it. Every tensor now holds an array (``wrap``)."""

    def program(lib):
        result = _ZERO_D_RESULTS[op](lib)
        result.fill_(0.5 if result.dtype.is_floating_point else 1)
        return result

    same(program)


def test_clamp_gradient_at_nan_bounds() -> None:
    """Found by a make fuzz run: ``clamp(x, min, max)`` with a NaN in the tensor ``min``: torch's
    gradient is 0 there (the result is NaN, not x); fixed on main meanwhile (extreme values)."""

    def program(lib):
        x = lib.tensor([[0.5, -0.9, -1.8]], requires_grad=True)
        lib.clamp(x, lib.tensor([float("nan"), 0.1, 0.2]), lib.tensor([[0.9]])).sum().backward()
        return x.grad

    same(program)


def test_flatten_of_one_dim_is_the_tensor_itself() -> None:
    """Found (by a make fuzz run): ``flatten(0, 0)`` of a 1-D tensor made a view, so ``retain_grad``
    on it kept nothing when the loss used the tensor; torch returns the tensor itself."""

    def program(lib):
        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        y = x * 1
        same_tensor = [y.flatten(0, 0) is y, y.flatten(-1, -1) is y, y.flatten() is y]
        flat = y.flatten(0, 0)
        flat.retain_grad()
        (y * 2).sum().backward()
        return same_tensor, flat.grad, x.grad

    same(program)


def test_ctc_loss_result_modified_in_place() -> None:
    """Found: torch's ctc_loss backward reads the loss it returned (reduction="none"), so changing
    that in place fails backward; chainrule's rule does not read it and passed."""

    def program(lib):
        log_probs = lib.tensor(np.log(np.full((5, 1, 3), 1 / 3)), requires_grad=True)
        loss = lib.nn.functional.ctc_loss(
            log_probs, lib.tensor([[1, 2]]), lib.tensor([5]), lib.tensor([2]), reduction="none"
        )
        loss.mul_(2)
        loss.sum().backward()

    raises_like_torch(program, "modified by an inplace operation")


@pytest.mark.parametrize(
    "op",
    ["mul", "div", "matmul", "remainder", "fmod", "atan2", "linear", "linear bias"],
)
@pytest.mark.parametrize("position", [0, 1])
@pytest.mark.parametrize("other_requires_grad", [False, True])
def test_unneeded_saved_input_modified_in_place(op, position, other_requires_grad) -> None:
    """Found: chainrule checked every input's version, so changing ``a`` of ``a * b`` in place (under
    no_grad) failed backward where ``b`` does not require grad; torch saves ``a`` only when ``b``'s
    gradient needs it (``Op.reads``), and checks only what it saved."""

    def program(lib):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([[3.0, 4.0], [5.0, 6.0]], dtype=lib.float64, requires_grad=other_requires_grad)
        x, y = (a, b) if position == 0 else (b, a)
        if op.startswith("linear"):
            bias = lib.ones(2, dtype=lib.float64, requires_grad=True) if op == "linear bias" else None
            out = lib.nn.functional.linear(x, y, bias)
        else:
            out = getattr(lib, op)(x, y)
        with lib.no_grad():
            a.mul_(2)
        out.sum().backward()
        return a.grad, b.grad

    try:
        program(torch)
    except RuntimeError:  # torch saved ``a`` (``b`` requires grad, or the op reads it for ``a``)
        raises_like_torch(program, "modified by an inplace operation")
    else:
        same(program)


@pytest.mark.parametrize(
    "program",
    [
        lambda x: x.t().copy_(x),
        lambda x: x.view(-1)[1:].copy_(x.view(-1)[:3]),
        lambda x: x.view(-1)[1:].add_(x.view(-1)[:3]),
        lambda x: x.view(-1)[1:].mul_(x.view(-1)[:3]),
        lambda x: x.view(-1).__setitem__(slice(1, None), x.view(-1)[:3]),
        lambda x: x[:1, :1].add_(x.view(-1)[:1]),
    ],
    ids=["copy_ t", "copy_ shifted", "add_ shifted", "mul_ shifted", "setitem shifted", "add_ other shape"],
)
def test_partially_overlapping_copy(program) -> None:
    """Found: a copy (or setitem, or in-place op) between partially overlapping memory wrote;
    torch refuses it."""
    raises_like_torch(lambda lib: program(lib.arange(4.0).reshape(2, 2)), "refer to a single memory location")


def test_fully_or_undecidably_overlapping_copy_works() -> None:
    """The same elements in the same layout (``x.copy_(x)``, ``x[...] = x``), or a strided view
    whose overlap torch does not decide (``x[::2]`` and ``x[1::2]``), are written as in torch."""

    def program(lib):
        x = lib.arange(6.0)
        x.copy_(x)
        x[...] = x
        x[::2].copy_(x[1::2])
        x[:2].add_(x[2:4])
        x[1] = x[3]
        x[None] = x  # setitem expands the value to the part's shape: the same elements
        return x

    same(program)


_OVERLAPPING_WRITES = {
    "add_": lambda v, src: v.add_(1),
    "mul_": lambda v, src: v.mul_(1.5),
    "sub_ a tensor": lambda v, src: v.sub_(src, alpha=0.5),
    "copy_": lambda v, src: v.copy_(src),
    "fill_": lambda v, src: v.fill_(3.0),
    "clamp_": lambda v, src: v.clamp_(max=2.0),
    "tanh_": lambda v, src: v.tanh_(),
    "masked_fill_": lambda v, src: v.masked_fill_(src > 12, -1.0),
}


@pytest.mark.parametrize("op", sorted(_OVERLAPPING_WRITES))
@pytest.mark.parametrize("windows", [(8, 4, 2), (6, 3, 1), (5, 2, 1)], ids=str)
@pytest.mark.parametrize("transposed", [False, True])
def test_inplace_on_overlapping_memory_torch_allows(op, windows, transposed) -> None:
    """Found: chainrule refused every in-place write into overlapping unfold windows; torch writes
    them element by element in its iteration order, each element reading what the earlier ones
    wrote (``arange(4.).unfold(0, 2, 1).add_(1)`` adds 2 to the shared elements)."""
    n, size, step = windows

    def program(lib):
        x = lib.arange(float(n), dtype=lib.float64) * 0.5 + 1
        view = x.unfold(0, size, step)
        view = view.t() if transposed else view
        src = lib.arange(float(view.numel()), dtype=lib.float64).reshape(view.shape) + 10
        _OVERLAPPING_WRITES[op](view, src)
        return x, view

    same(program)


def _windows_doubled(lib, x):
    y = x * 1
    y.unfold(0, 3, 1).mul_(2)  # places 2 and 3 are in three windows: doubled three times
    return y


def test_recorded_inplace_on_overlapping_memory() -> None:
    """Found: where autograd records the write (the base requires grad), torch's CopySlices gives
    each place of overlapping windows one window's local derivative, not the derivative of the
    repeated writes; chainrule refuses (known.REFUSED). torch's gradient, against float64 finite
    differences of torch's own forward, shows why."""
    x = torch.arange(6.0, dtype=torch.float64, requires_grad=True)
    _windows_doubled(torch, x).sum().backward()
    assert x.grad.tolist() == [2.0] * 6
    step, base, probe = 1e-6, _windows_doubled(torch, x.detach()).sum(), torch.eye(6, dtype=torch.float64)
    finite = [((_windows_doubled(torch, x.detach() + step * e).sum() - base) / step).item() for e in probe]
    np.testing.assert_allclose(finite, [2.0, 4.0, 8.0, 8.0, 4.0, 2.0], rtol=1e-6)
    for write in (lambda w: w.mul_(2), lambda w: w.fill_(1.0), lambda w: w.copy_(chainrule.ones(4, 3))):
        y = chainrule.arange(6.0, dtype=chainrule.float64, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="read-only view whose elements share memory"):
            write(y.unfold(0, 3, 1))  # (fill_ and copy_ once left the base's history as it was)
    y = chainrule.arange(6.0, dtype=chainrule.float64, requires_grad=True) * 1
    with chainrule.no_grad():  # unrecorded, it writes in torch's order
        y.unfold(0, 3, 1).mul_(2)
    assert y.tolist() == [0.0, 4.0, 16.0, 24.0, 16.0, 10.0]


def test_inplace_on_a_self_overlapping_as_strided_view() -> None:
    """``as_strided`` views whose elements share memory are written in torch's order too; one with
    a zero stride is refused as torch refuses it."""

    def program(lib):
        x = lib.arange(4.0, dtype=lib.float64)
        x.as_strided((3, 2), (1, 1)).add_(1)
        x.expand(2, 4)[0].mul_(2)  # a row of an expanded tensor repeats nothing
        return x

    same(program)
    raises_like_torch(lambda lib: lib.arange(4.0).as_strided((3, 2), (1, 0)).add_(1), "more than one element")


def test_inplace_on_an_expanded_tensor() -> None:
    """torch refuses element-wise in-place ops on an expanded tensor, and lets masked_fill_ write
    one (with a deprecation warning)."""

    def program(lib):
        x = lib.zeros(1, dtype=lib.float64)
        with pytest.warns(UserWarning, match="expanded tensors is deprecated"):
            x.expand(3).masked_fill_(lib.tensor([True, False, True]), 2.0)
        filled = [x.clone()]
        for fill in (lambda v: v.fill_(1.5), lambda v: v.zero_()):
            fill(x.expand(3))  # fill_ writes an expanded tensor without a warning
            filled.append(x.clone())
        with pytest.warns(UserWarning, match="expanded tensors is deprecated"):
            x.expand(3).index_put_((lib.tensor([1]),), lib.tensor(4.0, dtype=lib.float64))
        return x, filled

    same(program)
    raises_like_torch(lambda lib: lib.zeros(1).expand(3).add_(1), "more than one element of the written-to")


def test_out_of_range_index_into_an_empty_selection() -> None:
    """Found: ``x[1:, tensor([2])]`` of a 1-row ``x`` raised; torch checks each index as it copies
    an element, so a selection of no elements checks none (a dim of size 0 is still an error)."""

    def program(lib):
        x = lib.ones(1, 2, dtype=lib.float64, requires_grad=True)
        y = x[1:, lib.tensor([2])]
        z = x.t()[lib.tensor([7, 1]), 1:]
        (y.sum() + z.sum()).backward()
        return y, z, x.grad

    same(program)
    raises_like_torch(lambda lib: lib.ones(2, 0)[lib.tensor([5]), lib.tensor([0])], "size 0")
    raises_like_torch(lambda lib: lib.ones(1, 2)[:, lib.tensor([2])], "out of bounds")


_A = np.random.default_rng(0).standard_normal((3, 3))


_DECOMPOSITIONS = {
    "svd U": (lambda lib, x: lib.linalg.svd(x), 0, 1),
    "svd Vh": (lambda lib, x: lib.linalg.svd(x), 2, 1),
    "svd S": (lambda lib, x: lib.linalg.svd(x), 1, 0),
    "eigh": (lambda lib, x: lib.linalg.eigh(x + x.mT), 1, 0),
    "qr": (lambda lib, x: lib.linalg.qr(x), 0, 1),
    "slogdet logabsdet": (lambda lib, x: lib.linalg.slogdet(x), 1, 0),
    "slogdet sign": (lambda lib, x: lib.linalg.slogdet(x), 0, 1),
}


@pytest.mark.parametrize("case", sorted(_DECOMPOSITIONS))
def test_hook_on_an_output_without_gradient(case) -> None:
    """Found: a hook on an output of a multi-output op (svd's U) that gets no gradient was not
    called; torch calls it with None (so ``g * 0.5`` raises TypeError in the user's hook)."""
    decompose, hooked, used_output = _DECOMPOSITIONS[case]

    def program(lib):
        x = lib.tensor(_A, requires_grad=True)
        outputs = decompose(lib, x)
        seen = []
        outputs[hooked].register_hook(lambda g: seen.append(g))
        outputs[used_output].sum().backward()
        return seen, x.grad

    same(program)

    def scaling_hook(lib):
        u, s, _ = lib.linalg.svd(lib.tensor(_A, requires_grad=True))
        u.register_hook(lambda g: g * 0.5)
        s.sum().backward()

    raises_like_torch(scaling_hook, "NoneType")


def test_gradient_only_through_a_sign_output() -> None:
    """Found: backward through slogdet's sign only gave ``x.grad`` zeros; torch's gradient is
    undefined, so ``x.grad`` stays None (and the sign still requires grad)."""

    def program(lib):
        x = lib.tensor(_A, requires_grad=True)
        sign, logabsdet = lib.linalg.slogdet(x)
        sign.backward(retain_graph=True)
        untouched = x.grad is None
        (sign * logabsdet).backward()
        unused = lib.autograd.grad(lib.slogdet(x * 2).sign, x, allow_unused=True)
        return untouched, sign.requires_grad, type(sign.grad_fn).__name__, x.grad, unused

    same(program)


def test_squeeze_of_a_0d_tensor_checks_its_dim() -> None:
    """Found: ``squeeze(-2)`` of a 0-d tensor returned it; torch raises IndexError."""
    raises_like_torch(lambda lib: lib.tensor(1.0).squeeze(-2), "Dimension out of range")
    same(lambda lib: lib.tensor(1.0).squeeze(-1))


def test_advanced_indexing_result_is_contiguous() -> None:
    """Found: ``x[1:, idx].view(6)`` raised "not contiguous": NumPy lays a mix of slices and index
    arrays out in its own order; torch's result is a new contiguous tensor."""

    def program(lib):
        x = lib.arange(12.0, dtype=lib.float64).reshape(4, 3).requires_grad_()
        index = lib.tensor([0, 2])
        parts = [x[1:, index], x.t()[1:, index], x[:, lib.tensor([[0], [2]])]]
        flat = [p.view(-1) for p in parts]
        lib.cat(flat).pow(2).sum().backward()
        return [p.is_contiguous() for p in parts], flat, x.grad

    same(program)


def test_inplace_on_an_expand_that_repeats_nothing() -> None:
    """Found: ``y.expand(1, 1).div_(0.5)`` of a 0-d (or one-element) ``y`` raised "read-only view";
    only size-1 dims were added, no element repeats, and torch writes it (and into ``y``)."""

    def program(lib):
        x = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
        y = x * 1
        view = y.expand(1, 1, 1)
        view.mul_(x)
        view.div_(0.5)
        (y * 3).sum().backward()
        return y, view, x.grad

    same(program)
    raises_like_torch(lambda lib: (lib.ones(1) * 1).expand(3).add_(1), "single memory location|read-only")


def test_kthvalue_index_among_ties() -> None:
    """Found: which of tied elements ``kthvalue`` reports. torch's CPU quickselect gives index 1 of
    ``[0, 0, 2]`` (and of ``[3, 3, 3]``), chainrule gave the first; chainrule now replays torch's
    quickselect on lanes whose k-th value is tied (kernels/quickselect.py)."""
    same(lambda lib: lib.kthvalue(lib.tensor([0, 0, 2]), 1))
    same(lambda lib: lib.kthvalue(lib.tensor([3, 3, 3]), 2))
    rng = np.random.default_rng(3)
    for trial in range(60):
        x = rng.integers(0, 3, (3, int(rng.integers(1, 30)))).astype(np.float64)
        if trial % 3 == 1:
            x[rng.random(x.shape) < 0.2] = np.nan  # NaNs sort above every number, and tie
        k = int(rng.integers(1, x.shape[1] + 1))
        same(lambda lib, x=x, k=k, t=trial: lib.kthvalue(lib.tensor(x if t % 3 else x.astype(np.int64)), k))
        same(lambda lib, x=x, k=k: lib.kthvalue(lib.tensor(x.T.copy(), dtype=lib.float32), min(k, 3), 0))


@pytest.mark.parametrize("op", ["sign", "floor", "ceil", "round", "trunc"])
def test_piecewise_constant_op_stops_a_nan_gradient(op) -> None:
    """Found: ``sign(x).std(0)`` of one element (std: nan, its gradient nan) gave ``x.grad`` nan;
    torch's derivative of sign, floor, ... is zeros_like(grad), whatever the gradient holds."""

    def program(lib):
        x = lib.tensor([0.5], dtype=lib.float64, requires_grad=True)
        getattr(lib, op)(x).std(0).backward()
        y = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        (getattr(lib, op)(y) * float("inf")).sum().backward()
        return x.grad, y.grad

    with warnings.catch_warnings():  # torch: std of one element has no degrees of freedom
        warnings.simplefilter("ignore", UserWarning)
        same(program)


@pytest.mark.parametrize("driver", ["gels", "gelsd", "gelss"])
def test_hook_on_an_unused_lstsq_solution(driver) -> None:
    """Found (a make fuzz run): a loss of ``lstsq``'s residuals alone: torch calls a hook on the
    unused solution with None, as its residuals are a second output of the one lstsq node, not a
    function of the solution; chainrule composed them from the solution, so the hook got a
    gradient of about 1e-15. Now they are an output of the node, with torch's rule (and A's
    gradient is torch's)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))

    def program(lib):
        A = lib.tensor(a, requires_grad=True)
        solution, residuals, _ = lib.linalg.lstsq(A, lib.tensor(b), driver=driver)[:3]
        seen = []
        solution.register_hook(lambda g: seen.append(g is None))
        residuals.sum().backward()
        return seen, A.grad

    same(program)
