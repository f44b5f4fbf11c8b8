"""NER benchmark: entity F1 (seqeval) of BiLSTM-softmax and BiLSTM-CRF, ± char features, ± word2vec.

Usage:
    python bench/ner.py [--corpora conll2002_es,conll2002_nl,wnut17] [--models KEYS]
                        [--epochs N] [--lr η] [--device cpu|cuda] [--threads N]
                        [--word2vec PATH | --word2vec CORPUS=PATH ...] [--data-root ../shared/data]
                        [--out FILE]
    python bench/ner.py --quick     # 2 epochs, small models: minutes per corpus on 2 cores

Data (`../shared/data`, its README §4a, §4b), read by `rnnkit.datasets.conll`: CoNLL-2002
Spanish and Dutch (train → testb) and WNUT-17 (train → test). Every model trains through
`rnnkit.tasks.ner.train.build` and the rnnkit Trainer: Adam, global-norm clipping at 5, a fixed
number of epochs, tags in BIOES, the vocabulary of the training split only. No early stopping
and no model selection on the test split: the figures are those of the last step, scored once
on the test split as the CoNLL script does (seqeval, entity-level micro P / R / F1).

    softmax        word embedding (E) → BiLSTM (H per direction) → linear → softmax per word
    CRF            the same, with a linear-chain CRF on top (forward algorithm, Viterbi)
    + chars        a char BiLSTM's final states (2·H_c) concatenated to each word's embedding
    + w2v          the embedding initialised from --word2vec vectors of that corpus' language

References (the targets of issue 10):
    Lample et al. NAACL 2016, Table 1–2: LSTM-CRF with char features and pretrained embeddings,
        CoNLL-2002 Spanish 85.75 F1, Dutch 81.74 F1.
    Derczynski et al. W-NUT 2017: shared-task systems scored about 40 entity F1 on WNUT-17.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from rnnkit.seeding import seed_everything
from rnnkit.tasks.ner.train import DATA_DIRS, NerConfig, build
from rnnkit.training import Trainer, TrainerConfig


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """Hyper-parameters shared by every row (a model's own options are in MODELS)."""

    embed_dim: int = 100  # E (Lample et al. 2016)
    hidden_size: int = 100  # H per direction
    char_hidden_size: int = 25  # H_c per direction
    dropout: float = 0.5
    batch_size: int = 32  # B sentences
    lr: float = 2e-3  # η, Adam
    clip_norm: float = 5.0  # θ₀
    epochs: int = 20
    seed: int = 0


QUICK = BenchConfig(embed_dim=50, hidden_size=50, char_hidden_size=16, epochs=2)
MODELS = {
    "softmax": ("BiLSTM-softmax", {"crf": False, "char_features": False}),
    "softmax+chars": ("BiLSTM-softmax + chars", {"crf": False, "char_features": True}),
    "crf": ("BiLSTM-CRF", {"crf": True, "char_features": False}),
    "crf+chars": ("BiLSTM-CRF + chars", {"crf": True, "char_features": True}),
}


def run_one(
    bench: BenchConfig, corpus: str, options: dict, args: argparse.Namespace
) -> dict[str, float]:
    """Train one model on one corpus; its test-split scores and training seconds."""
    config = NerConfig(
        corpus=corpus, eval_split="test", embed_dim=bench.embed_dim,
        hidden_size=bench.hidden_size, char_hidden_size=bench.char_hidden_size,
        dropout=bench.dropout, batch_size=bench.batch_size, **options,
    )  # fmt: skip
    seed_everything(bench.seed)
    setup = build(config, data=args.data_root / DATA_DIRS[corpus], seed=bench.seed)
    steps = bench.epochs * setup.train_data.batches_per_epoch
    trainer_config = TrainerConfig(
        max_steps=steps, lr=bench.lr, clip_norm=bench.clip_norm, eval_every=0,
        checkpoint_every=0, quiet=True, device=args.device, precision="fp32",
        seed=bench.seed, log_every=max(steps, 1),
    )  # fmt: skip
    trainer = Trainer(
        setup.model, setup.objective, setup.train_data, config=trainer_config,
        eval_data=None, handle_signals=False,
    )  # fmt: skip
    synchronize = torch.cuda.synchronize if trainer.device.type == "cuda" else lambda: None
    synchronize()
    started = time.perf_counter()
    trainer.fit()
    synchronize()
    seconds = time.perf_counter() - started
    trainer.eval_data = setup.eval_data
    metrics = trainer.evaluate()
    return {**{k.removeprefix("val_"): v for k, v in metrics.items()}, "seconds": seconds,
            "steps": steps}  # fmt: skip


def parse_word2vec(values: list[str], corpora: list[str]) -> dict[str, str]:
    """--word2vec PATH (every corpus) or CORPUS=PATH, repeated: the vectors of each corpus."""
    paths: dict[str, str] = {}
    for value in values:
        corpus, _, path = value.rpartition("=") if "=" in value else ("", "", value)
        for name in [corpus] if corpus else corpora:
            paths[name] = path
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", default="conll2002_es,conll2002_nl,wnut17")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model")
    parser.add_argument("--lr", type=float, default=None, help="η of Adam")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--word2vec", action="append", default=[], metavar="[CORPUS=]PATH",
                        help="word2vec vectors: adds the + w2v rows")  # fmt: skip
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None, help="write all results as JSON")
    parser.add_argument("--quick", action="store_true", help="2 epochs, small models")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bench = QUICK if args.quick else BenchConfig()
    bench = replace(bench, epochs=args.epochs) if args.epochs else bench
    bench = replace(bench, lr=args.lr) if args.lr else bench
    corpora = args.corpora.split(",")
    vectors = parse_word2vec(args.word2vec, corpora)
    print(f"# {' '.join(sys.argv)}\n# torch {torch.__version__}, {args.device}, {bench}")
    results = {}
    for corpus in corpora:
        models = {key: MODELS[key] for key in args.models.split(",")}
        if corpus in vectors:
            for key in ("crf", "crf+chars"):
                label, options = MODELS[key]
                models[f"{key}+w2v"] = (f"{label} + w2v", {**options, "word2vec": vectors[corpus]})
        print(f"\n## {corpus}: {bench.epochs} epoch(s), test split", flush=True)
        print("| model | F1 % | P % | R % | train s |\n|---|---:|---:|---:|---:|", flush=True)
        for key, (label, options) in models.items():
            row = run_one(bench, corpus, options, args)
            results[f"{corpus}/{key}"] = row
            scores = " | ".join(f"{100 * row[k]:.2f}" for k in ("f1", "precision", "recall"))
            print(f"| {label} | {scores} | {row['seconds']:.0f} |", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps({"bench": asdict(bench), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
