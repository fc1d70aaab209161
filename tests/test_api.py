"""Everything issue 2 lists exists under torch's name, as a function and (where torch has one) a method,
and behaves as torch's does on a small example with both libraries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

CREATION = [
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
    "arange",
    "linspace",
    "eye",
    "rand",
    "randn",
    "randint",
    "normal",
    "manual_seed",
    "Generator",
]
DTYPES = ["float32", "float64", "int64", "int32", "bool", "float", "double", "long", "int"]
FUNCTIONS = [
    "add",
    "sub",
    "mul",
    "div",
    "floor_divide",
    "remainder",
    "pow",
    "neg",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "exp",
    "log",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "sigmoid",
    "relu",
    "abs",
    "sign",
    "sqrt",
    "rsqrt",
    "square",
    "clamp",
    "clip",
    "maximum",
    "minimum",
    "where",
    "floor",
    "ceil",
    "round",
    "trunc",
    "sum",
    "mean",
    "var",
    "std",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "logsumexp",
    "cumsum",
    "norm",
    "all",
    "any",
    "matmul",
    "mm",
    "bmm",
    "dot",
    "outer",
    "einsum",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "broadcast_to",
    "tile",
    "cat",
    "stack",
    "split",
    "chunk",
    "flip",
    "gather",
    "scatter_add",
    "index_select",
    "masked_fill",
    "narrow",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
]
METHODS = [
    "size",
    "dim",
    "item",
    "tolist",
    "numpy",
    "numel",
    "detach",
    "clone",
    "contiguous",
    "requires_grad_",
    "retain_grad",
    "register_hook",
    "to",
    "float",
    "double",
    "long",
    "int",
    "bool",
    "backward",
    "view",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "expand",
    "broadcast_to",
    "repeat",
    "tile",
    "split",
    "chunk",
    "flip",
    "gather",
    "scatter_add",
    "index_select",
    "masked_fill",
    "narrow",
    "add_",
    "sub_",
    "mul_",
    "div_",
    "zero_",
    "fill_",
    "copy_",
    "clamp_",
    "sum",
    "mean",
    "var",
    "std",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "logsumexp",
    "cumsum",
    "norm",
    "all",
    "any",
    "exp",
    "log",
    "sin",
    "sigmoid",
    "relu",
    "abs",
    "pow",
    "matmul",
    "mm",
    "bmm",
    "dot",
    "outer",
    "clamp",
    "clip",
]
ATTRIBUTES = ["shape", "ndim", "dtype", "device", "requires_grad", "grad", "grad_fn", "is_leaf", "T", "mT"]


@pytest.mark.parametrize("name", CREATION + DTYPES + FUNCTIONS)
def test_top_level_name_exists(name: str) -> None:
    assert hasattr(torch, name), f"torch has no {name}: the list is wrong"
    assert hasattr(chainrule, name), f"chainrule.{name} is missing"


@pytest.mark.parametrize("name", METHODS + ATTRIBUTES)
def test_tensor_method_exists(name: str) -> None:
    t = chainrule.ones(2, 2)
    assert hasattr(t, name), f"Tensor.{name} is missing"


def test_autograd_names() -> None:
    for name in ("backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled"):
        assert hasattr(chainrule.autograd, name)


def test_device_is_cpu_and_pluggable_namespace() -> None:
    t = chainrule.ones(3)
    assert str(t.device) == str(torch.ones(3).device) == "cpu"
    from chainrule.backend import namespace_of

    assert namespace_of(t._data) is np


@pytest.mark.parametrize("value", [1, 2.5, True, [1, 2], [1.0, 2.0], [[True, False]]])
def test_python_values_give_torchs_default_dtypes(value) -> None:
    assert str(chainrule.tensor(value).dtype).split(".")[-1] == str(torch.tensor(value).dtype).split(".")[-1]
