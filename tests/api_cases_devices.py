"""API sweep entries for devices (see tests/api_cases.py for how entries run): torch's device
names and comparisons, tensors asked for on CUDA, torch's type names, and ``device=`` on the
factories and ``Tensor.new_*`` methods."""

from __future__ import annotations

from api_cases import add, custom


def _cuda_factory(f, m, x):
    return f(2, device="cuda")


def _tensor_type(f, m, x):
    return (f(x), f(x.long()), f(x.bool()), f(x, m.LongTensor).dtype, f(x, "torch.IntTensor").dtype)


add(
    custom(
        lambda f, m: (
            f("cpu") == "cpu",
            f("cpu") == f("cpu"),
            f("cpu:0") == f("cpu"),
            repr(f("cuda:1")),
            repr(f("mps")),
            f("cuda", 2).index,
        ),
        (),
        (),
    ),
    "chainrule.device",
)
add(custom(lambda f, m: f("bogus"), (), (), raises=True), "chainrule.device")
add(custom(lambda f, m: f("cuda:x"), (), (), raises=True), "chainrule.device")
add(custom(lambda f, m: f(0), (), (), raises=True), "chainrule.device")
add(custom(_cuda_factory, grad=False, raises=True), "chainrule.ones", "chainrule.zeros", "chainrule.empty")
add(custom(_cuda_factory, grad=False, raises=True), "chainrule.randn", "chainrule.rand", "chainrule.arange")
add(custom(lambda f, m, x: f(x, device="cuda"), grad=False, raises=True), "chainrule.zeros_like")
add(custom(lambda f, m, x: f(x, [1.0], device="cuda"), grad=False, raises=True), "Tensor.new_tensor")
add(custom(lambda f, m, x: f(x, 2, device="cuda"), grad=False, raises=True), "Tensor.new_ones")
add(custom(lambda f, m, x: f(x, 2, device="cpu"), grad=False), "Tensor.new_ones", "Tensor.new_zeros")
add(custom(lambda f, m, x: f(x, (2,), 1.5, device="cpu"), grad=False), "Tensor.new_full")
add(custom(lambda f, m, x: f(x), grad=False, raises=True), "Tensor.cuda")
add(custom(lambda f, m, x: f(x, "cuda"), grad=False, raises=True), "Tensor.to")
add(custom(lambda f, m: f(0, 1, 3, device="cpu"), (), ()), "chainrule.logspace")
add(custom(_tensor_type, grad=False), "Tensor.type")
add(custom(lambda f, m, x: f(x, "torch.cuda.FloatTensor"), grad=False, raises=True), "Tensor.type")
add(custom(lambda f, m, x: f(x, int), grad=False, raises=True), "Tensor.type")
add(custom(lambda f, m, x: (f(x), x.is_cpu, x.is_meta), grad=False), "Tensor.get_device")
