"""TensorBoard logging, as ``torch.utils.tensorboard``: ``SummaryWriter`` writes event files that
``tensorboard --logdir runs`` shows.

Needs the ``tensorboard`` package (``pip install 'chainrule[tensorboard]'``), whose event writer
and protos do the writing, as torch's module needs it.
"""

try:
    import tensorboard  # noqa: F401
except ImportError as error:
    raise ImportError(
        "chainrule.utils.tensorboard needs the tensorboard package, which is not installed: "
        "pip install 'chainrule[tensorboard]' (or pip install tensorboard)"
    ) from error

from tensorboard.summary.writer.record_writer import RecordWriter  # torch re-exports it too

from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
