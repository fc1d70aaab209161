"""Execute docs/lecture.ipynb and save it in place with its outputs, so that it reads on a code host.

    python tools/run_notebook.py                   # re-run docs/lecture.ipynb, save it in place
    python tools/run_notebook.py --output X.ipynb  # save the executed copy elsewhere

The notebook runs in a Jupyter kernel ("python3", through ipykernel) of this same Python, with
the repository's ``src/`` first on its ``PYTHONPATH`` (so it shows this checkout's chainrule), in
the notebook's folder as its working directory. Needs the ``notebook`` extra (nbclient, nbformat,
ipykernel, matplotlib, graphviz; the ``test`` extra has them too) and Graphviz's ``dot``;
``make notebook`` installs the extra and runs this.

The saved file is deterministic: the notebook seeds its random numbers, and the volatile metadata
(execution timestamps, the kernel's Python version) is left out, so running it again on the same
machine changes nothing, and after a code change the diff shows only the outputs that changed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "lecture.ipynb"
CELL_TIMEOUT_S = 120  # per cell; the whole notebook runs in seconds
DEFAULT_REPR = re.compile(r"<[\w.]+ (object )?at 0x[0-9a-f]+>")
# the notebook's own metadata, written the same on every machine
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def kernel_env(src: Path = ROOT / "src") -> dict[str, str]:
    """The kernel's environment: this one, with ``src`` first on PYTHONPATH and hashing fixed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    env["PYTHONHASHSEED"] = "0"  # set iteration order, should a cell ever print one
    env.pop("MPLBACKEND", None)  # the notebook's %matplotlib inline decides, not the caller's shell
    return env


def execute(nb, cwd: Path, timeout: int = CELL_TIMEOUT_S, env: dict[str, str] | None = None):
    """Run every cell of ``nb`` (a NotebookNode, changed in place) in a fresh python3 kernel.

    A cell that raises stops the run with nbclient's ``CellExecutionError``, which names the cell
    and shows its traceback; a cell running longer than ``timeout`` seconds raises
    ``CellTimeoutError``.
    """
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,  # no execution timestamps in the cells' metadata
    )
    client.execute(env=kernel_env() if env is None else env)
    return nb


def strip_volatile(nb):
    """Drop what changes from run to run or machine to machine but says nothing to a reader.

    That is: the execution timestamps and the kernel's version in the metadata; the split of a
    cell's printed text into stream messages (it depends on when the kernel flushed, so adjacent
    pieces are joined); and a default ``repr`` with a memory address (``<... at 0x7f...>``) beside
    a richer form of the same output (the SVG of a graph), which a code host never shows.
    """
    nb.metadata = nbformat.from_dict(METADATA)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [_without_address(o) for o in _join_streams(cell.outputs)]
    return nb


def _join_streams(outputs: list) -> list:
    joined: list = []
    for out in outputs:
        prev = joined[-1] if joined else None
        if out.output_type == "stream" and prev is not None and prev.output_type == "stream":
            if prev.name == out.name:
                prev.text += out.text
                continue
        joined.append(out)
    return joined


def _without_address(out):
    data = out.get("data", {})
    if len(data) > 1 and DEFAULT_REPR.fullmatch(data.get("text/plain", "")):
        del data["text/plain"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK, help="the notebook to run")
    parser.add_argument("--output", type=Path, default=None, help="where to save it (default: in place)")
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds one cell may run (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    nb = nbformat.read(args.notebook, as_version=4)
    execute(nb, cwd=args.notebook.resolve().parent, timeout=args.timeout)
    strip_volatile(nb)
    nbformat.validate(nb)
    out = args.output or args.notebook
    tmp = out.with_name(out.name + ".tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, out)  # atomic: an interrupted run leaves the committed notebook as it was
    print(f"executed {args.notebook} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
