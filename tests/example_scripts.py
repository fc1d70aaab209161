"""Running the scripts in examples/ from tests: as a real subprocess (with this checkout's src on
PYTHONPATH), or imported as a fresh module whose ``torch`` is the given library."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python examples/<name> *args`` in a subprocess, from the repository root."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


def load_example(name: str, library, module_name: str) -> ModuleType:
    """A fresh copy of examples/<name> as a module, switched to ``library`` by its ``use()``."""
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.use(library)
    return module
