"""Many-to-one text classification: `rnnkit train sentiment` and `rnnkit train spam`.

A text w_1 … w_len is read whole and gets one distribution y over C classes (the lecture's
y = (0.9 negative, 0.1 positive)). Training minimises the (optionally class-weighted)
cross-entropy of the true class c_b of each text b in a batch of B:

    L = −Σ_b a_{c_b} ln y_b[c_b] / Σ_b a_{c_b}       a_c = 1, or N / (C·N_c) when "balanced"

A binary decision can move its threshold θ: ŷ = 1 iff y[1] ≥ θ (θ = 0.5 is the argmax), e.g.
a spam filter that must rarely lose a real message raises θ. Data: one of the labelled sets of
`rnnkit.datasets.labelled_text`, split into k stratified folds (or the published CV index of
the movie reviews); fold `fold` is held out and evaluated, the vocabulary comes from the other
folds only. Batches group texts of similar length (`BucketBatchSampler`).

References:
    Pang & Lee, ACL 2005 (sentence polarity); Almeida et al., DocEng 2011 (SMS spam): see
        `rnnkit.datasets.labelled_text`.
    King & Zeng. Logistic Regression in Rare Events Data. Political Analysis 9(2), 2001
        (class weights N / (C·N_c), scikit-learn's "balanced").
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.analysis.confusion import confusion_table, plot_confusion
from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.labelled_text import load_labelled, split_fold
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError
from rnnkit.models.bow_classifier import BowClassifier, BowClassifierConfig
from rnnkit.models.many_to_one import (
    SequenceClassifier,
    SequenceClassifierConfig,
    hashing_table,
)
from rnnkit.represent.embedding import Embedding, load_word_vectors
from rnnkit.seeding import make_generator
from rnnkit.tasks.classify.config import SPAM_DEFAULTS as SPAM_DEFAULTS  # re-exported
from rnnkit.tasks.classify.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.classify.config import ClassifyConfig, SpamConfig
from rnnkit.tasks.datapath import choose_reader
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.text.batching import BucketBatchSampler, pad_sequences
from rnnkit.text.normalization import (
    NORMALIZATION_KEY,
    UnknownMarks,
    mark_unknown,
    stored_normalization,
)
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import PAD, UNK, Vocab
from rnnkit.training import (
    BatchSource,
    FitResult,
    Objective,
    StepResult,
    TrainingSetup,
    read_metrics,
)
from rnnkit.training.classification_metrics import classification_scores, confusion_from_row
from rnnkit.training.runs import read_run_config

DATA_DIRS = {
    "rt_polarity": "sentiment_rt_polarity",
    "movie_reviews": "sentiment_movie_reviews",
    "sms_spam": "sms_spam",
}


class TextBatch(NamedTuple):
    """B texts, right-padded: ids (B, T) int64, lengths (B,), labels (B,)."""

    token_ids: Tensor
    lengths: Tensor
    labels: Tensor


def find_data(config: ClassifyConfig, data: Path | None) -> tuple[Path, str]:
    """The data and its reader: --data (detected with auto), or shared/data/<set> near here."""
    path, dataset = choose_reader(config.task_family, config.dataset, data,
                                  default=config.shared_dataset)  # fmt: skip
    if path is not None:
        return path, dataset
    folder = DATA_DIRS.get(dataset)
    if folder is None:
        raise DataError(f"dataset {dataset!r} needs --data PATH (a folder or file)")
    return find_shared(folder, flag="--data PATH"), dataset


def read_tokens(text: str, vocab: Vocab, max_tokens: int | None, keep: str = "first") -> list[str]:
    """The tokens of `text` the model reads: the vocab's tokeniser, the first (last) max_tokens."""
    tokens = vocab.tokenize(text)
    if max_tokens is not None:
        tokens = tokens[:max_tokens] if keep == "first" else tokens[-max_tokens:]
    return tokens


def encode_texts(
    texts: list[str], vocab: Vocab, max_tokens: int | None, keep: str = "first"
) -> list[Tensor]:
    """Ids (T_b,) of the tokens `read_tokens` gives for every text; none gives [<unk>]."""
    encoded = []
    for text in texts:
        ids = vocab.encode(read_tokens(text, vocab, max_tokens, keep))  # (T_b,)
        encoded.append(ids if len(ids) else torch.tensor([vocab.unk_id]))
    return encoded


def make_batches(
    ids: list[Tensor], labels: list[int], batch_size: int, *, shuffle: bool, seed: int
) -> list[TextBatch]:
    """Texts of similar length batched together (BucketBatchSampler), padded with id 0."""
    sampler = BucketBatchSampler(
        [len(x) for x in ids], batch_size, shuffle=shuffle, generator=make_generator(seed)
    )
    batches = []
    for indices in sampler:
        token_ids, lengths = pad_sequences([ids[i] for i in indices], pad_id=0)  # (B, T), (B,)
        batches.append(TextBatch(token_ids, lengths, torch.tensor([labels[i] for i in indices])))
    return batches


class ClassificationObjective(Objective):
    """Weighted cross-entropy of logits (B, C); evaluation adds accuracy, P/R/F1, AUC, M."""

    unit = "example"  # one prediction per text: throughput in ex/s, loss per example

    def __init__(
        self, classes: tuple[str, ...], weights: Tensor | None = None, threshold: float = 0.5
    ) -> None:
        self.classes, self.weights, self.threshold = classes, weights, threshold

    def loss(
        self, model: nn.Module, batch: TextBatch, state: Any, *, loss_from: int = 0
    ) -> StepResult:
        """L of the batch (the texts are independent: no state flows)."""
        logits = model(batch.token_ids, batch.lengths)  # (B, C)
        weight = None if self.weights is None else self.weights.to(logits.device, logits.dtype)
        loss = F.cross_entropy(logits.float(), batch.labels, weight=weight)
        return StepResult(loss, int(batch.labels.numel()))

    def decide(self, probabilities: Tensor) -> Tensor:
        """ŷ: the argmax, or [y[1] ≥ θ] for two classes. Shapes: (N, C) -> (N,)."""
        if probabilities.shape[-1] == 2:
            return (probabilities[:, 1] >= self.threshold).long()
        return probabilities.argmax(-1)

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        """Mean NLL (unweighted) and the classification scores of all batches."""
        logits, labels = [], []
        for batch in batches:
            logits.append(model(batch.token_ids, batch.lengths).float().cpu())  # (B, C)
            labels.append(batch.labels.cpu())
        z, y = torch.cat(logits), torch.cat(labels)  # (N, C), (N,)
        probabilities = torch.softmax(z, dim=-1)
        scores = classification_scores(
            self.decide(probabilities), y, len(self.classes), scores=probabilities[:, -1]
        )
        return {"loss": float(F.cross_entropy(z, y)), **scores.as_dict(self.classes)}


def class_weights(labels: list[int], num_classes: int) -> Tensor:
    """a_c = N / (C·N_c) (scikit-learn's "balanced"). Shapes: -> (C,)."""
    counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double()  # N_c
    return len(labels) / (num_classes * counts.clamp(min=1))


def build_model(config: ClassifyConfig, vocab: Vocab, num_classes: int) -> tuple[nn.Module, dict]:
    """The model and its JSON description {"kind", "config"} (what loading rebuilds)."""
    if config.classifier == "bow":
        bow = BowClassifierConfig(
            vocab_size=len(vocab), num_classes=num_classes, sublinear=config.bow_sublinear
        )
        return BowClassifier(bow), {"kind": "bow", "config": config_to_dict(bow)}
    vectors = None
    if config.pretrained is not None:
        table = Embedding.from_pretrained(
            load_word_vectors(config.pretrained, words=vocab), vocab=vocab, padding_idx=0
        )
        vectors = table.weight.detach()  # (V, E) in vocabulary order
    table, buckets = None, 0
    if config.model.representation == "hashing":
        table, buckets = hashing_table(vocab, config.hash_n)  # (V, G) n-gram ids, D
    model_config = dataclasses.replace(
        config.model, vocab_size=len(vocab), num_classes=num_classes,
        embed_dim=config.model.embed_dim if vectors is None else vectors.shape[1],
        hash_buckets=buckets, hash_width=0 if table is None else table.shape[1],
    )  # fmt: skip
    model = SequenceClassifier(model_config, ngram_table=table)
    if vectors is not None:
        model.load_pretrained(vectors, freeze=config.freeze_embedding)
    return model, {"kind": "sequence", "config": config_to_dict(model_config)}


def build(config: ClassifyConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Model, objective, bucketed training batches and the held-out fold of a run."""
    path, name = find_data(config, data)
    dataset = load_labelled(name, path)
    train_set, test_set = split_fold(dataset, config.fold, config.folds, seed=config.split_seed)
    vocab = Vocab.build_from_iterator(
        train_set.texts, dataset.tokenizer, min_freq=config.min_freq, specials=(PAD, UNK)
    )  # the training folds only
    train_ids = encode_texts(train_set.texts, vocab, config.max_tokens, config.keep)
    test_ids = encode_texts(test_set.texts, vocab, config.max_tokens, config.keep)
    model, description = build_model(config, vocab, len(dataset.classes))
    if isinstance(model, BowClassifier):
        model.fit_idf(train_ids)
    batches = make_batches(train_ids, train_set.labels, config.batch_size, shuffle=True, seed=seed)
    train_data = BatchSource(
        batches, batch_size=1, collate=lambda items: items[0], seed=seed
    )  # under torchrun each process takes every W-th batch
    weights = None
    if config.class_weights == "balanced":
        weights = class_weights(train_set.labels, len(dataset.classes))
    return TrainingSetup(
        model,
        ClassificationObjective(dataset.classes, weights, config.threshold),
        train_data,
        make_batches(test_ids, test_set.labels, 64, shuffle=False, seed=seed),
        artifacts={
            "vocab": vocab.to_dict(),
            "classes": list(dataset.classes),
            "classifier": description,
            "split": {"dataset": dataset.name, "train": len(train_set), "test": len(test_set)},
            NORMALIZATION_KEY: dataset.tokenizer.to_dict(),  # typed text is cut the same way
        },
    )


class LoadedClassifier(NamedTuple):
    """A trained classifier in eval mode with what it needs to read new text."""

    model: nn.Module
    vocab: Vocab
    classes: tuple[str, ...]
    config: ClassifyConfig
    checkpoint: Path
    normalization: Tokenizer | None = None  # the run's, also `vocab.tokenizer`

    def predict(self, texts: str | list[str]) -> list[dict[str, float]]:
        """Pr(class | text) for each text, in order: [{class name: y^c, …}, …], as `rnnkit
        predict` prints them (y sums to 1 over the classes). One string is one text."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        rows = predict_proba(self, texts).tolist()  # (N, C)
        return [dict(zip(self.classes, row, strict=True)) for row in rows]


def _build_classifier(config: dict[str, Any]) -> nn.Module:
    """The untrained model a classification run's config.json describes."""
    description = config["classifier"]
    if description["kind"] == "bow":
        return BowClassifier(config_from_dict(BowClassifierConfig, description["config"]))
    return SequenceClassifier(config_from_dict(SequenceClassifierConfig, description["config"]))


def load_classifier(
    run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT
) -> LoadedClassifier:
    """The model of a sentiment/spam run at a checkpoint ("best": else the latest; "latest"; a
    path)."""
    run = load_run(run_dir, _build_classifier, tasks=TASKS, needs="classifier",
                   what="a classification", checkpoint=checkpoint)  # fmt: skip
    config = run.config
    task_config = config_from_dict(TASKS[config["task"]], config["task_config"])
    vocab = Vocab.from_dict(config["vocab"])
    if vocab.tokenizer is not None:  # older runs: the vocab's tokeniser, as they were read
        vocab.tokenizer = stored_normalization(config, vocab.tokenizer, where=str(run_dir))
    return LoadedClassifier(run.model, vocab, tuple(config["classes"]), task_config,
                            run.checkpoint, vocab.tokenizer)  # fmt: skip


def predict_proba(loaded: LoadedClassifier, texts: list[str]) -> Tensor:
    """y for each text, in the order given: (N, C)."""
    if not texts:
        raise DataError("predict needs at least one text")
    ids = encode_texts(texts, loaded.vocab, loaded.config.max_tokens, loaded.config.keep)
    token_ids, lengths = pad_sequences(ids, pad_id=0)  # (N, T), (N,)
    with torch.no_grad():
        return torch.softmax(loaded.model(token_ids, lengths), dim=-1)


def unknown_marks(loaded: LoadedClassifier, text: str) -> UnknownMarks:
    """The tokens the model reads of `text`, those it reads as <unk>, and their share.

    A text without any token reads as one <unk> (`encode_texts`).
    """
    config = loaded.config
    tokens = read_tokens(text, loaded.vocab, config.max_tokens, config.keep)
    return mark_unknown(tokens, loaded.vocab) if tokens else UnknownMarks([UNK], [True], 1.0)


def report(run_dir: Path, result: FitResult) -> None:
    """After training: the metrics table of the held-out fold, its confusion matrix and plot."""
    evaluations = [row for row in read_metrics(run_dir) if row.get("kind") == "eval"]
    if not evaluations:
        return
    last, classes = evaluations[-1], read_run_config(run_dir)["classes"]
    console.print(f"[bold]held-out fold, step {last['step']}:[/]")
    console.print(f"  accuracy {last['val_accuracy']:.4f}   macro F1 {last['val_f1_macro']:.4f}"
                  + (f"   ROC-AUC {last['val_auc']:.4f}" if "val_auc" in last else ""))  # fmt: skip
    console.print(f"  {'class':<12} precision  recall      F1", markup=False)
    for name in classes:
        p, r, f = (last[f"val_{key}_{name}"] for key in ("precision", "recall", "f1"))
        console.print(f"  {name:<12} {p:9.4f} {r:7.4f} {f:7.4f}", markup=False)
    confusion = confusion_from_row(last)
    console.print(confusion_table(confusion, classes), markup=False)
    path = plot_confusion(run_dir / "plots" / "confusion.png", confusion, classes)
    console.print(f"confusion matrix plot: {path}")
    console.print(f'classify new text with:\n  rnnkit predict {run_dir} "a text to classify"')


TASKS: dict[str, type[ClassifyConfig]] = {"sentiment": ClassifyConfig, "spam": SpamConfig}


__all__ = [
    "ClassifyConfig",
    "SpamConfig",
    "build",
    "load_classifier",
    "predict_proba",
    "read_tokens",
    "unknown_marks",
]
