"""The runs `rnnkit serve` serves: each loaded once at start-up, read-only, by its task's loader,
at the checkpoint every command uses (`DEFAULT_CHECKPOINT`: the best on validation, else the
latest).

    task        capabilities                  loader
    charlm      generate, inspect, gradients  tasks.charlm.load_language_model
    condlm      generate (with a condition)   tasks.condlm.load_condlm
    sentiment   classify, inspect, gradients  tasks.classify.load_classifier (bow: classify)
    spam        classify, inspect, gradients  tasks.classify.load_classifier (bow: classify)
    ner         tag                           tasks.tagger.load_tagger
    translate   translate                     tasks.translator.load_translator
    chat        translate                     tasks.translator.load_translator
    caption     caption                       tasks.captioner.load_captioner
    forecast    forecast                      tasks.forecast.load_forecaster

A model's id is its run folder's name, made unique with a suffix -2, -3 … when two folders
share a name; no request names a file. Every run also has its training curves (/curves),
read from the run folder it was loaded from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.tasks.captioner import load_captioner
from rnnkit.tasks.charlm import load_language_model
from rnnkit.tasks.classify import load_classifier
from rnnkit.tasks.condlm import load_condlm
from rnnkit.tasks.forecast import load_forecaster
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.tasks.tagger import load_tagger
from rnnkit.tasks.translator import load_translator
from rnnkit.training.runs import read_run_config
from rnnkit.web import schemas
from rnnkit.web.adapters import (
    Adapter,
    CaptionerAdapter,
    CharLMAdapter,
    ClassifierAdapter,
    CondLMAdapter,
    ForecasterAdapter,
    TaggerAdapter,
    TranslatorAdapter,
)

# task name -> (loader, adapter)
TASKS: dict[str, tuple[Any, type[Adapter]]] = {
    "charlm": (load_language_model, CharLMAdapter),
    "condlm": (load_condlm, CondLMAdapter),
    "sentiment": (load_classifier, ClassifierAdapter),
    "spam": (load_classifier, ClassifierAdapter),
    "ner": (load_tagger, TaggerAdapter),
    "translate": (load_translator, TranslatorAdapter),
    "chat": (load_translator, TranslatorAdapter),
    "caption": (load_captioner, CaptionerAdapter),
    "forecast": (load_forecaster, ForecasterAdapter),
}


@dataclass(frozen=True)
class ServedModel:
    """One served run: its id, task, folder name, adapter and folder."""

    id: str
    task: str
    run: str
    adapter: Adapter
    run_dir: Path | None = None  # where its metrics.jsonl is

    def describe(self) -> schemas.ModelInfo:
        return schemas.ModelInfo(
            id=self.id,
            task=self.task,
            run=self.run,
            capabilities=list(self.adapter.offers()),
            info=self.adapter.info(),
        )


def unique_ids(names: list[str]) -> list[str]:
    """The names, a repeated one suffixed -2, -3 … in order.

    >>> unique_ids(["charlm-a", "ner-b", "charlm-a", "charlm-a"])
    ['charlm-a', 'ner-b', 'charlm-a-2', 'charlm-a-3']
    """
    taken: set[str] = set()
    ids = []
    for name in names:
        candidate, suffix = name, 2
        while candidate in taken:
            candidate, suffix = f"{name}-{suffix}", suffix + 1
        taken.add(candidate)
        ids.append(candidate)
    return ids


def load_run(run_dir: Path, model_id: str) -> ServedModel:
    """Load one run with its task's loader; ConfigError for a task the server cannot serve,
    CheckpointError for weights that are not all finite."""
    task = read_run_config(run_dir).get("task")
    if task not in TASKS:
        raise ConfigError(f"{run_dir} is a {task!r} run; rnnkit serve serves {sorted(TASKS)} runs")
    loader, adapter = TASKS[task]
    loaded = loader(run_dir, checkpoint=DEFAULT_CHECKPOINT)  # the rule of every command
    if task == "caption" and loaded.model.config.encoder != "cnn":
        raise ConfigError(
            f"{run_dir} captions precomputed features, not images; the web page "
            "uploads images: serve a run trained on image files"
        )
    model = getattr(loaded, "model", None)
    if isinstance(model, torch.nn.Module):
        broken = [name for name, value in model.state_dict().items()
                  if value.is_floating_point() and not torch.isfinite(value).all()]  # fmt: skip
        if broken:
            raise CheckpointError(
                f"{run_dir} holds NaN or ±inf in {', '.join(broken[:3])}; its answers would be "
                "NaN: serve an earlier checkpoint of the run"
            )
    return ServedModel(model_id, task, run_dir.resolve().name, adapter(loaded), run_dir.resolve())


def load_runs(run_dirs: list[Path]) -> dict[str, ServedModel]:
    """Every run folder loaded once, by id (the folder name, made unique)."""
    run_dirs = [Path(run_dir) for run_dir in run_dirs]
    ids = unique_ids([run_dir.resolve().name for run_dir in run_dirs])
    return {
        model_id: load_run(run_dir, model_id)
        for model_id, run_dir in zip(ids, run_dirs, strict=True)
    }


__all__ = ["TASKS", "Adapter", "ServedModel", "load_run", "load_runs", "unique_ids"]
