"""The main process's side of multi-process loading: starting, feeding and stopping the workers.

``MultiProcessIter`` is the iterator ``DataLoader.__iter__`` returns when ``num_workers > 0``. It
keeps ``prefetch_factor * num_workers`` tasks in flight, handing batch ``idx`` to the workers in
turn, and returns batches in the sampler's order (torch's ``in_order=True``): a batch that
arrives early waits in ``_tasks`` until its turn.

The processes, pipes and shared-memory prefix live in a ``WorkerPool`` that holds no reference to
the iterator, so a ``weakref.finalize`` on the iterator stops the workers when it is deleted,
when the loop that used it ends by an exception (KeyboardInterrupt included), or at interpreter
exit; worker processes are also daemonic, and each one exits by itself within a second when it
finds the main process gone.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import secrets
import signal
import time
import weakref
from multiprocessing import connection, resource_tracker

from ._shared import SharedBatch, release, remove_segments, unpack
from ._worker import Resume, StreamEnd, WorkerArgs, WorkerError, worker_loop

__all__ = ["MultiProcessIter", "WorkerPool"]

_STOP_GRACE = 2.0  # seconds a stopping worker gets to finish its current batch before SIGTERM


class WorkerPool:
    """The worker processes of one iterator, one task pipe and one result pipe each."""

    def __init__(self, context, args_without_prefix: dict, num_workers: int) -> None:
        self.prefix = f"crdl{os.getpid():x}_{secrets.token_hex(3)}_"
        self.args = WorkerArgs(**args_without_prefix, segment_prefix=self.prefix)
        self.done_event = context.Event()
        self.workers: list = []
        self.tasks: list = []  # main's end of each worker's task pipe
        self.results: list = []  # main's end of each worker's result pipe
        self.ended: set[int] = set()  # workers whose result pipe has closed
        self.closed = False
        # one resource tracker for the main process and its workers: a forked worker that
        # started its own would unlink, at its exit, segments the main process has not read
        resource_tracker.ensure_running()
        try:
            for worker_id in range(num_workers):
                self._start(context, worker_id)
        except BaseException:
            self.shutdown()
            raise

    def _start(self, context, worker_id: int) -> None:
        task_reader, task_writer = context.Pipe(duplex=False)
        result_reader, result_writer = context.Pipe(duplex=False)
        process = context.Process(
            target=worker_loop,
            args=(self.args, worker_id, task_reader, result_writer, self.done_event),
            name=f"DataLoader worker {worker_id}",
            daemon=True,
        )
        try:
            process.start()
        except Exception as e:
            method = context.get_start_method()
            e.add_note(
                f"(DataLoader: starting worker {worker_id} with the {method!r} start method failed; "
                "with 'spawn' or 'forkserver' the dataset, collate_fn and worker_init_fn are pickled "
                "to each worker, so they must be defined at module level)"
            )
            raise
        finally:
            # the worker holds its ends now; closing ours means a dead worker's result pipe reads
            # as end-of-file instead of blocking forever on a half-written message
            task_reader.close()
            result_writer.close()
        self.workers.append(process)
        self.tasks.append(task_writer)
        self.results.append(result_reader)

    # ---- talking to the workers ----------------------------------------------------------------
    def send(self, worker_id: int, message) -> None:
        try:
            self.tasks[worker_id].send(message)
        except OSError:  # its end is gone: the worker died; receive() says how
            pass

    def receive(self, watched, timeout: float) -> tuple[int, object, object]:
        """The next message from any worker: ``(worker_id, idx, data)``.

        Waits for the result pipes and, at the same time, for the processes of the ``watched``
        workers (the one that owes the next batch) to end, so that a killed worker is an error
        at once rather than a hang. The death of a worker that owes nothing yet is noticed when
        one of its batches is due: the batches before it still come.

        Raises
        ------
        RuntimeError
            A watched worker died (naming it, its pid and its exit signal or code), or
            ``timeout`` (> 0) seconds passed without a message.
        """
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            readers = {conn: i for i, conn in enumerate(self.results) if i not in self.ended}
            sentinels = {self.workers[i].sentinel: i for i in watched}
            ready = connection.wait([*readers, *sentinels], remaining)
            for conn, worker_id in readers.items():
                if conn in ready:
                    try:
                        idx, data = conn.recv()
                    except (EOFError, OSError):  # its process is gone (or going)
                        self.ended.add(worker_id)
                        continue
                    return worker_id, idx, data
            for sentinel, worker_id in sentinels.items():
                # a dead worker's last batch may still sit in its pipe: read that first
                if sentinel in ready and (worker_id in self.ended or not self.results[worker_id].poll()):
                    self._raise_dead(worker_id)
            if not ready:
                raise RuntimeError(
                    f"DataLoader timed out after {timeout} seconds (no batch from any of the "
                    f"{len(self.workers)} workers; raise timeout= if __getitem__ is this slow)"
                )

    def _raise_dead(self, worker_id: int):
        process = self.workers[worker_id]
        process.join(_STOP_GRACE)  # the pipe can close just before the process is reaped
        code = process.exitcode
        if code is not None and code < 0:
            sig = signal.Signals(-code)
            how = f"is killed by signal: {signal.strsignal(sig)} ({sig.name})"
            if sig is signal.SIGBUS:
                how += "; a bus error in a worker usually means shared memory (/dev/shm) is full"
        else:
            how = f"exited unexpectedly with exit code {code}"
        pid = process.pid
        self.shutdown()
        raise RuntimeError(
            f"DataLoader worker {worker_id} (pid {pid}) {how}. The batch it was loading "
            "is lost and the workers are stopped; start a new epoch with iter(loader)"
        )

    # ---- stopping --------------------------------------------------------------------------------
    def _wait_for_exit(self, deadline: float) -> None:
        """Wait for the workers to exit, meanwhile reading (and dropping) what they still send: a
        worker blocked on a full result pipe could not otherwise reach its stop message."""
        running = {process.sentinel for process in self.workers}
        readers = list(self.results)
        while running:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready = connection.wait([*running, *readers], left)
            for conn in [c for c in readers if c in ready]:
                try:
                    _, data = conn.recv()
                except Exception:  # closed, or a message cut by a kill or a Ctrl-C mid-read
                    readers.remove(conn)
                    continue
                if isinstance(data, SharedBatch):
                    release(data)
            running.difference_update(ready)

    def shutdown(self) -> None:
        """Stop the workers (a grace period, then SIGTERM, then SIGKILL), drop the batches still
        in flight and unlink every shared-memory segment this pool's workers made."""
        if self.closed:
            return
        self.closed = True
        self.done_event.set()
        for worker_id in range(len(self.tasks)):
            self.send(worker_id, None)
        self._wait_for_exit(time.monotonic() + _STOP_GRACE)
        for process in self.workers:
            if process.is_alive():
                process.terminate()
                process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join()
        for conn in self.results:  # every worker has exited: a read can only end, not block
            try:
                while conn.poll():
                    _, data = conn.recv()
                    if isinstance(data, SharedBatch):
                        release(data)
            except Exception:  # see _wait_for_exit: shutting down must not raise
                pass
            conn.close()
        for conn in self.tasks:
            conn.close()
        for process in self.workers:
            process.close()
        remove_segments(self.prefix)


class MultiProcessIter:
    """One pass over a DataLoader with worker processes (``_MultiProcessingDataLoaderIter``)."""

    def __init__(self, loader, base_seed: int) -> None:
        from_loader(self, loader)
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        context = loader.multiprocessing_context or multiprocessing.get_context()
        args = dict(
            iterable=self._iterable,
            dataset=loader.dataset,
            auto_collation=loader._auto_collation,
            collate_fn=loader.collate_fn,
            drop_last=loader.drop_last,
            base_seed=base_seed,
            init_fn=loader.worker_init_fn,
            num_workers=self._num_workers,
        )
        self._pool = WorkerPool(context, args, self._num_workers)
        self._finalizer = weakref.finalize(self, self._pool.shutdown)
        self._reset(loader, first=True)

    def _reset(self, loader, first: bool = False) -> None:
        """Start an epoch: a new pass of the sampler, and (persistent workers) each worker told to
        start its dataset copy's pass again once its old tasks are done."""
        if not first:
            from_loader(self, loader)
            for info in self._tasks.values():  # batches of the abandoned epoch that came early
                if len(info) == 2 and isinstance(info[1], SharedBatch):
                    release(info[1])
        self._sampler_iter = iter(self._index_sampler)
        self._send_idx = 0  # the next task to hand out
        self._rcvd_idx = 0  # the next batch to return
        # idx -> [worker_id] while in flight, [worker_id, data] once arrived early
        self._tasks: dict[int, list] = {}
        self._outstanding = 0
        self._active = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        if not first:
            self._resume_workers()
        for _ in range(self._prefetch * self._num_workers):
            self._put_task()

    def _resume_workers(self) -> None:
        pool = self._pool
        for worker_id in range(self._num_workers):
            pool.send(worker_id, Resume())
        waiting = set(range(self._num_workers))
        while waiting:  # drain what the last (perhaps abandoned) epoch left in flight
            worker_id, idx, data = pool.receive(list(waiting), self._timeout)
            if isinstance(idx, Resume):
                waiting.discard(worker_id)
            elif isinstance(data, SharedBatch):
                release(data)

    def __iter__(self) -> MultiProcessIter:
        return self

    @property
    def stopped(self) -> bool:
        """Whether the workers are gone (the epoch ended without persistent workers, or a worker
        died): a persistent loader then starts a new iterator."""
        return self._pool.closed

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("DataLoader iterator: the dataset has no __len__, so neither has the loader")
        return self._length

    def _put_task(self) -> None:
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next worker that still has data
            worker_id = next(self._cycle)
            if self._active[worker_id]:
                break
        else:
            return
        self._pool.send(worker_id, (self._send_idx, indices))
        self._tasks[self._send_idx] = [worker_id]
        self._outstanding += 1
        self._send_idx += 1

    def __next__(self):
        if self._pool.closed:
            raise StopIteration
        while True:
            # skip the tasks of workers whose stream ended: their batches will never come
            while self._rcvd_idx < self._send_idx:
                info = self._tasks.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._tasks.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._stop()
                raise StopIteration
            info = self._tasks[self._rcvd_idx]
            if len(info) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._deliver(info[1])
            watched = [info[0]] if self._in_order else [i for i, a in enumerate(self._active) if a]
            worker_id, idx, data = self._pool.receive(watched, self._timeout)
            self._outstanding -= 1
            if isinstance(data, StreamEnd):
                self._active[data.worker_id] = False
                if not self._persistent:  # let it exit now; persistent ones wait for the next epoch
                    self._pool.send(data.worker_id, None)
                self._put_task()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                self._tasks.pop(idx, None)
                if idx == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._deliver(data)
            self._tasks[idx].append(data)

    def _deliver(self, data):
        self._put_task()
        if isinstance(data, WorkerError):
            data.reraise()
        return unpack(data)

    def _stop(self) -> None:
        self._finalizer()  # runs WorkerPool.shutdown once; deleting the iterator would too


def from_loader(it, loader) -> None:
    """Copy what an epoch needs from the loader, keeping no reference to the loader itself (a
    persistent iterator is owned by its loader; a reference back would delay both to the cycle
    collector, and with them the workers' shutdown)."""
    it._iterable = loader._is_iterable
    it._index_sampler = loader._index_sampler
    try:
        it._length = len(loader)
    except TypeError:  # an IterableDataset without __len__
        it._length = None
