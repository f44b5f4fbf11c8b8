"""Generation from a vector: `rnnkit train condlm`, a language model that writes text given a class.

One-to-many with a class as the input: v = onehot(c) ∈ {0, 1}^C conditions the decoder of
`rnnkit.models.one_to_many` (by default at every step, W_ih [x_t ; v] = W_x x_t + W_v v), which
then writes a sentence from <bos> until <eos>:

    Pr(y | c) = Π_t Pr(y_t | y_<t, v = onehot(c))

Trained on the sentence-polarity set (10,662 review sentences, negative / positive) it writes
reviews of the asked-for polarity: `rnnkit generate RUN_DIR --condition positive`. Any labelled
set of `rnnkit.datasets.labelled_text` works (`--dataset sms_spam`, or your CSV with `--data`).
A tenth of the examples (stratified, `split_seed`) is held out for the validation perplexity:
the same tenth that `rnnkit train sentiment` holds out as its fold 0. By default v also enters
the output layer (`condition_output`), the direct path a sentence's class needs to show.

References:
    Mikolov & Zweig. Context Dependent Recurrent Neural Network Language Model. SLT 2012.
    Hu, Yang, Liang, Salakhutdinov, Xing. Toward Controlled Generation of Text. ICML 2017.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.labelled_text import LabelledTexts, load_labelled, stratified_folds
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import ConfigError
from rnnkit.losses.sequence import perplexity, sequence_cross_entropy
from rnnkit.models.one_to_many import ConditionedDecoder, ConditionedDecoderConfig
from rnnkit.tasks.condlm.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.condlm.config import CondLMConfig
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.text.batching import pad_sequences, shift_right
from rnnkit.text.vocab import Vocab
from rnnkit.training import (
    BatchSource,
    FitResult,
    Objective,
    StepResult,
    TrainingSetup,
    read_metrics,
)
from rnnkit.training.runs import read_run_config

DATA_DIRS = {"rt_polarity": "sentiment_rt_polarity", "sms_spam": "sms_spam"}


class ConditionedBatch(NamedTuple):
    """Condition v (B, C), decoder input (B, T) and targets (B, T)."""

    condition: Tensor
    target_in: Tensor
    target_out: Tensor


def load_texts(config: CondLMConfig, data: Path | None) -> LabelledTexts:
    """The labelled texts of `config.dataset` (--data or shared/data)."""
    if config.dataset == "csv" and data is None:
        raise ConfigError("dataset csv needs --data FILE (.csv or .jsonl with text, label)")
    path = Path(data) if data is not None else find_shared(DATA_DIRS[config.dataset])
    return load_labelled(config.dataset, path)


def collate(rows: list[tuple[int, Tensor]], classes: int, vocab: Vocab) -> ConditionedBatch:
    """v = onehot(c), target_in = <bos> y_1 … y_n, target_out = y_1 … y_n <eos>."""
    target_out, _ = pad_sequences([ids for _, ids in rows], pad_id=vocab.pad_id)  # (B, T)
    target_in = shift_right(
        target_out, bos_id=vocab.bos_id, eos_id=vocab.eos_id, pad_id=vocab.pad_id
    )  # (B, T)
    condition = F.one_hot(torch.tensor([label for label, _ in rows]), classes).float()  # (B, C)
    return ConditionedBatch(condition, target_in, target_out)


class CondLMObjective(Objective):
    """Cross-entropy of every token given the class; evaluation reports perplexity too."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def loss(
        self, model: nn.Module, batch: ConditionedBatch, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        logits = model(batch.condition, batch.target_in)  # (B, T, V)
        pad = self.vocab.pad_id
        loss = sequence_cross_entropy(logits, batch.target_out, ignore_index=pad)
        return StepResult(loss, int((batch.target_out != pad).sum()))

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        mean = super().evaluate(model, batches)["loss"]
        return {"loss": mean, "perplexity": perplexity(mean)}


def build(config: CondLMConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Decoder, objective, shuffled training batches and the held-out tenth."""
    texts = load_texts(config, data)
    folds = stratified_folds(texts.labels, 10, seed=config.split_seed)
    train_rows = [i for i, fold in enumerate(folds) if fold != 0]
    held_rows = [i for i, fold in enumerate(folds) if fold == 0]
    tokenize = texts.tokenizer
    vocab = Vocab.build_from_iterator((tokenize(texts.texts[i]) for i in train_rows), None,
                                      min_freq=config.min_freq)  # fmt: skip

    def encode(i: int) -> tuple[int, Tensor]:
        ids = vocab.encode(tokenize(texts.texts[i])[: config.max_tokens], add_eos=True)
        return texts.labels[i], ids

    C = len(texts.classes)
    held_out = [encode(i) for i in held_rows]
    model = ConditionedDecoder(dataclasses.replace(
        config.model, vocab_size=len(vocab), condition_size=C, pad_id=vocab.pad_id,
        bos_id=vocab.bos_id, eos_id=vocab.eos_id))  # fmt: skip
    return TrainingSetup(
        model,
        CondLMObjective(vocab),
        BatchSource([encode(i) for i in train_rows], config.batch_size,
                    collate=lambda rows: collate(rows, C, vocab), seed=seed),
        [collate(held_out[k : k + 256], C, vocab) for k in range(0, len(held_out), 256)],
        artifacts={"vocab": vocab.to_dict(), "classes": list(texts.classes),
                   "decoder": config_to_dict(model.config),
                   "split": {"train": len(train_rows), "valid": len(held_rows)}},
    )  # fmt: skip


class LoadedCondLM(NamedTuple):
    """A trained conditional language model in eval mode, its vocabulary and class names."""

    model: ConditionedDecoder
    vocab: Vocab
    classes: tuple[str, ...]

    def generate(
        self,
        prime: str | None = None,
        length: int = 40,
        temperature: float = 1.0,
        seed: int | None = None,
        *,
        condition: str | None = None,
        top_k: int | None = None,
    ) -> str:
        """One text of the class `condition`, sampled from <bos> at τ = `temperature` (0:
        greedy) until <eos> or `length` tokens; as `rnnkit generate RUN --condition C`.

        A condlm run starts from the class alone: a `prime` is refused.
        """
        if prime:
            raise ConfigError("a condlm run writes from <bos> given condition=…; it takes no "
                              f"prime (got {prime!r})")  # fmt: skip
        if condition is None:
            raise ConfigError(f"a condlm run writes text given a class: pass condition=, one "
                              f"of {list(self.classes)}")  # fmt: skip
        return generate_conditioned(self, condition, 1, temperature=temperature, top_k=top_k,
                                    max_length=length, seed=seed)[0]  # fmt: skip


def load_condlm(run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT) -> LoadedCondLM:
    """The decoder of a condlm run at a checkpoint ("best": else the latest; "latest"; a path)."""
    run = load_run(
        run_dir, lambda config: ConditionedDecoder(
            config_from_dict(ConditionedDecoderConfig, config["decoder"])),
        tasks=("condlm",), needs="decoder", what="a condlm", checkpoint=checkpoint,
    )  # fmt: skip
    config = run.config
    return LoadedCondLM(run.model, Vocab.from_dict(config["vocab"]), tuple(config["classes"]))


def generate_conditioned(
    loaded: LoadedCondLM,
    condition: str,
    count: int = 1,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    max_length: int = 40,
    seed: int | None = None,
) -> list[str]:
    """`count` texts sampled given the class named `condition` (stopping at <eos>)."""
    if condition not in loaded.classes:
        raise ConfigError(f"condition must be one of {list(loaded.classes)}, got {condition!r}")
    if count < 1:
        raise ConfigError(f"count must be a positive integer, got {count}")
    v = torch.zeros(count, len(loaded.classes))
    v[:, loaded.classes.index(condition)] = 1.0  # onehot(c), (count, C)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    with torch.no_grad():
        rows = loaded.model.sample(v, temperature=temperature, top_k=top_k,
                                   max_length=max_length, generator=generator)  # fmt: skip
    eos = loaded.vocab.eos_id
    return [" ".join(loaded.vocab.decode(row[: row.index(eos)] if eos in row else row))
            for row in rows]  # fmt: skip


def report(run_dir: Path, result: FitResult) -> None:
    """After training: validation perplexity and how to generate."""
    evaluations = [row for row in read_metrics(run_dir) if row.get("kind") == "eval"]
    if evaluations:
        last = evaluations[-1]
        console.print(f"step {last['step']}: validation perplexity {last['val_perplexity']:.2f}",
                      markup=False)  # fmt: skip
    classes = read_run_config(run_dir).get("classes", ["positive"])
    console.print(f"generate with:\n  rnnkit generate {run_dir} --condition {classes[-1]}",
                  markup=False)  # fmt: skip
