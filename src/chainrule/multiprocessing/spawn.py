"""``torch.multiprocessing.spawn``: run ``fn(i, *args)`` in ``nprocs`` processes and re-raise, in
the parent, the first failure of a child with its traceback."""

from __future__ import annotations

import multiprocessing
import traceback
import warnings

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessExitedException", "ProcessRaisedException"]


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A child raised: the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A child exited with a non-zero code (or was killed by a signal)."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name=None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _run(fn, i: int, args: tuple, error_queue) -> None:
    """The child's entry point (module level, so that 'spawn' can pickle it)."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(traceback.format_exc())
        raise SystemExit(1) from None


class ProcessContext:
    """The running children; ``join`` waits for them and raises the first failure."""

    def __init__(self, processes: list, error_queues: list) -> None:
        self.processes = processes
        self.error_queues = error_queues

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every child; True when all ended well, else the first failure is raised (the
        other children are terminated)."""
        for index, process in enumerate(self.processes):
            process.join(timeout)
            if process.exitcode is None:  # still running after the timeout
                return False
            if process.exitcode != 0:
                self._terminate_others(index)
                queue = self.error_queues[index]
                if not queue.empty():
                    raise ProcessRaisedException(
                        f"\n\n-- Process {index} terminated with the following error:\n{queue.get()}",
                        index,
                        process.pid,
                    )
                raise ProcessExitedException(
                    f"process {index} terminated with exit code {process.exitcode}",
                    index,
                    process.pid,
                    process.exitcode,
                )
        return True

    def _terminate_others(self, failed: int) -> None:
        for k, process in enumerate(self.processes):
            if k != failed and process.is_alive():
                process.terminate()
                process.join()


def start_processes(
    fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False, start_method="spawn"
):
    """Start ``nprocs`` processes running ``fn(i, *args)`` with ``start_method``; join them (and
    return None) or return their ``ProcessContext``."""
    context = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        queue = context.SimpleQueue()
        process = context.Process(target=_run, args=(fn, i, args, queue), daemon=daemon)
        process.start()
        processes.append(process)
        queues.append(queue)
    handle = ProcessContext(processes, queues)
    if not join:
        return handle
    while not handle.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False, start_method: str = "spawn"):
    """``start_processes`` with the 'spawn' start method (another one warns, as in torch)."""
    if start_method != "spawn":
        warnings.warn(
            f"This method only supports start_method=spawn (got: {start_method}).\nTo use a different "
            "start_method use:\n\t\t torch.multiprocessing.start_processes(...)",
            FutureWarning,
            stacklevel=2,
        )
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
