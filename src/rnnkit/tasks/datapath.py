"""Which reader a task uses for `--data PATH`, and what to say when the path does not fit.

Each task family names its reader with one option: `--dataset` (sentiment, spam) or `--corpus`
(ner, caption, translate, chat). Its default, `auto`, reads what `--data` holds, as
`rnnkit.datasets.probe.identify` recognises it, or the task's shared data set without `--data`.
An explicit value that cannot read the path is a ConfigError naming the value that would; data
of another task is a DataError naming the command that reads it.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.datasets.probe import FILES, FOLDERS, Found, identify, resolve
from rnnkit.errors import ConfigError, DataError

OPTION = {"sentiment": "--dataset", "spam": "--dataset", "ner": "--corpus",
          "caption": "--corpus", "translate": "--corpus", "chat": "--corpus"}  # fmt: skip
LABELLED = {"sentiment": ("csv",), "spam": ("csv",)}
READERS: dict[str, dict[str, tuple[str, ...]]] = {  # layout -> task -> values, detected first
    "rt_polarity": {"sentiment": ("rt_polarity",), "spam": ("rt_polarity",)},
    "movie_reviews": {"sentiment": ("movie_reviews",), "spam": ("movie_reviews",)},
    "sms_spam": {"spam": ("sms_spam",), "sentiment": ("sms_spam",)},
    "csv_file": {**LABELLED, "forecast": ()},
    "jsonl_file": LABELLED,
    "tsv_file": LABELLED,
    "wnut17": {"ner": ("wnut17",)},
    "conll2002": {"ner": ("conll2002_es", "conll2002_nl")},
    "conll_folder": {"ner": ("custom",)},
    "coco": {"caption": ("coco", "coco_mini")},
    "flickr8k": {"caption": ("flickr8k",)},
    "multi30k": {"translate": ("multi30k",), "chat": ("multi30k",)},
    "tsv_pairs": {"translate": ("custom",), "chat": ("custom",)},
    "gutenberg": {"chat": ("dialogue",), "word2vec": ()},
    "text_file": {"charlm": ()},
    "word2vec_corpus": {"word2vec": ()},
    "timeseries": {"forecast": ()},
}
FOLDER_OF = {  # a file whose task reads the folder holding it
    ("ner", "conll_file"): "a folder holding train.conll and dev.conll (--corpus custom)",
    ("caption", "json_file"): "the folder holding annotations/ and train2017/, val2017/ "
    "(--corpus coco)",
    ("translate", "tsv_file"): "a folder holding train.tsv and valid.tsv (--corpus custom)",
    ("chat", "tsv_file"): "a folder holding train.tsv and valid.tsv (--corpus custom)",
}


def _values(task: str, found: Found) -> tuple[str, ...] | None:
    values = READERS.get(found.key, {}).get(task)
    if found.key == "coco" and values and found.path.name == "captioning_coco_mini":
        values = values[::-1]  # the shared subset reads as coco_mini
    return values


def _command(task: str, found: Found) -> str:
    """The command that reads `found` with `task`, e.g. `rnnkit train ner --corpus wnut17`."""
    values = _values(task, found)
    if task == "word2vec":
        return "`rnnkit word2vec train PATH`"
    option = f" {OPTION[task]} {values[0]}" if task in OPTION and values else ""
    return f"`rnnkit train {task}{option}`"


def accepted(task: str) -> str:
    """The layouts `task` reads, in words, grouped by the value that reads them."""
    by_value: dict[str, list[str]] = {}
    for layout in (*FOLDERS, *FILES.values()):
        values = READERS.get(layout.key, {}).get(task)
        if values:
            by_value.setdefault(values[0], []).append(layout.description)
    option = OPTION[task]
    return "; ".join(f"{option} {value}: {', '.join(dict.fromkeys(descriptions))}"
                     for value, descriptions in by_value.items())  # fmt: skip


def choose_reader(
    task: str, chosen: str, data: Path | None, *, default: str
) -> tuple[Path | None, str]:
    """(path, value): the data to read and the `--dataset`/`--corpus` value that reads it.

    Args:
        task: the task family, a key of OPTION.
        chosen: the configured value; "auto" detects it from `data`.
        data: --data as given (a path, or a shared/data folder name), or None.
        default: the value of "auto" without --data (the task's shared data set).

    Raises:
        DataError: the path is missing, is data of another task, or (with auto) is not
            recognised; the message lists what the task reads.
        ConfigError: an explicit `chosen` cannot read the path; the message names the value
            that can.
    """
    if data is None:
        return None, default if chosen == "auto" else chosen
    option, path = OPTION[task], resolve(data)
    found = identify(path)
    if found is None:
        if chosen != "auto":
            return path, chosen  # the reader names the file it misses
        raise DataError(f"cannot tell what {path} holds; {task} reads {accepted(task)}. Pass "
                        f"{option} VALUE to choose the reader yourself")  # fmt: skip
    values = _values(task, found)
    if not values:
        if (task, found.key) in FOLDER_OF:
            raise DataError(f"{found.describe()}: {task} reads {FOLDER_OF[task, found.key]}; "
                            "pass that folder with --data")  # fmt: skip
        readers = [_command(other, found) for other in READERS.get(found.key, {})]
        elsewhere = f" is data for {' or '.join(readers)}," if readers else ""
        raise DataError(f"{found.describe()}{elsewhere} not for `rnnkit train {task}`, which "
                        f"reads {accepted(task)}")  # fmt: skip
    if chosen == "auto":
        return found.path, values[0]
    if chosen in values:
        return found.path, chosen
    raise ConfigError(f"{option} {chosen} cannot read {found.describe()}; pass {option} "
                      f"{values[0]}, or leave {option} out to detect it from --data")  # fmt: skip


__all__ = ["OPTION", "READERS", "accepted", "choose_reader"]
