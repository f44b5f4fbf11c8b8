"""NER benchmark: entity F1 (seqeval) of BiLSTM-softmax and BiLSTM-CRF, ± char features, ± word2vec.

Usage:
    python -m bench.ner [--corpora conll2002_es,conll2002_nl,wnut17] [--models KEYS]
                        [--epochs N] [--lr η] [--device cpu|cuda] [--threads N]
                        [--word2vec PATH | --word2vec CORPUS=PATH ... | --word2vec glove-6b-50d]
                        [--optimizer adam|sgd] [--momentum μ] [--clip θ₀] [--dropout p]
                        [--batch-size B] [--casing] [--data-root ../shared/data] [--out FILE]
                        [--select last|dev] [--average E0] [--lr-schedule constant|cosine]
                        [--unk-rate p] [--char-hidden H_c]
    python -m bench.ner --corpora wnut17 --models crf+chars+w2v --word2vec glove-6b-50d \
        --optimizer sgd --momentum 0 --lr 0.01 --clip 5 --dropout 0.5 --casing   # Lample's recipe
    python -m bench.ner --quick     # 2 epochs, small models: minutes per corpus on 2 cores

Data (`../shared/data`, its README §4a, §4b), read by `rnnkit.datasets.conll`: CoNLL-2002
Spanish and Dutch (train → testb) and WNUT-17 (train → test). Every model trains through
`rnnkit.tasks.ner.train.build` and the rnnkit Trainer: Adam, global-norm clipping at 5, a fixed
number of epochs, tags in BIOES, the vocabulary of the training split only. No early stopping
and no model selection on the test split: the figures are those of the last step, scored once
on the test split as the CoNLL script does (seqeval, entity-level micro P / R / F1).

Training remedies (issue 28), all through the Trainer's own features:
    --select dev    evaluate the dev split (CoNLL-2002 testa, WNUT-17 dev) after every epoch,
                    keep the checkpoint of the best dev F1 and score that one once on the test
                    split (early stopping on dev as Lample et al. 2016); the table adds the
                    chosen epoch and its dev F1
    --average E0    from the end of epoch E0 on, the running average w̄ of the weights of every
                    later update (Polyak & Juditsky 1992; SWA, Izmailov et al. 2018), the
                    Updater's AveragedModel that NT-ASGD uses; evaluations and scores use w̄
    --lr-schedule cosine   η decays to 0 over the run (TrainerConfig.schedule, SGDR's cosine)
    --unk-rate p    probability of feeding a training singleton as <unk> (NerConfig.unk_rate)

    softmax        word embedding (E) → BiLSTM (H per direction) → linear → softmax per word
    CRF            the same, with a linear-chain CRF on top (forward algorithm, Viterbi)
    + chars        a char BiLSTM's final states (2·H_c) concatenated to each word's embedding
    + w2v          the embedding initialised from --word2vec vectors of that corpus' language
                   (glove-6b-50d: English GloVe 6B 50-d, E = 50; for WNUT-17 only)
    --casing       every row also reads the one-hot casing class of each word (all lower, all
                   caps, initial capital, digits, @mention, #hashtag, URL; models/tagger.py),
                   computed from the characters, so with the + chars rows only

--models takes the keys of MODELS and, with --word2vec, crf+w2v and crf+chars+w2v (and their
-frozen rows, the pretrained embedding kept fixed: NerConfig.freeze_embedding): naming one of
these runs only the rows named (otherwise --word2vec adds the two unfrozen ones to the rows of
--models).
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
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import load_file

from rnnkit.config import make_config
from rnnkit.seeding import seed_everything
from rnnkit.tasks.ner.train import DATA_DIRS, NerConfig, build
from rnnkit.text.vocab import Vocab
from rnnkit.training import Trainer, TrainerConfig
from rnnkit.training.state_dicts import load_model_tensors


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
    unk_rate: float = 0.5  # p of feeding a training singleton as <unk> (NerConfig)
    select: str = "last"  # "dev": the best-dev-F1 epoch's weights are scored on test
    average_from: int | None = None  # E₀: average the iterates of every update after epoch E₀
    schedule: str = "constant"  # η over the steps: TrainerConfig.schedule ("cosine", ...)


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
    """Train one model on one corpus; its test-split scores and training seconds.

    With `bench.select == "dev"` the Trainer evaluates the dev split (CoNLL-2002 testa) after
    every epoch and keeps the checkpoint of the best dev F1 (monitor val_f1, mode max); those
    weights are scored once on the test split (early stopping on dev, Lample et al. 2016 §5).
    With `bench.average_from = E₀` the Trainer's Polyak/SWA average (`TrainerConfig.average_from`
    = E₀ × batches per epoch, the AveragedModel NT-ASGD uses, `rnnkit.training.averaging`) starts
    after epoch E₀ and runs over every later update, w̄ = (1/N) Σ w_i (Polyak & Juditsky 1992;
    Izmailov et al. 2018); evaluations, the best checkpoint and the final scores then use w̄.
    """
    config = make_config(NerConfig,
        corpus=corpus, eval_split="test", embed_dim=bench.embed_dim,
        hidden_size=bench.hidden_size, char_hidden_size=bench.char_hidden_size,
        dropout=bench.dropout, batch_size=bench.batch_size, unk_rate=bench.unk_rate,
        casing=bench.casing and options["char_features"], **options,
    )  # fmt: skip
    root = args.data_root / DATA_DIRS[corpus]
    select_dev = bench.select == "dev"
    if select_dev:  # the test batches of a build of its own, before the seeded one
        test_data = build(config, data=root, seed=bench.seed).eval_data
        config = replace(config, eval_split="dev")
    seed_everything(bench.seed)
    setup = build(config, data=root, seed=bench.seed)
    if setup.model.config.casing:  # the casing classes read the char vocabulary
        setup.model.set_char_vocabulary(Vocab.from_dict(setup.artifacts["chars"]).tokens)
    per_epoch = setup.train_data.batches_per_epoch
    steps = bench.epochs * per_epoch
    trainer_config = TrainerConfig(
        max_steps=steps, lr=bench.lr, clip_norm=bench.clip_norm,
        eval_every=per_epoch if select_dev else 0, monitor="val_f1", monitor_mode="max",
        optimizer=bench.optimizer, momentum=bench.momentum, schedule=bench.schedule,
        checkpoint_every=0, keep_last=1, keep_best=select_dev, quiet=True,
        device=args.device, precision="fp32", seed=bench.seed, log_every=max(steps, 1),
        average_from=None if bench.average_from is None else bench.average_from * per_epoch,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-ner-") as run_dir:
        trainer = Trainer(
            setup.model, setup.objective, setup.train_data, config=trainer_config,
            eval_data=setup.eval_data if select_dev else None, handle_signals=False,
            run_dir=run_dir if select_dev else None,
        )  # fmt: skip
        synchronize = torch.cuda.synchronize if trainer.device.type == "cuda" else lambda: None
        synchronize()
        started = time.perf_counter()
        trainer.fit()
        synchronize()
        seconds = time.perf_counter() - started
        extra: dict[str, float] = {}
        if select_dev:
            dev_f1 = trainer.history.history["val_f1"]  # one per epoch
            best = trainer.checkpoints.best()
            best_step, best_f1 = trainer.history.best("val_f1", mode="max")
            assert trainer.loop.best_step == best_step, "the best checkpoint is the best epoch's"
            extra = {"best_epoch": best_step // per_epoch, "best_dev_f1": best_f1}
            extra["dev_f1_by_epoch"] = dev_f1  # type: ignore[assignment]
            weights = load_file(str(best / "model.safetensors"))
            trainer.updater.average = None  # the checkpoint's model weights are w̄ already
            load_model_tensors(trainer.model, weights, source=best / "model.safetensors")
            trainer.eval_data = test_data
        else:
            trainer.eval_data = setup.eval_data
        metrics = trainer.evaluate()
    return {**{k.removeprefix("val_"): v for k, v in metrics.items()}, "seconds": seconds,
            "steps": steps, **extra}  # fmt: skip


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
    frozen = {f"{key}-frozen": (f"{label} (frozen)", {**options, "freeze_embedding": True})
              for key, (label, options) in pretrained.items()}  # fmt: skip
    named = {**pretrained, **frozen}
    unknown = [key for key in keys if key not in MODELS and key not in named]
    if unknown:
        hint = "" if vectors is not None else " (the +w2v rows need --word2vec for the corpus)"
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}{hint}")
    if any(key in named for key in keys):  # rows named one by one
        return {key: MODELS.get(key) or named[key] for key in keys}
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
    parser.add_argument("--select", choices=("last", "dev"), default=None,
                        help="dev: score the best-dev-F1 epoch on test, not the last")  # fmt: skip
    parser.add_argument("--average", type=int, default=None, metavar="E0",
                        help="average the weights of the updates after epoch E0")  # fmt: skip
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default=None,
                        help="η over the steps (TrainerConfig.schedule)")  # fmt: skip
    parser.add_argument("--unk-rate", type=float, default=None, help="p of singleton → <unk>")
    parser.add_argument("--char-hidden", type=int, default=None, help="H_c per direction")
    parser.add_argument("--seed", type=int, default=None, help="training seed (init, order)")
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
               "dropout": args.dropout, "batch_size": args.batch_size, "select": args.select,
               "average_from": args.average, "schedule": args.lr_schedule,
               "unk_rate": args.unk_rate, "char_hidden_size": args.char_hidden,
               "seed": args.seed}  # fmt: skip
    bench = replace(bench, **{k: v for k, v in changes.items() if v is not None})
    bench = replace(bench, casing=True) if args.casing else bench
    if bench.average_from is not None and not 1 <= bench.average_from < bench.epochs:
        raise SystemExit(f"--average E0 must be in [1, epochs = {bench.epochs}), "
                         f"got {bench.average_from}")  # fmt: skip
    corpora = args.corpora.split(",")
    vectors = parse_word2vec(args.word2vec, corpora)
    print(f"# {' '.join(sys.argv)}\n# torch {torch.__version__}, {args.device}, {bench}")
    results = {}
    keys = args.models.split(",")
    for corpus in corpora:
        models = select_models(keys, vectors.get(corpus))
        dev = bench.select == "dev"
        print(f"\n## {corpus}: {bench.epochs} epoch(s), test split", flush=True)
        head = "| model | F1 % | P % | R % | train s |" + (" dev epoch | dev F1 % |" if dev else "")
        rule = "|---|---:|---:|---:|---:|" + ("---:|---:|" if dev else "")
        print(f"{head}\n{rule}", flush=True)
        for key, (label, options) in models.items():
            row = run_one(bench, corpus, options, args)
            results[f"{corpus}/{key}"] = row
            scores = " | ".join(f"{100 * row[k]:.2f}" for k in ("f1", "precision", "recall"))
            chosen = f" {row['best_epoch']} | {100 * row['best_dev_f1']:.2f} |" if dev else ""
            print(f"| {label} | {scores} | {row['seconds']:.0f} |{chosen}", flush=True)
            if dev:
                curve = " ".join(f"{100 * f:.2f}" for f in row["dev_f1_by_epoch"])
                print(f"# dev F1 % after each epoch: {curve}", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps({"bench": asdict(bench), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
