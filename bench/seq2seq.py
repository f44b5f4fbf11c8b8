"""Encoder–decoder benchmark: Multi30k test BLEU of plain, reversed-source and attention models.

Usage:
    python -m bench.seq2seq [--out DIR] [--configs plain,reverse,attention] [--steps N]
                            [--beam 5] [--threads N] [--device cpu|cuda] [--data DIR]
    python -m bench.seq2seq --quick      # 300 updates of small models: minutes on 2 cores

Every row trains `rnnkit train translate` (Multi30k English → German, 29,000 training pairs,
vocabularies of words seen twice, GRU cells, E = H = 256, Adam 1e-3, clipping at 1, dropout
0.3, B = 64) for the same number of updates (validation BLEU every --eval-every updates, in
metrics.jsonl), and scores the checkpoint of the last update once on test_2016_flickr (1,000
pairs) with sacrebleu's corpus BLEU and chrF on detokenised, cased text, greedy and by beam
search. No model selection on the test set.

    plain       unidirectional GRU encoder, its final state starts the decoder (Sutskever 2014)
    reverse     the same, reading the source backwards
    attention   bidirectional GRU encoder, bridge, Luong "general" attention (Luong et al. 2015)

A run directory that already holds the checkpoint of step --steps is scored without retraining
(one that stopped earlier is resumed, one that went on keeps that checkpoint while it is among
the last three), so an interrupted bench resumes; the training time is the wall time from the
run's config.json to the checkpoint scored.

References (the targets of issue 11): attention models of this size are reported around 32–36
BLEU on Multi30k en→de test2016, usually on tokenised lower-cased text (e.g. the WMT16
multimodal task's text-only baselines, Specia et al. 2016); here BLEU is sacrebleu's cased
score of detokenised output.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

from rnnkit.config import config_from_dict, make_config
from rnnkit.tasks.registry import resume, train
from rnnkit.tasks.translate import train as translate_task  # registers the task
from rnnkit.tasks.translate.data import TranslateConfig, load_pairs
from rnnkit.tasks.translate.translator import load_translator, translate
from rnnkit.training import TrainerConfig
from rnnkit.training.checkpoint import step_of
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.text_metrics import corpus_scores

CONFIGS = {
    "plain": {"bidirectional": False, "attention": "none"},
    "reverse": {"bidirectional": False, "attention": "none", "reverse_source": True},
    "attention": {"bidirectional": True, "attention": "general"},
}
QUICK = {"embed_dim": 64, "hidden_size": 64}
SAMPLES = (0, 1, 2, 3, 4)  # test pairs printed next to their references


def trainer_config(steps: int, every: int, device: str) -> TrainerConfig:
    """The task's trainer defaults with `steps` updates, evaluated and kept every `every`."""
    defaults = dict(translate_task.TRAINER_DEFAULTS)
    defaults.update(max_steps=steps, eval_every=every, checkpoint_every=every, device=device)
    return config_from_dict(TrainerConfig, defaults)


def ensure_trained(run_dir: Path, config: TranslateConfig, trainer: TrainerConfig,
                   data: Path | None) -> Path:  # fmt: skip
    """Train (or resume) the run until it has passed `max_steps`; that step's checkpoint."""
    latest = CheckpointManager(run_dir / "checkpoints").latest()
    if latest is None:
        train("translate", config, trainer, data=data, run_dir=run_dir)
    elif step_of(latest) < trainer.max_steps:
        resume(run_dir, overrides={"max_steps": trainer.max_steps})
    checkpoint = run_dir / "checkpoints" / f"step-{trainer.max_steps:08d}"
    if not checkpoint.is_dir():
        raise SystemExit(f"{checkpoint} is missing: make --steps a multiple of --eval-every")
    return checkpoint


def training_seconds(run_dir: Path, checkpoint: Path) -> float:
    """Wall time from the run's config.json to the checkpoint scored."""
    return (checkpoint / "state.json").stat().st_mtime - (run_dir / "config.json").stat().st_mtime


def score(
    run_dir: Path, checkpoint: Path, config: TranslateConfig, data: Path | None, beam: int
) -> dict:
    """Test BLEU / chrF of one checkpoint, greedy and with `beam`, plus sample outputs."""
    loaded = load_translator(run_dir, checkpoint=str(checkpoint))
    test = load_pairs(replace(config, eval_split="test"), data, "test")
    references = [[text] for text in test.targets]
    row = {"checkpoint": checkpoint.name, "train_s": training_seconds(run_dir, checkpoint)}
    for name, size in (("greedy", 1), (f"beam{beam}", beam)):
        outputs = translate(loaded, list(test.sources), beam_size=size)
        scores = corpus_scores([o.text for o in outputs], references)
        row[f"{name}_bleu"], row[f"{name}_chrf"] = scores["bleu"], scores["chrf"]
        row[f"{name}_samples"] = [outputs[k].text for k in SAMPLES]
    row["sources"] = [test.sources[k] for k in SAMPLES]
    row["references"] = [test.targets[k] for k in SAMPLES]
    return row


def print_table(rows: dict[str, dict], beam: int) -> None:
    """The bench table (Markdown) and the sample translations."""
    print(f"| model | train time | greedy BLEU | greedy chrF | beam {beam} BLEU | "
          f"beam {beam} chrF |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['train_s'] / 60:.1f} min | {row['greedy_bleu']:.2f} | "
              f"{row['greedy_chrf']:.2f} | {row[f'beam{beam}_bleu']:.2f} | "
              f"{row[f'beam{beam}_chrf']:.2f} |")  # fmt: skip
    last = list(rows)[-1]
    print(f"\nsamples ({last}, beam {beam}):")
    row = rows[last]
    for source, reference, output in zip(row["sources"], row["references"],
                                         row[f"beam{beam}_samples"], strict=True):  # fmt: skip
        print(f"  source     {source}\n  reference  {reference}\n  output     {output}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-seq2seq"))
    parser.add_argument("--configs", default="plain,reverse,attention")
    parser.add_argument("--steps", type=int, default=4530, help="updates (453 = one epoch)")
    parser.add_argument("--eval-every", type=int, default=906, help="validation and checkpoint")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", type=Path, default=None, help="translation_multi30k folder")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps, every = (300, 300) if args.quick else (args.steps, args.eval_every)
    rows = {}
    for name in args.configs.split(","):
        if name not in CONFIGS:
            parser.error(f"unknown config {name!r}; choose from {', '.join(CONFIGS)}")
        config = make_config(TranslateConfig, **CONFIGS[name], **(QUICK if args.quick else {}))
        run_dir = args.out / name
        trainer = trainer_config(steps, every, args.device)
        checkpoint = ensure_trained(run_dir, config, trainer, args.data)
        rows[name] = score(run_dir, checkpoint, config, args.data, args.beam)
        (run_dir / f"bench-{steps}.json").write_text(json.dumps(rows[name], indent=1))
        print(f"{name}: {json.dumps({k: v for k, v in rows[name].items() if 'bleu' in k})}",
              file=sys.stderr)  # fmt: skip
    print_table(rows, args.beam)
    return 0


if __name__ == "__main__":
    sys.exit(main())
