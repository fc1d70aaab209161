"""``ZeroRedundancyOptimizer``: optimizer state sharded across ranks (ZeRO stage 1).

Every rank holds the whole model and computes all gradients (with DistributedDataParallel), but
each parameter belongs to one rank, and only that rank keeps its optimizer state (Adam's two
moments) and updates it. After each step the owners broadcast their parameters, so every rank
again holds the same model. Adam's state costs 1/world_size per process.

The parameters are shared out as torch does: within each param group, largest first, each to
the rank whose share is smallest so far (the same partition as torch's for the same model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..._c10d.process_group import ProcessGroup, resolve
from ..._tensor import Tensor
from ...optim.optimizer import Optimizer

__all__ = ["ZeroRedundancyOptimizer"]


class ZeroRedundancyOptimizer(Optimizer):
    """Wrap ``optimizer_class`` so that each rank keeps the state of its share of ``params``.

    Parameters
    ----------
    params : iterable of Tensors or of param-group dicts
        All of the model's parameters (the same on every rank).
    optimizer_class : type
        The local optimizer, e.g. ``chainrule.optim.Adam``.
    process_group : ProcessGroup, optional
        The ranks that share the state (the default group when None).
    parameters_as_bucket_view, overlap_with_ddp : bool
        Accepted for torch compatibility; they must be False.
    **defaults
        The local optimizer's hyperparameters (``lr=1e-3``, ...).

    Attributes
    ----------
    optim : Optimizer
        This rank's optimizer, over the parameters it owns.
    """

    def __init__(
        self,
        params: Any,
        optimizer_class: type,
        process_group: ProcessGroup | None = None,
        parameters_as_bucket_view: bool = False,
        overlap_with_ddp: bool = False,
        **defaults: Any,
    ) -> None:
        if overlap_with_ddp or parameters_as_bucket_view:
            raise NotImplementedError(
                "ZeroRedundancyOptimizer: overlap_with_ddp and parameters_as_bucket_view are not "
                "supported; leave them False"
            )
        group = resolve(process_group)
        self.process_group = group
        self.world_size, self.rank = group.size(), group.rank()
        self._optimizer_class = optimizer_class
        self._local_defaults = defaults
        self._consolidated: dict | None = None
        super().__init__(params, defaults)
        self._owner: dict[int, int] = {}
        self._partition()
        self.optim = optimizer_class(self._local_groups(), **defaults)
        for g in self.param_groups:  # every hyperparameter of the local optimizer (Adam's betas, ...)
            for key, value in self.optim.defaults.items():
                g.setdefault(key, value)

    # ---- the partition -------------------------------------------------------------------------
    def _partition(self) -> None:
        """Each group's parameters, largest first, to the rank with the smallest total so far."""
        totals = [0] * self.world_size
        for group in self.param_groups:
            for p in sorted(group["params"], key=lambda t: t.numel(), reverse=True):
                if id(p) in self._owner:
                    continue
                rank = totals.index(min(totals))
                self._owner[id(p)] = rank
                totals[rank] += p.numel()

    def _local_groups(self) -> list[dict[str, Any]]:
        return [
            {**{k: v for k, v in g.items() if k != "params"}, "params": self._mine(g["params"])}
            for g in self.param_groups
        ]

    def _mine(self, params: list[Tensor]) -> list[Tensor]:
        return [p for p in params if self._owner[id(p)] == self.rank]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to every rank's view and this rank's share of it to the local optimizer."""
        super().add_param_group(param_group)
        if "optim" in self.__dict__:  # (the constructor's own groups are added before the partition)
            self._partition()
            local = self._local_groups()[-1]
            self.optim.add_param_group(local)

    # ---- stepping --------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update this rank's parameters with the local optimizer, then broadcast every rank's
        updated parameters to the others."""
        for mine, everyone in zip(self.optim.param_groups, self.param_groups):
            for key, value in everyone.items():  # a scheduler changes the lr of the full groups
                if key != "params":
                    mine[key] = value
        loss = self.optim.step(closure)
        self._broadcast_parameters()
        return loss

    def _broadcast_parameters(self) -> None:
        """Each rank's parameters, flattened into one buffer per owner and dtype, from their owner."""
        from mpi4py import MPI

        params = [p for g in self.param_groups for p in g["params"]]
        for owner in range(self.world_size):
            owned = [p for p in params if self._owner[id(p)] == owner]
            for dtype in sorted({p._data.dtype.str for p in owned}):
                run = [p for p in owned if p._data.dtype.str == dtype]
                flat = (
                    np.concatenate([p._data.reshape(-1) for p in run])
                    if owner == self.rank
                    else np.empty(sum(p.numel() for p in run), np.dtype(dtype))
                )
                self.process_group.comm.Bcast(
                    [flat, MPI.BYTE] if flat.dtype.kind == "V" else flat, root=owner
                )
                if owner != self.rank:
                    start = 0
                    for p in run:
                        p._data[...] = flat[start : start + p.numel()].reshape(p._data.shape)
                        p._bump_version()
                        start += p.numel()

    # ---- checkpoints -------------------------------------------------------------------------------
    def _global_index(self) -> dict[int, int]:
        index: dict[int, int] = {}
        for p in (p for g in self.param_groups for p in g["params"]):
            index.setdefault(id(p), len(index))
        return index

    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gather every rank's share of the state on rank ``to`` (call it on every rank), where
        ``state_dict()`` then returns the whole optimizer's state, as a single optimizer's."""
        index = self._global_index()
        local = self.optim.state_dict()
        local_params = [p for g in self.optim.param_groups for p in g["params"]]
        mine = {index[id(p)]: local["state"][i] for i, p in enumerate(local_params) if i in local["state"]}
        gathered = self.process_group.comm.gather(mine, root=to)
        if self.rank != to:
            self._consolidated = None
            return
        state: dict[int, Any] = {}
        for part in gathered:
            state.update(part)
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        self._consolidated = {"state": dict(sorted(state.items())), "param_groups": groups}

    def state_dict(self) -> dict[str, Any]:
        """The whole state, on the rank that ``consolidate_state_dict`` gathered it on."""
        if self._consolidated is None:
            raise RuntimeError(
                "Optimizer state has not been consolidated on this rank. Please call "
                "`consolidate_state_dict(to=0)` on all ranks beforehand if you meant to save the global "
                "state."
            )
        return self._consolidated

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a whole optimizer's state (as ``state_dict`` gives, on every rank): each rank keeps
        its share."""
        index = self._global_index()
        for g, saved in zip(self.param_groups, state_dict["param_groups"]):
            g.update({k: v for k, v in saved.items() if k != "params"})
        local_state, local_groups, position = {}, [], 0
        for g, saved in zip(self.param_groups, state_dict["param_groups"]):
            packed = {k: v for k, v in saved.items() if k != "params"}
            packed["params"] = []
            for p in self._mine(g["params"]):
                packed["params"].append(position)
                saved_state = state_dict["state"].get(
                    index[id(p)], state_dict["state"].get(str(index[id(p)]))
                )
                if saved_state is not None:
                    local_state[position] = saved_state
                position += 1
            local_groups.append(packed)
        self.optim.load_state_dict({"state": local_state, "param_groups": local_groups})
