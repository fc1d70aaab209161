"""Hooks of every module (``torch.nn.modules.module``'s global hooks): forward pre-hooks, forward
hooks, full backward (pre-)hooks and registration hooks, run before each module's own.

``Module.__call__`` (``nn/module.py``) reads these registries; they live apart from it because they are
global state of the process, not of a module.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from ._hooks import RemovableHandle

__all__ = [
    "register_module_forward_pre_hook",
    "register_module_forward_hook",
    "register_module_full_backward_pre_hook",
    "register_module_full_backward_hook",
    "register_module_buffer_registration_hook",
    "register_module_module_registration_hook",
    "register_module_parameter_registration_hook",
]

# Whether any hook was ever registered in this process: until then a module call checks nothing
# else (one global read instead of eight dict reads on the hot path). Never reset: a hook removed
# later only brings back the full check, which is still right.
_HOOKS_SEEN = [False]


def _note_hook() -> None:
    _HOOKS_SEEN[0] = True


# hooks of every module (torch.nn.modules.module's globals), run before each module's own
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: dict = {}
_global_forward_hooks_with_kwargs: dict = {}
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()


_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()


def register_module_buffer_registration_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(module, name, buffer)`` whenever any module registers a buffer; a non-None
    result is registered instead."""
    handle = RemovableHandle(_global_buffer_registration_hooks)
    _global_buffer_registration_hooks[handle.id] = hook
    return handle


def register_module_module_registration_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(module, name, submodule)`` whenever any module registers a submodule; a
    non-None result is registered instead."""
    handle = RemovableHandle(_global_module_registration_hooks)
    _global_module_registration_hooks[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(module, name, param)`` whenever any module registers a parameter; a non-None
    result is registered instead."""
    handle = RemovableHandle(_global_parameter_registration_hooks)
    _global_parameter_registration_hooks[handle.id] = hook
    return handle


def _registered(hooks: OrderedDict, module, name: str, value):
    """``value`` after the registration hooks (each may return a replacement)."""
    for hook in hooks.values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(module, args)`` before the forward of every module (before its own pre-hooks);
    a non-None result replaces the args. Returns a handle whose ``remove()`` unregisters it."""
    _note_hook()
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable, *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Call ``hook(module, args, output)`` (``with_kwargs``: ``hook(module, args, kwargs,
    output)``) after the forward of every module, before its own forward hooks; a non-None result
    replaces the output. ``always_call``: also when forward raises."""
    _note_hook()
    handle = RemovableHandle(
        _global_forward_hooks, _global_forward_hooks_always_called, _global_forward_hooks_with_kwargs
    )
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """``Module.register_full_backward_pre_hook`` for every module (run before each module's own)."""
    _note_hook()
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """``Module.register_full_backward_hook`` for every module (run before each module's own)."""
    _note_hook()
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle
