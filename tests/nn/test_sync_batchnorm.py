"""SyncBatchNorm in one process (no process group: torch's falls back to BatchNorm, and so does
chainrule's) against torch: values, gradients, running statistics, convert_sync_batchnorm. The
synchronized path is tested under mpirun in tests/distributed/test_ddp.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import to_numpy

import chainrule


def _models():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4, momentum=None))
    ours = chainrule.nn.Sequential(chainrule.nn.Conv2d(3, 4, 3), chainrule.nn.BatchNorm2d(4, momentum=None))
    ours.load_state_dict({k: chainrule.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return (
        torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs),
        chainrule.nn.SyncBatchNorm.convert_sync_batchnorm(ours),
    )


def test_convert_keeps_the_parameters_and_the_state_dict_keys():
    theirs, ours = _models()
    assert type(ours[1]).__name__ == "SyncBatchNorm" == type(theirs[1]).__name__
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours[1]).split("(")[0] == repr(theirs[1]).split("(")[0]


@pytest.mark.parametrize("training", [True, False])
def test_without_a_process_group_it_is_batchnorm_as_in_torch(training):
    theirs, ours = _models()
    theirs.train(training)
    ours.train(training)
    x = np.random.default_rng(1).standard_normal((5, 3, 6, 6)).astype(np.float32)
    xt, xc = torch.tensor(x, requires_grad=True), chainrule.tensor(x, requires_grad=True)
    for _ in range(2):
        yt, yc = theirs(xt), ours(xc)
    np.testing.assert_allclose(to_numpy(yc), yt.detach().numpy(), atol=1e-5)
    (yt * yt).sum().backward()
    (yc * yc).sum().backward()
    np.testing.assert_allclose(to_numpy(xc.grad), xt.grad.numpy(), atol=1e-4)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        want = getattr(theirs[1], name).numpy()
        np.testing.assert_allclose(to_numpy(getattr(ours[1], name)), want, atol=1e-6)


def test_a_1d_input_is_refused_as_torch_does():
    with pytest.raises(ValueError, match="expected 2D or 3D or 4D or 5D input"):
        chainrule.nn.SyncBatchNorm(3)(chainrule.ones(3))
    with pytest.raises(ValueError):
        torch.nn.SyncBatchNorm(3)(torch.ones(3))
