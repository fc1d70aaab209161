"""Differential fuzzing of the engine against torch: random programs (tests/fuzz/program_steps.py)
run in both libraries must agree on values, gradients and raised exception types.

``make test`` draws a bounded number of programs (derandomized: the same ones on every run);
``make fuzz`` draws ``CHAINRULE_FUZZ_SCALE`` times as many, with hypothesis's random seed. Setting
``CHAINRULE_FUZZ_STATS=path`` appends one JSON line per test with the figures docs/testing.md
records (programs, steps, programs that ended in an error, the registered ops they exercised).
"""

from __future__ import annotations

import json
import os
import time

import pytest
import torch
from fuzzing import examples, scale
from hypothesis import HealthCheck, given, settings
from known import known_finding
from program_steps import programs
from programs import Program, assert_same_outcome, ops_in_graph, run

import chainrule

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("one_torch_thread")]

SETTINGS = dict(
    deadline=None,
    derandomize=scale() == 1,  # the suite runs the same programs every time; make fuzz explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
)


class Stats:
    """The figures of one fuzz test, written where CHAINRULE_FUZZ_STATS says (if set)."""

    def __init__(self, name: str):
        self.name, self.start = name, time.perf_counter()
        self.programs = self.steps = self.errors = 0
        self.ops: set[str] = set()
        self.known: dict[str, int] = {}

    def add(self, program: Program, values, error) -> None:
        self.programs += 1
        self.steps += len(program.steps)
        self.errors += error is not None
        self.ops |= ops_in_graph(values)

    def write(self) -> None:
        path = os.environ.get("CHAINRULE_FUZZ_STATS")
        if not path:
            return
        record = dict(
            test=self.name,
            programs=self.programs,
            steps=self.steps,
            ended_in_error=self.errors,
            known_findings=self.known,
            ops=sorted(self.ops),
            seconds=round(time.perf_counter() - self.start, 1),
        )
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def _check(program: Program, stats: Stats) -> None:
    theirs = run(program, torch)
    ours = run(program, chainrule)
    stats.add(program, ours.values, theirs.error)
    try:
        assert_same_outcome(program, ours, theirs)
    except AssertionError as mismatch:
        known = known_finding(f"{mismatch}\n{program.source()}")
        if known is None:
            raise
        stats.known[known] = stats.known.get(known, 0) + 1  # recorded in known.py, not fixed yet


def _fuzz(name: str, n: int, strategy):
    """A test running ``n`` (times the fuzz scale) programs drawn from ``strategy``."""
    stats = Stats(name)

    @settings(max_examples=examples(n), **SETTINGS)
    @given(program=strategy)
    def test(program: Program) -> None:
        _check(program, stats)

    def run_and_report() -> None:
        try:
            test()
        finally:
            stats.write()

    return run_and_report


def test_programs_float64() -> None:
    """Chains and DAGs of every kind of step, float64: values, errors and gradients as torch."""
    _fuzz("float64", 100, programs("float64"))()


def test_programs_float32() -> None:
    """The same in float32, with a tolerance of 1e-4 times the program's depth."""
    _fuzz("float32", 50, programs("float32"))()


def test_views_and_inplace() -> None:
    """Views, in-place ops on them and on their bases, indexing and hooks only: the engine's
    version counters, CopySlices and saved-tensor checks against torch's."""
    makers = ("view", "inplace", "indexing", "binary", "hook", "no_grad", "reduction")
    _fuzz("views and in-place", 60, programs("float64", max_steps=12, makers=makers))()


def test_long_chains() -> None:
    """Long programs of op specs and reductions: intermediates reused by several ops."""
    _fuzz("long chains", 15, programs("float64", max_steps=25, makers=("spec", "reduction", "binary")))()
