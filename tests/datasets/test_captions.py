"""Caption readers: the real COCO mini and Flickr8k files, small synthetic sets, every bad file."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from rnnkit.datasets.captions import (
    CaptionedImage,
    CaptionSet,
    caption_tokenize,
    load_coco_mini,
    load_flickr8k,
    read_coco_captions,
    read_flickr8k,
    read_flickr8k_tokens,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import DataError

# the tests that read them carry @pytest.mark.shared_data(...) (tests/conftest.py)
COCO = pytest.mark.shared_data("captioning_coco_mini")  # shared/data/README.md §8
FLICKR = pytest.mark.shared_data("captioning_flickr8k")  # shared/data/README.md §10


@pytest.fixture(scope="module")
def coco() -> Path:
    return find_shared("captioning_coco_mini")


@pytest.fixture(scope="module")
def flickr() -> Path:
    return find_shared("captioning_flickr8k")


# -- the real files -----------------------------------------------------------------------------
@COCO
@pytest.mark.parametrize(
    ("split", "count", "first_image", "first_caption"),
    [
        ("train", 80, "000000493652.jpg", "Living room decorated for Christmas with gifts galore"),
        ("val", 79, "000000397133.jpg", "A man is in a kitchen making pizzas."),
    ],
)
def test_coco_mini_counts_and_first_caption(
    coco: Path, split: str, count: int, first_image: str, first_caption: str
):
    captions = load_coco_mini(coco, split)  # type: ignore[arg-type]
    assert (len(captions), captions.captions_count) == (count, 5 * count)  # README §8 table
    assert {len(item.captions) for item in captions.items} == {5}
    assert captions.name == f"coco-mini {split}"
    first = captions.items[0]
    assert (first.image, first.captions[0]) == (first_image, first_caption)
    assert first.path == coco / f"{split}2017" / first_image
    assert len(captions.with_images()) == count  # every image is on disk


@COCO
def test_coco_captions_are_stripped_and_whitespace_folded(coco: Path):
    captions = read_coco_captions(coco / "annotations" / "captions_val2017.json")
    texts = [text for item in captions.items for text in item.captions]
    assert "Two pizza pies sitting atop a stove getting ready to be cut ." in texts  # was "cut\n."
    assert "Lake or river beach with plane in shallow water." in texts  # was "water. "
    assert all(text == " ".join(text.split()) for text in texts)
    assert {item.path for item in captions.items} == {None}  # no images_dir given
    assert len(captions.with_images()) == 0


@FLICKR
@pytest.mark.parametrize(("split", "count"), [("train", 420), ("dev", 113), ("test", 125)])
def test_flickr8k_subset_on_disk(flickr: Path, split: str, count: int):
    captions = load_flickr8k(flickr, split)  # type: ignore[arg-type]
    assert (len(captions), captions.captions_count) == (count, 5 * count)  # README §10
    assert all(item.path is not None and item.path.is_file() for item in captions.items)
    split_file = flickr / "Flickr8k_text" / f"Flickr_8k.{split}Images.txt"
    order = split_file.read_text(encoding="utf-8").split()
    positions = [order.index(item.image) for item in captions.items]
    assert positions == sorted(positions)  # split-file order


@FLICKR
def test_flickr8k_token_file_and_official_splits(flickr: Path):
    text_dir = flickr / "Flickr8k_text"
    tokens = read_flickr8k_tokens(text_dir / "Flickr8k.token.txt")
    assert len(tokens) == 8_092  # 8,091 images + the typo name README §10 mentions
    assert sum(name.endswith(".jpg") for name in tokens) == 8_091
    assert tokens["2258277193_586949ec62.jpg.1"][0] == "people waiting for the subway"
    assert tokens["1000268201_693b08cb0e.jpg"][:2] == (
        "A child in a pink dress is climbing up a set of stairs in an entry way .",
        "A girl going into a wooden building .",
    )
    dev = read_flickr8k(text_dir, split="dev")
    assert (len(dev), dev.captions_count, dev.items[0].image) == (
        1_000,
        5_000,
        "2090545563_a4e66ec76b.jpg",
    )
    assert dev.items[0].path is None


def test_caption_tokenize():
    assert caption_tokenize("A black dog's ball , in the T-shirt .") == [
        "a", "black", "dog's", "ball", ",", "in", "the", "t-shirt", ".",
    ]  # fmt: skip
    assert caption_tokenize("Two dogs play.") == ["two", "dogs", "play", "."]


# -- Flickr8k-style files written here -----------------------------------------------------------
def _flickr_text(folder: Path, tokens: str, dev: str = "b.jpg\na.jpg\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Flickr8k.token.txt").write_text(tokens, encoding="utf-8")
    (folder / "Flickr_8k.devImages.txt").write_text(dev, encoding="utf-8")
    return folder


GOOD_TOKENS = "a.jpg#1\tA cat sits .\na.jpg#0\tA  grey cat \nb.jpg#0\tA dog .\n\n"


def test_flickr8k_orders_filters_and_finds_images(tmp_path: Path):
    text_dir = _flickr_text(tmp_path / "text", GOOD_TOKENS)
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(b"not decoded here")
    captions = read_flickr8k(text_dir, images, "dev")
    assert [item.image for item in captions.items] == ["b.jpg", "a.jpg"]  # split-file order
    assert captions.items[1] == CaptionedImage(
        "a.jpg", images / "a.jpg", ("A grey cat", "A cat sits .")
    )  # #k order, whitespace folded
    assert captions.items[0].path is None
    assert [item.image for item in captions.with_images().items] == ["a.jpg"]
    only_b = read_flickr8k(text_dir, None, "dev", images_list={"b.jpg"})
    assert [item.image for item in only_b.items] == ["b.jpg"]


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ("a.jpg#0\tok\na.jpg#1 no tab\n", r"token\.txt, line 2 has no tab"),
        ("a.jpg\tA cat .\n", r"token\.txt, line 1: 'a\.jpg' must end in a #k"),
        ("a.jpg#x\tA cat .\n", r"line 1: 'a\.jpg#x' must end in a #k"),
        ("a.jpg#0\tok\nb.jpg#0\t  \n", r"token\.txt, line 2: the caption is empty"),
        ("a.jpg#0\tok\na.jpg#0\tagain\n", r"line 2: a\.jpg#0 appears twice"),
        ("\n\n", "holds no caption line"),
    ],
)
def test_flickr8k_bad_token_lines(tmp_path: Path, tokens: str, message: str):
    text_dir = _flickr_text(tmp_path, tokens)
    with pytest.raises(DataError, match=message):
        read_flickr8k(text_dir, split="dev")


def test_flickr8k_bad_split_files(tmp_path: Path):
    text_dir = _flickr_text(tmp_path, GOOD_TOKENS, dev="a.jpg\nc.jpg\n")
    with pytest.raises(DataError, match=r"devImages\.txt, line 2: c\.jpg has no caption"):
        read_flickr8k(text_dir, split="dev")
    with pytest.raises(DataError, match=r"testImages\.txt not found; expected the test split"):
        read_flickr8k(text_dir, split="test")
    with pytest.raises(DataError, match=r"split must be one of \['train', 'dev', 'test'\]"):
        read_flickr8k(text_dir, split="val")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"Flickr8k\.token\.txt not found; expected"):
        read_flickr8k(tmp_path / "elsewhere", split="dev")
    (text_dir / "Flickr8k.token.txt").write_bytes(b"a.jpg#0\tcaf\xe9\n")
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 11"):
        read_flickr8k(text_dir, split="dev")


def test_load_flickr8k_checks_images_tsv(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    _flickr_text(tmp_path / "Flickr8k_text", GOOD_TOKENS)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"x")
    tsv = tmp_path / "images.tsv"
    tsv.write_text("file\tsplit\na.jpg\tdev\nb.jpg\tdev\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rnnkit.datasets.captions"):
        captions = load_flickr8k(tmp_path, "dev")
    assert [item.image for item in captions.items] == ["a.jpg"]  # b.jpg is not on disk
    assert "1 dev images listed in images.tsv are not in" in caplog.text
    tsv.write_text("file\tsplit\nz.jpg\tdev\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"marked 'dev' are not in Flickr_8k\.devImages\.txt"):
        load_flickr8k(tmp_path, "dev")
    tsv.write_text("file\tsplit\na.jpg\tval\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"images\.tsv, line 2: expected `<image><TAB>train"):
        load_flickr8k(tmp_path, "dev")


# -- COCO-style files written here ---------------------------------------------------------------
def _coco(images: Any = None, annotations: Any = None) -> dict[str, Any]:
    return {
        "images": [{"id": 1, "file_name": "one.jpg"}, {"id": 2, "file_name": "two.jpg"}]
        if images is None
        else images,
        "annotations": [
            {"image_id": 2, "caption": " A dog . "},
            {"image_id": 1, "caption": "A cat."},
            {"image_id": 2, "caption": "A brown\ndog."},
        ]
        if annotations is None
        else annotations,
    }


def test_coco_groups_in_image_order_and_drops_uncaptioned(tmp_path: Path):
    path = tmp_path / "captions.json"
    path.write_text(json.dumps(_coco()), encoding="utf-8")
    (tmp_path / "two.jpg").write_bytes(b"x")
    captions = read_coco_captions(path, tmp_path)
    assert captions == CaptionSet(
        (
            CaptionedImage("one.jpg", None, ("A cat.",)),
            CaptionedImage("two.jpg", tmp_path / "two.jpg", ("A dog .", "A brown dog.")),
        ),
        str(path),
    )
    images = [*_coco()["images"], {"id": 3, "file_name": "three.jpg"}]
    path.write_text(json.dumps(_coco(images=images)), encoding="utf-8")
    assert [item.image for item in read_coco_captions(path).items] == ["one.jpg", "two.jpg"]


BAD_COCO = [
    ([], r"bad\.json: expected a JSON object, got list"),
    ({"annotations": []}, r"bad\.json: missing key 'images'"),
    ({"images": []}, r"bad\.json: missing key 'annotations'"),
    (_coco(images={"id": 1}), r"'images' must be a list, got dict"),
    (_coco(images=[["one.jpg"]]), r"images\[0\] must be a JSON object"),
    (_coco(images=[{"file_name": "a.jpg"}]), r"images\[0\] has no 'id' key"),
    (_coco(images=[{"id": "1", "file_name": "a.jpg"}]), r"images\[0\]\.id must be int, got '1'"),
    (_coco(images=[{"id": True, "file_name": "a.jpg"}]), r"images\[0\]\.id must be int"),
    (_coco(images=[{"id": 1, "file_name": 7}]), r"images\[0\]\.file_name must be str"),
    (_coco(images=[{"id": 1, "file_name": "../a.jpg"}]), r"images\[0\]: image name '\.\./a"),
    (
        _coco(images=[{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}]),
        r"images\[1\]: id 1 is repeated",
    ),
    (_coco(annotations=[{"image_id": 9, "caption": "x"}]), r"annotations\[0\]\.image_id 9 names"),
    (
        _coco(annotations=[{"image_id": 1, "caption": "x"}, {"image_id": 1, "caption": " \n"}]),
        r"bad\.json: annotations\[1\]\.caption is empty",
    ),
    (_coco(annotations=[{"image_id": 1, "caption": 5}]), r"annotations\[0\]\.caption must be str"),
    (_coco(annotations=[{"image_id": 1.0, "caption": "x"}]), r"annotations\[0\]\.image_id must"),
    (_coco(annotations=[{"image_id": 1}]), r"annotations\[0\] has no 'caption' key"),
    (_coco(annotations=[]), r"bad\.json holds no captioned image"),
]


@pytest.mark.parametrize(("data", "message"), BAD_COCO)
def test_coco_bad_structure_names_file_and_key(tmp_path: Path, data: Any, message: str):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_coco_captions(path)


def test_coco_bad_files(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [}', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.json is not JSON \(line 1, column 13\)"):
        read_coco_captions(path)
    path.write_bytes(b'{"images": [], "annotations": [], "x": "\xff"}')
    with pytest.raises(DataError, match=r"bad\.json is not UTF-8 text \(byte 40"):
        read_coco_captions(path)
    with pytest.raises(DataError, match=r"missing\.json not found; expected a COCO captions"):
        read_coco_captions(tmp_path / "missing.json")
    with pytest.raises(DataError, match=r"COCO mini split must be one of \['train', 'val'\]"):
        load_coco_mini(tmp_path, "test")  # type: ignore[arg-type]
    path.write_text("\ufeff" + json.dumps(_coco()), encoding="utf-8")  # a BOM is accepted
    assert len(read_coco_captions(path)) == 2


# -- regressions found by fuzzing (tests/reliability, bench/reliability/fuzz.py) -----------------
@pytest.mark.parametrize("content", ["[" * 100_000, '{"images": ' + "1" * 5000 + "}"])
def test_coco_json_too_deep_or_with_a_huge_int_raises_data_error(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "deep.json"  # json.loads raised RecursionError / ValueError
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=r"deep\.json is not JSON"):
        read_coco_captions(path)


def test_flickr8k_caption_number_of_thousands_of_digits_raises_data_error(tmp_path: Path):
    path = tmp_path / "Flickr8k.token.txt"  # int() raised ValueError beyond 4300 digits
    path.write_text("a.jpg#" + "1" * 5000 + "\tA dog .\n", encoding="utf-8")
    with pytest.raises(DataError, match="must end in a #k caption number"):
        read_flickr8k_tokens(path)
