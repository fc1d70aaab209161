"""``chainrule.save`` / ``chainrule.load``: checkpoints as safetensors files that cannot run code
and cannot silently lie.

A checkpoint is any nesting of dicts, lists and tuples holding tensors, NumPy arrays, numbers,
strings, bools and None (a state dict; model + optimizer + scheduler + step). ``save`` writes it as
one safetensors file: the tensors as the file's tensors, each under a key made from where it sits
(a flat state dict keeps its own keys, so ``safetensors.torch.load_file`` reads it as torch's state
dict), and everything else as JSON in the header's metadata, with each tensor referenced by its key
(``_structure``). The header begins with a SHA-256 of the whole file (``_format``).

Safety (docs/security.md):

- ``load`` parses JSON and raw little-endian arrays, nothing else: it never unpickles, so a file
  can't run code. A pickle (``torch.save`` output), a truncated, corrupted or malformed file is
  refused with a ValueError naming the file and the problem, before anything is returned: every
  byte of a file chainrule wrote (length, header, metadata, tensor table, data) is covered by its
  checksum, and every field is checked before it is used (bounded header size and depth, at most
  64 dimensions, sizes against the file's size), so no read or allocation exceeds the file's size.
- ``save`` streams each tensor's memory into the file (no copy of the state dict) and is atomic
  (``_files``): a temporary file in the same folder, fsynced, renamed over the target, the folder
  fsynced; a crash leaves the previous file or the new one, never a partial one, and the next save
  removes the temporaries that killed saves left. The file's mode is kept.

Metadata (all strings): ``chainrule.sha256`` (first), ``chainrule.format`` = "2", ``format`` =
"pt" (what Hugging Face tools expect), ``chainrule`` = the JSON structure.
"""

from __future__ import annotations

import json
import os
import stat
from typing import IO, Any

from .._device import check_device, device
from .._tensor import wrap
from . import _files, _format, _structure

__all__ = [
    "save",
    "load",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "DEFAULT_PROTOCOL",
]

DEFAULT_PROTOCOL = 2  # torch's pickle protocol number; chainrule pickles nothing


def save(
    obj: Any,
    f: str | os.PathLike | IO[bytes],
    pickle_module=None,
    pickle_protocol=None,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Save a tensor, state dict or checkpoint to a safetensors file, atomically (``torch.save``).

    Parameters
    ----------
    obj : Any
        A tensor, or dicts / lists / tuples nesting tensors, NumPy arrays, numbers, strings, bools
        and None (e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 10}``).
        Tensors are stored with their dtype, shape and ``requires_grad``; a tensor that appears
        twice is stored once and loads as one tensor. Tuples, OrderedDicts and non-string dict
        keys come back as they were; NumPy scalars come back as Python numbers.
    f : str, PathLike or binary file object
        Where to write. To a path the write is atomic (temporary file, fsync, rename): a crash
        leaves the previous file intact, an existing file's mode is kept, and temporary files of
        earlier saves to the path that were killed midway are removed. A file object gets the
        bytes written at its position. Tensors are written from their own memory: the extra
        memory a save needs is a few MiB, whatever the checkpoint's size.
    pickle_module, pickle_protocol, _use_new_zipfile_serialization
        Accepted for compatibility with ``torch.save`` and ignored: nothing is pickled.

    Raises
    ------
    TypeError
        For objects it can't store (modules, functions, arbitrary classes), naming where they are.
    ValueError
        For a structure that contains itself or nests deeper than ``load`` accepts.
    """
    if not isinstance(f, str | os.PathLike) and not hasattr(f, "write"):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    enc = _structure.Encoder()
    structure = json.dumps(enc.enc(obj, "", "obj"), allow_nan=False, separators=(",", ":"))
    metadata = {"chainrule.format": _format.FORMAT, "format": "pt", "chainrule": structure}
    if isinstance(f, str | os.PathLike):
        _files.atomic_write(os.fspath(f), lambda out: _format.write(out, metadata, enc.arrays, seekable=True))
    else:
        _format.write(f, metadata, enc.arrays, seekable=False)


def _size_of(f) -> int | None:
    """The bytes left in ``f`` from its position when that is knowable (a regular file, a seekable
    buffer), else None (a pipe, a socket, a device such as /dev/zero: read as a stream)."""
    try:
        st = os.fstat(f.fileno())
    except (AttributeError, OSError, ValueError):  # no file descriptor (io.BytesIO, ...)
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        return None
    try:
        if st is not None:
            return max(st.st_size - f.tell(), 0)
        if f.seekable():
            here = f.tell()
            end = f.seek(0, os.SEEK_END)
            f.seek(here)
            return max(end - here, 0)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def load(
    f: str | os.PathLike | IO[bytes],
    map_location=None,
    pickle_module=None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args,
) -> Any:
    """Load what ``chainrule.save`` wrote, or any safetensors file (``torch.load``).

    Never unpickles, so loading can't run code: a pickle or ``torch.save`` zip file is refused
    with a ValueError explaining how to convert it. A file ``chainrule.save`` wrote is verified
    against the SHA-256 of all its bytes before anything is returned, so a corrupted one is
    refused, never loaded with changed values. Checkpoints of chainrule's first format ("1",
    per-tensor CRC-32s but no checksum over the header and metadata) are refused with a
    ValueError saying how to read their tensors.

    Parameters
    ----------
    f : str, PathLike or binary file object
        The file. One written by ``safetensors.torch.save_file`` (or any tool writing safetensors)
        loads as a dict of tensors under its keys, in file order (such a file has no checksum:
        its structure is checked, its values can't be).
    map_location : str or device, optional
        ``'cpu'`` (where tensors load anyway) or None; 'cuda' raises as ``Tensor.to`` does. A
        dict or callable is accepted for compatibility and ignored.
    pickle_module, weights_only, mmap, **pickle_load_args
        Accepted for compatibility and ignored: loading is always weights-only (plain data), so
        ``weights_only=False`` loads no more than True does. ``mmap=True`` needs a path, as in
        torch; the tensors are then read into memory as usual.

    Returns
    -------
    Any
        The saved object: tensors (with dtype, shape and requires_grad), NumPy arrays, numbers,
        strings, bools, None, in the dicts / lists / tuples they were saved in.

    Raises
    ------
    ValueError
        For every file that is not a well-formed checkpoint: a pickle, not a safetensors file,
        truncated, with bytes changed (checksum), a malformed header or structure (bad JSON, too
        deep, fields of the wrong type, more than 64 dimensions, sizes beyond the file's), or
        dtypes chainrule lacks. The message names the file and the problem.
    """
    if isinstance(map_location, str | device) and device(map_location).type == "cuda":
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU."
        )
    if isinstance(map_location, str | device):
        check_device(map_location)
    if mmap and not isinstance(f, str | os.PathLike):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if isinstance(f, str | os.PathLike):
        name = os.fspath(f)
        with open(name, "rb") as fh:
            arrays, meta = _format.read(fh, name, _size_of(fh))
    elif hasattr(f, "read"):
        name = getattr(f, "name", None) or f"<{type(f).__name__}>"
        arrays, meta = _format.read(f, name, _size_of(f))
    else:
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    if not _format.is_chainrule(meta):  # a plain safetensors file: a flat dict of tensors
        return {k: wrap(a) for k, a in arrays.items()}
    version = meta.get("chainrule.format")
    if version != _format.FORMAT:
        raise ValueError(
            f"load: '{name}' was written in chainrule checkpoint format {version!r:.40}; this "
            f"chainrule reads format {_format.FORMAT!r} (upgrade chainrule)"
        )
    if "chainrule" not in meta:
        raise _format.bad(name, "has chainrule metadata without its structure (the 'chainrule' entry)")
    structure = _format.parse_json(
        meta["chainrule"].encode("utf-8", "surrogatepass"), name, "chainrule structure"
    )
    return _structure.Decoder(arrays, name).dec(structure)


# ---- torch's allow-list of classes for weights-only unpickling ---------------------------------
# chainrule's loader never unpickles, so no class is ever looked up: the list is kept (scripts that
# register their classes run unchanged, and get_safe_globals answers what was registered) and has
# no effect on what ``load`` accepts.
_safe_globals: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Register classes/functions for torch's weights-only unpickler (recorded; no effect here:
    chainrule's ``load`` never unpickles)."""
    _safe_globals.extend(safe_globals)


def get_safe_globals() -> list:
    """The objects registered with ``add_safe_globals`` (torch also lists its own built-ins)."""
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Forget the objects registered with ``add_safe_globals``."""
    _safe_globals.clear()


class safe_globals:
    """``with safe_globals([...]):``: ``add_safe_globals`` for the block's duration."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self) -> None:
        self._before = list(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        _safe_globals[:] = self._before


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals a torch pickle checkpoint would need: none for a file chainrule can load
    (safetensors holds plain data only)."""
    load(f)  # refuses pickles with the usual explanation
    return []
