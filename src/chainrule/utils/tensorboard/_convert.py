"""Values to NumPy arrays and images to the HWC layout TensorBoard shows, as torch.utils.tensorboard
converts them (the same arrays in give the same PNG bytes out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._tensor import Tensor

__all__ = ["SummaryValueError", "to_numpy", "make_grid", "convert_to_hwc", "figure_to_image"]


class SummaryValueError(ValueError, AssertionError):
    """A value SummaryWriter cannot log. torch's writer raises AssertionError for these (shape and
    layout checks written as asserts); this is a ValueError that ``except AssertionError`` catches
    too, so code written against either keeps working."""


def to_numpy(value: Any) -> np.ndarray:
    """A chainrule tensor, a NumPy array or a number as a NumPy array.

    A number becomes a 1-element array (as torch's writer makes it); a tensor is detached first.
    bfloat16 goes through float16 as torch's writer does, so that histograms of the same values agree.
    """
    if isinstance(value, np.ndarray):
        return value
    if np.isscalar(value):
        return np.array([value])
    if isinstance(value, Tensor):
        array = np.asarray(value.detach().cpu().numpy())  # a device tensor comes to the host
        if array.dtype.name == "bfloat16":  # ml_dtypes' bfloat16, a kind NumPy's routines do not know
            array = array.astype(np.float16)
        return array
    raise NotImplementedError(
        f"SummaryWriter: got a {type(value).__name__}; pass a chainrule Tensor, a NumPy array or a number"
    )


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """An (N, C, H, W) batch tiled row by row into one (3, H * rows, W * cols) image, zeros where the
    last row runs out; one channel is repeated into three."""
    if images.ndim == 4 and images.shape[1] == 1:
        images = np.concatenate([images, images, images], 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise SummaryValueError(
            f"add_images: a batch of images must have 1 or 3 channels; got shape {images.shape} "
            "after reordering to NCHW (check dataformats)"
        )
    count, _, height, width = images.shape
    ncols = min(count, ncols)
    nrows = -(-count // ncols) if count else 0
    canvas = np.zeros((3, height * nrows, width * ncols), dtype=images.dtype)
    for index in range(count):
        row, col = divmod(index, ncols)
        canvas[:, row * height : (row + 1) * height, col * width : (col + 1) * width] = images[index]
    return canvas


def convert_to_hwc(array: np.ndarray, dataformats: str) -> np.ndarray:
    """Reorder an image (or a batch, tiled by ``make_grid``) given as ``dataformats`` (``"CHW"``,
    ``"HWC"``, ``"HW"``, ``"NCHW"``, ``"NHWC"``, any order of those letters) to height, width, 3 or
    4 channels."""
    layout = dataformats.upper()
    if len(set(layout)) != len(layout) or not set(layout) <= set("NCHW"):
        raise SummaryValueError(
            f"add_image: dataformats {dataformats!r} must name each of N, C, H, W at most once "
            "(e.g. 'CHW', 'HWC', 'HW', 'NCHW')"
        )
    if array.ndim != len(layout):
        raise SummaryValueError(
            f"add_image: the image has {array.ndim} dims (shape {tuple(array.shape)}) but dataformats "
            f"{dataformats!r} names {len(layout)}; pass the dataformats that matches the image"
        )
    if len(layout) == 4:
        return make_grid(array.transpose([layout.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(layout) == 3:
        if "N" in layout:
            raise SummaryValueError(
                f"add_image: dataformats {dataformats!r} needs C, H and W for a 3-d image"
            )
        hwc = array.transpose([layout.find(c) for c in "HWC"])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    if len(layout) == 2 and set(layout) == {"H", "W"}:
        hw = array.transpose([layout.find(c) for c in "HW"])
        return np.stack([hw, hw, hw], 2)
    raise SummaryValueError(f"add_image: dataformats {dataformats!r} must be one of CHW, HWC, HW, NCHW, NHWC")


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure (or a list of them) to a uint8 CHW array (NCHW for a list)."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as error:  # pragma: no cover - matplotlib is in the test extra
        raise ImportError("add_figure needs matplotlib: pip install matplotlib") from error

    def render(figure) -> np.ndarray:
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        width, height = figure.canvas.get_width_height()
        chw = np.moveaxis(rgba.reshape(height, width, 4)[:, :, :3], 2, 0)
        if close:
            plt.close(figure)
        return chw

    if isinstance(figures, list):
        return np.stack([render(figure) for figure in figures])
    return render(figures)
