"""Atomic saves: a temporary file beside the target, renamed over it; stale temporaries cleared.

``atomic_write(path, write)`` calls ``write(file)`` on a new temporary file
``.<name>.<12 hex digits>.tmp`` in the target's folder, flushes and fsyncs it, renames it over the
target (``os.replace``) and fsyncs the folder, so that the target is, at every moment, the old file
or the new one, and a power cut after the call returns keeps the new one. The temporary file takes
the mode of the file it replaces (a 0600 checkpoint stays 0600, as torch's in-place rewrite keeps
it), or the umask's default for a new file.

A save killed before its rename (SIGKILL, SIGTERM, a power cut) leaves its temporary file behind.
The writer holds an exclusive ``flock`` on its temporary file until the rename, and the kernel
drops the lock when the process dies however it dies; so the next save to the same path removes
every temporary of that path it can lock (the dead saves'), never one another live process is
still writing. Where ``fcntl`` is missing (Windows) nothing is removed.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so stale temporaries can't be told from live ones
    fcntl = None

_HEX = frozenset("0123456789abcdef")


def _temporary_name(basename: str) -> str:
    return f".{basename}.{secrets.token_hex(6)}.tmp"


def _is_temporary_of(entry: str, basename: str) -> bool:
    prefix = f".{basename}."
    middle = entry[len(prefix) : -len(".tmp")]
    return (
        entry.startswith(prefix)
        and entry.endswith(".tmp")
        and len(entry) == len(prefix) + 12 + 4
        and set(middle) <= _HEX
    )


def remove_stale_temporaries(folder: str, basename: str) -> list[str]:
    """Remove the temporary files that interrupted saves to ``folder/basename`` left; returns their
    names. A temporary whose lock is held belongs to a save still running and is kept."""
    if fcntl is None:
        return []
    removed = []
    try:
        entries = [e for e in os.listdir(folder) if _is_temporary_of(e, basename)]
    except OSError:
        return []
    for entry in entries:
        path = os.path.join(folder, entry)
        try:  # O_NOFOLLOW: a symlink planted under such a name is never followed, only skipped
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # locked: a save in progress in another process (or thread)
                continue
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                os.unlink(path)
                removed.append(entry)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def _create_locked(folder: str, basename: str, mode: int) -> tuple[int, str]:
    """Create and lock a new temporary file. A cleaner of another process may lock and remove it
    between the creation and the lock; then it is no longer under its name, and another is made."""
    while True:
        tmp = os.path.join(folder, _temporary_name(basename))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.stat(tmp, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, where folders can't be opened: rename is already durable there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Run ``write(f)`` on a temporary file and rename it over ``path`` (see the module's doc); a
    ``path`` that is a device or a FIFO is written into instead."""
    target = os.path.realpath(path)  # through a symlink: replace the file it points to
    if os.path.isdir(target):
        raise IsADirectoryError(
            f"save: '{path}' is a folder; give a file path such as "
            f"'{os.path.join(path, 'checkpoint.safetensors')}'"
        )
    folder, basename = os.path.split(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"save: the folder '{folder}' of '{path}' does not exist; create it first "
            "(os.makedirs(folder, exist_ok=True))"
        )
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):  # /dev/null, a FIFO: write into it, as
        with open(target, "wb") as f:  # torch does; a rename would replace the device itself
            write(f)
        return
    remove_stale_temporaries(folder, basename)
    keep = stat.S_IMODE(st.st_mode) if st is not None else None
    # a replaced file's data never sits readable by more people than the file it replaces: the
    # temporary starts 0600 and gets the old mode; a new file gets 0666 less the umask, as open()
    fd, tmp = _create_locked(folder, basename, 0o600 if keep is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if keep is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), keep)
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, target)  # still holding the lock: no cleaner can take the file
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
