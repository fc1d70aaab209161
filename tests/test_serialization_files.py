"""chainrule.save on disk: atomic under a real SIGKILL / SIGTERM, temporaries of killed saves removed
by the next save (never a live one's), the file's mode kept as torch keeps it, tensors streamed to
the file (peak memory measured in a subprocess), and loads from pipes and of converted arrays."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import safetensors.torch
import torch
from checkpoints import checkpoint, same

import chainrule

SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import chainrule
    path = sys.argv[1]
    w = np.empty(16_000_000, np.float32)  # 64 MB: a save takes tens of milliseconds
    step = 0
    while True:
        w.fill(step)
        print("start", step, flush=True)
        chainrule.save({"step": step, "model": {"w": chainrule.from_numpy(w)}}, path)
        print("done", step, flush=True)
        step += 1
""")


def temporaries(folder, name: str = "ck.safetensors") -> list[str]:
    return sorted(f for f in os.listdir(folder) if f.startswith(f".{name}.") and f.endswith(".tmp"))


def _kill_during_save(folder, path, delay: float | None, sig: int = signal.SIGKILL, written: int = 0) -> int:
    """Run SAVER until its third save starts, send ``sig`` ``delay`` seconds later (None: as soon
    as its temporary file holds more than ``written`` bytes, i.e. mid-write); return the last step
    it reported done."""
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    done = -1
    try:
        for line in proc.stdout:
            what, step = line.split()
            if what == "done":
                done = int(step)
            elif int(step) == 2:
                break
        if delay is None:
            deadline = time.monotonic() + 30
            while not any(
                os.path.getsize(os.path.join(folder, t)) > written
                for t in temporaries(folder, os.path.basename(path))
            ):
                assert proc.poll() is None and time.monotonic() < deadline, "the saver never wrote"
        else:
            time.sleep(delay)
        proc.send_signal(sig)
        for line in proc.stdout:  # what it reported before the signal landed
            what, step = line.split()
            if what == "done":
                done = int(step)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -sig
    return done


@pytest.mark.parametrize(
    "delay, sig",
    [(None, signal.SIGKILL), (0.0, signal.SIGKILL), (0.03, signal.SIGKILL), (None, signal.SIGTERM)],
    ids=["mid-write", "at-start", "later", "SIGTERM-mid-write"],
)
def test_a_killed_save_leaves_the_previous_checkpoint_and_the_next_save_cleans_up(
    tmp_path, delay, sig
) -> None:
    path = tmp_path / "ck.safetensors"
    done = _kill_during_save(tmp_path, path, delay, sig, written=2**20)
    back = chainrule.load(path)  # whole: the last finished save, or the killed one if it got renamed
    assert done >= 1 and back["step"] in (done, done + 1)
    w = back["model"]["w"].numpy()
    assert w.shape == (16_000_000,) and (w == back["step"]).all()
    leftovers = [f for f in os.listdir(tmp_path) if f != path.name]
    assert leftovers == temporaries(tmp_path), leftovers
    if delay is None:  # killed mid-write: the partial file is the temporary one, never the checkpoint
        assert len(leftovers) == 1 and 2**20 < os.path.getsize(tmp_path / leftovers[0]) <= os.path.getsize(
            path
        )
    chainrule.save({"step": -1}, path)  # the next save to the path removes what the killed one left
    assert os.listdir(tmp_path) == [path.name] and chainrule.load(path) == {"step": -1}


def test_only_the_paths_unlocked_temporaries_are_removed(tmp_path) -> None:
    """What a killed save leaves is an unlocked ``.<name>.<12 hex>.tmp``; files of other names, of
    other checkpoints, and symlinks under such a name stay."""
    path = tmp_path / "ck.safetensors"
    stale = [f".ck.safetensors.{h}.tmp" for h in ("0123456789ab", "ffffffffffff")]
    kept = [
        ".other.safetensors.0123456789ab.tmp",  # another checkpoint's
        ".ck.safetensors.0123456789a.tmp",  # 11 digits: not a name save makes
        ".ck.safetensors.0123456789AB.tmp",  # upper case: not a name save makes
        "ck.safetensors.0123456789ab.tmp",  # not hidden
    ]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"partial")
    os.symlink(tmp_path / kept[0], tmp_path / ".ck.safetensors.aaaaaaaaaaaa.tmp")  # never followed
    kept.append(".ck.safetensors.aaaaaaaaaaaa.tmp")
    chainrule.save({"step": 1}, path)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, *kept])


def test_a_live_save_in_another_process_keeps_its_temporary(tmp_path) -> None:
    """Saves to one path from two processes at once: each save's cleaning skips the other's live
    temporary (locked), so neither save fails, and the file is always one whole checkpoint."""
    path = tmp_path / "ck.safetensors"
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().split()[0] == "start"
        overlapped, deadline = 0, time.monotonic() + 120
        while overlapped < 5:
            assert proc.poll() is None and time.monotonic() < deadline, "the saver died or stalled"
            if temporaries(tmp_path):  # the saver is writing now: our save must leave its file alone
                chainrule.save({"step": -1}, path)
                overlapped += 1
        reported = [proc.stdout.readline().split() for _ in range(4)]  # it goes on saving
        assert proc.poll() is None and ["done"] in [r[:1] for r in reported]
    finally:
        proc.kill()
        proc.wait(timeout=60)
    back = chainrule.load(path)
    assert back == {"step": -1} or (back["model"]["w"].numpy() == back["step"]).all()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_resaving_keeps_the_files_mode_as_torch_does(tmp_path, mode) -> None:
    modes = {}
    for lib, name in ((torch, "t.pt"), (chainrule, "c.safetensors")):
        path = tmp_path / name
        lib.save({"w": lib.ones(2)}, path)
        new = stat.S_IMODE(os.stat(path).st_mode)
        os.chmod(path, mode)
        lib.save({"w": lib.zeros(2)}, path)
        modes[lib.__name__] = (new, stat.S_IMODE(os.stat(path).st_mode))
    assert modes["chainrule"] == modes["torch"]
    assert modes["chainrule"][1] == mode  # and a new file gets the umask's default, as torch's
    assert chainrule.load(tmp_path / "c.safetensors")["w"].tolist() == [0.0, 0.0]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_saving_to_a_device_writes_into_it_as_torch_does() -> None:
    before = os.stat("/dev/null")
    torch.save({"w": torch.ones(2)}, "/dev/null")
    chainrule.save({"w": chainrule.ones(2)}, "/dev/null")  # never renamed over (as root it could be)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


# ---- memory: the peak a save and a load add, measured in a fresh process -----------------------
MEMORY = textwrap.dedent("""
    import json, sys
    import chainrule

    def status(field):  # kiB
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

    def baseline():  # reset the peak to the current resident size (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return status("VmHWM")

    before = baseline()  # first, in a fresh process: freed memory would be reused, unseen
    sd = chainrule.load(sys.argv[1])
    extra = {"load": (status("VmHWM") - before) / 1024}
    sd["l3.weight"] = sd["l3.weight"].t()  # a transposed view: converted piece by piece
    before = baseline()
    chainrule.save(sd, sys.argv[2])
    extra["save"] = (status("VmHWM") - before) / 1024
    print(json.dumps(extra))
""")


@pytest.mark.skipif(
    not os.access("/proc/self/clear_refs", os.W_OK), reason="resets the peak through Linux's /proc"
)
def test_save_streams_tensors_and_load_reads_them_in_place(tmp_path) -> None:
    """The peak memory a load and a save of a 64 MiB state dict add, measured in a fresh process
    (VmHWM, reset before each): a load reads the file into the arrays it returns (no second
    copy); a save streams the tensors' own memory into the file."""
    mib = 64
    rows = mib * 2**20 // 4 // 4 // 1024  # three float32 tensors, and one made from a transpose
    sd = {f"l{i}.weight": chainrule.full((rows, 1024), float(i)) for i in range(3)}
    sd["l3.weight"] = chainrule.full((1024, rows), 3.0).t()
    chainrule.save(sd, tmp_path / "a")
    out = subprocess.run(
        [sys.executable, "-c", MEMORY, str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    extra = json.loads(out.stdout)
    assert mib - 1 < extra["load"] < mib + 16, f"load of {mib} MiB needed {extra['load']:.1f} MiB more"
    assert extra["save"] < 16, f"save of a {mib} MiB state dict needed {extra['save']:.1f} MiB more"
    back = chainrule.load(tmp_path / "b")
    assert back["l3.weight"].shape == (1024, rows) and (back["l3.weight"].numpy() == 3).all()
    assert (back["l2.weight"].numpy() == 2).all()


def test_converted_arrays_are_written_piece_by_piece_exactly(tmp_path) -> None:
    """Non-contiguous and big-endian arrays are converted 4 MiB at a time while written, rows
    bigger than that a sub-row at a time; what torch's safetensors reads is the same values."""
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((2, 2**22)).astype(np.float32)[:, ::2]  # 4 MiB rows, strided
    tall = rng.standard_normal((3000, 700))[::2].T  # 8.4 MB float64, transposed
    big_endian = np.arange(10, dtype=">i4")
    sd = {"wide": chainrule.from_numpy(wide), "tall": chainrule.from_numpy(tall)}
    sd["be"] = chainrule.from_numpy(big_endian.astype("<i4"))
    chainrule.save({**sd, "be_array": big_endian}, tmp_path / "x")
    back = chainrule.load(tmp_path / "x")
    theirs = safetensors.torch.load_file(tmp_path / "x")
    for key, want in (("wide", wide), ("tall", tall), ("be_array", big_endian)):
        got = back[key] if isinstance(back[key], np.ndarray) else back[key].numpy()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(theirs[key].numpy(), want)


# ---- streams: pipes have no size, so the reader never allocates ahead of the bytes ---------------
def _through_a_pipe(data: bytes):
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            try:
                f.write(data)
            except BrokenPipeError:  # the reader stopped early (refused the file)
                pass

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with os.fdopen(r, "rb") as f:
            return chainrule.load(f)
    finally:
        writer.join(timeout=60)


def test_load_from_a_pipe(tmp_path) -> None:
    chainrule.save(checkpoint(), tmp_path / "ck")
    raw = (tmp_path / "ck").read_bytes()
    same(_through_a_pipe(raw), checkpoint())
    for cut in (5, 100, len(raw) - 3):
        with pytest.raises(ValueError, match="truncated"):
            _through_a_pipe(raw[:cut])
    with pytest.raises(ValueError, match="more bytes follow"):
        _through_a_pipe(raw + b"\0")
