"""docs/api-coverage.md is what tools/api_coverage.py measures now, and every name chainrule shares
with torch's class namespaces (nn, optim, distributions, ...) is used by some test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import api_coverage  # noqa: E402


def test_document_is_current() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "api_coverage.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_every_shared_name_is_tested() -> None:
    untested = {s.torch_name: s.untested for s in api_coverage.measure() if s.untested}
    assert not untested, f"names chainrule has that no test calls against torch: {untested}"


def test_out_of_scope_rules_are_not_too_wide() -> None:
    """Rules catch what they mean to: everyday names stay in scope."""
    for name in ("torch.addmm", "torch.UntypedStorage", "torch.Tensor.values_like", "torch.nn.Conv3d"):
        assert api_coverage.out_of_scope_reason(name) is None, name
    for name in ("torch.sparse_coo_tensor", "torch.quantize_per_tensor", "torch.float8_e4m3fn"):
        assert api_coverage.out_of_scope_reason(name) is not None, name
