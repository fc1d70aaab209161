"""The older, hook-based weight and spectral normalisation (``torch.nn.utils.weight_norm``,
``torch.nn.utils.spectral_norm`` and their ``remove_*``), kept because much code still calls them.

Each replaces ``module.<name>`` by parameters it is computed from (``<name>_g`` and ``<name>_v``;
``<name>_orig`` with the buffers ``<name>_u``, ``<name>_v``) and recomputes the plain attribute
``module.<name>`` in a forward pre-hook before every call, as torch does.
"""

from __future__ import annotations

import warnings

import numpy as np

from ... import ops as C
from ..._random import rng
from ..._tensor import Tensor, wrap
from ...autograd.grad_mode import no_grad
from ..module import Module
from ..parameter import Parameter
from ._norms import norm_except_dim, normalized_array, weight_as_matrix, weight_norm_value

__all__ = [
    "WeightNorm",
    "weight_norm",
    "remove_weight_norm",
    "SpectralNorm",
    "spectral_norm",
    "remove_spectral_norm",
]


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: ``module.<name> = g * v / ||v||``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        return weight_norm_value(
            getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim
        )

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Deprecated: reparametrize ``module.<name>`` as ``<name>_g * <name>_v / ||<name>_v||``
    (use ``nn.utils.parametrizations.weight_norm``)."""
    warnings.warn(
        "`torch.nn.utils.weight_norm` is deprecated in favor of "
        "`torch.nn.utils.parametrizations.weight_norm`.",
        FutureWarning,
        stacklevel=2,
    )
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``module.<name>`` becomes a plain parameter again."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: ``module.<name> = <name>_orig / sigma``, with
    power iteration on ``<name>_u``/``<name>_v`` (``v`` from ``u`` first) in training mode."""

    _version = 1

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return weight_as_matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            w = weight_mat._data
            for _ in range(self.n_power_iterations):
                v._data[...] = normalized_array(w.T @ u._data, self.eps)
                u._data[...] = normalized_array(w @ v._data, self.eps)
            u._bump_version()
            v._bump_version()
            u, v = C.clone(u), C.clone(v)
        sigma = C.dot(u, C.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            dtype = weight._data.dtype
            u = wrap(normalized_array(rng(None).normal(0, 1, h).astype(dtype), eps))
            v = wrap(normalized_array(rng(None).normal(0, 1, w).astype(dtype), eps))
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, wrap(np.array(weight._data)))
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Spectral normalisation with a forward pre-hook (``torch.nn.utils.spectral_norm``; the newer
    form is ``nn.utils.parametrizations.spectral_norm``). ``dim`` defaults to 0 (1 for
    ConvTranspose layers)."""
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a plain parameter again."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
