"""``linear`` and ``bilinear`` of ``chainrule.nn.functional`` (re-exported there), used by the
Linear layers and by attention."""

from __future__ import annotations

from .. import ops as _ops
from .._tensor import Tensor
from ..ops import activation as _act


# ---- linear maps -------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: one fused node (``input`` ``(*, in)``, ``weight`` ``(out, in)``)."""
    return _act.linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` with ``weight`` of shape ``(out, in1, in2)``."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear: input1 and input2 must have the same batch dims, got shapes "
            f"{list(input1.shape)} and {list(input2.shape)}"
        )
    if weight.ndim != 3 or weight.shape[1] != input1.shape[-1] or weight.shape[2] != input2.shape[-1]:
        raise RuntimeError(
            f"bilinear: weight of shape {list(weight.shape)} does not match inputs of "
            f"sizes {input1.shape[-1]} and {input2.shape[-1]}; expected (out, in1, in2)"
        )
    # input1 contracted with the weight first, then input2, as torch's _trilinear: with an inf
    # among the inputs, which sums meet inf - inf (NaN) depends on the order
    partial = _ops.einsum("...i,kij->...kj", input1, weight)
    out = _ops.einsum("...kj,...j->...k", partial, input2)
    return out if bias is None else out + bias
