"""Character- (and word-) level language modelling, char-rnn style: the main job of rnnkit.

The corpus is one long token stream x_1 … x_N, cut into B parallel rows; each row is read in
chunks of T steps with the recurrent state carried from chunk to chunk (truncated BPTT,
Williams & Peng 1990), and the model learns Pr(x_{t+1} | x_≤t). The tail of the corpus is
held out for validation. Loss is reported in nats, bits per character (char level) and
perplexity (word level):

    L = −(1/N) Σ_t ln Pr(x_{t+1} | x_≤t)     nats per token
    BPC = L / ln 2                             bits per character
    PPL = exp(L)                               perplexity

References:
    Karpathy. char-rnn (2015), https://github.com/karpathy/char-rnn
    Graves. Generating Sequences With Recurrent Neural Networks. arXiv:1308.0850, 2013.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import torch.distributed as dist
from torch import Tensor, nn

from rnnkit.analysis.explore import SPEAKER, load_corpus
from rnnkit.config import config_from_dict
from rnnkit.console import console
from rnnkit.errors import ConfigError, DataError
from rnnkit.losses.sequence import bits_per_char, perplexity, sequence_cross_entropy
from rnnkit.models.decoding import SamplingConfig
from rnnkit.models.many_to_many import LanguageModel, activity_regularisation
from rnnkit.models.size import check_fits, training_activations
from rnnkit.tasks.charlm.config import TASK_NAME, CharLMConfig
from rnnkit.tasks.charlm.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.text import files
from rnnkit.text.batching import stream_to_batches, tbptt_chunks
from rnnkit.text.vocab import UNK, Vocab
from rnnkit.training import (
    BatchSource,
    FitResult,
    Objective,
    StepResult,
    TrainingSetup,
    read_metrics,
    read_run_config,
)
from rnnkit.training.plots import plot_run


class Chunk(NamedTuple):
    """T steps of B parallel streams; `first` marks the chunk that starts the streams."""

    inputs: Tensor  # (B, T) int64
    targets: Tensor  # (B, T) int64, inputs shifted by one step
    first: bool


def read_text(path: Path | None, max_chars: int | None = None) -> str:
    """The UTF-8 text of `path` (the embedded Tiny Shakespeare when None), checked.

    A gzip file (e.g. a book of shared/data/english_corpus, `pg01342.txt.gz`) is unpacked as
    it is read. The read stops after `max_chars` characters; a device, a FIFO or a file over
    `rnnkit.text.files.MAX_TEXT_CHARS` characters is a DataError (`rnnkit.text.files`).
    """
    if path is None:
        return load_corpus(max_chars)
    path = Path(path)
    if path.is_dir():
        candidates = sorted(path.glob("*.txt"))
        if len(candidates) != 1:
            books = sorted(path.glob("*.txt.gz"))[:1]
            example = f", e.g. --data {books[0]}" if books else ""
            raise DataError(f"{path} is a folder holding {len(candidates)} .txt files; pass one "
                            f"UTF-8 text file (.txt or .txt.gz) with --data{example}")  # fmt: skip
        path = candidates[0]
    text = files.read_text(  # streamed: at most max_chars (or MAX_TEXT_CHARS) are read
        path, max_chars=max_chars, gzip_ok=True, fix="pass --max-chars N to use its start"
    )
    if not text.strip():
        raise DataError(f"{path} is empty; a language model needs text to learn from")
    if "\x00" in text[:1_000_000]:
        raise DataError(f"{path} looks binary (it holds NUL bytes); pass a UTF-8 text file")
    return text


_HINT_SAFE = re.compile(r"[\w ,.;:'?-]+")  # safe inside "double quotes" in a shell


def suggest_prime(text: str, vocab: Vocab, *, words: int = 3) -> str:
    """A prime for `rnnkit generate` taken from `text`, every token of it in `vocab`.

    The most frequent cue line of a play ("GLOUCESTER:" in Tiny Shakespeare), else the first
    `words` words of a paragraph's opening line (of any line when the text has no paragraphs),
    searched from the middle of the text (past a front matter such as Project Gutenberg's
    header) and then from its start; "" if none fits.

    >>> from rnnkit.text.tokenize import Tokenizer
    >>> text = "ROMEO:\\nO she doth teach.\\n\\nJULIET:\\nAy me.\\n\\nROMEO:\\nShe speaks."
    >>> suggest_prime(text, Vocab.build_from_iterator([text], Tokenizer(kind="word")))
    'ROMEO:'
    """

    def known(candidate: str) -> bool:
        if _HINT_SAFE.fullmatch(candidate) is None:
            return False
        tokens = vocab.tokenize(candidate)
        return bool(tokens) and all(token in vocab and token != UNK for token in tokens)

    lines = [line.strip() for line in text.split("\n")]
    cues = Counter(line for line in lines if SPEAKER.match(line) and len(line.split()) <= words)
    for cue, _ in cues.most_common():
        if known(cue):
            return cue
    openings = [k for k in range(1, len(lines)) if not lines[k - 1] and lines[k][:1].isupper()]
    openings = openings or list(range(len(lines)))  # no paragraphs: any line will do
    middle = sum(k < len(lines) // 2 for k in openings)
    for k in openings[middle:] + openings[:middle]:
        candidate = " ".join(lines[k].split()[:words])
        if len(lines[k].split()) >= words and known(candidate):
            return candidate
    return ""


def split_point(num_tokens: int, config: CharLMConfig) -> int:
    """Where the validation tail starts: `val_fraction` of the tokens, at least one batch each."""
    one_batch = config.batch_size * (config.seq_len + 1)  # B rows of T inputs + 1 target
    val_tokens = max(int(num_tokens * config.val_fraction), one_batch)
    if num_tokens - val_tokens < one_batch:
        raise DataError(
            f"the text has {num_tokens} tokens; batch_size={config.batch_size} and "
            f"seq_len={config.seq_len} need at least {2 * one_batch} (one batch of sequences for "
            "training and one for validation). Use more text or a smaller --batch-size/--seq-len"
        )
    return num_tokens - val_tokens


def make_chunks(streams: Tensor, seq_len: int) -> list[Chunk]:
    """Consecutive chunks of (B, N) streams; only the first starts from a fresh state."""
    return [
        Chunk(inputs, targets, first=index == 0)
        for index, (inputs, targets) in enumerate(tbptt_chunks(streams, seq_len, drop_last=True))
    ]


def _shard_streams(streams: Tensor) -> Tensor:
    """Under torch.distributed, this process's rows of the streams (B/W each)."""
    if not (dist.is_available() and dist.is_initialized()):
        return streams
    world, rank = dist.get_world_size(), dist.get_rank()
    if streams.shape[0] % world:
        raise ConfigError(f"batch_size={streams.shape[0]} must divide by the {world} processes")
    return streams[rank::world]


class LanguageModelObjective(Objective):
    """Mean cross-entropy of the next token over a chunk, the state carried between chunks."""

    carry_state = True

    def __init__(self, level: Literal["char", "word"]) -> None:
        self.level = level
        self.unit = level  # throughput in char/s or word/s, loss per char or word

    def loss(self, model: nn.Module, batch: Chunk, state: Any, *, loss_from: int = 0) -> StepResult:
        """L over the chunk's steps t ≥ loss_from, starting from `state` (fresh on `first`)."""
        state = None if batch.first else state
        logits, state = model(batch.inputs, state)  # (B, T, V)
        targets = batch.targets[:, loss_from:]  # (B, T')
        loss = sequence_cross_entropy(logits[:, loss_from:], targets)
        penalty = activity_regularisation(model)  # AR + TAR, training passes only
        if penalty is not None:  # the value stays L (logged as such), the gradient has both
            loss = loss + (penalty - penalty.detach())
        return StepResult(loss, targets.numel(), state)

    def slice_time(self, batch: Chunk, start: int, stop: int) -> Chunk:
        """Steps [start, stop); only a slice from step 0 of the first chunk restarts the state."""
        return Chunk(
            batch.inputs[:, start:stop], batch.targets[:, start:stop], batch.first and start == 0
        )

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """Validation loss in nats, and bits per character or perplexity."""
        metrics = super().evaluate(model, batches)
        if self.level == "char":
            metrics["bpc"] = bits_per_char(metrics["loss"])
        else:
            metrics["ppl"] = perplexity(metrics["loss"])
        return metrics


def build(config: CharLMConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Model, objective, training chunks and validation chunks of a language-model run."""
    text = read_text(data, config.max_chars)
    tokenizer = config.tokenizer()
    tokens = tokenizer(text)
    split = split_point(len(tokens), config)
    vocab = Vocab.build_from_iterator(
        [tokens[:split]], None, min_freq=config.min_freq, specials=(UNK,)
    )
    vocab.tokenizer = tokenizer  # the vocabulary of the training head only
    ids = vocab.encode(tokens)  # (N,) int64, unseen tokens -> <unk>
    train_ids, val_ids = ids[:split], ids[split:]
    train_streams = _shard_streams(stream_to_batches(train_ids, config.batch_size))  # (B, N)
    val_streams = stream_to_batches(val_ids, config.batch_size)  # (B, N_val)
    train_data = BatchSource(
        make_chunks(train_streams, config.seq_len),
        batch_size=1,
        collate=lambda items: items[0],
        shuffle=False,
        seed=seed,
        rank=0,
        world_size=1,
    )
    model_config = config.model_config(len(vocab))  # refuses a model that cannot be held
    activations = training_activations(
        config.batch_size, config.seq_len, hidden_size=model_config.hidden_size,
        num_layers=model_config.num_layers, cell=model_config.cell,
        width=model_config.embed_dim + 2 * len(vocab),
    )  # fmt: skip
    check_fits("training this language model", model_config.parameter_count(),
               activations=activations, training=True,
               fix="lower hidden_size, num_layers, batch_size or seq_len")  # fmt: skip
    model = LanguageModel(model_config)
    return TrainingSetup(
        model,
        LanguageModelObjective(config.level),
        train_data,
        make_chunks(val_streams, config.seq_len),
        artifacts={"vocab": vocab.to_dict(), "prime": suggest_prime(text, vocab)},
        callbacks=(sample_callback(config, vocab, seed),),
    )


class LoadedModel(NamedTuple):
    """A trained language model in eval mode, its vocabulary and the checkpoint it came from."""

    model: LanguageModel
    vocab: Vocab
    checkpoint: Path

    def generate(
        self,
        prime: str | None = None,
        length: int = 200,
        temperature: float = 1.0,
        seed: int | None = None,
        *,
        top_k: int | None = None,
        top_p: float | None = None,
        beam: int | None = None,
    ) -> str:
        """The prime and `length` tokens generated after it, as `rnnkit generate` prints them.

        Sampling at τ = `temperature` (0: greedy), among the `top_k` best or the `top_p`
        nucleus; `beam` K searches instead. With no prime it starts from `start_token`; a seed
        makes the text repeatable.
        """
        sampling = SamplingConfig(temperature=temperature, top_k=top_k, top_p=top_p)
        prime = prime or ""
        pieces = generate_text(self.model, self.vocab, prime, length, sampling, seed=seed,
                               beam_size=beam)  # fmt: skip
        return prime + "".join(pieces)


def load_language_model(
    run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT, device: str = "cpu"
) -> LoadedModel:
    """The model of a `charlm` run at a checkpoint ("best": else the latest; "latest"; a path)."""

    def build(config: dict[str, Any]) -> LanguageModel:
        task_config = config_from_dict(CharLMConfig, config["task_config"])
        return LanguageModel(task_config.model_config(len(Vocab.from_dict(config["vocab"]))))

    run = load_run(run_dir, build, tasks=(TASK_NAME,), needs="vocab", what="a language-model",
                   checkpoint=checkpoint)  # fmt: skip
    return LoadedModel(run.model.to(device), Vocab.from_dict(run.config["vocab"]), run.checkpoint)


def sample_steps(max_steps: int, samples: int) -> set[int]:
    """The steps after which a sample is printed: evenly spaced from step 1 to the last.

    >>> sorted(sample_steps(1000, 3))
    [1, 500, 1000]
    """
    if samples <= 0:
        return set()
    if samples == 1:
        return {max_steps}
    return {max(1, k * max_steps // (samples - 1)) for k in range(samples)}


def sample_callback(config: CharLMConfig, vocab: Vocab, seed: int) -> Callable[[Any, dict], None]:
    """Print a sample of the model at start, middle and end of training (rank 0, not quiet).

    Sampling uses its own generator seeded from (seed, step), so it leaves the training RNG
    streams alone: a run with samples is bit-identical to one without.
    """

    def callback(trainer: Any, row: dict[str, Any]) -> None:
        step = row["step"]
        steps = sample_steps(trainer.config.max_steps, config.samples)
        if step not in steps or trainer.config.quiet or not trainer.context.is_main:
            return
        model = trainer.model
        was_training = model.training
        model.eval()
        sampling = SamplingConfig(temperature=config.sample_temperature)
        text = "".join(
            generate_text(model, vocab, "", config.sample_length, sampling, seed=seed + step)
        )
        model.train(was_training)
        console.rule(f"sample after step {step} (train loss {row['loss']:.3f} nats)")
        console.print(text, markup=False, highlight=False)
        console.rule()

    return callback


def report(run_dir: Path, result: FitResult) -> None:
    """After `rnnkit train charlm`: validation figures, plots, and what to run next."""
    evaluations = [row for row in read_metrics(run_dir) if row.get("kind") == "eval"]
    if evaluations:
        last = evaluations[-1]
        figures = [f"val loss {last['val_loss']:.4f} nats/token"]
        if "val_bpc" in last:
            figures.append(f"{last['val_bpc']:.4f} bits/char")
        if "val_ppl" in last:
            figures.append(f"perplexity {last['val_ppl']:.2f}")
        console.print(f"[bold]step {result.step}:[/] " + ", ".join(figures))
    plots = plot_run(run_dir)
    console.print(f"plots: {', '.join(str(path) for path in plots)}")
    prime = read_run_config(run_dir).get("prime")  # from the training text, all tokens known
    console.print("generate more text with:")
    prime_flag = f' --prime "{prime}"' if prime else ""
    console.print(f"  rnnkit generate {run_dir}{prime_flag} --length 500 --temperature 0.8",
                  markup=False, soft_wrap=True)  # fmt: skip
    console.print(f"continue training with:\n  rnnkit resume {run_dir} --max-steps N")
    console.print(
        f"try it in the browser, and look inside the network, with:\n  rnnkit serve {run_dir}"
    )
