"""The non-maths lines of training scripts against torch: gradient assignment, printing a 0-d
tensor, ``torch.save(model)``, the weights-only loading switches, the "infinite" RandomSampler and
the ``torch.jit`` decorators."""

from __future__ import annotations

import io
import itertools
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import chainrule

LIBS = (chainrule, torch)


def raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e)
    return None


# ---- t.grad = ... --------------------------------------------------------------------------------
GRADS = {
    "float": lambda m: 0.0,
    "int": lambda m: 1,
    "list": lambda m: [1.0, 2.0],
    "shape": lambda m: m.ones(3),
    "shape_1": lambda m: m.ones(1),
    "shape_2x1": lambda m: m.ones(2, 1),
    "float64": lambda m: m.ones(2, dtype=m.float64),
    "int64": lambda m: m.ones(2, dtype=m.int64),
    "ok": lambda m: m.full((2,), 3.0),
    "none": lambda m: None,
    "view": lambda m: m.ones(4)[::2],
}


@pytest.mark.parametrize("name", GRADS)
def test_grad_assignment_as_torch(name) -> None:
    results = []
    for m in LIBS:
        a = m.ones(2, requires_grad=True)

        def assign(a=a, m=m):
            a.grad = GRADS[name](m)

        results.append((raised(assign), None if a.grad is None else a.grad.tolist()))
    (ours_error, ours_grad), (theirs_error, theirs_grad) = results
    assert (ours_error.__name__ if ours_error else None) == (theirs_error.__name__ if theirs_error else None)
    assert ours_grad == theirs_grad


def test_after_a_refused_grad_backward_still_works() -> None:
    for m in LIBS:
        a = m.ones(2, requires_grad=True)
        with pytest.raises(TypeError):
            a.grad = 0.0
        (a * 3).sum().backward()
        assert a.grad.tolist() == [3.0, 3.0]


def test_zero_d_tensor_formats_as_its_number() -> None:
    for value, spec in itertools.product((498.0, 3, True, 1.5, -0.0, float("nan")), ("", ".2f", ">8")):
        if isinstance(value, bool) and spec == ".2f":
            continue
        assert format(chainrule.tensor(value), spec) == format(torch.tensor(value), spec)
    loss = chainrule.tensor(0.25, requires_grad=True) * 2
    assert f"loss {loss:.4f} {loss}" == f"loss {torch.tensor(0.25, requires_grad=True) * 2:.4f} 0.5"
    with pytest.raises(TypeError):
        format(chainrule.ones(2), ">5")


# ---- torch.save / torch.load ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.Linear(2, 2),
        lambda m: m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1),
        lambda m: {"model": m.nn.Linear(2, 2), "epoch": 1},
    ],
    ids=["module", "optimizer", "module_in_dict"],
)
def test_saving_whole_objects_is_refused_with_the_fix(make) -> None:
    """torch pickles them; chainrule refuses (loading never runs code) and says what to save."""
    torch.save(make(torch), io.BytesIO())
    with pytest.raises(TypeError, match=r"save its \.state_dict\(\) instead.*load_state_dict"):
        chainrule.save(make(chainrule), io.BytesIO())


def test_state_dict_round_trip_with_torchs_load_arguments() -> None:
    model = chainrule.nn.Linear(3, 2)
    buf = io.BytesIO()
    chainrule.save({"model": model.state_dict(), "epoch": 3}, buf)
    for kwargs in (
        {"weights_only": True},
        {"weights_only": False},
        {"weights_only": None},
        {"map_location": "cpu"},
        {"map_location": chainrule.device("cpu")},
        {"map_location": lambda storage, location: storage},
        {"map_location": {"cuda:0": "cpu"}},
        {"mmap": False},
    ):
        buf.seek(0)
        loaded = chainrule.load(buf, **kwargs)
        assert loaded["epoch"] == 3
        assert loaded["model"]["weight"].tolist() == model.weight.tolist()


def test_load_errors_as_torch(tmp_path) -> None:
    for m in LIBS:
        buf = io.BytesIO()
        m.save({"a": m.ones(2)}, buf)
        buf.seek(0)
        with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
            m.load(buf, mmap=True)
        buf.seek(0)
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            m.load(buf, map_location="cuda")
    path = tmp_path / "ckpt.pt"
    chainrule.save({"a": chainrule.ones(2)}, path)
    assert chainrule.load(path, mmap=True, weights_only=True)["a"].tolist() == [1.0, 1.0]


class _Config:
    pass


def test_safe_globals_are_accepted() -> None:
    for m in LIBS:
        ser = m.serialization
        ser.clear_safe_globals()
        ser.add_safe_globals([_Config])
        assert _Config in ser.get_safe_globals()
        with ser.safe_globals([np.dtype]):
            assert np.dtype in ser.get_safe_globals()
        assert np.dtype not in ser.get_safe_globals()
        ser.clear_safe_globals()
        assert _Config not in ser.get_safe_globals()
        assert ser.DEFAULT_PROTOCOL == 2
    buf = io.BytesIO()
    chainrule.save({"a": chainrule.ones(1)}, buf)
    buf.seek(0)
    assert chainrule.serialization.get_unsafe_globals_in_checkpoint(buf) == []


# ---- RandomSampler(replacement=True, num_samples=huge) ---------------------------------------------
def test_infinite_random_sampler_draws_lazily() -> None:
    data = list(range(7))
    for m in LIBS:
        sampler = m.utils.data.RandomSampler(data, replacement=True, num_samples=10**10)
        assert len(sampler) == 10**10
        tracemalloc.start()
        start = time.perf_counter()
        first = list(itertools.islice(iter(sampler), 1000))
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < 2.0 and peak < 10_000_000, (m.__name__, elapsed, peak)
        assert len(first) == 1000 and set(first) <= set(data) and len(set(first)) == 7
        assert all(type(i) is int for i in first)


@pytest.mark.parametrize("num_samples", [1, 31, 32, 33, 70])
def test_random_sampler_lengths_and_ranges_as_torch(num_samples) -> None:
    for replacement in (True, False):
        drawn = []
        for m in LIBS:
            g = m.Generator().manual_seed(3)
            drawn.append(list(m.utils.data.RandomSampler(range(5), replacement, num_samples, generator=g)))
        ours, theirs = drawn
        assert len(ours) == len(theirs) == num_samples
        assert set(ours) <= set(range(5))
        if not replacement:  # whole permutations, then the head of one more
            for k in range(0, num_samples - num_samples % 5, 5):
                assert sorted(ours[k : k + 5]) == list(range(5))
            assert len(set(ours[num_samples - num_samples % 5 :])) == num_samples % 5


def test_random_sampler_without_replacement_is_lazy_too() -> None:
    sampler = chainrule.utils.data.RandomSampler(range(4), num_samples=10**12)
    assert sorted(itertools.islice(iter(sampler), 4)) == [0, 1, 2, 3]


def test_random_sampler_reproducible_under_a_seed() -> None:
    def run():
        chainrule.manual_seed(5)
        return list(chainrule.utils.data.RandomSampler(range(10), replacement=True, num_samples=50))

    assert run() == run()
    loader = chainrule.utils.data.DataLoader(
        chainrule.utils.data.TensorDataset(chainrule.arange(10.0)),
        batch_size=4,
        sampler=chainrule.utils.data.RandomSampler(range(10), replacement=True, num_samples=10**9),
    )
    batch = next(iter(loader))[0]
    assert batch.shape == (4,)


# ---- torch.jit -----------------------------------------------------------------------------------
def _jit_program(m):
    """Model code with TorchScript decorators: a scripted function, module and traced module."""

    @m.jit.script
    def gelu_ish(x):
        return x * m.sigmoid(1.702 * x)

    class Block(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = m.nn.Linear(4, 3)

        def forward(self, x):
            if x.sum() > 0:  # control flow: scripting keeps it
                return gelu_ish(self.fc(x))
            return self.fc(x)

        @m.jit.ignore
        def debug(self):
            return "python"

        @m.jit.export
        def twice(self, x):
            return 2 * x

        @m.jit.unused
        def unused(self, x):
            return x

    block = Block()
    with m.no_grad():
        for p in block.parameters():
            p.copy_(m.linspace(-1, 1, p.numel()).reshape(p.shape))
    scripted = m.jit.script(block)
    x = m.linspace(-2, 3, 8).reshape(2, 4)
    traced = m.jit.trace(block, (x,))
    out = scripted(x)
    out.sum().backward()
    grad = block.fc.weight.grad
    return {
        "scripted": out.detach().numpy().tolist(),
        "negative": scripted(-x).detach().numpy().tolist(),
        "traced": traced(x).detach().numpy().tolist(),
        "twice": scripted.twice(x).numpy().tolist(),
        "grad": grad.numpy().tolist(),
        "fn": gelu_ish(x).numpy().tolist(),
        "annotate": m.jit.annotate(list, []),
        "fork": m.jit.wait(m.jit.fork(gelu_ish, x)).numpy().tolist(),
        "scripting": (m.jit.is_scripting(), m.jit.is_tracing()),
    }


def test_jit_decorated_code_gives_torchs_numbers() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _jit_program(chainrule), _jit_program(torch)
    for key in theirs:
        np.testing.assert_allclose(
            np.asarray(ours[key], dtype=float), np.asarray(theirs[key], dtype=float), rtol=1e-6, err_msg=key
        )


def test_jit_entry_points_errors() -> None:
    with pytest.raises(RuntimeError, match="example_inputs"):
        chainrule.jit.trace(chainrule.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="state_dict"):
        chainrule.jit.save(chainrule.jit.script(chainrule.nn.Linear(2, 2)), io.BytesIO())
    with pytest.raises(RuntimeError, match="TorchScript"):
        chainrule.jit.load(io.BytesIO())
    assert chainrule.jit.Final is torch.jit.Final
    assert not isinstance(chainrule.jit.script(chainrule.nn.Linear(2, 2)), chainrule.jit.ScriptModule)
