"""chainrule.func.functional_call against torch.func.functional_call: outputs with swapped
weights, per-sample gradients through grad, restoring the module, tied weights, buffers, and
torch's errors for strict mode and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func as tfunc

import chainrule
import chainrule.func as cfunc

LIBS = ((torch, tfunc), (chainrule, cfunc))
RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 4))
Y = RNG.integers(0, 3, 5)


def mlp(lib):
    """The same MLP in both libraries, weights copied from one seeded draw."""
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3)).double()
    rng = np.random.default_rng(1)
    with lib.no_grad():
        for _, p in model.named_parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=lib.float64))
    return model


def new_params(lib, model, seed: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    return {
        k: lib.tensor(rng.standard_normal(tuple(v.shape)), dtype=lib.float64)
        for k, v in model.named_parameters()
    }


def test_call_with_other_weights_matches_torch_and_restores() -> None:
    outs = []
    for lib, F in LIBS:
        model = mlp(lib)
        before = {k: v for k, v in model.named_parameters()}
        plain = model(lib.tensor(X))
        params = new_params(lib, model)
        out = F.functional_call(model, params, (lib.tensor(X),))
        outs.append(out)
        assert all(before[k] is v for k, v in model.named_parameters())  # the same objects back
        np.testing.assert_array_equal(model(lib.tensor(X)).detach().numpy(), plain.detach().numpy())
    np.testing.assert_allclose(outs[1].numpy(), outs[0].numpy(), rtol=1e-12)
    # by hand, with the new weights
    p = new_params(chainrule, mlp(chainrule))
    h = np.tanh(X @ p["0.weight"].numpy().T + p["0.bias"].numpy())
    np.testing.assert_allclose(outs[1].numpy(), h @ p["2.weight"].numpy().T + p["2.bias"].numpy(), rtol=1e-12)


def _loss(lib, F, model):
    def loss(params, x, y):
        out = F.functional_call(model, params, (x.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))

    return loss


def test_per_sample_gradients_match_torch_vmap_of_grad() -> None:
    model_t, model_c = mlp(torch), mlp(chainrule)
    params_t = {k: v.detach() for k, v in model_t.named_parameters()}
    params_c = {k: v.detach() for k, v in model_c.named_parameters()}
    expected = tfunc.vmap(tfunc.grad(_loss(torch, tfunc, model_t)), in_dims=(None, 0, 0))(
        params_t, torch.tensor(X), torch.tensor(Y)
    )
    grad = cfunc.grad(_loss(chainrule, cfunc, model_c))
    ours = [grad(params_c, chainrule.tensor(X[i]), chainrule.tensor(Y[i])) for i in range(len(X))]
    for k in expected:
        stacked = np.stack([g[k].numpy() for g in ours])
        np.testing.assert_allclose(stacked, expected[k].numpy(), rtol=1e-10, atol=1e-14)
        assert not ours[0][k].requires_grad
    # the mean of the per-sample gradients is the batch gradient
    model_c.zero_grad()
    chainrule.nn.functional.cross_entropy(model_c(chainrule.tensor(X)), chainrule.tensor(Y)).backward()
    for k, p in model_c.named_parameters():
        np.testing.assert_allclose(
            np.mean([g[k].numpy() for g in ours], axis=0), p.grad.numpy(), rtol=1e-10, atol=1e-14
        )


def test_per_sample_gradients_through_vmap_of_grad() -> None:
    """The same numbers batched: chainrule's vmap over grad over functional_call."""
    model_t, model_c = mlp(torch), mlp(chainrule)
    expected = tfunc.vmap(tfunc.grad(_loss(torch, tfunc, model_t)), in_dims=(None, 0, 0))(
        {k: v.detach() for k, v in model_t.named_parameters()}, torch.tensor(X), torch.tensor(Y)
    )
    ours = cfunc.vmap(cfunc.grad(_loss(chainrule, cfunc, model_c)), in_dims=(None, 0, 0))(
        {k: v.detach() for k, v in model_c.named_parameters()}, chainrule.tensor(X), chainrule.tensor(Y)
    )
    for k in expected:
        np.testing.assert_allclose(ours[k].numpy(), expected[k].numpy(), rtol=1e-10, atol=1e-14)


def test_module_is_restored_when_forward_raises() -> None:
    model = mlp(chainrule)
    before = dict(model.named_parameters())
    bad = {"0.weight": chainrule.zeros(8, 5, dtype=chainrule.float64)}  # wrong shape: matmul fails
    with pytest.raises(RuntimeError):
        cfunc.functional_call(model, bad, (chainrule.tensor(X),))
    assert all(before[k] is v for k, v in model.named_parameters())
    assert isinstance(model[0].weight, chainrule.nn.Parameter)


def test_partial_dicts_tuple_of_dicts_args_and_kwargs() -> None:
    outs = []
    for lib, F in LIBS:
        model = mlp(lib)
        p = new_params(lib, model)
        first = F.functional_call(model, {"0.weight": p["0.weight"]}, lib.tensor(X))  # one arg
        split = F.functional_call(
            model,
            ({"0.weight": p["0.weight"]}, {"2.bias": p["2.bias"]}),
            args=(),
            kwargs={"input": lib.tensor(X)},
        )
        outs.append((first, split))
    for ours, theirs in zip(outs[1], outs[0]):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)


def test_buffers_are_swapped_and_in_place_updates_reach_the_dict() -> None:
    results = []
    for lib, F in LIBS:
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3)).double()
        with lib.no_grad():
            model[0].weight.copy_(lib.tensor(np.arange(12.0).reshape(3, 4) / 10, dtype=lib.float64))
            model[0].bias.copy_(lib.tensor([0.5, -0.5, 1.0], dtype=lib.float64))
        buffers = {k: v.clone() for k, v in model.named_buffers()}
        out = F.functional_call(model, buffers, (lib.tensor(X),))
        assert np.all(model[1].running_mean.numpy() == 0)  # the module's own buffer is untouched
        results.append((out, buffers["1.running_mean"], buffers["1.running_var"]))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    assert np.any(results[1][1].numpy() != 0)


class _Tied:
    """A module whose two children are one Linear: its weight has two names."""

    @staticmethod
    def make(lib):
        class Tied(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(2, 2, bias=False)
                self.b = self.a

            def forward(self, x):
                return self.a(x) + 2 * self.b(x)

        return Tied()


@pytest.mark.parametrize("tie_weights", [True, False])
@pytest.mark.parametrize("given", ["a", "b"])
def test_tied_weights(tie_weights, given) -> None:
    outs = []
    for lib, F in LIBS:
        m = _Tied.make(lib)
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        outs.append(F.functional_call(m, {f"{given}.weight": w}, (lib.ones(1, 2),), tie_weights=tie_weights))
    np.testing.assert_allclose(outs[1].detach().numpy(), outs[0].detach().numpy(), rtol=1e-6)


def test_tied_weights_with_two_values_is_an_error() -> None:
    for lib, F in LIBS:
        m = _Tied.make(lib)
        with pytest.raises(
            ValueError,
            match=r"functional_call got multiple values for keys "
            r"\['a.weight', 'b.weight'\], which are tied",
        ):
            F.functional_call(m, {"a.weight": lib.eye(2), "b.weight": lib.eye(2)}, (lib.ones(1, 2),))


def _error(lib, F, call):
    with pytest.raises(Exception) as info:
        call(lib, F)
    return type(info.value), str(info.value)


@pytest.mark.parametrize(
    "case",
    [
        "strict missing",
        "strict unexpected",
        "strict tied",
        "duplicate",
        "not a dict",
        "not a tensor",
        "no such module",
        "bad kwarg",
    ],
)
def test_errors_match_torch(case) -> None:
    def call(lib, F):
        model = mlp(lib)
        p = dict(model.named_parameters())
        x = (lib.tensor(X),)
        if case == "strict missing":
            return F.functional_call(model, {"0.weight": p["0.weight"]}, x, strict=True)
        if case == "strict unexpected":
            return F.functional_call(model, {**p, "foo": lib.zeros(1)}, x, strict=True)
        if case == "strict tied":
            return F.functional_call(
                _Tied.make(lib), {"a.weight": lib.eye(2)}, (lib.ones(1, 2),), tie_weights=False, strict=True
            )
        if case == "duplicate":
            return F.functional_call(model, ({"0.weight": p["0.weight"]}, {"0.weight": p["0.weight"]}), x)
        if case == "not a dict":
            return F.functional_call(model, 3, x)
        if case == "not a tensor":
            return F.functional_call(model, {"0.weight": 3.0}, x)
        if case == "no such module":
            return F.functional_call(model, {"0.nothing.weight": lib.zeros(1)}, x)
        return F.functional_call(model, {}, x, {"foo": 1})

    theirs, ours = (_error(lib, F, call) for lib, F in LIBS)
    assert ours[0] is theirs[0] or issubclass(ours[0], theirs[0])
    if case != "bad kwarg":  # Python's own TypeError names the class differently
        assert ours[1] == theirs[1]
