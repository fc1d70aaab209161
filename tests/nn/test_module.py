"""Module, Parameter and the containers against torch.nn: registration, traversal, modes, dtype
conversion, state dicts, hooks and printing. Each scenario runs on both libraries and the results
(names, messages, values) are compared."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import _outputs, _tensors, make_inputs, to_numpy
from specs import all_specs

import chainrule
import chainrule.nn as cnn

LIBS = [(torch, torch.nn), (chainrule, cnn)]


def _error(fn) -> tuple[str, str]:
    """(exception type, message with the library name normalised) of ``fn()``."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).replace("chainrule.", "torch.")
    return "", ""


def build_net(lib, nn):
    """The same small model in either library (all the container kinds, a buffer, a None child)."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Linear(4, 8), nn.LeakyReLU(0.2, inplace=True), nn.GELU(approximate="tanh")
            )
            self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 2), nn.Linear(8, 3)])
            self.extra = nn.ModuleDict(
                {
                    "act": nn.Softmax(dim=1),
                    "flat": nn.Flatten(),
                    "unflat": nn.Unflatten(1, (2, 4)),
                    "elu": nn.ELU(alpha=0.5),
                    "sp": nn.Softplus(beta=2, threshold=10),
                }
            )
            self.loss = nn.CrossEntropyLoss(label_smoothing=0.1)
            self.bil = nn.Bilinear(2, 3, 4, bias=False)
            self.scale = nn.Parameter(lib.ones(1))
            self.register_buffer("steps", lib.zeros(1))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.empty = nn.Sequential()
            self.none = None

        def forward(self, x):
            h = self.body(x)
            return sum((head(h).sum() for head in self.heads), self.scale * 0)

    return Net()


def twin_nets():
    theirs = build_net(torch, torch.nn).double()
    ours = build_net(chainrule, cnn).double()
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})
    return ours, theirs


# ---- Parameter --------------------------------------------------------------------------------
def test_parameter_is_a_leaf_tensor_sharing_memory_and_printing_like_torch() -> None:
    base = chainrule.tensor([1.0, 2.0])
    p = cnn.Parameter(base)
    assert isinstance(p, chainrule.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    p.data[0] = 5.0
    assert base[0].item() == 5.0  # shares memory, as torch's Parameter does
    assert repr(cnn.Parameter(chainrule.tensor([1.0, 2.0]))) == repr(
        torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    )
    assert repr(cnn.Parameter(chainrule.tensor([[1.5]]), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.tensor([[1.5]]), requires_grad=False)
    )
    assert cnn.Parameter().shape == torch.nn.Parameter().shape


def test_parameter_from_a_computed_tensor_is_a_leaf() -> None:
    x = chainrule.ones(2, requires_grad=True)
    p = cnn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad
    (p * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 3.0])
    assert x.grad is None


def test_parameter_errors_match_torch() -> None:
    assert _error(lambda: torch.nn.Parameter([1.0]))[0] != ""
    assert _error(lambda: cnn.Parameter([1.0]))[0] == "TypeError"  # torch: an AttributeError
    assert (
        _error(lambda: cnn.Parameter(chainrule.tensor([1])))[0]
        == _error(lambda: torch.nn.Parameter(torch.tensor([1])))[0]
        == "RuntimeError"
    )
    assert not cnn.Parameter(chainrule.tensor([1]), requires_grad=False).requires_grad


def test_parameter_deepcopy_and_pickle_keep_the_class() -> None:
    p = cnn.Parameter(chainrule.tensor([1.0, 2.0]))
    p.grad = chainrule.tensor([0.5, 0.5])
    q = copy.deepcopy(p)
    assert type(q) is cnn.Parameter and q.requires_grad
    np.testing.assert_array_equal(q.grad.numpy(), [0.5, 0.5])
    q.data[0] = 9.0
    assert p[0].item() == 1.0
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is cnn.Parameter and r.requires_grad and r.tolist() == [1.0, 2.0]
    frozen = pickle.loads(pickle.dumps(cnn.Parameter(chainrule.ones(1), requires_grad=False)))
    assert not frozen.requires_grad


@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_parameters_work_in_every_op(data) -> None:
    """Every op spec, run once with plain leaf tensors and once with Parameters holding the same
    values: the same outputs, the same gradients (or the same error)."""
    for spec in all_specs():
        if not spec.grad:
            continue
        shapes = data.draw(spec.shapes)
        arrays = make_inputs(spec, shapes, 0)
        plain = _tensors(chainrule, arrays, spec, np.float64)
        params = [
            cnn.Parameter(chainrule.tensor(t.numpy(force=True)), t.requires_grad) if t.requires_grad else t
            for t in plain
        ]
        results = []
        for ins in (plain, params):
            try:
                outs = [o for o in _outputs(spec.fn(chainrule, *ins)) if isinstance(o, chainrule.Tensor)]
                diff = [o for o in outs if o.requires_grad]
                wrt = [t for t in ins if t.requires_grad]
                grads = (
                    chainrule.autograd.grad(
                        diff, wrt, [chainrule.ones_like(o) for o in diff], allow_unused=True
                    )
                    if diff and wrt
                    else ()
                )
                results.append(
                    ([o.numpy(force=True) for o in outs], [None if g is None else g.numpy() for g in grads])
                )
            except Exception as e:  # noqa: BLE001
                results.append(type(e).__name__)
        a, b = results
        if isinstance(a, str) or isinstance(b, str):
            assert a == b, f"{spec.name}: {a} with tensors, {b} with Parameters"
            continue
        for x, y in zip(a[0] + a[1], b[0] + b[1]):
            if x is None or y is None:
                assert x is None and y is None, spec.name
            else:
                np.testing.assert_array_equal(x, y, err_msg=spec.name)


# ---- registration and attributes --------------------------------------------------------------
def test_attribute_assignment_registers_like_torch() -> None:
    for lib, nn in LIBS:
        m = nn.Linear(2, 3)
        m.sub = nn.ReLU()
        m.plain = 3
        m.extra = nn.Parameter(lib.zeros(2))
        assert list(m._parameters) == ["weight", "bias", "extra"]
        assert list(m._modules) == ["sub"] and m.__dict__["plain"] == 3
        del m.extra
        m.bias = None
        assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
        m.register_buffer("b", lib.ones(1))
        m.b = lib.zeros(1)
        assert m._buffers["b"].tolist() == [0.0]
        del m.b
        assert "b" not in m._buffers


@pytest.mark.parametrize(
    "action",
    [
        "assign_tensor_to_parameter",
        "missing_attribute",
        "buffer_dot",
        "buffer_exists",
        "buffer_not_tensor",
        "module_not_module",
        "module_dot",
        "module_empty",
        "parameter_not_parameter",
        "child_not_module",
        "forward_missing",
        "to_int",
        "buffer_wrong_type",
    ],
)
def test_registration_errors_match_torch(action: str) -> None:
    def run(lib, nn):
        m = nn.Linear(2, 2)
        actions = {
            "assign_tensor_to_parameter": lambda: setattr(m, "weight", lib.zeros(2, 2)),
            "missing_attribute": lambda: m.nope,
            "buffer_dot": lambda: m.register_buffer("a.b", None),
            "buffer_exists": lambda: m.register_buffer("weight", None),
            "buffer_not_tensor": lambda: m.register_buffer("c", 3),
            "module_not_module": lambda: m.add_module("x", 3),
            "module_dot": lambda: m.add_module("x.y", nn.ReLU()),
            "module_empty": lambda: m.add_module("", nn.ReLU()),
            "parameter_not_parameter": lambda: m.register_parameter("p", lib.zeros(1)),
            "child_not_module": lambda: (setattr(m, "c", nn.ReLU()), setattr(m, "c", 4)),
            "forward_missing": lambda: nn.Module()(1),
            "to_int": lambda: m.to(lib.int64),
            "buffer_wrong_type": lambda: (m.register_buffer("r", None), setattr(m, "r", 1.5)),
        }
        return _error(actions[action])

    ours, theirs = run(chainrule, cnn), run(torch, torch.nn)
    assert ours[0] == theirs[0] != ""
    assert ours[1] == theirs[1]


def test_get_submodule_parameter_buffer() -> None:
    ours, theirs = twin_nets()
    for m in (ours, theirs):
        assert m.get_submodule("heads.1") is m.heads[1]
        assert m.get_parameter("body.0.bias") is m.body[0].bias
        assert m.get_buffer("steps") is m.steps
        assert m.get_submodule("") is m
    assert (
        _error(lambda: ours.get_submodule("heads.9"))[0] == _error(lambda: theirs.get_submodule("heads.9"))[0]
    )


# ---- traversal ----------------------------------------------------------------------------------
def test_traversal_names_and_order_match_torch() -> None:
    ours, theirs = twin_nets()
    for fn in (
        lambda m: [n for n, _ in m.named_parameters()],
        lambda m: [n for n, _ in m.named_parameters(prefix="net", recurse=False)],
        lambda m: [n for n, _ in m.named_buffers()],
        lambda m: [n for n, _ in m.named_children()],
        lambda m: [n for n, _ in m.named_modules()],
        lambda m: [n for n, _ in m.named_modules(prefix="root")],
        lambda m: [type(c).__name__ for c in m.children()],
        lambda m: [type(c).__name__ for c in m.modules()],
        lambda m: [tuple(p.shape) for p in m.parameters()],
        lambda m: [tuple(b.shape) for b in m.buffers(recurse=False)],
    ):
        assert fn(ours) == fn(theirs)


def test_shared_parameters_and_modules_are_listed_once_unless_asked() -> None:
    for _, nn in LIBS:
        shared = nn.Linear(3, 3)
        m = nn.Sequential(shared, nn.ReLU(), shared)
        assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]
        assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == [
            "0.weight",
            "0.bias",
            "2.weight",
            "2.bias",
        ]
        assert [n for n, _ in m.named_modules()] == ["", "0", "1"]
        assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
        assert len(list(m.children())) == 2


# ---- modes, gradients, apply ------------------------------------------------------------------
def test_train_eval_zero_grad_requires_grad() -> None:
    ours, theirs = twin_nets()
    for m in (ours, theirs):
        assert m.training and m.heads[0].training
        assert m.eval() is m
        assert not any(sub.training for sub in m.modules())
        m.train()
        assert all(sub.training for sub in m.modules())
        m.heads.train(False)
        assert m.training and not m.heads[2].training
    assert _error(lambda: ours.train("yes")) == _error(lambda: theirs.train("yes"))
    x = chainrule.ones(2, 4, dtype=chainrule.float64)
    ours(x).backward()
    ours.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in ours.body.parameters())
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    ours.body.requires_grad_(False)
    ours(x).backward()
    assert ours.body[0].weight.grad is None and ours.heads[0].weight.grad is not None


def test_apply_visits_children_first_like_torch() -> None:
    ours, theirs = twin_nets()
    seen: dict = {"ours": [], "theirs": []}
    ours.apply(lambda m: seen["ours"].append(type(m).__name__))
    theirs.apply(lambda m: seen["theirs"].append(type(m).__name__))
    assert seen["ours"] == seen["theirs"]


def test_dtype_conversion_is_in_place_like_torch() -> None:
    m = cnn.Linear(3, 2)
    m.register_buffer("count", chainrule.tensor([1]))
    weight = m.weight
    m(chainrule.ones(1, 3)).sum().backward()
    assert m.double() is m
    assert m.weight is weight and m.weight.dtype == chainrule.float64
    assert m.weight.grad.dtype == chainrule.float64 and m.bias.dtype == chainrule.float64
    assert m.count.dtype == chainrule.int64  # integer buffers keep their dtype
    m.to(chainrule.float32)
    assert m.weight.dtype == chainrule.float32 and m.weight is weight
    m.to(chainrule.zeros(1, dtype=chainrule.float64))
    assert m.bias.dtype == chainrule.float64
    m.float().to("cpu")
    assert m.weight.dtype == chainrule.float32
    assert m.weight.requires_grad and m.weight.is_leaf


# ---- state dict ---------------------------------------------------------------------------------
def test_state_dict_keys_metadata_and_values_match_torch() -> None:
    ours, theirs = twin_nets()
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    assert list(sd_o) == list(sd_t)
    assert sd_o._metadata == sd_t._metadata
    for k in sd_t:
        np.testing.assert_array_equal(to_numpy(sd_o[k]), to_numpy(sd_t[k]))
        assert not sd_o[k].requires_grad
    sd_o["body.0.weight"][0, 0] = 42.0  # the values share memory with the parameters
    assert ours.body[0].weight[0, 0].item() == 42.0
    assert ours.state_dict(keep_vars=True)["scale"] is ours.scale
    assert list(ours.state_dict(prefix="model.")) == list(theirs.state_dict(prefix="model."))


def test_loading_torch_weights_gives_torch_outputs() -> None:
    ours, theirs = twin_nets()
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_allclose(ours(chainrule.tensor(x)).item(), theirs(torch.tensor(x)).item(), rtol=1e-12)
    assert repr(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_errors_and_key_reports_match_torch() -> None:
    ours, theirs = twin_nets()
    bad = {k: to_numpy(v) for k, v in theirs.state_dict().items()}
    bad["surplus"] = np.zeros(1)
    del bad["heads.0.bias"]
    bad["heads.1.weight"] = np.zeros((3, 3))
    msg_o = _error(lambda: ours.load_state_dict({k: chainrule.tensor(v) for k, v in bad.items()}))
    msg_t = _error(lambda: theirs.load_state_dict({k: torch.tensor(v) for k, v in bad.items()}))
    assert msg_o == msg_t and msg_o[0] == "RuntimeError"
    del bad["heads.1.weight"]
    res_o = ours.load_state_dict({k: chainrule.tensor(v) for k, v in bad.items()}, strict=False)
    res_t = theirs.load_state_dict({k: torch.tensor(v) for k, v in bad.items()}, strict=False)
    assert res_o.missing_keys == res_t.missing_keys == ["heads.0.bias", "heads.1.weight"]
    assert res_o.unexpected_keys == res_t.unexpected_keys == ["surplus"]
    assert repr(res_o) == repr(res_t)


def test_load_state_dict_copies_converts_or_assigns() -> None:
    m = cnn.Linear(2, 2).double()
    w = m.weight
    m.load_state_dict({"weight": chainrule.ones(2, 2), "bias": chainrule.zeros(2)})
    assert m.weight is w and m.weight.dtype == chainrule.float64 and m.weight.sum().item() == 4.0
    new_w = chainrule.full((2, 2), 3.0)
    m.load_state_dict({"weight": new_w, "bias": chainrule.zeros(2)}, assign=True)
    assert type(m.weight) is cnn.Parameter and m.weight is not w and m.weight.requires_grad
    m.weight.data[0, 0] = 7.0
    assert new_w[0, 0].item() == 7.0  # assign keeps the given storage, as torch


def test_extra_state_round_trips() -> None:
    class WithState(cnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state) -> None:
            self.value = state["value"]

    a, b = WithState(), WithState()
    a.value = 5
    sd = cnn.Sequential(a).state_dict()
    assert list(sd) == ["0._extra_state"]
    cnn.Sequential(b).load_state_dict(sd)
    assert b.value == 5


def test_state_dict_hooks() -> None:
    for lib, nn in LIBS:
        m = nn.Linear(2, 2)
        seen: list = []
        handle = m.register_state_dict_post_hook(
            lambda mod, sd, prefix, meta, seen=seen: seen.append(sorted(sd))
        )
        m.state_dict()
        handle.remove()
        m.state_dict()
        assert seen == [["bias", "weight"]]
        m.register_load_state_dict_post_hook(lambda mod, keys: keys.unexpected_keys.clear())
        result = m.load_state_dict({**m.state_dict(), "junk": lib.zeros(1)})
        assert result.unexpected_keys == []


# ---- hooks ---------------------------------------------------------------------------------------
def test_forward_hooks_like_torch() -> None:
    def scenario(lib, nn):
        log = []
        m = nn.Linear(2, 2)
        with lib.no_grad():
            m.weight.copy_(lib.eye(2))
            m.bias.zero_()
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_pre_hook(lambda mod, args: log.append("pre-first"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, kwargs), with_kwargs=True)
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", kwargs)), with_kwargs=True)
        x = lib.ones(1, 2)
        log.append(m(x).tolist())
        h1.remove()
        h2.remove()
        log.append(m(x).tolist())
        with m.register_forward_hook(lambda mod, args, out: out * 0):
            log.append(m(x).tolist())
        log.append(m(x).tolist())
        return log

    assert scenario(chainrule, cnn) == scenario(torch, torch.nn)


def test_always_call_hook_runs_when_forward_raises() -> None:
    for _, nn in LIBS:
        calls: list = []
        m = nn.Linear(2, 2)
        m.register_forward_hook(lambda mod, args, out, calls=calls: calls.append(out), always_call=True)
        with pytest.raises(RuntimeError):
            m(chainrule.ones(1, 3) if nn is cnn else torch.ones(1, 3))
        assert calls == [None]


# ---- containers ---------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing_like_torch() -> None:
    def scenario(nn):
        s = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh())
        out = [
            len(s),
            type(s[-1]).__name__,
            type(s[1:3]).__name__,
            [type(m).__name__ for m in s[::2]],
            list(s[1:]._modules),
        ]
        s.append(nn.Sigmoid())
        s.insert(1, nn.ELU())
        s[0] = nn.Identity()
        del s[2]
        s.extend([nn.GELU()])
        out += [list(s._modules), [type(m).__name__ for m in s], _error(lambda: s[10])]
        out.append([type(m).__name__ for m in s + nn.Sequential(nn.ReLU())])
        out.append(type(s.pop(0)).__name__)
        named = nn.Sequential(__import__("collections").OrderedDict(a=nn.ReLU(), b=nn.Tanh()))
        out.append([n for n, _ in named.named_children()])
        return out

    assert scenario(cnn) == scenario(torch.nn)


def test_module_list_and_dict_like_torch() -> None:
    def scenario(nn):
        ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        ml.append(nn.ReLU())
        ml.extend([nn.Tanh()])
        ml.insert(0, nn.Sigmoid())
        ml += [nn.ELU()]
        del ml[1]
        out = [
            len(ml),
            list(ml._modules),
            [type(m).__name__ for m in ml],
            type(ml[1:3]).__name__,
            _error(lambda: ml[20]),
            [n for n, _ in ml.named_parameters()],
        ]
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
        md["c"] = nn.Tanh()
        md.update([("d", nn.ELU())])
        out += [
            list(md.keys()),
            "a" in md,
            len(md),
            type(md.pop("b")).__name__,
            list(md),
            [n for n, _ in md.named_parameters()],
        ]
        return out

    assert scenario(cnn) == scenario(torch.nn)


def test_parameter_list_and_dict() -> None:
    pl = cnn.ParameterList([cnn.Parameter(chainrule.zeros(2)), chainrule.ones(3)])
    assert len(pl) == 2 and type(pl[1]) is cnn.Parameter
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = cnn.ParameterDict({"w": chainrule.zeros(1)})
    assert type(pd["w"]) is cnn.Parameter and list(pd) == ["w"]
    tl = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2)), torch.ones(3)])
    assert repr(pl).replace("chainrule", "torch") == repr(tl)


# ---- printing -----------------------------------------------------------------------------------
def test_repr_is_identical_to_torch() -> None:
    ours, theirs = twin_nets()
    assert repr(ours) == repr(theirs)
    deep_o = cnn.Sequential(cnn.ModuleList([cnn.Linear(3, 3)] * 3 + [cnn.ReLU()]), cnn.Sequential())
    deep_t = torch.nn.Sequential(
        torch.nn.ModuleList([torch.nn.Linear(3, 3)] * 3 + [torch.nn.ReLU()]), torch.nn.Sequential()
    )
    assert repr(deep_o) == repr(deep_t)
    assert repr(cnn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))


def test_module_deepcopy_and_pickle() -> None:
    ours, _ = twin_nets()
    clone = copy.deepcopy(ours)
    assert type(clone.body[0].weight) is cnn.Parameter
    clone.body[0].weight.data[0, 0] = 123.0
    assert ours.body[0].weight[0, 0].item() != 123.0
    model = cnn.Sequential(cnn.Linear(4, 3), cnn.ReLU(), cnn.Linear(3, 1)).double()
    restored = pickle.loads(pickle.dumps(model))
    x = chainrule.ones(2, 4, dtype=chainrule.float64)
    np.testing.assert_array_equal(restored(x).numpy(force=True), model(x).numpy(force=True))
    assert type(restored[0].weight) is cnn.Parameter and restored[0].weight.requires_grad
