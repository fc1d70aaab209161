"""``SummaryWriter``: log scalars, histograms, images, text, hparams, graphs and embeddings to event
files that TensorBoard reads, as ``torch.utils.tensorboard.SummaryWriter`` does.

The files are written by the tensorboard package's own ``EventFileWriter`` (a queue that a thread
flushes every ``flush_secs`` or when ``max_queue`` events wait), from its own protos: nothing here
knows the record format.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np
from tensorboard.compat import tf
from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary as summaries
from ._convert import SummaryValueError, figure_to_image, make_grid, to_numpy

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """One event file in ``log_dir``: events and summaries are queued and written by a background
    thread (``max_queue`` pending events force a write; ``flush_secs`` bounds how long they wait)."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        """The directory the event file is in."""
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        """Queue ``event``, stamped with ``walltime`` (now by default) and ``step``."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(
        self, summary: Summary, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Queue a ``Summary`` as an event."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile: tuple, walltime: float | None = None) -> None:
        """Queue a ``(GraphDef, RunMetadata)`` pair: the graph and its (tagged) run metadata."""
        graph, run_metadata = graph_profile
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        tagged = TaggedRunMetadata(tag="step1", run_metadata=run_metadata.SerializeToString())
        self.add_event(Event(tagged_run_metadata=tagged), None, walltime)

    def flush(self) -> None:
        """Write the pending events to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Write the pending events and close the file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """After ``close``, open a new event file in the same directory."""
        self.event_writer.reopen()


def _default_log_dir(comment: str) -> str:
    # runs/Dec06_01-02-03_hostname<comment>, torch's default: a new directory per run
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Write entries to event files in ``log_dir`` for TensorBoard to show.

    Parameters
    ----------
    log_dir : str, optional
        Where the event files go; default ``runs/CURRENT_DATETIME_HOSTNAME`` plus ``comment``.
    comment : str
        Appended to the default ``log_dir``; ignored when ``log_dir`` is given.
    purge_step : int, optional
        After a crash at step ``T + X`` and a restart at step ``T``: TensorBoard hides the events of
        earlier files in this directory whose step is ``>= T``.
    max_queue : int
        Pending events that force a write to disk.
    flush_secs : int
        How often, in seconds, pending events are written.
    filename_suffix : str
        Appended to the event file names.

    Every ``add_*`` value may be a chainrule Tensor, a NumPy array or a Python number. Use it as a
    context manager, or call ``close()``, so that the last events reach the disk.

    Examples
    --------
    >>> from chainrule.utils.tensorboard import SummaryWriter
    >>> with SummaryWriter("runs/exp1") as writer:           # doctest: +SKIP
    ...     for step in range(100):
    ...         writer.add_scalar("loss", 1.0 / (step + 1), step)
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        self.log_dir = log_dir if log_dir else _default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()
        #: the edges of ``add_histogram(bins="tensorflow")``
        self.default_bins = summaries.TENSORFLOW_BINS

    def _get_file_writer(self) -> FileWriter:
        """The main file writer, opened again (a new file) if ``close()`` closed it."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                # a file-version event and a session START at purge_step tell TensorBoard to drop
                # the events at and after that step from the earlier files
                self.file_writer.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(
                    Event(step=self.purge_step, session_log=SessionLog(status=SessionLog.START))
                )
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory the event files are written to."""
        return self.log_dir

    # ---- scalars ----
    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Log one number (a 1-element tensor or array is fine) under ``tag`` at ``global_step``.
        ``new_style`` stores it as a scalars-plugin tensor (``double_precision``: float64)."""
        self._get_file_writer().add_summary(
            summaries.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision),
            global_step,
            walltime,
        )

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log several numbers on one chart: each goes to its own run directory
        ``log_dir/<main_tag>_<tag>`` under the tag ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        assert self.all_writers is not None  # set by _get_file_writer
        for tag, value in tag_scalar_dict.items():
            run_dir = base + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(run_dir)
            if writer is None:
                writer = FileWriter(run_dir, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[run_dir] = writer
            writer.add_summary(summaries.scalar(main_tag, value), global_step, walltime)

    def add_tensor(
        self, tag: str, tensor: Any, global_step: int | None = None, walltime: float | None = None
    ):
        """Log a whole tensor's values (the "tensor" plugin)."""
        self._get_file_writer().add_summary(summaries.tensor_proto(tag, tensor), global_step, walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """Lay out the custom-scalars dashboard: ``{category: {title: ["Multiline" | "Margin", tags]}}``."""
        self._get_file_writer().add_summary(summaries.custom_scalars(layout))

    def add_custom_scalars_multilinechart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """One custom-scalars chart with a line per tag."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """One custom-scalars chart of a value between a lower and an upper tag."""
        if len(tags) != 3:
            raise SummaryValueError(f"add_custom_scalars_marginchart: expected 3 tags, got {len(tags)}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    # ---- distributions ----
    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Log the histogram of ``values``. ``bins``: ``"tensorflow"`` (TensorFlow's exponential
        edges, the default), any of ``numpy.histogram``'s names (``"auto"``, ``"fd"``, ...), a
        count, or the edges; ``max_bins`` merges neighbouring buckets down to that many."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(
            summaries.histogram(tag, values, bins, max_bins=max_bins), global_step, walltime
        )

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: int,
        sum: float,
        sum_squares: float,
        bucket_limits: Any,
        bucket_counts: Any,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log a histogram counted elsewhere: ``bucket_limits[i]`` is the upper edge of bucket i."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError(
                f"add_histogram_raw: {len(bucket_limits)} bucket_limits but {len(bucket_counts)} "
                "bucket_counts; pass one limit (the upper edge) per bucket"
            )
        self._get_file_writer().add_summary(
            summaries.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts),
            global_step,
            walltime,
        )

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """Log a precision-recall curve of ``predictions`` (probabilities) against 0/1 ``labels``."""
        self._get_file_writer().add_summary(
            summaries.pr_curve(tag, labels, predictions, num_thresholds, weights), global_step, walltime
        )

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """Log a precision-recall curve from counts computed elsewhere (one entry per threshold)."""
        self._get_file_writer().add_summary(
            summaries.pr_curve_raw(
                tag,
                true_positive_counts,
                false_positive_counts,
                true_negative_counts,
                false_negative_counts,
                precision,
                recall,
                num_thresholds,
                weights,
            ),
            global_step,
            walltime,
        )

    # ---- images, audio, text ----
    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Log one image: ``dataformats`` ``"CHW"`` (default), ``"HWC"`` or ``"HW"``; 1, 3 or 4
        channels; floats in [0, 1] or uint8 in [0, 255]."""
        self._get_file_writer().add_summary(
            summaries.image(tag, img_tensor, dataformats=dataformats), global_step, walltime
        )

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Log a batch of images (``"NCHW"`` or ``"NHWC"``) tiled into one, 8 to a row."""
        self._get_file_writer().add_summary(
            summaries.image(tag, img_tensor, dataformats=dataformats), global_step, walltime
        )

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """Render a matplotlib figure (or a list of figures, tiled) and log it as an image;
        ``close`` closes the figure afterwards."""
        if isinstance(figure, list):
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats="CHW")

    def add_audio(
        self,
        tag: str,
        snd_tensor: Any,
        global_step: int | None = None,
        sample_rate: int = 44100,
        walltime: float | None = None,
    ) -> None:
        """Log a mono sound clip (values in [-1, 1]) as WAV."""
        self._get_file_writer().add_summary(
            summaries.audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime
        )

    def add_video(self, *args: Any, **kwargs: Any) -> None:
        """Not supported: torch encodes videos as GIFs through moviepy; log frames with add_images."""
        raise NotImplementedError(
            "SummaryWriter.add_video is not supported by chainrule (torch needs moviepy for it); "
            "log the frames with add_images instead"
        )

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ):
        """Log a string (shown as Markdown) under ``tag``."""
        self._get_file_writer().add_summary(summaries.text(tag, text_string), global_step, walltime)

    # ---- hyperparameters, graphs, embeddings ----
    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Log one run's hyperparameters and final metrics for the HParams dashboard, in the
        sub-directory ``run_name`` (the current time by default). Values: bool, str, int, float,
        None (skipped) or a one-element Tensor."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("add_hparams: hparam_dict and metric_dict should be dictionaries")
        experiment, session_start, session_end = summaries.hparams(
            hparam_dict, metric_dict, hparam_domain_discrete
        )
        run_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run_dir) as run_writer:
            assert run_writer.file_writer is not None
            for entry in (experiment, session_start, session_end):
                run_writer.file_writer.add_summary(entry, global_step)
            for tag, value in metric_dict.items():
                run_writer.add_scalar(tag, value, global_step)

    def add_graph(
        self, model: Any, input_to_model: Any = None, verbose: bool = False, use_strict_trace: bool = True
    ) -> None:
        """Log the graph of one forward pass of ``model`` on ``input_to_model`` (a tensor or a
        tuple of them), read from the autograd graph that pass records: each differentiable op
        under the module that ran it. ``use_strict_trace`` is accepted for torch's signature.

        Ops that record no autograd node (integer ops, ops under ``no_grad``) are not shown.
        """
        from ._graph import build_graph

        self._get_file_writer().add_graph(build_graph(model, input_to_model, verbose))

    @staticmethod
    def _encode(raw: str) -> str:
        # a tag as one path component: % and the path separators escaped
        return raw.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(
        self,
        mat: Any,
        metadata: list | None = None,
        label_img: Any = None,
        global_step: int | None = None,
        tag: str = "default",
        metadata_header: list | None = None,
    ) -> None:
        """Log points for the Projector: ``mat`` (N, D), optional ``metadata`` (N labels, or N rows
        under ``metadata_header``) and ``label_img`` (N, C, H, W thumbnails)."""
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

        points = to_numpy(mat)
        step = 0 if global_step is None else global_step
        subdir = f"{str(step).zfill(5)}/{self._encode(tag)}"
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        gfile = tf.io.gfile
        if gfile.exists(save_path):
            if not gfile.isdir(save_path):
                raise NotADirectoryError(f"add_embedding: {save_path!r} exists and is a file")
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            gfile.makedirs(save_path)
        info = EmbeddingInfo(tensor_name=f"{tag}:{str(step).zfill(5)}", tensor_path=f"{subdir}/tensors.tsv")
        if metadata is not None:
            if points.shape[0] != len(metadata):
                raise SummaryValueError(
                    f"add_embedding: {len(metadata)} metadata labels for {points.shape[0]} points"
                )
            if metadata_header:
                if len(metadata_header) != len(metadata[0]):
                    raise SummaryValueError(
                        "add_embedding: metadata_header must have one name per metadata column"
                    )
                lines = ["\t".join(str(e) for e in row) for row in [metadata_header, *metadata]]
            else:
                lines = [str(x) for x in metadata]
            with gfile.GFile(f"{save_path}/metadata.tsv", "wb") as f:
                f.write(("\n".join(lines) + "\n").encode())
            info.metadata_path = f"{subdir}/metadata.tsv"
        if label_img is not None:
            thumbnails = to_numpy(label_img)
            if points.shape[0] != thumbnails.shape[0]:
                raise SummaryValueError(
                    f"add_embedding: {thumbnails.shape[0]} label images for {points.shape[0]} points"
                )
            self._write_sprite(thumbnails, save_path)
            info.sprite.image_path = f"{subdir}/sprite.png"
            info.sprite.single_image_dim.extend([thumbnails.shape[3], thumbnails.shape[2]])
        if points.ndim != 2:
            raise SummaryValueError(
                f"add_embedding: mat must be 2-d (points, features); got shape {tuple(points.shape)}"
            )
        with gfile.GFile(f"{save_path}/tensors.tsv", "wb") as f:
            for row in points:
                f.write(("\t".join(str(x.item()) for x in row) + "\n").encode())
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend([info])
        with gfile.GFile(f"{logdir}/projector_config.pbtxt", "wb") as f:
            f.write(text_format.MessageToString(self._projector_config).encode())

    @staticmethod
    def _write_sprite(thumbnails: np.ndarray, save_path: str) -> None:
        # the thumbnails tiled into one square PNG, as the Projector reads them
        import io

        from PIL import Image

        per_row = int(np.ceil(thumbnails.shape[0] ** 0.5))
        grid = make_grid(thumbnails, ncols=per_row)
        square = np.zeros((grid.shape[2], grid.shape[2], 3))
        square[: grid.shape[1]] = grid.transpose(1, 2, 0)
        picture = Image.fromarray(np.uint8((square * 255).clip(0, 255)))
        with io.BytesIO() as buffer:
            picture.save(buffer, format="PNG")
            with tf.io.gfile.GFile(f"{save_path}/sprite.png", "wb") as f:
                f.write(buffer.getvalue())

    # ---- files ----
    def flush(self) -> None:
        """Write all pending events of every run directory to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Write the pending events and close the files (a second close does nothing; a later
        ``add_*`` opens a new file)."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.close()
