"""``torch.nn.utils.stateless``: run a module with other tensors in place of its parameters and
buffers.

``functional_call`` makes a module a function of its weights, so the transforms can differentiate
with respect to them: ``grad(lambda p, x, y: loss(functional_call(model, p, (x,)), y))(params, x,
y)``. The given tensors are put in the modules' ``_parameters`` / ``_buffers`` slots for the
duration of the call and the originals are put back afterwards, also when ``forward`` raises.
``chainrule.func.functional_call`` is this function; the one here warns, as torch's deprecated
``torch.nn.utils.stateless.functional_call`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ..._tensor import Tensor
from ..module import Module

__all__ = ["functional_call", "run_functional_call"]

_MISSING = object()  # the attribute did not exist before the swap: delete it afterwards


def _merge(dicts: Any) -> dict:
    """One dict from a dict or a sequence of dicts (a key in two of them is an error, as torch)."""
    if isinstance(dicts, dict):
        return dicts
    if isinstance(dicts, Sequence) and not isinstance(dicts, str):
        if not all(isinstance(d, dict) for d in dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts: dict = {}
        for d in dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous"
            )
        return {k: v for d in dicts for k, v in d.items()}
    raise ValueError(
        f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got {type(dicts)}"
    )


def _named_tensors(module: Module) -> list:
    """Every (name, tensor) of the module, a shared tensor once under each of its names."""
    return list(module.named_parameters(remove_duplicate=False)) + list(
        module.named_buffers(remove_duplicate=False)
    )


def _untie(module: Module, given: dict) -> dict:
    """Tied weights (one tensor under several names): a value given under one name goes to all."""
    names_of: dict = {}
    for name, t in _named_tensors(module):
        names_of.setdefault(id(t), set()).add(name)
    tied = {n: names for names in names_of.values() if len(names) > 1 for n in names}
    untied = dict(given)
    for name in [n for n in given if n in tied]:
        values = {id(given[n]) for n in tied[name] if n in given}
        if len(values) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(tied[name])}, "
                "which are tied. Consider using tie_weights=False"
            )
        for other in tied[name]:
            untied[other] = given[name]
    return untied


def _check_keys(module: Module, keys) -> None:
    valid = {name for name, _ in _named_tensors(module)}
    keys = set(keys)
    unexpected, missing = sorted(keys - valid), sorted(valid - keys)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(msgs))


def _swap(module: Module, path: str, tensor: Any) -> Any:
    """Put ``tensor`` at the dotted ``path``; return what was there (``_MISSING`` if nothing)."""
    prefix, _, name = path.rpartition(".")
    owner = module.get_submodule(prefix)
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    for store in (owner._parameters, owner._buffers):
        if name in store:
            old = store[name]
            if tensor is _MISSING:
                del store[name]
            else:
                store[name] = tensor  # the slot itself: no Parameter type check, as torch
            return old
    old = getattr(owner, name, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"attribute `{name}`: {old} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        object.__setattr__(owner, name, tensor)
    elif old is not _MISSING or name in owner.__dict__:
        object.__delattr__(owner, name)
    return old


def run_functional_call(
    module: Module,
    parameter_and_buffer_dicts: dict | Sequence[dict],
    args: Any = None,
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module(*args, **kwargs)`` with the given tensors in place of its parameters and
    buffers (``torch.func.functional_call``).

    Parameters
    ----------
    module : the module to call.
    parameter_and_buffer_dicts : a dict from dotted names (``"0.weight"``, ``"bn.running_mean"``,
        as ``named_parameters`` gives them) to tensors, or a sequence of such dicts (a name in
        two of them is an error). Names not given keep the module's own tensor.
    args : the positional arguments (a non-tuple is one argument); kwargs : keyword arguments.
    tie_weights : a value given for one name of a tied tensor (one parameter reachable under
        several names) replaces it under all of them; with False only under the name given.
    strict : every parameter and buffer name must be given, and no other name.

    Returns
    -------
    What ``module`` returns. The module's own tensors are back in place afterwards (also when it
    raises); a buffer the forward replaced (``self.n = self.n + 1``) shows up in the given dict,
    and one it changed in place (BatchNorm's running stats) is the dict's tensor itself.
    """
    given = _merge(parameter_and_buffer_dicts)
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    tensors = _untie(module, given) if tie_weights else given
    if strict:
        _check_keys(module, tensors)
    originals: dict = {}
    try:
        for path, tensor in tensors.items():
            originals[path] = _swap(module, path, tensor)
        return module(*args, **kwargs)
    finally:
        final = {path: _swap(module, path, old) for path, old in reversed(originals.items())}
        given.update({k: final[k] for k in given if k in final and final[k] is not _MISSING})


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: dict | Sequence[dict],
    args: Any = None,
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Deprecated spelling of ``chainrule.func.functional_call`` (same arguments and result)."""
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in a "
        "future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
        "replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return run_functional_call(
        module, parameter_and_buffer_dicts, args, kwargs, tie_weights=tie_weights, strict=strict
    )
