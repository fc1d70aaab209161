import importlib.util
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch's thread pool only slows tiny ops down (by 10-40x on a busy 2-core machine). A module
    uses it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch  # here, not at the top: the tests that need no torch run without it

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(params=["numpy", "jit"])
def jit_path(request):
    """Runs a test on the NumPy kernels and on the compiled ones (chainrule.kernels.jit); a module
    uses it with ``pytestmark = pytest.mark.usefixtures("jit_path")``."""
    from chainrule.kernels import jit

    if request.param == "jit" and importlib.util.find_spec("numba") is None:
        pytest.skip("numba is not installed: chainrule uses its NumPy kernels only")
    previous = jit.set_enabled(request.param == "jit")
    yield request.param
    jit.set_enabled(previous)


# hypothesis (6.140-6.170 at least) resolves a derandomized test's database through a chain of
# settings objects that grows by one per test run in the process and is never cached, so after
# ~950 given-tests in one process every further one dies of RecursionError (reproduced with a
# trivial file). The suite runs ~1,500 per worker: leave the chain room.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
