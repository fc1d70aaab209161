"""``torch.backends``: the switches scripts set at the top (``cudnn.benchmark = True``,
``cuda.matmul.allow_tf32 = True``) and the availability queries (``mps.is_available()``).

chainrule computes with NumPy on the CPU: no cuDNN, CUDA, MPS, oneDNN, MKL or OpenMP backend of its
own, so every ``is_available()`` here is False. The flags are kept with torch's defaults and can be
set and read back; they change nothing in chainrule's arithmetic (as torch's CUDA flags change
nothing on a CPU).
"""

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
