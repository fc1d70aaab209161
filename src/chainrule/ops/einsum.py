"""einsum: one differentiable op whose derivative is again an einsum.

For ``y = einsum("ij,jk->ik", A, B)`` the local rule of each operand is the einsum that contracts
the upstream gradient with the other operands onto that operand's subscripts:
``dl/dA = einsum("ik,jk->ij", dl/dy, B)``, ``dl/dB = einsum("ik,ij->jk", dl/dy, A)``.
Two cases need a constant extra operand: a subscript repeated in the operand (``"ii->i"``,
``"ii->"``) puts the gradient on a diagonal, so an identity matrix ties the repeated axes; a
subscript that appears in no other term (``"ij->i"`` sums over ``j``) spreads the gradient along
that axis, so a vector of ones supplies it.
"""

from __future__ import annotations

import string

import numpy as np

from ..autograd.graph import Op, defop
from ._common import Tensor, as_array, as_tensor, make_result, shape_str

__all__ = ["einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # torch's label order: A-Z, then a-z


# ---- parsing: every equation becomes explicit, letters only (ellipsis expanded) -----------------
def _split(equation: str, n_operands: int) -> tuple[list[str], str | None]:
    eq = "".join(equation.split())  # torch ignores whitespace
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    for pos, c in enumerate(eq):
        if c not in _LETTERS and c not in ".,->":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {pos} in the equation string, "
                "subscripts must be in [a-zA-Z]"
            )
    if len(inputs) > n_operands:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(inputs) < n_operands:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return inputs, (rhs if arrow else None)


def _explicit(equation: str, shapes: list[tuple]) -> tuple[tuple[str, ...], str]:
    """The equation with '...' replaced by fresh letters and the output made explicit."""
    inputs, output = _split(equation, len(shapes))
    used = set(equation)
    fresh = [c for c in _LETTERS if c not in used]
    n_ellipsis = 0
    subs: list[str] = []
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        named = term.replace("...", "")
        if "..." in term:
            if "." in named or term.count("...") > 1:
                raise RuntimeError(
                    f"einsum(): invalid ellipsis in operand {i}'s subscripts {term!r}; use at most one '...'"
                )
            n = len(shape) - len(named)
            if n < 0:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(named)}) is more "
                    f"than the number of dimensions ({len(shape)}) for operand {i}"
                )
            n_ellipsis = max(n_ellipsis, n)
        elif "." in term:
            raise RuntimeError(
                f"einsum(): found '.' for operand {i} that is not part of any ellipsis ('...')"
            )
        elif len(term) != len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                f"the number of dimensions ({len(shape)}) for operand {i} and no ellipsis was given"
            )
    if n_ellipsis > len(fresh):
        raise RuntimeError("einsum(): too many dimensions: at most 52 subscripts are supported")
    ell = "".join(fresh[:n_ellipsis])
    for term, shape in zip(inputs, shapes):
        if "..." in term:
            n = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ell[n_ellipsis - n :])
        subs.append(term)
    letters = "".join(subs)
    if output is None:  # implicit mode: the ellipsis dims, then the letters seen once, sorted
        named = "".join(sorted(c for c in set(letters) if c not in ell and letters.count(c) == 1))
        output = ell + "".join(sorted(named, key=_LETTERS.index))
    else:
        if output.replace("...", "").count(".") or output.count("...") > 1:
            raise RuntimeError("einsum(): invalid ellipsis in the output subscripts; use at most one '...'")
        output = output.replace("...", ell)
        for c in output:
            if output.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in letters:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
    return tuple(subs), output


def _check_sizes(subs: tuple[str, ...], shapes: list[tuple]) -> None:
    """torch's rules: a repeated subscript within an operand needs equal sizes; across operands
    sizes must be equal or 1 (broadcast)."""
    seen: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(subs, shapes)):
        own: dict[str, int] = {}
        for c, n in zip(term, shape):
            if c in own and own[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {i} but the "
                    f"sizes don't match, {n} != {own[c]}"
                )
            own[c] = n
        for c, n in own.items():
            m = seen.get(c)
            if m is None or m == 1:
                seen[c] = n
            elif n not in (1, m):
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                    f"broadcast with previously seen size {m} (operand {i} has shape "
                    f"{shape_str(shape)}); dims that share a subscript need equal sizes, or 1"
                )


# ---- the derivative -----------------------------------------------------------------------------
def _grad_equation(
    k: int, subs: tuple[str, ...], out_subs: str, shapes: list[tuple], g_shape: tuple, dt
) -> tuple[str, list[np.ndarray]]:
    """The einsum (and its constant operands) that takes (g, other operands) to operand k's grad."""
    terms = [(out_subs, g_shape)] + [(s, shapes[j]) for j, s in enumerate(subs) if j != k]
    used = set("".join(subs) + out_subs)
    fresh = iter(c for c in _LETTERS if c not in used)
    result, consts, const_subs = [], [], []
    for c, n in zip(subs[k], shapes[k]):
        if c in result:  # repeated subscript: a new axis tied to the first by the identity
            f = next(fresh)
            consts.append(np.eye(n, dtype=dt))
            const_subs.append(c + f)
            result.append(f)
            continue
        result.append(c)
        provided = any(n == m or n == 1 for s, shape in terms for d, m in zip(s, shape) if d == c)
        if not provided:  # summed over only in this operand: the gradient is spread along it
            consts.append(np.ones(n, dtype=dt))
            const_subs.append(c)
    lhs = ",".join([s for s, _ in terms] + const_subs)
    return lhs + "->" + "".join(result), consts


@defop("einsum", formula="{gi} = einsum of {gy} and the other operands, to the subscripts of {xi}")
def _einsum(F, g, xs, out, p, needs):
    subs, out_subs, dt = p
    shapes = [tuple(x.shape) for x in xs]
    grads = []
    for k in range(len(xs)):
        if not needs[k]:
            grads.append(None)
            continue
        others = [x for j, x in enumerate(xs) if j != k]
        arrays = type(g) is np.ndarray and all(type(x) is np.ndarray for x in others)
        if arrays and len(set(subs[k])) < len(subs[k]):  # (not vmap's batched arrays)
            grads.append(_onto_diagonal(k, subs, out_subs, shapes, g, others, dt))
            continue
        eq, consts = _grad_equation(k, subs, out_subs, shapes, tuple(g.shape), dt)
        grads.append(F.einsum(eq, g, *others, *consts))
    return tuple(grads)


def _onto_diagonal(k, subs, out_subs, shapes, g, others, dt) -> np.ndarray:
    """Operand k's gradient where it repeats a subscript (``"ii,i->i"``): the gradient of its
    diagonal, written onto the diagonal of zeros, as torch's (diagonal's backward). Multiplying by
    an identity matrix instead would make 0 * inf = NaN off the diagonal."""
    distinct = "".join(dict.fromkeys(subs[k]))
    sizes = dict(zip(subs[k], shapes[k]))
    diagonal_subs = subs[:k] + (distinct,) + subs[k + 1 :]
    diagonal_shapes = shapes[:k] + [tuple(sizes[c] for c in distinct)] + shapes[k + 1 :]
    eq, consts = _grad_equation(k, diagonal_subs, out_subs, diagonal_shapes, tuple(g.shape), dt)
    on_diagonal = np.einsum(eq, g, *others, *consts, optimize=True)
    out = np.zeros(shapes[k], dtype=on_diagonal.dtype)
    np.einsum(subs[k] + "->" + distinct, out)[...] = on_diagonal  # (a writeable view of out)
    return out


def _sublist_equation(args) -> tuple[str, list]:
    """torch's other form: einsum(op1, [0, 1], op2, [1, 2], [0, 2]) (ints in [0, 52), Ellipsis)."""

    def letters(sub) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, int) and 0 <= s < 52:
                out.append(_LETTERS[s])
            else:
                raise ValueError(
                    f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {s!r}"
                )
        return "".join(out)

    operands = list(args[0::2])
    terms = [letters(s) for s in args[1::2]]
    eq = ",".join(terms[: len(operands)])
    if len(args) % 2:  # an odd count: the last list is the output
        operands = operands[:-1]
        eq = ",".join(terms[: len(operands)]) + "->" + letters(args[-1])
    return eq, operands


def _from_the_left(tensors: tuple, subs: tuple[str, ...], out_subs: str) -> Tensor:
    """Three or more operands as torch's einsum takes them (without opt_einsum): the first two
    contracted, the result with the third, and so on, each pair one einsum node keeping the
    subscripts that a later operand or the output still needs. With an inf among the operands the
    order decides which sums meet inf - inf, so NumPy's cheapest order would give other NaNs; the
    gradients follow the same pairs, as torch's do."""
    acc, acc_subs = tensors[0], subs[0]
    for k in range(1, len(tensors)):
        later = set(out_subs).union(*subs[k + 1 :])
        kept = "".join(c for c in dict.fromkeys(acc_subs + subs[k]) if c in later)
        if k == len(tensors) - 1:
            kept = out_subs
        acc = einsum(f"{acc_subs},{subs[k]}->{kept}", acc, tensors[k])
        acc_subs = kept
    return acc


# one operand: a sum, diagonal or permutation, whose gradient reads only the operand's shape;
# torch saves nothing there (its path is permute / sum / diagonal), so an in-place change passes
_einsum_of_one = Op(_einsum.name, _einsum.backward, reads=((),), formula=_einsum.templates)
_einsum_of_one.node_name = _einsum.node_name


def einsum(equation, *operands) -> Tensor:
    """Einstein summation: the products and sums that ``equation`` names, differentiably.

    Parameters
    ----------
    equation : subscripts such as ``"ij,jk->ik"``; ``"..."`` stands for broadcast batch dims, and
        without ``"->"`` the output is the subscripts seen once, in alphabetical order.
    *operands : the tensors (or one list / tuple of them); torch's sublist form
        ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too.

    Returns
    -------
    Tensor of the operands' dtype; repeated subscripts take diagonals (``"ii->i"``), subscripts
    missing from the output are summed (``"ii->"`` is the trace).
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation, *operands))
    elif len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    tensors = tuple(as_tensor(o, "einsum") for o in operands)
    arrays = [t._data for t in tensors]
    shapes = [a.shape for a in arrays]
    subs, out_subs = _explicit(equation, shapes)
    _check_sizes(subs, shapes)
    if not arrays:
        raise RuntimeError("einsum(): must provide at least one operand")
    if len({a.dtype for a in arrays}) > 1:
        names = ", ".join(str(t.dtype) for t in tensors)
        raise RuntimeError(
            f"einsum(): all operands must have the same dtype, got {names}; "
            "convert them first, e.g. with .to(a.dtype)"
        )
    dt = arrays[0].dtype
    if len(tensors) > 2:  # torch contracts from the left, one pair at a time: so does this
        return _from_the_left(tensors, subs, out_subs)
    out = np.einsum(",".join(subs) + "->" + out_subs, *arrays, optimize=True)
    if type(out) is not np.ndarray or out.dtype != dt:
        out = as_array(out, dt)
    return make_result(out, _einsum if len(tensors) > 1 else _einsum_of_one, tensors, (subs, out_subs, dt))
