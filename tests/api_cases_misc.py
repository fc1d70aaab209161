"""API sweep entries: in-place samplers, windows, memory layout, interop, process-wide settings,
legacy tensor types and the device/layout queries (see tests/api_cases.py for how entries run)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
from api_cases import M34, PROPERTIES, add, both, custom, unary
from oracle import Arg

POS = Arg(0.5, 2.0)
UNIT = Arg(0.05, 0.95)


def _in_range(t, low, high) -> bool:
    return bool(((t >= low) & (t < high)).all())


def _sampled(f, m, x, *args):
    """``f`` on a non-leaf copy of ``x``: the result's shape/dtype, and ``x`` keeps a zero gradient."""
    y = x * 1
    out = f(y, *args)
    return out, out is y


# ---- in-place samplers (values differ from torch's stream: shapes, dtypes, ranges) -------------
add(
    custom(lambda f, m, x: (*_sampled(f, m, x, 2.0, 0.5), f(x.detach().float()).dtype), values=False),
    *both("normal_"),
)
add(
    custom(
        lambda f, m, x: (*_sampled(f, m, x, -1.0, 3.0), _in_range(f(x.detach() * 1, -1.0, 3.0), -1, 3)),
        values=False,
    ),
    *both("uniform_"),
)
add(
    custom(lambda f, m, x: (*_sampled(f, m, x, 2.0), bool((f(x.detach() * 1) > 0).all())), values=False),
    *both("exponential_"),
)
add(
    custom(
        lambda f, m, x: (*_sampled(f, m, x, 0.3), bool((f(x.detach() * 1, 0.5) >= 1).all())), values=False
    ),
    *both("geometric_"),
)
add(
    custom(lambda f, m, x: (*_sampled(f, m, x), bool((f(x.detach() * 1) > 0).all())), values=False),
    *both("log_normal_"),
)
add(custom(lambda f, m, x: _sampled(f, m, x, 0.0, 2.0), values=False), *both("cauchy_"))
add(
    custom(
        lambda f, m, x: (
            _in_range(f(m.zeros(50, dtype=m.int64), 7), 0, 7),
            _in_range(f(m.zeros(50, dtype=m.int64), -3, 4), -3, 4),
            bool((f(m.zeros(50, dtype=m.uint8)).long() < 256).all()),
            f(x.detach() * 1).dtype,
        ),
        grad=False,
    ),
    *both("random_"),
)
add(
    custom(
        lambda f, m, x: (
            *_sampled(f, m, x, 0.5),
            f(m.zeros(4)).dtype,
            f(m.zeros(5), 1.0).sum().item(),
            f(m.zeros(5), 0.0).sum().item(),
            f(m.zeros(3), m.tensor([0.0, 1.0, 1.0])).tolist(),
        ),
        values=False,
    ),
    *both("bernoulli_"),
)
add(
    custom(
        lambda f, m, x: (f(x), f(m.ones(3), 1.0).tolist(), f(m.ones(3), 0.0).tolist()),
        ((3, 4),),
        (UNIT,),
        False,
        values=False,
    ),
    "Tensor.bernoulli",
)
add(
    custom(lambda f, m: (f(m.tensor([0.0, 1.0, 0.0]), 2, True), f(m.tensor([[0.0, 0.0, 1.0]]), 1)), (), ()),
    "Tensor.multinomial",
)
add(
    custom(
        lambda f, m, x: (f(x.detach()), bool((f(m.zeros(3)) == 0).all()), f(m.tensor([2.0, 3.0])).dtype),
        args=(POS,),
        grad=False,
        values=False,
    ),
    "chainrule.poisson",
)
add(
    custom(
        lambda f, m: (
            f(m.tensor([5.0, 3.0]), m.tensor([0.5, 0.5])),
            f(m.tensor([4.0, 6.0]), m.tensor([1.0, 0.0])).tolist(),
        ),
        (),
        (),
        values=False,
    ),
    "chainrule.binomial",
)

# ---- windows -----------------------------------------------------------------------------------
for _window in ("bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"):
    add(
        custom(
            lambda f, m: (f(0), f(1), f(7), f(8, periodic=False), f(6, dtype=m.float64), f(5, True)),
            (),
            (),
            rtol=1e-6,
            atol=1e-7,
        ),
        f"chainrule.{_window}",
    )
add(
    custom(
        lambda f, m: (f(7, True, 0.5, 0.5), f(5, False, alpha=0.6, beta=0.4)), (), (), rtol=1e-6, atol=1e-7
    ),
    "chainrule.hamming_window",
)
add(
    custom(lambda f, m: (f(9, True, 5.0), f(9, False, 2.0)), (), (), rtol=1e-6, atol=1e-7),
    "chainrule.kaiser_window",
)
add(custom(lambda f, m: f(-1), (), (), raises=True), "chainrule.hann_window")

# ---- memory layout -------------------------------------------------------------------------------
PROPERTIES.update(
    {
        "H",
        "itemsize",
        "nbytes",
        "layout",
        "is_cpu",
        "is_sparse",
        "is_sparse_csr",
        "is_quantized",
        "is_nested",
        "is_meta",
        "is_mkldnn",
        "is_vulkan",
        "is_xpu",
        "is_ipu",
        "is_mps",
        "is_mtia",
        "is_maia",
        "is_xla",
    }
)
add(
    custom(
        lambda f, m, x: (
            f(x),
            f(x.t()),
            f(x[:, ::2]),
            f(x, 1),
            f(x, -2),
            f(x.expand(2, 3, 4)),
            f(m.ones(())),
            f(m.zeros(0, 3)),
        ),
        grad=False,
    ),
    "Tensor.stride",
)
add(custom(lambda f, m, x: f(x, 2), grad=False, raises=True), "Tensor.stride")
add(
    custom(lambda f, m, x: (f(x), f(x[1:]), f(x[1:, 2:]), f(x.t()[1]), f(x[:, 3])), grad=False),
    "Tensor.storage_offset",
)
add(
    custom(lambda f, m, x: (f(x[1:]) - x.data_ptr(), f(x) == x.data_ptr()), grad=False),
    "Tensor.const_data_ptr",
)
add(unary(Arg(), (3, 4), False), "Tensor.get_device", "Tensor.is_pinned")
add(custom(lambda f, m, x: f(x), grad=False, raises=True), "Tensor.pin_memory")
add(
    custom(
        lambda f, m, x: (
            f(x),
            f(x.float()),
            f(x.long()),
            f(m.ones(())),
            f(m.zeros(0, 2)),
            f(m.ones(2, dtype=m.bool)),
        ),
        grad=False,
    ),
    "Tensor.itemsize",
    "Tensor.nbytes",
)
add(custom(lambda f, m, x: (f(x), f(m.ones(()))), grad=True), "Tensor.H")
add(custom(lambda f, m, x: f(x.reshape(1, 3, 4)), raises=True), "Tensor.H")
add(custom(lambda f, m, x: (repr(f(x)).split(".")[-1], f(x[1:]) is m.strided), grad=False), "Tensor.layout")
add(
    custom(lambda f, m, x: (f(x), f(x.t()), f(x[1:])), grad=False),
    "Tensor.is_cpu",
    "Tensor.is_sparse",
    "Tensor.is_sparse_csr",
    "Tensor.is_quantized",
    "Tensor.is_nested",
    "Tensor.is_meta",
    "Tensor.is_mkldnn",
    "Tensor.is_vulkan",
    "Tensor.is_xpu",
    "Tensor.is_ipu",
    "Tensor.is_mps",
    "Tensor.is_mtia",
    "Tensor.is_maia",
    "Tensor.is_xla",
)
add(
    custom(
        lambda f, m, x: (f(x, 2, 3), f(x, [1.0, 2.0]), f(x), f(x.long(), [1, 2]), f(x, 3).dtype),
        grad=False,
        values=False,
    ),
    "Tensor.new",
)
add(
    custom(
        lambda f, m, x: (f(x, (2, 3), (1, 2)).stride(), f(x, (2, 2), (2, 1), dtype=m.int64).dtype), grad=False
    ),
    "Tensor.new_empty_strided",
)
add(
    custom(lambda f, m, x: (f(x, m.nn.Parameter).__class__.__name__, f(x, m.Tensor) * 2), grad=True),
    "Tensor.as_subclass",
)
add(
    custom(lambda f, m, x: (f(m.tensor([3.0])), f(m.tensor([0])), f(m.tensor(True))), grad=False),
    *both("is_nonzero"),
)
add(custom(lambda f, m, x: f(x), grad=False, raises=True), *both("is_nonzero"))
add(custom(lambda f, m, x: f(m.zeros(0)), grad=False, raises=True), *both("is_nonzero"))
add(custom(lambda f, m, x: (f(x, x * 2), f(x, x.t()), f(x, x[0])), grad=False), *both("is_same_size"))
add(
    custom(
        lambda f, m: (
            f((2, 3), (1, 2)).stride(),
            f((2, 3, 4), (1, 2, 6)).stride(),
            f((0, 2), (2, 1)).shape,
        ),
        (),
        (),
    ),
    "chainrule.empty_strided",
)
add(custom(lambda f, m: f((2, 3), (1,)), (), (), raises=True), "chainrule.empty_strided")
add(
    custom(
        lambda f, m: (
            f((2, 3, 4), (0, 2, 1)).stride(),
            f((2, 3, 4), (2, 0, 1)).stride(),
            f((5,), (0,)).shape,
        ),
        (),
        (),
    ),
    "chainrule.empty_permuted",
)
add(custom(lambda f, m: f((2, 3), (0, 0)), (), (), raises=True), "chainrule.empty_permuted")


def _layouts(f, m, x):
    name = repr(f).split(".")[-1]
    return name, f == getattr(m, name), f is getattr(m, name)


add(
    custom(_layouts, grad=False),
    "chainrule.strided",
    "chainrule.contiguous_format",
    "chainrule.channels_last",
    "chainrule.channels_last_3d",
    "chainrule.preserve_format",
    "chainrule.legacy_contiguous_format",
)
add(
    custom(lambda f, m, x: (isinstance(x.layout, f), type(x.layout).__name__ == "layout"), grad=False),
    "chainrule.layout",
)
add(custom(lambda f, m, x: isinstance(m.contiguous_format, f), grad=False), "chainrule.memory_format")

# ---- constants ----------------------------------------------------------------------------------
add(custom(lambda f, m: f, (), ()), "chainrule.e", "chainrule.pi", "chainrule.inf")
add(custom(lambda f, m: (np.isnan(f), f is None or f), (), ()), "chainrule.nan")
add(custom(lambda f, m: m.ones(3)[f].shape, (), ()), "chainrule.newaxis")

# ---- creation and queries ------------------------------------------------------------------------
add(
    custom(
        lambda f, m: (f(0, 3), f(1.0, 2.0, 0.25), f(-5, 5), f(0, 1, 0.1, dtype=m.float64), f(3, 0, -1)),
        (),
        (),
    ),
    "chainrule.range",
)
add(custom(lambda f, m: f(0, 3, -1), (), (), raises=True), "chainrule.range")
add(
    custom(lambda f, m: (f(3), f(2.5, dtype=m.float64), f(True, dtype=m.bool), f(4, dtype=m.int64)), (), ()),
    "chainrule.scalar_tensor",
)
add(custom(lambda f, m, x: (f(x, 2.0), f(x.long(), 3), f(x, m.tensor(1.5)))), "chainrule.fill")
add(custom(lambda f, m, x: f(x * 2) + 1), "chainrule.detach")
add(
    custom(lambda f, m, x: (lambda y: (f(y), y.requires_grad, y.grad_fn is None))(x * 2)), "chainrule.detach_"
)
add(custom(lambda f, m, x: (f(x), f(x.detach()), f(m.ones(2))), grad=False), "chainrule.is_inference")
add(
    custom(
        lambda f, m: (
            f(bytearray(np.arange(6, dtype=np.float32).tobytes()), dtype=m.float32),
            f(bytearray(np.arange(6, dtype=np.int64).tobytes()), dtype=m.int64, count=3, offset=16),
        ),
        (),
        (),
    ),
    "chainrule.frombuffer",
)
add(custom(lambda f, m: f(bytearray(10), dtype=m.float32), (), (), raises=True), "chainrule.frombuffer")
add(
    custom(lambda f, m, x: (f(np.arange(4.0)), f(x.detach().numpy().copy()) * 2), grad=False),
    "chainrule.from_dlpack",
)
add(custom(lambda f, m, x: m.from_dlpack(f(x.detach())) + 1, grad=False), "chainrule.to_dlpack")


def _from_file(f, m):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "values.bin")
        np.arange(10, dtype=np.float32).tofile(path)
        plain = f(path, size=6, dtype=m.float32) * 1
        shared = f(path, True, 4, dtype=m.int32)
        shared[0] = 7
        del shared
        return plain, np.fromfile(path, dtype=np.int32)[0].item()


add(custom(_from_file, (), ()), "chainrule.from_file")

# ---- process-wide settings -----------------------------------------------------------------------


def _round_trip(getter, setter, values):
    def call(f, m):
        get, put = getattr(m, getter), getattr(m, setter)
        before = get()
        seen = []
        try:
            for v in values:
                put(v)
                seen.append(get())
        finally:
            put(before)
        return seen

    return custom(call, (), ())


add(
    _round_trip("get_num_threads", "set_num_threads", [1, 2]),
    "chainrule.get_num_threads",
    "chainrule.set_num_threads",
)
add(
    custom(lambda f, m: f(0), (), (), raises=True),
    "chainrule.set_num_threads",
)
add(custom(lambda f, m: isinstance(f(), int) and f() > 0, (), ()), "chainrule.get_num_interop_threads")
add(custom(lambda f, m: f(0), (), (), raises=True), "chainrule.set_num_interop_threads")
add(
    _round_trip(
        "get_float32_matmul_precision", "set_float32_matmul_precision", ["high", "medium", "highest"]
    ),
    "chainrule.get_float32_matmul_precision",
    "chainrule.set_float32_matmul_precision",
)
add(
    _round_trip("is_warn_always_enabled", "set_warn_always", [True, False]),
    "chainrule.is_warn_always_enabled",
    "chainrule.set_warn_always",
)


def _deterministic(f, m):
    seen = []
    try:
        m.use_deterministic_algorithms(True)
        seen.append((m.are_deterministic_algorithms_enabled(), m.get_deterministic_debug_mode()))
        m.use_deterministic_algorithms(True, warn_only=True)
        seen.append((m.is_deterministic_algorithms_warn_only_enabled(), m.get_deterministic_debug_mode()))
        m.set_deterministic_debug_mode("error")
        seen.append(
            (m.are_deterministic_algorithms_enabled(), m.is_deterministic_algorithms_warn_only_enabled())
        )
    finally:
        m.set_deterministic_debug_mode(0)
    seen.append(m.are_deterministic_algorithms_enabled())
    return seen


add(
    custom(_deterministic, (), ()),
    "chainrule.use_deterministic_algorithms",
    "chainrule.are_deterministic_algorithms_enabled",
    "chainrule.is_deterministic_algorithms_warn_only_enabled",
    "chainrule.set_deterministic_debug_mode",
    "chainrule.get_deterministic_debug_mode",
)
add(custom(lambda f, m: f("sometimes"), (), (), raises=True), "chainrule.set_deterministic_debug_mode")
add(
    custom(lambda f, m: (str(f()), f() == m.device("cpu")), (), ()),
    "chainrule.get_default_device",
)
add(
    custom(lambda f, m: (f("cpu"), f(None), str(m.get_default_device()), m.ones(2).device.type), (), ()),
    "chainrule.set_default_device",
)


def _anomaly(f, m):
    try:
        f(True)
        on = (m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled())
        f(True, check_nan=False)
        no_nan = m.is_anomaly_check_nan_enabled()
    finally:
        f(False)
    return on, no_nan, m.is_anomaly_enabled()


add(custom(_anomaly, (), ()), "chainrule.set_anomaly_enabled")

# ---- legacy tensor types, compile, vmap ----------------------------------------------------------
_LEGACY = ("Float", "Double", "Half", "Byte", "Char", "Short", "Int", "Long", "Bool")


def _legacy(f, m, x):
    return (
        f([1, 0, 2]),
        f(2, 3).shape,
        f().shape,
        isinstance(f([1]), f),
        [isinstance(x.to(getattr(m, t + "Tensor").dtype), f) for t in _LEGACY],
        issubclass(f, m.Tensor),
        x.type(f).dtype,
    )


add(custom(_legacy, grad=False), *[f"chainrule.{t}Tensor" for t in _LEGACY])
add(custom(lambda f, m, x: f(x.double()), grad=False, raises=True), "chainrule.FloatTensor")


def _default_type(f, m):
    try:
        f(m.DoubleTensor)
        first = (m.get_default_dtype(), m.tensor([1.5]).dtype)
        f("torch.FloatTensor")
        return first, m.get_default_dtype()
    finally:
        m.set_default_dtype(m.float32)


add(custom(_default_type, (), ()), "chainrule.set_default_tensor_type")
add(custom(lambda f, m: f(m.LongTensor), (), (), raises=True), "chainrule.set_default_tensor_type")
add(
    custom(lambda f, m, x: (f(x), f(x.long()), f(3), f("a"), f(x.bool())), grad=False),
    "chainrule.typename",
)
add(custom(lambda f, m, x: (f(x), f(x.untyped_storage()), f(3)), grad=False), "chainrule.is_storage")


def _compiled(f, m, x):
    model = m.nn.Linear(4, 2).to(x.dtype)
    compiled = f(model)
    decorated = f(mode="reduce-overhead")(lambda t: t * 2)
    plain = f(lambda t: t.sin(), fullgraph=True)
    return compiled(x).shape, callable(compiled), decorated(x), plain(x)


add(custom(_compiled), "chainrule.compile")
add(custom(lambda f, m, x: f(x, mode="fast"), raises=True), "chainrule.compile")
add(custom(lambda f, m, x, y: f(m.dot)(x, y), ((3, 4), (3, 4))), "chainrule.vmap")

# ---- late additions: storages, legacy bfloat16, queries, copies, triangular in place ------------
add(
    custom(
        lambda f, m, x: (isinstance(x.untyped_storage(), f), f(8).nbytes(), len(f()), f(3).size()),
        grad=False,
    ),
    "chainrule.UntypedStorage",
)
add(
    custom(
        lambda f, m, x: (
            isinstance(x.to(m.bfloat16), f),
            f([1.5, 2.0]).dtype,
            x.to(m.bfloat16).type().split(".")[-1],
        ),
        grad=False,
    ),
    "chainrule.BFloat16Tensor",
)
add(
    custom(lambda f, m, x: (f(x), f(x.long()), f(x.bool()), f(x.to(m.uint8))), grad=False),
    "chainrule.is_signed",
)
add(custom(lambda f, m, x: (f(x), f(x[1:])), grad=False), "chainrule.get_device")
add(
    custom(
        lambda f, m, x: (lambda c: (f(c), f(c).data_ptr() != c.data_ptr()))(m.complex(x, x * 2)), grad=False
    ),
    "chainrule.view_as_real_copy",
)
add(
    custom(
        lambda f, m, x: (lambda r: (f(r), f(r).data_ptr() != r.data_ptr()))(x.reshape(6, 2).contiguous()),
        grad=False,
    ),
    "chainrule.view_as_complex_copy",
)
add(custom(lambda f, m, x: (f(x * 1), f(x * 1, 1), f(x * 1, -1))), *both("tril_", "triu_"))
add(
    custom(
        lambda f, m, x, t: (f(x, t), f(x, t, None, None, 1), f(x, t, m.ones(4), m.full((4,), 2.0), 2)),
        (M34, M34),
        (Arg(), Arg(0.0, 1.0, grad=False)),
    ),
    "chainrule.binary_cross_entropy_with_logits",
)
add(custom(lambda f, m, x: (f(x), f(x, 1.0), f(x, 3.0))), "F.pdist")
add(
    custom(
        lambda f, m, x, y: (f(x, y, alpha=m.tensor(2.0)), f(x, y, alpha=m.tensor(-0.5, dtype=m.float64))),
        (M34, M34),
    ),
    *both("add", "sub"),
)
add(custom(lambda f, m, x, y: f(x * 1, y, alpha=m.tensor(3.0)), (M34, M34)), *both("add_", "sub_"))
add(
    custom(lambda f, m: sorted(f.items()), (), ()),
    "F.GRID_SAMPLE_INTERPOLATION_MODES",
    "F.GRID_SAMPLE_PADDING_MODES",
)
