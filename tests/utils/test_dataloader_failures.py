"""DataLoader workers when things go wrong: exceptions in a worker, a worker killed by a real
SIGKILL or exiting, timeouts, batches that cannot be pickled; and what must never be left
behind: worker processes (after the iterator is deleted, on Ctrl-C, at interpreter exit, after
the main process is killed) and shared-memory segments in /dev/shm.

No test asserts a duration: every wait has a generous deadline that only a hang would reach.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from oracle import ROOT

import chainrule
import chainrule.utils.data as cud
from chainrule.utils.data import _shared

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SAFETY = 120  # seconds: the loaders' timeout, so that a missed failure is an error, not a hang


def data_module(lib):
    return cud if lib is chainrule else tud


def segments(pid: int | None = None) -> list[str]:
    """The DataLoader shared-memory segments of process ``pid`` (this one by default)."""
    prefix = f"crdl{(pid or os.getpid()):x}_"
    return sorted(n for n in os.listdir(_shared.SHM_DIR) if n.startswith(prefix))


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pids, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


def worker_children() -> list:
    import multiprocessing

    return [p for p in multiprocessing.active_children() if p.name.startswith("DataLoader worker")]


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    # an exception kept by a test (pytest.raises) holds the frames of the iterator that raised
    # it in a reference cycle: the iterator, and with it the workers, go when the cycle does
    gc.collect()
    assert worker_children() == []
    assert segments() == []


class Faulty(tud.Dataset):
    """Index ``bad`` raises ``error`` (an exception instance or a callable making one)."""

    def __init__(self, lib, n: int, bad: int, error) -> None:
        self.lib, self.n, self.bad, self.error = lib, n, bad, error

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error() if callable(self.error) else self.error
        return {"x": np.full(1024, i, dtype=np.float32), "i": i}

    def __len__(self) -> int:
        return self.n


def outcomes(lib, dataset, **kw):
    """Every ``next`` of one epoch: a batch's indices, or the error it raised (type, first line)."""
    it = iter(data_module(lib).DataLoader(dataset, num_workers=2, timeout=SAFETY, **kw))
    out = []
    while True:
        try:
            out.append(next(it)["i"].tolist())
        except StopIteration:
            return out
        except Exception as e:
            out.append((type(e).__name__, str(e).splitlines()[0]))


class TwoArgError(Exception):
    def __init__(self, code, detail) -> None:
        super().__init__(code, detail)


@pytest.mark.parametrize(
    "error",
    [ValueError("bad sample"), KeyError("missing"), lambda: TwoArgError(1, "x")],
    ids=["ValueError", "KeyError", "unbuildable"],
)
def test_a_worker_exception_is_reraised_like_torch(error) -> None:
    ours = outcomes(chainrule, Faulty(chainrule, 10, 5, error), batch_size=2)
    theirs = outcomes(torch, Faulty(torch, 10, 5, error), batch_size=2)
    assert ours == theirs  # the failing batch raises, the others still come, in order
    name = "TwoArgError" if callable(error) else type(error).__name__
    assert ours[2] == (
        "RuntimeError" if callable(error) else name,
        f"Caught {name} in DataLoader worker process 0.",
    )


def test_the_worker_traceback_reaches_the_main_process() -> None:
    dl = cud.DataLoader(Faulty(chainrule, 4, 1, ValueError("bad sample 1")), batch_size=2, num_workers=1)
    with pytest.raises(ValueError) as info:
        list(dl)
    text = str(info.value)
    assert "Original Traceback (most recent call last):" in text
    assert "raise self.error() if callable(self.error) else self.error" in text  # the worker's line
    assert "ValueError: bad sample 1" in text
    assert "__getitem__ for index 1" in text  # the loader's note, made in the worker
    with pytest.raises(KeyError) as info:
        list(cud.DataLoader(Faulty(chainrule, 4, 1, KeyError("k")), batch_size=2, num_workers=1))
    assert "\n" in repr(info.value) or "\n" in str(info.value)  # printed as lines, not one escaped repr


def failing_init(worker_id: int) -> None:
    if worker_id == 1:
        raise RuntimeError(f"cannot open the shard of worker {worker_id}")


def test_worker_init_fn_errors_are_reraised_like_torch() -> None:
    def run(lib):
        return outcomes(lib, Faulty(lib, 8, -1, None), batch_size=2, worker_init_fn=failing_init)

    ours, theirs = run(chainrule), run(torch)
    assert ours[:3] == theirs[:3]
    assert ours[1] == ("RuntimeError", "Caught RuntimeError in DataLoader worker process 1.")
    # worker 1's later tasks: the same error again here; torch's fetcher was never made
    assert ours[3] == ours[1] and theirs[3][0] == "UnboundLocalError"


def unpicklable_collate(batch):
    return {"i": chainrule.tensor(batch), "lock": threading.Lock()}


def test_a_batch_that_cannot_be_pickled_is_an_error_not_a_hang() -> None:
    dl = cud.DataLoader(
        list(range(4)), batch_size=2, num_workers=1, collate_fn=unpicklable_collate, timeout=SAFETY
    )
    with pytest.raises(TypeError, match="Caught TypeError in DataLoader worker process 0") as info:
        next(iter(dl))
    assert "cannot pickle '_thread.lock' object" in str(info.value)


# ---- workers that die --------------------------------------------------------------------------
class Dies(tud.Dataset):
    """Index ``bad`` ends its worker: by SIGKILL sent to itself, or by ``os._exit(code)``."""

    def __init__(self, n: int, bad: int, code: int | None = None) -> None:
        self.n, self.bad, self.code = n, bad, code

    def __getitem__(self, i):
        if i == self.bad:
            if self.code is None:
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(self.code)
        return i

    def __len__(self) -> int:
        return self.n


def test_a_worker_killed_by_sigkill_is_a_clear_error() -> None:
    it = iter(cud.DataLoader(Dies(8, 4), batch_size=2, num_workers=2, timeout=SAFETY))
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(
        RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) is killed by signal: Killed \(SIGKILL\)"
    ):
        next(it)
    with pytest.raises(StopIteration):  # the workers are stopped; the epoch is over
        next(it)


def test_a_worker_that_exits_is_a_clear_error() -> None:
    it = iter(cud.DataLoader(Dies(6, 2, code=3), batch_size=2, num_workers=2, timeout=SAFETY))
    next(it)
    with pytest.raises(
        RuntimeError, match=r"DataLoader worker 1 \(pid \d+\) exited unexpectedly with exit code 3"
    ):
        next(it)


class Slow(tud.Dataset):
    """Reports its worker's pid; sleeps ``delay`` seconds per sample."""

    def __init__(self, n: int, delay: float) -> None:
        self.n, self.delay = n, delay

    def __getitem__(self, i):
        time.sleep(self.delay)
        return {"pid": os.getpid(), "big": np.zeros(2048)}

    def __len__(self) -> int:
        return self.n


def test_killing_a_busy_worker_from_outside_is_a_clear_error() -> None:
    it = iter(cud.DataLoader(Slow(40, 0.2), batch_size=1, num_workers=2, timeout=SAFETY))
    victim = int(next(it)["pid"])  # worker 0's
    os.kill(victim, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=rf"DataLoader worker 0 \(pid {victim}\) is killed by signal"):
        for _ in range(40):
            next(it)
    assert not alive(victim)


def test_timeout_raises_runtime_error_like_torch() -> None:
    it = iter(cud.DataLoader(Slow(4, 30.0), batch_size=1, num_workers=1, timeout=0.5))
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 seconds"):
        next(it)
    del it  # the stuck worker is stopped (the fixture checks that none is left)


def test_timeout_needs_workers_like_torch() -> None:
    for lib in (chainrule, torch):
        with pytest.raises(AssertionError):
            iter(data_module(lib).DataLoader([1, 2], timeout=1.0))


# ---- nothing left behind -----------------------------------------------------------------------
def test_deleting_an_iterator_mid_epoch_stops_its_workers_and_frees_shared_memory() -> None:
    it = iter(cud.DataLoader(Slow(30, 0.01), batch_size=2, num_workers=2))
    pids = {int(p) for _ in range(2) for p in next(it)["pid"]}
    assert len(worker_children()) == 2
    del it
    assert not any(alive(p) for p in pids)
    # and a persistent loader's workers go with the loader
    dl = cud.DataLoader(Slow(6, 0.0), batch_size=2, num_workers=2, persistent_workers=True)
    pids = {int(p) for b in dl for p in b["pid"]}
    assert len(worker_children()) == 2
    del dl
    assert not any(alive(p) for p in pids)


def test_pack_sends_large_arrays_through_shared_memory() -> None:
    rng = np.random.default_rng(0)
    big = rng.standard_normal((256, 512)).astype(np.float32)
    batch = {
        "x": chainrule.tensor(big),
        "view": rng.integers(0, 9, (64, 64))[:, ::2],  # not contiguous
        "small": np.arange(3),
        "flags": rng.random(5000) < 0.5,
        "label": "abc",
    }
    batch["again"] = batch["flags"]  # the same array twice: sent once
    shared = _shared.pack(batch, f"crdl{os.getpid():x}_test_0_0")
    assert len(shared.payload) < 2048  # the 530 KB of arrays are not in the pickle
    assert segments() == [shared.segment]
    size = os.stat(os.path.join(_shared.SHM_DIR, shared.segment)).st_size
    assert big.nbytes + 32 * 64 * 8 + 5000 <= size < big.nbytes + 32 * 64 * 8 + 5000 + 3 * 64
    out = _shared.unpack(shared)
    assert segments() == []  # unlinked as soon as it is read
    assert isinstance(out["x"], chainrule.Tensor) and out["x"].dtype == chainrule.float32
    np.testing.assert_array_equal(out["x"].numpy(), big)
    np.testing.assert_array_equal(out["view"], batch["view"])
    np.testing.assert_array_equal(out["flags"], batch["flags"])
    assert out["small"].tolist() == [0, 1, 2] and out["label"] == "abc"
    assert out["again"] is out["flags"]  # one array, as in the batch
    assert _shared.pack({"y": np.arange(4)}, "unused").segment is None  # small: no segment


def test_no_segment_is_left_after_errors_and_abandoned_epochs() -> None:
    it = iter(cud.DataLoader(Slow(40, 0.0), batch_size=4, num_workers=2, prefetch_factor=4))
    next(it)
    time.sleep(0.2)  # let the workers fill the pipeline with unread batches
    del it
    assert segments() == []
    with pytest.raises(RuntimeError, match="killed by signal"):
        list(cud.DataLoader(Dies(8, 6), batch_size=2, num_workers=2, timeout=SAFETY))
    assert segments() == []


class SlowFirst(tud.Dataset):
    """Index 0 is slow, so later batches arrive before the first and wait in the iterator."""

    def __getitem__(self, i):
        time.sleep(0.3 if i == 0 else 0.0)
        return np.full(2048, i)

    def __len__(self) -> int:
        return 12


def test_a_persistent_loader_frees_the_batches_of_an_abandoned_epoch() -> None:
    dl = cud.DataLoader(SlowFirst(), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(dl)
    assert next(it)[:, 0].tolist() == [0, 1]  # batch 1 came first and waited
    assert [b[:, 0].tolist() for b in dl] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert segments() == []  # while the workers are still alive
    assert len(worker_children()) == 2
    del it, dl


def test_a_persistent_loader_starts_new_workers_after_one_died() -> None:
    dl = cud.DataLoader(Dies(6, 2), batch_size=2, num_workers=2, persistent_workers=True, timeout=SAFETY)
    with pytest.raises(RuntimeError, match="killed by signal"):
        list(dl)
    gc.collect()
    it = iter(dl)  # new workers, which die at index 2 too: the batch before it comes first
    assert next(it).tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="killed by signal"):
        next(it)
    del it, dl


# ---- the whole process: Ctrl-C, interpreter exit, a killed main process -------------------------
SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    import chainrule.utils.data as cud

    class Slow(cud.Dataset):
        def __getitem__(self, i):
            time.sleep(0.05)
            return {"pid": os.getpid(), "big": np.zeros(4096)}
        def __len__(self):
            return 10_000

    dl = cud.DataLoader(Slow(), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(dl)
    pids = {int(p) for _ in range(2) for p in next(it)["pid"]}
    print(" ".join(map(str, sorted(pids))), flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)
    for batch in it:  # Ctrl-C or SIGKILL arrives while it loads
        pass
    """
)


def start(script, mode: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.Popen(
        [sys.executable, str(script), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a program started from a shell
    )


def worker_pids(proc: subprocess.Popen) -> list[int]:
    ready, _, _ = select.select([proc.stdout], [], [], SAFETY)
    line = proc.stdout.readline() if ready else ""
    if not line.strip():
        proc.kill()
        pytest.fail(f"the script printed no worker pids: {proc.communicate()[1]}")
    return [int(p) for p in line.split()]


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    """The three runs of SCRIPT, started together (each spends seconds importing chainrule)."""
    script = tmp_path_factory.mktemp("loader") / "loader_script.py"
    script.write_text(SCRIPT)
    procs = {name: start(script, "exit" if name == "exit" else "loop") for name in ("exit", "ctrl-c", "kill")}
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_interpreter_exit_stops_persistent_workers(scripts) -> None:
    proc = scripts["exit"]
    pids = worker_pids(proc)
    _, err = proc.communicate(timeout=SAFETY)
    assert proc.returncode == 0, err
    assert gone_within(pids)
    assert segments(proc.pid) == []
    assert "leaked" not in err and "Traceback" not in err, err


def test_ctrl_c_stops_the_workers(scripts) -> None:
    proc = scripts["ctrl-c"]
    pids = worker_pids(proc)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group gets it
    _, err = proc.communicate(timeout=SAFETY)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err
    assert gone_within(pids)
    assert segments(proc.pid) == []
    assert "leaked" not in err, err


def test_workers_exit_when_the_main_process_is_killed(scripts) -> None:
    proc = scripts["kill"]
    pids = worker_pids(proc)
    proc.kill()  # SIGKILL: no finalizer, no atexit
    proc.communicate(timeout=SAFETY)
    assert gone_within(pids)  # each worker notices its parent is gone
    deadline = time.monotonic() + 30
    while segments(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert segments(proc.pid) == []
