"""Text classification benchmark: BoW + logistic regression against RNN, LSTM, GRU and BiLSTM.

Usage:
    python -m bench.classify [--datasets rt_polarity,movie_reviews,sms_spam] [--folds K]
                             [--models bow,rnn,lstm,gru,bilstm] [--device cpu|cuda]
                             [--word2vec VECTORS.txt | glove-6b-50d] [--freeze]
                             [--epochs N] [--lr η] [--dropout p] [--embed-dim E]
                             [--data-root ../shared/data] [--out FILE]
    python -m bench.classify --quick     # one fold, 1-2 epochs, E = H = 64: minutes on 2 cores

Data (`../shared/data`, see its README §2a, §2b, §3), read by `rnnkit.datasets.labelled_text`:
    rt_polarity    10,662 sentences; stratified 10-fold cross-validation (split seed 0); --folds K
                   runs folds 0 … K−1 of the 10 and reports the mean (and sd) over those K
    movie_reviews  2,000 reviews; the authors' cv index (fold = cvNNN // 100): train on 9 folds,
                   test on 1; --folds K runs the first K of the 10. For the recurrent models
                   a review is cut to its last `mr_max_tokens` tokens, where reviews tend to
                   give their verdict (BoW reads it whole)
    sms_spam       5,574 messages; one stratified 80/20 split (fold 0 of 5, split seed 0)

Every model trains through `rnnkit.tasks.classify.train.build` and the rnnkit Trainer, Adam with a
cosine decay to η/10 over a fixed number of epochs, no early stopping and no model selection
on the test fold: the figures are those of the last step. The vocabulary comes from the
training folds only (words seen `min_freq` = 2 times or more; the others are <unk>).

    BoW+LR   tf-idf (sublinear tf, l2-normalised) → logistic regression   (models/bow_classifier)
    RNN/LSTM/GRU   embedding (E) → one recurrent layer (H) → pooling over the real steps → linear
    BiLSTM   the same LSTM, both directions (D = 2)
    + w2v    the embedding initialised from --word2vec vectors (a word2vec text file, or
             glove-6b-50d: GloVe 6B 50-d from the `glove` extra, which sets E = 50), trained on
    + w2v frozen   the same start, kept fixed (--freeze adds these rows; Kim 2014's "static")

--models takes the keys of MODELS and, with --word2vec, lstm+w2v, bilstm+w2v, lstm+w2v-frozen
and bilstm+w2v-frozen: naming any of these runs only the rows named (otherwise --word2vec adds
the LSTM and BiLSTM + w2v rows, and --freeze their frozen twins, to the rows of --models).
--epochs, --lr, --dropout and --embed-dim replace BenchConfig's values for every row run.

Printed per dataset: test accuracy, macro F1, F1 of the spam class (SMS), and the training
seconds per fold on this machine (the evaluation pass excluded).

References (the targets of issue 9):
    Kim. Convolutional Neural Networks for Sentence Classification. EMNLP 2014 (MR: CNN-rand
        76.1 %, CNN-static with word2vec 81.0 %, CNN-nonstatic 81.5 %; NBSVM 79.4 % from
        Wang & Manning 2012).
    Pang & Lee. A Sentimental Education. ACL 2004 (full reviews: 87.1 % with an SVM on unigrams).
    Almeida, Gómez Hidalgo & Yamakami. Contributions to the Study of SMS Spam Filtering. DocEng
        2011 (the SMS collection; the targets ≥ 98 % accuracy and spam F1 ≥ 0.92 are issue 9's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from rnnkit.config import make_config
from rnnkit.seeding import seed_everything
from rnnkit.tasks.classify.train import DATA_DIRS, ClassifyConfig, build
from rnnkit.training import Trainer, TrainerConfig


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """Hyper-parameters shared by every row (a model's own options are in MODELS)."""

    embed_dim: int = 128  # E
    hidden_size: int = 128  # H per direction
    pooling: str = "mean"  # over the real steps
    dropout: float = 0.5  # on the embeddings and on the pooled vector
    batch_size: int = 32  # B
    min_freq: int = 2  # rarer training words become <unk> (1 measured 0.9 points lower, rt fold 0)
    lr: float = 2e-3  # η of the recurrent models (Adam, cosine to η/10)
    bow_lr: float = 2e-2  # η of logistic regression
    clip_norm: float = 5.0  # θ₀ of global-norm clipping
    epochs: tuple[tuple[str, int], ...] = (
        ("rt_polarity", 4), ("movie_reviews", 10), ("sms_spam", 4),
    )  # fmt: skip
    mr_max_tokens: int = 400  # the last tokens of each full review (recurrent models only)
    seed: int = 0  # training seed (init, dropout, batch order)


QUICK = BenchConfig(embed_dim=64, hidden_size=64, mr_max_tokens=150,
                    epochs=(("rt_polarity", 1), ("movie_reviews", 2), ("sms_spam", 2)))  # fmt: skip
MODELS = {
    "bow": ("BoW+LR (tf-idf)", {"model": "bow"}),
    "rnn": ("RNN", {"model": "rnn"}),
    "lstm": ("LSTM", {"model": "lstm"}),
    "gru": ("GRU", {"model": "gru"}),
    "bilstm": ("BiLSTM", {"model": "lstm", "bidirectional": True}),
}
FOLDS = {"rt_polarity": 10, "movie_reviews": 10, "sms_spam": 5}


def run_one(
    bench: BenchConfig, dataset: str, fold: int, options: dict, args: argparse.Namespace
) -> dict[str, float]:
    """Train one model on one fold; its test metrics and training seconds."""
    is_bow = options.get("model") == "bow"
    config = make_config(ClassifyConfig,
        dataset=dataset, folds=FOLDS[dataset], fold=fold, embed_dim=bench.embed_dim,
        hidden_size=bench.hidden_size, pooling=bench.pooling, dropout=bench.dropout,
        batch_size=bench.batch_size, min_freq=bench.min_freq,
        max_tokens=bench.mr_max_tokens if dataset == "movie_reviews" and not is_bow else None,
        keep="last", **options,
    )  # fmt: skip
    seed_everything(bench.seed)
    setup = build(config, data=args.data_root / DATA_DIRS[dataset], seed=bench.seed)
    epochs = dict(bench.epochs)[dataset]
    steps = epochs * setup.train_data.batches_per_epoch
    lr = bench.bow_lr if is_bow else bench.lr
    trainer_config = TrainerConfig(
        max_steps=steps, lr=lr, schedule="cosine", min_lr=lr / 10, clip_norm=bench.clip_norm,
        eval_every=0, checkpoint_every=0, quiet=True, device=args.device,
        precision=args.precision, seed=bench.seed, log_every=max(steps, 1),
    )  # fmt: skip
    trainer = Trainer(
        setup.model, setup.objective, setup.train_data, config=trainer_config,
        eval_data=setup.eval_data, handle_signals=False,
    )  # fmt: skip
    trainer.eval_data = None  # fit() trains only; the test fold is evaluated once, below
    synchronize = torch.cuda.synchronize if trainer.device.type == "cuda" else lambda: None
    synchronize()
    started = time.perf_counter()
    trainer.fit()
    synchronize()
    seconds = time.perf_counter() - started
    trainer.eval_data = setup.eval_data
    metrics = trainer.evaluate()
    return {**{k.removeprefix("val_"): v for k, v in metrics.items()}, "seconds": seconds}


def summarise(rows: list[dict[str, float]], key: str) -> str:
    """mean (± sd over folds when there are several) of one metric, as a percentage."""
    values = [100 * row[key] for row in rows]
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def overridden(bench: BenchConfig, args: argparse.Namespace) -> BenchConfig:
    """`bench` with the values given by --epochs, --lr, --dropout and --embed-dim."""
    changes: dict = {}
    if args.epochs is not None:
        changes["epochs"] = tuple((name, args.epochs) for name, _ in bench.epochs)
    for name in ("lr", "dropout", "embed_dim"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return replace(bench, **changes)


def select_models(keys: list[str], vectors: str | None, *, freeze: bool) -> dict[str, tuple]:
    """key -> (label, ClassifyConfig options) of the rows to run (see the module docstring)."""
    pretrained: dict[str, tuple] = {}
    if vectors is not None:
        for key in ("lstm", "bilstm"):
            label, options = MODELS[key]
            name = Path(vectors).name
            pretrained[f"{key}+w2v"] = (f"{label} + {name}", {**options, "pretrained": vectors})
            pretrained[f"{key}+w2v-frozen"] = (
                f"{label} + {name} frozen",
                {**options, "pretrained": vectors, "freeze_embedding": True},
            )
    unknown = [key for key in keys if key not in MODELS and key not in pretrained]
    if unknown:
        hint = "" if vectors is not None else " (the +w2v rows need --word2vec)"
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}{hint}")
    if any(key in pretrained for key in keys):  # rows named one by one
        return {key: MODELS.get(key) or pretrained[key] for key in keys}
    models = {key: MODELS[key] for key in keys}
    for key, row in pretrained.items():
        if freeze or not key.endswith("-frozen"):
            models[key] = row
    return models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="rt_polarity,movie_reviews,sms_spam")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--folds", type=int, default=None, help="folds run (default: all)")
    parser.add_argument(
        "--start-fold", type=int, default=0,
        help="first fold run: folds S … S+K−1 (split a K-fold run over processes; merge --out)",
    )  # fmt: skip
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--word2vec", default=None,
        help="pretrained vectors: a word2vec/GloVe file, or glove-6b-50d (extra `glove`)",
    )  # fmt: skip
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None, help="write all results as JSON")
    parser.add_argument("--quick", action="store_true", help="1 fold, few epochs, small models")
    parser.add_argument(
        "--freeze", action="store_true",
        help="with --word2vec: also the rows whose pretrained embedding stays fixed",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=None, help="epochs, every dataset")
    parser.add_argument("--lr", type=float, default=None, help="η of the recurrent models")
    parser.add_argument("--dropout", type=float, default=None, help="p on embeddings, pooled")
    parser.add_argument("--embed-dim", type=int, default=None, help="E (random-init rows)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bench = overridden(QUICK if args.quick else BenchConfig(), args)
    models = select_models(args.models.split(","), args.word2vec, freeze=args.freeze)
    folds_run = 1 if args.quick and args.folds is None else args.folds
    print(
        f"# {' '.join(sys.argv)}\n# torch {torch.__version__}, {args.device}, {bench}", flush=True
    )
    results = {}
    for dataset in args.datasets.split(","):
        folds = 1 if dataset == "sms_spam" else min(folds_run or FOLDS[dataset], FOLDS[dataset])
        epochs = dict(bench.epochs)[dataset]
        start = f" from fold {args.start_fold}" if args.start_fold else ""
        print(f"\n## {dataset}: {folds} fold(s){start}, {epochs} epoch(s)", flush=True)
        spam = dataset == "sms_spam"
        print(
            "| model | accuracy % | macro F1 % |"
            + (" spam F1 |" if spam else "")
            + " train s/fold |"
        )
        print("|---|---|---|" + ("---|" if spam else "") + "---|", flush=True)
        for key, (label, options) in models.items():
            if not 0 <= args.start_fold < FOLDS[dataset]:
                raise SystemExit(f"--start-fold must be in [0, {FOLDS[dataset]}) for {dataset}")
            fold_ids = range(args.start_fold, min(args.start_fold + folds, FOLDS[dataset]))
            rows = []
            for fold in fold_ids:  # a line per fold, so that a cut-short run still tells
                rows.append(run_one(bench, dataset, fold, options, args))
                print(f"# {key} fold {fold}: accuracy {100 * rows[-1]['accuracy']:.2f} %,"
                      f" {rows[-1]['seconds']:.1f} s", flush=True)  # fmt: skip
            results[f"{dataset}/{key}"] = rows
            cells = [summarise(rows, "accuracy"), summarise(rows, "f1_macro")]
            if spam:
                cells.append(f"{rows[0]['f1_spam']:.4f}")
            seconds = statistics.mean(row["seconds"] for row in rows)
            print(f"| {label} | " + " | ".join(cells) + f" | {seconds:.1f} |", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps({"bench": asdict(bench), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
