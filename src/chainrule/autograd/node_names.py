"""torch's names of the nodes of ops whose name does not give it.

An op's node is named from the op's name (``log1p`` -> ``Log1pBackward0``); where torch's name is
another (``Log1PBackward0``), it is here, and ``Op`` takes it from here when the op is made. Where
torch's name depends on the call (``sum(x)`` is ``SumBackward0``, ``sum(x, 0)`` ``SumBackward1``),
the op's forward picks a variant instead (``Op.shown_as``). ``tests/test_grad_fn_names.py`` runs
every op spec under torch and compares the names.
"""

from __future__ import annotations

__all__ = ["TORCH_NAMES"]

TORCH_NAMES = {
    "log1p": "Log1PBackward0",
    "fft_c2r": "FftC2RBackward0",
    "fft_r2c": "FftR2CBackward0",
    "fft_c2c": "FftC2CBackward0",
    "xlog1py": "SpecialXlog1PyBackward0",
    "i0e": "SpecialI0EBackward0",
    "i1": "SpecialI1Backward0",
    "i1e": "SpecialI1EBackward0",
    "erfcx": "SpecialErfcxBackward0",
    "ndtri": "SpecialNdtriBackward0",
    "log_ndtr": "SpecialLogNdtrBackward0",
    "entr": "SpecialEntrBackward0",
    "zeta": "SpecialZetaBackward0",
    "avg_pool2d": "AvgPool2DBackward0",
    "max_pool2d": "MaxPool2DWithIndicesBackward0",
    "to": "ToCopyBackward0",
    "norm": "LinalgVectorNormBackward0",
    "narrow": "SliceBackward0",
    "take_along_dim": "GatherBackward0",
    "index_put_accumulate": "IndexPutBackward0",
    "max_dim": "MaxBackward0",
    "min_dim": "MinBackward0",
    "max": "MaxBackward1",
    "min": "MinBackward1",
    "nanmedian_dim": "NanmedianBackward1",
    "convolution_transpose": "ConvolutionBackward0",
    "linalg_lu_factor": "LinalgLuFactorExBackward0",
    "square": "PowBackward0",
    "clamp": "ClampBackward1",
    "mse_loss": "MseLossBackward0",
    "sum_to_size": "SumBackward1",
}
