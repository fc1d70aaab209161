"""RNN, LSTM and GRU over a PackedSequence: each sequence runs only over its real steps.

The packed rows are grouped by time step (``batch_sizes[t]`` sequences at step ``t``, longest
first), so a step works on the first ``batch_sizes[t]`` rows of the state and leaves the others as
they are: in the forward direction those are sequences that have ended (their state is final), in
the reverse direction those that have not started yet (their state is still ``h_0``). The final
state of each sequence is therefore its state after its own last real step, as torch's.
"""

from __future__ import annotations

import numpy as np

from .. import ops as C
from .._tensor import Tensor
from . import functional as F
from ._rnn_steps import STEPS, check_dtype, input_gates
from .utils.rnn import PackedSequence

__all__ = ["rnn_forward_packed"]


def _split_rows(x: Tensor, sizes: list) -> list:
    """The row blocks of ``x`` of the given sizes (views)."""
    out, start = [], 0
    for n in sizes:
        out.append(x[start : start + n])
        start += n
    return out


def _advance(state: Tensor, new: Tensor, n: int) -> Tensor:
    """``state`` with its first ``n`` rows replaced by ``new``."""
    return new if n == state.shape[0] else C.cat([new, state[n:]], 0)


def _initial(module, hx, which: str, size: int, batch: int, like: Tensor, sorted_indices) -> Tensor:
    directions = 2 if module.bidirectional else 1
    expected = (module.num_layers * directions, batch, size)
    if hx is None:
        return C.zeros(*expected, dtype=like.dtype)
    if not isinstance(hx, Tensor) or tuple(hx.shape) != expected:
        got = list(hx.shape) if isinstance(hx, Tensor) else type(hx).__name__
        raise RuntimeError(
            f"{type(module).__name__}: Expected {which} size {expected}, got {got} "
            "(num_layers * num_directions, batch, hidden) for a PackedSequence input"
        )
    return hx if sorted_indices is None else C.index_select(hx, 1, sorted_indices)


def rnn_forward_packed(module, packed: PackedSequence, hx):
    """``module.forward`` for a PackedSequence input: ``(PackedSequence output, h_n)`` (for LSTM
    ``(output, (h_n, c_n))``), the states in the caller's batch order."""
    data, sorted_indices, unsorted_indices = packed.data, packed.sorted_indices, packed.unsorted_indices
    name = type(module).__name__
    if data.ndim != 2 or data.shape[-1] != module.input_size:
        raise RuntimeError(
            f"{name}: a PackedSequence's data must be (sum of lengths, input_size={module.input_size}), "
            f"got {list(data.shape)}"
        )
    check_dtype(name, data, module.weight_ih_l0)
    sizes = [int(n) for n in np.asarray(packed.batch_sizes._data)]
    batch = sizes[0]
    directions = 2 if module.bidirectional else 1
    out_size = module.proj_size or module.hidden_size
    lstm = module.mode == "LSTM"
    if lstm:
        if hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        h0 = _initial(module, h0, "hx", out_size, batch, data, sorted_indices)
        c0 = _initial(module, c0, "cx", module.hidden_size, batch, data, sorted_indices)
    else:
        h0 = _initial(module, hx, "hx", out_size, batch, data, sorted_indices)
    step = STEPS[module.mode]
    h_n, c_n = [], []
    x = data
    for layer in range(module.num_layers):
        if layer and module.dropout and module.training:
            x = F.dropout(x, module.dropout, True)
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            w_ih, w_hh, *rest = module.all_weights[k]
            b_ih, b_hh = rest[:2] if module.bias else (None, None)
            w_hr = rest[-1] if module.proj_size else None
            gi = _split_rows(input_gates(x, w_ih, b_ih, b_hh, module.mode), sizes)
            w_hh_t, w_hr_t = C.t(w_hh), None if w_hr is None else C.t(w_hr)
            h, c = h0[k], c0[k] if lstm else None
            hs = [None] * len(sizes)
            order = range(len(sizes) - 1, -1, -1) if direction else range(len(sizes))
            for t in order:
                n = sizes[t]
                h_t, c_t = step(gi[t], h[:n], c[:n] if lstm else None, w_hh_t, b_hh, w_hr_t)
                hs[t] = h_t
                h = _advance(h, h_t, n)
                c = _advance(c, c_t, n) if lstm else None
            outs.append(C.cat(hs, 0))
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if directions == 1 else C.cat(outs, -1)
    h_n = C.stack(h_n, 0)
    c_n = C.stack(c_n, 0) if lstm else None
    if unsorted_indices is not None:
        h_n = C.index_select(h_n, 1, unsorted_indices)
        c_n = C.index_select(c_n, 1, unsorted_indices) if lstm else None
    output = PackedSequence(x, packed.batch_sizes, sorted_indices, unsorted_indices)
    return (output, (h_n, c_n)) if lstm else (output, h_n)
