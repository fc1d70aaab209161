"""The same mistake raises the same type of exception in chainrule as in torch, never NumPy's.

Each case below is a bad call (shapes that do not broadcast, dims out of range, dtypes an op does
not take, indices out of bounds, integer overflow and division by zero, bad sizes for creation,
linear algebra and nn.functional) run in both libraries. chainrule must raise, with the built-in
exception type torch's exception derives from (torch's ``LinAlgError`` is a ``RuntimeError``, as
chainrule's is), with no exception class of NumPy's, and with a message that names the op and the
shapes where listed. Integer semantics (overflow, wrapping, division by zero) are compared value for
value, and NumPy's exceptions that leave an op are checked to arrive as torch's types, while
chainrule's own exceptions pass unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule


def T(lib, *shape):
    return lib.ones(*shape)


def F(lib):
    return lib.nn.functional


# (what, the bad call, what chainrule's message must mention)
CASES = [
    ("add", lambda L: T(L, 2, 3) + T(L, 4), ["add", "[2, 3]", "[4]"]),
    ("sub", lambda L: T(L, 2, 3) - T(L, 4), ["sub", "[2, 3]", "[4]"]),
    ("mul", lambda L: T(L, 2, 3) * T(L, 3, 2), ["mul", "[2, 3]", "[3, 2]"]),
    ("div", lambda L: T(L, 2, 3) / T(L, 4), ["div", "[2, 3]", "[4]"]),
    ("pow", lambda L: T(L, 2, 3) ** T(L, 4), ["pow", "[2, 3]", "[4]"]),
    ("floor_divide", lambda L: T(L, 2, 3) // T(L, 4), ["floor_divide", "[2, 3]", "[4]"]),
    ("remainder", lambda L: T(L, 2, 3) % T(L, 4), ["remainder", "[2, 3]", "[4]"]),
    ("fmod", lambda L: L.fmod(T(L, 2, 3), T(L, 4)), ["fmod", "[2, 3]", "[4]"]),
    ("maximum", lambda L: L.maximum(T(L, 2, 3), T(L, 4)), ["maximum", "[2, 3]", "[4]"]),
    ("minimum", lambda L: L.minimum(T(L, 2, 3), T(L, 4)), ["minimum", "[2, 3]", "[4]"]),
    ("atan2", lambda L: L.atan2(T(L, 2, 3), T(L, 4)), ["atan2", "[2, 3]", "[4]"]),
    ("hypot", lambda L: L.hypot(T(L, 2, 3), T(L, 4)), ["hypot", "[2, 3]", "[4]"]),
    ("eq", lambda L: T(L, 2, 3) == T(L, 4), ["eq", "[2, 3]", "[4]"]),
    ("lt", lambda L: T(L, 2, 3) < T(L, 4), ["lt", "[2, 3]", "[4]"]),
    ("logical_and", lambda L: L.logical_and(T(L, 2, 3), T(L, 4)), ["logical_and", "[2, 3]", "[4]"]),
    (
        "bitwise_and",
        lambda L: L.ones(2, 3, dtype=L.int64) & L.ones(4, dtype=L.int64),
        ["bitwise_and", "[2, 3]", "[4]"],
    ),
    ("where", lambda L: L.where(T(L, 2, 3) > 0, T(L, 4), T(L, 2, 3)), ["where", "[2, 3]", "[4]"]),
    ("lerp", lambda L: L.lerp(T(L, 2, 3), T(L, 4), 0.5), ["[4]", "[2, 3]"]),
    ("addcmul", lambda L: L.addcmul(T(L, 2, 3), T(L, 4), T(L, 2, 3)), ["[4]", "[2, 3]"]),
    ("clamp", lambda L: L.clamp(T(L, 2, 3), min=T(L, 4)), ["[2, 3]", "[4]"]),
    (
        "masked_fill",
        lambda L: T(L, 2, 3).masked_fill(L.ones(4, dtype=L.bool), 0.0),
        ["masked_fill", "[4]", "[2, 3]"],
    ),
    ("copysign", lambda L: L.copysign(T(L, 2, 3), T(L, 4)), ["copysign", "[2, 3]", "[4]"]),
    ("xlogy", lambda L: L.xlogy(T(L, 2, 3), T(L, 4)), ["xlogy", "[2, 3]", "[4]"]),
    ("add_", lambda L: T(L, 3).add_(T(L, 2, 3)), ["add_", "[3]", "[2, 3]"]),
    ("mul_", lambda L: T(L, 3).mul_(T(L, 2, 3)), ["mul_", "[3]", "[2, 3]"]),
    ("sub_ mismatch", lambda L: T(L, 2, 3).sub_(T(L, 4)), ["[2, 3]", "[4]"]),
    ("copy_", lambda L: T(L, 3).copy_(T(L, 4)), ["copy_", "[4]", "[3]"]),
    ("iadd", lambda L: T(L, 3).__iadd__(T(L, 2, 3)), ["[3]", "[2, 3]"]),
    ("clamp_", lambda L: T(L, 3).clamp_(min=T(L, 2, 3)), ["clamp_", "[3]", "[2, 3]"]),
    (
        "masked_fill_",
        lambda L: T(L, 3).masked_fill_(L.ones(2, 3, dtype=L.bool), 0.0),
        ["masked_fill_", "[3]", "[2, 3]"],
    ),
    ("neg bool", lambda L: -L.tensor([True, False]), []),
    ("sub bool", lambda L: L.tensor([True]) - L.tensor([False]), ["sub"]),
    ("bitwise_not float", lambda L: ~T(L, 2), []),
    ("bitwise_and float", lambda L: T(L, 2) & T(L, 2), ["bitwise_and"]),
    ("lshift float", lambda L: T(L, 2) << 1, []),
    ("int pow negative", lambda L: L.tensor([2]) ** -1, ["int"]),
    ("floor_divide bool", lambda L: L.tensor([True]) // L.tensor([True]), ["floor_divide"]),
    ("add str", lambda L: T(L, 2) + "a", []),
    ("tensor of str", lambda L: L.tensor("abc"), ["tensor"]),
    ("tensor ragged", lambda L: L.tensor([[1, 2], [3]]), ["tensor"]),
    ("mean int", lambda L: L.tensor([1, 2]).mean(), ["mean"]),
    ("matmul int float", lambda L: L.ones(2, 2, dtype=L.int64) @ T(L, 2, 2), ["matmul"]),
    ("sqrt of bool", lambda L: L.tensor([True]).sqrt_(), ["sqrt"]),
    ("exp_ int", lambda L: L.tensor([1, 2]).exp_(), ["exp_"]),
    ("add_ float into int", lambda L: L.tensor([1, 2]).add_(1.5), ["add_"]),
    ("index float", lambda L: T(L, 3)[L.tensor([0.0])], []),
    ("tensor 2**63", lambda L: L.tensor([1, 2**63]), ["tensor"]),
    ("tensor -2**63-1", lambda L: L.tensor([-(2**63) - 1]), ["tensor"]),
    ("floor_divide by 0", lambda L: L.tensor([1, 2]) // 0, ["ZeroDivisionError"]),
    ("remainder by 0", lambda L: L.tensor([1, 2]) % L.tensor([0, 1]), ["ZeroDivisionError"]),
    ("fmod by 0", lambda L: L.fmod(L.tensor([1, 2]), 0), ["ZeroDivisionError"]),
    ("div floor by 0", lambda L: L.div(L.tensor([1, 2]), 0, rounding_mode="floor"), ["ZeroDivisionError"]),
    (
        "div trunc by 0",
        lambda L: L.div(L.tensor([1, 2]), L.tensor([0, 0]), rounding_mode="trunc"),
        ["ZeroDivisionError"],
    ),
    ("full 2**63", lambda L: L.full((2,), 2**63), ["full"]),
    ("permute dup", lambda L: T(L, 2, 3).permute(0, 0), ["permute", "(0, 0)", "(2, 3)"]),
    ("permute len", lambda L: T(L, 2, 3).permute(0), ["permute", "(2, 3)", "(0,)"]),
    ("permute range", lambda L: T(L, 2, 3).permute(0, 5), ["permute"]),
    ("view size", lambda L: T(L, 6).view(4), ["view", "[4]", "(6,)"]),
    ("view stride", lambda L: T(L, 2, 3).t().view(6), ["view", "[6]", "(3, 2)"]),
    ("view two -1", lambda L: T(L, 6).view(-1, -1), ["view"]),
    ("reshape size", lambda L: T(L, 6).reshape(4), ["reshape", "[4]", "(6,)"]),
    ("reshape -1 impossible", lambda L: T(L, 6).reshape(-1, 4), ["reshape"]),
    ("reshape negative", lambda L: T(L, 6).reshape(-2, 3), ["reshape", "(6,)"]),
    ("expand", lambda L: T(L, 2, 3).expand(4, 3), ["expand", "[4, 3]", "[2, 3]"]),
    ("expand fewer dims", lambda L: T(L, 2, 3).expand(3), ["expand", "(1)", "(2)"]),
    ("expand_as", lambda L: T(L, 2, 3).expand_as(T(L, 4, 3)), ["[4, 3]", "[2, 3]"]),
    ("broadcast_to", lambda L: L.broadcast_to(T(L, 2, 3), (3, 3)), ["[3, 3]", "[2, 3]"]),
    (
        "broadcast_tensors",
        lambda L: L.broadcast_tensors(T(L, 2, 3), T(L, 4)),
        ["broadcast_tensors", "(3)", "(4)"],
    ),
    ("transpose range", lambda L: T(L, 2, 3).transpose(0, 2), ["transpose"]),
    ("t 3-D", lambda L: T(L, 2, 3, 4).t(), ["t"]),
    ("squeeze range", lambda L: T(L, 2, 3).squeeze(3), ["squeeze"]),
    ("unsqueeze range", lambda L: T(L, 2, 3).unsqueeze(4), ["unsqueeze"]),
    ("flatten range", lambda L: T(L, 2, 3).flatten(0, 3), ["flatten"]),
    ("flatten order", lambda L: T(L, 2, 3, 4).flatten(2, 1), ["flatten"]),
    ("unflatten", lambda L: T(L, 6).unflatten(0, (4, 2)), ["unflatten", "[4, 2]", "(6,)"]),
    ("movedim dup", lambda L: L.movedim(T(L, 2, 3), (0, 0), (0, 1)), ["(2, 3)", "[0, 0]"]),
    ("flip dup", lambda L: L.flip(T(L, 2, 3), (0, 0)), ["flip", "(0, 0)"]),
    ("roll dims", lambda L: L.roll(T(L, 2, 3), (1, 2), (0,)), ["roll"]),
    ("repeat fewer", lambda L: T(L, 2, 3).repeat(2), ["repeat", "(1)", "(2, 3)"]),
    ("repeat negative", lambda L: T(L, 2, 3).repeat(2, -1), ["repeat"]),
    ("narrow long", lambda L: T(L, 3).narrow(0, 2, 5), ["(2)", "(5)"]),
    ("narrow dim", lambda L: T(L, 3).narrow(1, 0, 1), ["narrow"]),
    ("select range", lambda L: T(L, 3).select(0, 5), ["select", "[3]"]),
    ("select dim", lambda L: T(L, 3).select(1, 0), ["select"]),
    ("split zero", lambda L: T(L, 4).split(0), ["split"]),
    ("split sizes", lambda L: T(L, 4).split([1, 2]), ["split", "[1, 2]"]),
    ("chunk zero", lambda L: T(L, 4).chunk(0), ["chunk"]),
    ("unbind range", lambda L: T(L, 4).unbind(1), ["unbind"]),
    ("diagonal dims", lambda L: T(L, 2, 3).diagonal(0, 0, 0), ["diagonal"]),
    ("unfold size", lambda L: T(L, 3).unfold(0, 5, 1), ["unfold"]),
    ("unfold step", lambda L: T(L, 3).unfold(0, 2, 0), ["unfold"]),
    ("as_strided", lambda L: L.as_strided(T(L, 4), (3,), (4,)), ["as_strided", "[3]", "[4]"]),
    ("tile negative", lambda L: T(L, 2).tile((-1,)), []),
    ("swapaxes range", lambda L: T(L, 2).swapaxes(0, 1), []),
    ("diag 3-D", lambda L: L.diag(T(L, 2, 2, 2)), ["diag", "(2, 2, 2)"]),
    ("trace 3-D", lambda L: L.trace(T(L, 2, 2, 2)), ["trace", "(2, 2, 2)"]),
    ("tril 1-D", lambda L: L.tril(T(L, 3)), ["tril"]),
    ("triu 1-D", lambda L: L.triu(T(L, 3)), ["triu"]),
    ("cat shapes", lambda L: L.cat([T(L, 2, 3), T(L, 2, 4)]), ["cat", "(2, 3)", "(2, 4)"]),
    ("cat ndim", lambda L: L.cat([T(L, 2, 3), T(L, 3)]), ["cat", "(2, 3)", "(3,)"]),
    ("cat dim", lambda L: L.cat([T(L, 2, 3), T(L, 2, 3)], dim=2), ["cat"]),
    ("cat empty list", lambda L: L.cat([]), ["cat"]),
    ("cat scalars", lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)]), ["cat"]),
    ("stack shapes", lambda L: L.stack([T(L, 2, 3), T(L, 3, 2)]), ["stack", "[2, 3]", "[3, 2]"]),
    ("stack dim", lambda L: L.stack([T(L, 2), T(L, 2)], dim=3), ["stack"]),
    ("stack empty", lambda L: L.stack([]), ["stack"]),
    ("hstack shapes", lambda L: L.hstack([T(L, 2, 3), T(L, 3, 3)]), ["(2, 3)", "(3, 3)"]),
    ("vstack shapes", lambda L: L.vstack([T(L, 2, 3), T(L, 2, 4)]), ["(2, 3)", "(2, 4)"]),
    ("dstack shapes", lambda L: L.dstack([T(L, 2, 3), T(L, 3, 3)]), ["(2, 3, 1)", "(3, 3, 1)"]),
    ("column_stack", lambda L: L.column_stack([T(L, 2), T(L, 3)]), ["(2, 1)", "(3, 1)"]),
    ("index int", lambda L: T(L, 3)[5], ["index", "(3,)"]),
    ("index negative", lambda L: T(L, 3)[-4], ["index", "(3,)"]),
    ("index too many", lambda L: T(L, 2, 3)[0, 0, 0], ["index", "(2, 3)"]),
    ("index tensor", lambda L: T(L, 3)[L.tensor([5])], ["index", "(3,)"]),
    ("index tensor negative", lambda L: T(L, 3)[L.tensor([-4])], ["index", "(3,)"]),
    ("index bool mask shape", lambda L: T(L, 3)[L.tensor([True, False])], ["index", "(3,)"]),
    (
        "index two tensors",
        lambda L: T(L, 3, 3)[L.tensor([0, 1]), L.tensor([0, 1, 2])],
        ["index", "(2,)", "(3,)"],
    ),
    ("setitem shape", lambda L: T(L, 3, 2).__setitem__(slice(0, 2), T(L, 3)), ["setitem", "(3,)", "[3, 2]"]),
    ("setitem range", lambda L: T(L, 3).__setitem__(5, 1.0), []),
    ("setitem tensor range", lambda L: T(L, 3).__setitem__(L.tensor([7]), 1.0), []),
    ("index_select range", lambda L: L.index_select(T(L, 3), 0, L.tensor([3])), ["index_select", "(3,)"]),
    ("index_select dim", lambda L: L.index_select(T(L, 3), 1, L.tensor([0])), ["index_select"]),
    ("index_select float index", lambda L: L.index_select(T(L, 3), 0, L.tensor([0.0])), ["index_select"]),
    ("gather range", lambda L: L.gather(T(L, 2, 3), 1, L.tensor([[3]])), ["gather"]),
    ("gather ndim", lambda L: L.gather(T(L, 2, 3), 1, L.tensor([0])), ["gather", "(1,)", "(2, 3)"]),
    ("scatter range", lambda L: L.zeros(3).scatter(0, L.tensor([5]), T(L, 1)), ["scatter"]),
    ("scatter_add range", lambda L: L.zeros(3).scatter_add(0, L.tensor([5]), T(L, 1)), ["scatter_add"]),
    (
        "index_add shape",
        lambda L: L.zeros(3, 2).index_add(0, L.tensor([0]), T(L, 1, 3)),
        ["index_add", "[3, 2]", "[1, 3]"],
    ),
    ("index_add range", lambda L: L.zeros(3).index_add(0, L.tensor([5]), T(L, 1)), ["index_add", "(3,)"]),
    ("index_copy range", lambda L: L.zeros(3).index_copy(0, L.tensor([5]), T(L, 1)), ["index_copy", "(3,)"]),
    ("index_fill range", lambda L: L.zeros(3).index_fill(0, L.tensor([5]), 1.0), ["index_fill", "(3,)"]),
    (
        "index_put range",
        lambda L: L.zeros(3).index_put((L.tensor([5]),), L.tensor(1.0)),
        ["index_put", "(3,)"],
    ),
    ("take range", lambda L: L.take(T(L, 2, 2), L.tensor([4])), ["take"]),
    (
        "masked_select shape",
        lambda L: L.masked_select(T(L, 3), L.ones(2, 2, dtype=L.bool)),
        ["masked_select", "[2, 2]", "[3]"],
    ),
    (
        "masked_scatter",
        lambda L: T(L, 3).masked_scatter(L.ones(3, dtype=L.bool), T(L, 2)),
        ["masked_scatter"],
    ),
    ("embedding range", lambda L: F(L).embedding(L.tensor([5]), T(L, 3, 2)), ["embedding"]),
    ("one_hot range", lambda L: F(L).one_hot(L.tensor([5]), 3), ["one_hot"]),
    ("sum dim", lambda L: T(L, 2, 3).sum(2), ["sum"]),
    ("sum dims dup", lambda L: T(L, 2, 3).sum((0, 0)), ["sum", "(0, 0)"]),
    ("mean dim", lambda L: T(L, 2, 3).mean(-3), ["mean"]),
    ("max dim", lambda L: T(L, 2, 3).max(2), ["max"]),
    ("argmax dim", lambda L: T(L, 2, 3).argmax(2), ["argmax"]),
    ("cumsum dim", lambda L: T(L, 2, 3).cumsum(2), ["cumsum"]),
    ("prod dim", lambda L: T(L, 2, 3).prod(2), ["prod"]),
    ("softmax dim", lambda L: T(L, 2, 3).softmax(2), ["softmax"]),
    ("log_softmax dim", lambda L: F(L).log_softmax(T(L, 2, 3), 2), ["log_softmax"]),
    ("sort dim", lambda L: T(L, 2, 3).sort(2), ["sort"]),
    ("topk k", lambda L: T(L, 3).topk(4), ["topk", "(3,)"]),
    ("kthvalue k", lambda L: T(L, 3).kthvalue(4), ["kthvalue"]),
    ("std dim", lambda L: T(L, 2, 3).std(2), ["std"]),
    ("norm dim", lambda L: T(L, 2, 3).norm(dim=2), ["norm"]),
    ("logsumexp dim", lambda L: T(L, 2, 3).logsumexp(2), ["logsumexp"]),
    ("all dim", lambda L: T(L, 2, 3).all(2), ["all"]),
    ("median dim", lambda L: T(L, 2, 3).median(2), ["median"]),
    ("quantile range", lambda L: L.quantile(T(L, 3), 1.5), ["quantile", "[0, 1]"]),
    ("max of empty", lambda L: L.ones(0).max(), ["max"]),
    ("argmax of empty", lambda L: L.ones(0).argmax(), ["argmax"]),
    ("matmul", lambda L: T(L, 2, 3) @ T(L, 4, 5), ["matmul", "(2, 3)", "(4, 5)"]),
    ("matmul batch", lambda L: T(L, 2, 2, 3) @ T(L, 3, 3, 4), ["matmul", "(2, 2, 3)", "(3, 3, 4)"]),
    ("matmul 0-d", lambda L: L.tensor(1.0) @ T(L, 2), ["matmul", "(2,)"]),
    ("mm 1-D", lambda L: L.mm(T(L, 3), T(L, 3, 2)), ["mm", "(3,)", "(3, 2)"]),
    ("mm shapes", lambda L: L.mm(T(L, 2, 3), T(L, 2, 3)), ["mm", "(2, 3)"]),
    ("bmm 2-D", lambda L: L.bmm(T(L, 2, 3), T(L, 3, 2)), ["bmm", "(2, 3)", "(3, 2)"]),
    ("bmm batch", lambda L: L.bmm(T(L, 2, 2, 3), T(L, 3, 3, 2)), ["bmm", "(2, 2, 3)", "(3, 3, 2)"]),
    ("mv shapes", lambda L: L.mv(T(L, 2, 3), T(L, 2)), ["mv", "(2, 3)", "(2,)"]),
    ("dot sizes", lambda L: L.dot(T(L, 3), T(L, 4)), ["dot", "[3]", "[4]"]),
    ("dot 2-D", lambda L: L.dot(T(L, 3, 3), T(L, 3)), ["dot", "(3, 3)", "(3,)"]),
    ("outer 2-D", lambda L: L.outer(T(L, 2, 2), T(L, 2)), ["outer", "(2, 2)", "(2,)"]),
    ("addmm shapes", lambda L: L.addmm(T(L, 2, 2), T(L, 2, 3), T(L, 4, 2)), ["(2, 3)", "(4, 2)"]),
    (
        "baddbmm shapes",
        lambda L: L.baddbmm(T(L, 1, 2, 2), T(L, 1, 2, 3), T(L, 1, 4, 2)),
        ["(1, 2, 3)", "(1, 4, 2)"],
    ),
    ("einsum equation", lambda L: L.einsum("ij,jk->ik", T(L, 2, 3), T(L, 4, 5)), ["einsum", "(4, 5)"]),
    ("einsum operands", lambda L: L.einsum("ij,jk->ik", T(L, 2, 3)), ["einsum"]),
    ("tensordot", lambda L: L.tensordot(T(L, 2, 3), T(L, 4, 5), dims=1), ["[3, 5]", "(4, 5)"]),
    ("kron", lambda L: L.kron(T(L, 2), "a"), ["kron"]),
    ("cross size", lambda L: L.linalg.cross(T(L, 4), T(L, 4)), ["cross"]),
    ("cross shapes", lambda L: L.linalg.cross(T(L, 2, 3), T(L, 4, 3)), ["cross", "(2, 3)", "(4, 3)"]),
    ("inv non-square", lambda L: L.linalg.inv(T(L, 2, 3)), ["inv", "(2, 3)"]),
    ("inv 1-D", lambda L: L.linalg.inv(T(L, 3)), ["inv", "(3,)"]),
    ("inv singular", lambda L: L.linalg.inv(L.zeros(2, 2)), ["inv"]),
    ("det non-square", lambda L: L.linalg.det(T(L, 2, 3)), ["det", "(2, 3)"]),
    ("solve shapes", lambda L: L.linalg.solve(L.eye(2), T(L, 3)), ["solve"]),
    ("solve singular", lambda L: L.linalg.solve(L.zeros(2, 2), T(L, 2)), ["solve"]),
    ("cholesky not pd", lambda L: L.linalg.cholesky(-L.eye(2)), ["cholesky"]),
    ("cholesky non-square", lambda L: L.linalg.cholesky(T(L, 2, 3)), ["cholesky", "(2, 3)"]),
    ("eigh non-square", lambda L: L.linalg.eigh(T(L, 2, 3)), ["eigh", "(2, 3)"]),
    ("qr 1-D", lambda L: L.linalg.qr(T(L, 3)), ["qr", "(3,)"]),
    ("svd 1-D", lambda L: L.linalg.svd(T(L, 3)), ["svd", "(3,)"]),
    ("norm ord", lambda L: L.linalg.norm(T(L, 2, 3, 4), ord="fro"), ["norm"]),
    ("vector_norm dim", lambda L: L.linalg.vector_norm(T(L, 3), dim=1), ["vector_norm"]),
    ("matrix_power non-square", lambda L: L.linalg.matrix_power(T(L, 2, 3), 2), ["matrix_power", "(2, 3)"]),
    ("pinv 1-D", lambda L: L.linalg.pinv(T(L, 3)), ["pinv", "[3]"]),
    ("lstsq shapes", lambda L: L.linalg.lstsq(T(L, 3, 2), T(L, 4, 1)), ["lstsq", "(3, 2)", "(4, 1)"]),
    ("triangular_solve", lambda L: L.linalg.solve_triangular(L.eye(2), T(L, 3, 1), upper=True), []),
    ("linear", lambda L: F(L).linear(T(L, 2, 3), T(L, 4, 5)), ["linear", "(2, 3)", "(4, 5)"]),
    ("linear bias", lambda L: F(L).linear(T(L, 2, 3), T(L, 4, 3), T(L, 5)), ["linear", "(5,)", "(4)"]),
    (
        "conv2d channels",
        lambda L: F(L).conv2d(T(L, 1, 3, 5, 5), T(L, 2, 4, 3, 3)),
        ["conv2d", "(2, 4, 3, 3)", "(1, 3, 5, 5)"],
    ),
    ("conv2d ndim", lambda L: F(L).conv2d(T(L, 5, 5), T(L, 2, 1, 3, 3)), ["conv2d", "(5, 5)"]),
    ("conv2d kernel big", lambda L: F(L).conv2d(T(L, 1, 1, 2, 2), T(L, 1, 1, 3, 3)), ["conv2d"]),
    (
        "conv1d groups",
        lambda L: F(L).conv1d(T(L, 1, 3, 5), T(L, 2, 1, 3), groups=2),
        ["conv1d", "(2, 1, 3)", "(1, 3, 5)"],
    ),
    (
        "conv_transpose2d channels",
        lambda L: F(L).conv_transpose2d(T(L, 1, 3, 5, 5), T(L, 2, 4, 3, 3)),
        ["conv_transpose2d", "(2, 4, 3, 3)", "(1, 3, 5, 5)"],
    ),
    ("max_pool2d kernel big", lambda L: F(L).max_pool2d(T(L, 1, 1, 2, 2), 3), ["max_pool2d"]),
    ("max_pool2d padding", lambda L: F(L).max_pool2d(T(L, 1, 1, 4, 4), 2, padding=2), ["max_pool2d"]),
    ("avg_pool2d kernel big", lambda L: F(L).avg_pool2d(T(L, 1, 1, 2, 2), 3), ["avg_pool2d"]),
    ("batch_norm shape", lambda L: F(L).batch_norm(T(L, 2, 3), T(L, 4), T(L, 4)), ["batch_norm", "(4,)"]),
    ("layer_norm shape", lambda L: F(L).layer_norm(T(L, 2, 3), (4,)), ["layer_norm", "[4]", "[2, 3]"]),
    ("group_norm groups", lambda L: F(L).group_norm(T(L, 2, 3, 4), 2), ["group_norm", "(2, 3, 4)"]),
    ("cross_entropy target", lambda L: F(L).cross_entropy(T(L, 2, 3), L.tensor([0, 5])), []),
    ("cross_entropy shapes", lambda L: F(L).cross_entropy(T(L, 2, 3), L.tensor([0, 1, 2])), ["(2)", "(3)"]),
    ("nll_loss target", lambda L: F(L).nll_loss(T(L, 2, 3), L.tensor([0, 5])), ["nll_loss"]),
    ("nll_loss float target", lambda L: F(L).nll_loss(T(L, 2, 3), T(L, 2)), ["nll_loss"]),
    ("bce shapes", lambda L: F(L).binary_cross_entropy(T(L, 2) * 0.5, T(L, 3)), ["[3]", "[2]"]),
    ("bce range", lambda L: F(L).binary_cross_entropy(T(L, 2) * 2, T(L, 2)), []),
    ("l1_loss shapes", lambda L: F(L).l1_loss(T(L, 2, 3), T(L, 4)), ["[2, 3]", "[4]"]),
    ("pad odd", lambda L: F(L).pad(T(L, 2, 3), (1,)), []),
    ("pad too many", lambda L: F(L).pad(T(L, 2), (1, 1, 1, 1)), ["pad"]),
    (
        "pad reflect big",
        lambda L: F(L).pad(T(L, 1, 1, 3), (3, 3), mode="reflect"),
        ["pad", "(3, 3)", "[1, 1, 3]"],
    ),
    ("interpolate size", lambda L: F(L).interpolate(T(L, 1, 1, 4), size=(2, 2)), ["[4]", "[2, 2]"]),
    ("dropout p", lambda L: F(L).dropout(T(L, 3), p=1.5), ["dropout"]),
    ("softmax no dim bad", lambda L: F(L).softmax(T(L, 3), dim=3), ["softmax"]),
    ("embedding float index", lambda L: F(L).embedding(L.tensor([0.0]), T(L, 3, 2)), ["embedding"]),
    ("unfold im2col", lambda L: F(L).unfold(T(L, 1, 1, 2, 2), 3), ["(2, 2)", "(3, 3)"]),
    ("pixel_shuffle", lambda L: F(L).pixel_shuffle(T(L, 1, 3, 2, 2), 2), ["pixel_shuffle"]),
    (
        "multi_head shapes",
        lambda L: F(L).scaled_dot_product_attention(T(L, 1, 2, 3), T(L, 1, 2, 4), T(L, 1, 2, 4)),
        ["[1, 2, 3]", "[1, 2, 4]"],
    ),
    ("zeros negative", lambda L: L.zeros(-1), []),
    ("ones negative", lambda L: L.ones(2, -3), []),
    ("arange step 0", lambda L: L.arange(0, 10, 0), ["arange"]),
    ("arange sign", lambda L: L.arange(0, 10, -1), ["arange"]),
    ("linspace steps", lambda L: L.linspace(0, 1, -1), ["linspace"]),
    ("eye negative", lambda L: L.eye(-1), ["eye"]),
    ("randint range", lambda L: L.randint(5, 2, (3,)), ["randint"]),
    ("randn negative", lambda L: L.randn(-1), []),
    ("empty negative", lambda L: L.empty(-2), []),
    ("multinomial", lambda L: L.multinomial(L.tensor([-1.0, 1.0]), 1), ["multinomial"]),
    ("normal std", lambda L: L.normal(L.zeros(2), L.tensor([-1.0, 1.0])), ["normal"]),
    ("float()", lambda L: float(T(L, 2)), ["[2]"]),
    ("int()", lambda L: int(T(L, 2)), ["[2]"]),
    ("bool()", lambda L: bool(T(L, 2)), []),
    ("index()", lambda L: [1, 2, 3][T(L, 2).long()], []),
    ("len 0-d", lambda L: len(L.tensor(1.0)), ["len"]),
    ("iter 0-d", lambda L: iter(L.tensor(1.0)), ["iter"]),
    ("to device", lambda L: T(L, 2).to("nodevice"), []),
    ("type bad", lambda L: T(L, 2).type("nothing"), ["type"]),
]


def _raised(lib, call) -> BaseException | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (deprecation warnings of the bad call itself)
            call(lib)
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return e
    return None


def _builtin_base(error: BaseException) -> type:
    return next(k for k in type(error).__mro__ if k.__module__ == "builtins")


@pytest.mark.parametrize(("what", "call", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_bad_call_raises_torchs_exception_type(what, call, fragments) -> None:
    theirs, ours = _raised(torch, call), _raised(chainrule, call)
    assert theirs is not None, f"{what}: torch raised nothing (the case is wrong)"
    assert ours is not None, f"{what}: chainrule raised nothing; torch raised {theirs!r}"
    assert type(ours).__module__.partition(".")[0] != "numpy", f"{what}: NumPy's {ours!r}"
    assert _builtin_base(ours) is _builtin_base(theirs), (
        f"{what}: chainrule raised {type(ours).__name__}: {ours}; torch {type(theirs).__name__}: {theirs}"
    )
    missing = [f for f in fragments if f not in str(ours)]
    assert not missing, f"{what}: message {str(ours)!r} does not mention {missing}"


# ---- integer semantics, value for value -----------------------------------------------------------
INTEGER_PROGRAMS = [
    ("add wraps", lambda L: L.tensor([2**63 - 1]) + 1),
    ("add wraps 0-d", lambda L: L.tensor(2**63 - 1) + 1),
    ("mul wraps", lambda L: L.tensor([2**62]) * L.tensor([4])),
    ("mul wraps 0-d", lambda L: L.tensor(2**62) * 4),
    ("int8 add wraps", lambda L: L.tensor([127], dtype=L.int8) + 1),
    ("int8 0-d add wraps", lambda L: L.tensor(127, dtype=L.int8) + L.tensor(1, dtype=L.int8)),
    ("uint8 sub wraps", lambda L: L.tensor([0], dtype=L.uint8) - 1),
    ("neg of int64 min", lambda L: -L.tensor([-(2**63)])),
    ("abs of int64 min", lambda L: L.abs(L.tensor([-(2**63)]))),
    ("sum wraps", lambda L: L.tensor([2**62, 2**62, 2**62]).sum()),
    ("cumsum wraps", lambda L: L.tensor([2**62, 2**62, 2**62]).cumsum(0)),
    ("pow wraps", lambda L: L.tensor([10]) ** 30),
    ("int64 min // -1", lambda L: L.tensor([-(2**63)]) // -1),
    ("floor_divide negative", lambda L: L.tensor([-7, 7]) // L.tensor([2, -2])),
    ("remainder negative", lambda L: L.tensor([-7, 7]) % L.tensor([2, -2])),
    ("fmod negative", lambda L: L.fmod(L.tensor([-7, 7]), L.tensor([2, -2]))),
    ("div trunc", lambda L: L.div(L.tensor([-7, 7]), 2, rounding_mode="trunc")),
    ("float // 0", lambda L: L.tensor([1.0, -1.0, 0.0]) // 0),
    ("float % 0", lambda L: L.tensor([1.0, -1.0]) % 0.0),
    ("true div of ints by 0", lambda L: L.tensor([1, -1, 0]) / 0),
    ("tensor int64 max", lambda L: L.tensor([2**63 - 1, -(2**63)])),
    ("tensor of a big int as float64", lambda L: L.tensor([1, 2**63], dtype=L.float64)),
    ("tensor of a huge int as float32", lambda L: L.tensor([2**70], dtype=L.float32)),
    ("tensor of floats and a huge int", lambda L: L.tensor([1.5, 2**70])),
    ("tensor -1 as uint8", lambda L: L.tensor([-1, -255], dtype=L.uint8)),
    ("tensor floats truncated to int8", lambda L: L.tensor([2.7, -3.7], dtype=L.int8)),
]


@pytest.mark.parametrize(("what", "program"), INTEGER_PROGRAMS, ids=[p[0] for p in INTEGER_PROGRAMS])
def test_integer_semantics_match_torch(what, program) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # torch is silent: so is chainrule
        ours = program(chainrule)
    theirs = program(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], what
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=what)


@pytest.mark.parametrize("data", [[1, 2**63], [-(2**63) - 1], 2**63, [[1], [2**64]], [True, 2**63]], ids=str)
def test_python_ints_beyond_int64_raise_torchs_overflow(data) -> None:
    with pytest.raises(ValueError, match="Overflow when unpacking long long") as theirs:
        torch.tensor(data)
    with pytest.raises(ValueError, match="Overflow when unpacking long long") as ours:
        chainrule.tensor(data)
    assert type(ours.value) is type(theirs.value)


@pytest.mark.parametrize(
    ("data", "dtype"), [([300], "int8"), ([1e19], "int64"), ([float("nan")], "int64"), ([-256], "uint8")]
)
def test_values_an_integer_dtype_cannot_hold_raise(data, dtype) -> None:
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match=f"cannot be converted to type {dtype}"):
            lib.tensor(data, dtype=getattr(lib, dtype))


# ---- the op boundary: NumPy's exceptions as torch's, chainrule's own unchanged ----------------------
def test_numpy_error_inside_an_op_arrives_as_torchs_type_naming_the_op() -> None:
    """``full`` passes a Python int beyond int64 to NumPy, which raises OverflowError; torch
    raises RuntimeError. The translation names the op and keeps NumPy's error as the cause."""
    with pytest.raises(RuntimeError):
        torch.full((2,), 2**63)
    with pytest.raises(RuntimeError, match="full") as info:
        chainrule.full((2,), 2**63)
    assert isinstance(info.value.__cause__, OverflowError)


def test_chainrules_own_value_errors_pass_unchanged() -> None:
    """A ValueError chainrule raises on purpose (torch's type for it) is not translated."""
    for lib in (torch, chainrule):
        with pytest.raises(ValueError, match="dropout probability"):
            lib.nn.functional.dropout(lib.ones(3), p=1.5)
