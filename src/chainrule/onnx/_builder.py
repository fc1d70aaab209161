"""The ONNX graph being written: value names, nodes, initializers (the ``onnx`` package's helpers)."""

from __future__ import annotations

import numpy as np

__all__ = ["GraphBuilder", "UnsupportedOperatorError", "OnnxExporterError"]


class OnnxExporterError(RuntimeError):
    """An error of ``chainrule.onnx.export`` (torch's ``torch.onnx.errors.OnnxExporterError``)."""


class UnsupportedOperatorError(OnnxExporterError):
    """The traced graph holds an operation the exporter has no ONNX translation for."""


class GraphBuilder:
    """Collects ONNX nodes and initializers; hands out unique value names.

    ``opset`` is the target opset: converters write the operators it has.
    """

    def __init__(self, onnx_module, opset: int) -> None:
        self.onnx = onnx_module
        self.helper = onnx_module.helper
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = set()
        self._count = 0
        self._const_cache: dict = {}

    def fresh(self, hint: str) -> str:
        """A value name not used before, in torch's style (``/Relu_output_0`` becomes ``Relu_3``)."""
        while True:
            self._count += 1
            name = f"{hint}_{self._count}"
            if name not in self._used:
                self._used.add(name)
                return name

    def reserve(self, name: str) -> str:
        if name in self._used:
            raise OnnxExporterError(f"onnx.export: the name {name!r} is given to two values")
        self._used.add(name)
        return name

    def add(self, op_type: str, inputs: list, n_outputs: int = 1, outputs: list | None = None, **attrs):
        """Append a node; returns its output name (or the list of them when ``n_outputs > 1``)."""
        if outputs is None:
            outputs = [self.fresh(op_type) for _ in range(n_outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            self.helper.make_node(
                op_type, list(inputs), list(outputs), name=self.fresh(f"/{op_type}"), **attrs
            )
        )
        return outputs[0] if n_outputs == 1 else outputs

    def initializer(self, array: np.ndarray, name: str | None = None, hint: str = "onnx::Constant") -> str:
        """Store ``array`` as an initializer (named ``name``, or a fresh ``onnx::...`` name)."""
        name = self.reserve(name) if name is not None else self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, values, dtype=np.int64) -> str:
        """A small constant (shapes, axes, scalars), shared between the nodes that use it."""
        array = np.asarray(values, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._const_cache:
            self._const_cache[key] = self.initializer(array)
        return self._const_cache[key]
