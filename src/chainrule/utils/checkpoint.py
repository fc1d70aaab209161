"""Activation checkpointing: trade compute for memory (``torch.utils.checkpoint``).

``checkpoint(fn, *args)`` runs ``fn`` as usual, building its graph, but under saved-tensor hooks
whose pack keeps nothing but a handle: the activations ``fn``'s ops would save for backward are
dropped when the forward moves on. When backward first needs one of them, ``fn`` runs again (grad
mode on, the RNG state of the first run restored, so dropout draws the same mask) and the tensors
that run saves are handed out in the order the first run saved them. This is torch's
non-reentrant implementation (``use_reentrant=False``); ``use_reentrant=True`` runs it as well.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from .. import _random
from .._tensor import Tensor
from ..autograd.grad_mode import GRAD
from ..autograd.saved_hooks import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The recomputation did not save what the first run saved (``torch.utils.checkpoint``)."""


class _StopRecomputation(Exception):
    """Raised inside the recomputation once every handle still in use got its tensor."""


class _Handle:
    """What a node keeps for one saved tensor: its position in the first run's saves."""

    __slots__ = ("index", "__weakref__")

    def __init__(self, index: int) -> None:
        self.index = index


class _Frame:
    """One checkpointed call: the handles given out, and the recomputation that fills them."""

    def __init__(self, run: Callable, args: tuple, early_stop: bool, check: bool) -> None:
        self.run = run
        self.args = args  # what the recomputation runs on (kept, as torch keeps its inputs)
        self.versions = [(a, a._version) for a in args if _is_tensor(a)]
        self.handles: list = []  # weak references, in the order of the first run's saves
        self.metas: list = []  # (shape, dtype) of each saved tensor, to check the recomputation
        self.recomputed: dict = {}  # handle index -> the tensor the recomputation saved there
        self.early_stop = early_stop
        self.check = check

    def pack(self, t) -> _Handle:
        handle = _Handle(len(self.handles))
        self.handles.append(weakref.ref(handle))
        self.metas.append((t._data.shape, t._data.dtype))
        return handle

    def unpack(self, handle: _Handle):
        t = self.recomputed.pop(handle.index, None)
        if t is None:  # the first unpack of this backward: run the function again
            self._recompute()
            t = self.recomputed.pop(handle.index, None)
            if t is None:
                raise CheckpointError(
                    "torch.utils.checkpoint: the recomputation saved fewer tensors than the "
                    f"original forward pass (none at position {handle.index}); the checkpointed "
                    "function must run the same ops each time it is called."
                )
        return t

    def _recompute(self) -> None:
        for a, version in self.versions:
            if a._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: a checkpoint input of shape {list(a.shape)} and dtype "
                    f"{a.dtype} is at version {a._version}; expected version {version} instead. "
                    "Hint: clone() the tensor before modifying it in place."
                )
        count = [0]
        last = max((i for i, h in enumerate(self.handles) if h() is not None), default=-1)

        def pack(t):
            i = count[0]
            count[0] += 1
            if i >= len(self.handles):
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation "
                    f"than during the original forward pass ({len(self.handles)}); the "
                    "checkpointed function must run the same ops each time it is called."
                )
            if self.check and (t._data.shape, t._data.dtype) != self.metas[i]:
                shape, dtype = self.metas[i]
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have "
                    f"different metadata than during the forward pass.\ntensor at position {i}:\n"
                    f"saved metadata: {{'shape': {tuple(shape)}, 'dtype': {dtype}}}\nrecomputed "
                    f"metadata: {{'shape': {tuple(t._data.shape)}, 'dtype': {t._data.dtype}}}"
                )
            if self.handles[i]() is not None:  # its node is alive and will ask for it
                # the tensor itself, not a detached copy: an in-place op later in the function
                # may swap its memory for a copy of the old value (see ops/inplace.py)
                self.recomputed[i] = t
            if self.early_stop and i == last:
                raise _StopRecomputation
            return t

        grad_state = GRAD.save()
        GRAD.enabled = GRAD.mode = True
        try:
            with saved_tensors_hooks(pack, _identity):
                self.run(*self.args)
        except _StopRecomputation:
            pass
        finally:
            GRAD.restore(grad_state)
        if not self.early_stop and count[0] != len(self.handles):
            raise CheckpointError(
                f"torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation.\nNumber of tensors saved during forward: "
                f"{len(self.handles)}\nNumber of tensors saved during recomputation: {count[0]}."
            )


def _identity(x):
    return x


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def checkpoint(
    function: Callable,
    *args: Any,
    use_reentrant: bool | None = False,
    preserve_rng_state: bool = True,
    context_fn: Callable | None = None,
    determinism_check: str = "default",
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """Run ``function(*args, **kwargs)`` without keeping its activations for backward; backward
    runs it again to get them (``torch.utils.checkpoint.checkpoint``).

    Parameters
    ----------
    function : the part of the model to checkpoint. It must do the same ops when run again.
    args, kwargs : its arguments (tensor arguments are kept until backward).
    use_reentrant : accepted for torch's signature; both values run the non-reentrant
        implementation (see docs/differences.md).
    preserve_rng_state : restore the RNG state of the first run before running again, so that
        random ops (dropout) draw the same values and the gradients equal the plain run's.
    context_fn : returns two context managers, entered around the first run and the
        recomputation respectively.
    determinism_check : ``"default"`` checks that the recomputation saves tensors of the same
        shapes and dtypes; ``"none"`` does not.
    debug : not supported (must be False).
    early_stop : stop the recomputation once it has saved every tensor backward still needs.

    Returns
    -------
    What ``function`` returns.

    Examples
    --------
    >>> y = checkpoint(block, x, use_reentrant=False)   # block's activations are recomputed
    """
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be one of ['default', 'none'], but got {determinism_check!r}"
        )
    if debug:
        raise NotImplementedError("checkpoint: debug=True is not supported")
    if use_reentrant and (context_fn is not None or kwargs):
        raise ValueError(
            "Passing `context_fn` or `debug` or keyword arguments is only supported when use_reentrant=False."
        )
    if not GRAD.enabled:  # nothing is saved: nothing to recompute
        return function(*args, **kwargs)
    forward_context, recompute_context = context_fn() if context_fn is not None else (None, None)
    rng_state = _random.get_rng_state() if preserve_rng_state else None

    def rerun(*inputs):
        before = _random.get_rng_state() if rng_state is not None else None
        if rng_state is not None:
            _random.set_rng_state(rng_state)
        try:
            if recompute_context is None:
                function(*inputs, **kwargs)
            else:
                with recompute_context:
                    function(*inputs, **kwargs)
        finally:
            if before is not None:
                _random.set_rng_state(before)

    frame = _Frame(rerun, args, early_stop, determinism_check == "default")
    with saved_tensors_hooks(frame.pack, frame.unpack):
        if forward_context is None:
            return function(*args, **kwargs)
        with forward_context:
            return function(*args, **kwargs)


def checkpoint_sequential(
    functions: Iterable[Callable],
    segments: int,
    input: Any,
    use_reentrant: bool | None = False,
    **kwargs: Any,
) -> Any:
    """Run ``functions`` (a Sequential or a list of modules / callables) one after the other in
    ``segments`` chunks, all but the last checkpointed
    (``torch.utils.checkpoint.checkpoint_sequential``).

    Parameters
    ----------
    functions : the layers, applied in order to ``input``.
    segments : how many chunks to split them into.
    input : the first layer's input.
    use_reentrant : as for ``checkpoint``.
    preserve_rng_state : (keyword) as for ``checkpoint``.
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if callable(getattr(functions, "children", None)):  # a Sequential (nn sits beside utils)
        functions = list(functions.children())
    functions = list(functions)

    def run(start: int, end: int) -> Callable:
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):  # the last chunk is not checkpointed
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
