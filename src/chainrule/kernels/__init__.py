"""Array kernels: arrays in, arrays out, no Tensor and no graph.

The kernels that both the differentiable ops (``chainrule.ops``) and vmap's batching rules
(``chainrule.func``) call live here, below both, so that neither imports the other for them.
"""
