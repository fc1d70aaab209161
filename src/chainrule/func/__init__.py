"""``chainrule.func``: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian,
vmap, functional_call), with torch.func's names and semantics."""
