"""A tiny DCGAN on fake 16x16 images, in the style of the classic DCGAN example.

    python dcgan.py --niter 1 --steps 4

Plain PyTorch: run it with `python -m chainrule.run dcgan.py` to use chainrule. The "dataset" is fake
data (random images, as the example's `fake` dataset option), and it, the noise vectors and the
initial weights are drawn with NumPy, so that one seed gives the same run under any library.
"""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data

nc = 1  # channels of the images


class Generator(nn.Module):
    def __init__(self, nz, ngf):
        super().__init__()
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 4 x 4
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 8 x 8
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size. (nc) x 16 x 16
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ndf):
        super().__init__()
        self.main = nn.Sequential(
            # input is (nc) x 16 x 16
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 8 x 8
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 4 x 4
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def weights_init(rng):
    """DCGAN's custom init (conv weights ~ N(0, 0.02); BatchNorm weights ~ N(1, 0.02), biases 0),
    drawn by NumPy; applied to every submodule with ``model.apply``."""

    def init(m):
        classname = m.__class__.__name__

        def normal(mean, std, shape):
            return torch.from_numpy(rng.normal(mean, std, tuple(shape)).astype(np.float32))

        with torch.no_grad():
            if classname.find("Conv") != -1:
                m.weight.copy_(normal(0.0, 0.02, m.weight.shape))
            elif classname.find("BatchNorm") != -1:
                m.weight.copy_(normal(1.0, 0.02, m.weight.shape))
                m.bias.fill_(0)

    return init


def main():
    parser = argparse.ArgumentParser(description="tiny DCGAN on fake data")
    parser.add_argument("--batchSize", type=int, default=16, help="input batch size")
    parser.add_argument("--nz", type=int, default=8, help="size of the latent z vector")
    parser.add_argument("--ngf", type=int, default=8)
    parser.add_argument("--ndf", type=int, default=8)
    parser.add_argument("--niter", type=int, default=1, help="number of epochs to train for")
    parser.add_argument("--steps", type=int, default=4, help="batches per epoch")
    parser.add_argument("--lr", type=float, default=0.0002, help="learning rate")
    parser.add_argument("--beta1", type=float, default=0.5, help="beta1 for adam")
    parser.add_argument("--manualSeed", type=int, default=999, help="manual seed")
    opt = parser.parse_args()
    print(opt)

    torch.manual_seed(opt.manualSeed)
    rng = np.random.default_rng(opt.manualSeed)
    device = torch.device("cpu")

    # fake data: random images in [-1, 1] (what Normalize((0.5,), (0.5,)) gives real ones)
    images = rng.uniform(-1.0, 1.0, (opt.batchSize * opt.steps, nc, 16, 16)).astype(np.float32)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.zeros(len(images)))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=False)

    netG = Generator(opt.nz, opt.ngf).to(device)
    netG.apply(weights_init(rng))
    netD = Discriminator(opt.ndf).to(device)
    netD.apply(weights_init(rng))

    criterion = nn.BCELoss()
    fixed_noise = torch.from_numpy(rng.standard_normal((opt.batchSize, opt.nz, 1, 1)).astype(np.float32))
    real_label = 1
    fake_label = 0

    optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

    for epoch in range(opt.niter):
        for i, data in enumerate(dataloader, 0):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = data[0].to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)

            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            # train with fake
            noise = torch.from_numpy(rng.standard_normal((batch_size, opt.nz, 1, 1)).astype(np.float32))
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            print(
                f"[{epoch}/{opt.niter}][{i}/{len(dataloader)}] Loss_D: {errD.item():.7f} "
                f"Loss_G: {errG.item():.7f} D(x): {D_x:.7f} D(G(z)): {D_G_z1:.7f} / {D_G_z2:.7f}"
            )

    with torch.no_grad():
        fake = netG(fixed_noise)
    print(f"fixed-noise samples: mean {fake.mean().item():.7f}, std {fake.std().item():.7f}")


if __name__ == "__main__":
    main()
