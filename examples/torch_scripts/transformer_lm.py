"""A tiny ``nn.TransformerEncoder`` language model, in the style of the "Language Modeling with
nn.Transformer" tutorial.

    python transformer_lm.py --epochs 2

``PositionalEncoding`` keeps its sine table as a buffer (``register_buffer``), the encoder gets
``nn.Transformer.generate_square_subsequent_mask``, training clips gradients with
``clip_grad_norm_`` and decays the learning rate with ``StepLR``; the best model (by validation
loss) is kept with ``copy.deepcopy``. The corpus is a token stream from a small Markov chain
instead of WikiText-2. Plain PyTorch: run it with `python -m chainrule.run transformer_lm.py` to
use chainrule. The corpus and the initial weights come from NumPy, so that one seed gives the same
run under any library (with --dropout 0: dropout masks come from each library's random stream).
"""

import argparse
import copy
import math
import time

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import TransformerEncoder, TransformerEncoderLayer


class TransformerModel(nn.Module):
    def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int, nlayers: int, dropout: float = 0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)

    def forward(self, src: Tensor, src_mask: Tensor = None) -> Tensor:
        """
        Arguments:
            src: Tensor, shape ``[seq_len, batch_size]``
            src_mask: Tensor, shape ``[seq_len, seq_len]``

        Returns:
            output Tensor of shape ``[seq_len, batch_size, ntoken]``
        """
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        if src_mask is None:
            # Generate a square causal mask for the sequence. The masked positions are filled
            # with float('-inf'). Unmasked positions are filled with float(0.0).
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        output = self.transformer_encoder(src, src_mask)
        output = self.linear(output)
        return output


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)

        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x: Tensor) -> Tensor:
        """
        Arguments:
            x: Tensor, shape ``[seq_len, batch_size, embedding_dim]``
        """
        x = x + self.pe[: x.size(0)]
        return self.dropout(x)


def init_from_numpy(model, seed):
    """The tutorial's init_weights (uniform +-0.1 for the embedding and the decoder, a zero decoder
    bias) and torch's defaults elsewhere (Xavier-uniform attention projections, zero projection
    biases, +-1/sqrt(fan_in) for the feed-forward layers, LayerNorm at 1 and 0), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in ("embedding.weight", "linear.weight"):
                value = rng.uniform(-0.1, 0.1, tuple(p.shape))
            elif "norm" in name:
                value = np.ones(tuple(p.shape)) if name.endswith("weight") else np.zeros(tuple(p.shape))
            elif name.endswith("in_proj_weight"):
                bound = math.sqrt(6.0 / (p.shape[0] // 3 + p.shape[1]))
                value = rng.uniform(-bound, bound, tuple(p.shape))
            elif name.endswith("in_proj_bias") or name.endswith("out_proj.bias") or name == "linear.bias":
                value = np.zeros(tuple(p.shape))
            else:  # linear1, linear2, out_proj.weight: nn.Linear's bound
                fan_in = (
                    p.shape[1]
                    if p.dim() == 2
                    else model.get_parameter(name[: -len("bias")] + "weight").shape[1]
                )
                bound = 1.0 / math.sqrt(fan_in)
                value = rng.uniform(-bound, bound, tuple(p.shape))
            p.copy_(torch.from_numpy(value.astype(np.float32)))


def markov_corpus(ntokens, length, seed):
    """A token stream whose next token depends on the current one (each token has 3 likely
    successors), so that the model has something to learn."""
    rng = np.random.default_rng(seed)
    successors = rng.integers(0, ntokens, (ntokens, 3))
    tokens = [0]
    for _ in range(length - 1):
        tokens.append(
            int(successors[tokens[-1], rng.integers(0, 3)])
            if rng.random() < 0.9
            else int(rng.integers(0, ntokens))
        )
    return torch.tensor(tokens, dtype=torch.long)


def batchify(data: Tensor, bsz: int) -> Tensor:
    """Divides the data into ``bsz`` separate sequences, removing extra elements that wouldn't
    cleanly fit.

    Arguments:
        data: Tensor, shape ``[N]``
        bsz: int, batch size

    Returns:
        Tensor of shape ``[N // bsz, bsz]``
    """
    seq_len = data.size(0) // bsz
    data = data[: seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data


def get_batch(source: Tensor, i: int, bptt: int) -> tuple[Tensor, Tensor]:
    """
    Arguments:
        source: Tensor, shape ``[full_seq_len, batch_size]``
        i: int

    Returns:
        tuple (data, target), where data has shape ``[seq_len, batch_size]`` and
        target has shape ``[seq_len * batch_size]``
    """
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


def main():
    parser = argparse.ArgumentParser(description="nn.TransformerEncoder language model")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--ntokens", type=int, default=24)
    parser.add_argument("--emsize", type=int, default=32)
    parser.add_argument("--d-hid", type=int, default=64)
    parser.add_argument("--nlayers", type=int, default=2)
    parser.add_argument("--nhead", type=int, default=2)
    parser.add_argument("--bptt", type=int, default=16)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_data = batchify(markov_corpus(args.ntokens, 1280, args.seed), 8).to(device)  # shape [160, 8]
    val_data = batchify(markov_corpus(args.ntokens, 320, args.seed + 1), 4).to(device)  # shape [80, 4]

    model = TransformerModel(
        args.ntokens, args.emsize, args.nhead, args.d_hid, args.nlayers, args.dropout
    ).to(device)
    init_from_numpy(model, args.seed)
    in_state = "pos_encoder.pe" in model.state_dict()
    print(f"pe buffer: {tuple(model.pos_encoder.pe.shape)} in state_dict: {in_state}")
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")

    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)

    def train(model: nn.Module, epoch: int) -> None:
        model.train()  # turn on train mode
        total_loss = 0.0
        log_interval = 3
        start_time = time.time()

        num_batches = len(train_data) // args.bptt
        for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
            data, targets = get_batch(train_data, i, args.bptt)
            output = model(data)
            output_flat = output.view(-1, args.ntokens)
            loss = criterion(output_flat, targets)

            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()

            total_loss += loss.item()
            if batch % log_interval == 0 and batch > 0:
                lr = scheduler.get_last_lr()[0]
                ms_per_batch = (time.time() - start_time) * 1000 / log_interval
                cur_loss = total_loss / log_interval
                ppl = math.exp(cur_loss)
                print(
                    f"| epoch {epoch:3d} | {batch:5d}/{num_batches:5d} batches | lr {lr:02.2f} | "
                    f"ms/batch {ms_per_batch:5.2f} | loss {cur_loss:5.5f} | ppl {ppl:8.4f}"
                )
                total_loss = 0
                start_time = time.time()

    def evaluate(model: nn.Module, eval_data: Tensor) -> float:
        model.eval()  # turn on evaluation mode
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, eval_data.size(0) - 1, args.bptt):
                data, targets = get_batch(eval_data, i, args.bptt)
                seq_len = data.size(0)
                output = model(data)
                output_flat = output.view(-1, args.ntokens)
                total_loss += seq_len * criterion(output_flat, targets).item()
        return total_loss / (len(eval_data) - 1)

    best_val_loss = float("inf")
    best_model = None
    for epoch in range(1, args.epochs + 1):
        epoch_start_time = time.time()
        train(model, epoch)
        val_loss = evaluate(model, val_data)
        val_ppl = math.exp(val_loss)
        elapsed = time.time() - epoch_start_time
        print("-" * 89)
        print(
            f"| end of epoch {epoch:3d} | time: {elapsed:5.2f}s | "
            f"valid loss {val_loss:5.5f} | valid ppl {val_ppl:8.4f}"
        )
        print("-" * 89)

        if val_loss < best_val_loss:
            best_val_loss = val_loss
            best_model = copy.deepcopy(model)

        scheduler.step()

    test_loss = evaluate(best_model, val_data)
    print(f"| End of training | best valid loss {test_loss:5.5f} | ppl {math.exp(test_loss):8.4f}")


if __name__ == "__main__":
    main()
