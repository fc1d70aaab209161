"""How the graph looks to a user: torch's node names and ``next_functions`` layouts.

Tutorials print ``loss.grad_fn``, ``type(y.grad_fn).__name__`` and walk ``next_functions``; they
should see what torch shows. Two tables, applied when the ops have loaded:

- ``TORCH_NAMES``: op name -> torch's name of its node, where the rule generated from the op's
  name (``log1p`` -> ``Log1pBackward0``) is not torch's (``Log1PBackward0``). Where torch's name
  depends on the call (``sum(x)`` is ``SumBackward0``, ``sum(x, 0)`` ``SumBackward1``), the op's
  forward picks a variant (``Op.shown_as``) instead.
- ``SHOWN_EDGES``: op name -> ``edges(node)`` in the order and length of torch's inputs, for the
  ops whose inputs are not torch's: ``x * 2`` keeps no tensor for the 2 (torch shows ``None``
  there); ``x ** 2`` keeps one (torch does not); F.linear is one node where torch records
  ``addmm(bias, input, weight.t())``, whose ``TBackward0`` appears as a node that backward never
  visits (``ShownNode``).

``tests/test_grad_fn_names.py`` runs every op spec under torch and compares the names.
"""

from __future__ import annotations

from ..autograd.graph import REGISTRY, SHOWN_EDGES, ShownNode

__all__: list[str] = []

TORCH_NAMES = {
    "log1p": "Log1PBackward0",
    "fft_c2r": "FftC2RBackward0",
    "fft_r2c": "FftR2CBackward0",
    "fft_c2c": "FftC2CBackward0",
    "xlog1py": "SpecialXlog1PyBackward0",
    "i0e": "SpecialI0EBackward0",
    "i1": "SpecialI1Backward0",
    "i1e": "SpecialI1EBackward0",
    "erfcx": "SpecialErfcxBackward0",
    "ndtri": "SpecialNdtriBackward0",
    "log_ndtr": "SpecialLogNdtrBackward0",
    "entr": "SpecialEntrBackward0",
    "zeta": "SpecialZetaBackward0",
    "avg_pool2d": "AvgPool2DBackward0",
    "max_pool2d": "MaxPool2DWithIndicesBackward0",
    "to": "ToCopyBackward0",
    "norm": "LinalgVectorNormBackward0",
    "narrow": "SliceBackward0",
    "take_along_dim": "GatherBackward0",
    "index_put_accumulate": "IndexPutBackward0",
    "max_dim": "MaxBackward0",
    "min_dim": "MinBackward0",
    "max": "MaxBackward1",
    "min": "MinBackward1",
    "nanmedian_dim": "NanmedianBackward1",
    "convolution_transpose": "ConvolutionBackward0",
    "linalg_lu_factor": "LinalgLuFactorExBackward0",
    "square": "PowBackward0",
    "clamp": "ClampBackward1",
    "mse_loss": "MseLossBackward0",
}


def _with_scalar(node) -> tuple:
    """``x * 2``, ``x + 1``, ``x - 1``, ``x / 2``: torch's op has the number as a second input."""
    return (node.edges[0], None)


def _pow_edges(node) -> tuple:
    """``x ** 2`` (PowBackward0) and ``2 ** x`` (PowBackward2) have one tensor input in torch."""
    name = node.op.node_name
    if name == "PowBackward0":
        return node.edges[:1]
    if name == "PowBackward2":
        return node.edges[1:]
    return node.edges


def _transposed(weight_edge):
    """The ``TBackward0`` torch records for ``weight.t()`` (None when the weight needs no grad)."""
    return None if weight_edge is None else ShownNode("TBackward0", (weight_edge,))


def _linear_edges(node) -> tuple:
    """F.linear as torch records it: ``addmm(bias, input, weight.t())`` (``mm`` without a bias);
    an input of other than 2 dims is flattened to 2 first and the result viewed back."""
    edges = node.edges
    x, w = edges[0], edges[1]
    bias = edges[2] if len(edges) == 3 else None
    name = node.op.node_name
    if name in ("AddmmBackward0", "MmBackward0"):
        return (bias, x, _transposed(w)) if len(edges) == 3 else (x, _transposed(w))
    # (..., in) -> (n, in) -> addmm/mm -> (..., out): torch's view of the input, then of the result
    flat_name = "UnsqueezeBackward0" if name == "SqueezeBackward4" else "ViewBackward0"
    flat = None if x is None else ShownNode(flat_name, (x,))
    inner = "AddmmBackward0" if len(edges) == 3 else "MmBackward0"
    product = (bias, flat, _transposed(w)) if len(edges) == 3 else (flat, _transposed(w))
    return (ShownNode(inner, product),)


for _name in ("mul_scalar", "add_scalar", "sub_scalar", "div_scalar"):
    SHOWN_EDGES[_name] = _with_scalar
SHOWN_EDGES["pow"] = _pow_edges
SHOWN_EDGES["linear"] = _linear_edges

for _name, _shown in TORCH_NAMES.items():
    if _name in REGISTRY:  # (an op another family may not have registered yet is named there)
        REGISTRY[_name].node_name = _shown
