"""Sine-wave prediction with two stacked LSTMCells trained by L-BFGS (the classic time-sequence example).

    python time_sequence_lbfgs.py --steps 3

Plain PyTorch: run it with `python -m chainrule.run time_sequence_lbfgs.py` to use chainrule.
The waves and the initial weights come from NumPy, so that one seed gives the same run under any
library; everything runs in float64, as the original does.
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


def generate_sine_waves(n_series, length, period, seed):
    """``n_series`` sine waves, each shifted by a random whole number of steps."""
    rng = np.random.RandomState(seed)
    shift = rng.randint(-4 * period, 4 * period, n_series).reshape(n_series, 1)
    x = np.arange(length).reshape(1, length) + shift
    return np.sin(x / period).astype("float64")


class Sequence(nn.Module):
    def __init__(self, hidden=51):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # predict beyond the input, feeding each output back in
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


def init_from_numpy(model, seed):
    """torch's default LSTM/Linear init (uniform in +-1/sqrt(hidden or fan_in)), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan = model.hidden if "lstm" in name else p.shape[-1]
            bound = 1.0 / math.sqrt(fan)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape))))


def main():
    parser = argparse.ArgumentParser(description="LSTMCell sine-wave predictor trained with L-BFGS")
    parser.add_argument("--steps", type=int, default=3, help="optimizer steps (each up to 20 evaluations)")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--series", type=int, default=12)
    parser.add_argument("--length", type=int, default=40)
    parser.add_argument("--future", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = generate_sine_waves(args.series, args.length, period=20, seed=args.seed)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])

    seq = Sequence(args.hidden)
    seq.double()
    init_from_numpy(seq, args.seed)
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)

    for i in range(args.steps):
        print("STEP:", i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print(f"loss: {loss.item():.12e}")
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            pred = seq(test_input, future=args.future)
            loss = criterion(pred[:, : -args.future], test_target)
            print(f"test loss: {loss.item():.12e}")
            y = pred.detach().numpy()
        print(f"prediction tail: {' '.join(f'{v:.10f}' for v in y[0, -3:])}")


if __name__ == "__main__":
    main()
