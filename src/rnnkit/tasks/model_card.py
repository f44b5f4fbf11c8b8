"""The model card of an `rnnkit export` folder: its README.md, written from the run's records.

    # charlm: charlm-20261123-054700, step-00003000 (step 3000)
    Task       the task, the model class and its parameter count, the checkpoint and its step
    Data       the path, sha256 and size recorded in config.json ("data", "data_digest")
    Metrics    each metric at the exported checkpoint (state.json) and as last logged
               (metrics.jsonl), with the step it was logged at
    Training command    the command line recorded in config.json ("argv")
    Versions   rnnkit and torch that trained it and that exported it
    Files      every file of the folder with its size and sha256

References:
    M. Mitchell et al., "Model Cards for Model Reporting", FAT* 2019.
    https://huggingface.co/docs/hub/model-cards
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Any

from rnnkit.training.runs import METRICS_FILE, read_metrics


def _command(argv: Any) -> str | None:
    """The command line recorded in config.json, the console script shown as `rnnkit`.

    >>> print(_command(["/venv/bin/rnnkit", "train", "charlm", "--prime", "TO BE"]))
    rnnkit train charlm --prime 'TO BE'
    """
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return None
    head = "rnnkit" if Path(argv[0]).name == "rnnkit" else argv[0]
    return shlex.join([head, *argv[1:]])


def _final_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The last logged value of every metric in metrics.jsonl, with the step it was logged at."""
    final: dict[str, Any] = {}
    for row in rows:
        for key, value in row.items():
            if key not in ("kind", "step", "epoch") and isinstance(value, int | float):
                final[key] = (value, row.get("step"))
    return final


def _metrics_table(info: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    checkpoint, final = info.get("metrics") or {}, _final_metrics(rows)
    names = [*checkpoint, *(name for name in final if name not in checkpoint)]
    if not names:
        return ["No metrics were logged."]
    lines = [f"| metric | at the exported checkpoint (step {info['step']}) | last logged (step) |",
             "|---|---|---|"]  # fmt: skip
    for name in names:
        at = f"{checkpoint[name]:.6g}" if isinstance(checkpoint.get(name), int | float) else "–"
        last = f"{final[name][0]:.6g} ({final[name][1]})" if name in final else "–"
        lines.append(f"| {name} | {at} | {last} |")
    return lines


def _data_lines(config: dict[str, Any]) -> list[str]:
    data, digest = config.get("data"), config.get("data_digest")
    if data is None:
        return ["The task's built-in corpus (no --data)."]
    lines = [f"- path: `{data}`"]
    if isinstance(digest, dict):
        lines += [f"- sha256: `{digest.get('sha256')}`", f"- size: {digest.get('bytes')} bytes "
                  f"in {digest.get('files')} file(s)"]  # fmt: skip
    else:
        lines.append("- the run recorded no digest of it")
    return lines


def model_card(
    run_dir: Path, out_dir: Path, config: dict[str, Any], info: dict[str, Any],
    files: dict[str, bytes],
) -> str:  # fmt: skip
    """The README.md of an export: task, data, metrics, command, versions and files."""
    task = config["task"]
    rows = read_metrics(run_dir) if (run_dir / METRICS_FILE).is_file() else []
    trained = config.get("versions") or {}
    command = _command(config.get("argv"))
    model = config.get("model") or {}
    lines = [
        f"# {task}: {run_dir.resolve().name}, {info['checkpoint']} (step {info['step']})", "",
        f"Exported by `rnnkit export` on {info['exported']} from `{info['run']}`.", "",
        "```python", "import rnnkit", "", f'model = rnnkit.load("{out_dir}")', "```", "",
        *([] if task == "word2vec" else [f"Serve it with `rnnkit serve {out_dir}`.", ""]),
        "## Task", "", f"- task: {task}",
        *([f"- model: {model['class']}, {model.get('parameters')} parameters"]
          if "class" in model else []),
        f"- checkpoint: {info['checkpoint']}, step {info['step']}", "",
        "## Data", "", *_data_lines(config), "",
        "## Metrics", "", *_metrics_table(info, rows), "",
        "## Training command", "",
        *([f"    {command}"] if command else ["The run recorded no command line."]), "",
        "## Versions", "",
        f"- trained with rnnkit {trained.get('rnnkit')}, torch {trained.get('torch')}",
        f"- exported with rnnkit {info['versions']['rnnkit']}, torch "
        f"{info['versions']['torch']}", "",
        "## Files", "", "| file | bytes | sha256 |", "|---|---|---|",
        *(f"| {name} | {len(data)} | `{hashlib.sha256(data).hexdigest()}` |"
          for name, data in sorted(files.items())),
        "| README.md | – | – |", "",
    ]  # fmt: skip
    return "\n".join(lines)


__all__ = ["model_card"]
