"""Tiny trained runs of every task, made once per test session (the `tiny_runs` fixture).

Each run trains a few updates of a very small model on data written here: the tests need runs,
not good ones. Training runs on one torch thread (the machine's cores are shared). The web API
tests serve these runs, and `rnnkit.load` is tested on them (tests/tasks/test_load.py);
tests/conftest.py registers the fixture for the whole suite.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

from rnnkit import tasks
from rnnkit.config import make_config
from rnnkit.datasets.conll import tagged_corpus, write_conll
from rnnkit.tasks.caption.config import CaptionConfig
from rnnkit.tasks.charlm.config import CharLMConfig
from rnnkit.tasks.classify.config import ClassifyConfig
from rnnkit.tasks.condlm.config import CondLMConfig
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.music.config import MusicConfig
from rnnkit.tasks.ner.config import NerConfig
from rnnkit.tasks.translate.config import TranslateConfig
from rnnkit.training import TrainerConfig

ENGLISH = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
GERMAN = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
PEOPLE = [["Harry", "Potter"], ["Hermione", "Granger"], ["Ron"]]
PLACES = [["London"], ["Hogwarts"], ["New", "York"]]
FILLER = ["yesterday", "met", "in", "the", "and", "saw", "today", "with", "went", "to"]
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def trainer_config(steps: int, lr: float = 0.01) -> TrainerConfig:
    return TrainerConfig(max_steps=steps, lr=lr, eval_every=0, checkpoint_every=0, log_every=1,
                         quiet=True, device="cpu")  # fmt: skip


def reviews_csv(path: Path) -> Path:
    """A labelled CSV: "good" reviews hold a good word, "bad" ones a bad word."""
    rng = random.Random(0)
    lines = ["text,label"]
    for i in range(48):
        label = "good" if i % 2 else "bad"
        words = rng.choices(["the", "film", "was", "plot", "a", "story"], k=rng.randint(2, 6))
        words.insert(rng.randint(0, len(words)), label if i % 3 else f"very {label}")
        lines.append(f"{' '.join(words)} .,{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def digit_pairs(folder: Path) -> Path:
    """train.tsv and valid.tsv: "three one four<TAB>drei eins vier"."""
    rng = random.Random(0)
    folder.mkdir(parents=True)
    for split, count in (("train", 64), ("valid", 8)):
        pairs = [rng.sample(range(10), rng.randint(2, 5)) for _ in range(count)]
        lines = [" ".join(ENGLISH[d] for d in p) + "\t" + " ".join(GERMAN[d] for d in p)
                 for p in pairs]  # fmt: skip
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def conll_corpus(folder: Path) -> Path:
    """train.conll and dev.conll of people (PER) and places (LOC) among filler words."""
    rng = random.Random(0)
    for split, count in (("train", 48), ("dev", 8)):
        sentences = []
        for _ in range(count):
            tokens, tags = [], []
            for kind in rng.choices(["PER", "LOC", "O", "O"], k=rng.randint(2, 4)):
                words = rng.choice(PEOPLE if kind == "PER" else PLACES) if kind != "O" else []
                words = words or [rng.choice(FILLER)]
                tokens += words
                tags += ["O"] if kind == "O" else [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)
            sentences.append((tokens, tags))
        write_conll(folder / f"{split}.conll", tagged_corpus(sentences))
    return folder


def coco_corpus(root: Path) -> Path:
    """A COCO-layout corpus of solid-colour squares captioned "a red square ."."""
    (root / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        folder = root / f"{split}2017"
        folder.mkdir()
        images, annotations = [], []
        for colour, rgb in COLOURS.items():
            name = f"{colour}.png"
            Image.new("RGB", (20, 20), rgb).save(folder / name)
            images.append({"id": len(images) + 1, "file_name": name})
            annotations.append({"image_id": len(images), "caption": f"a {colour} square ."})
        path = root / "annotations" / f"captions_{split}2017.json"
        path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return root


def series_csv(path: Path) -> Path:
    """A seasonal series (period 6) with a trend."""
    rows = [f"d{t},{10 + 0.2 * t + 3 * math.sin(2 * math.pi * t / 6):.4f}" for t in range(60)]
    path.write_text("day,load\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def train_run(root: Path, name: str, task: str, config: object, steps: int,
           data: Path | None = None) -> Path:  # fmt: skip
    run = root / name
    tasks.train(task, config, trainer_config(steps), data=data, run_dir=run)
    return run


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One tiny run per task (and charlm in each cell), by name."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    data = tmp_path_factory.mktemp("data")
    small_lm = {"max_chars": 4000, "batch_size": 2, "seq_len": 8, "embed_dim": 6, "samples": 0}
    try:
        yield {
            "charlm": train_run(root, "charlm-lstm", "charlm", make_config(CharLMConfig,
                **small_lm, hidden_size=10, num_layers=2, cell="lstm"), 3),
            "charlm-gru": train_run(root, "charlm-gru", "charlm", make_config(CharLMConfig,
                **small_lm, hidden_size=6, num_layers=1, cell="gru"), 2),
            "charlm-rnn": train_run(root, "charlm-rnn", "charlm", make_config(CharLMConfig,
                **small_lm, hidden_size=5, num_layers=1, cell="rnn"), 2),
            "sentiment": train_run(root, "sentiment-gru", "sentiment", make_config(ClassifyConfig,
                dataset="csv", folds=4, cell="gru", embed_dim=6, hidden_size=6, batch_size=8,
                dropout=0.0, bidirectional=True, min_freq=1), 30, reviews_csv(data / "r.csv")),
            "condlm": train_run(root, "condlm-run", "condlm", make_config(CondLMConfig,
                dataset="csv", min_freq=1, embed_dim=6, hidden_size=8, dropout=0.0,
                batch_size=16), 3, reviews_csv(data / "c.csv")),
            "ner": train_run(root, "ner-run", "ner", make_config(NerConfig,
                corpus="custom", embed_dim=6, hidden_size=6, char_embed_dim=4,
                char_hidden_size=4, batch_size=8, dropout=0.0), 3, conll_corpus(data / "conll")),
            "translate": train_run(root, "translate-run", "translate", make_config(TranslateConfig,
                corpus="custom", min_freq=1, embed_dim=8, hidden_size=8, batch_size=16,
                dropout=0.0, attention="general"), 3, digit_pairs(data / "digits")),
            "caption": train_run(root, "caption-run", "caption", make_config(CaptionConfig,
                corpus="coco", image_size=16, cnn_width=4, feature_size=8, embed_dim=6,
                hidden_size=8, min_freq=1, dropout=0.0, batch_size=3), 2,
                coco_corpus(data / "coco")),
            "forecast": train_run(root, "forecast-run", "forecast", make_config(ForecastConfig,
                series="csv", value_column="load", season=6, window=12, horizon=6,
                hidden_size=4, batch_size=8), 2, series_csv(data / "load.csv")),
            "music": train_run(root, "music-run", "music", make_config(MusicConfig,
                max_pieces=8, hidden_size=4, batch_size=3), 2),  # real chorales (music21)
        }  # fmt: skip
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def runs(tiny_runs: dict[str, Path]) -> dict[str, Path]:
    """`tiny_runs` under the name the web tests give it (tests/web, tests/reliability)."""
    return tiny_runs
