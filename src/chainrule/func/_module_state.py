"""``stack_module_state`` and ``replace_all_batch_norm_modules_`` (torch.func)."""

from __future__ import annotations

from .. import ops as _ops

__all__ = ["stack_module_state", "replace_all_batch_norm_modules_"]


def _stacked_leaf(tensors: tuple, name: str):
    all_rg = all(t.requires_grad for t in tensors)
    none_rg = all(not t.requires_grad for t in tensors)
    if not (all_rg or none_rg):
        raise RuntimeError(
            f"Expected {name} from each model to have the same .requires_grad; some of them "
            "require grad and some do not"
        )
    result = _ops.stack([t.detach() for t in tensors])
    return result.requires_grad_() if all_rg else result


def stack_module_state(models) -> tuple[dict, dict]:
    """The parameters and buffers of same-class models stacked along a new leading dim
    (``torch.func.stack_module_state``), for ``vmap`` over ``functional_call``.

    Returns
    -------
    (params, buffers) : dicts name -> stacked tensor; stacked parameters are new leaves that
        require grad when the models' parameters do.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root):
    """Make every batch-norm module in ``root`` use batch statistics only (running stats None,
    ``track_running_stats`` False), in place, so that it can run under ``vmap``; returns root."""
    for module in root.modules():
        if "BatchNorm" in type(module).__name__ and hasattr(module, "track_running_stats"):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
