"""Optimizers and learning-rate schedulers (``torch.optim``).

opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=10)
for x, y in loader:
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()
sched.step()
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta, Adamax
from .adafactor import Adafactor, SparseAdam
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .asgd import ASGD, Rprop
from .lbfgs import LBFGS
from .nadam import NAdam, RAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "ASGD",
    "Rprop",
    "LBFGS",
    "Adafactor",
    "SparseAdam",
    "lr_scheduler",
    "swa_utils",
]
