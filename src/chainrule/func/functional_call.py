"""``functional_call``: run a module with other tensors in place of its parameters and buffers.

The implementation lives with the modules, in ``nn/utils/stateless.py`` (torch's
``torch.nn.utils.stateless``), so that ``nn`` can offer it too without importing the transforms.
"""

from __future__ import annotations

from ..nn.utils.stateless import run_functional_call as functional_call

__all__ = ["functional_call"]
