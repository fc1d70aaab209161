"""Optimizer: the base of every optimizer (``torch.optim.Optimizer``).

An optimizer holds ``param_groups`` (a list of dicts: the tensors under ``'params'`` and that
group's hyperparameters, missing ones filled from ``defaults``) and ``state`` (a dict from each
tensor to its per-parameter buffers, filled lazily by ``step``). ``state_dict`` replaces tensors by
their index in the order of the groups, in torch's layout, so checkpoints move between chainrule
and torch; ``load_state_dict`` maps the indices back onto this optimizer's tensors.

Subclasses update parameters on the raw arrays (``p._data``, ``p.grad._data``) in place: no graph
is recorded and nothing is allocated that the math does not need.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._fpe import quiet_numpy as _quiet_numpy
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import enable_grad
from ._fused import Scratch

__all__ = ["Optimizer", "required"]

StateDict = dict[str, Any]


class _RequiredParameter:
    """Marks a hyperparameter that has no default: each param group must give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict) -> None:
        self.hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> _RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


_HOOK_KINDS = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


def _with_step_hooks(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so registered pre/post hooks run around it."""

    def wrapper(self, *args, **kwargs):
        pre = self._optimizer_step_pre_hooks
        if pre:
            for hook in list(pre.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{step.__qualname__}: a step pre-hook must return None or a tuple "
                            f"(new_args, new_kwargs), but got {result!r}"
                        )
                    args, kwargs = result
        with _quiet_numpy():  # torch's updates are silent where IEEE arithmetic gives inf or NaN
            out = step(self, *args, **kwargs)
        post = self._optimizer_step_post_hooks
        if post:
            for hook in list(post.values()):
                hook(self, args, kwargs)
        return out

    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = step.__name__, step.__qualname__, step.__doc__
    wrapper.__wrapped__ = step  # type: ignore[attr-defined]
    return wrapper


def scalar(x) -> float:
    """A hyperparameter as a number. A one-element tensor gives a NumPy scalar of its dtype: torch
    computes with the 0-d tensor itself (``lr / bias_correction`` in float32 for a float32 lr), and
    NumPy scalars keep their dtype in arithmetic with Python numbers, so the numbers agree."""
    return x._data.reshape(())[()] if isinstance(x, Tensor) else x


def step_counter(value: float = 0.0) -> Tensor:
    """A fresh ``state['step']``: a 0-d tensor of the default float dtype, as torch keeps it."""
    return wrap(np.array(value, dtype=get_default_dtype().np))


def zeros_like(p: Tensor) -> Tensor:
    """A state buffer: zeros of ``p``'s shape and dtype, in ``p``'s array namespace."""
    return wrap(np.zeros_like(p._data))


def closure_loss(closure: Callable | None):
    """Run a step's closure, with grad mode on (it usually calls backward); None without one."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _typename(obj) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _as_tensor(value) -> Tensor:
    """A state value loaded from a checkpoint as a chainrule Tensor: foreign arrays (NumPy, or
    another library's tensors, through ``__array__``) are copied."""
    if isinstance(value, Tensor):
        return value
    return wrap(np.asarray(value).copy())


def _is_array_like(value) -> bool:
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and hasattr(value, "shape") and hasattr(value, "dtype")
    )


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    Parameters
    ----------
    params : an iterable of tensors, of ``(name, tensor)`` pairs (``named_parameters()``), or of
        dicts, each a param group: ``{'params': [...], 'lr': 0.1, ...}``. Use an ordered
        collection (a list), not a set: ``state_dict`` refers to parameters by position.
    defaults : the hyperparameters used for a param group that does not set them.

    Attributes
    ----------
    param_groups : list of dicts, one per group (tensors under ``'params'``).
    state : dict from each parameter to its buffers (``momentum_buffer``, ``exp_avg`` ...).
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        for kind in _HOOK_KINDS:
            setattr(self, kind, OrderedDict())
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}; wrap a single tensor in a list: [tensor]"
            )
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # each class's own step gets the hooks, once
            cls.step = _with_step_hooks(cls.__dict__["step"])  # type: ignore[method-assign]

    # ---- pickling and printing ----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for kind in _HOOK_KINDS:
            if kind not in self.__dict__:
                setattr(self, kind, OrderedDict())
        self.defaults.setdefault("differentiable", False)

    def _group_defaults(self, **defaults: Any) -> None:
        """After unpickling: give every param group the keys an older pickle may lack."""
        for group in self.param_groups:
            for key, value in defaults.items():
                group.setdefault(key, value)

    def _params_with_grad(self, group: dict[str, Any]):
        """Yield ``(p, x, grad)`` for each parameter of ``group`` that has a ``.grad``.

        ``x`` is the parameter's array (update it in place) and ``grad`` the gradient's, negated
        into a fresh array when ``group['maximize']`` (otherwise it is ``p.grad``'s own array,
        not to be written to).
        """
        maximize = group["maximize"]
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            grad = g._data
            if maximize:
                grad = np.negative(grad)
            yield p, p._data, grad

    def _scratch(self) -> Scratch:
        """The work arrays the fused updates share (made on first use; not pickled, not state)."""
        scratch = self.__dict__.get("_scratch_arrays")
        if scratch is None:
            scratch = self.__dict__["_scratch_arrays"] = Scratch()
        return scratch

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ---- groups -------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group (a dict with ``'params'`` and optional hyperparameters).

        Useful when fine-tuning: layers unfrozen later can join the optimization with their own
        learning rate. Hyperparameters the group does not set come from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {_typename(p)} "
                    f"(params[{i}])"
                )
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (params[{i}], shape {list(p.shape)}, made by "
                    f"{p.grad_fn.name()}): pass leaf tensors (created with requires_grad=True), "
                    "e.g. t.detach().requires_grad_()"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will "
                "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Parameters
        ----------
        set_to_none : True (the default) sets each ``.grad`` to None, which frees the memory and
            makes ``step`` skip parameters that get no gradient before it; False fills the
            existing gradients with zeros (a zero gradient still moves a parameter under
            momentum or weight decay).
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                if g._data.flags.writeable:
                    g._data.fill(0)
                else:
                    g._data = np.zeros_like(g._data)
                g._bump_version()

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once from their ``.grad``.

        Parameters
        ----------
        closure : optional callable that re-evaluates the model and returns the loss (it runs
            with grad mode on, before the update).

        Returns
        -------
        The closure's loss, or None.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # ---- hooks --------------------------------------------------------------------------------
    def _register(self, kind: str, hook: Callable, prepend: bool = False) -> _RemovableHandle:
        hooks = getattr(self, kind)
        handle = _RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return new
        ``(args, kwargs)``."""
        return self._register("_optimizer_step_pre_hooks", hook)

    def register_step_post_hook(self, hook: Callable) -> _RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return self._register("_optimizer_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _RemovableHandle:
        """Call ``hook(optimizer)`` before ``state_dict`` builds its result."""
        return self._register("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` after ``state_dict``; a returned dict replaces it."""
        return self._register("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before loading; a returned dict is loaded instead."""
        return self._register("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _RemovableHandle:
        """Call ``hook(optimizer)`` after ``load_state_dict``."""
        return self._register("_optimizer_load_state_dict_post_hooks", hook, prepend)

    # ---- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> StateDict:
        """The optimizer's state as a dict, in torch's layout.

        Returns
        -------
        ``{'state': {index: {name: tensor or number}}, 'param_groups': [{hyperparameters...,
        'params': [index, ...]}]}``, where a parameter's index is its position counting through
        the groups in order. The tensors are the live state buffers (not copies), as in torch:
        save or clone them before stepping on.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        start = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        result = {"state": state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            out = hook(self, result)
            if out is not None:
                result = out
        return result

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a state made by ``state_dict`` (of a chainrule or a torch optimizer).

        Parameters are matched by position: the groups must have the same sizes as this
        optimizer's. State tensors take each parameter's floating dtype (``'step'`` is kept as
        it is); NumPy arrays and other libraries' tensors are converted (copied). The loaded
        groups' hyperparameters replace the current ones. String keys of digits (what a JSON
        round trip makes of the indices) are read as indices.
        """
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            out = hook(self, state_dict)
            if out is not None:
                state_dict = out
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than this {type(self).__name__} ({len(groups)})"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(s['params'])} parameters in the state dict "
                    f"and {len(g['params'])} in this {type(self).__name__}"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def cast(param: Tensor, value, key=None):
            if isinstance(value, Tensor) or _is_array_like(value):
                value = _as_tensor(value)
                if key != "step" and param._data.dtype.kind == "f" and value._data.dtype != param._data.dtype:
                    value = wrap(value._data.astype(param._data.dtype))
                return value
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if isinstance(k, str) and k.isdigit():
                k = int(k)
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def check_nonnegative(what: str, value) -> None:
    """torch's range check of a hyperparameter: ValueError ``Invalid <what>: <value>``."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value} (it must be >= 0)")


def tensor_step_states(opt: Optimizer) -> None:
    """After loading: make every number ``state['step']`` a 0-d tensor, as torch's optimizers do."""
    for group in opt.param_groups:
        for p in group["params"]:
            s = opt.state.get(p)
            if s and "step" in s and not isinstance(s["step"], Tensor):
                s["step"] = step_counter(float(s["step"]))


def no_differentiable(name: str, differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError(
            f"{name}: differentiable=True (autograd through the optimizer step) is not supported by "
            "chainrule, whose optimizers update the raw arrays in place; use differentiable=False"
        )


def no_capturable(name: str, capturable: bool) -> None:
    if capturable:
        raise ValueError(
            f"{name}: capturable=True is for CUDA-graph capture, which chainrule does not do (torch "
            "also fails at step() for CPU parameters); use capturable=False"
        )


def check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr} (it must be >= 0)")


def real_view(a: np.ndarray) -> np.ndarray:
    """A complex array as an array of (real, imag) pairs sharing its memory, as torch's
    optimizers treat complex parameters (``view_as_real``); other arrays as they are."""
    if a.dtype.kind != "c":
        return a
    real = a.real  # a view with the parts' dtype and the same strides: any layout works
    return np.lib.stride_tricks.as_strided(real, a.shape + (2,), a.strides + (real.itemsize,))
