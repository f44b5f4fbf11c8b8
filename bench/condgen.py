"""Generation from a vector: does the class vector change what the decoder writes?

Usage:
    python -m bench.condgen [--out DIR] [--steps N] [--samples N] [--threads N] [--quick]

Trains, on the sentence-polarity set with the same held-out tenth (stratified, seed 0):
    condlm       `rnnkit train condlm`: an LSTM decoder conditioned on v = onehot(class) at every
                 step (E = 256, H = --hidden-size), which writes a sentence given "negative" or
                 "positive"
    classifier   `rnnkit train sentiment`: the many-to-one LSTM of issue 9 (mean pooling)
then samples N sentences per class from the decoder (temperature 1 and 0.7) and reports the
share the classifier rates positive, next to its share on the real held-out sentences of each
class. If the condition did nothing, both classes would be rated positive equally often.

References:
    Hu, Yang, Liang, Salakhutdinov, Xing. Toward Controlled Generation of Text. ICML 2017
        (the same check: a classifier rates the generated text's attribute).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from rnnkit.config import config_from_dict, make_config
from rnnkit.datasets.labelled_text import stratified_folds
from rnnkit.tasks.classify import train as classify
from rnnkit.tasks.classify.train import ClassifyConfig, load_classifier, predict_proba
from rnnkit.tasks.condlm import train as condlm
from rnnkit.tasks.condlm.train import CondLMConfig, generate_conditioned, load_condlm, load_texts
from rnnkit.tasks.registry import train
from rnnkit.training import TrainerConfig
from rnnkit.training.checkpoint_manager import CheckpointManager


def ensure_run(name: str, config, defaults: dict, run_dir: Path, steps: int) -> None:
    """Train task `name` into `run_dir` unless a checkpoint is already there."""
    if CheckpointManager(run_dir / "checkpoints").latest() is not None:
        return
    trainer = {**defaults, "max_steps": steps, "eval_every": steps, "checkpoint_every": steps}
    train(name, config, config_from_dict(TrainerConfig, trainer), run_dir=run_dir)


def positive_share(classifier, texts: list[str]) -> float:
    """The share of texts the classifier rates positive (class 1, y² ≥ 0.5)."""
    probabilities = predict_proba(classifier, texts)  # (N, 2)
    return float((probabilities[:, 1] >= 0.5).float().mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-condgen"))
    parser.add_argument("--steps", type=int, default=1500, help="condlm updates (150 = 1 epoch)")
    parser.add_argument("--samples", type=int, default=200, help="sentences per class")
    parser.add_argument("--hidden-size", type=int, default=512, help="H of the decoder")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    small = {"embed_dim": 32, "hidden_size": 32} if args.quick else {}
    lm_config = make_config(CondLMConfig, **(small or {"hidden_size": args.hidden_size}))
    ensure_run("condlm", lm_config, condlm.TRAINER_DEFAULTS, args.out / "condlm",
               60 if args.quick else args.steps)  # fmt: skip
    ensure_run("sentiment", make_config(ClassifyConfig, **small), classify.TRAINER_DEFAULTS,
               args.out / "classifier", 60 if args.quick else 1200)  # fmt: skip
    generator, classifier = (
        load_condlm(args.out / "condlm"),
        load_classifier(args.out / "classifier"),
    )
    texts = load_texts(lm_config, None)
    held = [i for i, fold in enumerate(stratified_folds(texts.labels, 10, seed=0)) if fold == 0]
    rows = {}
    for c, name in enumerate(generator.classes):
        real = [texts.texts[i] for i in held if texts.labels[i] == c]
        rows[f"real held-out {name}"] = positive_share(classifier, real)
    samples = {}
    for temperature in (1.0, 0.7):
        for name in generator.classes:
            written = generate_conditioned(generator, name, args.samples, temperature=temperature,
                                           seed=0)  # fmt: skip
            rows[f"generated {name}, τ = {temperature}"] = positive_share(classifier, written)
            samples[f"{name}, τ = {temperature}"] = written[:3]
    (args.out / "bench.json").write_text(json.dumps({"rates": rows, "samples": samples}, indent=1))
    print("| text | rated positive |\n|---|---|")
    for name, share in rows.items():
        print(f"| {name} | {100 * share:.1f} % |")
    for name, written in samples.items():
        print(f"\n{name}:")
        for text in written:
            print(f"  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
