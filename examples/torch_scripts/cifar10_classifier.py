"""Training a small image classifier on CIFAR-10-shaped data, in the style of the 60-minute blitz.

    python cifar10_classifier.py --epochs 2

The images are synthetic 3x32x32 pictures (a coloured stripe pattern per class plus noise) so that
the program needs no download. Plain PyTorch: run it with `python -m chainrule.run
cifar10_classifier.py` to use chainrule. The images and the initial weights come from NumPy, so that
one seed gives the same run under any library.
"""

import argparse
import math
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def synthetic_cifar(n, seed):
    """Normalised images in about [-1, 1]: class k has stripes of frequency k + 1 in colour k % 3."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(classes), n)
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    images = rng.normal(0.0, 0.3, (n, 3, 32, 32))
    for i, label in enumerate(labels):
        images[i, label % 3] += np.sin(2 * math.pi * (label + 1) * (xx if label < 5 else yy))
    return torch.from_numpy(images.astype(np.float32)), torch.from_numpy(labels)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def init_from_numpy(net, seed):
    """torch's default bound for Conv2d and Linear (uniform in +-1/sqrt(fan_in)), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                bound = 1.0 / math.sqrt(module.weight[0].numel())
                for p in (module.weight, module.bias):
                    p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def main():
    parser = argparse.ArgumentParser(description="CIFAR-10-style classifier (60-minute blitz)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--train-size", type=int, default=160)
    parser.add_argument("--test-size", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    trainset = torch.utils.data.TensorDataset(*synthetic_cifar(args.train_size, args.seed))
    trainloader = torch.utils.data.DataLoader(
        trainset, batch_size=args.batch_size, shuffle=False, num_workers=0
    )
    testset = torch.utils.data.TensorDataset(*synthetic_cifar(args.test_size, args.seed + 1))
    testloader = torch.utils.data.DataLoader(
        testset, batch_size=args.batch_size, shuffle=False, num_workers=0
    )

    net = Net()
    init_from_numpy(net, args.seed)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    for epoch in range(args.epochs):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data

            # zero the parameter gradients
            optimizer.zero_grad()

            # forward + backward + optimize
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()

            # print statistics
            running_loss += loss.item()
            if i % 5 == 4:  # print every 5 mini-batches
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 5:.7f}")
                running_loss = 0.0
    print("Finished Training")

    with tempfile.TemporaryDirectory() as tmp:
        PATH = os.path.join(tmp, "cifar_net.pth")
        torch.save(net.state_dict(), PATH)

        dataiter = iter(testloader)
        images, labels = next(dataiter)
        print("GroundTruth: ", " ".join(f"{classes[labels[j]]:5s}" for j in range(4)))

        net = Net()
        net.load_state_dict(torch.load(PATH, weights_only=True))

    outputs = net(images)
    _, predicted = torch.max(outputs, 1)
    print("Predicted: ", " ".join(f"{classes[predicted[j]]:5s}" for j in range(4)))
    print(f"outputs[0]: {' '.join(f'{v:.6f}' for v in outputs[0].tolist())}")

    correct = 0
    total = 0
    # since we're not training, we don't need to calculate the gradients for our outputs
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            # calculate outputs by running images through the network
            outputs = net(images)
            # the class with the highest energy is what we choose as prediction
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")

    # prepare to count predictions for each class
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            # collect the correct predictions for each class
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1

    for classname, correct_count in correct_pred.items():
        accuracy = 100 * float(correct_count) / max(total_pred[classname], 1)
        print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")


if __name__ == "__main__":
    main()
