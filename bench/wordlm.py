"""Word-level LM benchmark on the Gutenberg books: unigram, Kneser-Ney bigram and a 2-layer LSTM.

Usage:
    python -m bench.wordlm [--data DIR] [--device cpu|cuda] [--time-budget SECONDS]
                           [--min-freq 5] [--max-vocab N] [--cased] [--hidden-size 512]
                           [--max-train-tokens N] [--max-eval-tokens N] [--recurrent rnnkit|torch]
    python -m bench.wordlm --quick     # about a minute on 2 CPU cores: small caps, small model

Data: `../shared/data/english_corpus` beside the repository (196 public-domain Project
Gutenberg books, split by book in its manifest: 174 train, 14 valid, 8 test), read with
`rnnkit.datasets.gutenberg` without PG's header and licence. Each book is tokenised once
(`Tokenizer(kind="word")`, lower-cased unless --cased: words, numbers and punctuation marks)
and the books of a split are joined into one stream.

Vocabulary: the words of the training stream seen at least --min-freq times (default 5),
or the --max-vocab most frequent; every other word is <unk>, in all three models alike, so
their perplexities compare. <unk> is an ordinary token to predict, as in the Penn Treebank
setup (Mikolov et al. 2010).

Models, all trained on the training stream and scored on the full valid and test streams
(unless --max-eval-tokens caps them; the table says so):
    unigram      P(w) = c(w)/N                                     rnnkit.models.ngram
    KN bigram    interpolated Kneser-Ney, D = n₁/(n₁ + 2n₂)          rnnkit.models.ngram
    LSTM         embedding → 2-layer LSTM → softmax, tied weights E = W_hy (Press & Wolf 2017),
                 dropout between the layers and before the output; trained for --time-budget
                 seconds of truncated BPTT (B streams, T-step chunks, state carried), Adam with a
                 linear warm-up and a cosine decay over the budget's time:
                 η(s) = η_min + (η − η_min)·½(1 + cos(π·s/S)), s seconds trained of S, η_min = η/10.

    PPL = exp(−(1/M) Σ_t ln P(x_t | x_<t))     over the M = N − 1 transitions of a stream

The n-grams score every transition x_{t−1} → x_t. The LSTM scores the same M targets: the
stream is cut into --eval-batch-size rows that each start with a fresh state (so B − 1
targets lose their context) and read in chunks with the state carried.

On CUDA the timings are bracketed by torch.cuda.synchronize() and TF32 is on for matmuls.

References:
    Chen & Goodman. An Empirical Study of Smoothing Techniques for Language Modeling. 1998.
    Zaremba, Sutskever & Vinyals. Recurrent Neural Network Regularization. arXiv:1409.2329, 2014.
    Press & Wolf. Using the Output Embedding to Improve Language Models. EACL 2017.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnkit.datasets.gutenberg import GutenbergCorpus
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.many_to_many import LanguageModel, LanguageModelConfig
from rnnkit.models.ngram import KneserNeyBigramLM, UnigramLM
from rnnkit.seeding import seed_everything
from rnnkit.tasks.charlm.train import Chunk, LanguageModelObjective
from rnnkit.text.batching import stream_to_batches
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import UNK, Vocab
from rnnkit.training.clipping import clip_grad_norm
from rnnkit.training.tensor_trees import detach_state

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "english_corpus"
SPLITS = ("train", "valid", "test")
WARMUP_STEPS = 100  # linear warm-up of the learning rate
QUICK = {  # --quick: a smoke run of about a minute on 2 CPU cores
    "max_train_tokens": 400_000,
    "max_eval_tokens": 40_000,
    "hidden_size": 128,
    "batch_size": 32,
    "time_budget": 30.0,
    "dropout": 0.1,
    "threads": 1,  # two threads on two busy cores measured 10x slower per step than one
}


@dataclass
class Streams:
    """The vocabulary and each split as one id stream (N,), with what the table reports."""

    vocab: Vocab
    ids: dict[str, np.ndarray]
    books: dict[str, int]
    capped: dict[str, bool]
    seconds: float  # reading, tokenising and encoding
    oov: dict[str, float] = field(default_factory=dict)


def read_split(
    corpus: GutenbergCorpus,
    split: str,
    tokenizer: Tokenizer,
    table: dict[str, int],
    cap: int | None,
) -> tuple[np.ndarray, int, bool]:
    """One split as provisional ids (a token's first-seen index in `table`), books read, capped."""
    parts, total, books = [], 0, 0
    for text in corpus.texts(split):
        tokens = tokenizer(text)
        parts.append(np.fromiter((table.setdefault(t, len(table)) for t in tokens), np.int64))
        total, books = total + len(tokens), books + 1
        if cap is not None and total >= cap:
            return np.concatenate(parts)[:cap], books, True
    return np.concatenate(parts), books, False


def load_streams(args: argparse.Namespace) -> Streams:
    """Tokenise every split once, build the Vocab on train, encode all splits with it."""
    start = time.perf_counter()
    corpus = GutenbergCorpus(args.data)
    tokenizer = Tokenizer(kind="word", lowercase=not args.cased)
    table: dict[str, int] = {}  # token -> provisional id, in order of first appearance
    raw, books, capped = {}, {}, {}
    for split in SPLITS:
        cap = args.max_train_tokens if split == "train" else args.max_eval_tokens
        raw[split], books[split], capped[split] = read_split(corpus, split, tokenizer, table, cap)
    counts = np.bincount(raw["train"], minlength=len(table))
    tokens = list(table)  # provisional id order = first appearance, as Vocab breaks ties
    vocab = Vocab.from_counts(
        {token: int(counts[i]) for i, token in enumerate(tokens) if counts[i]},
        min_freq=args.min_freq,
        max_size=args.max_vocab,
        specials=(UNK,),
        tokenizer=tokenizer,
    )
    remap = np.fromiter((vocab.token_to_id(token) for token in tokens), np.int64, len(tokens))
    ids = {split: remap[raw[split]] for split in SPLITS}
    streams = Streams(vocab, ids, books, capped, time.perf_counter() - start)
    streams.oov = {split: float(np.mean(ids[split] == vocab.unk_id)) for split in SPLITS}
    return streams


@dataclass
class Result:
    """One row of the results table."""

    name: str
    valid: float  # perplexity
    test: float
    seconds: float  # fitting or training time
    tokens: int  # training tokens counted or trained on
    note: str = ""


def count_models(streams: Streams) -> list[Result]:
    """Fit the unigram and the KN bigram on train; their perplexity on valid and test."""
    V, results = len(streams.vocab), []
    for name, model_cls in (("unigram", UnigramLM), ("KN bigram", KneserNeyBigramLM)):
        start = time.perf_counter()
        model = model_cls.fit(streams.ids["train"], V)
        seconds = time.perf_counter() - start
        note = f"D = {model.discount:.3f}" if isinstance(model, KneserNeyBigramLM) else ""
        valid, test = (model.perplexity(streams.ids[split]) for split in ("valid", "test"))
        results.append(Result(name, valid, test, seconds, len(streams.ids["train"]), note))
    return results


def make_model(vocab_size: int, args: argparse.Namespace, device: torch.device) -> nn.Module:
    """The tied 2-layer LSTM LanguageModel; embedding U(±0.1) as Zaremba et al. (E = W_hy)."""
    config = LanguageModelConfig(
        vocab_size=vocab_size,
        embed_dim=args.hidden_size,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        cell="lstm",
        dropout=args.dropout,
        tie_weights=True,
    )
    model = LanguageModel(config)
    nn.init.uniform_(model.embedding.weight, -0.1, 0.1)  # N(0, 1) would make the tied logits huge
    if args.recurrent == "torch":
        model.recurrent = model.recurrent.to_torch()
    return model.to(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def learning_rate(step: int, trained: float, args: argparse.Namespace) -> float:
    """Linear warm-up over the first steps, then cosine decay in training time to η/10."""
    warmup = min(1.0, (step + 1) / WARMUP_STEPS)
    progress = min(1.0, trained / args.time_budget)  # s / S
    floor = args.lr / 10  # η_min
    return warmup * (floor + (args.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


class Learner:
    """The model, Adam, and a pass over the B training streams in T-step chunks."""

    def __init__(
        self,
        model: nn.Module,
        train_ids: np.ndarray,
        args: argparse.Namespace,
        device: torch.device,
    ) -> None:
        self.model, self.args = model, args
        self.streams = stream_to_batches(torch.from_numpy(train_ids), args.batch_size).to(device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        self.objective = LanguageModelObjective("word")
        self.state: object = None
        self.position = self.steps = 0

    def next_chunk(self) -> Chunk:
        """The next T steps of the B streams; back to the start (fresh state) at the end."""
        T, width = self.args.seq_len, self.streams.shape[1]
        if self.position + T + 1 > width:
            self.position = 0
        start, self.position = self.position, self.position + T
        inputs = self.streams[:, start : start + T]  # (B, T)
        targets = self.streams[:, start + 1 : start + T + 1]  # (B, T)
        return Chunk(inputs, targets, first=start == 0)

    def step(self, lr: float) -> torch.Tensor:
        """One update on the next chunk; returns the detached mean loss in nats."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        result = self.objective.loss(self.model, self.next_chunk(), self.state)
        result.loss.backward()
        clip_grad_norm(self.model.parameters(), self.args.clip_norm)
        self.optimizer.step()
        self.state = detach_state(result.state)
        self.steps += 1
        return result.loss.detach()


def train_lstm(streams: Streams, args: argparse.Namespace, device: torch.device) -> Result:
    """Train for the time budget (evaluation not counted); perplexity on valid and test."""
    model = make_model(len(streams.vocab), args, device)
    learner = Learner(model, streams.ids["train"], args, device)
    parameters = sum(p.numel() for p in model.parameters())
    print(
        f"\ntraining a 2x{args.hidden_size} LSTM ({parameters:,} parameters, "
        f"{args.recurrent} layer) for {args.time_budget:.0f} s on {device}\n",
        flush=True,
    )
    print("| time s | steps | tokens | epochs | train loss | train ppl |")
    print("|---:|---:|---:|---:|---:|---:|")
    trained, losses, per_step = 0.0, [], args.batch_size * args.seq_len
    for report in range(1, args.reports + 1):
        sync(device)
        start = time.perf_counter()
        while trained + time.perf_counter() - start < args.time_budget * report / args.reports:
            lr = learning_rate(learner.steps, trained + time.perf_counter() - start, args)
            losses.append(learner.step(lr))
        sync(device)
        trained += time.perf_counter() - start
        loss = float(torch.stack(losses).mean()) if losses else math.nan
        losses.clear()
        tokens = learner.steps * per_step
        epochs = tokens / len(streams.ids["train"])
        print(
            f"| {trained:.0f} | {learner.steps} | {tokens:,} | {epochs:.2f} | {loss:.3f} | "
            f"{math.exp(loss):.1f} |",
            flush=True,
        )
    valid, test = (evaluate(model, streams.ids[s], args, device) for s in ("valid", "test"))
    name = f"LSTM 2x{args.hidden_size} tied"
    return Result(name, valid, test, trained, learner.steps * per_step, f"{learner.steps} steps")


def evaluate(
    model: nn.Module, ids: np.ndarray, args: argparse.Namespace, device: torch.device
) -> float:
    """PPL over the M = N − 1 targets of a stream, cut into B rows read in chunks of T."""
    B, T = args.eval_batch_size, args.seq_len
    stream = torch.from_numpy(ids)
    M = len(stream) - 1
    L = math.ceil(M / B)  # steps per row
    inputs = torch.zeros(B * L, dtype=torch.int64)
    targets = torch.full((B * L,), -100, dtype=torch.int64)  # ignore_index on the padding
    inputs[:M], targets[:M] = stream[:-1], stream[1:]
    inputs, targets = inputs.view(B, L).to(device), targets.view(B, L).to(device)  # (B, L)
    model.eval()
    total, state = torch.zeros((), dtype=torch.float64, device=device), None
    with torch.no_grad():
        for start in range(0, L, T):
            logits, state = model(inputs[:, start : start + T], state)  # (B, T, V)
            nll = sequence_cross_entropy(logits, targets[:, start : start + T], reduction="sum")
            total += nll.double()
    model.train()
    return math.exp(float(total) / M)


def print_data(streams: Streams, args: argparse.Namespace) -> None:
    vocab = f"min_freq {args.min_freq}" + (f", max {args.max_vocab}" if args.max_vocab else "")
    case = "cased" if args.cased else "lower-cased"
    print(
        f"vocabulary: {len(streams.vocab):,} types ({vocab}, {case}, <unk> included) from "
        f"the train stream; read, tokenised and encoded in {streams.seconds:.1f} s\n"
    )
    print("| split | books | tokens | OOV rate |\n|---|---:|---:|---:|")
    for split in SPLITS:
        capped = " (capped)" if streams.capped[split] else ""
        print(
            f"| {split} | {streams.books[split]} | {len(streams.ids[split]):,}{capped} | "
            f"{100 * streams.oov[split]:.2f}% |"
        )


def print_results(results: list[Result], streams: Streams) -> None:
    capped = any(streams.capped[split] for split in ("valid", "test"))
    scope = "first tokens of" if capped else "full"
    print(
        f"\nperplexity on the {scope} valid and test streams "
        f"({len(streams.ids['valid']) - 1:,} and {len(streams.ids['test']) - 1:,} targets)\n"
    )
    print("| model | valid PPL | test PPL | train time s | train tokens/s | note |")
    print("|---|---:|---:|---:|---:|---|")
    for row in results:
        rate = row.tokens / row.seconds if row.seconds > 0 else math.inf
        print(
            f"| {row.name} | {row.valid:.1f} | {row.test:.1f} | {row.seconds:.1f} | "
            f"{rate:,.0f} | {row.note} |"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--data", type=Path, default=SHARED_DATA, help="the english_corpus folder")
    add("--device", choices=("cpu", "cuda"), default="cpu")
    add("--time-budget", type=float, default=300.0, help="seconds of LSTM training")
    add("--min-freq", type=int, default=5, help="words seen fewer times are <unk>")
    add("--max-vocab", type=int, default=None, help="keep at most this many words")
    add("--cased", action="store_true", help="keep case (default: lower-case)")
    add("--max-train-tokens", type=int, default=None, help="cap the training stream")
    add("--max-eval-tokens", type=int, default=None, help="cap the valid and test streams")
    add("--hidden-size", type=int, default=512, help="H = E (tied weights)")
    add("--num-layers", type=int, default=2)
    add("--dropout", type=float, default=0.25)
    add("--batch-size", type=int, default=64, help="B parallel training streams")
    add("--eval-batch-size", type=int, default=64, help="rows of the evaluation streams")
    add("--seq-len", type=int, default=35, help="T steps per chunk (truncated BPTT)")
    add("--lr", type=float, default=2e-3, help="peak Adam learning rate η")
    add("--clip-norm", type=float, default=1.0, help="θ₀ of global-norm clipping")
    add("--recurrent", choices=("rnnkit", "torch"), default="rnnkit", help="LSTM layer")
    add("--reports", type=int, default=5, help="training-loss rows printed over the budget")
    add("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    add("--seed", type=int, default=1337)
    add("--quick", action="store_true", help="a ~1-minute CPU smoke run: " + str(QUICK))
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    wall = time.perf_counter()
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    seed_everything(args.seed, deterministic=False)
    streams = load_streams(args)
    print_data(streams, args)
    results = count_models(streams)
    results.append(train_lstm(streams, args, device))
    print_results(results, streams)
    print(f"\n{time.perf_counter() - wall:.0f} s wall in all ({device.type}).")


if __name__ == "__main__":
    main()
