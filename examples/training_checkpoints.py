"""Periodic training checkpoints for the MNIST examples: write, prune, and find the one to resume.

A checkpoint is one ``chainrule.save`` file named after its optimizer step
(``step-00000600.safetensors``). ``chainrule.save`` writes a hidden temporary file beside the target
and renames it over the target only once it is complete, so a file with a checkpoint's name is always
a whole checkpoint: a run killed mid-write leaves at most a hidden ``.step-....tmp`` file, which this
module never mistakes for a checkpoint. Older checkpoints are deleted only after the new one is in
place, so a kill at any moment leaves at least the previous one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import chainrule as torch

# the complete checkpoints only: chainrule.save's temporaries start with "." and end in ".tmp"
_NAME = re.compile(r"step-(\d+)\.safetensors")


def checkpoint_path(folder: Path, step: int) -> Path:
    """The file of the checkpoint taken after optimizer step ``step``."""
    return folder / f"step-{step:08d}.safetensors"


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """The complete checkpoints in ``folder`` as ``(step, path)``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def save_checkpoint(folder: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    """Write ``state`` as the checkpoint of ``step`` (atomically), then delete all but the ``keep``
    latest checkpoints in ``folder``; returns the new file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(folder, step)
    torch.save(state, path)
    # only now, with the new checkpoint complete, may the older ones go
    for _, old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(where: Path) -> tuple[dict[str, Any], Path]:
    """The checkpoint to resume from and its file: ``where`` itself if it is a file, else the latest
    checkpoint in the folder ``where`` that loads (a broken one is reported on stderr and skipped).

    Raises
    ------
    FileNotFoundError
        If ``where`` does not exist, or the folder holds no loadable checkpoint.
    ValueError
        If the file ``where`` is not a whole checkpoint (``chainrule.load``'s error).
    """
    if where.is_file():
        return torch.load(where), where
    if not where.is_dir():
        raise FileNotFoundError(f"--resume {where}: no such checkpoint file or folder")
    candidates = list_checkpoints(where)
    for _, path in reversed(candidates):
        try:
            return torch.load(path), path
        except (ValueError, OSError) as error:  # damaged after it was written, or deleted meanwhile
            print(f"skipping checkpoint {path}: {error}", file=sys.stderr)
    raise FileNotFoundError(
        f"--resume {where}: the folder holds no loadable checkpoint (step-<N>.safetensors; "
        f"{len(candidates)} found); start without --resume, or name a checkpoint file"
    )
