"""`--data` detection: each task reads what the path holds, or says which option value would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.datasets.labelled_text import load_labelled
from rnnkit.datasets.probe import from_shared, identify, resolve
from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.caption.train import CaptionConfig, load_split, resolve_corpus
from rnnkit.tasks.classify.train import ClassifyConfig, SpamConfig
from rnnkit.tasks.classify.train import find_data as find_labelled
from rnnkit.tasks.datapath import choose_reader
from rnnkit.tasks.ner.config import NerConfig
from rnnkit.tasks.ner.train import find_data as find_conll
from rnnkit.tasks.ner.train import load_split as load_ner_split
from rnnkit.tasks.translate.data import ChatConfig, TranslateConfig, load_pairs


def _shared(name: str) -> pytest.MarkDecorator:
    return pytest.mark.shared_data(name)


def _reviews(path: Path, separator: str = ",") -> Path:
    rows = [f"text{separator}label"] + [
        f"a {'fine warm' if i % 2 else 'dull cold'} film number {i}{separator}"
        f"{'pos' if i % 2 else 'neg'}"
        for i in range(40)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _touch(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n", encoding="utf-8")
    return root


# -- item 4, first example: `rnnkit train sentiment --data reviews.csv` ---------------------------
def test_sentiment_trains_on_a_csv_file_without_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    code = main(["train", "sentiment", "--data", str(_reviews(tmp_path / "reviews.csv")),
                 "--folds", "4", "--min-freq", "1", "--embed-dim", "4", "--hidden-size", "4",
                 "--batch-size", "8", "--max-steps", "1", "--eval-every", "1",
                 "--checkpoint-every", "1", "--quiet", "--run-dir", str(run)])  # fmt: skip
    assert code == 0, capsys.readouterr().out
    config = json.loads((run / "config.json").read_text())
    assert config["split"]["dataset"] == "reviews"  # read as your own CSV
    assert config["task_config"]["dataset"] == "auto"


def test_an_explicit_conflicting_dataset_names_the_value_that_reads_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reviews = str(_reviews(tmp_path / "reviews.csv"))
    code = main(["train", "sentiment", "--dataset", "rt_polarity", "--data", reviews,
                 "--quiet", "--run-dir", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "--dataset rt_polarity cannot read" in out
    assert "pass --dataset csv" in out
    assert "Not a directory" not in out


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".tsv"])
def test_user_file_formats_pick_the_file_reader(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"reviews{suffix}"
    if suffix == ".jsonl":
        path.write_text('{"text": "fine film", "label": "pos"}\n'
                        '{"text": "dull film", "label": "neg"}\n')  # fmt: skip
    else:
        _reviews(path, "\t" if suffix == ".tsv" else ",")
    found, dataset = find_labelled(ClassifyConfig(), path)
    assert (found, dataset) == (path, "csv")
    assert load_labelled(dataset, found).classes == ("neg", "pos")
    assert find_labelled(SpamConfig(), path) == (path, "csv")


def test_shared_folders_are_recognised_by_their_files(tmp_path: Path) -> None:
    layouts = {
        "sentiment_rt_polarity": (("rt-polarity.pos", "rt-polarity.neg"), "rt_polarity"),
        "ner_wnut17": (("wnut17train.conll", "emerging.dev.conll"), "wnut17"),
        "ner_conll2002": (("esp.train", "ned.train"), "conll2002"),
        "captioning_coco_mini": (("annotations/captions_train2017.json",), "coco"),
        "captioning_flickr8k": (("images.tsv", "Flickr8k_text/Flickr8k.token.txt"), "flickr8k"),
        "translation_multi30k": (("raw/train.en.gz",), "multi30k"),
        "english_corpus": (("manifest.tsv", "pg00011.txt.gz"), "gutenberg"),
        "mine_pairs": (("train.tsv", "valid.tsv"), "tsv_pairs"),
        "mine_conll": (("train.conll", "dev.conll"), "conll_folder"),
    }
    for folder, (files, key) in layouts.items():
        found = identify(_touch(tmp_path / folder, *files))
        assert found is not None, folder
        assert found.key == key, folder
    member = identify(tmp_path / "ner_wnut17" / "wnut17train.conll")
    assert member is not None
    assert member.path == tmp_path / "ner_wnut17"  # a member file stands for its folder
    assert identify(_touch(tmp_path / "empty", "notes.md")) is None


def test_unknown_folder_and_other_tasks_data_say_what_reads_them(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot tell what .* holds; sentiment reads .*"
                       r"--dataset csv: a CSV file"):  # fmt: skip
        find_labelled(ClassifyConfig(), _touch(tmp_path / "empty", "notes.md"))
    wnut = _touch(tmp_path / "ner_wnut17", "wnut17train.conll")
    with pytest.raises(DataError, match=r"data for `rnnkit train ner --corpus wnut17`"):
        find_labelled(ClassifyConfig(), wnut)
    conll_file = _touch(tmp_path, "mine.conll") / "mine.conll"
    with pytest.raises(DataError, match=r"a folder holding train\.conll and dev\.conll"):
        find_conll(NerConfig(), conll_file)
    with pytest.raises(DataError, match="not a path, nor a shared/data folder"):
        find_labelled(ClassifyConfig(), Path("no_such_data_set"))


def test_without_data_auto_reads_the_tasks_shared_set() -> None:
    assert choose_reader("sentiment", "auto", None, default="rt_polarity") == (None, "rt_polarity")
    assert choose_reader("spam", "csv", None, default="sms_spam") == (None, "csv")
    with pytest.raises(DataError, match="dataset 'csv' needs --data"):
        find_labelled(ClassifyConfig(dataset="csv"), None)


def test_translate_and_chat_detect_a_folder_of_tsv_pairs(tmp_path: Path) -> None:
    for split in ("train", "valid"):
        (tmp_path / f"{split}.tsv").write_text("hello there\thallo\nthank you\tdanke\n")
    assert len(load_pairs(TranslateConfig(), tmp_path, "train")) == 2
    assert len(load_pairs(ChatConfig(), tmp_path, "valid")) == 2
    with pytest.raises(ConfigError, match="pass --corpus custom"):
        load_pairs(TranslateConfig(corpus="multi30k"), tmp_path, "train")


# -- item 4, second example: `rnnkit train ner --data ner_wnut17` ---------------------------------
@_shared("ner_wnut17")
def test_ner_reads_the_wnut17_folder_by_name_or_path() -> None:
    folder = locate_shared("ner_wnut17")
    for data in (folder, Path("ner_wnut17"), folder / "wnut17train.conll"):
        root, corpus = find_conll(NerConfig(), data)
        assert corpus == "wnut17"
        assert root.resolve() == folder.resolve()
    dev = load_ner_split(NerConfig(), root, "dev")  # auto reads what the folder holds
    assert len(dev.sentences) == 1009  # shared/data/README.md §4a
    with pytest.raises(ConfigError, match="pass --corpus wnut17"):
        find_conll(NerConfig(corpus="conll2002_es"), folder)


@_shared("ner_conll2002")
def test_ner_conll2002_folder_reads_either_language() -> None:
    folder = locate_shared("ner_conll2002")
    assert find_conll(NerConfig(), folder)[1] == "conll2002_es"
    assert find_conll(NerConfig(corpus="conll2002_nl"), folder)[1] == "conll2002_nl"


# -- item 4, third example: `rnnkit train caption --data captioning_coco_mini` --------------------
@_shared("captioning_coco_mini")
def test_caption_reads_the_coco_mini_folder() -> None:
    folder = locate_shared("captioning_coco_mini")
    config, data = resolve_corpus(CaptionConfig(), Path("captioning_coco_mini"))
    assert config.corpus == "coco_mini"
    assert data is not None
    assert data.resolve() == folder.resolve()
    assert len(load_split(config, data, "val")) == 79  # shared/data/README.md §8
    assert len(load_split(CaptionConfig(), folder, "val")) == 79  # auto, as bench/caption.py
    with pytest.raises(ConfigError, match="pass --corpus coco_mini"):
        resolve_corpus(CaptionConfig(corpus="flickr8k"), folder)
    assert resolve_corpus(CaptionConfig(corpus="coco"), folder)[0].corpus == "coco"


@_shared("ner_wnut17")
def test_cli_records_the_shared_folder_of_a_bare_name(tmp_path: Path) -> None:
    assert from_shared("ner_wnut17").resolve() == locate_shared("ner_wnut17").resolve()
    assert from_shared(tmp_path) == tmp_path  # an existing path is kept
    assert resolve(tmp_path) == tmp_path


@pytest.mark.slow
@_shared("ner_wnut17")
def test_cli_trains_ner_on_wnut17_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    code = main(["train", "ner", "--data", "ner_wnut17", "--embed-dim", "4", "--hidden-size",
                 "4", "--char-embed-dim", "2", "--char-hidden-size", "2", "--max-steps", "1",
                 "--eval-every", "1", "--checkpoint-every", "1", "--quiet",
                 "--run-dir", str(run)])  # fmt: skip
    assert code == 0, capsys.readouterr().out
    config = json.loads((run / "config.json").read_text())
    assert Path(config["data"]).resolve() == locate_shared("ner_wnut17").resolve()
