"""An LSTM word-level language model, in the style of the classic word_language_model example.

    python word_language_model.py --epochs 2
    python word_language_model.py --epochs 1 --onnx-export model.onnx

Plain PyTorch: run it with `python -m chainrule.run word_language_model.py` to use chainrule. The
corpus is a short text inside this file; the initial weights are drawn with NumPy, so that one seed
gives the same run under any library (with --dropout 0: dropout masks come from each library's RNG).
"""

import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.onnx

TEXT = """\
the cat sat on the mat . the dog sat on the log . the cat saw the dog .
the dog saw the cat on the mat . a bird sat on the dog . the bird saw a cat .
the cat and the dog sat on the log . a dog and a bird saw the mat .
the mat was on the log . the log was near the cat . the bird was near the dog .
"""


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    """Splits the text's lines 3:1 into train and valid; every line ends with <eos>."""

    def __init__(self, text):
        self.dictionary = Dictionary()
        lines = text.strip().split("\n")
        self.train = self.tokenize(lines[:3])
        self.valid = self.tokenize(lines[3:])

    def tokenize(self, lines):
        idss = []
        for line in lines:
            words = line.split() + ["<eos>"]
            idss.append(torch.tensor([self.dictionary.add_word(w) for w in words]).type(torch.int64))
        return torch.cat(idss)


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            except KeyError as e:
                raise ValueError(
                    "An invalid option for `--model` was supplied, "
                    "options are ['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']"
                ) from e
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self, rng):
        """Encoder and decoder uniform in +-0.1, decoder bias 0, the RNN's weights uniform in
        +-1/sqrt(nhid) (torch's default), all drawn by NumPy."""
        initrange = 0.1
        bound = 1.0 / math.sqrt(self.nhid)

        def uniform(p, b):
            p.copy_(torch.from_numpy(rng.uniform(-b, b, tuple(p.shape)).astype(np.float32)))

        with torch.no_grad():
            uniform(self.encoder.weight, initrange)
            self.decoder.bias.zero_()
            uniform(self.decoder.weight, initrange)
            for p in self.rnn.parameters():
                uniform(p, bound)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return torch.nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    """Columns of ``bsz`` independent streams; the tokens that do not fill a row are dropped."""
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def main():
    parser = argparse.ArgumentParser(description="LSTM language model on a tiny corpus")
    parser.add_argument("--model", type=str, default="LSTM", help="RNN_TANH, RNN_RELU, LSTM or GRU")
    parser.add_argument("--emsize", type=int, default=16, help="size of word embeddings")
    parser.add_argument("--nhid", type=int, default=16, help="number of hidden units per layer")
    parser.add_argument("--nlayers", type=int, default=2, help="number of layers")
    parser.add_argument("--lr", type=float, default=5.0, help="initial learning rate")
    parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
    parser.add_argument("--epochs", type=int, default=2, help="upper epoch limit")
    parser.add_argument("--batch_size", type=int, default=4, metavar="N", help="batch size")
    parser.add_argument("--bptt", type=int, default=6, help="sequence length")
    parser.add_argument("--dropout", type=float, default=0.2, help="dropout applied to layers")
    parser.add_argument("--tied", action="store_true", help="tie the word embedding and softmax weights")
    parser.add_argument("--seed", type=int, default=1111, help="random seed")
    parser.add_argument("--log-interval", type=int, default=1, metavar="N", help="report interval")
    parser.add_argument("--onnx-export", type=str, default="", help="export the model to this ONNX file")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device("cpu")

    corpus = Corpus(TEXT)
    eval_batch_size = 2
    train_data = batchify(corpus.train, args.batch_size).to(device)
    val_data = batchify(corpus.valid, eval_batch_size).to(device)

    ntokens = len(corpus.dictionary)
    model = RNNModel(args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout, args.tied)
    model = model.to(device)
    model.init_weights(np.random.default_rng(args.seed))
    criterion = nn.NLLLoss()

    def evaluate(data_source):
        model.eval()
        total_loss = 0.0
        hidden = model.init_hidden(eval_batch_size)
        with torch.no_grad():
            for i in range(0, data_source.size(0) - 1, args.bptt):
                data, targets = get_batch(data_source, i, args.bptt)
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    def train(epoch, lr):
        model.train()
        hidden = model.init_hidden(args.batch_size)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
            data, targets = get_batch(train_data, i, args.bptt)
            # starting each batch, detach the hidden state from how it was previously produced
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            if batch % args.log_interval == 0:
                print(
                    f"| epoch {epoch:3d} | batch {batch:3d} | lr {lr:02.2f} | loss {loss.item():.7f} "
                    f"| ppl {math.exp(loss.item()):.6f}"
                )

    lr = args.lr
    best_val_loss = None
    for epoch in range(1, args.epochs + 1):
        epoch_start_time = time.time()
        train(epoch, lr)
        val_loss = evaluate(val_data)
        print("-" * 89)
        print(
            f"| end of epoch {epoch:3d} | time: {time.time() - epoch_start_time:5.2f}s | "
            f"valid loss {val_loss:.7f} | valid ppl {math.exp(val_loss):.6f}"
        )
        print("-" * 89)
        if not best_val_loss or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            lr /= 4.0  # anneal the learning rate when no improvement is seen on the validation set

    if args.onnx_export:
        model.eval()
        dummy_input = torch.zeros(args.bptt, 1, dtype=torch.long, device=device)
        hidden = model.init_hidden(1)
        torch.onnx.export(model, (dummy_input, hidden), args.onnx_export)
        print(f"The model is also exported in ONNX format at {args.onnx_export}.")


if __name__ == "__main__":
    main()
