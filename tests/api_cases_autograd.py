"""api-sweep entries of the autograd area (Tensor.register_post_accumulate_grad_hook)."""

from __future__ import annotations

from api_cases import add, custom


def _post_accumulate(f, m, x):
    seen = []
    leaf = x.detach().requires_grad_()
    handle = leaf.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))
    (leaf * leaf).sum().backward()
    handle.remove()
    (leaf * leaf).sum().backward()  # the removed hook no longer runs
    return m.stack([seen[0], leaf.grad]) + len(seen)


add(custom(_post_accumulate, grad=False), "Tensor.register_post_accumulate_grad_hook")
add(
    custom(lambda f, m, x: (x * 2).register_post_accumulate_grad_hook(print), raises=True),
    "Tensor.register_post_accumulate_grad_hook",
)
