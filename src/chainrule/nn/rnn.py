"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and their one-step cells.

LSTM (without projection) and GRU layers run as one recorded op per layer and direction
(``ops/recurrent.py``: the input's part of the gates for all steps in one GEMM, per step one small
GEMM ``h @ W_hh^T`` and the gate non-linearities in place, a hand-written backward through time;
the language model's 2-layer LSTM went from 3.3x torch's time to about 1x). The plain RNN,
``proj_size``, the cells, PackedSequence inputs and forward-mode AD are composed from chainrule's
differentiable ops (the arithmetic lives in ``_rnn_steps.py``), with the input's part of the
gates also one GEMM up front. Gate layouts are torch's: LSTM (i, f, g, o), GRU (r, z, n) with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

import math
import numbers
import warnings

from .. import ops as C
from .._tensor import Tensor
from ..ops.recurrent import gru_layer, lstm_layer
from . import functional as F
from . import init
from ._rnn_packed import rnn_forward_packed
from ._rnn_steps import STEPS, check_dtype, fused_layers_apply, input_gates, new_param, unbind_steps
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ---- whole sequences -----------------------------------------------------------------------------
class RNNBase(Module):
    """The machinery shared by :class:`RNN`, :class:`LSTM` and :class:`GRU` (``torch.nn.RNNBase``).

    Parameters
    ----------
    mode : ``'LSTM'``, ``'GRU'``, ``'RNN_TANH'`` or ``'RNN_RELU'``.
    input_size : features of each input step.
    hidden_size : features of the hidden state.
    num_layers : stacked recurrent layers; each takes the previous one's output sequence.
    bias : whether the layers have ``b_ih`` and ``b_hh``.
    batch_first : inputs and outputs are ``(N, L, H)`` instead of ``(L, N, H)`` (the states are
        ``(num_layers * D, N, H)`` either way).
    dropout : probability of zeroing each output of every layer but the last, in training mode.
    bidirectional : also run each layer from the last step to the first (``D = 2``); the two
        directions' outputs are concatenated on the feature dim.
    proj_size : LSTM only: project each hidden state to this many features (``weight_hr``).

    Parameters are named as torch names them (``weight_ih_l0``, ``bias_hh_l1_reverse`` ...) and
    start uniform in ``(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        for what, value, kind in (
            ("bias", bias, bool),
            ("batch_first", batch_first, bool),
            ("input_size", input_size, int),
            ("hidden_size", hidden_size, int),
            ("num_layers", num_layers, int),
            ("proj_size", proj_size, int),
        ):
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise TypeError(
                    f"{name}: {what} should be of type {kind.__name__}, got: {type(value).__name__}"
                )
        for what, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if value <= 0:
                raise ValueError(f"{name}: {what} must be greater than zero, got {value}")
        if proj_size < 0:
            raise ValueError(
                f"{name}: proj_size should be a positive integer or zero to disable "
                f"projections, got {proj_size}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"{name}: proj_size has to be smaller than hidden_size, got "
                f"proj_size={proj_size} and hidden_size={hidden_size}"
            )
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode} (expected one of {sorted(_GATES)})")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for kind, shape in shapes:
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], new_param(shape, dtype, device))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction, in torch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op kept for torch compatibility (it packs weights for cuDNN there)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- forward ---------------------------------------------------------------------------------
    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}: expected the input to be a Tensor of shape (L, N, H_in), "
                f"(N, L, H_in) or (L, H_in) or a PackedSequence, got {type(input).__name__}"
            )
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor "
                f"instead (shape {list(input.shape)}); the layout is "
                f"{'(N, L, H_in)' if self.batch_first else '(L, N, H_in)'} or "
                "(L, H_in) unbatched"
            )
        check_dtype(name, input, self.weight_ih_l0)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]} (input shape "
                f"{list(input.shape)})"
            )

    def _state(self, hx, which: str, is_batched: bool, expected: tuple, input: Tensor) -> Tensor:
        """The initial state ``hx`` (zeros when None) as ``(num_layers * D, N, H)``, checked."""
        name = type(self).__name__
        if hx is None:
            return C.zeros(*expected, dtype=input.dtype)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: expected {which} to be a Tensor, got {type(hx).__name__}")
        want = 3 if is_batched else 2
        if hx.ndim != want:
            raise RuntimeError(
                f"{name}: For {'batched 3-D' if is_batched else 'unbatched 2-D'} input, {which} "
                f"should also be {want}-D but got {hx.ndim}-D tensor (shape {list(hx.shape)})"
            )
        if not is_batched:
            hx = C.unsqueeze(hx, 1)
        if tuple(hx.shape) != expected:
            raise RuntimeError(
                f"{name}: Expected {which} size {expected}, got {list(hx.shape)} "
                "(num_layers * num_directions, batch, hidden)"
            )
        return hx

    def forward(self, input: Tensor, hx=None):
        """Run the layers over the whole sequence.

        Parameters
        ----------
        input : ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, ``(L, H_in)``, or a
            ``PackedSequence`` (then ``output`` is one too, and ``h_n`` holds each sequence's
            state after its own last step).
        hx : the initial hidden state ``(num_layers * D, N, H_out)`` (``(num_layers * D,
            H_out)`` unbatched); for LSTM a tuple ``(h_0, c_0)``. Zeros when omitted.

        Returns
        -------
        ``(output, h_n)``, for LSTM ``(output, (h_n, c_n))``: ``output`` holds the last layer's
        hidden state at every step, ``(L, N, D * H_out)``; ``h_n``/``c_n`` the final states of
        every layer and direction, ``(num_layers * D, N, H_out)``.
        """
        if isinstance(input, PackedSequence):
            return rnn_forward_packed(self, input, hx)
        self._check_input(input)
        is_batched = input.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = C.unsqueeze(input, batch_dim)
        time_dim = 1 - batch_dim
        steps, batch = input.shape[time_dim], input.shape[batch_dim]
        if steps == 0:
            raise RuntimeError(
                f"{type(self).__name__}: Expected sequence length to be larger than "
                f"0 in RNN, got input of shape {list(input.shape)}"
            )
        directions = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        lstm = self.mode == "LSTM"
        if lstm:
            if hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = (None, None) if hx is None else hx
            h0 = self._state(h0, "hx", is_batched, (self.num_layers * directions, batch, out_size), input)
            c0 = self._state(
                c0, "cx", is_batched, (self.num_layers * directions, batch, self.hidden_size), input
            )
            c_init = unbind_steps(c0, 0)
        else:
            h0 = self._state(hx, "hx", is_batched, (self.num_layers * directions, batch, out_size), input)
        h_init = unbind_steps(h0, 0)
        if fused_layers_apply(self.mode, self.proj_size, input):
            x, h_n, c_n = self._fused(input, h_init, c_init if lstm else None, time_dim)
        else:
            x, h_n, c_n = self._composed(input, h_init, c_init if lstm else None, time_dim, steps)
        if not is_batched:
            x = C.squeeze(x, batch_dim)
            h_n = C.squeeze(h_n, 1)
            c_n = C.squeeze(c_n, 1) if lstm else None
        return (x, (h_n, c_n)) if lstm else (x, h_n)

    def _fused(self, input: Tensor, h_init: list, c_init, time_dim: int) -> tuple:
        """The layers as one recorded op per layer and direction (LSTM and GRU; see ops/recurrent)."""
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        x = C.transpose(input, 0, 1) if time_dim else input  # (T, B, H_in)
        steps = x.shape[0]
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, *rest = self.all_weights[k]
                b_ih, b_hh = rest[:2] if self.bias else (None, None)
                last = 0 if direction else steps - 1
                if lstm:
                    packed = lstm_layer(x, h_init[k], c_init[k], w_ih, w_hh, b_ih, b_hh, bool(direction))
                    outs.append(packed[:steps])
                    c_n.append(packed[steps])
                else:
                    packed = gru_layer(x, h_init[k], w_ih, w_hh, b_ih, b_hh, bool(direction))
                    outs.append(packed)
                h_n.append(packed[last])
            x = outs[0] if directions == 1 else C.cat(outs, -1)
        if time_dim:
            x = C.transpose(x, 0, 1)
        return x, C.stack(h_n, 0), C.stack(c_n, 0) if lstm else None

    def _composed(self, input: Tensor, h_init: list, c_init, time_dim: int, steps: int) -> tuple:
        """The layers composed from chainrule's ops, one small graph per time step (RNN, proj_size,
        forward-mode AD, vmap)."""
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        step = STEPS[self.mode]
        h_n, c_n = [], []
        x = input
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, *rest = self.all_weights[k]
                b_ih, b_hh = rest[:2] if self.bias else (None, None)
                w_hr = rest[-1] if self.proj_size else None
                gi = unbind_steps(input_gates(x, w_ih, b_ih, b_hh, self.mode), time_dim)
                order = range(steps - 1, -1, -1) if direction else range(steps)
                h, c = h_init[k], c_init[k] if lstm else None
                w_hh_t, w_hr_t = C.t(w_hh), None if w_hr is None else C.t(w_hr)
                hs = [None] * steps
                for t in order:
                    h, c = step(gi[t], h, c, w_hh_t, b_hh, w_hr_t)
                    hs[t] = h
                outs.append(C.stack(hs, time_dim))
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else C.cat(outs, -1)
        return x, C.stack(h_n, 0), C.stack(c_n, 0) if lstm else None


class RNN(RNNBase):
    r"""Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (``torch.nn.RNN``).

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional :
        as in :class:`RNNBase`.
    nonlinearity : ``'tanh'`` (default) or ``'relu'``.

    Examples
    --------
    >>> import chainrule as torch
    >>> rnn = torch.nn.RNN(10, 20, 2)
    >>> output, h_n = rnn(torch.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity  # a plain attribute: fine before Module.__init__
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


class LSTM(RNNBase):
    r"""Long short-term memory (``torch.nn.LSTM``), gates in torch's order i, f, g, o::

        i, f, o = sigmoid(...), g = tanh(...)      (each: x_t W_i*^T + b_i* + h W_h*^T + b_h*)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)   (then h_t W_hr^T with proj_size)

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size :
        as in :class:`RNNBase`.

    ``forward(input, (h_0, c_0))`` returns ``(output, (h_n, c_n))``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
        )


class GRU(RNNBase):
    r"""Gated recurrent unit (``torch.nn.GRU``), gates in torch's order r, z, n::

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),  z likewise
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional :
        as in :class:`RNNBase`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


# ---- one step ------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The parameters shared by the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``
    (``torch.nn.RNNCellBase``), uniform in ``(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""

    _mode = ""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = new_param((gates, input_size), dtype, device)
        self.weight_hh = new_param((gates, hidden_size), dtype, device)
        if bias:
            self.bias_ih = new_param((gates,), dtype, device)
            self.bias_hh = new_param((gates,), dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states: tuple) -> tuple:
        """Check the shapes, add the batch dim to unbatched tensors, zeros for missing states."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            got = f"{input.ndim}D" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {got} instead")
        what = "hidden" if len(states) == 1 else "hx[{}]"
        for i, s in enumerate(states):
            if s is not None and s.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {what.format(i)} to be 1D or 2D, got {s.ndim}D instead")
        check_dtype(name, input, self.weight_ih)
        batched = input.ndim == 2
        if not batched:
            input = C.unsqueeze(input, 0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}"
            )
        out = []
        for i, s in enumerate(states):
            if s is None:
                s = C.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            elif not batched:
                s = C.unsqueeze(s, 0)
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"{name}: Input batch size {input.shape[0]} doesn't match "
                    f"hidden{i} batch size {s.shape[0]}"
                )
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"{name}: hidden{i} has inconsistent hidden_size: got "
                    f"{s.shape[1]}, expected {self.hidden_size}"
                )
            out.append(s)
        return input, out, batched

    def _step(self, input: Tensor, h: Tensor, c) -> tuple:
        gi = input_gates(input, self.weight_ih, self.bias_ih, self.bias_hh, self._mode)
        return STEPS[self._mode](gi, h, c, C.t(self.weight_hh), self.bias_hh, None)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN (``torch.nn.RNNCell``): ``h' = tanh(x W_ih^T + b_ih + h W_hh^T
    + b_hh)`` (or relu).

    ``forward(input, hx=None)``: input ``(N, H_in)`` or ``(H_in)``, hx ``(N, H)`` or ``(H)``
    (zeros when omitted); returns ``h'`` shaped like hx.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity

    @property
    def _mode(self) -> str:  # type: ignore[override]
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._prepare(input, (hx,))
        h, _ = self._step(input, h, None)
        return h if batched else C.squeeze(h, 0)


class LSTMCell(RNNCellBase):
    """One LSTM step (``torch.nn.LSTMCell``); gates i, f, g, o as in :class:`LSTM`.

    ``forward(input, hx=None)`` with ``hx = (h, c)`` returns ``(h', c')``.
    """

    _mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        input, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx))
        h, c = self._step(input, h, c)
        return (h, c) if batched else (C.squeeze(h, 0), C.squeeze(c, 0))


class GRUCell(RNNCellBase):
    """One GRU step (``torch.nn.GRUCell``); gates r, z, n as in :class:`GRU`.

    ``forward(input, hx=None)`` returns ``h'``.
    """

    _mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._prepare(input, (hx,))
        h, _ = self._step(input, h, None)
        return h if batched else C.squeeze(h, 0)
