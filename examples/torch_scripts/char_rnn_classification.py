"""Classifying names by language with a character-level RNN, in the style of the
"NLP From Scratch" tutorial.

    python char_rnn_classification.py --iters 300
    python char_rnn_classification.py --iters 300 --model nn.RNN

``--model cell`` is the tutorial's hand-written RNN cell (``torch.cat`` of input and hidden state,
two ``Linear`` layers, ``LogSoftmax``), fed one letter at a time; ``--model nn.RNN`` runs the whole
name through ``nn.RNN`` at once. The names are a few made-up ones per language, written in this
file. Plain PyTorch: run it with `python -m chainrule.run char_rnn_classification.py` to use
chainrule. The initial weights come from NumPy and the training examples from Python's ``random``,
so that one seed gives the same run under any library.
"""

import argparse
import math
import random
import string
import unicodedata

import numpy as np
import torch
import torch.nn as nn

NAMES = {
    "English": "Ashford Bramley Carter Dalton Fletcher Hawkins Kingsley Thornton Whitfield Yardley",
    "French": "Beaulieu Chevalier Dubois Fontaine Lefèvre Marchand Rousseau Téllier Vasseur Giraud",
    "German": "Bachmann Eichhorn Fischer Hoffmann Kühn Müller Schröder Vogel Weißmann Zimmermann",
    "Italian": "Bellucci Caruso DeLuca Esposito Ferrari Gallo Lombardi Moretti Ricci Santoro",
    "Japanese": "Fujimoto Hayashi Ishikawa Kobayashi Matsuda Nakamura Okada Sakamoto Takahashi Yamada",
}

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)


def unicodeToAscii(s):
    """Turn a Unicode string to plain ASCII (thanks to https://stackoverflow.com/a/518232/2809427)."""
    return "".join(
        c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn" and c in all_letters
    )


category_lines = {
    language: [unicodeToAscii(name) for name in names.split()] for language, names in NAMES.items()
}
all_categories = list(category_lines)
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    """A <line_length x 1 x n_letters> tensor of one-hot letter vectors."""
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


def init_from_numpy(model, hidden_size, seed):
    """torch's default RNN/Linear bound (uniform in +-1/sqrt(hidden_size or fan_in)), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan = hidden_size if name.startswith("rnn.") else p.shape[-1] if p.dim() > 1 else hidden_size
            bound = 1.0 / math.sqrt(fan)
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]


def randomTrainingExample():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    return category, line, category_tensor, line_tensor


def main():
    parser = argparse.ArgumentParser(description="char-RNN name classification")
    parser.add_argument("--model", choices=("cell", "nn.RNN"), default="cell")
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    random.seed(args.seed)
    print(f"{n_categories} categories; 'Lefèvre' -> {unicodeToAscii('Lefèvre')}")
    print(f"lineToTensor('Jones').size() = {tuple(lineToTensor('Jones').size())}")

    if args.model == "cell":
        rnn = RNN(n_letters, args.hidden, n_categories)

        def evaluate(line_tensor):
            hidden = rnn.initHidden()
            for i in range(line_tensor.size()[0]):
                output, hidden = rnn(line_tensor[i], hidden)
            return output

    else:
        rnn = CharRNN(n_letters, args.hidden, n_categories)

        def evaluate(line_tensor):
            return rnn(line_tensor)

    init_from_numpy(rnn, args.hidden, args.seed)
    criterion = nn.NLLLoss()

    def train(category_tensor, line_tensor):
        rnn.zero_grad()
        output = evaluate(line_tensor)
        loss = criterion(output, category_tensor)
        loss.backward()
        # add the parameters' gradients to their values, multiplied by the learning rate
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-args.lr)
        return output, loss.item()

    current_loss = 0
    print_every = max(args.iters // 5, 1)
    for iter in range(1, args.iters + 1):
        category, line, category_tensor, line_tensor = randomTrainingExample()
        output, loss = train(category_tensor, line_tensor)
        current_loss += loss
        if iter % print_every == 0:
            guess, guess_i = categoryFromOutput(output)
            correct = "✓" if guess == category else f"✗ ({category})"
            print(f"{iter} {loss:.7f} {line} / {guess} {correct} average {current_loss / print_every:.7f}")
            current_loss = 0

    # a confusion matrix: which language each language's names are guessed as
    confusion = torch.zeros(n_categories, n_categories)
    with torch.no_grad():
        for category in all_categories:
            for line in category_lines[category]:
                output = evaluate(lineToTensor(line))
                guess, guess_i = categoryFromOutput(output)
                category_i = all_categories.index(category)
                confusion[category_i][guess_i] += 1
    for i in range(n_categories):
        confusion[i] = confusion[i] / confusion[i].sum()
    for i, category in enumerate(all_categories):
        print(f"{category:9s}", " ".join(f"{v:.2f}" for v in confusion[i].tolist()))

    def predict(input_line, n_predictions=3):
        print(f"\n> {input_line}")
        with torch.no_grad():
            output = evaluate(lineToTensor(input_line))
            # get the top N categories
            topv, topi = output.topk(n_predictions, 1, True)
            for i in range(n_predictions):
                value = topv[0][i].item()
                category_index = topi[0][i].item()
                print(f"({value:.5f}) {all_categories[category_index]}")

    predict("Dovesky")
    predict("Jackson")
    predict("Satoshi")


if __name__ == "__main__":
    main()
