"""A spatial transformer network on shifted, rotated digit-like images, in the style of the
spatial transformer tutorial.

    python spatial_transformer.py --epochs 2

A localisation net predicts a 2x3 affine matrix per image (starting from the identity);
``F.affine_grid`` and ``F.grid_sample`` warp the image before a small classifier reads it.
The 28x28 images are synthetic (a bar pattern per class, randomly rotated and shifted) so that the
program needs no download. Plain PyTorch: run it with `python -m chainrule.run
spatial_transformer.py` to use chainrule. The images and the initial weights come from NumPy, so
that one seed gives the same run under any library (with --dropout 0: dropout masks come from each
library's own random stream).
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


def synthetic_digits(n, seed):
    """Class k: k + 1 evenly spaced vertical bars, rotated by up to 30 degrees and shifted."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    yy, xx = np.mgrid[0:28, 0:28] - 13.5
    images = np.zeros((n, 1, 28, 28))
    for i, label in enumerate(labels):
        angle = rng.uniform(-math.pi / 6, math.pi / 6)
        dx, dy = rng.uniform(-4, 4, 2)
        u = math.cos(angle) * (xx - dx) + math.sin(angle) * (yy - dy)
        v = -math.sin(angle) * (xx - dx) + math.cos(angle) * (yy - dy)
        inside = (np.abs(u) < 8) & (np.abs(v) < 8)
        images[i, 0] = inside * (0.5 + 0.5 * np.cos(math.pi * (label + 1) * (u + 8) / 8))
    # faint noise: a flat background gives tied maxima in the pooling windows, which two libraries'
    # rounding breaks differently (each correctly), sending the gradient to different pixels
    images += rng.normal(0.0, 0.05, images.shape)
    images = (images - 0.1307) / 0.3081  # the tutorial's MNIST normalisation
    return torch.from_numpy(images.astype(np.float32)), torch.from_numpy(labels)


class Net(nn.Module):
    def __init__(self, dropout=0.5):
        super().__init__()
        self.dropout = dropout
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(dropout)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))

    def init_identity_transform(self):
        """Initialize the weights/bias with identity transformation."""
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)

        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def init_from_numpy(model, seed):
    """torch's default Conv2d/Linear bound (uniform in +-1/sqrt(fan_in)), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                bound = 1.0 / math.sqrt(module.weight[0].numel())
                for p in (module.weight, module.bias):
                    p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def train(model, device, train_loader, optimizer, epoch, log_interval):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)

        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.7f}"
            )


def test(model, device, test_loader):
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)

            # sum up batch loss
            test_loss += F.nll_loss(output, target, size_average=False).item()
            # get the index of the max log-probability
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()

        test_loss /= len(test_loader.dataset)
        print(
            f"\nTest set: Average loss: {test_loss:.7f}, Accuracy: {correct}/{len(test_loader.dataset)} "
            f"({100.0 * correct / len(test_loader.dataset):.0f}%)\n"
        )


def visualize_stn(model, test_loader):
    """The tutorial plots the warped images; this prints their statistics and the first affine matrix."""
    with torch.no_grad():
        data = next(iter(test_loader))[0]
        transformed = model.stn(data).cpu()
        theta = model.fc_loc(model.localization(data).view(-1, 90)).view(-1, 2, 3)
    print(f"warped batch: mean {transformed.mean().item():.7f} std {transformed.std().item():.7f}")
    print("theta[0]:", " ".join(f"{v:.7f}" for v in theta[0].flatten().tolist()))


def main():
    parser = argparse.ArgumentParser(description="Spatial transformer network")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-size", type=int, default=96)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--log-interval", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*synthetic_digits(args.train_size, args.seed)),
        batch_size=args.batch_size,
        shuffle=False,
    )
    test_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*synthetic_digits(48, args.seed + 1)), batch_size=args.batch_size
    )

    model = Net(args.dropout).to(device)
    init_from_numpy(model, args.seed)
    model.init_identity_transform()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)

    for epoch in range(1, args.epochs + 1):
        train(model, device, train_loader, optimizer, epoch, args.log_interval)
        test(model, device, test_loader)
    visualize_stn(model, test_loader)


if __name__ == "__main__":
    main()
