"""A tiny character-level GPT (2 layers, context 32), in the style of the well-known minimal GPT repos.

    python char_gpt.py --max-iters 6
    python char_gpt.py --max-iters 200 --compile   # torch.compile, as the training scripts default to

Plain PyTorch: run it with `python -m chainrule.run char_gpt.py` to use chainrule. Batches and initial
weights come from NumPy, so that one seed gives the same run under any library.
"""

import argparse
import math
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

TEXT = """\
First Citizen: Before we proceed any further, hear me speak.
All: Speak, speak.
First Citizen: You are all resolved rather to die than to famish?
All: Resolved. resolved.
First Citizen: First, you know Caius Marcius is chief enemy to the people.
All: We know't, we know't.
First Citizen: Let us kill him, and we'll have corn at our own price. Is't a verdict?
All: No more talking on't; let it be done: away, away!
Second Citizen: One word, good citizens.
"""


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        assert n_embd % n_head == 0
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # key, query, value projections for all heads
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.n_embd = n_embd

    def forward(self, x):
        B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size=32, n_layer=2, n_head=2, n_embd=32):
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(vocab_size, n_embd),
                wpe=nn.Embedding(block_size, n_embd),
                h=nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd),
            )
        )
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.n_layer = n_layer

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.block_size, f"Cannot forward sequence of length {t}, block size is {self.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :])  # inference: only the last position
            loss = None
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        num_decay = sum(p.numel() for p in decay_params)
        print(f"num decayed parameter tensors: {len(decay_params)}, with {num_decay:,} parameters")
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, rng=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size :]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            # sampled with NumPy from torch's probabilities (the same draw under any library)
            p = probs[0].double().numpy()
            idx_next = torch.tensor([[int(rng.choice(len(p), p=p / p.sum()))]])
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def init_from_numpy(model, seed):
    """The GPT-2 init (normal, std 0.02; residual projections scaled by 1/sqrt(2 n_layer); zero biases
    and LayerNorm's 1, 0), drawn by NumPy."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for pn, p in model.named_parameters():
            if pn.endswith("bias"):
                p.zero_()
            elif ".ln_" in pn or pn.startswith("transformer.ln_f"):
                p.fill_(1.0)
            else:
                std = 0.02 / math.sqrt(2 * model.n_layer) if pn.endswith("c_proj.weight") else 0.02
                p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * std).astype(np.float32)))


def main():
    parser = argparse.ArgumentParser(description="tiny character-level GPT")
    parser.add_argument("--max-iters", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--block-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-1)
    parser.add_argument("--grad-clip", type=float, default=1.0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--compile-backend", default="inductor")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = "cpu"
    device_type = "cuda" if "cuda" in device else "cpu"
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[args.dtype]
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type, dtype=ptdtype)

    chars = sorted(set(TEXT))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]
    print(f"vocab size: {len(chars)}, train tokens: {len(train_data)}, val tokens: {len(val_data)}")

    rng = np.random.default_rng(args.seed)

    def get_batch(split):
        d = train_data if split == "train" else val_data
        ix = rng.integers(0, len(d) - args.block_size - 1, args.batch_size)
        x = torch.stack([d[i : i + args.block_size] for i in ix])
        y = torch.stack([d[i + 1 : i + 1 + args.block_size] for i in ix])
        return x.to(device), y.to(device)

    model = GPT(len(chars), block_size=args.block_size)
    init_from_numpy(model, args.seed)
    model.to(device)
    print(f"number of parameters: {sum(p.numel() for p in model.parameters()):,}")

    scaler = torch.amp.GradScaler(enabled=(args.dtype == "float16"))
    optimizer = model.configure_optimizers(args.weight_decay, args.learning_rate, (0.9, 0.95))
    raw_model = model
    if args.compile:
        print("compiling the model...")
        model = torch.compile(model, backend=args.compile_backend)

    X, Y = get_batch("train")
    for iter_num in range(args.max_iters):
        lr = args.learning_rate * (iter_num + 1) / args.max_iters  # linear warmup
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        with ctx:
            logits, loss = model(X, Y)
        X, Y = get_batch("train")  # the next batch, fetched while the model would run on a GPU
        scaler.scale(loss).backward()
        if args.grad_clip != 0.0:
            scaler.unscale_(optimizer)
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        print(f"iter {iter_num}: loss {loss.item():.7f}, grad norm {norm.item():.7f}, lr {lr:.4e}")

    raw_model.eval()
    with torch.no_grad():
        xv, yv = get_batch("val")
        _, val_loss = raw_model(xv, yv)
        print(f"val loss {val_loss.item():.7f}")
        start = torch.tensor([[stoi["F"]]], dtype=torch.long)
        out = raw_model.generate(start, 20, temperature=0.8, top_k=10, rng=np.random.default_rng(0))
        print("sample:", repr("".join(itos[i] for i in out[0].tolist())))


if __name__ == "__main__":
    main()
