"""Measure how much of torch's public API chainrule implements, and write docs/api-coverage.md.

Each public name of torch 2.13's namespaces below is one of:

- **implemented**: chainrule has it, and a test calls it against torch. For the namespaces of the
  API sweep (``torch``, ``torch.Tensor``, ``torch.nn.functional``, ``torch.linalg``, ``torch.special``,
  ``torch.fft``) that means an entry in ``tests/api_cases*.py``; for the others (classes such as
  modules, optimizers, distributions) a test file that uses the name (``.Name`` or ``"Name"``).
- **out of scope**, with the reason (quantization, sparse layouts, CUDA-only kernels, TorchScript
  internals, ...): ``OUT_OF_SCOPE`` below, one rule per reason;
- **missing**: everything else. A name chainrule has but no test calls counts as missing: a name
  that exists but fails is worse than a missing one.

Usage: ``python tools/api_coverage.py`` rewrites the document; ``--check`` exits 1 when the
document differs from what the code gives (``tests/test_api_coverage_doc.py`` runs it).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api-coverage.md"
TESTS = ROOT / "tests"
TARGET = 0.90  # of the in-scope names of each namespace (issue 10)

# (torch's namespace, chainrule's, the prefix of its names in the API sweep, or None)
NAMESPACES = [
    ("torch", "chainrule", "chainrule"),
    ("torch.Tensor", "chainrule.Tensor", "Tensor"),
    ("torch.nn", "chainrule.nn", None),
    ("torch.nn.functional", "chainrule.nn.functional", "F"),
    ("torch.nn.init", "chainrule.nn.init", None),
    ("torch.nn.utils", "chainrule.nn.utils", None),
    ("torch.linalg", "chainrule.linalg", "linalg"),
    ("torch.special", "chainrule.special", "special"),
    ("torch.fft", "chainrule.fft", "fft"),
    ("torch.autograd", "chainrule.autograd", None),
    ("torch.func", "chainrule.func", None),
    ("torch.optim", "chainrule.optim", None),
    ("torch.optim.lr_scheduler", "chainrule.optim.lr_scheduler", None),
    ("torch.optim.swa_utils", "chainrule.optim.swa_utils", None),
    ("torch.utils.data", "chainrule.utils.data", None),
    ("torch.utils.tensorboard", "chainrule.utils.tensorboard", None),
    ("torch.distributions", "chainrule.distributions", None),
]

# Out of scope, by reason: (reason, regular expression over "namespace.name"). The first match wins.
_TYPING = r"(Callable|Optional|TypeVar|Literal|ParamSpec|TYPE_CHECKING|Mapping|Sequence|cast|overload|" + (
    r"partial|ref|wraps|Self|SupportsFloat|TypedDict|override|Any|Union|Iterable|Iterator|Generic|"
    + r"NamedTuple|deprecated|inf|Number|TypeAlias|Tensor|DType|Counter|bisect_right|defaultdict|chain|"
    r"annotations|deepcopy)"
)
OUT_OF_SCOPE: list[tuple[str, str]] = [
    (
        "not torch API: a name from Python's typing/functools/math that torch's module imports",
        rf"^torch\.(nn\.functional|nn\.init|autograd|optim\.lr_scheduler|optim\.swa_utils|utils\.data|"
        rf"distributions|func|"
        rf"nn\.utils|fft|special|linalg)\.{_TYPING}$|^torch\.TYPE_CHECKING$|"
        r"^torch\.optim\.swa_utils\.(Module|LRScheduler|PARAM_LIST)$",
    ),
    (
        "quantization (quantized dtypes, observers and kernels)",
        r"quantiz|\.q_|qint|quint|qscheme|int_repr|fake_quant|per_channel|per_tensor|choose_qparams|fbgemm",
    ),
    (
        "sparse layouts (COO, CSR, CSC, BSR, BSC) and their kernels",
        r"sparse|_coo|csr|csc|bsr|bsc|crow_indices|ccol_indices|\.col_indices|\.row_indices|\.to_dense$|"
        r"coalesce|\.indices$|\.values$|\.indices_copy$|\.values_copy$|dense_dim|\.(d|h|s|sp|ssp|sad)d?mm$|"
        r"hspmm|\.smm$|\.dsmm$|\.hsmm$|sspaddmm|segment_reduce|SparseAdam|to_padded_tensor",
    ),
    ("named and nested tensors", r"\.names?$|refine_names|rename_?$|align_to|align_as|nested|jagged"),
    (
        "TorchScript, FX and export internals (chainrule is define-by-run only)",
        r"^torch\.(AliasDb|AnyType|Argument|ArgumentSpec|AwaitType|Block|BoolType|BufferDict|CallStack|"
        r"Capsule|ClassType|Code|CompilationUnit|CompleteArgumentSpec|ComplexType|ConcreteModuleType\w*|"
        r"DeepCopyMemoTable|DeviceObjType|DictType|EnumType|ErrorReport|ExecutionPlan|FileCheck|FloatType|"
        r"FunctionSchema|Future|FutureType|Graph|GraphExecutorState|Gradient|IODescriptor|InferredType|"
        r"IntType|InterfaceType|JITException|ListType|LiteScriptModule|LockingLogger|LoggerBase|"
        r"ModuleDict|Node|NoneType|NoopLogger|NumberType|OptionalType|ParameterDict|PyObjectType|"
        r"RRefType|Script\w+|StaticModule|StreamObjType|StringType|TensorType|TracingState|TupleType|"
        r"Type|UnionType|Use|Value|AggregationType|AVG|SUM|FatalError|import_ir_module\w*|parse_ir|parse_schema|"
        r"parse_type_comment|merge_type_from_type_comment|unify_type_list|fork|wait|cond|while_loop|"
        r"Sym\w+|sym_\w+|DispatchKey\w*|ExcludeDispatchKeyGuard|DisableTorchFunction\w*|Tag|"
        r"OperatorInfo|PRIVATE_OPS|\w*StorageContext|PyTorchFile\w+|ScriptModuleSerializer|"
        r"BenchmarkConfig|BenchmarkExecutionStats|ThroughputBenchmark|classproperty|"
        r"compiled_with_cxx11_abi|USE_\w+|get_file_path|prepare_multiprocessing_environment|"
        r"profiler_allow_cudagraph\w*|thread_safe_generator)$|handle_torch_function|has_torch_function|"
        r"\.func\.(debug_unwrap|functionalize)$|BroadcastingList|boolean_dispatch|assert_int_or_pair|"
        r"_notes$|\.DFIterDataPipe$|DataPipe|\.DataChunk$|functional_datapipe|datapipes_determinism|"
        r"non_deterministic|runtime_validation|argument_validation|is_tensor_like",
    ),
    (
        "CUDA, ROCm, XPU, MPS and other accelerator-only kernels and queries",
        r"cudnn|miopen|mkldnn|vulkan|\.is_(cuda|xpu|ipu|mps|mtia|maia|hpu|xla|meta)$|\.(xpu|ipu|mtia)$|"
        r"record_stream|_ipu_|_xla_|_gpu_|\.Stream$|\.Event$|AcceleratorError|OutOfMemoryError|"
        r"scaled_mm|scaled_grouped_mm|grouped_mm|ScalingType|SwizzleType|DataParallel|"
        r"\.nn\.SyncBatchNorm$|autocast_(increment|decrement)_nesting|kineto_available|Profiler\w+|"
        r"DeviceType$|\.autograd\.enforce_grad_layout_policy$",
    ),
    (
        "dtypes NumPy cannot hold (sub-byte, 8-bit and 4-bit floats, complex32), and the unsigned 16-64 bit "
        "ones torch 2.13 keeps as shells (no arithmetic kernels)",
        r"^torch\.(float8_\w+|float4_\w+|u?int[1-7]|bits\w+|bit|complex32|chalf|uint16|uint32|uint64)$|"
        r"\.Tensor\.chalf$",
    ),
    (
        "legacy typed storages (chainrule has UntypedStorage, torch's current storage API)",
        r"^torch\.((?!Untyped)\w+Storage|Storage|StorageBase|TypedStorage)$|\.Tensor\.storage_type$|\.Tensor\.storage$",
    ),
    (
        "removed from torch (calling it raises an error that names the replacement)",
        r"^torch\.(symeig|eig|lstsq|solve|matrix_rank)$|\.Tensor\.(symeig|eig|lstsq|solve)$",
    ),
    (
        "internal kernels that torch exposes but programs call through their public op",
        r"^torch\.(native_\w+|embedding_bag|batch_norm_(backward|elemt|gather|stats|update)\w*|norm_except_dim|"
        r"conv_tbc|embedding_renorm_|frobenius_norm|nuclear_norm_|_\w+|hash_tensor|"
        r"autocast_\w+|slice_inverse|alias_copy|affine_grid_generator|grid_sampler(_2d|_3d)?|"
        r"mvlgamma_|constant_pad_nd|rnn_(tanh|relu)(_cell)?|gru(_cell)?|lstm(_cell)?|"
        r"set_flush_denormal|init_num_threads|nonzero_static|is_vulkan_available|has_lapack|"
        r"has_mkl|has_openmp|has_spectral|is_distributed|get_device_module|empty_quantized)$|"
        r"\.Tensor\.(output_nr|module_load|reinforce|volatile|grad_dtype|hash_tensor|dim_order|"
        r"slice_inverse|nonzero_static|is_distributed|is_set_to|set_|is_shared|share_memory_|"
        r"map_|map2_|apply_|index|resize|resize_as)$|\.nn\.functional\.(native_channel_shuffle|conv_tbc)$|"
        r"\.(common_args|multi_dim_common|factory_common_args)$|\.nn\.(LinearCrossEntropy\w+|"
        r"Container|factory_kwargs)$|linear_cross_entropy|\.autograd\.(NestedIOFunction|variable|"
        r"is_view_replay_enabled)$|\.optim\.(Muon|swap_in_optimizer_params_and_state)$|"
        r"EPOCH_DEPRECATION_WARNING",
    ),
]
_RULES = [(reason, re.compile(pattern)) for reason, pattern in OUT_OF_SCOPE]
# layout and device queries stay in scope: programs ask them of any tensor (and get False)
_ALWAYS_IN_SCOPE = re.compile(
    r"\.Tensor\.is_(sparse|sparse_csr|quantized|nested|meta|mkldnn|vulkan|cuda|xpu|ipu|mps|mtia|maia|xla)$"
)


@dataclass
class Namespace:
    torch_name: str
    implemented: list = field(default_factory=list)
    out_of_scope: dict = field(default_factory=dict)  # reason -> names
    missing: list = field(default_factory=list)
    untested: list = field(default_factory=list)  # chainrule has it, no test calls it

    @property
    def in_scope(self) -> int:
        return len(self.implemented) + len(self.missing)

    @property
    def ratio(self) -> float:
        return len(self.implemented) / self.in_scope if self.in_scope else 1.0


def _public(obj) -> list[str]:
    names = [n for n in dir(obj) if not n.startswith("_")]
    if isinstance(obj, types.ModuleType):  # sub-modules are namespaces of their own, not names
        names = [n for n in names if not isinstance(getattr(obj, n, None), types.ModuleType)]
    return sorted(names)


def _resolve(dotted: str):
    module, _, attr = dotted.rpartition(".") if dotted.endswith(".Tensor") else (dotted, "", "")
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(found, attr, None) if attr else found


def _swept_names() -> set:
    """The names the API sweep calls against torch, and those it leaves to other tests (with why)."""
    sys.path.insert(0, str(TESTS))
    try:
        from api_cases import CASES, EXCLUDED  # the tests' tables, read where they live
    finally:
        sys.path.remove(str(TESTS))
    return set(CASES), set(EXCLUDED)


def _test_text() -> str:
    return "\n".join(p.read_text() for p in TESTS.rglob("*.py"))


def out_of_scope_reason(qualified: str) -> str | None:
    if _ALWAYS_IN_SCOPE.search(qualified):
        return None
    for reason, pattern in _RULES:
        if pattern.search(qualified):
            return reason
    return None


def measure() -> list[Namespace]:
    import torch  # noqa: F401  (the oracle: its namespaces define the names)

    (swept, excluded), text = _swept_names(), _test_text()
    result = []
    for torch_name, ours_name, prefix in NAMESPACES:
        theirs, ours = _resolve(torch_name), _resolve(ours_name)
        space = Namespace(torch_name)
        for name in _public(theirs):
            reason = out_of_scope_reason(f"{torch_name}.{name}")
            if reason is not None:
                space.out_of_scope.setdefault(reason, []).append(name)
            elif ours is None or not hasattr(ours, name):
                space.missing.append(name)
            elif prefix is not None and f"{prefix}.{name}" in swept:
                space.implemented.append(name)
            elif (prefix is None or f"{prefix}.{name}" in excluded) and re.search(
                rf"[.\"']{re.escape(name)}\b", text
            ):  # a class, or a name the sweep leaves to a test of its own
                space.implemented.append(name)
            else:
                space.untested.append(name)
                space.missing.append(name)
        result.append(space)
    return result


def render(spaces: list[Namespace]) -> str:
    lines = [
        "# API coverage against torch 2.13",
        "",
        "Generated by `tools/api_coverage.py` from torch 2.13's own namespaces; "
        "`tests/test_api_coverage_doc.py` fails when it is stale. A name counts as implemented when",
        "chainrule has it and a test calls it against torch (the API sweep of `tests/api_cases*.py`, or "
        "a test that",
        "uses the name); out of scope with the reason below; otherwise missing. The target is "
        f"{TARGET:.0%} of the in-scope names of each namespace.",
        "",
        "| namespace | implemented | in scope | coverage | out of scope | missing |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in spaces:
        n_out = sum(len(v) for v in s.out_of_scope.values())
        lines.append(
            f"| `{s.torch_name}` | {len(s.implemented)} | {s.in_scope} | {s.ratio:.1%} | {n_out} | "
            f"{len(s.missing)} |"
        )
    total_impl = sum(len(s.implemented) for s in spaces)
    total_scope = sum(s.in_scope for s in spaces)
    lines += [f"| **all** | {total_impl} | {total_scope} | {total_impl / total_scope:.1%} | | |", ""]
    for s in spaces:
        lines += [f"## `{s.torch_name}`", ""]
        if s.missing:
            untested = set(s.untested)
            shown = [f"`{n}`" + (" (untested)" if n in untested else "") for n in s.missing]
            lines += [f"**Missing ({len(s.missing)}):** " + ", ".join(shown), ""]
        implemented = ", ".join(f"`{n}`" for n in s.implemented)
        lines += [f"**Implemented ({len(s.implemented)}):** {implemented}", ""]
        for reason, names in s.out_of_scope.items():
            lines += [f"**Out of scope, {reason} ({len(names)}):** " + ", ".join(f"`{n}`" for n in names), ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/api-coverage.md is stale")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notes of torch's own namespaces
        text = render(measure()) + "\n"
    if args.check:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/api-coverage.md is stale: run `python tools/api_coverage.py`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(text.split("\n## ")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
