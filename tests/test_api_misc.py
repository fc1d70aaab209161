"""Public names of torch's class namespaces that no other test reaches, each used against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close, copy_torch_weights

import chainrule


def test_dtype_is_the_type_of_dtypes() -> None:
    for lib in (torch, chainrule):
        assert isinstance(lib.float32, lib.dtype) and isinstance(lib.int64, lib.dtype)
        assert not isinstance("float32", lib.dtype)


def test_buffer_registers_as_a_buffer() -> None:
    def build(lib):
        module = lib.nn.Module()
        module.scale = lib.nn.Buffer(lib.ones(3) * 2)
        module.tmp = lib.nn.Buffer(lib.zeros(1), persistent=False)
        return module

    ours, theirs = build(chainrule), build(torch)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["scale"]


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_rnn_base_builds_the_recurrent_layer(mode: str) -> None:
    """RNNBase(mode, ...) is what RNN, LSTM and GRU subclass; used directly it runs that mode."""
    torch.manual_seed(0)
    theirs = torch.nn.RNNBase(mode, 3, 4, num_layers=2, batch_first=True).double()
    ours = chainrule.nn.RNNBase(mode, 3, 4, num_layers=2, batch_first=True).double()
    copy_torch_weights(ours, theirs)
    assert sorted(n for n, _ in ours.named_parameters()) == sorted(n for n, _ in theirs.named_parameters())
    assert issubclass(chainrule.nn.LSTM, chainrule.nn.RNNBase)
    assert issubclass(chainrule.nn.LSTMCell, chainrule.nn.RNNCellBase)
    assert issubclass(torch.nn.LSTMCell, torch.nn.RNNCellBase)


def test_clip_grad_norm_is_the_deprecated_alias() -> None:
    grads = np.random.default_rng(0).normal(size=(2, 5))
    out = []
    for lib in (chainrule, torch):
        params = [lib.nn.Parameter(lib.zeros(5, dtype=lib.float64)) for _ in range(2)]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        with pytest.warns(FutureWarning):
            norm = lib.nn.utils.clip_grad_norm(params, 0.5)
        out.append((norm, [p.grad for p in params]))
    assert_close(out[0][0], out[1][0], 1e-12, 1e-12, "total norm")
    for a, b in zip(out[0][1], out[1][1]):
        assert_close(a, b, 1e-12, 1e-12, "clipped gradient")


def test_lr_scheduler_base_class() -> None:
    """A user's scheduler subclasses LRScheduler and overrides get_lr, as in torch."""

    def run(lib):
        class Halving(lib.optim.lr_scheduler.LRScheduler):
            def get_lr(self):
                return [group["lr"] * 0.5 for group in self.optimizer.param_groups]

        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=1.0)
        sched = Halving(opt)
        lrs = []
        for _ in range(3):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs

    assert run(chainrule) == run(torch)


def test_chain_dataset_and_sampler_base() -> None:
    def run(lib):
        class Count(lib.utils.data.IterableDataset):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                return iter(range(self.n))

        class Evens(lib.utils.data.Sampler):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                return iter(range(0, self.n, 2))

            def __len__(self):
                return (self.n + 1) // 2

        chained = list(lib.utils.data.ChainDataset([Count(2), Count(3)]))
        loader = lib.utils.data.DataLoader(list(range(10, 20)), sampler=Evens(10), batch_size=2)
        return chained, [b.tolist() for b in loader], lib.utils.data.get_worker_info()

    assert run(chainrule) == run(torch)


def test_instance_norm_without_bias() -> None:
    names = [
        [n for n, _ in lib.nn.InstanceNorm2d(3, affine=True, bias=False).named_parameters()]
        for lib in (chainrule, torch)
    ]
    assert names[0] == names[1] == ["weight"]
