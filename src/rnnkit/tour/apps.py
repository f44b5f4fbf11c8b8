"""The application sections of the tour: one task per input/output pattern, tiny budgets.

Each application trains its registered task through `rnnkit.tasks.train`, its configs made from
flag-like overrides as the CLI makes them (`split_config`: "hidden_size" reaches a nested model
config too), into `runs/<section>` beside the page; the page shows the last training loss, the
validation metrics, the run's plots and the `rnnkit train` command that reproduces the run.
A section whose shared data (../shared/data/<folder>) or optional extra is absent is skipped
with the reason.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.config import config_from_dict
from rnnkit.tasks import Trained, describe_task, split_config, train
from rnnkit.tour.page import Figure, Number, Section, paragraph, preformatted
from rnnkit.tour.sections import SectionSkipped, TourContext, TourSize
from rnnkit.training.config import TrainerConfig

# Trainer settings of every application: one evaluation and one checkpoint, at the end.
COMMON = {"log_every": 10, "device": "cpu", "quiet": True}
CHARLM_PRIME = "ROMEO:"
# The tiny size (tests): a few updates of a very small model, whatever the task.
TINY = {"hidden_size": 8, "batch_size": 8, "max_steps": 3}


@dataclass(frozen=True)
class App:
    """An application section: its task, the shared data and extra it needs, its budgets."""

    task: str
    pattern: str  # what the section's paragraph says
    quick: Mapping[str, Any]  # flag-like overrides under --quick
    full: Mapping[str, Any]  # flag-like overrides otherwise
    needs: tuple[str, ...] = ()  # folders of ../shared/data
    extra: tuple[str, str] | None = None  # (module that must import, the extra that has it)
    tiny: Mapping[str, Any] = field(default_factory=dict)  # tests: on top of `quick`

    def budget(self, size: TourSize) -> dict[str, Any]:
        """The overrides of a run of this size (tiny: quick's, made smaller still)."""
        if size == "full":
            return dict(self.full)
        return {**self.quick, **(TINY | self.tiny if size == "tiny" else {})}


APPS: dict[str, App] = {
    "charlm": App(
        "charlm",
        "Many to many, synchronous: at every step the LSTM reads a character of Tiny Shakespeare "
        "(embedded in the package) and predicts the next one; then it writes text.",
        quick={
            "max_chars": 200_000,
            "embed_dim": 32,
            "hidden_size": 128,
            "num_layers": 1,
            "seq_len": 64,
            "batch_size": 32,
            "samples": 0,
            "warmup_steps": 20,
            "max_steps": 100,
        },
        full={"embed_dim": 64, "hidden_size": 256, "num_layers": 2, "samples": 0, "max_steps": 600},
        tiny={"max_chars": 20_000, "seq_len": 16, "embed_dim": 8, "warmup_steps": 1},
    ),
    "sentiment": App(
        "sentiment",
        "Many to one: the LSTM reads a whole sentence of the sentence-polarity set (Pang & Lee "
        "2005) and one output, after the last word, says positive or negative.",
        quick={"embed_dim": 32, "hidden_size": 64, "batch_size": 32, "max_steps": 300},
        full={"embed_dim": 64, "hidden_size": 128, "batch_size": 32, "max_steps": 600},
        needs=("sentiment_rt_polarity",),
        tiny={"embed_dim": 8},
    ),
    "ner": App(
        "ner",
        "Many to many, tagging: one BIOES tag per word of CoNLL-2002 Spanish from a "
        "bidirectional LSTM with character features.",
        quick={
            "embed_dim": 32,
            "hidden_size": 64,
            "char_embed_dim": 16,
            "char_hidden_size": 16,
            "batch_size": 32,
            "max_steps": 300,
        },
        full={"embed_dim": 64, "hidden_size": 128, "batch_size": 32, "max_steps": 500},
        tiny={"embed_dim": 8, "char_embed_dim": 4, "char_hidden_size": 4},
        needs=("ner_conll2002",),
    ),
    "forecast": App(
        "forecast",
        "Many to many, streaming: the monthly airline passengers (Box & Jenkins 1976) read one "
        "value at a time, the state carried, each step predicting the next values.",
        quick={"hidden_size": 32, "max_steps": 200},
        full={"hidden_size": 64, "max_steps": 500},
        needs=("timeseries",),
    ),
    "translate": App(
        "translate",
        "Many to many, encoder–decoder: an English sentence of Multi30k read by the encoder, "
        "its German translation written by the decoder with attention.",
        quick={"embed_dim": 64, "hidden_size": 64, "batch_size": 64, "max_steps": 160},
        full={"embed_dim": 128, "hidden_size": 256, "batch_size": 64, "max_steps": 800},
        needs=("translation_multi30k",),
        tiny={"embed_dim": 8},
    ),
    "caption": App(
        "caption",
        "One to many: a small CNN encodes an image of COCO (the mini set) into one vector, "
        "from which the LSTM writes a caption.",
        quick={
            "corpus": "coco_mini",
            "image_size": 32,
            "cnn_width": 8,
            "feature_size": 64,
            "embed_dim": 64,
            "hidden_size": 64,
            "batch_size": 32,
            "max_steps": 60,
        },
        full={
            "corpus": "coco_mini",
            "image_size": 64,
            "feature_size": 128,
            "embed_dim": 128,
            "hidden_size": 128,
            "batch_size": 32,
            "max_steps": 400,
        },
        tiny={"image_size": 16, "cnn_width": 4, "feature_size": 8, "embed_dim": 8},
        needs=("captioning_coco_mini",),
    ),
    "music": App(
        "music",
        "Many to many, multi-label: Bach chorales (music21's corpus) as piano rolls, one "
        "sigmoid per key at every step predicting the notes of the next.",
        quick={"max_pieces": 60, "hidden_size": 64, "max_steps": 60},
        full={"hidden_size": 128, "max_steps": 300},
        tiny={"max_pieces": 8},
        extra=("music21", "music"),
    ),
}


def flags_command(task: str, overrides: Mapping[str, Any]) -> str:
    """The `rnnkit train` command line that trains the same run.

    >>> flags_command("charlm", {"hidden_size": 8, "quiet": True, "max_chars": None})
    'rnnkit train charlm --hidden-size 8 --quiet'
    """
    parts = ["rnnkit", "train", task]
    for key, value in overrides.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        parts += [flag] if value is True else [flag, str(value)]
    return " ".join(parts)


def check_available(app: App, context: TourContext) -> None:
    missing = [folder for folder in app.needs if context.locate(folder) is None]
    if missing:
        raise SectionSkipped(
            "needs " + ", ".join(f"../shared/data/{folder}" for folder in missing) + " (absent)"
        )
    if app.extra is not None and importlib.util.find_spec(app.extra[0]) is None:
        raise SectionSkipped(
            f"needs the {app.extra[1]} extra ({app.extra[0]}): pip install -e '.[{app.extra[1]}]'"
        )


def train_app(name: str, app: App, context: TourContext) -> tuple[Trained, Path, dict]:
    """Train the app's task into runs/<name> with its budget; returns the result, the run
    folder and the overrides used."""
    budget = app.budget(context.size)
    steps = int(budget["max_steps"])
    overrides = {**budget, "eval_every": steps, "checkpoint_every": steps, **COMMON}
    spec = describe_task(app.task)
    task_part, trainer_part = split_config(spec, overrides)
    task_config = config_from_dict(spec.config_cls, task_part)
    trainer_config = config_from_dict(TrainerConfig, {**spec.trainer_defaults, **trainer_part})
    run_dir = context.out_dir / "runs" / name
    trained = train(app.task, task_config, trainer_config, run_dir=run_dir)
    return trained, run_dir, overrides


def _copy_figures(run_dir: Path, name: str, context: TourContext) -> list[Figure]:
    """The run's PNG plots, copied to figures/<name>/ beside the page."""
    figures = []
    for index, png in enumerate(sorted(run_dir.rglob("*.png"))):
        target = context.figure_dir(name) / f"{index:02d}-{png.name}"
        shutil.copyfile(png, target)
        figures.append(Figure(context.relative(target), f"{name}: {png.relative_to(run_dir)}"))
    return figures


def application(name: str, context: TourContext) -> Section:
    """Train application `name` (one of APPS) with a small budget and report what it measured."""
    app = APPS[name]
    check_available(app, context)
    trained, run_dir, overrides = train_app(name, app, context)
    command = flags_command(app.task, {k: v for k, v in overrides.items() if k != "quiet"})
    history = trained.history
    numbers = [Number("updates", str(trained.result.step), command)]
    if history is not None:
        for metric in sorted(history.history):
            if metric == "loss" or (metric.startswith("val_") and "_cm_" not in metric):
                numbers.append(Number(metric, f"{history.last(metric):.4g}", command))
    body = paragraph(app.pattern) + paragraph(
        f"{trained.result.step} updates into {run_dir.relative_to(context.out_dir).as_posix()} "
        f"(a small budget)."
    )
    if name == "charlm" and trained.model is not None:
        text = trained.model.generate(CHARLM_PRIME, length=300, temperature=0.8, seed=1)
        body += paragraph("300 characters sampled at temperature 0.8 after the prime:")
        body += preformatted(text)
        numbers.append(Number("sample (seed 1, τ 0.8)", f"{len(text)} characters",
                              f"rnnkit generate {run_dir} --prime {CHARLM_PRIME} --length 300 "
                              "--temperature 0.8 --seed 1"))  # fmt: skip
    return Section("", body, _copy_figures(run_dir, name, context), numbers)
