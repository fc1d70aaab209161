"""``chainrule.onnx.export``: trace one forward pass, write it as an ONNX model.

The model runs twice: once on the given inputs, and once on inputs whose values are changed and
whose dynamic axes are longer (n -> 2n + 1). The second run tells which dims of every value follow
a dynamic axis (so reshapes are written with 0 / -1 there), and catches what a single trace would
bake in silently: a tensor computed from the inputs outside the recorded graph (integer or
boolean ops, ops on tensors that need no grad) or drawn at random shows up as a constant whose
value changed between the two runs, an index computed from a dynamic size as a changed index,
and the export refuses them.
"""

from __future__ import annotations

import enum
import io
import os
import tempfile
import warnings

import numpy as np

from .._tensor import Tensor
from ..ops import from_numpy
from ._builder import GraphBuilder, OnnxExporterError, UnsupportedOperatorError
from ._module_converters import MODULE_CONVERTERS
from ._op_converters import OP_CONVERTERS
from ._trace import Trace, flatten, leaf_values_equal, same_structure, trace

__all__ = ["export", "is_in_onnx_export", "TrainingMode"]

DEFAULT_OPSET = 20  # torch 2.13 classic exporter's default
MIN_OPSET = 13  # Softmax over one axis, ReduceSum/Squeeze/Unsqueeze axes as inputs

_EXPORTING = [False]

# torch.onnx.export's other arguments: accepted, and ignored with a warning when they ask for something
_ACCEPTED = {
    "operator_export_type", "custom_opsets", "export_modules_as_functions", "autograd_inlining",
    "dynamic_shapes", "report", "optimize", "verify", "profile", "dump_exported_program",
    "artifacts_dir", "fallback", "external_data",
}  # fmt: skip


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: the mode the model is exported in."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export() -> bool:
    """True while ``chainrule.onnx.export`` runs the model."""
    return _EXPORTING[0]


def export(
    model,
    args=(),
    f=None,
    *,
    kwargs: dict | None = None,
    export_params: bool = True,
    verbose: bool | None = None,
    training: TrainingMode = TrainingMode.EVAL,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    opset_version: int | None = None,
    do_constant_folding: bool = True,
    dynamic_axes: dict | None = None,
    keep_initializers_as_inputs: bool = False,
    dynamo: bool = False,
    **ignored,
) -> None:
    """Export ``model`` as an ONNX model (torch.onnx.export's classic, tracing exporter).

    Parameters
    ----------
    model : an ``nn.Module`` (or a function of tensors) built from the supported layers (see
        docs/onnx.md): Linear, convolutions, pooling, norms, activations, Embedding, RNN/LSTM/GRU,
        MultiheadAttention and the Transformer layers, and the tensor ops between them.
    args : the example inputs: a tensor, or a tuple of them (a dict as its last element holds
        keyword arguments, as in torch).
    f : a path (written atomically: a temporary file renamed into place) or a binary file-like.
    kwargs : keyword arguments for the model.
    export_params : write the parameters as initializers named by their module path
        (``fc.weight``); False makes them graph inputs of those names instead.
    training : ``TrainingMode.EVAL`` (default: the model runs in eval mode, restored afterwards),
        ``PRESERVE`` or ``TRAINING``.
    input_names, output_names : names of the graph's inputs and outputs, in order.
    opset_version : the ONNX opset (default 20, as torch 2.13; 13 up to the installed ``onnx``'s newest).
    do_constant_folding : accepted for torch's signature; ONNX Runtime folds constant subgraphs
        (the transposed weights) when it loads the model.
    dynamic_axes : ``{name: [axis, ...]}`` or ``{name: {axis: "symbol"}}``: those dims are symbolic
        in the file, so it runs for other sizes of them (a dynamic batch size).
    keep_initializers_as_inputs : also list the initializers among the graph's inputs.
    dynamo : must be False: only the tracing exporter exists here.

    Raises
    ------
    UnsupportedOperatorError : the traced graph holds an op (or module) without an ONNX form; the
        message names it.
    """
    try:
        import onnx
    except ImportError as e:  # an optional dependency: pip install chainrule[onnx]
        raise ImportError("chainrule.onnx.export needs the `onnx` package: pip install onnx") from e
    if dynamo:
        raise OnnxExporterError("onnx.export: dynamo=True is not supported; chainrule exports by tracing")
    for name, value in ignored.items():
        if name not in _ACCEPTED:
            raise TypeError(f"export() got an unexpected keyword argument {name!r}")
        if value not in (None, False, {}, ()):
            warnings.warn(f"onnx.export: {name}={value!r} is not supported here and is ignored", stacklevel=2)
    if f is None:
        raise ValueError("onnx.export: give f, a file path or a binary file-like object")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"onnx.export: opset_version={opset} is not supported; use {MIN_OPSET} to {newest}")
    args, kwargs = _split_args(args, kwargs)
    leaves, _ = flatten((args, kwargs))
    for t in leaves:
        if t.is_complex():
            raise OnnxExporterError("onnx.export: complex inputs are not supported")
    in_names = _names(input_names, len(leaves), "input", "input_names")
    saved_modes = _set_mode(model, training)
    saved_flags = _params_requiring_grad(model)
    # the two runs must leave no trace (BatchNorm's running statistics in training mode)
    saved_buffers = [(b, b._data.copy()) for b in model.buffers()] if hasattr(model, "buffers") else []
    _EXPORTING[0] = True
    try:
        first, second = _trace_twice(model, args, kwargs, leaves, in_names, dynamic_axes or {})
        out_names = _names(output_names, len(first.outputs), "output", "output_names")
        proto = _build(onnx, model, first, second, in_names, out_names, dynamic_axes or {}, opset,
                       export_params, keep_initializers_as_inputs)  # fmt: skip
    finally:
        _EXPORTING[0] = False
        for p, flag in saved_flags:
            p.requires_grad_(flag)
        for m, mode in saved_modes:
            m.training = mode
        for b, data in saved_buffers:
            b._data[...] = data
    onnx.checker.check_model(proto)
    _write(proto.SerializeToString(), f)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))


def _split_args(args, kwargs):
    if isinstance(args, Tensor):
        args = (args,)
    elif not isinstance(args, tuple):
        args = tuple(args) if isinstance(args, list) else (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):  # torch: a trailing dict holds keyword arguments
        kwargs.update(args[-1])
        args = args[:-1]
    return args, kwargs


def _names(given, n: int, stem: str, what: str) -> list[str]:
    given = list(given or [])
    if len(given) > n:
        raise ValueError(f"onnx.export: {len(given)} {what} for {n} {stem}s")
    defaults = [f"{stem}.{i + 1}" if n > 1 else stem for i in range(n)]
    names = given + defaults[len(given) :]
    if len(set(names)) != len(names):
        raise ValueError(f"onnx.export: {what} repeats a name: {names}")
    return names


def _set_mode(model, training) -> list:
    """Put the model in the requested mode; returns each module's previous mode."""
    if not hasattr(model, "modules"):
        return []
    saved = [(m, m.training) for m in model.modules()]
    mode = TrainingMode(int(training)) if not isinstance(training, TrainingMode) else training
    if mode is not TrainingMode.PRESERVE:
        model.train(mode is TrainingMode.TRAINING)
    return saved


def _params_requiring_grad(model) -> list:
    """Make every floating parameter require grad (so its ops are recorded); returns the old flags."""
    saved = []
    if hasattr(model, "parameters"):
        for p in model.parameters():
            if p.is_floating_point() and not p.requires_grad:
                saved.append((p, False))
                p.requires_grad_(True)
    return saved


def _input_tensor(array: np.ndarray, like: Tensor) -> Tensor:
    t = from_numpy(np.array(array, copy=True))
    if t.is_floating_point():
        t.requires_grad_()
    return t


def _axes_of(dynamic_axes: dict, name: str) -> dict:
    axes = dynamic_axes.get(name)
    if axes is None:
        return {}
    if isinstance(axes, dict):
        return {int(a): str(s) for a, s in axes.items()}
    return {int(a): f"{name}_dynamic_axes_{j + 1}" for j, a in enumerate(axes)}


def _trace_twice(model, args, kwargs, leaves, in_names, dynamic_axes) -> tuple[Trace, Trace]:
    """The traced run, and a run on other values with each dynamic axis of length n grown to 2n + 1
    (so that sizes derived by division, n // 2, change too), or, where the model refuses that
    (a table of positions too short), to n + 1."""
    first = trace(model, args, kwargs, [t._data for t in leaves], MODULE_CONVERTERS, _input_tensor)
    has_dynamic = any(_axes_of(dynamic_axes, name) for name in in_names)
    for grow in ((lambda n: 2 * n + 1), (lambda n: n + 1)) if has_dynamic else ((lambda n: n),):
        varied = []
        for t, name in zip(leaves, in_names):
            a = t._data
            for axis in sorted(_axes_of(dynamic_axes, name)):
                axis = axis % max(a.ndim, 1)
                n = a.shape[axis]
                # repeat the entries cyclically (the last one when the axis is empty)
                picks = np.arange(grow(n)) % n if n else np.zeros(grow(n), np.int64)
                a = (
                    np.take(a, picks, axis=axis)
                    if n
                    else np.zeros(a.shape[:axis] + (grow(n),) + a.shape[axis + 1 :], a.dtype)
                )
            varied.append(_other_values(a))
        try:
            second = trace(model, args, kwargs, varied, MODULE_CONVERTERS, _input_tensor)
            break
        except Exception as e:
            error = e
    else:
        raise OnnxExporterError(
            "onnx.export: running the model again on inputs with other values (and the dynamic axes "
            f"longer), to find what depends on them, failed: {error}"
        ) from error
    if not same_structure(first, second):
        raise OnnxExporterError(
            "onnx.export: the model ran different ops for inputs of other values or sizes (control flow "
            "that depends on the inputs); such a model cannot be written as one ONNX graph"
        )
    return first, second


def _other_values(a: np.ndarray) -> np.ndarray:
    """The same shape and dtype, other values: floats moved one place along and scaled, so that
    a mask made from them (x > 0) changes as well as their values, while they stay in the range a
    model expects; booleans negated; integers moved one place along (they stay valid indices), or,
    all equal, replaced by another valid one."""
    if a.dtype.kind in "fc":
        moved = np.roll(a.reshape(-1), 1).reshape(a.shape) if a.size else a
        return moved * np.asarray(0.75, a.dtype) + np.asarray(0.125, a.dtype)
    if a.dtype == bool:
        return ~a
    if a.size == 0:
        return a
    rolled = np.roll(a.reshape(-1), 1).reshape(a.shape)
    if np.array_equal(rolled, a) and a.reshape(-1)[0] > 0:
        return np.zeros_like(a)
    return rolled


class Emitter:
    """What converters see: the builder, the traced shapes and dtypes, the names of the values."""

    def __init__(
        self, builder: GraphBuilder, first: Trace, second: Trace, input_names: list, param_names: dict,
        export_params: bool,
    ):  # fmt: skip
        self.b = builder
        self.input_names = input_names
        self.first, self.second = first, second
        self.param_names = param_names  # id(tensor) -> its module path ("fc.weight")
        self.export_params = export_params
        self.param_inputs: list = []  # (name, tensor) of parameters made graph inputs
        self.names: dict = {}  # (step key, output index) -> ONNX value name
        self.dyn: dict = {}
        self._params_done: dict = {}
        self._partner = {}
        for s1, s2 in zip(first.steps, second.steps):
            self._partner[s1.key] = s2
            for k, (shape, _) in s1.out_meta.items():
                other = s2.out_meta.get(k, (shape, None))[0]
                if len(other) != len(shape):
                    raise OnnxExporterError(
                        f"onnx.export: the rank of a {s1.label()} output changed with the inputs' sizes"
                    )
                self.dyn[(s1.key, k)] = tuple(a != b for a, b in zip(shape, other))

    def onnx_dtype(self, dtype) -> int:
        return self.b.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def ishape(self, step, i: int) -> tuple:
        child, k = step.inputs[i]
        return child.out_meta[k][0]

    def idtype(self, step, i: int):
        child, k = step.inputs[i]
        return child.out_meta[k][1]

    def idyn(self, step, i: int) -> tuple:
        child, k = step.inputs[i]
        return self.dyn[(child.key, k)]

    def oshape(self, step, k: int = 0) -> tuple:
        return step.out_meta[k][0]

    def oshape2(self, step, k: int = 0) -> tuple:
        """Output ``k``'s shape in the second run (the dynamic axes longer)."""
        return self._partner[step.key].out_meta[k][0]

    def input_dim_of(self, size: int, size2: int) -> tuple | None:
        """(graph input name, axis) of a dynamic input dim of these sizes in the two runs, if any."""
        for t, t2, name in zip(self.first.inputs, self.second.inputs, self.input_names):
            for axis, (a, b) in enumerate(zip(t.shape, t2.shape)):
                if a != b and (a, b) == (size, size2):
                    return (name, axis)
        return None

    def odtype(self, step, k: int = 0):
        return step.out_meta[k][1]

    def odyn(self, step, k: int = 0) -> tuple:
        return self.dyn[(step.key, k)]

    def out_array(self, step, k: int = 0) -> np.ndarray:
        return step.out_tensors[k]._data

    def array_param(self, step, i: int, view=None) -> np.ndarray:
        """Node parameter ``i``, an array (seen through ``view``): refused when it changed with the
        inputs (a mask computed from them outside the recorded graph)."""
        ours, other = step.obj.params[i], self._partner[step.key].obj.params[i]
        if view is not None:
            ours, other = view(ours), view(other)
        ours = ours._data if isinstance(ours, Tensor) else np.asarray(ours)
        other = other._data if isinstance(other, Tensor) else np.asarray(other)
        if ours.shape != other.shape or not np.array_equal(ours, other):
            raise _input_dependent(f"the mask of {step.obj.op.name}")
        return ours

    def input_for_array(self, array) -> str | None:
        for t, name in zip(self.first.inputs, self.input_names):
            if t._data is array:
                return name
        return None

    def param(self, tensor: Tensor) -> str:
        """The value name of a parameter or buffer (an initializer, or an input without export_params)."""
        key = id(tensor)
        if key in self._params_done:
            return self._params_done[key]
        name = self.param_names.get(key)
        if name is None:
            name = self.b.initializer(tensor._data)
        elif self.export_params:
            self.b.initializer(tensor._data, name)
        else:
            self.b.reserve(name)
            self.param_inputs.append((name, tensor))
        self._params_done[key] = name
        return name

    def emit(self, step) -> None:
        if step.kind == "leaf":
            self.names[(step.key, 0)] = self._leaf(step)
            return
        ins = [None if ref is None else self.names[(ref[0].key, ref[1])] for ref in step.inputs]
        if step.kind == "call":
            module = step.obj.module
            outs = MODULE_CONVERTERS[type(module)](self, step, ins)
            for k, name in enumerate(outs):
                self.names[(step.key, k)] = name
            return
        op = step.obj.op
        if op.name in _FIXED_PARAMS and not _same_value(
            step.obj.params[1], self._partner[step.key].obj.params[1]
        ):
            raise OnnxExporterError(
                f"onnx.export: the index or sizes of {op.name} ({op.node_name}) changed with the dynamic "
                f"axes ({step.obj.params[1]!r}, then {self._partner[step.key].obj.params[1]!r}): they were "
                "computed from a size the file cannot follow; index with negative numbers from the end, "
                "or export without that dynamic axis"
            )
        convert = OP_CONVERTERS.get(op.name)
        if convert is None:
            raise UnsupportedOperatorError(
                f"onnx.export: the op {op.name!r} ({op.node_name} in the graph) has no ONNX translation; "
                "supported ops: " + ", ".join(sorted(n for n in OP_CONVERTERS if not n.startswith("_")))
            )
        self.names[(step.key, 0)] = convert(self, step, ins)

    def _leaf(self, step) -> str:
        t = step.obj
        index = self.first.input_ids.get(id(t))
        if index is not None:
            return self.input_names[index]
        if id(t) in self.param_names:
            return self.param(t)
        other = self._partner[step.key].obj
        if not leaf_values_equal(t, other):
            raise _input_dependent(f"a tensor of shape {list(t.shape)} and dtype {t.dtype}")
        return self.b.initializer(t._data)


# ops whose second parameter (an index, repeat counts) is written into the file as it was traced
_FIXED_PARAMS = {"getitem", "narrow", "select", "index_select", "repeat"}


def _same_value(a, b) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _input_dependent(what: str) -> OnnxExporterError:
    return OnnxExporterError(
        f"onnx.export: {what} changed when the model ran again on other input values or sizes, but the "
        "recorded graph does not say how it was computed (integer or boolean ops, ops on tensors that "
        "need no grad, random numbers, or a shape read from an input): it would be written as a wrong "
        "constant. Compute it from float ops on the inputs, pass it as an input, or make it a buffer"
    )


def _build(onnx, model, first, second, in_names, out_names, dynamic_axes, opset, export_params, as_inputs):
    helper = onnx.helper
    for key in dynamic_axes:
        if key not in in_names and key not in out_names:
            warnings.warn(
                f"onnx.export: dynamic_axes names {key!r}, which is no input or output name", stacklevel=3
            )
    builder = GraphBuilder(onnx, opset)
    for name in in_names + out_names:
        builder.reserve(name)
    param_names = {}
    if hasattr(model, "named_parameters"):
        for name, p in list(model.named_buffers()) + list(model.named_parameters()):
            param_names[id(p)] = name
    ctx = Emitter(builder, first, second, in_names, param_names, export_params)
    for step in first.steps:
        ctx.emit(step)
    for (step, k), name in zip(first.roots, out_names):
        builder.add("Identity", [ctx.names[(step.key, k)]], outputs=[name])

    def value_info(name, t: Tensor, dyn: tuple):
        axes = _axes_of(dynamic_axes, name)
        dims = [
            axes.get(d, f"{name}_dim_{d}" if dyn[d] else int(size)) if d in axes or dyn[d] else int(size)
            for d, size in enumerate(t.shape)
        ]
        return helper.make_tensor_value_info(name, ctx.onnx_dtype(t._data.dtype), dims)

    inputs = []
    for t, t2, name in zip(first.inputs, second.inputs, in_names):
        inputs.append(value_info(name, t, tuple(a != b for a, b in zip(t.shape, t2.shape))))
    for name, t in ctx.param_inputs:
        inputs.append(helper.make_tensor_value_info(name, ctx.onnx_dtype(t._data.dtype), list(t.shape)))
    if as_inputs:
        for init in builder.initializers:
            inputs.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    outputs = [
        value_info(name, t, ctx.dyn[(step.key, k)])
        for (step, k), t, name in zip(first.roots, first.outputs, out_names)
    ]
    graph = helper.make_graph(builder.nodes, "main_graph", inputs, outputs, builder.initializers)
    opsets = [helper.make_opsetid("", opset)]
    return helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="chainrule",
        ir_version=helper.find_min_ir_version_for(opsets),
    )


def _write(data: bytes, f) -> None:
    """Write the model: to a path atomically (a temporary file in the same folder, then a rename),
    or into a binary file-like object."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".onnx-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    elif isinstance(f, io.TextIOBase):
        raise TypeError("onnx.export: f must be a path or a binary file-like object, got a text file")
    else:
        f.write(data)
