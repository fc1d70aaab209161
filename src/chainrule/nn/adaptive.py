"""``AdaptiveLogSoftmaxWithLoss``: the efficient softmax of Grave et al. for large vocabularies.

The frequent classes (below ``cutoffs[0]``) sit in a head softmax together with one entry per
tail cluster; a class of cluster ``i`` has log-probability ``head[cluster i] + tail_i[class]``,
the tail computed from a smaller projection of the input (``in_features / div_value^(i+1)``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import ops as _ops
from .._tensor import Tensor, wrap
from .containers import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: ``forward(input, target)`` gives ``(output, loss)``, the target's
    log-probability for each row and their negated mean; ``log_prob(input)`` the full
    ``(N, n_classes)`` log-probabilities; ``predict(input)`` the most likely class.

    Parameters
    ----------
    in_features : the input's feature size.
    n_classes : the number of classes.
    cutoffs : increasing class boundaries in ``[1, n_classes - 1]``: the head holds
        ``[0, cutoffs[0])``, cluster i the classes ``[cutoffs[i], cutoffs[i + 1])``.
    div_value : each cluster's projection is ``div_value`` times smaller than the previous one.
    head_bias : give the head a bias.
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs,
        div_value: float = 4.0,
        head_bias: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > (n_classes - 1)
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                "order, where each value is between 1 and n_classes-1"
            )
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            out = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, dtype=dtype),
                    Linear(hidden, out, bias=False, dtype=dtype),
                )
            )

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for to_hidden, to_out in self.tail:
            to_hidden.reset_parameters()
            to_out.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        target_dim = target_.ndim
        if target_dim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.ndim != 2:
                raise RuntimeError(
                    f"1D target tensor expects 2D input tensors, but found inputs with size {input_.shape}"
                )
        elif target_dim == 0:
            if input_.ndim != 1:
                raise RuntimeError(
                    f"0D target tensor expects 1D input tensors, but found inputs with size {input_.shape}"
                )
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        t = (target_._data if batched else target_._data.reshape(1)).astype(np.int64)
        batch = t.shape[0]
        if batch and (t.min() < 0 or t.max() >= self.n_classes):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{int(t.min())}, {int(t.max())}] were found. "
            )
        head_index = np.where(t < self.shortlist_size, t, 0)
        output = _ops.zeros(batch, dtype=input.dtype)
        for i in range(1, len(self.cutoffs)):
            low, high = self.cutoffs[i - 1], self.cutoffs[i]
            rows = np.nonzero((t >= low) & (t < high))[0]
            if rows.size == 0:
                continue
            head_index[rows] = self.shortlist_size + i - 1
            cluster_logprob = _ops.log_softmax(self.tail[i - 1](input[wrap(rows)]), 1)
            local = cluster_logprob.gather(1, wrap((t[rows] - low)[:, None]))
            output = _ops.index_add(output, 0, wrap(rows), local.reshape(-1))
        head_logprob = _ops.log_softmax(self.head(input), 1)
        output = output + head_logprob.gather(1, wrap(head_index[:, None])).reshape(-1)
        loss = _ops.mean(-output)
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logprob = _ops.log_softmax(head_output, 1)
        parts = [head_logprob[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = _ops.log_softmax(self.tail[i](input), 1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return _ops.cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probability of every class: ``(N, n_classes)`` (or ``(n_classes,)``)."""
        batched = input.ndim > 1
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row (the head's argmax where it is a shortlist class)."""
        batched = input.ndim > 1
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        best = _ops.argmax(head_output, 1)
        outside = best._data >= self.shortlist_size
        if outside.any():
            rows = wrap(np.nonzero(outside)[0])
            full = self._get_full_log_prob(x[rows], head_output[rows])
            values = best._data.copy()
            values[outside] = _ops.argmax(full, 1)._data
            best = wrap(values)
        return best if batched else best.squeeze(0)
