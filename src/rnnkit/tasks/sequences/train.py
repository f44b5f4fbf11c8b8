"""Whole-sequence classification on real DNA and speech data: `rnnkit train sequences`.

A sequence x_1 … x_len is read whole by a (Bi)LSTM and gets one distribution y over C classes:

    h_t = LSTM(x_t, h_{t-1}),  s = max_{t ≤ len} h_t,  y = softmax(W_s s + b_s)

trained on the mean cross-entropy L = −(1/B) Σ_b ln y_b[c_b] of B sequences (Adam, as
bench/dna_speech.py). Two corpora, each shipped by a registry package:

    splice   60 bases of primate DNA → ei (donor), ie (acceptor) or n; x_t = onehot(base) over
             the alphabet <pad> A C G T (the letters of the training sequences: StatLog removed
             the sequences with ambiguity codes). No split ships: `split_splice_junctions`
             (seed `split_seed`) gives about 2,000 training and 1,186 test sequences,
             repeated sequences on one side (`rnnkit.datasets.splice_junctions`)
    vowels   7-29 frames of 12 LPC cepstra → which of 9 speakers; x_t = (frame − μ) / σ with μ,
             σ of the training frames only, kept in the model's buffers so that `rnnkit.load`
             standardises new series the same way; UCI's split, 270 / 370
             (`rnnkit.datasets.japanese_vowels`)

No test data chooses anything: `valid_fraction` of the training sequences (stratified by class;
for splice with copies of a sequence kept together) is held out, evaluated while training and
used for the best checkpoint; `report` then scores the test split once, for the best and the
latest checkpoint.

References:
    Graves & Schmidhuber. Framewise Phoneme Classification with Bidirectional LSTM and Other
        Neural Network Architectures. Neural Networks 18(5-6), 2005.
    Towell, Shavlik & Noordewier. Refinement of Approximate Domain Theories by
        Knowledge-Based Neural Networks. AAAI 1990 (the splice-junction data).
    Kudo, Toyama & Shimbo. Multidimensional Curve Classification Using Passing-Through
        Regions. Pattern Recognition Letters 20(11-13), 1999 (Japanese Vowels).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.analysis.confusion import confusion_table
from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.console import console
from rnnkit.datasets.japanese_vowels import NUM_FEATURES, read_japanese_vowels
from rnnkit.datasets.splice_junctions import (
    find_dna_rda,
    read_splice_junctions,
    split_splice_junctions,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.frame_classifier import FrameClassifier, FrameClassifierConfig, pad_frames
from rnnkit.models.many_to_one import SequenceClassifier, SequenceClassifierConfig
from rnnkit.seeding import make_generator
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.tasks.sequences.config import TRAINER_DEFAULTS as TRAINER_DEFAULTS  # re-exported
from rnnkit.tasks.sequences.config import SequencesConfig
from rnnkit.training import BatchSource, FitResult, Objective, StepResult, TrainingSetup
from rnnkit.training.classification_metrics import classification_scores

PAD = "<pad>"
EVAL_BATCH = 256  # sequences per evaluation batch
# where an unpacked r-cran-mlbench .deb (or an R library) keeps DNA.rda below a --data folder
DNA_PLACES = ("DNA.rda", "mlbench/data/DNA.rda", "usr/lib/R/site-library/mlbench/data/DNA.rda")


class Part(NamedTuple):
    """Sequences of one split and their class ids: base strings (splice) or (T_i, F) arrays."""

    sequences: list[Any]
    labels: list[int]


class Corpus(NamedTuple):
    """A corpus as the task reads it: its classes and the fit / valid / test parts."""

    name: str
    classes: tuple[str, ...]
    fit: Part  # trained on
    valid: Part  # held out of the training set: evaluation and the best checkpoint
    test: Part  # scored once by `report`
    source: str


def find_dna(data: Path | None) -> Path | None:
    """DNA.rda: --data (the file, or a folder holding it or an unpacked r-cran-mlbench .deb),
    else $RNNKIT_MLBENCH_DNA or R's library (`find_dna_rda`), or None."""
    if data is None:
        return find_dna_rda()
    data = Path(data)
    if data.is_dir():
        found = next((data / place for place in DNA_PLACES if (data / place).is_file()), None)
        if found is None:
            raise DataError(f"{data} holds no DNA.rda (looked for {', '.join(DNA_PLACES)})")
        return found
    if not data.is_file():
        raise DataError(f"--data {data}: no such file or folder (mlbench's DNA.rda)")
    return data


def stratified_holdout(labels: Sequence[int], fraction: float, *, seed: int) -> list[int]:
    """Indices of a seeded, class-stratified holdout: round(fraction · N_c) of each class c, at
    least one, never the whole class.

    >>> held = stratified_holdout([0] * 10 + [1] * 5, 0.2, seed=0)
    >>> sum(i < 10 for i in held), sum(i >= 10 for i in held)  # 2 of class 0, 1 of class 1
    (2, 1)
    """
    generator = make_generator(seed)
    held: list[int] = []
    for label in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == label]
        take = min(max(1, round(fraction * len(members))), len(members) - 1)
        order = torch.randperm(len(members), generator=generator)[:take].tolist()
        held.extend(members[k] for k in order)
    return sorted(held)


def read_splice(config: SequencesConfig, data: Path | None) -> Corpus:
    """Splice junctions: the seeded train/test split, then validation out of the training part."""
    path = find_dna(data)
    full = read_splice_junctions(path)
    train, test = split_splice_junctions(full, seed=config.split_seed)
    held = max(1, round(config.valid_fraction * len(train)))
    fit, valid = split_splice_junctions(train, train=len(train) - held, seed=config.split_seed)
    classes = ("ei", "ie", "n")

    def part(split: Any) -> Part:
        return Part(list(split.sequences), [classes.index(c) for c in split.labels])

    return Corpus("splice", classes, part(fit), part(valid), part(test), str(path or "mlbench"))


def read_vowels(config: SequencesConfig, data: Path | None) -> Corpus:
    """Japanese Vowels: UCI's train/test split, then a stratified validation part of train."""
    if data is not None and not Path(data).is_dir():
        raise DataError(f"--data {data}: expected the folder of JapaneseVowels_TRAIN/TEST.ts")
    train, test = read_japanese_vowels("train", data), read_japanese_vowels("test", data)
    classes = train.class_names

    def part(series: list[np.ndarray], labels: list[str]) -> Part:
        return Part(list(series), [classes.index(c) for c in labels])

    whole = part(train.series, train.labels)
    held = set(stratified_holdout(whole.labels, config.valid_fraction, seed=config.split_seed))
    fit = Part(*(
        [values[i] for i in range(len(whole.labels)) if i not in held] for values in whole
    ))  # fmt: skip
    valid = Part(*([values[i] for i in sorted(held)] for values in whole))
    source = str(data) if data is not None else "sktime's JapaneseVowels"
    return Corpus("vowels", classes, fit, valid, part(test.series, test.labels), source)


def read_corpus(config: SequencesConfig, data: Path | None) -> Corpus:
    """The run's corpus (`config.corpus`), split into fit / valid / test."""
    reader = {"splice": read_splice, "vowels": read_vowels}[config.corpus]
    return reader(config, data)


def encode_bases(sequences: Sequence[str], alphabet: Sequence[str], length: int) -> Tensor:
    """Base ids (N, length) int64 over `alphabet` (id 0 is <pad>); letters are upper-cased.

    Raises:
        DataError: a sequence of another length, or a letter outside the alphabet.
    """
    index = {letter: i for i, letter in enumerate(alphabet) if letter != PAD}
    rows = []
    for n, sequence in enumerate(sequences):
        if not isinstance(sequence, str):
            raise DataError(
                f"sequence {n} must be a string of bases, got {type(sequence).__name__}"
            )
        letters = sequence.strip().upper()
        if len(letters) != length:
            raise DataError(
                f"sequence {n} has {len(letters)} bases; the model reads windows of {length} "
                "centred on the candidate site"
            )
        unknown = sorted(set(letters) - set(index))
        if unknown:
            raise DataError(
                f"sequence {n} holds {''.join(unknown)!r}; the model knows {''.join(index)}"
            )
        rows.append([index[letter] for letter in letters])
    if not rows:
        raise DataError("need at least one sequence")
    return torch.tensor(rows, dtype=torch.int64)


def frame_tensors(series: Sequence[Any]) -> tuple[Tensor, Tensor]:
    """Series of (T_i, 12) coefficients as padded frames (N, T_max, 12) and lengths (N,)."""
    tensors = [torch.as_tensor(np.asarray(s, dtype=np.float64)) for s in series]
    return pad_frames(tensors, NUM_FEATURES)


class SequenceObjective(Objective):
    """Cross-entropy of the logits (B, C); evaluation adds accuracy, P/R/F1 and the confusion."""

    unit = "example"  # one prediction per sequence: throughput in ex/s, loss per example

    def __init__(self, classes: tuple[str, ...]) -> None:
        self.classes = classes

    def loss(self, model: nn.Module, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        """L of the batch (the sequences are independent: no state flows)."""
        inputs, lengths, labels = batch  # (B, T) or (B, T, F), (B,), (B,)
        logits = model(inputs, lengths)  # (B, C)
        return StepResult(F.cross_entropy(logits.float(), labels), int(labels.numel()))

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        """Mean NLL and the classification scores of all batches."""
        logits, labels = [], []
        for inputs, lengths, y in batches:
            logits.append(model(inputs, lengths).float().cpu())  # (B, C)
            labels.append(y.cpu())
        z, y = torch.cat(logits), torch.cat(labels)  # (N, C), (N,)
        probabilities = torch.softmax(z, dim=-1)
        scores = classification_scores(
            probabilities.argmax(-1), y, len(self.classes), scores=probabilities[:, -1]
        )
        return {"loss": float(F.cross_entropy(z, y)), **scores.as_dict(self.classes)}


def split_batches(tensors: tuple[Tensor, ...], size: int = EVAL_BATCH) -> list[tuple[Tensor, ...]]:
    """The examples in order, `size` at a time: [(inputs, lengths, labels), …]."""
    count = len(tensors[0])
    return [tuple(t[i : i + size] for t in tensors) for i in range(0, count, size)]


def build(config: SequencesConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Model, objective, shuffled training batches and the validation part of a run."""
    corpus = read_corpus(config, data)
    C = len(corpus.classes)
    artifacts: dict[str, Any] = {
        "classes": list(corpus.classes),
        "split": {"corpus": corpus.name, "source": corpus.source, "fit": len(corpus.fit.labels),
                  "valid": len(corpus.valid.labels), "test": len(corpus.test.labels)},
    }  # fmt: skip
    model: nn.Module
    if corpus.name == "splice":
        alphabet = [PAD, *sorted(set("".join(corpus.fit.sequences)))]
        length = len(corpus.fit.sequences[0])
        token_config = config.token_model(len(alphabet), C)
        model = SequenceClassifier(token_config)
        fit_inputs = encode_bases(corpus.fit.sequences, alphabet, length)  # (N, 60)
        fit_lengths = torch.full((len(fit_inputs),), length)
        valid_inputs = encode_bases(corpus.valid.sequences, alphabet, length)
        valid_lengths = torch.full((len(valid_inputs),), length)
        artifacts["sequence_model"] = {"kind": "tokens", "config": config_to_dict(token_config),
                                       "alphabet": alphabet, "length": length}  # fmt: skip
    else:
        frame_config = config.frame_model(NUM_FEATURES, C)
        frame_model = FrameClassifier(frame_config)
        fit_inputs, fit_lengths = frame_tensors(corpus.fit.sequences)  # (N, T, 12), (N,)
        real = torch.arange(fit_inputs.shape[1])[None, :] < fit_lengths[:, None]  # (N, T)
        frame_model.fit_scaler(fit_inputs[real])  # μ, σ of the training frames only
        valid_inputs, valid_lengths = frame_tensors(corpus.valid.sequences)
        model = frame_model
        artifacts["sequence_model"] = {"kind": "frames", "config": config_to_dict(frame_config)}
        artifacts["standardization"] = {
            "mean": frame_model.mean.tolist(), "sd": frame_model.scale.tolist(),
            "frames": int(real.sum()), "from": "fit",
        }  # fmt: skip
    fit = (fit_inputs, fit_lengths, torch.tensor(corpus.fit.labels))
    valid = (valid_inputs, valid_lengths, torch.tensor(corpus.valid.labels))
    train_data = BatchSource(fit, min(config.batch_size, len(fit[2])), drop_last=False, seed=seed)
    return TrainingSetup(
        model, SequenceObjective(corpus.classes), train_data, split_batches(valid), artifacts
    )


class LoadedSequenceClassifier(NamedTuple):
    """A trained sequence classifier in eval mode with what it needs to read new sequences."""

    model: nn.Module
    classes: tuple[str, ...]
    config: SequencesConfig
    description: dict[str, Any]  # config.json's "sequence_model": kind, config, alphabet
    checkpoint: Path
    data: Path | None  # the run's --data, to read its corpus again (None: the default)

    @property
    def kind(self) -> str:
        """The model's input: "tokens" (bases, splice) or "frames" (coefficients, vowels)."""
        return str(self.description["kind"])

    def inputs(self, sequences: Sequence[Any]) -> tuple[Tensor, Tensor]:
        """What the model reads: base ids (N, 60) or frames (N, T, 12), and lengths (N,)."""
        if self.kind == "tokens":
            length = int(self.description["length"])
            ids = encode_bases(sequences, self.description["alphabet"], length)
            return ids, torch.full((len(ids),), length)
        return frame_tensors(sequences)  # standardised inside the model (its μ, σ)

    def predict_proba(self, sequences: Any) -> Tensor:
        """y for each sequence, in order: (N, C). One string (splice) or one (T, 12) array
        (vowels) is one sequence."""
        single = isinstance(sequences, str) or (
            self.kind == "frames" and np.ndim(sequences[0] if len(sequences) else 0) == 1
        )
        items = [sequences] if single else list(sequences)
        if not items:
            raise DataError("predict needs at least one sequence")
        inputs, lengths = self.inputs(items)
        with torch.no_grad():
            return torch.softmax(self.model(inputs, lengths), dim=-1)

    def predict(self, sequences: Any) -> list[dict[str, float]]:
        """Pr(class | sequence) for each sequence: [{class name: y^c, …}, …] (each sums to 1).

        splice: strings of 60 bases (A, C, G, T; any case); vowels: arrays (T, 12) of the raw
        LPC coefficients, as the .ts files hold them.
        """
        rows = self.predict_proba(sequences).tolist()  # (N, C)
        return [dict(zip(self.classes, row, strict=True)) for row in rows]


def _build_model(config: dict[str, Any]) -> nn.Module:
    """The untrained model a sequences run's config.json describes."""
    description = config["sequence_model"]
    if description["kind"] == "tokens":
        return SequenceClassifier(config_from_dict(SequenceClassifierConfig, description["config"]))
    if description["kind"] == "frames":
        return FrameClassifier(config_from_dict(FrameClassifierConfig, description["config"]))
    raise ConfigError(f"unknown sequence model kind {description['kind']!r}")


def load_sequence_classifier(
    run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT
) -> LoadedSequenceClassifier:
    """The model of a `sequences` run at a checkpoint ("best": the best on validation, else the
    latest; "latest"; a path)."""
    run = load_run(run_dir, _build_model, tasks=("sequences",), needs="sequence_model",
                   what="a sequences", checkpoint=checkpoint)  # fmt: skip
    config = run.config
    data = None if config.get("data") is None else Path(config["data"])
    task_config = config_from_dict(SequencesConfig, config["task_config"])
    return LoadedSequenceClassifier(run.model, tuple(config["classes"]), task_config,
                                    config["sequence_model"], run.checkpoint, data)  # fmt: skip


def score(loaded: LoadedSequenceClassifier, part: Part) -> dict[str, Any]:
    """Accuracy, macro F1 and the confusion matrix of the loaded model on one part."""
    inputs, lengths = loaded.inputs(part.sequences)
    y = torch.tensor(part.labels)
    with torch.no_grad():
        predicted = torch.cat(
            [loaded.model(x, n).argmax(-1) for x, n in split_batches((inputs, lengths))]
        )
    scores = classification_scores(predicted, y, len(loaded.classes))
    return {"accuracy": scores.accuracy, "f1_macro": float(scores.f1.mean()),
            "confusion": scores.confusion}  # fmt: skip


def report(run_dir: Path, result: FitResult) -> None:
    """After training: validation and test accuracy of the best and the latest checkpoint, the
    majority-class baseline, the test confusion of the best; written to scores.json too."""
    best = load_sequence_classifier(run_dir, checkpoint="best")
    corpus = read_corpus(best.config, best.data)
    majority = int(np.bincount(corpus.fit.labels).argmax())
    rows: dict[str, dict[str, Any]] = {}
    for name in ("best", "latest"):
        loaded = best if name == "best" else load_sequence_classifier(run_dir, checkpoint=name)
        rows[name] = {
            "checkpoint": loaded.checkpoint.name,
            "valid": score(loaded, corpus.valid),
            "test": score(loaded, corpus.test),
        }
    baseline = sum(y == majority for y in corpus.test.labels) / len(corpus.test.labels)
    sizes = [len(part.labels) for part in (corpus.fit, corpus.valid, corpus.test)]
    console.print(f"[bold]{corpus.name}: {sizes[0]} fit, {sizes[1]} valid, {sizes[2]} test[/]")
    console.print(f"  {'checkpoint':<28}{'valid acc':>10}{'test acc':>10}{'test F1':>9}",
                  markup=False)  # fmt: skip
    for name, row in rows.items():
        label = f"{name} ({row['checkpoint']})"
        console.print(f"  {label:<28}{row['valid']['accuracy']:10.4f}"
                      f"{row['test']['accuracy']:10.4f}{row['test']['f1_macro']:9.4f}",
                      markup=False)  # fmt: skip
    console.print(f"  {'majority class':<28}{'':>10}{baseline:10.4f}", markup=False)
    console.print(confusion_table(rows["best"]["test"]["confusion"], corpus.classes), markup=False)
    saved = {
        name: {**{part: {k: v for k, v in row[part].items() if k != "confusion"}
                      for part in ("valid", "test")}, "checkpoint": row["checkpoint"]}
        for name, row in rows.items()
    }  # fmt: skip
    saved["majority_test_accuracy"] = baseline  # type: ignore[assignment]
    (run_dir / "scores.json").write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    console.print(f"scores: {run_dir / 'scores.json'}")
    console.print(f"classify new sequences in Python:\n  rnnkit.load({str(run_dir)!r}).predict(…)")


__all__ = [
    "LoadedSequenceClassifier",
    "SequenceObjective",
    "SequencesConfig",
    "build",
    "encode_bases",
    "load_sequence_classifier",
    "read_corpus",
    "stratified_holdout",
]
