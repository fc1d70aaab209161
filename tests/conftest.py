import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from oracle import one_torch_thread  # noqa: E402, F401  (fixtures are found by name in conftest)
