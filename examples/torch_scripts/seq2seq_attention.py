"""A GRU encoder-decoder with Bahdanau attention, in the style of the "NLP From Scratch:
Translation with a Sequence to Sequence Network and Attention" tutorial.

    python seq2seq_attention.py --epochs 4

The "translation" is a toy one: each sentence of a small made-up language becomes the reversed
sentence in another, word by word, so that the program needs no download. Training feeds the
target as the decoder's next input (teacher forcing); evaluation feeds back the decoder's own
``topk(1)`` choice. Plain PyTorch: run it with `python -m chainrule.run seq2seq_attention.py` to
use chainrule. The sentences and the initial weights come from NumPy, so that one seed gives the
same run under any library (with --dropout 0: dropout masks come from each library's own random
stream).
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

SOS_token = 0
EOS_token = 1
MAX_LENGTH = 8

SOURCE_WORDS = "ka lo mi ne pu ra si tu va ze".split()
TARGET_WORDS = "red blue green cold warm big small old new fast".split()


class Lang:
    def __init__(self, name):
        self.name = name
        self.word2index = {}
        self.index2word = {0: "SOS", 1: "EOS"}
        self.n_words = 2  # Count SOS and EOS

    def addSentence(self, sentence):
        for word in sentence.split(" "):
            self.addWord(word)

    def addWord(self, word):
        if word not in self.word2index:
            self.word2index[word] = self.n_words
            self.index2word[self.n_words] = word
            self.n_words += 1


def prepareData(n_pairs, seed):
    """Sentences of 2 to 6 words; the translation reverses the order and maps each word."""
    rng = np.random.default_rng(seed)
    input_lang, output_lang = Lang("src"), Lang("tgt")
    for source, target in zip(SOURCE_WORDS, TARGET_WORDS):
        input_lang.addWord(source)
        output_lang.addWord(target)
    pairs = []
    for _ in range(n_pairs):
        ids = rng.integers(0, len(SOURCE_WORDS), rng.integers(2, MAX_LENGTH - 1))
        pairs.append([" ".join(SOURCE_WORDS[i] for i in ids), " ".join(TARGET_WORDS[i] for i in ids[::-1])])
    return input_lang, output_lang, pairs


def indexesFromSentence(lang, sentence):
    return [lang.word2index[word] for word in sentence.split(" ")]


def tensorFromSentence(lang, sentence):
    indexes = indexesFromSentence(lang, sentence)
    indexes.append(EOS_token)
    return torch.tensor(indexes, dtype=torch.long, device=device).view(1, -1)


def get_dataloader(batch_size, input_lang, output_lang, pairs):
    n = len(pairs)
    input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)

    for idx, (inp, tgt) in enumerate(pairs):
        inp_ids = indexesFromSentence(input_lang, inp)
        tgt_ids = indexesFromSentence(output_lang, tgt)
        inp_ids.append(EOS_token)
        tgt_ids.append(EOS_token)
        input_ids[idx, : len(inp_ids)] = inp_ids
        target_ids[idx, : len(tgt_ids)] = tgt_ids

    train_data = TensorDataset(
        torch.LongTensor(input_ids).to(device), torch.LongTensor(target_ids).to(device)
    )
    # the tutorial shuffles with a RandomSampler, which draws from each library's own stream
    return DataLoader(train_data, batch_size=batch_size, shuffle=False)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.hidden_size = hidden_size

        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)

        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)

        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []

        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)

            if target_tensor is not None:
                # Teacher forcing: Feed the target as the next input
                decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
            else:
                # Without teacher forcing: use its own predictions as the next input
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()  # detach from history as input

        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)

        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))

        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)

        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)

        return output, hidden, attn_weights


def init_from_numpy(model, hidden_size, seed):
    """torch's defaults, drawn by NumPy: N(0, 1) embeddings, +-1/sqrt(hidden_size) for the GRUs,
    +-1/sqrt(fan_in) for the Linear layers."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embedding" in name:
                value = rng.standard_normal(tuple(p.shape))
            else:
                owner = model.get_submodule(name.rsplit(".", 1)[0])
                fan = hidden_size if isinstance(owner, nn.GRU) else owner.in_features
                bound = 1.0 / math.sqrt(fan)
                value = rng.uniform(-bound, bound, tuple(p.shape))
            p.copy_(torch.from_numpy(value.astype(np.float32)))


def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    total_loss = 0
    for data in dataloader:
        input_tensor, target_tensor = data

        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)

        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
        loss.backward()

        encoder_optimizer.step()
        decoder_optimizer.step()

        total_loss += loss.item()

    return total_loss / len(dataloader)


def evaluate(encoder, decoder, sentence, input_lang, output_lang):
    with torch.no_grad():
        input_tensor = tensorFromSentence(input_lang, sentence)

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)

        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()

        decoded_words = []
        for idx in decoded_ids:
            if idx.item() == EOS_token:
                decoded_words.append("<EOS>")
                break
            decoded_words.append(output_lang.index2word[idx.item()])
    return decoded_words, decoder_attn


def main():
    parser = argparse.ArgumentParser(description="seq2seq GRU with Bahdanau attention")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=96)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    input_lang, output_lang, pairs = prepareData(args.pairs, args.seed)
    print(
        f"{len(pairs)} pairs; words: {input_lang.name} {input_lang.n_words}, "
        f"{output_lang.name} {output_lang.n_words}"
    )
    train_dataloader = get_dataloader(args.batch_size, input_lang, output_lang, pairs)

    encoder = EncoderRNN(input_lang.n_words, args.hidden_size, args.dropout).to(device)
    decoder = AttnDecoderRNN(args.hidden_size, output_lang.n_words, args.dropout).to(device)
    init_from_numpy(encoder, args.hidden_size, args.seed)
    init_from_numpy(decoder, args.hidden_size, args.seed + 1)

    encoder_optimizer = optim.Adam(encoder.parameters(), lr=args.lr)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=args.lr)
    criterion = nn.NLLLoss()

    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(
            train_dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion
        )
        print(f"epoch {epoch} loss {loss:.7f}")

    encoder.eval()
    decoder.eval()
    for pair in pairs[:4]:
        print(">", pair[0])
        print("=", pair[1])
        output_words, attentions = evaluate(encoder, decoder, pair[0], input_lang, output_lang)
        print("<", " ".join(output_words))
        print("attention row 0:", " ".join(f"{v:.6f}" for v in attentions[0, 0].tolist()))
        print("")


if __name__ == "__main__":
    main()
