"""``chainrule.func``: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian,
vmap, functional_call) and einops-style ``rearrange``, with torch.func's names and semantics."""

from ._forward import linearize
from ._module_state import replace_all_batch_norm_modules_, stack_module_state
from .einops import rearrange
from .functional_call import functional_call
from .transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from .vmap import vmap

__all__ = [
    "grad",
    "grad_and_value",
    "vjp",
    "jvp",
    "jacrev",
    "jacfwd",
    "hessian",
    "functional_call",
    "vmap",
    "linearize",
    "stack_module_state",
    "replace_all_batch_norm_modules_",
    "rearrange",
]
