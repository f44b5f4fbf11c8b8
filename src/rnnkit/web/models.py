"""The runs `rnnkit serve` serves: each loaded once at start-up, read-only, by the loader its
task registered (`rnnkit.tasks.loader_of`, declared in `tasks/<task>/config.py`), at the
checkpoint every command uses (`DEFAULT_CHECKPOINT`: the best on validation, else the latest).
This module adds only the adapter of each served task:

    task        capabilities                  adapter
    charlm      generate, inspect, gradients  CharLMAdapter
    condlm      generate (with a condition)   CondLMAdapter
    sentiment   classify, inspect, gradients  ClassifierAdapter (bow: classify)
    spam        classify, inspect, gradients  ClassifierAdapter (bow: classify)
    ner         tag                           TaggerAdapter
    translate   translate                     TranslatorAdapter
    chat        translate                     TranslatorAdapter
    caption     caption                       CaptionerAdapter
    forecast    forecast                      ForecasterAdapter
    music       compose (a piano roll, MIDI)  MusicAdapter

A model's id is its run folder's name, made unique with a suffix -2, -3 … when two folders
share a name; no request names a file. Every run also has its training curves (/curves),
read from the run folder it was loaded from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.tasks import loader_of
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.training.runs import read_run_config
from rnnkit.web import schemas
from rnnkit.web.adapters import (
    Adapter,
    CaptionerAdapter,
    CharLMAdapter,
    ClassifierAdapter,
    CondLMAdapter,
    ForecasterAdapter,
    MusicAdapter,
    TaggerAdapter,
    TranslatorAdapter,
)

# task name -> the adapter that serves what its registered loader returns
ADAPTERS: dict[str, type[Adapter]] = {
    "charlm": CharLMAdapter,
    "condlm": CondLMAdapter,
    "sentiment": ClassifierAdapter,
    "spam": ClassifierAdapter,
    "ner": TaggerAdapter,
    "translate": TranslatorAdapter,
    "chat": TranslatorAdapter,
    "caption": CaptionerAdapter,
    "forecast": ForecasterAdapter,
    "music": MusicAdapter,
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
    if task not in ADAPTERS:
        raise ConfigError(
            f"{run_dir} is a {task!r} run; rnnkit serve serves {sorted(ADAPTERS)} runs"
        )
    adapter = ADAPTERS[task]
    loaded = loader_of(task)(run_dir, checkpoint=DEFAULT_CHECKPOINT)  # the rule of every command
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


__all__ = ["ADAPTERS", "Adapter", "ServedModel", "load_run", "load_runs", "unique_ids"]
