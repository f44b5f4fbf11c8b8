"""BiLSTM sequence classifiers on real DNA and speech data that registry packages ship.

Usage:
    python -m bench.dna_speech [--quick] [--seeds N] [--epochs N] [--hidden H] [--threads N]
                               [--pooling last|mean|max] [--dna PATH/TO/DNA.rda] [--out FILE]

Data (issue 21, item 7; bench/README.md "DNA and speech data"):
    splice   UCI/StatLog primate splice junctions, from Debian's r-cran-mlbench (DNA.rda, read
             by rnnkit.datasets.splice_junctions): 60 bases → ei / ie / n. No split ships;
             split_splice_junctions(seed=0) gives 2,003 train / 1,183 test, class-stratified,
             repeated sequences kept on one side
    vowels   UCI Japanese Vowels, from the sktime wheel (rnnkit.datasets.japanese_vowels):
             7-29 frames of 12 LPC cepstrum coefficients → which of 9 speakers; UCI's split,
             270 train / 370 test. Speaker identification, not speech recognition

Models (no early stopping, no model selection on the test set: figures are after the last
epoch; Adam, η = 3e-3, batch 32, cross-entropy):
    majority   the training set's most frequent class
    logreg     scikit-learn logistic regression: one-hot bases (splice, 240 inputs) or the mean
               and standard deviation of each coefficient over the frames (vowels, 24 inputs)
    lstm       x_t (one-hot base via SequenceClassifier(representation="onehot"), or the 12
               coefficients standardised with the training set's mean and sd, by
               rnnkit.models.FrameClassifier's fitted scaler) → LSTM (H) → max over the real
               steps (--pooling last|mean|max) → linear
    bilstm     the same with both directions (D = 2; Schuster & Paliwal 1997; Graves &
               Schmidhuber 2005 for BiLSTM on speech)

Printed: test accuracy, mean ± sd over the seeds (the split stays seed 0), and training
seconds per run on this machine.

References:
    Graves & Schmidhuber. Framewise Phoneme Classification with Bidirectional LSTM and Other
        Neural Network Architectures. Neural Networks 18(5-6), 2005.
    Schuster & Paliwal. Bidirectional Recurrent Neural Networks. IEEE TSP 45(11), 1997.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.datasets.japanese_vowels import NUM_SPEAKERS, read_japanese_vowels
from rnnkit.datasets.splice_junctions import (
    CLASSES,
    read_splice_junctions,
    split_splice_junctions,
)
from rnnkit.models.configs.sequence_classifier import SequenceClassifierConfig
from rnnkit.models.frame_classifier import FrameClassifier, FrameClassifierConfig
from rnnkit.models.many_to_one import SequenceClassifier


@dataclass(frozen=True)
class BenchConfig:
    """Sizes and schedule of every recurrent row."""

    hidden: int = 64  # H per direction
    epochs: int = 30
    pooling: str = "max"  # s from h_1 … h_T for every recurrent row: last, mean or max
    lr: float = 3e-3
    batch: int = 32
    seeds: int = 3


QUICK = BenchConfig(hidden=32, epochs=8, seeds=2)  # a smoke run: minutes, not figures


def train_and_test(
    model: nn.Module,
    train: tuple[Tensor, Tensor, Tensor],
    test: tuple[Tensor, Tensor, Tensor],
    config: BenchConfig,
    seed: int,
) -> tuple[float, float]:
    """Adam on cross-entropy for config.epochs; (test accuracy, training seconds)."""
    x, lengths, y = train
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(y), generator=generator)
        for batch in order.split(config.batch):
            loss = nn.functional.cross_entropy(model(x[batch], lengths[batch]), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predicted = model(test[0], test[1]).argmax(-1)
    return float((predicted == test[2]).float().mean()), seconds


def logreg_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x, test_y) -> float:
    from sklearn.linear_model import LogisticRegression  # dev extra; a reference row only

    model = LogisticRegression(max_iter=2000).fit(train_x, train_y)
    return float((model.predict(test_x) == test_y).mean())


def splice_rows(config: BenchConfig, dna: str | None) -> list[dict]:
    train, test = split_splice_junctions(read_splice_junctions(dna), seed=0)
    (train_ids, train_y), (test_ids, test_y) = train.encode(), test.encode()
    majority = np.bincount(train_y).argmax()
    onehot = np.eye(5)[:, 1:]  # base id → 4 indicators (id 0 is padding, unused here)
    rows = [
        {"model": "majority", "accuracy": [float((test_y == majority).mean())]},
        {
            "model": "logreg",
            "accuracy": [
                logreg_accuracy(
                    onehot[train_ids].reshape(len(train_y), -1),
                    train_y,
                    onehot[test_ids].reshape(len(test_y), -1),
                    test_y,
                )
            ],
        },
    ]

    def tensors(ids: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        return torch.from_numpy(ids), torch.full((len(y),), ids.shape[1]), torch.from_numpy(y)

    for name, bidirectional in (("lstm", False), ("bilstm", True)):
        accuracies, seconds = [], []
        for seed in range(config.seeds):
            torch.manual_seed(seed)
            model = SequenceClassifier(
                SequenceClassifierConfig(
                    vocab_size=5,  # <pad>, A, C, G, T
                    num_classes=len(CLASSES),
                    representation="onehot",
                    hidden_size=config.hidden,
                    bidirectional=bidirectional,
                    pooling=config.pooling,
                )
            )
            acc, secs = train_and_test(
                model, tensors(train_ids, train_y), tensors(test_ids, test_y), config, seed
            )
            accuracies.append(acc)
            seconds.append(secs)
        rows.append({"model": name, "accuracy": accuracies, "seconds": seconds})
    return rows


def vowels_rows(config: BenchConfig) -> list[dict]:
    train, test = read_japanese_vowels("train"), read_japanese_vowels("test")
    (train_x, train_len, train_y), (test_x, test_len, test_y) = train.padded(), test.padded()
    frames = torch.from_numpy(np.concatenate(train.series))  # the scaler sees these only

    def summary(series: list[np.ndarray]) -> np.ndarray:
        return np.stack([np.concatenate([s.mean(0), s.std(0)]) for s in series])

    majority = np.bincount(train_y, minlength=NUM_SPEAKERS).argmax()
    rows = [
        {"model": "majority", "accuracy": [float((test_y == majority).mean())]},
        {
            "model": "logreg",
            "accuracy": [
                logreg_accuracy(summary(train.series), train_y, summary(test.series), test_y)
            ],
        },
    ]

    def tensors(x: np.ndarray, lengths: np.ndarray, y: np.ndarray) -> tuple[Tensor, ...]:
        # raw frames: the model standardises them (x − μ) / σ and zeroes the padding
        return torch.from_numpy(x).float(), torch.from_numpy(lengths), torch.from_numpy(y)

    for name, bidirectional in (("lstm", False), ("bilstm", True)):
        accuracies, seconds = [], []
        for seed in range(config.seeds):
            torch.manual_seed(seed)
            model = FrameClassifier(
                FrameClassifierConfig(
                    num_features=12,
                    num_classes=NUM_SPEAKERS,
                    hidden_size=config.hidden,
                    bidirectional=bidirectional,
                    pooling=config.pooling,
                )
            )
            model.fit_scaler(frames)  # μ, σ of the training frames only
            acc, secs = train_and_test(
                model,
                tensors(train_x, train_len, train_y),  # type: ignore[arg-type]
                tensors(test_x, test_len, test_y),  # type: ignore[arg-type]
                config,
                seed,
            )
            accuracies.append(acc)
            seconds.append(secs)
        rows.append({"model": name, "accuracy": accuracies, "seconds": seconds})
    return rows


def table(title: str, rows: list[dict]) -> str:
    lines = [f"{title}", "| model | test accuracy | train s / run |", "|---|---|---|"]
    for row in rows:
        acc = row["accuracy"]
        spread = f" ± {statistics.stdev(acc):.3f}" if len(acc) > 1 else ""
        secs = f"{statistics.mean(row['seconds']):.1f}" if "seconds" in row else "–"
        lines.append(f"| {row['model']} | {statistics.mean(acc):.3f}{spread} | {secs} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="H = 32, 8 epochs, 2 seeds")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--pooling", choices=("last", "mean", "max"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dna", help="mlbench's DNA.rda (default: RNNKIT_MLBENCH_DNA or R's)")
    parser.add_argument("--out", type=Path, help="write the rows as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = QUICK if args.quick else BenchConfig()
    for key in ("seeds", "epochs", "hidden", "pooling"):
        if getattr(args, key) is not None:
            config = replace(config, **{key: getattr(args, key)})
    print(f"config: {config}", flush=True)
    results = {"config": config.__dict__}
    results["splice"] = splice_rows(config, args.dna)
    print(table("Splice junctions (UCI/StatLog DNA via r-cran-mlbench)", results["splice"]))
    results["vowels"] = vowels_rows(config)
    print(table("Japanese Vowels speakers (UCI via sktime)", results["vowels"]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
