"""How the graph looks to a user: torch's ``next_functions`` layouts.

Tutorials print ``loss.grad_fn``, ``type(y.grad_fn).__name__`` and walk ``next_functions``; they
should see what torch shows. The names are ``autograd/node_names.py``'s; here, ``SHOWN_EDGES``:
  op name -> ``edges(node)`` in the order and length of torch's inputs, for the ops whose inputs
  are not torch's: ``x * 2`` keeps no tensor for the 2 (torch shows ``None``
  there); ``x ** 2`` keeps one (torch does not); F.linear is one node where torch records
  ``addmm(bias, input, weight.t())``, whose ``TBackward0`` appears as a node that backward never
  visits (``ShownNode``).

``tests/test_grad_fn_names.py`` runs every op spec under torch and compares the names.
"""

from __future__ import annotations

from ..autograd.graph import SHOWN_EDGES, ShownNode
from .index import _basic_index_steps

__all__: list[str] = []


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


def _reshape_edges(node) -> tuple:
    """A reshape that copies is torch's view of a clone (an internal ``unsafe_view`` is not)."""
    if node.op.node_name == "UnsafeViewBackward0" and node.edges[0] is not None and len(node.params) == 1:
        return (ShownNode("CloneBackward0", node.edges),)
    return node.edges


#: torch's names of the multi-output ops whose outputs are named parts of one packed result here
#: (``index.as_part``): a part's node shows the packed node's inputs, as torch's one node does
PACKED_PARTS = {"LinalgLstsqBackward0"}


def _getitem_edges(node) -> tuple:
    """``x[1:, 0]`` is one node here; torch records each step (a slice, then a select): the
    steps before the last appear below it."""
    edge = node.edges[0]
    if node.op.node_name in PACKED_PARTS and edge is not None:  # torch's one node: its inputs
        return edge.edges
    if edge is None or node.op.node_name in ("IndexBackward0", "AliasBackward0") or node.params is None:
        return node.edges
    for name in _basic_index_steps(node.params[1])[:-1]:
        edge = ShownNode(name, (edge,))
    return (edge,)


def _convolution_edges(node) -> tuple:
    """torch's convolution has a bias input, None without a bias."""
    return node.edges if len(node.edges) == 3 else (*node.edges, None)


for _name in ("mul_scalar", "add_scalar", "sub_scalar", "div_scalar"):
    SHOWN_EDGES[_name] = _with_scalar
SHOWN_EDGES["pow"] = _pow_edges
SHOWN_EDGES["linear"] = _linear_edges
SHOWN_EDGES["reshape"] = _reshape_edges
SHOWN_EDGES["getitem"] = _getitem_edges
SHOWN_EDGES["convolution"] = SHOWN_EDGES["convolution_transpose"] = _convolution_edges
