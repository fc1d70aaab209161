"""``torch.version``: what this build of the library is, as training scripts query it
(``torch.version.cuda`` is None on a build without CUDA, as in torch's CPU wheels; chainrule's
tensors live on the CPU)."""

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "xpu"]

__version__ = "0.1.0"
cuda: str | None = None  # the CUDA version built against: none
hip: str | None = None  # the ROCm version: none
xpu: str | None = None  # the Intel GPU (SYCL) version: none
debug = False
git_version = "unknown"
