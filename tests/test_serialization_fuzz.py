"""Fuzzing chainrule.load with mutated files (hypothesis; ``make fuzz`` runs 50x the examples).

Three properties, each over random bit flips, byte changes, truncations, insertions, deletions
and edits of the header's JSON:

- a mutated checkpoint either loads exactly what was saved (and then it is byte for byte the file
  that was saved: the SHA-256 covers every byte) or raises ValueError naming the file;
- a mutated checkpoint whose checksum is then recomputed (what a writer with a bug or a hostile
  tool makes: it reaches every check behind the checksum) loads plain data or raises ValueError;
- a mutated safetensors file of torch's (no checksum) loads a dict of tensors or raises ValueError.

Any other exception, a hang or a crash fails the test. With ``-s`` each test prints its outcomes
(docs/security.md quotes a long run's).
"""

from __future__ import annotations

import collections
import struct

import numpy as np
import pytest
import safetensors.torch
import torch
from checkpoints import checkpoint, edit, resign, same
from fuzzing import examples, scale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule

pytestmark = pytest.mark.fuzz

SETTINGS = settings(
    deadline=None,
    derandomize=scale() == 1,  # make test: the same examples every run; make fuzz: new ones
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BYTES = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**20), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 2**20), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 2**20)),
    st.tuples(st.just("insert"), st.integers(0, 2**20), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 2**20), st.integers(1, 16)),
)
# edits of the parsed header, reassembled with a consistent length: (what, which entry, a number)
EDITS = st.tuples(
    st.sampled_from(["shape", "offset", "dtype", "rename", "drop", "structure", "meta", "swap"]),
    st.integers(0, 2**16),
    st.integers(-(2**8), 2**8),
)
_CODES = ["BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "BF16", "F32", "F64", "C64", "F8_E4M3", 7, None]
_CHARS = '{}[]",:0123456789.-eE ntrufalsxyz\\_'


def mutate_bytes(raw: bytes, how) -> bytes:
    kind, at, *arg = how
    at = at % (len(raw) + 1)
    if kind == "flip" and at < len(raw):
        return raw[:at] + bytes([raw[at] ^ (1 << arg[0])]) + raw[at + 1 :]
    if kind == "set" and at < len(raw):
        return raw[:at] + bytes([arg[0]]) + raw[at + 1 :]
    if kind == "truncate":
        return raw[:at]
    if kind == "insert":
        return raw[:at] + arg[0] + raw[at:]
    if kind == "delete":
        return raw[:at] + raw[at + arg[0] :]
    return raw


def _edit_header(how):
    kind, which, number = how

    def change(h: dict) -> None:
        keys = [k for k in h if k != "__metadata__"]
        meta = h.setdefault("__metadata__", {})
        if not keys:
            return
        key = keys[which % len(keys)]
        entry = h[key]
        if kind == "shape" and entry["shape"]:
            entry["shape"][which % len(entry["shape"])] += number
        elif kind == "shape":
            entry["shape"] = [abs(number)]
        elif kind == "offset":
            entry["data_offsets"][which % 2] += number
        elif kind == "dtype":
            entry["dtype"] = _CODES[which % len(_CODES)]
        elif kind == "rename":
            h[key + "x"] = h.pop(key)
        elif kind == "drop":
            del h[key]
        elif kind == "swap":
            other = h[keys[(which + number) % len(keys)]]
            entry["data_offsets"], other["data_offsets"] = other["data_offsets"], entry["data_offsets"]
        elif kind == "structure" and "chainrule" in meta:
            text = meta["chainrule"]
            at = which % (len(text) + 1)
            meta["chainrule"] = text[:at] + _CHARS[number % len(_CHARS)] + text[at + (number > 0) :]
        elif kind == "meta":
            name = sorted(meta)[which % len(meta)] if meta else "chainrule.format"
            meta[name] = str(number)

    return change


def mutate(raw: bytes, steps, signed: bool | None) -> bytes:
    """Apply ``steps`` (byte mutations and header edits); header edits of a file whose header no
    longer parses are skipped. ``signed``: header edits keep a valid checksum (None: plain file)."""
    for step in steps:
        if step[0] in ("shape", "offset", "dtype", "rename", "drop", "structure", "meta", "swap"):
            try:
                raw = edit(raw, _edit_header(step), signed=bool(signed))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError, struct.error):
                pass  # the header is already broken: the edit can't be made
        else:
            raw = mutate_bytes(raw, step)
    return resign(raw) if signed else raw


_KINDS = [  # (words in the message, the kind of refusal), first match
    ("SHA-256", "checksum mismatch"),
    ("checksum", "checksum field malformed or missing"),
    ("truncated", "truncated"),
    ("not a safetensors", "not a safetensors file (length or first byte)"),
    ("corrupted header (", "header not UTF-8 JSON"),
    ("corrupted header", "header field of the wrong type or range"),
    ("does not support", "unknown dtype"),
    ("structure", "structure malformed"),
    ("metadata", "metadata malformed"),
    ("bytes after", "bytes after the data"),
    ("other than 0 and 1", "bool byte other than 0 or 1"),
    ("format", "unknown format version"),
]


def outcome(e: ValueError) -> str:
    """The kind of refusal, for the tally."""
    return next((kind for words, kind in _KINDS if words in str(e)), str(e)[:60])


def run(tmp_path, raw: bytes, steps, signed, check) -> str:
    path = tmp_path / "fuzzed.safetensors"
    path.write_bytes(mutate(raw, steps, signed))
    try:
        back = chainrule.load(path)
    except ValueError as e:
        assert str(path) in str(e), e
        return outcome(e)
    check(back, path.read_bytes())
    return "loaded"


STEPS = st.lists(st.one_of(BYTES, EDITS), min_size=1, max_size=3)


def _report(name: str, tally: collections.Counter) -> None:
    print(f"\n{name}: {sum(tally.values())} examples: {dict(tally.most_common())}")


def test_a_mutated_checkpoint_loads_exactly_or_is_refused(tmp_path) -> None:
    saved = checkpoint()
    chainrule.save(saved, tmp_path / "ck")
    raw = (tmp_path / "ck").read_bytes()
    tally: collections.Counter = collections.Counter()

    def exact(back, mutated: bytes) -> None:
        assert mutated == raw, "a changed file loaded"  # what the SHA-256 guarantees
        same(saved, back)

    @settings(SETTINGS, max_examples=examples(150))
    @given(STEPS)
    def fuzz(steps) -> None:
        tally[run(tmp_path, raw, steps, False, exact)] += 1

    fuzz()
    _report("mutated checkpoints", tally)
    assert tally["checksum mismatch"] > 0 and sum(tally.values()) - tally["loaded"] > 0.9 * sum(
        tally.values()
    )


def _plain_data(x, depth: int = 0) -> None:
    """What a load may return: only the types a checkpoint holds."""
    if isinstance(x, dict | list | tuple):
        items = list(x.items()) if isinstance(x, dict) else list(enumerate(x))
        for k, v in items:
            assert isinstance(k, str | int | float | bool | tuple | type(None)), type(k)
            _plain_data(v, depth + 1)
    else:
        assert isinstance(x, chainrule.Tensor | np.ndarray | str | int | float | bool | type(None)), type(x)


def test_a_mutated_checkpoint_with_a_valid_checksum_loads_plain_data_or_is_refused(tmp_path) -> None:
    chainrule.save(checkpoint(), tmp_path / "ck")
    raw = (tmp_path / "ck").read_bytes()
    tally: collections.Counter = collections.Counter()

    @settings(SETTINGS, max_examples=examples(150))
    @given(STEPS)
    def fuzz(steps) -> None:
        tally[run(tmp_path, raw, steps, True, lambda back, _: _plain_data(back))] += 1

    fuzz()
    _report("mutated checkpoints with recomputed checksums", tally)
    assert tally["loaded"] > 0 and len(tally) > 5  # both outcomes, refusals of several kinds


def test_a_mutated_torch_safetensors_file_loads_tensors_or_is_refused(tmp_path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    sd = {**model.state_dict(), "half": torch.randn(2).half(), "flags": torch.tensor([True, False])}
    safetensors.torch.save_file(sd, tmp_path / "t", metadata={"format": "pt"})
    raw = (tmp_path / "t").read_bytes()
    tally: collections.Counter = collections.Counter()

    def tensors(back, _) -> None:
        assert isinstance(back, dict) and all(isinstance(v, chainrule.Tensor) for v in back.values())

    @settings(SETTINGS, max_examples=examples(100))
    @given(STEPS)
    def fuzz(steps) -> None:
        tally[run(tmp_path, raw, steps, None, tensors)] += 1

    fuzz()
    _report("mutated safetensors files of torch", tally)
    assert tally["loaded"] > 0 and len(tally) > 3
