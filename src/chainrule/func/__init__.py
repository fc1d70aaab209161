"""``chainrule.func``: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian,
vmap, functional_call), with torch.func's names and semantics."""

from .functional_call import functional_call
from .transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from .vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "functional_call", "vmap"]
