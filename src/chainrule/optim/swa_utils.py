"""Stochastic weight averaging and exponential moving averages of a model's weights
(``torch.optim.swa_utils``): ``AveragedModel`` keeps the average, ``SWALR`` anneals the lr to a
constant SWA lr, ``update_bn`` recomputes the batch-norm statistics of the averaged weights.

swa_model = AveragedModel(model)                      # or multi_avg_fn=get_ema_multi_avg_fn(0.999)
swa_scheduler = SWALR(optimizer, swa_lr=0.05)
for epoch in range(epochs):
    train_one_epoch(model, optimizer)
    if epoch >= swa_start:
        swa_model.update_parameters(model)
        swa_scheduler.step()
update_bn(loader, swa_model)
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any, Literal

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ._scheduler_base import LRScheduler, _format_param
from .adam import lerp_
from .optimizer import Optimizer

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _count(num_averaged) -> int:
    return int(num_averaged.item()) if hasattr(num_averaged, "item") else int(num_averaged)


def _write(target: Tensor, value: np.ndarray) -> None:
    """``target.copy_(value)`` on the raw array (casting to its dtype), bumping its version."""
    target._data[...] = value
    target._bump_version()


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An in-place update of lists of averaged tensors: the exponential moving average
    ``ema = decay * ema + (1 - decay) * current`` (for ``AveragedModel(multi_avg_fn=...)``)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _num_averaged) -> None:
        floating = ema_param_list[0]._data.dtype.kind in "fc"
        for ema, current in zip(ema_param_list, current_param_list, strict=True):
            if floating:
                lerp_(ema._data, current._data, 1 - decay)
                ema._bump_version()
            else:
                _write(ema, ema._data * decay + current._data * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An in-place update of lists of averaged tensors: the running mean
    ``avg += (current - avg) / (num_averaged + 1)`` (for ``AveragedModel(multi_avg_fn=...)``)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        n = _count(num_averaged)
        floating = averaged_param_list[0]._data.dtype.kind in "fc"
        # torch's weight 1 / (n + 1) is a tensor of the default dtype: rounded there
        weight = float(np.asarray(1 / (n + 1), dtype=get_default_dtype().np))
        for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
            if floating:
                lerp_(averaged._data, current._data, weight)
                averaged._bump_version()
            else:
                _write(averaged, averaged._data + (current._data - averaged._data) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """A function ``(ema, current, num_averaged) -> decay * ema + (1 - decay) * current``
    (for ``AveragedModel(avg_fn=...)``)."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """A function ``(avg, current, num_averaged) -> avg + (current - avg) / (num_averaged + 1)``
    (for ``AveragedModel(avg_fn=...)``; the default average)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters hold an average of the model's over time
    (``torch.optim.swa_utils.AveragedModel``): equal weights (SWA) by default, or any average
    given by ``avg_fn`` (one tensor at a time) or ``multi_avg_fn`` (lists of tensors, in place).

    Parameters
    ----------
    model : the model to average (deep-copied).
    device : accepted for torch compatibility (chainrule computes on the CPU).
    avg_fn : ``(averaged, current, num_averaged) -> new averaged``.
    multi_avg_fn : ``(averaged_list, current_list, num_averaged) -> None``, updating in place.
    use_buffers : average the buffers too (with the parameters); otherwise they are copied
        from the model at each update (default False).

    Attributes
    ----------
    module : the averaged copy; ``forward`` calls it.
    n_averaged : a 0-d int64 buffer, the number of models averaged so far.
    """

    def __init__(
        self,
        model: Module,
        device=None,
        avg_fn: Callable | None = None,
        multi_avg_fn: Callable | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", wrap(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        if self.use_buffers:
            ours = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        pairs = list(zip(ours, theirs))  # as torch: the shorter list decides
        n = _count(self.n_averaged)
        if n == 0:
            for averaged, current in pairs:
                _write(averaged, current._data)
        else:
            self._average(pairs)
        if not self.use_buffers:
            for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                _write(b_avg, b_model._data)
        self.n_averaged._data += 1
        self.n_averaged._bump_version()

    def _average(self, pairs: list) -> None:
        if self.avg_fn is not None and self.multi_avg_fn is None:
            for averaged, current in pairs:
                _write(averaged, self.avg_fn(averaged.detach(), current.detach(), self.n_averaged)._data)
            return
        # lists of one dtype at a time, in order of first appearance, as torch groups them
        groups: dict[Any, tuple[list, list]] = {}
        for averaged, current in pairs:
            ours, theirs = groups.setdefault(averaged._data.dtype, ([], []))
            ours.append(averaged.detach())
            theirs.append(current.detach())
        update = self.multi_avg_fn or get_swa_multi_avg_fn()
        for ours, theirs in groups.values():
            if self.multi_avg_fn is None and ours[0]._data.dtype.kind in "fc":
                # torch's default on the CPU: avg + (current - avg) / (n + 1), one tensor at a time
                n = _count(self.n_averaged)
                for averaged, current in zip(ours, theirs):
                    _write(averaged, averaged._data + (current._data - averaged._data) / (n + 1))
            else:
                update(ours, theirs, self.n_averaged)


def update_bn(loader: Iterable[Any], model: Module, device=None) -> None:
    """Recompute the running mean and variance of every batch-norm layer of ``model`` from one
    pass over ``loader`` (cumulative averages, as after SWA the old statistics are stale).

    Parameters
    ----------
    loader : batches; a list or tuple batch gives its first element as the input.
    model : the model (put in training mode for the pass, then restored).
    device : accepted for torch compatibility.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, list | tuple):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it
    (``torch.optim.swa_utils.SWALR``).

    Parameters
    ----------
    optimizer : the optimizer.
    swa_lr : the target lr, or one per param group.
    anneal_epochs : the epochs of the annealing, an int >= 0 (default 10).
    anneal_strategy : 'cos' (default) or 'linear'.
    last_epoch : the index of the last epoch (default -1: start).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The lr the annealing started from, given the current lr at fraction ``alpha``."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
