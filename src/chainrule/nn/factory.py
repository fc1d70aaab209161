"""``torch.nn.factory_kwargs``: the device/dtype/memory_format keywords of a module's constructor,
gathered into one dict for the tensor factories."""

from __future__ import annotations

__all__ = ["factory_kwargs"]


def factory_kwargs(kwargs: dict | None) -> dict:
    """``{"device": ..., "dtype": ..., "memory_format": ...}`` (those given) from ``kwargs``, which
    may also carry a ready ``factory_kwargs`` dict; any other key is a TypeError, as in torch."""
    if kwargs is None:
        return {}
    simple_keys = {"device", "dtype", "memory_format"}
    expected_keys = simple_keys | {"factory_kwargs"}
    if not kwargs.keys() <= expected_keys:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected_keys}")
    result = dict(kwargs.get("factory_kwargs", {}))
    for k in simple_keys:
        if k in kwargs:
            if k in result:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            result[k] = kwargs[k]
    return result
