"""``Summary`` protocol buffers built from chainrule tensors, NumPy arrays and numbers.

Each function returns one of the tensorboard package's own ``Summary`` messages (the protos that
TensorBoard's readers parse), laid out as torch.utils.tensorboard lays them out: the same tags, plugin
names and fields, so that a run logged from chainrule and one logged from torch read back the same.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ..._tensor import Tensor
from ._convert import SummaryValueError, convert_to_hwc, to_numpy

__all__ = [
    "TENSORFLOW_BINS",
    "scalar",
    "tensor_proto",
    "histogram",
    "histogram_raw",
    "make_histogram",
    "image",
    "make_image",
    "text",
    "audio",
    "hparams",
    "pr_curve",
    "pr_curve_raw",
    "compute_curve",
    "custom_scalars",
]


def _tensorflow_bins() -> list[float]:
    # TensorFlow's default histogram edges: +-1e-12 growing by 10 % up to 1e20, and 0. Built by
    # repeated multiplication, as torch builds them, so the floats are bit for bit the same.
    edge, positive = 1e-12, []
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    return [-e for e in reversed(positive)] + [0] + positive


#: the edges ``add_histogram(bins="tensorflow")`` (the default) uses
TENSORFLOW_BINS = _tensorflow_bins()


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Summary:
    """One number under ``tag``: ``simple_value``, or with ``new_style`` a scalars-plugin tensor
    (float, or double with ``double_precision``)."""
    array = to_numpy(value).squeeze()
    if array.ndim != 0:
        raise SummaryValueError(
            f"add_scalar({tag!r}): the value must hold one element; got shape {tuple(array.shape)} "
            "(log a reduction such as .mean(), or use add_histogram / add_scalars)"
        )
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    if double_precision:
        proto = TensorProto(double_val=[number], dtype="DT_DOUBLE")
    else:
        proto = TensorProto(float_val=[number], dtype="DT_FLOAT")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=metadata)])


# NumPy dtype name -> (TensorProto dtype, the proto field its values go in)
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val"),
    "bfloat16": ("DT_BFLOAT16", "half_val"),
    "float32": ("DT_FLOAT", "float_val"),
    "float64": ("DT_DOUBLE", "double_val"),
    "int8": ("DT_INT8", "int_val"),
    "uint8": ("DT_UINT8", "uint32_val"),
    "int16": ("DT_INT16", "int_val"),
    "int32": ("DT_INT32", "int_val"),
    "int64": ("DT_INT64", "int64_val"),
    "bool": ("DT_BOOL", "bool_val"),
    "complex64": ("DT_COMPLEX64", "scomplex_val"),
    "complex128": ("DT_COMPLEX128", "dcomplex_val"),
}


def tensor_proto(tag: str, value: Any) -> Summary:
    """A whole tensor's values under ``tag`` (the "tensor" plugin), in the field for its dtype."""
    if isinstance(value, Tensor):
        array = np.asarray(value.detach().cpu().numpy())  # bfloat16 kept: it has its own proto dtype
    else:
        array = to_numpy(value)
    if array.nbytes >= 1 << 31:
        raise ValueError(f"add_tensor({tag!r}): the tensor is over protobuf's hard limit of 2 GB")
    if array.dtype.name not in _TENSOR_FIELDS:
        raise ValueError(f"add_tensor({tag!r}): unsupported tensor dtype {array.dtype}")
    dtype, field = _TENSOR_FIELDS[array.dtype.name]
    flat = array.reshape(-1)
    if field == "half_val":
        # torch stores the float32 bit pattern of each value (as an int) in half_val
        values = flat.astype(np.float32).view(np.int32).tolist()
    elif field in ("scomplex_val", "dcomplex_val"):
        values = np.stack([flat.real, flat.imag], -1).reshape(-1).tolist()
    else:
        values = flat.tolist()
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in array.shape])
    proto = TensorProto(dtype=dtype, tensor_shape=shape, **{field: values})
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="tensor"))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def histogram_raw(
    tag: str,
    min: float,
    max: float,
    num: int,
    sum: float,
    sum_squares: float,
    bucket_limits: Sequence[float],
    bucket_counts: Sequence[float],
) -> Summary:
    """A histogram whose buckets the caller counted (``add_histogram_raw``)."""
    histo = HistogramProto(
        min=min,
        max=max,
        num=num,
        sum=sum,
        sum_squares=sum_squares,
        bucket_limit=bucket_limits,
        bucket=bucket_counts,
    )
    return Summary(value=[Summary.Value(tag=tag, histo=histo)])


def histogram(tag: str, values: Any, bins: Any, max_bins: int | None = None) -> Summary:
    """The histogram of ``values`` (in float64) with ``bins`` as ``numpy.histogram`` takes them."""
    histo = make_histogram(to_numpy(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=tag, histo=histo)])


def make_histogram(values: np.ndarray, bins: Any, max_bins: int | None = None) -> HistogramProto:
    """Count ``values`` into ``bins``, merge neighbours down to ``max_bins``, and keep the buckets from
    one before the first non-empty bucket to the last non-empty one (TensorBoard's layout: each
    ``bucket_limit`` is the upper edge of its bucket)."""
    if values.size == 0:
        raise ValueError("add_histogram: the input has no element; log a non-empty tensor")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins  # neighbours merged into one bucket
        short = len(counts) % group
        if short:
            counts = np.pad(counts, (0, group - short))
        counts = counts.reshape(-1, group).sum(axis=-1)
        limits = np.concatenate([limits[:-1:group][: counts.size], limits[-1:]])
    filled = np.cumsum(counts > 0)
    first, last = np.searchsorted(filled, [0, filled[-1] - 1], side="right")
    first, stop = int(first), int(last) + 1
    counts = counts[first - 1 : stop] if first > 0 else np.concatenate([[0], counts[:stop]])
    limits = limits[first : stop + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError(
            "add_histogram: no value falls inside the bins (values beyond +-1e20, or NaN/inf, with "
            "bins='tensorflow'); pass bins='auto' or explicit edges"
        )
    return HistogramProto(
        min=values.min(),
        max=values.max(),
        num=len(values),
        sum=values.sum(),
        sum_squares=values.dot(values),
        bucket_limit=limits.tolist(),
        bucket=counts.tolist(),
    )


def make_image(array: np.ndarray, rescale: float = 1) -> Summary.Image:
    """A uint8 HWC array as a PNG-encoded ``Summary.Image`` (resized by ``rescale``)."""
    from PIL import Image  # Pillow comes with matplotlib and with tensorboard's own extras

    height, width, channels = array.shape
    picture = Image.fromarray(array)
    # resized even at rescale=1 (a no-op for the pixels) so the PNG bytes equal torch's
    picture = picture.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    with io.BytesIO() as buffer:
        picture.save(buffer, format="PNG")
        encoded = buffer.getvalue()
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)


def image(tag: str, value: Any, rescale: float = 1, dataformats: str = "NCHW") -> Summary:
    """An image (or a batch tiled into one) under ``tag``: uint8 values are pixels as they are,
    any other dtype is read as [0, 1] and scaled by 255; both clipped to [0, 255]."""
    array = convert_to_hwc(to_numpy(value), dataformats)
    scale = 1 if array.dtype == np.uint8 else 255
    pixels = (array.astype(np.float32) * scale).clip(0, 255)
    with np.errstate(invalid="ignore"):  # NaN pixels cast to 0, as torch's writer casts them
        pixels = pixels.astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(pixels, rescale=rescale))])


def text(tag: str, text_string: str) -> Summary:
    """A string under ``tag + "/text_summary"`` (the text plugin renders it as Markdown)."""
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(
            plugin_name="text", content=TextPluginData(version=0).SerializeToString()
        )
    )
    proto = TensorProto(
        dtype="DT_STRING",
        string_val=[text_string.encode("utf_8")],
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
    )
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)])


def audio(tag: str, value: Any, sample_rate: int = 44100) -> Summary:
    """A mono clip (values in [-1, 1], clipped beyond) as 16-bit WAV under ``tag``."""
    import wave

    array = to_numpy(value).squeeze()
    if array.size and np.abs(array).max() > 1:
        warnings.warn(f"add_audio({tag!r}): amplitude beyond [-1, 1], clipped", stacklevel=3)
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise SummaryValueError(
            f"add_audio({tag!r}): the clip must be 1-d (one channel); got shape {tuple(array.shape)}"
        )
    samples = (array * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as buffer:
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.data)
        encoded = buffer.getvalue()
    clip = Summary.Audio(
        sample_rate=sample_rate,
        num_channels=1,
        length_frames=samples.shape[-1],
        encoded_audio_string=encoded,
        content_type="audio/wav",
    )
    return Summary(value=[Summary.Value(tag=tag, audio=clip)])


def _hparams_summary(tag: str, **content: Any) -> Summary:
    from tensorboard.plugins.hparams.metadata import PLUGIN_DATA_VERSION, PLUGIN_NAME
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content)
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=data.SerializeToString())
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def hparams(
    hparam_dict: Mapping[str, Any],
    metric_dict: Mapping[str, Any],
    hparam_domain_discrete: Mapping[str, list] | None = None,
) -> tuple[Summary, Summary, Summary]:
    """The three summaries of one hparams session: the experiment (which hparams and metrics there
    are), the session start (this run's values) and the session end."""
    from tensorboard.plugins.hparams.api_pb2 import (
        DataType,
        Experiment,
        HParamInfo,
        MetricInfo,
        MetricName,
        Status,
    )
    from tensorboard.plugins.hparams.metadata import (
        EXPERIMENT_TAG,
        SESSION_END_INFO_TAG,
        SESSION_START_INFO_TAG,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    if not isinstance(hparam_dict, dict):
        raise TypeError("add_hparams: hparam_dict should be a dictionary, nothing logged")
    if not isinstance(metric_dict, dict):
        raise TypeError("add_hparams: metric_dict should be a dictionary, nothing logged")
    discrete = hparam_domain_discrete or {}
    if not isinstance(discrete, dict):
        raise TypeError("add_hparams: hparam_domain_discrete should be a dictionary, nothing logged")
    for name, domain in discrete.items():
        if (
            name not in hparam_dict
            or not isinstance(domain, list)
            or not all(isinstance(d, type(hparam_dict[name])) for d in domain)
        ):
            raise TypeError(
                f"add_hparams: hparam_domain_discrete[{name!r}] should be a list of the same type as "
                f"hparam_dict[{name!r}]"
            )

    start = SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        # bool is an int, so True is logged as the number 1.0 (torch's writer tests int first too)
        if isinstance(value, (int, float)):
            start.hparams[name].number_value = value
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(value, str):
            start.hparams[name].string_value = value
            kind, field = "DATA_TYPE_STRING", "string_value"
        elif isinstance(value, Tensor):
            start.hparams[name].number_value = to_numpy(value).reshape(-1)[0]
            infos.append(HParamInfo(name=name, type=DataType.Value("DATA_TYPE_FLOAT64")))
            continue
        else:
            raise ValueError(
                f"add_hparams: hparam {name!r} is a {type(value).__name__}; a value should be one of "
                "int, float, str, bool, or Tensor"
            )
        domain = None
        if name in discrete:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in discrete[name]])
        infos.append(HParamInfo(name=name, type=DataType.Value(kind), domain_discrete=domain))

    metrics = [MetricInfo(name=MetricName(tag=tag)) for tag in metric_dict]
    experiment = _hparams_summary(
        EXPERIMENT_TAG, experiment=Experiment(hparam_infos=infos, metric_infos=metrics)
    )
    session_start = _hparams_summary(SESSION_START_INFO_TAG, session_start_info=start)
    session_end = _hparams_summary(
        SESSION_END_INFO_TAG, session_end_info=SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))
    )
    return experiment, session_start, session_end


def compute_curve(
    labels: np.ndarray, predictions: np.ndarray, num_thresholds: int, weights: Any = None
) -> np.ndarray:
    """The (6, num_thresholds) table of a PR curve: true/false positives, true/false negatives,
    precision and recall at each threshold ``i / (num_thresholds - 1)``."""
    tiny = 1e-7  # keeps precision and recall finite where nothing is predicted positive
    weights = 1.0 if weights is None else weights
    bucket = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    span = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket, bins=num_thresholds, range=span, weights=positive * weights)
    fp_buckets, _ = np.histogram(bucket, bins=num_thresholds, range=span, weights=(1.0 - positive) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(tiny, tp + fp)
    recall = tp / np.maximum(tiny, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _pr_summary(tag: str, table: np.ndarray, num_thresholds: int) -> Summary:
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name="pr_curves", content=content)
    )
    proto = TensorProto(
        dtype="DT_FLOAT",
        float_val=table.reshape(-1).tolist(),
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in table.shape[:2]]),
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def pr_curve(
    tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None
) -> Summary:
    """A precision-recall curve of ``predictions`` (in [0, 1]) against 0/1 ``labels``."""
    num_thresholds = min(num_thresholds, 127)  # TensorBoard's plugin reads at most 127
    table = compute_curve(to_numpy(labels), to_numpy(predictions), num_thresholds, weights)
    return _pr_summary(tag, table, num_thresholds)


def pr_curve_raw(
    tag: str,
    tp: Any,
    fp: Any,
    tn: Any,
    fn: Any,
    precision: Any,
    recall: Any,
    num_thresholds: int = 127,
    weights: Any = None,
) -> Summary:
    """A precision-recall curve from counts the caller computed (``add_pr_curve_raw``)."""
    num_thresholds = min(num_thresholds, 127)
    table = np.stack([to_numpy(x) for x in (tp, fp, tn, fn, precision, recall)])
    return _pr_summary(tag, table, num_thresholds)


def custom_scalars(layout: Mapping[str, Mapping[str, Sequence]]) -> Summary:
    """The custom-scalars plugin's layout: ``{category: {chart title: [kind, tags]}}`` where kind is
    ``"Multiline"`` (any tags, regexes allowed) or ``"Margin"`` (value, lower, upper)."""
    categories = []
    for category, charts in layout.items():
        built = []
        for title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise SummaryValueError(
                        f"add_custom_scalars: the margin chart {title!r} needs 3 tags (value, lower, "
                        f"upper); got {len(tags)}"
                    )
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                chart = layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series]))
            else:
                chart = layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags))
            built.append(chart)
        categories.append(layout_pb2.Category(title=category, chart=built))
    proto = TensorProto(
        dtype="DT_STRING",
        string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
        tensor_shape=TensorShapeProto(),
    )
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="custom_scalars"))
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=proto, metadata=metadata)])
