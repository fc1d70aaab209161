"""The engine under ``chainrule.distributed`` (torch's ``c10d``): process groups on MPI and the
collectives. It sits below ``nn`` and ``utils`` (DistributedDataParallel, SyncBatchNorm and
DistributedSampler use it), while the public ``chainrule.distributed`` namespace sits above
``optim`` because it holds ``distributed.optim.ZeroRedundancyOptimizer``."""
