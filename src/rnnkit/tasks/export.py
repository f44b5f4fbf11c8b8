"""`rnnkit export RUN_DIR OUT_DIR`: one checkpoint of a run as a self-contained folder.

    OUT_DIR/config.json        the run's config.json (task, configs, vocabularies, data, argv,
                               versions) and "export": the checkpoint's name, step and
                               metrics, and the sha256 and size of the weights
    OUT_DIR/model.safetensors  the checkpoint's weights, byte for byte: no optimizer state
    OUT_DIR/vocab.json …       each vocabulary of the run and its text normalisation
                               (tokenizer.json), also held in config.json, which loading reads
    OUT_DIR/series.csv         forecast runs: the series the forecaster continues
    OUT_DIR/metrics.jsonl      the run's training history (the card, `rnnkit serve`'s curves)
    OUT_DIR/README.md          the model card: task, data, metrics, command, versions, files

A word2vec run exports its vectors.safetensors and vocab.json (words and counts) in place of
the weights and vocabularies. `rnnkit.load(OUT_DIR)` gives the object `rnnkit.load(RUN_DIR)`
gives, with the same outputs, and `rnnkit serve OUT_DIR` serves it. The folder is written
beside OUT_DIR and renamed into place, so an interrupted export leaves no half folder.

The model card is written by `rnnkit.tasks.model_card`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from torch import Tensor

from rnnkit import __version__
from rnnkit.datasets.timeseries import TimeSeries, read_csv_series
from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.tasks.model_card import model_card
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.text.normalization import NORMALIZATION_KEY
from rnnkit.training.checkpoint import read_checkpoint, step_of
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.runs import CONFIG_FILE, METRICS_FILE, read_metrics, read_run_config

EXPORT_KEY = "export"  # config.json key of an export folder
EXPORT_FORMAT = "rnnkit-export"
EXPORT_VERSION = 1
MODEL_FILE = "model.safetensors"
SERIES_FILE = "series.csv"
CARD_FILE = "README.md"
VOCAB_KEYS = ("vocab", "chars", "source_vocab", "target_vocab")  # config.json -> <key>.json
WORD2VEC_FILES = ("vectors.safetensors", "vocab.json")


class ExportedSeries(NamedTuple):
    """The series an exported forecast run continues, and whether it was the user's CSV."""

    series: TimeSeries
    user_csv: bool


def export_info(config: dict[str, Any]) -> dict[str, Any] | None:
    """The "export" section of a config.json, None for a run directory."""
    info = config.get(EXPORT_KEY)
    return info if isinstance(info, dict) and info.get("format") == EXPORT_FORMAT else None


def _sha256(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _read_verified(folder: Path, name: str, info: dict[str, Any]) -> bytes:
    """The bytes of folder/name, CheckpointError unless they match config.json's sha256."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"could not read {path}: {err.strerror or err}") from err
    files = info.get("files")
    if not isinstance(files, dict) or _sha256(data) != files.get(name):
        raise CheckpointError(
            f"{path} is corrupt or was changed: its sha256 or size does not match the one in "
            f"{folder / CONFIG_FILE}; export the run again"
        )
    return data


def read_exported_model(
    out_dir: Path, config: dict[str, Any], checkpoint: str
) -> tuple[Path, dict[str, Tensor]]:
    """The weights of an export folder (its one checkpoint), verified; for `load_run`."""
    info = export_info(config) or {}
    if checkpoint not in ("best", "latest"):
        raise ConfigError(
            f"{out_dir} is an export of one checkpoint ({info.get('checkpoint')}, step "
            f"{info.get('step')}); load it with the default checkpoint, got {checkpoint!r}"
        )
    data = _read_verified(out_dir, MODEL_FILE, info)
    try:
        return out_dir, load_tensors(data)
    except (SafetensorError, ValueError) as err:
        raise CheckpointError(f"{out_dir / MODEL_FILE} is not a valid safetensors file") from err


def exported_series(run_dir: str | Path) -> ExportedSeries | None:
    """The series of an exported forecast run (series.csv), None for a run directory."""
    run_dir = Path(run_dir)
    info = export_info(read_run_config(run_dir))
    if info is None or "series" not in info:
        return None
    about = info["series"]
    _read_verified(run_dir, SERIES_FILE, info)
    series = read_csv_series(
        run_dir / SERIES_FILE, time_column=about["time_column"], value_columns=about["columns"],
        name=about["name"], season=about["season"], min_length=1,
    )  # fmt: skip
    return ExportedSeries(series, bool(about["user_csv"]))


def _series_csv(series: TimeSeries) -> tuple[str, str]:
    """The series as CSV text (values as repr: read back exactly) and its time column's name."""
    time_column = "time"
    while time_column in series.columns:
        time_column = "_" + time_column
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([time_column, *series.columns])
    for stamp, row in zip(series.timestamps, series.values.tolist(), strict=True):
        writer.writerow([stamp, *map(repr, row)])
    return buffer.getvalue(), time_column


def choose_checkpoint(run_dir: Path, checkpoint: str) -> Path:
    """The checkpoint of the run named by `checkpoint`: best, latest, a name (step-00001200)
    or a path to one of the run's checkpoints; ConfigError naming those there otherwise."""
    manager = CheckpointManager(run_dir / "checkpoints")
    if checkpoint == "best":
        path = manager.best() or manager.latest()
    elif checkpoint == "latest":
        path = manager.latest()
    else:
        named = [run_dir / "checkpoints" / checkpoint, Path(checkpoint)]
        path = next((p for p in named if p.is_dir() and step_of(p) is not None), None)
        if path is not None and path.resolve().parent != manager.root.resolve():
            path = None  # another run's checkpoint: its weights would not fit this config
        if path is None:
            names = ", ".join(p.name for p in manager.checkpoints()) or "none"
            raise ConfigError(
                f"{run_dir} has no checkpoint {checkpoint!r}; pass --checkpoint best, latest "
                f"or one of its checkpoints: {names}"
            )
    if path is None:
        raise CheckpointError(
            f"{run_dir / 'checkpoints'} holds no checkpoint yet; nothing to export"
        )
    return path


def _check_out_dir(out_dir: Path, force: bool) -> None:
    """ConfigError unless OUT_DIR is missing, empty, or (with force) a previous export."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"OUT_DIR {out_dir} is a file; give a new folder")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    try:
        previous = export_info(read_run_config(out_dir)) is not None
    except ConfigError:  # no config.json, or one that is not rnnkit's
        previous = False
    if not previous:
        raise ConfigError(
            f"OUT_DIR {out_dir} is not empty and is not an rnnkit export, so exporting would "
            "overwrite its files; give a new or empty folder"
        )
    if not force:
        raise ConfigError(
            f"OUT_DIR {out_dir} already holds an export; pass --force to replace it, or give "
            "a new folder"
        )


def export_run(
    run_dir: str | Path, out_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT,
    force: bool = False,
) -> Path:  # fmt: skip
    """Write one checkpoint of the run in `run_dir` to the new folder `out_dir` (see above).

    Args:
        run_dir: a run directory of `rnnkit train` or `rnnkit word2vec train`.
        out_dir: a new or empty folder, or with `force` a previous export to replace.
        checkpoint: best (default: the best on validation, else the latest), latest, a
            checkpoint's name (step-00001200) or path. A word2vec run has one set of vectors.

    Raises:
        ConfigError: `run_dir` is not a run (or is an export), `out_dir` holds other files,
            or the checkpoint is not one of the run's.
        CheckpointError: the run has no checkpoint, or a damaged one.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    config = read_run_config(run_dir)
    if export_info(config) is not None:
        raise ConfigError(f"{run_dir} is already an export; copy the folder to move it")
    if "task" not in config:
        raise ConfigError(f"{run_dir / CONFIG_FILE} names no task: not an rnnkit run directory")
    _check_out_dir(out_dir, force)
    if config["task"] == "word2vec":
        files, info = _word2vec_files(run_dir, checkpoint)
    else:
        files, info = _model_files(run_dir, config, checkpoint)
    info = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "run": str(run_dir.resolve()),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {"rnnkit": __version__, "torch": torch.__version__},
        **info,  # checkpoint, step, metrics (and the forecast's series)
        "files": {name: _sha256(data) for name, data in files.items()},  # read back verified
    }
    if (run_dir / METRICS_FILE).is_file():
        files[METRICS_FILE] = (run_dir / METRICS_FILE).read_bytes()
    files[CONFIG_FILE] = (json.dumps({**config, EXPORT_KEY: info}, indent=2) + "\n").encode()
    files[CARD_FILE] = model_card(run_dir, out_dir, config, info, files).encode()
    _write_folder(out_dir, files)
    return out_dir


def _model_files(
    run_dir: Path, config: dict[str, Any], checkpoint: str
) -> tuple[dict[str, bytes], dict[str, Any]]:
    path = choose_checkpoint(run_dir, checkpoint)
    state = read_checkpoint(path).state  # verifies every file's sha256
    files = {MODEL_FILE: (path / MODEL_FILE).read_bytes()}
    if _sha256(files[MODEL_FILE]) != state["files"][MODEL_FILE]:
        raise CheckpointError(f"{path / MODEL_FILE} changed while it was exported; try again")
    for key in VOCAB_KEYS:
        if isinstance(config.get(key), dict):
            files[f"{key}.json"] = (json.dumps(config[key], ensure_ascii=False) + "\n").encode()
    if isinstance(config.get(NORMALIZATION_KEY), dict):
        files["tokenizer.json"] = (json.dumps(config[NORMALIZATION_KEY]) + "\n").encode()
    info: dict[str, Any] = {"checkpoint": path.name, "step": state["step"],
                            "metrics": state.get("metrics") or {},
                            "trained_with": {"rnnkit": state.get("rnnkit_version"),
                                             "torch": state.get("torch_version")}}  # fmt: skip
    if config["task"] == "forecast":  # the forecaster continues the run's series: carry it
        from rnnkit.tasks.forecast.train import load_forecaster

        loaded = load_forecaster(run_dir, checkpoint=str(path))
        text, time_column = _series_csv(loaded.series)
        files[SERIES_FILE] = text.encode()
        info["series"] = {"name": loaded.series.name, "columns": list(loaded.series.columns),
                          "season": loaded.series.season, "time_column": time_column,
                          "user_csv": loaded.user_csv}  # fmt: skip
    return files, info


def _word2vec_files(run_dir: Path, checkpoint: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    if checkpoint != DEFAULT_CHECKPOINT:
        raise ConfigError(
            f"{run_dir} is a word2vec run: it holds one set of vectors, written when it "
            f"finished; export it without --checkpoint (got {checkpoint!r})"
        )
    missing = [name for name in WORD2VEC_FILES if not (run_dir / name).is_file()]
    if missing:
        raise CheckpointError(
            f"{run_dir} holds no {', '.join(missing)}: the run has not finished; "
            f"finish it with `rnnkit word2vec resume {run_dir}`, then export it"
        )
    rows = read_metrics(run_dir) if (run_dir / METRICS_FILE).is_file() else []
    step = max((int(row.get("step", 0)) for row in rows), default=0)
    return {name: (run_dir / name).read_bytes() for name in WORD2VEC_FILES}, {
        "checkpoint": "final vectors", "step": step, "metrics": {}}  # fmt: skip


def _write_folder(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write the files to a hidden folder beside OUT_DIR, then rename it into place."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.export-{os.getpid()}")
    aside = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        if out_dir.is_dir() and any(out_dir.iterdir()):  # a previous export (--force)
            os.rename(out_dir, aside)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if aside.is_dir():  # the previous export stays as it was
                os.rename(aside, out_dir)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)


__all__ = ["ExportedSeries", "choose_checkpoint", "export_info", "export_run",
           "exported_series", "read_exported_model"]  # fmt: skip
