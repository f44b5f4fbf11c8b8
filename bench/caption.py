"""Captioning benchmark: Flickr8k-subset test BLEU of the two conditioning methods, and baselines.

Usage:
    python -m bench.caption [--out DIR] [--steps N] [--beam 3] [--threads N] [--data DIR]
                            [--models init every_step pretrained frozen] [--pretrain-steps N]
    python -m bench.caption --quick      # 60 updates of tiny models: a smoke run

Each model row trains `rnnkit train caption` on the 420 training images of the Flickr8k subset
(2,100 captions; a CNN from scratch on 64 × 64 images, an LSTM decoder, E = H = F = 256, Adam
1e-3, B = 32, random left–right flips) for the same number of updates, keeps the checkpoint with
the best dev BLEU-4 (113 dev images, scored every 5 epochs: the set is small and the model
overfits), then captions the 125 test images once with it, greedily and by beam search, and
scores corpus BLEU-1 and BLEU-4 against all five references of each image (lower-cased,
tokenised; sacrebleu).

    init          v is the decoder's first input x_0 = W_v v (Vinyals et al. 2015)
    every_step    v enters every step through its own weight, W_ih [x_t ; v]  (the lecture)
    pretrained    every_step, v also in the output layer (W_out [h_t ; v], `condition_output`),
                  v ← LayerNorm(v), and the CNN first pretrained (`--pretrain-steps`
                  updates) to predict the 300 most common content words of each image's
                  captions (multi-label BCE, random crops and flips) on the 420 training images
                  and all 159 COCO-mini images; then fine-tuned by the caption loss
    frozen        the same, with the pretrained convolutions kept fixed while captioning

Baselines in the same run, so the numbers mean something on a set this small:
    most frequent   the most frequent training caption, for every test image
    NN pixels       the caption of the nearest training image by the cosine of 16 × 16 thumbnails
    NN features     the same with the trained "init" model's image vectors v
    NN pretrained   the same with the "pretrained" model's v (when that row is trained)
Both nearest-neighbour rows answer with the consensus caption of the neighbour: the one of its
five with the highest BLEU against the other four (Devlin et al. 2015).

References:
    Vinyals, Toshev, Bengio, Erhan. Show and Tell: A Neural Image Caption Generator. CVPR 2015.
    Devlin, Gupta, Girshick, Mitchell, Zitnick. Exploring Nearest Neighbor Approaches for
        Image Captioning. arXiv:1505.04467, 2015.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import torch
import torch.nn.functional as F

from rnnkit.config import config_from_dict, make_config
from rnnkit.datasets.captions import CaptionSet, caption_tokenize
from rnnkit.tasks.caption import train as caption_task
from rnnkit.tasks.caption.captioner import load_captioner
from rnnkit.tasks.caption.train import (
    CaptionConfig,
    caption_bleu,
    caption_text,
    load_inputs,
    load_split,
)
from rnnkit.tasks.registry import resume, train
from rnnkit.training import TrainerConfig
from rnnkit.training.checkpoint import step_of
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.text_metrics import bleu_up_to

PRETRAINED = {"feature_norm": "layer", "conditioning": "every_step", "condition_output": True}
MODELS = {  # row name -> CaptionConfig fields (pretrain_steps added from --pretrain-steps)
    "init": {"conditioning": "init"},
    "every_step": {"conditioning": "every_step"},
    "pretrained": PRETRAINED,
    "frozen": {**PRETRAINED, "freeze_cnn": True},
}
LABELS = {
    "init": "init (Show and Tell: v as x_0)",
    "every_step": "every_step (W_ih [x_t ; v])",
    "pretrained": "pretrained CNN, fine-tuned; every_step + W_out [h_t ; v], LayerNorm v",
    "frozen": "pretrained CNN, frozen; every_step + W_out [h_t ; v], LayerNorm v",
}
QUICK = {"image_size": 32, "cnn_width": 4, "feature_size": 32, "embed_dim": 32, "hidden_size": 32}


def ensure_trained(run_dir: Path, config: CaptionConfig, steps: int, data: Path | None) -> Path:
    """Train (or resume) until step `steps`; the checkpoint of the best dev BLEU-4 on the way."""
    latest = CheckpointManager(run_dir / "checkpoints").latest()
    if latest is None:
        defaults = dict(caption_task.TRAINER_DEFAULTS)
        every = min(defaults["eval_every"], steps)
        defaults.update(max_steps=steps, eval_every=every, checkpoint_every=every)
        train("caption", config, config_from_dict(TrainerConfig, defaults), data=data,
              run_dir=run_dir)  # fmt: skip
    elif step_of(latest) < steps:
        resume(run_dir, overrides={"max_steps": steps})
    return CheckpointManager(run_dir / "checkpoints").best()


def model_rows(run_dir: Path, checkpoint: Path, test: CaptionSet, pixels: torch.Tensor,
               beam: int) -> dict[str, dict]:  # fmt: skip
    """BLEU-1 / BLEU-4 of greedy and beam captions, with samples."""
    loaded = load_captioner(run_dir, checkpoint=str(checkpoint))
    seconds = (checkpoint / "state.json").stat().st_mtime - (
        run_dir / "config.json"
    ).stat().st_mtime
    run_config = json.loads((run_dir / "config.json").read_text())
    seconds += run_config.get("pretrain", {}).get("seconds", 0.0)  # before config.json
    references = [item.captions for item in test.items]
    rows = {}
    for name, size in (("greedy", 1), (f"beam {beam}", beam)):
        found = loaded.model.caption(pixels, beam_size=size, max_length=loaded.config.max_length)
        outputs = [caption_text(best[0].tokens, loaded.vocab) for best in found]
        rows[name] = {**caption_bleu(outputs, references), "train_s": seconds,
                      "distinct": len(set(outputs)), "samples": outputs[:4]}  # fmt: skip
    return rows


def consensus(captions: tuple[str, ...]) -> str:
    """The caption with the highest BLEU against the image's other captions (tokenised)."""
    tokenized = [" ".join(caption_tokenize(c)) for c in captions]
    scores = [bleu_up_to([c], [[o for o in tokenized if o is not c]], 4) for c in tokenized]
    return tokenized[max(range(len(tokenized)), key=scores.__getitem__)]


def nearest_captions(train_vectors: torch.Tensor, test_vectors: torch.Tensor,
                     train: CaptionSet) -> list[str]:  # fmt: skip
    """For each test vector, the consensus caption of the training image of highest cosine."""
    similarity = F.normalize(test_vectors, dim=-1) @ F.normalize(train_vectors, dim=-1).T
    return [consensus(train.items[int(k)].captions) for k in similarity.argmax(dim=-1)]


def encoder_vectors(run_dir: Path, checkpoint: Path,
                    pixels: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:  # fmt: skip
    """The image vectors v of a trained run's encoder, for each batch of pixels."""
    encoder = load_captioner(run_dir, checkpoint=str(checkpoint)).model.encoder
    with torch.no_grad():
        return [encoder(p) for p in pixels]


def baseline_rows(train: CaptionSet, test: CaptionSet, train_pixels: torch.Tensor,
                  test_pixels: torch.Tensor,
                  checkpoints: dict[str, tuple[Path, Path]]) -> dict[str, dict]:  # fmt: skip
    """Most frequent caption and nearest-neighbour captions, scored like the models."""
    references = [item.captions for item in test.items]
    counts = Counter(" ".join(caption_tokenize(c)) for item in train.items for c in item.captions)
    frequent, _ = counts.most_common(1)[0]
    thumbnails = [F.adaptive_avg_pool2d(p, 16).flatten(1) for p in (train_pixels, test_pixels)]
    outputs = {
        "most frequent": [frequent] * len(test),
        "NN pixels": nearest_captions(*thumbnails, train),
    }
    for model, name in (("init", "NN features"), ("pretrained", "NN pretrained")):
        if model in checkpoints:
            vectors = encoder_vectors(*checkpoints[model], (train_pixels, test_pixels))
            outputs[name] = nearest_captions(*vectors, train)
    return {name: {**caption_bleu(rows, references), "distinct": len(set(rows)),
                   "samples": rows[:4]} for name, rows in outputs.items()}  # fmt: skip


def print_tables(rows: dict[str, dict], test: CaptionSet) -> None:
    """The Markdown table and a few captions next to a reference."""
    print(f"| model | decoding | train time | BLEU-1 | BLEU-4 | distinct captions of {len(test)} |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        model, _, decoding = name.partition(" / ")
        time = f"{row['train_s'] / 60:.1f} min" if "train_s" in row else "–"
        print(f"| {model} | {decoding or '–'} | {time} | {row['bleu_1']:.2f} | "
              f"{row['bleu_4']:.2f} | {row['distinct']} |")  # fmt: skip
    print("\nsamples (first four test images):")
    for k, item in enumerate(test.items[:4]):
        print(f"  {item.image}\n    reference  {item.captions[0]}")
        for name, row in rows.items():
            print(f"    {name:<22} {row['samples'][k]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-caption"))
    parser.add_argument("--steps", type=int, default=1300, help="updates (65 = one epoch)")
    parser.add_argument("--beam", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--data", type=Path, default=None, help="captioning_flickr8k folder")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", choices=tuple(MODELS), default=list(MODELS))
    parser.add_argument("--pretrain-steps", type=int, default=600,
                        help="multi-label pretraining updates of the pretrained rows")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = 60 if args.quick else args.steps
    base = make_config(CaptionConfig, **(QUICK if args.quick else {}))
    train_set, test = load_split(base, args.data, "train"), load_split(base, args.data, "test")
    train_pixels, test_pixels = load_inputs(base, train_set), load_inputs(base, test)
    rows: dict[str, dict] = {}
    checkpoints = {}
    for model in args.models:
        quick = QUICK if args.quick else {}
        fields = dict(MODELS[model])
        if model in ("pretrained", "frozen"):
            fields["pretrain_steps"] = 20 if args.quick else args.pretrain_steps
        config = make_config(CaptionConfig, **quick, **fields)
        run_dir = args.out / model  # init/, every_step/ as before
        checkpoints[model] = (run_dir, ensure_trained(run_dir, config, steps, args.data))
        for decoding, row in model_rows(*checkpoints[model], test, test_pixels,
                                        args.beam).items():  # fmt: skip
            rows[f"{LABELS[model]}, step {step_of(checkpoints[model][1])} / {decoding}"] = row
    rows.update(baseline_rows(train_set, test, train_pixels, test_pixels, checkpoints))
    for model, (_, checkpoint) in checkpoints.items():
        print(f"{model}: scored {checkpoint.name}", file=sys.stderr)
    (args.out / f"bench-{steps}.json").write_text(json.dumps(rows, indent=1))
    print_tables(rows, test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
