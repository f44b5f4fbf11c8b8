"""NER benchmark: entity F1 (seqeval) of BiLSTM-softmax and BiLSTM-CRF, ± char features, ± word2vec.

Usage:
    python -m bench.ner [--corpora conll2002_es,conll2002_nl,wnut17] [--models KEYS]
                        [--epochs N] [--lr η] [--device cpu|cuda] [--threads N]
                        [--word2vec PATH | --word2vec CORPUS=PATH ... | --word2vec glove-6b-50d]
                        [--optimizer adam|sgd] [--momentum μ] [--clip θ₀] [--dropout p]
                        [--batch-size B] [--casing] [--data-root ../shared/data] [--out FILE]
    python -m bench.ner --corpora wnut17 --models crf+chars+w2v --word2vec glove-6b-50d \
        --optimizer sgd --momentum 0 --lr 0.01 --clip 5 --dropout 0.5 --casing   # Lample's recipe
    python -m bench.ner --quick     # 2 epochs, small models: minutes per corpus on 2 cores

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
                   (glove-6b-50d: English GloVe 6B 50-d, E = 50; for WNUT-17 only)
    --casing       every row also reads the one-hot casing class of each word (all lower, all
                   caps, initial capital, digits, @mention, #hashtag, URL; models/tagger.py),
                   computed from the characters, so with the + chars rows only

--models takes the keys of MODELS and, with --word2vec, crf+w2v and crf+chars+w2v: naming one
of these runs only the rows named (otherwise --word2vec adds both to the rows of --models).
--optimizer sgd is plain SGD with momentum μ (default 0.9 of TrainerConfig; Lample et al. 2016
used η = 0.01, no momentum, clipping at 5, dropout 0.5, one sentence per update; here the loss
is the mean over the batch's words, so B = 1 is the closest match: --batch-size 1).

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

from rnnkit.config import make_config
from rnnkit.seeding import seed_everything
from rnnkit.tasks.ner.train import DATA_DIRS, NerConfig, build
from rnnkit.text.vocab import Vocab
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
    optimizer: str = "adam"  # or "sgd" (Lample et al. 2016)
    momentum: float = 0.9  # μ of SGD (TrainerConfig's default)
    casing: bool = False  # one-hot casing class of each word in x_t (char rows only)


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
    config = make_config(NerConfig,
        corpus=corpus, eval_split="test", embed_dim=bench.embed_dim,
        hidden_size=bench.hidden_size, char_hidden_size=bench.char_hidden_size,
        dropout=bench.dropout, batch_size=bench.batch_size,
        casing=bench.casing and options["char_features"], **options,
    )  # fmt: skip
    seed_everything(bench.seed)
    setup = build(config, data=args.data_root / DATA_DIRS[corpus], seed=bench.seed)
    if setup.model.config.casing:  # the casing classes read the char vocabulary
        setup.model.set_char_vocabulary(Vocab.from_dict(setup.artifacts["chars"]).tokens)
    steps = bench.epochs * setup.train_data.batches_per_epoch
    trainer_config = TrainerConfig(
        max_steps=steps, lr=bench.lr, clip_norm=bench.clip_norm, eval_every=0,
        optimizer=bench.optimizer, momentum=bench.momentum,
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


def select_models(keys: list[str], vectors: str | None) -> dict[str, tuple[str, dict]]:
    """key -> (label, NerConfig options) of the rows run on one corpus (module docstring)."""
    pretrained: dict[str, tuple[str, dict]] = {}
    if vectors is not None:
        for key in ("crf", "crf+chars"):
            label, options = MODELS[key]
            pretrained[f"{key}+w2v"] = (f"{label} + w2v", {**options, "word2vec": vectors})
    unknown = [key for key in keys if key not in MODELS and key not in pretrained]
    if unknown:
        hint = "" if vectors is not None else " (the +w2v rows need --word2vec for the corpus)"
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}{hint}")
    if any(key in pretrained for key in keys):  # rows named one by one
        return {key: MODELS.get(key) or pretrained[key] for key in keys}
    return {**{key: MODELS[key] for key in keys}, **pretrained}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", default="conll2002_es,conll2002_nl,wnut17")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model")
    parser.add_argument("--lr", type=float, default=None, help="η")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default=None)
    parser.add_argument("--momentum", type=float, default=None, help="μ of --optimizer sgd")
    parser.add_argument("--clip", type=float, default=None, help="θ₀ of global-norm clipping")
    parser.add_argument("--dropout", type=float, default=None, help="p on x_t and h_t")
    parser.add_argument("--batch-size", type=int, default=None, help="B sentences per update")
    parser.add_argument("--casing", action="store_true", help="casing classes (+ chars rows)")
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
    changes = {"optimizer": args.optimizer, "momentum": args.momentum, "clip_norm": args.clip,
               "dropout": args.dropout, "batch_size": args.batch_size}  # fmt: skip
    bench = replace(bench, **{k: v for k, v in changes.items() if v is not None})
    bench = replace(bench, casing=True) if args.casing else bench
    corpora = args.corpora.split(",")
    vectors = parse_word2vec(args.word2vec, corpora)
    print(f"# {' '.join(sys.argv)}\n# torch {torch.__version__}, {args.device}, {bench}")
    results = {}
    keys = args.models.split(",")
    for corpus in corpora:
        models = select_models(keys, vectors.get(corpus))
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
