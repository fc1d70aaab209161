"""``torch.compile``.

chainrule runs eagerly: ``compile`` returns the model or function it is given (the numbers are
those of eager execution, which is what torch's compiled code must reproduce too), so scripts that
compile by default run unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["compile"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(  # noqa: A001
    model: Callable | None = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend="inductor",
    mode: str | None = None,
    options: dict | None = None,
    disable: bool = False,
):
    """Return ``model`` unchanged (chainrule has no compiler); as a decorator, with or without
    arguments, likewise. The arguments are checked as torch checks them."""
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(m for m in _MODES if m)}")
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError("compile: the model must be a callable (an nn.Module or a function)")
    return model
