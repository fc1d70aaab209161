"""A variational autoencoder on synthetic 28x28 images, in the style of the classic VAE example.

    python vae.py --epochs 2

Plain PyTorch: run it with `python -m chainrule.run vae.py` to use chainrule. The data, the initial
weights and the reparameterization noise are drawn with NumPy, so that one seed gives the same run
under any library.
"""

import argparse
import math

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self, noise_seed=0):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)
        self.noise = np.random.default_rng(noise_seed)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        # eps ~ N(0, 1): drawn by NumPy (torch.randn_like(std) in the classic example)
        eps = torch.from_numpy(self.noise.standard_normal(tuple(std.shape)).astype(np.float32))
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction + KL divergence losses summed over all elements and batch."""
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    # see Appendix B from Kingma and Welling, Auto-Encoding Variational Bayes (ICLR 2014):
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def synthetic_images(n, seed):
    """Blurry blobs in [0, 1]: a Gaussian bump at a random place in each 28x28 image."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    centers = rng.uniform(6, 22, (n, 2))
    widths = rng.uniform(2, 5, n)
    d2 = (yy[None] - centers[:, 0, None, None]) ** 2 + (xx[None] - centers[:, 1, None, None]) ** 2
    images = np.exp(-d2 / (2 * widths[:, None, None] ** 2))
    return torch.from_numpy(images[:, None].astype(np.float32))


def init_from_numpy(model, seed):
    """torch's default Linear bound (uniform in +-1/sqrt(fan_in)), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = model.get_submodule(name.rsplit(".", 1)[0]).in_features
            bound = 1.0 / math.sqrt(fan_in)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def main():
    parser = argparse.ArgumentParser(description="VAE example")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N")
    parser.add_argument("--epochs", type=int, default=2, metavar="N")
    parser.add_argument("--train-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=1, metavar="N")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device("cpu")

    train_set = torch.utils.data.TensorDataset(synthetic_images(args.train_size, args.seed))
    test_set = torch.utils.data.TensorDataset(synthetic_images(64, args.seed + 1))
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=False)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, shuffle=False)

    model = VAE(noise_seed=args.seed).to(device)
    init_from_numpy(model, args.seed)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    for epoch in range(1, args.epochs + 1):
        model.train()
        train_loss = 0
        for batch_idx, (data,) in enumerate(train_loader):
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                print(
                    f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                    f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item() / len(data):.7f}"
                )
        print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.7f}")

        model.eval()
        test_loss = 0
        with torch.no_grad():
            for (data,) in test_loader:
                data = data.to(device)
                recon_batch, mu, logvar = model(data)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
        test_loss /= len(test_loader.dataset)
        print(f"====> Test set loss: {test_loss:.7f}")

        with torch.no_grad():
            z = torch.from_numpy(np.random.default_rng(epoch).standard_normal((8, 20)).astype(np.float32))
            sample = model.decode(z).to(device)
            print(f"sample mean {sample.mean().item():.7f}, std {sample.std().item():.7f}")


if __name__ == "__main__":
    main()
