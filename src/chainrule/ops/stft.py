"""Short-time Fourier transforms: ``torch.stft`` and ``torch.istft``.

No op of their own: framing is a gather (``index_select`` with the frames' sample indices), the
transform is ``chainrule.fft``'s differentiable r2c / c2c / c2r, and istft's overlap-add is an
``index_add`` of the windowed frames, divided by the overlap-added squared window. So gradients
(and second derivatives) come from those ops' rules.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._fpe import user_stacklevel as _user_stacklevel
from ._common import Tensor, as_tensor
from .complex_numbers import view_as_real
from .gather import index_add, index_select
from .shape import expand, reshape, transpose
from .spectral import c2c, c2r, r2c

__all__ = ["istft", "stft"]

_PAD_MODES = {"reflect": "reflect", "constant": "constant", "replicate": "edge", "circular": "wrap"}


def _describe(x: Tensor) -> str:
    return f"{x.dtype} {list(x.shape)}"


def _pad_last(x: Tensor, pad: int, mode: str) -> Tensor:
    """``x`` padded by ``pad`` on both ends of its last dim, by a gather of the mirrored (edge,
    wrapped) indices, so the gradient flows back to the samples a pad copies."""
    n = x.shape[-1]
    if mode not in _PAD_MODES:
        raise RuntimeError(f"stft: pad_mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    if mode == "reflect" and pad >= n:
        raise RuntimeError(
            f"stft: reflect padding of {pad} needs the signal to be longer than the pad "
            f"(got length {n}); use a shorter n_fft or pad_mode='constant'"
        )
    if mode == "constant":
        index = np.arange(-pad, n + pad)
        inside = (index >= 0) & (index < n)
        gathered = index_select(x, -1, as_tensor(np.clip(index, 0, n - 1)))
        return gathered * as_tensor(inside.astype(_real_of(x)))
    index = np.pad(np.arange(n), pad, mode=_PAD_MODES[mode])
    return index_select(x, -1, as_tensor(index))


def _real_of(x: Tensor) -> np.dtype:
    return np.float32 if x._data.dtype in (np.float32, np.complex64) else np.float64


def _frame_window(window: Tensor | None, n_fft: int, win_length: int, who: str):
    """The window zero-padded (centred) to ``n_fft``, or None for the rectangular window."""
    if window is None:
        return None
    window = as_tensor(window, who)
    if window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(
            f"{who}: expected a 1D window tensor of size equal to win_length={win_length}, "
            f"but got window with size {list(window.shape)}"
        )
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        index = np.arange(n_fft) - left
        inside = (index >= 0) & (index < win_length)
        window = index_select(window, 0, as_tensor(np.clip(index, 0, win_length - 1))) * as_tensor(
            inside.astype(_real_of(window))
        )
    return window


def _geometry(n_fft, hop_length, win_length, who: str) -> tuple[int, int]:
    if n_fft <= 0:
        raise RuntimeError(f"{who}: expected 0 < n_fft, but got n_fft={n_fft}")
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    if hop <= 0:
        raise RuntimeError(f"{who}: expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{who}: expected 0 < win_length <= n_fft, but got win_length={win}")
    return hop, win


def stft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
    align_to_window: bool | None = None,
) -> Tensor:
    """Short-time Fourier transform of a signal ``(L,)`` or a batch ``(B, L)``.

    Returns
    -------
    Tensor
        Complex ``(B?, n_freq, n_frames)``: ``n_freq`` is ``n_fft // 2 + 1`` when ``onesided``
        (the default for a real input and window), else ``n_fft``; with ``return_complex=False``
        (deprecated in torch) ``view_as_real`` of it.
    """
    who = "stft"
    x = as_tensor(input, who)
    complex_in = x.dtype.is_complex or (window is not None and as_tensor(window, who).dtype.is_complex)
    if return_complex is None and not complex_in:
        raise RuntimeError(
            "stft requires the return_complex parameter be given for real inputs, and will further "
            "require that return_complex=True in a future PyTorch release."
        )
    if x.ndim not in (1, 2):
        raise RuntimeError(f"{who}: expected a 1D or 2D tensor, but got {_describe(x)}")
    hop, win = _geometry(n_fft, hop_length, win_length, who)
    if x.dtype._kind < 2:
        raise RuntimeError(
            f"{who}: expected a tensor of floating point or complex values, got {_describe(x)}; "
            "convert it with .double() or .float()"
        )
    batched = x.ndim == 2
    if not batched:
        x = reshape(x, (1, x.shape[0]))
    if center:
        if align_to_window is not None:
            raise RuntimeError("stft align_to_window should only be set when center = false")
        x = _pad_last(x, n_fft // 2, pad_mode)
    elif align_to_window and win < n_fft:  # frames start where the (centred) window starts
        x = _pad_last(x, (n_fft - win) // 2, "constant")
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{who}: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    w = _frame_window(window, n_fft, win, who)
    n_frames = 1 + (length - n_fft) // hop
    index = (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)).reshape(-1)
    frames = reshape(index_select(x, -1, as_tensor(index)), (x.shape[0], n_frames, n_fft))
    if w is not None:
        frames = frames * w
    onesided = (not complex_in) if onesided is None else bool(onesided)
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    if onesided:
        spec = r2c(frames, (2,), (n_fft,), norm)
    else:
        spec = c2c(frames, (2,), (n_fft,), norm, True)
    spec = transpose(spec, 1, 2)
    if not batched:
        spec = reshape(spec, spec.shape[1:])
    if return_complex or return_complex is None:
        return spec
    warnings.warn(
        "stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
        "complex tensors for all inputs, and return_complex=False will raise an error.",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )
    return view_as_real(spec)


def istft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> Tensor:
    """Inverse short-time Fourier transform: overlap-add of the inverse-transformed frames, each
    windowed, divided by the overlap-added squared window (the least-squares inverse of stft).

    ``input`` is complex ``(B?, n_freq, n_frames)``; the result is ``(B?, length)``.
    """
    who = "istft"
    spec = as_tensor(input, who)
    if not spec.dtype.is_complex:
        raise RuntimeError(
            f"{who}: requires a complex-valued input tensor, got {_describe(spec)}; "
            "use torch.view_as_complex on a (..., 2) real tensor"
        )
    if spec.ndim not in (2, 3):
        raise RuntimeError(f"{who}: expected a tensor with 2 or 3 dimensions of complex, but got {spec.ndim}")
    hop, win = _geometry(n_fft, hop_length, win_length, who)
    batched = spec.ndim == 3
    if not batched:
        spec = reshape(spec, (1, *spec.shape))
    n_freq, n_frames = spec.shape[1], spec.shape[2]
    if spec.numel() == 0:
        raise RuntimeError(f"{who}: input tensor cannot be empty (got {_describe(spec)})")
    window_complex = window is not None and as_tensor(window, who).dtype.is_complex
    onesided = (n_freq != n_fft) if onesided is None else bool(onesided)
    if onesided:
        if return_complex or window_complex:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        if n_freq != n_fft // 2 + 1:
            raise RuntimeError(
                f"{who}: expected the frequency dimension (3rd to the last) of the input tensor to "
                f"match n_fft / 2 + 1 when onesided=True, but got {n_freq}"
            )
    elif n_freq != n_fft:
        raise RuntimeError(
            f"{who}: expected the frequency dimension (3rd to the last) of the input tensor to "
            f"match n_fft when onesided=False, but got {n_freq}"
        )
    norm = "ortho" if normalized else "backward"
    spec = transpose(spec, 1, 2)  # (B, n_frames, n_freq)
    if return_complex:
        frames = c2c(spec, (2,), (n_fft,), norm, False)
    else:
        if window_complex:
            raise RuntimeError(f"{who}: a complex window needs return_complex=True")
        if not onesided:  # torch reads only the first half of a two-sided spectrum here
            spec = spec[:, :, : n_fft // 2 + 1]
        frames = c2r(spec, (2,), (n_fft,), norm)
    real_dtype = np.dtype(_real_of(frames))
    w = _frame_window(window, n_fft, win, who)
    expected = n_fft + hop * (n_frames - 1)
    index = (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)).reshape(-1)
    if w is None:
        counts = np.zeros(expected, real_dtype)
        np.add.at(counts, index, 1.0)
        envelope = as_tensor(counts)
    else:
        frames = frames * w
        # the overlap-added squared window, differentiable in the window (as torch's)
        squares = reshape(expand(w * w, (n_frames, n_fft)), (-1,))
        envelope = index_add(as_tensor(np.zeros(expected, squares._data.dtype)), 0, as_tensor(index), squares)
    zeros = as_tensor(np.zeros((frames.shape[0], expected), frames._data.dtype))
    signal = index_add(zeros, 1, as_tensor(index), reshape(frames, (frames.shape[0], -1)))
    start = n_fft // 2 if center else 0
    end = expected if length is None else min(start + int(length), expected)
    if length is None and center:
        end = expected - n_fft // 2
    signal = signal[:, start:end]
    envelope = envelope[start:end]
    smallest = np.abs(envelope._data).min() if envelope.shape[0] else 1.0
    if smallest < 1e-11:
        raise RuntimeError(
            f"{who}: window overlap add min: {smallest:g} (the squared window summed over frames must "
            "be nonzero everywhere: choose a window and hop_length that satisfy the NOLA condition)"
        )
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        pad = int(length) - signal.shape[-1]
        kept = signal.shape[-1]
        signal = index_select(signal, 1, as_tensor(np.minimum(np.arange(kept + pad), kept - 1)))
        signal = signal * as_tensor((np.arange(kept + pad) < kept).astype(real_dtype))
    if not batched:
        signal = reshape(signal, signal.shape[1:])
    return signal
