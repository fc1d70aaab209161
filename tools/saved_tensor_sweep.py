"""Compare with torch which in-place changes fail backward, for every op spec of ``tests/specs``.

For each spec (float64, its first shapes), and for each float input in turn (then each output),
the script runs ``spec.fn`` on non-leaf copies of the inputs, changes that input (or output) in
place under ``no_grad``, and runs backward: torch raises "modified by an inplace operation" where
its node saved that tensor. A line is printed for each case where the two libraries disagree.
``docs/testing.md`` lists what it found. Specs drawn from hypothesis strategies take one example,
so a run may differ a little from the next.

Usage: ``PYTHONPATH=src python tools/saved_tensor_sweep.py [name filter]``
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch

import chainrule

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from oracle import make_inputs  # noqa: E402
from specs import all_specs  # noqa: E402


def _flat(out) -> list:
    if isinstance(out, tuple | list):
        return [x for o in out for x in _flat(o)]
    return [out]


def _outcome(lib, spec, arrays, which: int, target: str) -> str:
    """``"raise"`` (the version error), ``"ok"``, or another error's type and message."""
    tensors = []
    for a, arg in zip(arrays, spec.args):
        if arg.kind == "float":
            tensors.append(lib.tensor(a.astype(np.float64), requires_grad=spec.grad and arg.grad))
        else:
            tensors.append(lib.tensor(a))
    xs = [t * 1 if t.requires_grad else t for t in tensors]  # (not leaves: in-place allowed)
    outs = [o for o in _flat(spec.fn(lib, *xs)) if isinstance(o, lib.Tensor) and o.requires_grad]
    if not outs:
        return "no gradient"
    loss = sum((o.real if o.is_complex() else o).sum() for o in outs)
    changed = xs[which] if target == "input" else outs[which]
    with lib.no_grad():
        changed.mul_(1.0) if target == "output" else changed.add_(1.0)
    try:
        loss.backward()
    except RuntimeError as e:
        return "raise" if "inplace" in str(e) or "in-place" in str(e) else f"RuntimeError: {str(e)[:60]}"
    return "ok"


def main(name_filter: str = "") -> None:
    warnings.simplefilter("ignore")
    for spec in all_specs():
        if name_filter not in spec.name or not spec.grad:
            continue
        shapes = spec.shapes[0] if isinstance(spec.shapes, list | tuple) else spec.shapes.example()
        arrays = make_inputs(spec, shapes, 0)
        cases = [("input", i) for i, arg in enumerate(spec.args) if arg.kind == "float"]
        cases += [("output", i) for i in range(4)]
        for target, which in cases:
            results = []
            for lib in (torch, chainrule):
                try:
                    results.append(_outcome(lib, spec, arrays, which, target))
                except IndexError:
                    results.append("no such output")
                except Exception as e:  # noqa: BLE001 - the outcome is what is compared
                    results.append(f"{type(e).__name__}: {str(e)[:50]}")
            if results[0] == "no such output":
                break
            if results[0] != results[1]:
                print(
                    f"{spec.name!r} {target} {which}: torch {results[0]}, chainrule {results[1]}", flush=True
                )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
