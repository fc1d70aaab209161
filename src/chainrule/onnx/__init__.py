"""torch.onnx: export a model as an ONNX file by tracing one forward pass (``export``).

Needs the optional ``onnx`` package (``pip install chainrule[onnx]``); what exports is listed in
docs/onnx.md.
"""

from ._builder import OnnxExporterError, UnsupportedOperatorError
from ._export import TrainingMode, export, is_in_onnx_export

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OnnxExporterError", "UnsupportedOperatorError"]
