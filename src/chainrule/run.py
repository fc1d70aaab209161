"""Run an unchanged PyTorch script on chainrule: ``python -m chainrule.run script.py args...``.

``import torch`` (and ``torch.nn``, ``torch.optim``, ``torch.utils.data``, ...) inside the script, and
inside any module it imports, resolves to chainrule (see ``chainrule.alias``). The script sees the same
``sys.argv`` and ``sys.path[0]`` as under ``python script.py args...``; ``-m module args...`` runs a
module as ``python -m module`` does.
"""

from __future__ import annotations

import os
import runpy
import sys

from . import alias

__all__ = ["main"]

USAGE = """usage: python -m chainrule.run script.py [args ...]
       python -m chainrule.run -m module [args ...]

Runs a PyTorch program with `import torch` resolved to chainrule."""


def main(argv: list[str] | None = None) -> int:
    """Run the script or module named by ``argv`` (default ``sys.argv[1:]``) with the alias on.

    Returns the exit status for a usage error; the script's own ``sys.exit`` passes through."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    alias.install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print("chainrule.run: -m needs a module name\n\n" + USAGE, file=sys.stderr)
            return 2
        sys.argv = [argv[1], *argv[2:]]
        sys.path[0] = os.getcwd()  # what `python -m module` puts first
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    script = argv[0]
    if not os.path.exists(script):
        print(f"chainrule.run: can't open file {script!r}: no such file", file=sys.stderr)
        return 2
    sys.argv = argv
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # what `python script.py` puts first
    runpy.run_path(os.path.abspath(script), run_name="__main__")  # __file__ absolute, as Python's
    return 0


if __name__ == "__main__":
    sys.exit(main())
