"""The device, backend and process namespaces of training scripts against torch's CPU build:
``torch.cuda``, ``torch.accelerator``, ``torch.mps``, ``torch.backends``, ``torch.distributed``,
``torch.nn.parallel``, ``torch.multiprocessing`` and ``torch.device``/``Tensor.cuda`` itself.

Each expression runs in both libraries; the results must be equal (or both raise the same
exception type). chainrule's messages add a hint to torch's, so only their start is compared.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import chainrule

LIBS = (chainrule, torch)


def outcome(m, expr):
    """``("value", result)`` or ``("raises", exception type, message)`` of ``expr(m)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("value", expr(m))
        except Exception as e:  # noqa: BLE001 (the type is what is compared)
            return ("raises", type(e), str(e))


def same_as_torch(expr, compare=None, message: bool = True) -> None:
    ours, theirs = outcome(chainrule, expr), outcome(torch, expr)
    assert ours[0] == theirs[0], f"chainrule {ours}, torch {theirs}"
    if ours[0] == "raises":
        assert ours[1] is theirs[1], f"chainrule raises {ours[1]}, torch {theirs[1]}: {ours[2]}"
        if message:
            head = theirs[2].split(". ")[0].split(" (")[0].split("\n")[0]
            assert ours[2].startswith(head), f"chainrule says {ours[2]!r}, torch {theirs[2]!r}"
        return
    a, b = ours[1], theirs[1]
    if compare is not None:
        a, b = compare(a), compare(b)
    assert a == b, f"chainrule {a!r}, torch {b!r}"


def _str(x) -> str:
    return str(x).replace("torch.", "").replace("chainrule.", "")


# ---- torch.cuda ---------------------------------------------------------------------------------
CUDA = {
    "is_available": lambda m: m.cuda.is_available(),
    "is_initialized": lambda m: m.cuda.is_initialized(),
    "device_count": lambda m: m.cuda.device_count(),
    "manual_seed": lambda m: m.cuda.manual_seed(0),
    "manual_seed_big": lambda m: m.cuda.manual_seed(2**70),
    "manual_seed_float": lambda m: m.cuda.manual_seed(1.5),
    "manual_seed_str": lambda m: m.cuda.manual_seed("a"),
    "manual_seed_all": lambda m: m.cuda.manual_seed_all(123),
    "seed": lambda m: m.cuda.seed(),
    "seed_all": lambda m: m.cuda.seed_all(),
    "get_rng_state_all": lambda m: m.cuda.get_rng_state_all(),
    "set_rng_state_all": lambda m: m.cuda.set_rng_state_all([]),
    "empty_cache": lambda m: m.cuda.empty_cache(),
    "memory_allocated": lambda m: m.cuda.memory_allocated(),
    "max_memory_allocated": lambda m: m.cuda.max_memory_allocated(),
    "memory_reserved": lambda m: m.cuda.memory_reserved(),
    "max_memory_reserved": lambda m: m.cuda.max_memory_reserved(),
    "memory_stats": lambda m: dict(m.cuda.memory_stats()),
    "is_bf16_supported": lambda m: m.cuda.is_bf16_supported(),
    "is_bf16_supported_no_emulation": lambda m: m.cuda.is_bf16_supported(including_emulation=False),
    "get_arch_list": lambda m: m.cuda.get_arch_list(),
    "current_device": lambda m: m.cuda.current_device(),
    "get_device_name": lambda m: m.cuda.get_device_name(),
    "get_device_name_0": lambda m: m.cuda.get_device_name(0),
    "get_device_capability": lambda m: m.cuda.get_device_capability(),
    "get_device_properties": lambda m: m.cuda.get_device_properties(0),
    "synchronize": lambda m: m.cuda.synchronize(),
    "init": lambda m: m.cuda.init(),
    "initial_seed": lambda m: m.cuda.initial_seed(),
    "get_rng_state": lambda m: m.cuda.get_rng_state(),
    "current_stream": lambda m: m.cuda.current_stream(),
    "default_stream": lambda m: m.cuda.default_stream(),
    "mem_get_info": lambda m: m.cuda.mem_get_info(),
    "ipc_collect": lambda m: m.cuda.ipc_collect(),
    "set_per_process_memory_fraction": lambda m: m.cuda.set_per_process_memory_fraction(0.5),
    "Stream": lambda m: m.cuda.Stream(),
    "Event": lambda m: m.cuda.Event(),
    "stream_none": lambda m: m.cuda.stream(None).__enter__(),
    "device_cm_none": lambda m: m.cuda.device(-1).__enter__(),
    "FloatTensor_call": lambda m: m.cuda.FloatTensor(2),
    "FloatTensor_isinstance": lambda m: isinstance(m.ones(2), m.cuda.FloatTensor),
    "LongTensor_dtype": lambda m: _str(m.cuda.LongTensor.dtype),
}


@pytest.mark.parametrize("name", CUDA)
def test_cuda_namespace(name) -> None:
    same_as_torch(CUDA[name])


def test_cuda_amp_aliases_warn_and_pass_through() -> None:
    for m in (chainrule, torch):
        with pytest.warns(FutureWarning, match="torch.cuda.amp.GradScaler"):
            scaler = m.cuda.amp.GradScaler(enabled=False)
        assert not scaler.is_enabled()
        loss = m.tensor(3.0, requires_grad=True)
        assert scaler.scale(loss) is loss
        with pytest.warns(FutureWarning, match="torch.cuda.amp.autocast"):
            region = m.cuda.amp.autocast(enabled=False)
        with region:
            assert not m.is_autocast_enabled()
            assert (m.ones(2, 2) @ m.ones(2, 2)).dtype == m.float32
        with warnings.catch_warnings(record=True) as seen:  # enabled: disables itself, saying why
            warnings.simplefilter("always")
            scaler = m.cuda.amp.GradScaler()
        assert any("CUDA is not available" in str(w.message) for w in seen)
        assert not scaler.is_enabled()
        assert isinstance(scaler, m.amp.GradScaler)
        assert m.cuda.amp.GradScaler is not m.amp.GradScaler


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_cuda_amp_custom_fwd_bwd_run_the_function() -> None:
    for m in (chainrule, torch):

        class Square(m.autograd.Function):
            @staticmethod
            @m.cuda.amp.custom_fwd
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @m.cuda.amp.custom_bwd
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = m.tensor([1.0, 2.0], requires_grad=True)
        Square.apply(x).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0]


# ---- torch.accelerator, torch.mps ----------------------------------------------------------------
ACCELERATOR = {
    "is_available": lambda m: m.accelerator.is_available(),
    "current_accelerator": lambda m: m.accelerator.current_accelerator(),
    "current_accelerator_checked": lambda m: m.accelerator.current_accelerator(check_available=True),
    "device_count": lambda m: m.accelerator.device_count(),
    "current_device_index": lambda m: m.accelerator.current_device_index(),
    "set_device_index": lambda m: m.accelerator.set_device_index(0),
    "synchronize": lambda m: m.accelerator.synchronize(),
    "empty_cache": lambda m: m.accelerator.empty_cache(),
    "memory_allocated": lambda m: m.accelerator.memory_allocated(),
    "device_index_none": lambda m: m.accelerator.device_index(None).__enter__(),
    "device_index_0": lambda m: m.accelerator.device_index(0).__enter__(),
    "mps.is_available": lambda m: m.mps.is_available(),
    "mps.device_count": lambda m: m.mps.device_count(),
    "mps.manual_seed": lambda m: m.mps.manual_seed(0),
    "mps.synchronize": lambda m: m.mps.synchronize(),
    "mps.empty_cache": lambda m: m.mps.empty_cache(),
    "mps.seed": lambda m: m.mps.seed(),
    "mps.current_allocated_memory": lambda m: m.mps.current_allocated_memory(),
}


@pytest.mark.parametrize("name", ACCELERATOR)
def test_accelerator_and_mps(name) -> None:
    same_as_torch(ACCELERATOR[name])


def test_accelerator_script_prologue_picks_the_cpu() -> None:
    for m in (chainrule, torch):
        acc = m.accelerator.current_accelerator() if m.accelerator.is_available() else "cpu"
        dev = m.device(acc)
        assert m.ones(2, device=dev).device == m.device("cpu")
        dev = m.device("cuda" if m.cuda.is_available() else "mps" if m.backends.mps.is_available() else "cpu")
        assert str(m.zeros(1).to(dev).device) == "cpu"


# ---- torch.backends ------------------------------------------------------------------------------
BACKENDS = {
    "mps.is_available": lambda m: m.backends.mps.is_available(),
    "mps.is_built": lambda m: m.backends.mps.is_built(),
    "cudnn.is_available": lambda m: m.backends.cudnn.is_available(),
    "cudnn.version": lambda m: m.backends.cudnn.version(),
    "cudnn.enabled": lambda m: m.backends.cudnn.enabled,
    "cudnn.benchmark": lambda m: m.backends.cudnn.benchmark,
    "cudnn.deterministic": lambda m: m.backends.cudnn.deterministic,
    "cudnn.allow_tf32": lambda m: m.backends.cudnn.allow_tf32,
    "cudnn.is_acceptable": lambda m: m.backends.cudnn.is_acceptable(m.ones(2)),
    "cuda.is_built": lambda m: m.backends.cuda.is_built(),
    "cuda.matmul.allow_tf32": lambda m: m.backends.cuda.matmul.allow_tf32,
    "cuda.matmul.fp16": lambda m: m.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
    "cuda.matmul.bf16": lambda m: m.backends.cuda.matmul.allow_bf16_reduced_precision_reduction,
    "cuda.matmul.unknown": lambda m: m.backends.cuda.matmul.no_such_flag,
    "cuda.flash_sdp_enabled": lambda m: m.backends.cuda.flash_sdp_enabled(),
    "cuda.math_sdp_enabled": lambda m: m.backends.cuda.math_sdp_enabled(),
    "cuda.mem_efficient_sdp_enabled": lambda m: m.backends.cuda.mem_efficient_sdp_enabled(),
    "mkldnn.enabled": lambda m: m.backends.mkldnn.enabled,
    "mkldnn.deterministic": lambda m: m.backends.mkldnn.deterministic,
}


@pytest.mark.parametrize("name", BACKENDS)
def test_backends(name) -> None:
    same_as_torch(BACKENDS[name])


def _set_and_read(m, module, name, value):
    before = getattr(module, name)
    setattr(module, name, value)
    try:
        return getattr(module, name)
    finally:
        setattr(module, name, before)


@pytest.mark.filterwarnings("ignore:TF32 acceleration")
def test_backend_flags_are_settable() -> None:
    for m in (chainrule, torch):
        assert _set_and_read(m, m.backends.cudnn, "benchmark", True) is True
        assert _set_and_read(m, m.backends.cudnn, "deterministic", True) is True
        assert _set_and_read(m, m.backends.cudnn, "enabled", False) is False
        assert _set_and_read(m, m.backends.cudnn, "allow_tf32", False) is False
        assert _set_and_read(m, m.backends.cuda.matmul, "allow_tf32", True) is True
        assert _set_and_read(m, m.backends.mkldnn, "enabled", False) is False
        with pytest.raises(AttributeError):
            m.backends.cuda.matmul.no_such_flag = True
        with m.backends.cudnn.flags(enabled=False, benchmark=True):
            assert (m.backends.cudnn.enabled, m.backends.cudnn.benchmark) == (False, True)
        assert (m.backends.cudnn.enabled, m.backends.cudnn.benchmark) == (True, False)
        with m.backends.mkldnn.flags(enabled=False):
            assert m.backends.mkldnn.enabled is False
        assert m.backends.mkldnn.enabled is True
        m.backends.cuda.enable_flash_sdp(False)
        assert m.backends.cuda.flash_sdp_enabled() is False
        m.backends.cuda.enable_flash_sdp(True)


def test_cpu_backends_answer_for_chainrule() -> None:
    """chainrule has no oneDNN/MKL/OpenMP of its own: False where torch's CPU build says True."""
    assert chainrule.backends.mkldnn.is_available() is False
    assert chainrule.backends.mkl.is_available() is False
    assert chainrule.backends.openmp.is_available() is False
    assert chainrule.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")


# ---- process-wide settings -----------------------------------------------------------------------
def test_matmul_precision_and_determinism_as_torch() -> None:
    for m in (chainrule, torch):
        assert m.get_float32_matmul_precision() == "highest"
        for p in ("high", "medium", "highest"):
            m.set_float32_matmul_precision(p)
            assert m.get_float32_matmul_precision() == p
        with pytest.warns(UserWarning, match="is not one of"):
            m.set_float32_matmul_precision("fast")
        assert m.get_float32_matmul_precision() == "highest"
        m.use_deterministic_algorithms(True)
        assert m.are_deterministic_algorithms_enabled()
        m.use_deterministic_algorithms(False)
        assert not m.are_deterministic_algorithms_enabled()


# ---- torch.distributed and torch.nn.parallel ----------------------------------------------------
DISTRIBUTED = {
    "is_initialized": lambda m: m.distributed.is_initialized(),
    "is_nccl_available": lambda m: m.distributed.is_nccl_available(),
    "is_torchelastic_launched": lambda m: m.distributed.is_torchelastic_launched(),
    "get_rank": lambda m: m.distributed.get_rank(),
    "get_world_size": lambda m: m.distributed.get_world_size(),
    "get_backend": lambda m: m.distributed.get_backend(),
    "barrier": lambda m: m.distributed.barrier(),
    "all_reduce": lambda m: m.distributed.all_reduce(m.ones(2)),
    "all_reduce_op": lambda m: m.distributed.all_reduce(m.ones(2), op=m.distributed.ReduceOp.SUM),
    "reduce": lambda m: m.distributed.reduce(m.ones(2), 0),
    "broadcast": lambda m: m.distributed.broadcast(m.ones(2), 0),
    "all_gather": lambda m: m.distributed.all_gather([m.ones(2)], m.ones(2)),
    "all_gather_object": lambda m: m.distributed.all_gather_object([None], 1),
    "gather": lambda m: m.distributed.gather(m.ones(2)),
    "scatter": lambda m: m.distributed.scatter(m.ones(2)),
    "send": lambda m: m.distributed.send(m.ones(2), 1),
    "recv": lambda m: m.distributed.recv(m.ones(2)),
    "new_group": lambda m: m.distributed.new_group(),
    "broadcast_object_list": lambda m: m.distributed.broadcast_object_list([1], 0),
    "destroy_process_group": lambda m: m.distributed.destroy_process_group(),
    "group.WORLD": lambda m: m.distributed.group.WORLD,
    "ReduceOp.SUM": lambda m: m.distributed.ReduceOp.SUM == m.distributed.ReduceOp.SUM,
    "Backend": lambda m: (m.distributed.Backend("GLOO"), m.distributed.Backend.NCCL),
    "get_global_rank": lambda m: m.distributed.get_global_rank(None, 3),
    "DDP": lambda m: m.nn.parallel.DistributedDataParallel(m.nn.Linear(2, 2)),
    "DDP_import_path": lambda m: (
        __import__(m.__name__ + ".nn.parallel", fromlist=["x"]).DataParallel.__name__
    ),
    "DataParallel.module": lambda m: type(m.nn.DataParallel(m.nn.Linear(2, 2)).module).__name__,
    "DataParallel.state_dict": lambda m: sorted(m.nn.DataParallel(m.nn.Linear(2, 2)).state_dict()),
}


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_distributed_without_a_process_group(name) -> None:
    same_as_torch(DISTRIBUTED[name])


def test_distributed_is_available_where_mpi4py_is() -> None:
    """The backend is MPI through mpi4py (torch's CPU wheel is built without MPI: its
    ``is_mpi_available()`` is False); the collectives themselves are tested under mpirun in
    tests/distributed/."""
    import importlib.util

    has_mpi4py = importlib.util.find_spec("mpi4py") is not None
    assert chainrule.distributed.is_available() is has_mpi4py
    assert chainrule.distributed.is_mpi_available() is has_mpi4py
    assert chainrule.distributed.is_backend_available("mpi") is has_mpi4py
    with pytest.raises(ValueError, match="unknown backend"):
        chainrule.distributed.init_process_group("carrier-pigeon")


def test_data_parallel_forwards_to_the_module() -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Linear(3, 2)
    ours = chainrule.nn.Linear(3, 2)
    ours.load_state_dict({k: chainrule.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = [[1.0, 2.0, 3.0]]
    out_t = torch.nn.DataParallel(theirs)(torch.tensor(x))
    out_c = chainrule.nn.DataParallel(ours)(chainrule.tensor(x))
    assert out_c.tolist()[0] == pytest.approx(out_t.tolist()[0], abs=1e-6)


def test_distributed_sampler_import_path() -> None:
    from chainrule.utils.data.distributed import DistributedSampler

    assert list(DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False)) == list(
        torch.utils.data.distributed.DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False)
    )


# ---- torch.multiprocessing -----------------------------------------------------------------------
MULTIPROCESSING = {
    "get_sharing_strategy": lambda m: m.multiprocessing.get_sharing_strategy(),
    "get_all_sharing_strategies": lambda m: m.multiprocessing.get_all_sharing_strategies(),
    "set_sharing_strategy_bad": lambda m: m.multiprocessing.set_sharing_strategy("bad"),
    "cpu_count": lambda m: m.multiprocessing.cpu_count(),
    "get_context": lambda m: type(m.multiprocessing.get_context("spawn")).__name__,
    "get_start_method": lambda m: m.multiprocessing.get_start_method(allow_none=True),
    "get_all_start_methods": lambda m: m.multiprocessing.get_all_start_methods(),
    "Process": lambda m: m.multiprocessing.Process.__name__,
    "set_start_method": lambda m: callable(m.multiprocessing.set_start_method),
    "all": lambda m: sorted(m.multiprocessing.__all__),
}


@pytest.mark.parametrize("name", MULTIPROCESSING)
def test_multiprocessing_namespace(name) -> None:
    same_as_torch(MULTIPROCESSING[name], message=False)


def _child_ok(i, queue):
    queue.put(i * 10)


def _child_fails(i):
    if i == 1:
        raise ValueError("child 1 failed")


def test_start_processes_runs_and_reraises() -> None:
    mp = chainrule.multiprocessing
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    assert mp.start_processes(_child_ok, args=(queue,), nprocs=2, start_method="fork") is None
    assert sorted(queue.get() for _ in range(2)) == [0, 10]
    for m in (chainrule, torch):
        with pytest.raises(m.multiprocessing.ProcessRaisedException, match="child 1 failed"):
            m.multiprocessing.start_processes(_child_fails, nprocs=2, start_method="fork")
    handle = mp.start_processes(_child_ok, args=(queue,), nprocs=1, join=False, start_method="fork")
    assert handle.join() is True and queue.get() == 0


# ---- devices -------------------------------------------------------------------------------------
DEVICES = {
    "eq_str": lambda m: m.device("cpu") == "cpu",
    "ne_str": lambda m: m.device("cpu") != "cpu",
    "eq": lambda m: m.device("cpu") == m.device("cpu"),
    "eq_index": lambda m: m.device("cpu:0") == m.device("cpu"),
    "eq_int": lambda m: m.device("cpu") == 1,
    "hash": lambda m: hash(m.device("cuda:1")) == hash(m.device("cuda", 1)),
    "str": lambda m: str(m.device("cuda", 1)),
    "repr": lambda m: repr(m.device("cuda:1")),
    "index": lambda m: (m.device("cpu").index, m.device("cuda:2").index, m.device("cuda").type),
    "copy": lambda m: repr(m.device(m.device("cuda:1"))),
    "mps": lambda m: repr(m.device("mps")),
    "xpu": lambda m: repr(m.device("xpu")),
    "meta": lambda m: repr(m.device("meta")),
    "bogus": lambda m: m.device("bogus"),
    "upper": lambda m: m.device("CPU"),
    "bad_index": lambda m: m.device("cuda:x"),
    "two_indices": lambda m: m.device("cuda:0:1"),
    "negative_index_str": lambda m: m.device("cuda:-1"),
    "negative_index": lambda m: m.device("cpu", -1),
    "str_index": lambda m: m.device("cuda", "x"),
    "int": lambda m: m.device(0),
    "none": lambda m: m.device(None),
    "pickle": lambda m: repr(__import__("pickle").loads(__import__("pickle").dumps(m.device("cuda:1")))),
    "get_default_device": lambda m: repr(m.get_default_device()),
    "set_default_device_bogus": lambda m: m.set_default_device("bogus"),
}


@pytest.mark.parametrize("name", DEVICES)
def test_device(name) -> None:
    same_as_torch(DEVICES[name], message=name not in ("none", "str_index"))


def test_set_default_device_cpu() -> None:
    try:
        for m in LIBS:
            m.set_default_device("cpu")
            assert m.ones(2).device == m.device("cpu") == m.get_default_device()
    finally:
        for m in LIBS:  # None: torch drops its device mode (a set 'cpu' changes some of its results)
            m.set_default_device(None)


CUDA_TENSORS = {
    "ones": lambda m: m.ones(2, device="cuda"),
    "zeros_device": lambda m: m.zeros(2, device=m.device("cuda")),
    "tensor_cuda_1": lambda m: m.tensor([1.0], device="cuda:1"),
    "empty": lambda m: m.empty(2, device="cuda"),
    "full": lambda m: m.full((2,), 1.0, device="cuda"),
    "rand": lambda m: m.rand(2, device="cuda"),
    "randn": lambda m: m.randn(2, device="cuda"),
    "randint": lambda m: m.randint(0, 3, (2,), device="cuda"),
    "randperm": lambda m: m.randperm(3, device="cuda"),
    "arange": lambda m: m.arange(3, device="cuda"),
    "linspace": lambda m: m.linspace(0, 1, 3, device="cuda"),
    "logspace": lambda m: m.logspace(0, 1, 3, device="cuda"),
    "eye": lambda m: m.eye(2, device="cuda"),
    "zeros_like": lambda m: m.zeros_like(m.ones(1), device="cuda"),
    "empty_like": lambda m: m.empty_like(m.ones(1), device="cuda"),
    "as_tensor": lambda m: m.as_tensor([1.0], device="cuda"),
    "tril_indices": lambda m: m.tril_indices(3, 3, device="cuda"),
    "hann_window": lambda m: m.hann_window(4, device="cuda"),
    "empty_strided": lambda m: m.empty_strided((2,), (1,), device="cuda"),
    "new_ones": lambda m: m.ones(2).new_ones(2, device="cuda"),
    "new_zeros": lambda m: m.ones(2).new_zeros(2, device="cuda"),
    "new_tensor": lambda m: m.ones(2).new_tensor([1.0], device="cuda"),
    "new_full": lambda m: m.ones(2).new_full((2,), 3.0, device="cuda"),
    "to": lambda m: m.ones(2).to("cuda"),
    "to_dtype": lambda m: m.ones(2).to("cuda", m.float64),
    "to_kw": lambda m: m.ones(2).to(device=m.device("cuda")),
    "to_index": lambda m: m.ones(2).to(0),
    "to_index_kw": lambda m: m.ones(2).to(device=0),
    "cuda": lambda m: m.ones(2).cuda(),
    "cuda_1": lambda m: m.ones(2).cuda(1),
    "module_cuda": lambda m: m.nn.Linear(2, 2).cuda(),
    "module_to": lambda m: m.nn.Linear(2, 2).to("cuda"),
    "linear_device": lambda m: m.nn.Linear(2, 2, device="cuda"),
    "conv2d_device": lambda m: m.nn.Conv2d(3, 3, 3, device="cuda"),
    "conv_transpose1d_device": lambda m: m.nn.ConvTranspose1d(3, 3, 3, device="cuda"),
    "embedding_device": lambda m: m.nn.Embedding(3, 3, device="cuda"),
    "embedding_bag_device": lambda m: m.nn.EmbeddingBag(3, 3, device="cuda"),
    "layer_norm_device": lambda m: m.nn.LayerNorm(3, device="cuda"),
    "batch_norm_device": lambda m: m.nn.BatchNorm1d(3, device="cuda"),
    "group_norm_device": lambda m: m.nn.GroupNorm(1, 2, device="cuda"),
    "instance_norm_device": lambda m: m.nn.InstanceNorm1d(3, affine=True, device="cuda"),
    "rms_norm_device": lambda m: m.nn.RMSNorm(3, device="cuda"),
    "prelu_device": lambda m: m.nn.PReLU(device="cuda"),
    "lstm_device": lambda m: m.nn.LSTM(3, 3, device="cuda"),
    "attention_device": lambda m: m.nn.MultiheadAttention(4, 2, device="cuda"),
    "encoder_layer_device": lambda m: m.nn.TransformerEncoderLayer(4, 2, device="cuda"),
    "layers_on_cpu": lambda m: [
        type(m.nn.Conv2d(1, 1, 1, device="cpu")).__name__,
        m.nn.LayerNorm(2, device="cpu").weight.shape[0],
    ],
    "xpu": lambda m: m.ones(2, device="xpu"),
    "to_xpu": lambda m: m.ones(2).to("xpu"),
    "to_mps": lambda m: m.ones(2).to("mps"),
    "bogus": lambda m: m.ones(2, device="bogus"),
    "int": lambda m: m.ones(2, device=0),
    "fftfreq": lambda m: m.fft.fftfreq(4, device="cuda"),
}


@pytest.mark.parametrize("name", CUDA_TENSORS)
def test_tensors_on_cuda_raise_as_torch(name) -> None:
    same_as_torch(CUDA_TENSORS[name])


CPU_TENSORS = {
    "ones": lambda m: m.ones(2, device="cpu").tolist(),
    "cpu_index": lambda m: m.ones(2, device="cpu:0").tolist(),
    "device_obj": lambda m: m.arange(3, device=m.device("cpu")).tolist(),
    "logspace": lambda m: m.logspace(0, 1, 3, device="cpu").tolist(),
    "new_ones": lambda m: m.ones(2).new_ones(3, device="cpu").tolist(),
    "to_cpu_dtype": lambda m: m.ones(2).to(m.device("cpu"), m.float64).tolist(),
    "get_device": lambda m: m.ones(2).get_device(),
    "is_cpu": lambda m: (m.ones(2).is_cpu, m.ones(2).is_cuda, m.ones(2).is_meta, m.ones(2).is_mps),
    "device": lambda m: repr(m.ones(2).device),
    "cpu": lambda m: m.ones(2).cpu().tolist(),
}


@pytest.mark.parametrize("name", CPU_TENSORS)
def test_tensors_on_the_cpu(name) -> None:
    same_as_torch(CPU_TENSORS[name])


TYPES = {
    "float": lambda m: m.ones(2).type(),
    "long": lambda m: m.ones(2, dtype=m.int64).type(),
    "bool": lambda m: m.ones(2, dtype=m.bool).type(),
    "bfloat16": lambda m: m.ones(2, dtype=m.bfloat16).type(),
    "complex64": lambda m: m.ones(2, dtype=m.complex64).type(),
    "uint8": lambda m: m.ones(2, dtype=m.uint8).type(),
    "to_legacy": lambda m: (m.ones(2).type(m.LongTensor).tolist(), _str(m.ones(2).type(m.LongTensor).dtype)),
    "to_name": lambda m: _str(m.ones(2).type("torch.DoubleTensor").dtype),
    "to_dtype": lambda m: _str(m.ones(2).type(m.float64).dtype),
    "to_cuda_name": lambda m: m.ones(2).type("torch.cuda.FloatTensor"),
    "to_cuda_type": lambda m: m.ones(2).type(m.cuda.FloatTensor),
    "bad": lambda m: m.ones(2).type("bad"),
    "int": lambda m: m.ones(2).type(int),
    "dtype_name": lambda m: m.ones(2).type("torch.float64"),
    "typename": lambda m: m.typename(m.ones(2, dtype=m.int32)),
    "grad_fn_kept": lambda m: m.ones(2, requires_grad=True).type(m.DoubleTensor).requires_grad,
}


@pytest.mark.parametrize("name", TYPES)
def test_legacy_type_conversions(name) -> None:
    same_as_torch(TYPES[name])


def test_set_default_device_refuses_cuda_at_once() -> None:
    """torch accepts ``set_default_device('cuda')`` and raises at the next factory call; chainrule
    raises the same error at once (documented)."""
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        chainrule.set_default_device("cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        with chainrule.device("cuda"):
            pass
    assert chainrule.ones(1).device == chainrule.device("cpu")


def test_meta_device_is_accepted() -> None:
    """'meta' tensors are made as ordinary CPU tensors (torch's have no data): documented."""
    assert chainrule.ones(2, device="meta").shape == (2,)
