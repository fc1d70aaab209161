"""More pooling layers, as torch's: MaxPool3d, AvgPool3d, AdaptiveMaxPool1d/2d/3d,
AdaptiveAvgPool3d, LPPool1d/2d/3d, FractionalMaxPool2d/3d, MaxUnpool1d/2d/3d."""

from __future__ import annotations

from .._tensor import Tensor
from . import functional_pool_nd as P
from .module import Module
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "MaxPool3d",
    "AvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AdaptiveAvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]


def _tuple(v, n: int) -> tuple:
    return (v,) * n if isinstance(v, int | float) else tuple(v)


class MaxPool3d(MaxPool2d):
    """3-d max pooling over (N, C, D, H, W) inputs, as ``torch.nn.MaxPool3d`` (arguments as MaxPool2d)."""

    _fn = staticmethod(P.max_pool3d)


class AvgPool3d(AvgPool2d):
    """3-d average pooling over (N, C, D, H, W) inputs, as ``torch.nn.AvgPool3d``."""

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size, as ``torch.nn.AdaptiveMaxPool2d``; with
    ``return_indices`` also each maximum's flat index (for ``MaxUnpool2d``)."""

    _fn = staticmethod(P.adaptive_max_pool2d)

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return self._fn(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """1-d adaptive max pooling, as ``torch.nn.AdaptiveMaxPool1d``."""

    _fn = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """3-d adaptive max pooling, as ``torch.nn.AdaptiveMaxPool3d``."""

    _fn = staticmethod(P.adaptive_max_pool3d)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """3-d adaptive average pooling, as ``torch.nn.AdaptiveAvgPool3d``."""

    _fn = staticmethod(P.adaptive_avg_pool3d)


class LPPool2d(Module):
    """Power-average pooling ``(sum over window of x ** p) ** (1 / p)``, as ``torch.nn.LPPool2d``."""

    _fn = staticmethod(P.lp_pool2d)

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = (
            norm_type,
            kernel_size,
            stride,
            ceil_mode,
        )

    def forward(self, input: Tensor) -> Tensor:
        return self._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(LPPool2d):
    """1-d power-average pooling, as ``torch.nn.LPPool1d``."""

    _fn = staticmethod(P.lp_pool1d)


class LPPool3d(LPPool2d):
    """3-d power-average pooling, as ``torch.nn.LPPool3d``."""

    _fn = staticmethod(P.lp_pool3d)


class FractionalMaxPool2d(Module):
    """Fractional max pooling, as ``torch.nn.FractionalMaxPool2d``: give ``output_size`` or
    ``output_ratio`` (in (0, 1)); the window starts are drawn from chainrule's generator each call
    unless ``_random_samples`` fixes them."""

    _nd = 2
    _fn = staticmethod(P.fractional_max_pool2d)

    def __init__(
        self,
        kernel_size,
        output_size=None,
        output_ratio=None,
        return_indices: bool = False,
        _random_samples=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _tuple(kernel_size, self._nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _tuple(output_size, self._nd) if output_size is not None else None
        self.output_ratio = _tuple(output_ratio, self._nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor):
        return self._fn(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool3d(FractionalMaxPool2d):
    """3-d fractional max pooling, as ``torch.nn.FractionalMaxPool3d``."""

    _nd = 3
    _fn = staticmethod(P.fractional_max_pool3d)


class MaxUnpool2d(Module):
    """The partial inverse of ``MaxPool2d``, as ``torch.nn.MaxUnpool2d``: ``forward(input,
    indices, output_size=None)`` writes each value at its index, zeros elsewhere."""

    _nd = 2
    _fn = staticmethod(P.max_unpool2d)

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        nd = self._nd
        self.kernel_size = _tuple(kernel_size, nd)
        self.stride = _tuple(stride if stride is not None else kernel_size, nd)
        self.padding = _tuple(padding, nd)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return self._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(MaxUnpool2d):
    """The partial inverse of ``MaxPool1d``, as ``torch.nn.MaxUnpool1d``."""

    _nd = 1
    _fn = staticmethod(P.max_unpool1d)


class MaxUnpool3d(MaxUnpool2d):
    """The partial inverse of ``MaxPool3d``, as ``torch.nn.MaxUnpool3d``."""

    _nd = 3
    _fn = staticmethod(P.max_unpool3d)
