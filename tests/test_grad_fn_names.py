"""grad_fn as torch shows it: node class names, ``name()``, ``repr``, ``next_functions`` (order,
length, ``None`` for inputs that need no grad, ``AccumulateGrad`` with ``.variable`` for leaves),
checked against torch itself.

- Every op spec (tests/specs) runs once in both libraries; each output's node must have torch's
  name, except for the (chainrule name, torch name) pairs listed below, where chainrule records
  another node than torch does on purpose (see docs/differences.md, "grad_fn names"). The
  expected names always come from running torch here.
- The chains tutorials print (nn.Linear, MSELoss, CrossEntropyLoss, activations, x ** 2, sum,
  mean, mm, view, t(), Conv2d, custom Functions) are compared node by node with torch's.
"""

from __future__ import annotations

import gc
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import _outputs, _tensors, make_inputs
from specs import all_specs

import chainrule

# ---- where chainrule's node is not torch's, on purpose ------------------------------------------
# (ours, torch's) name pairs. torch numbers overloads (fmod(Tensor) is FmodBackward1,
# fmod(Scalar) FmodBackward0); chainrule has one op for both:
NUMBERED = {
    ("DivBackward0", "DivBackward1"),
    ("FmodBackward0", "FmodBackward1"),
    ("IndexFillBackward0", "IndexFillBackward1"),
    ("MaskedFillBackward0", "MaskedFillBackward1"),
    ("ProdBackward0", "ProdBackward1"),
    ("RemainderBackward0", "RemainderBackward1"),
    ("RoundBackward0", "RoundBackward1"),
    ("ScatterBackward0", "ScatterBackward1"),
    ("SortBackward0", "SortBackward1"),
    ("SqueezeBackward1", "SqueezeBackward4"),
}

# torch's in-place writes into views (CopySlices) and its multi-output views (unbind, split):
# chainrule records the write (or each part) as its own op
VIEWS = {
    ("AddBackward0", "CopyBackwards"),
    ("CopySlicesBackward0", "CopySlices"),
    ("HeavisideBackward0", "NotImplemented"),
    ("IndexPutBackward0", "CopySlices"),
    ("SelectBackward0", "UnbindBackward0"),
    ("SliceBackward0", "SplitBackward0"),
    ("SliceBackward0", "SplitWithSizesBackward0"),
    ("WhereBackward0", "CopySlices"),
}

# a function run under vmap ends in chainrule's batch-dim node
VMAP = {
    ("RemoveBatchDimBackward0", "ExpandBackward0"),
    ("RemoveBatchDimBackward0", "MulBackward0"),
    ("RemoveBatchDimBackward0", "PermuteBackward0"),
    ("RemoveBatchDimBackward0", "SinBackward0"),
    ("RemoveBatchDimBackward0", "SumBackward1"),
}

# torch has a fused op (addmm, lerp, binary_cross_entropy, the outputs of linalg decompositions,
# einsum's contraction path, ...) where chainrule composes the function from its ops: the last
# node is that of chainrule's last op
COMPOSED = {
    ("AddBackward0", "AddbmmBackward0"),
    ("AddBackward0", "AddcdivBackward0"),
    ("AddBackward0", "AddcmulBackward0"),
    ("AddBackward0", "AddmmBackward0"),
    ("AddBackward0", "AddmvBackward0"),
    ("AddBackward0", "AddrBackward0"),
    ("AddBackward0", "BaddbmmBackward0"),
    ("AddBackward0", "LerpBackward0"),
    ("AddBackward0", "LerpBackward1"),
    ("AddBackward0", "LinalgSlogdetBackward0"),
    ("AddBackward0", "MvlgammaBackward0"),
    ("AmaxBackward0", "AminmaxBackward0"),
    ("AminBackward0", "AminmaxBackward0"),
    ("AvgPool2DBackward0", "AdaptiveAvgPool2DBackward0"),
    ("CatBackward0", "BlockDiagBackward0"),
    ("CatBackward0", "OrmqrBackward0"),
    ("ClampBackward1", "ClampMinBackward0"),
    ("CloneBackward0", "DiagonalBackward0_copy"),
    ("CloneBackward0", "LinalgInvExBackward0"),
    ("CopySlicesBackward0", "SelectScatterBackward0"),
    ("CopySlicesBackward0", "SliceScatterBackward0"),
    ("CumprodBackward0", "CatBackward0"),
    ("CumsumBackward0", "DivBackward1"),
    ("DivBackward0", "EmbeddingBagBackward0"),
    ("DistanceBackward0", "CdistBackward0"),
    ("DistanceBackward0", "PdistBackward0"),
    ("DivBackward0", "FrexpBackward0"),
    ("DivBackward0", "MulBackward0"),
    ("DivBackward0", "MultiMarginLossBackward0"),
    ("DivBackward0", "SqueezeBackward1"),
    ("DotBackward0", "VdotBackward0"),
    ("DotBackward0", "ViewBackward0"),
    ("EinsumBackward0", "MulBackward0"),
    ("ExpandBackward0", "AddBackward0"),
    ("EinsumBackward0", "PermuteBackward0"),
    ("EinsumBackward0", "SumBackward1"),
    ("EinsumBackward0", "ViewBackward0"),
    ("GatherBackward0", "CummaxBackward0"),
    ("GatherBackward0", "CumminBackward0"),
    ("ImagBackward0", "SelectBackward0"),
    ("IndexAddBackward0", "EmbeddingBagBackward0"),
    ("IndexBackward0", "StackBackward0"),
    ("IndexBackward0", "TakeBackward0"),
    ("IndexPutBackward0", "MaskedScatterBackward0"),
    ("IndexSelectBackward0", "ViewBackward0"),
    ("LinalgCholeskyExBackward0", "CholeskyBackward0"),
    ("LinalgSlogdetBackward0", "WhereBackward0"),
    ("LinalgSolveTriangularBackward0", "LinalgLuSolveBackward0"),
    ("LinalgSolveTriangularBackward0", "TriangularSolveBackward0"),
    ("LinalgVectorNormBackward0", "CdistBackward0"),
    ("LinalgVectorNormBackward0", "DistBackward0"),
    ("LinalgVectorNormBackward0", "NormBackward1"),
    ("LinalgVectorNormBackward0", "PdistBackward0"),
    ("MatmulBackward0", "AdaptiveAvgPool2DBackward0"),
    ("MatmulBackward0", "SqueezeBackward1"),
    ("MatmulBackward0", "UnsafeViewBackward0"),
    ("MeanBackward0", "BinaryCrossEntropyBackward0"),
    ("MeanBackward0", "BinaryCrossEntropyWithLogitsBackward0"),
    ("MeanBackward0", "MultiMarginLossBackward0"),
    ("MeanBackward0", "MultilabelMarginLossBackward0"),
    ("MeanBackward0", "SoftMarginLossBackward0"),
    ("MeanBackward1", "StdMeanBackward0"),
    ("MeanBackward1", "VarMeanBackward0"),
    ("MinimumBackward0", "ClampBackward0"),
    ("MmBackward0", "ViewBackward0"),
    ("MulBackward0", "BinaryCrossEntropyBackward0"),
    ("MulBackward0", "CeluBackward0"),
    ("MulBackward0", "CeluBackward1"),
    ("MulBackward0", "Deg2RadBackward0"),
    ("MulBackward0", "EluBackward0"),
    ("MulBackward0", "EluBackward1"),
    ("MulBackward0", "GluBackward0"),
    ("MulBackward0", "LdexpBackward0"),
    ("MulBackward0", "MishBackward0"),
    ("MulBackward0", "Rad2DegBackward0"),
    ("MulBackward0", "MulBackward1"),
    ("NdtrBackward0", "MulBackward1"),
    ("NegBackward0", "LogSigmoidBackward0"),
    ("NllLossBackward0", "NllLoss2DBackward0"),
    ("NllLossBackward0", "ViewBackward0"),
    ("RealBackward0", "SelectBackward0"),
    ("ResampleAlongBackward0", "UpsampleBicubic2DBackward0"),
    ("ResampleAlongBackward0", "UpsampleBilinear2DBackward0"),
    ("ResampleAlongBackward0", "UpsampleLinear1DBackward0"),
    ("ResampleAlongBackward0", "UpsampleTrilinear3DBackward0"),
    ("ResampleAlongTransposeBackward0", "UpsampleBilinear2DBackwardBackward0"),
    ("ReshapeBackward0", "ExpandBackward0"),
    ("ScatterReduceBackward0", "IndexReduceBackward0"),
    ("SelectBackward0", "LinalgEighBackward0"),
    ("SliceBackward0", "LinalgQrBackward0"),
    ("SliceBackward0", "LinalgSvdBackward0"),
    ("SqueezeBackward1", "ConvolutionBackward0"),
    ("SqueezeBackward1", "LinalgLstsqBackward0"),
    ("SqueezeBackward1", "LinalgSolveExBackward0"),
    ("SqueezeBackward1", "ViewBackward0"),
    ("StdBackward0", "StdMeanBackward0"),
    ("SubBackward0", "FracBackward0"),
    ("SubBackward0", "LinalgHouseholderProductBackward0"),
    ("SubBackward0", "OrmqrBackward0"),
    ("SubBackward0", "RsubBackward0"),
    ("SumBackward0", "BinaryCrossEntropyWithLogitsBackward0"),
    ("SumBackward1", "DivBackward1"),
    ("SumBackward1", "LinalgLstsqBackward0"),
    ("SumBackward1", "MulBackward1"),
    ("TransposeBackward0", "LinalgQrBackward0"),
    ("TransposeBackward0", "LinalgSolveExBackward0"),
    ("TransposeBackward0", "Rot90Backward0"),
    ("UnsqueezeBackward0", "PermuteBackward0"),
    ("UnsqueezeBackward0", "SqueezeBackward4"),
    ("VarBackward0", "VarMeanBackward0"),
    ("ViewBackward0", "AsStridedScatterBackward0"),
    ("ViewBackward0", "CummaxBackward0"),
    ("ViewBackward0", "PutBackward0"),
    ("ViewBackward0", "ReshapeAliasBackward0"),
    ("ViewBackward0", "ScatterAddBackward0"),
    ("ViewBackward0", "SqueezeBackward4"),
    ("ViewBackward0", "TBackward0"),
    ("ViewBackward0", "UnsafeViewBackward0"),
    ("WhereBackward0", "DiagEmbedBackward0"),
    ("WhereBackward0", "DiagonalScatterBackward0"),
    ("WhereBackward0", "EmbeddingBagBackward0"),
    ("WhereBackward0", "HardshrinkBackward0"),
    ("WhereBackward0", "HardswishBackward0"),
    ("WhereBackward0", "PreluKernelBackward0"),
}
# chainrule records one fused node where torch composes several: the recurrent layers (one node per
# layer and direction; the specs write torch's side step by step), and attention (the specs run
# torch's math kernel; its CPU flash kernel, one ScaledDotProductFlashAttentionForCpuBackward0 node for
# 4-d inputs, has no second derivative)
FUSED = {
    ("GruLayerBackward0", "StackBackward0"),
    ("LstmLayerBackward0", "CatBackward0"),
    ("ScaledDotProductAttentionBackward0", "AddBackward0"),
    ("ScaledDotProductAttentionBackward0", "MmBackward0"),
    ("ScaledDotProductAttentionBackward0", "UnsafeViewBackward0"),
    ("ScaledDotProductFlashAttentionForCpuBackward0", "UnsafeViewBackward0"),
}

KNOWN = NUMBERED | VIEWS | VMAP | COMPOSED | FUSED


def _node_names(outputs) -> list:
    return [
        type(o.grad_fn).__name__
        if isinstance(o, torch.Tensor | chainrule.Tensor) and o.grad_fn is not None
        else None
        for o in outputs
    ]


@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_op_spec_names_its_nodes_as_torch(data) -> None:
    """Each spec once, in both libraries: the output nodes' class names (and ``name()``) agree."""
    wrong, seen = [], set()
    for spec in all_specs():
        shapes = data.draw(spec.shapes)
        arrays = make_inputs(spec, shapes, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = _outputs(spec.fn(chainrule, *_tensors(chainrule, arrays, spec, np.float64)))
            theirs = _outputs(spec.fn(torch, *_tensors(torch, arrays, spec, np.float64)))
        for o, _t, a, b in zip(ours, theirs, _node_names(ours), _node_names(theirs)):
            if a is not None:
                assert o.grad_fn.name() == a, f"{spec.name}: name() {o.grad_fn.name()} != class {a}"
            if a != b and a is not None and b is not None:
                seen.add((a, b))
                if (a, b) not in KNOWN:
                    wrong.append(f"{spec.name}: {a}, torch {b}")
    assert not wrong, "nodes named otherwise than torch's:\n" + "\n".join(wrong)


# ---- the chains tutorials print ------------------------------------------------------------------
def _tree(node, leaves: list, depth: int = 0) -> list:
    """Node names down ``next_functions``: leaves as ``AccumulateGrad:<index in leaves>``."""
    if node is None:
        return [None]
    if type(node).__name__ == "AccumulateGrad":
        variable = node.variable
        index = next((i for i, leaf in enumerate(leaves) if leaf is variable), None)
        return [f"AccumulateGrad:{index}", node.name()]
    assert len(node.next_functions) < 10 and depth < 30
    assert all(i == 0 for _, i in node.next_functions)
    return [type(node).__name__, node.name()] + [_tree(f, leaves, depth + 1) for f, _ in node.next_functions]


def _program(name):
    """``run(lib) -> (output, leaves)``: a tutorial's step, in either library."""

    def run(lib):
        nn, F = lib.nn, lib.nn.functional
        lib.manual_seed(0)
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=lib.float32)
        xg = x.clone().requires_grad_()
        a = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        b = lib.tensor(np.linspace(0.5, 1, 8).reshape(4, 2), requires_grad=True)
        lin = nn.Linear(3, 2)
        leaves = [xg, a, b, lin.weight, lin.bias]
        target = lib.tensor(np.linspace(0, 1, 8).reshape(4, 2), dtype=lib.float32)
        programs = {
            "linear": lambda: lin(x),
            "linear, input requires grad": lambda: lin(xg),
            "linear without bias": lambda: F.linear(xg, lin.weight),
            "linear on 3-D input": lambda: lin(xg.reshape(2, 2, 3)),
            "linear on 1-D input, no bias": lambda: F.linear(x[0], lin.weight),
            "mse loss": lambda: F.mse_loss(lin(x), target),
            "MSELoss(sum), target requires grad": lambda: nn.MSELoss(reduction="sum")(
                lin(x), target * lin.bias
            ),
            "cross entropy": lambda: nn.CrossEntropyLoss()(lin(x), lib.tensor([0, 1, 0, 1])),
            "mlp": lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))(xg).pow(2).mean(),
            "relu sigmoid tanh": lambda: lib.tanh(lib.sigmoid(lib.relu(a))) + F.relu(a),
            "x ** 2, 2 ** x, x ** y": lambda: a**2 + 2**a + a**a,
            "scalars": lambda: (a * 2 - 1) / 3 + 1 - 2 * a,
            "sum, mean": lambda: a.sum() + a.mean() + a.sum(0).sum() + a.mean(dim=1, keepdim=True).sum(),
            "mm, matmul": lambda: a.mm(b) + a @ b,
            "mv, dot, bmm": lambda: (
                (a @ b[:, 0]).sum() + b[:, 0] @ b[:, 1] + a.reshape(1, 3, 4).bmm(b[None]).sum()
            ),
            "view, reshape, flatten": lambda: a.view(12) + a.reshape(-1) + a.flatten(),
            "t, T, transpose, permute": lambda: a.t() + a.T + a.transpose(0, 1) + a.permute(1, 0),
            "reshape of a transposed tensor": lambda: a.t().reshape(12),
            "unsqueeze, squeeze": lambda: a.unsqueeze(0).squeeze() + a[None].squeeze(0),
            "indexing": lambda: (
                a[0] + a[1:, 0].sum() + a[:, None, 2].sum() + a[..., 1:].sum() + a[[0, 2]].sum()
            ),
            "conv2d": lambda: nn.Conv2d(1, 2, 3)(lib.ones(1, 1, 5, 5)),
            "conv2d, input requires grad": lambda: nn.Conv2d(1, 2, 3, bias=False)(xg.reshape(1, 1, 3, 4)),
            "softmax, log_softmax": lambda: F.softmax(a, dim=1) + F.log_softmax(a, dim=-1),
            "neg, exp, log, abs": lambda: (-a).exp() + a.abs().log(),
        }
        return programs[name](), leaves

    run.__name__ = name
    return run


PROGRAMS = [
    "linear",
    "linear, input requires grad",
    "linear without bias",
    "linear on 3-D input",
    "linear on 1-D input, no bias",
    "mse loss",
    "MSELoss(sum), target requires grad",
    "cross entropy",
    "mlp",
    "relu sigmoid tanh",
    "x ** 2, 2 ** x, x ** y",
    "scalars",
    "sum, mean",
    "mm, matmul",
    "mv, dot, bmm",
    "view, reshape, flatten",
    "t, T, transpose, permute",
    "reshape of a transposed tensor",
    "unsqueeze, squeeze",
    "indexing",
    "conv2d",
    "conv2d, input requires grad",
    "softmax, log_softmax",
    "neg, exp, log, abs",
]


@pytest.mark.parametrize("name", PROGRAMS)
def test_tutorial_chain_matches_torch(name) -> None:
    program = _program(name)
    ours, our_leaves = program(chainrule)
    theirs, their_leaves = program(torch)
    assert _tree(ours.grad_fn, our_leaves) == _tree(theirs.grad_fn, their_leaves)
    assert re.fullmatch(r"<\w+ object at 0x[0-9a-f]+>", repr(ours.grad_fn)), repr(ours.grad_fn)
    assert repr(ours.grad_fn).split(" ")[0] == repr(theirs.grad_fn).split(" ")[0]
    assert repr(type(ours.grad_fn)) == repr(type(theirs.grad_fn))


@pytest.mark.parametrize(
    "name", ["mse loss", "mlp", "linear on 3-D input", "indexing", "t, T, transpose, permute"]
)
def test_gradients_unchanged_by_looking_at_the_graph(name) -> None:
    """A node the user has seen (its class now named) gives the same gradients as one not seen."""
    program = _program(name)
    grads = []
    for look in (False, True):
        out, leaves = program(chainrule)
        if look:
            stack = [out.grad_fn]
            while stack:
                node = stack.pop()
                if node is not None:
                    stack.extend(f for f, _ in node.next_functions)
        out.sum().backward()
        grads.append([None if leaf.grad is None else leaf.grad.numpy() for leaf in leaves])
    for seen, unseen in zip(grads[1], grads[0]):
        assert (seen is None) == (unseen is None)
        if seen is not None:
            np.testing.assert_array_equal(seen, unseen)


def _custom(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return MyFn


def test_custom_function_node() -> None:
    nodes = []
    for lib in (chainrule, torch):
        x = lib.ones(2, requires_grad=True)
        y = _custom(lib).apply(x)
        nodes.append((y.grad_fn, x))
    (ours, x), (theirs, _) = nodes
    assert type(ours).__name__ == type(theirs).__name__ == ours.name() == theirs.name() == "MyFnBackward"
    assert repr(ours).startswith("<chainrule.autograd.function.MyFnBackward object at 0x")
    assert repr(theirs).startswith("<torch.autograd.function.MyFnBackward object at 0x")
    assert [type(f).__name__ for f, _ in ours.next_functions] == ["AccumulateGrad"]
    assert ours.next_functions[0][0].variable is x


def test_accumulate_grad_is_one_object_per_leaf_while_held() -> None:
    for lib in (chainrule, torch):
        w = lib.ones(3, requires_grad=True)
        first = (w * 2).grad_fn.next_functions[0][0]
        second = (w.exp()).grad_fn.next_functions[0][0]
        assert first is second and first.variable is w
        assert type(first).__name__ == "AccumulateGrad" and first.name() == "torch::autograd::AccumulateGrad"
        assert first.next_functions == ()


def test_accumulate_grad_does_not_keep_its_leaf_alive() -> None:
    import weakref

    w = chainrule.ones(3, requires_grad=True)
    (w * 2).grad_fn.next_functions  # noqa: B018  (made, then dropped)
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("mode", ["anomaly", "saved_tensors_hooks", "no debugging mode"])
def test_names_in_debugging_modes(mode) -> None:
    """The traced and hooked node classes of the debugging modes are named as the plain ones."""
    import contextlib

    context = {
        "anomaly": lambda: chainrule.autograd.detect_anomaly(),
        "saved_tensors_hooks": lambda: chainrule.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t),
        "no debugging mode": contextlib.nullcontext,
    }[mode]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with context():
            a = chainrule.ones(2, 3, requires_grad=True)
            y = (a.exp() * 2).sum()
            names = [type(y.grad_fn).__name__, type(y.grad_fn.next_functions[0][0]).__name__]
            y.backward()
    assert names == ["SumBackward0", "MulBackward0"]
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.e * np.ones((2, 3)))


def test_type_of_a_node_prints_as_torch() -> None:
    ours = (chainrule.ones(2, requires_grad=True) * 2).grad_fn
    theirs = (torch.ones(2, requires_grad=True) * 2).grad_fn
    assert repr(type(ours)) == repr(type(theirs)) == "<class 'MulBackward0'>"
    assert isinstance(ours, chainrule.autograd.graph.Node)
