"""api sweep entries for the spatial ops of nn.functional and their top-level torch spellings:
padding, resampling, pixel rearranging, 3-d convolution and the other pools."""

from __future__ import annotations

import numpy as np
from api_cases import FLOAT, POS, UNIT, add, custom

NCL, NCHW, NCDHW = (2, 3, 8), (2, 3, 6, 5), (2, 2, 5, 4, 6)
SAMPLES2 = np.array([[[0.2, 0.7], [0.9, 0.1]]])  # fractional pooling's samples for (1, 2, 2)
SAMPLES3 = np.array([[[0.3, 0.6, 0.05], [0.8, 0.4, 0.99]]])


def _fn(m, name):
    return getattr(m.nn.functional, name)


# ---- padding ------------------------------------------------------------------------------------
add(
    custom(
        lambda f, m, x: (
            f(x, (1, 2)),
            f(x, (1, -1, 0, 2), value=1.5),
            f(x, (2, 1, 1, 1), mode="reflect"),
            f(x, (2, 3, -1, 1), mode="replicate"),
            f(x, (1, 2, 2, -1), mode="circular"),
            f(x[0], (1, 1), mode="reflect"),
        ),
        (NCHW,),
    ),
    "F.pad",
)
add(custom(lambda f, m, x: (f(x, (1, 2)), f(x, (0, -1, 2, 0), 2.5)), (NCHW,)), "chainrule.constant_pad_nd")

# ---- resampling -----------------------------------------------------------------------------------
add(
    custom(
        lambda f, m, x3, x4, x5: (
            f(x4, scale_factor=2),
            f(x4, size=(4, 9), mode="nearest-exact"),
            f(x3, scale_factor=1.7, mode="linear"),
            f(x4, size=(7, 3), mode="bilinear", align_corners=True),
            f(x4, scale_factor=(1.5, 0.5), mode="bicubic"),
            f(x5, size=(3, 5, 7), mode="trilinear"),
            f(x4, size=(4, 3), mode="area"),
            f(x4, scale_factor=1.3, mode="bilinear", recompute_scale_factor=True),
            f(x4, size=(3, 2), mode="bilinear", antialias=True),
            f(x4, scale_factor=0.6, mode="bicubic", antialias=True),
        ),
        (NCL, NCHW, NCDHW),
    ),
    "F.interpolate",
)
add(custom(lambda f, m, x: (f(x, scale_factor=2), f(x, size=(3, 8), mode="bilinear")), (NCHW,)), "F.upsample")
add(
    custom(lambda f, m, x: (f(x, scale_factor=2), f(x, size=(3, 8))), (NCHW,)),
    "F.upsample_nearest",
    "F.upsample_bilinear",
)
add(
    custom(
        lambda f, m, x, g, x5, g5: (
            f(x, g),
            f(x, g, "nearest", "border", True),
            f(x, g, "bicubic", "reflection"),
            f(x, g * 1.5, "bilinear", "reflection", True),
            f(x5, g5, align_corners=False),
        ),
        (NCHW, (2, 3, 4, 2), NCDHW, (2, 2, 3, 2, 3)),
        (FLOAT, UNIT, FLOAT, UNIT),
    ),
    "F.grid_sample",
)
add(
    custom(
        lambda f, m, x, g: (f(x, g, 0, 0, False), f(x, g, 2, 1, True)), (NCHW, (2, 3, 4, 2)), (FLOAT, UNIT)
    ),
    "chainrule.grid_sampler",
    "chainrule.grid_sampler_2d",
)
add(
    custom(lambda f, m, x, g: f(x, g, 0, 2, False), (NCDHW, (2, 2, 3, 2, 3)), (FLOAT, UNIT)),
    "chainrule.grid_sampler_3d",
)
add(
    custom(
        lambda f, m, t, t3: (
            f(t, (2, 3, 4, 5)),
            f(t, (2, 1, 3, 2), align_corners=True),
            f(t3, (2, 1, 2, 3, 4)),
        ),
        ((2, 2, 3), (2, 3, 4)),
    ),
    "F.affine_grid",
)
add(custom(lambda f, m, t: f(t, (2, 3, 4, 5), False), ((2, 2, 3),)), "chainrule.affine_grid_generator")

# ---- pixel rearranging ----------------------------------------------------------------------------
add(
    custom(lambda f, m, x: (f(x, (2, 3)), f(x, 2, 2, 1, 2), f(x[0], 3)), (NCHW,)),
    "F.unfold",
)
add(
    custom(lambda f, m, x: (f(x, (5, 5), (2, 3)), f(x[0], (4, 6), 2, 1, 1, 2)), ((2, 12, 12),)),
    "F.fold",
)
add(
    custom(lambda f, m, x: (f(x, 2), f(x[0], 1)), ((2, 8, 3, 2),)),
    "F.pixel_shuffle",
    "chainrule.pixel_shuffle",
)
add(
    custom(lambda f, m, x: (f(x, 2), f(x[0], 1)), ((2, 2, 4, 6),)),
    "F.pixel_unshuffle",
    "chainrule.pixel_unshuffle",
)
add(
    custom(lambda f, m, x: (f(x, 2), f(x, 3)), ((2, 6, 3),)),
    "F.channel_shuffle",
    "chainrule.channel_shuffle",
)
# torch has no derivative for native_channel_shuffle (chainrule's is channel_shuffle's)
add(
    custom(lambda f, m, x: (f(x, 2), f(x, 3)), ((2, 6, 3),), grad=False),
    "F.native_channel_shuffle",
    "chainrule.native_channel_shuffle",
)

# ---- 3-d convolution ----------------------------------------------------------------------------
add(
    custom(
        lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, (2, 1, 2), 1, (1, 2, 1))),
        (NCDHW, (3, 2, 2, 3, 2), (3,)),
    ),
    "F.conv3d",
    "chainrule.conv3d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 1)), (NCDHW, (2, 3, 2, 3, 2), (3,))),
    "F.conv_transpose3d",
    "chainrule.conv_transpose3d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1)), (NCL, (4, 3, 3), (4,))),
    "chainrule.conv1d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1)), (NCHW, (4, 3, 3, 3), (4,))),
    "chainrule.conv2d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 1)), (NCL, (3, 4, 3), (4,))),
    "chainrule.conv_transpose1d",
)
add(
    custom(lambda f, m, x, w, b: (f(x, w, b), f(x, w, None, 2, 1, 1)), (NCHW, (3, 4, 3, 3), (4,))),
    "chainrule.conv_transpose2d",
)

# ---- pooling ----------------------------------------------------------------------------------------
add(
    custom(lambda f, m, x: (f(x, 2), f(x, (2, 3, 2), (1, 2, 2), 1, ceil_mode=True)), (NCDHW,)),
    "F.max_pool3d",
    "F.max_pool3d_with_indices",
    "F.avg_pool3d",
    "chainrule.max_pool3d",
)
add(custom(lambda f, m, x: (f(x, 2), f(x, 3, 2, 1)), (NCL,)), "chainrule.max_pool1d", "chainrule.avg_pool1d")
add(custom(lambda f, m, x: f(x, 3, 2, 1), (NCL,)), "chainrule.max_pool1d_with_indices")
add(custom(lambda f, m, x: (f(x, 2), f(x, 3, 2, 1)), (NCHW,)), "chainrule.max_pool2d")
add(
    custom(lambda f, m, x: (f(x, 3), f(x, 5)), (NCL,)),
    "chainrule.adaptive_avg_pool1d",
    "chainrule.adaptive_max_pool1d",
)
add(
    custom(lambda f, m, x: (f(x, 3), f(x, 5, True)), (NCL,)),
    "F.adaptive_max_pool1d",
    "F.adaptive_max_pool1d_with_indices",
)
add(
    custom(lambda f, m, x: (f(x, 4), f(x, (None, 2), True), f(x[0], (3, 4))), (NCHW,)),
    "F.adaptive_max_pool2d",
    "F.adaptive_max_pool2d_with_indices",
)
add(
    custom(lambda f, m, x: (f(x, (2, 3, 4)), f(x[0], 3)), (NCDHW,)),
    "F.adaptive_max_pool3d",
    "F.adaptive_max_pool3d_with_indices",
    "F.adaptive_avg_pool3d",
)
add(custom(lambda f, m, x: (f(x, 2, 3), f(x, 1.5, 2, 1)), (NCL,), (POS,)), "F.lp_pool1d")
add(custom(lambda f, m, x: (f(x, 2, 3), f(x, 3, (2, 3), 1, True)), (NCHW,), (POS,)), "F.lp_pool2d")
add(custom(lambda f, m, x: (f(x, 2, 2), f(x, 1.5, (2, 3, 2), 1)), (NCDHW,), (POS,)), "F.lp_pool3d")
add(
    custom(
        lambda f, m, x: (
            f(x, 2, (3, 4), _random_samples=m.tensor(SAMPLES2, dtype=x.dtype)),
            f(x, (2, 3), None, (0.5, 0.5), True, _random_samples=m.tensor(SAMPLES2, dtype=x.dtype)),
        ),
        ((1, 2, 7, 8),),
    ),
    "F.fractional_max_pool2d",
    "F.fractional_max_pool2d_with_indices",
)
add(
    custom(
        lambda f, m, x: f(x, 2, (3, 2, 4), _random_samples=m.tensor(SAMPLES3, dtype=x.dtype)),
        ((1, 2, 5, 4, 6),),
    ),
    "F.fractional_max_pool3d",
    "F.fractional_max_pool3d_with_indices",
)


def _unpool(nd: int, shape: tuple):
    def call(f, m, x):
        values, indices = _fn(m, f"max_pool{nd}d")(x, 2, return_indices=True)
        size = tuple(x.shape[-nd:])
        return f(values, indices, 2), f(values, indices, 2, output_size=size)

    return custom(call, (shape,))


add(_unpool(1, (2, 3, 9)), "F.max_unpool1d")
add(_unpool(2, (2, 3, 5, 6)), "F.max_unpool2d")
add(_unpool(3, (2, 2, 5, 4, 6)), "F.max_unpool3d")
