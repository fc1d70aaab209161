"""Reverse-mode automatic differentiation: backward, grad, grad modes and custom Functions."""

from . import forward_ad, functional, graph
from . import hooked_nodes as _hooked_nodes  # noqa: F401  (binds itself into anomaly mode)
from .anomaly import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .check_graph import GraphCheck, NodeCheck, check_graph
from .engine import backward, grad
from .function import Function, FunctionCtx
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .saved_tensor import SavedTensor
from .variable import Variable, is_multithreading_enabled, set_multithreading_enabled, variable

__all__ = [
    "backward",
    "grad",
    "Function",
    "FunctionCtx",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "inference_mode",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
    "check_graph",
    "GraphCheck",
    "NodeCheck",
    "functional",
    "graph",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "forward_ad",
    "Variable",
    "variable",
    "is_multithreading_enabled",
    "set_multithreading_enabled",
    "SavedTensor",
]
