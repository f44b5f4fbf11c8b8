"""Image captions: COCO caption JSON and Flickr8k text files, read into images with their captions.

Formats:
    COCO captions   one JSON object with `images` (each with an int `id` and a `file_name`) and
                    `annotations` (each with an int `image_id` and a `caption`); other keys
                    (`info`, `licenses`, `flickr_url` …) are ignored. See
                    `shared/data/README.md` §8.
    Flickr8k        `Flickr8k.token.txt`: `<image>#<k><TAB>caption` a line, k = 0…4, all images;
                    `Flickr_8k.{train,dev,test}Images.txt`: one image file name a line (6,000 /
                    1,000 / 1,000). See `shared/data/README.md` §10.

A caption is stripped and its inner runs of whitespace (a stray newline, two spaces) become one
space; nothing else is changed, so the text is what the annotators wrote. `caption_tokenize`
cuts it into lower-cased words and punctuation for a model.

Data:
    COCO 2017 mini subset (80 train, 79 val images, 5 captions each), GitHub
        Obmutescence/COCO-MINI @ 644f29e. Captions CC BY 4.0; each photo keeps its own Flickr
        CC licence (`images[].license`), more than half NonCommercial: tests and research only.
    Flickr8k text files (siddhantagwl/Image-Caption-Generation @ e54a5e8) and 658 of its photos
        (quantumnaan/sic_translator @ dca22ae). Research use only; do not redistribute.

References:
    Lin et al. Microsoft COCO: Common Objects in Context. ECCV 2014.
        https://arxiv.org/abs/1405.0312
    Chen et al. Microsoft COCO Captions: Data Collection and Evaluation Server. 2015.
        https://arxiv.org/abs/1504.00325
    Hodosh, Young & Hockenmaier. Framing Image Description as a Ranking Task: Data, Models and
        Evaluation Metrics. JAIR 47:853–899, 2013. https://doi.org/10.1613/jair.3994
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rnnkit.datasets.translation import tokenize_sentence
from rnnkit.errors import DataError
from rnnkit.text import files

logger = logging.getLogger(__name__)

COCO_MINI_SPLITS: tuple[str, ...] = ("train", "val")
FLICKR8K_SPLITS: tuple[str, ...] = ("train", "dev", "test")
FLICKR8K_TOKENS = "Flickr8k.token.txt"
_BOM = "\ufeff"
_TOKEN_KEY = re.compile(r"(?P<image>.+)#(?P<k>[0-9]{1,9})")  # k: 1-9 digits


@dataclass(frozen=True)
class CaptionedImage:
    """One image and its captions, in the order the source gives them."""

    image: str  # the file name as the format names it, e.g. "000000493652.jpg"
    path: Path | None  # the image file when it is on disk, else None
    captions: tuple[str, ...]


@dataclass(frozen=True)
class CaptionSet:
    """Captioned images of one split.

    >>> item = CaptionedImage("a.jpg", None, ("A dog runs.", "A brown dog."))
    >>> captions = CaptionSet((item,), "toy")
    >>> len(captions), captions.captions_count, len(captions.with_images())
    (1, 2, 0)
    """

    items: tuple[CaptionedImage, ...]
    name: str  # where the captions came from, e.g. "flickr8k train" or a file path

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))  # lists in, tuples stored

    def __len__(self) -> int:
        return len(self.items)

    @property
    def captions_count(self) -> int:
        """The number of captions over all images."""
        return sum(len(item.captions) for item in self.items)

    def with_images(self) -> CaptionSet:
        """Only the images whose file is on disk (`path` is not None), under the same name."""
        return CaptionSet(tuple(item for item in self.items if item.path is not None), self.name)


def _check_split(split: str, splits: tuple[str, ...], dataset: str) -> None:
    if split not in splits:
        raise DataError(f"{dataset} split must be one of {list(splits)}, got {split!r}")


def _clean(caption: str) -> str:
    """Strip the caption and turn each inner run of whitespace into one space."""
    return " ".join(caption.split())


def _read_text(path: Path, expected: str) -> str:
    """A UTF-8 file as text (BOM dropped); DataError naming what was expected when missing."""
    if path.exists() and not path.is_dir():  # a device or a FIFO would be read forever
        files.regular_file(path, "data file")
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as err:
        raise DataError(f"{path} not found; expected {expected}") from err
    try:
        return raw.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path} is not UTF-8 text (byte {err.start}: {raw[err.start : err.start + 1]!r}); "
            "re-save it as UTF-8"
        ) from err


def _plain_name(name: str, where: str) -> str:
    """`name` itself; DataError when it is empty or holds a folder part ("../x.jpg", "a/b")."""
    if name in ("", ".", "..") or "/" in name or "\\" in name:
        raise DataError(f"{where}: image name {name!r} must be a plain file name")
    return name


def _image_path(images_dir: Path | None, name: str) -> Path | None:
    """images_dir/name when that file exists, else None."""
    if images_dir is None:
        return None
    path = images_dir / name
    return path if path.is_file() else None


# -- COCO ----------------------------------------------------------------------------------------
def _field(record: Any, key: str, kind: type, where: str) -> Any:
    """record[key], which must be of `kind` (an int is never a bool); DataError naming `where`."""
    if not isinstance(record, dict):
        raise DataError(f"{where} must be a JSON object, got {record!r:.60}")
    if key not in record:
        raise DataError(f"{where} has no {key!r} key")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"{where}.{key} must be {kind.__name__}, got {value!r:.60}")
    return value


def _coco_list(data: Any, key: str, path: Path) -> list[Any]:
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if key not in data:
        raise DataError(
            f"{path}: missing key {key!r}; a COCO captions file holds 'images' and 'annotations'"
        )
    if not isinstance(data[key], list):
        raise DataError(f"{path}: {key!r} must be a list, got {type(data[key]).__name__}")
    return data[key]


def _coco_images(data: Any, path: Path) -> dict[int, str]:
    """image id -> file name, in the file's order; DataError for a bad or repeated entry."""
    images: dict[int, str] = {}
    for index, record in enumerate(_coco_list(data, "images", path)):
        where = f"{path}: images[{index}]"
        image_id = _field(record, "id", int, where)
        if image_id in images:
            raise DataError(f"{where}: id {image_id} is repeated; image ids must be unique")
        images[image_id] = _plain_name(_field(record, "file_name", str, where), where)
    return images


def _coco_captions(data: Any, path: Path, images: dict[int, str]) -> dict[int, list[str]]:
    """image id -> its cleaned captions, in annotation order."""
    captions: dict[int, list[str]] = {}
    for index, record in enumerate(_coco_list(data, "annotations", path)):
        where = f"{path}: annotations[{index}]"
        image_id = _field(record, "image_id", int, where)
        if image_id not in images:
            raise DataError(f"{where}.image_id {image_id} names no entry of 'images'")
        caption = _clean(_field(record, "caption", str, where))
        if not caption:
            raise DataError(f"{where}.caption is empty; fill it in or remove the annotation")
        captions.setdefault(image_id, []).append(caption)
    return captions


def read_coco_captions(json_path: str | Path, images_dir: str | Path | None = None) -> CaptionSet:
    """A COCO captions file: each image with its captions, in the file's image order.

    Images without any caption are dropped.

    Args:
        json_path: e.g. `annotations/captions_train2017.json`.
        images_dir: the folder of the `file_name`s; None leaves every `path` None.

    Returns:
        CaptionSet named by the file path; captions in annotation order.

    Raises:
        DataError: the file is missing, not UTF-8, not JSON or not an object; `images` or
            `annotations` is missing or not a list; an entry lacks a key or has the wrong type
            (`images[i].id` int, `file_name` str, `annotations[i].image_id` int, `caption`
            str); an id repeats; an annotation names no image; a caption is empty; no image has
            a caption. The message names the file and the key with its index.
    """
    path = Path(json_path)
    text = _read_text(path, "a COCO captions JSON file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path} is not JSON (line {err.lineno}, column {err.colno}): {err.msg}"
        ) from err
    except (ValueError, RecursionError) as err:  # nested too deep, an int of > 4300 digits
        raise DataError(f"{path} is not JSON that Python can read: {str(err)[:80]}") from err
    images = _coco_images(data, path)
    captions = _coco_captions(data, path, images)
    folder = None if images_dir is None else Path(images_dir)
    items = tuple(
        CaptionedImage(name, _image_path(folder, name), tuple(captions[image_id]))
        for image_id, name in images.items()
        if image_id in captions
    )
    if not items:
        raise DataError(f"{path} holds no captioned image")
    return CaptionSet(items, str(path))


def load_coco_mini(root: str | Path, split: Literal["train", "val"]) -> CaptionSet:
    """The COCO 2017 mini subset: `root/annotations/captions_<split>2017.json`, `root/<split>2017/`.

    Returns:
        CaptionSet named "coco-mini <split>": 80 train or 79 val images, 5 captions each.
    """
    _check_split(split, COCO_MINI_SPLITS, "COCO mini")
    root = Path(root)
    found = read_coco_captions(
        root / "annotations" / f"captions_{split}2017.json", root / f"{split}2017"
    )
    return CaptionSet(found.items, f"coco-mini {split}")


# -- Flickr8k ------------------------------------------------------------------------------------
def _token_line(line: str, number: int, path: Path) -> tuple[str, int, str]:
    """(image, k, caption) of one `<image>#<k><TAB>caption` line."""
    key, tab, caption = line.partition("\t")
    if not tab:
        raise DataError(f"{path}, line {number} has no tab; expected `<image>#<k><TAB>caption`")
    match = _TOKEN_KEY.fullmatch(key.strip())
    if match is None:
        raise DataError(
            f"{path}, line {number}: {key!r} must end in a #k caption number, e.g. 'a.jpg#0'"
        )
    caption = _clean(caption)
    if not caption:
        raise DataError(f"{path}, line {number}: the caption is empty; fill it in or remove it")
    return match["image"], int(match["k"]), caption


def read_flickr8k_tokens(path: str | Path) -> dict[str, tuple[str, ...]]:
    """`Flickr8k.token.txt` as image -> captions in #k order (blank lines skipped).

    The real file holds 8,092 names: the 8,091 images and the known typo
    `2258277193_586949ec62.jpg.1`, which is kept as written (no split lists it).

    Raises:
        DataError: the file is missing or not UTF-8, holds no line, or a line has no tab, a
            bad `#k` suffix, an empty caption or a repeated `#k` for its image (line number).
    """
    path = Path(path)
    text = _read_text(path, f"{FLICKR8K_TOKENS} (`<image>#<k><TAB>caption` lines)")
    found: dict[str, dict[int, str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        image, k, caption = _token_line(line.rstrip("\r"), number, path)
        slots = found.setdefault(image, {})
        if k in slots:
            raise DataError(f"{path}, line {number}: {image}#{k} appears twice")
        slots[k] = caption
    if not found:
        raise DataError(f"{path} holds no caption line")
    return {image: tuple(slots[k] for k in sorted(slots)) for image, slots in found.items()}


def read_flickr8k(
    text_dir: str | Path,
    images_dir: str | Path | None = None,
    split: Literal["train", "dev", "test"] = "train",
    images_list: Collection[str] | None = None,
) -> CaptionSet:
    """One official Flickr8k split: its images in split-file order, captions in #k order.

    Args:
        text_dir: the `Flickr8k_text` folder (token file and split files).
        images_dir: the folder of the JPEGs; None leaves every `path` None.
        split: train (6,000 images), dev (1,000) or test (1,000).
        images_list: keep only these image names (e.g. those on disk); None keeps the split.

    Returns:
        CaptionSet named "flickr8k <split>".

    Raises:
        DataError: a file is missing (the message names the expected file), the token file is
            malformed (see `read_flickr8k_tokens`), or an image of the split file has no caption
            (split file and line number).
    """
    _check_split(split, FLICKR8K_SPLITS, "Flickr8k")
    text_dir = Path(text_dir)
    captions = read_flickr8k_tokens(text_dir / FLICKR8K_TOKENS)
    split_path = text_dir / f"Flickr_8k.{split}Images.txt"
    lines = _read_text(split_path, f"the {split} split file, one image name a line").split("\n")
    folder = None if images_dir is None else Path(images_dir)
    items = []
    for number, line in enumerate(lines, start=1):
        image = line.strip()
        if not image or (images_list is not None and image not in images_list):
            continue
        if image not in captions:
            raise DataError(
                f"{split_path}, line {number}: {image} has no caption in the token file"
            )
        _plain_name(image, f"{split_path}, line {number}")
        items.append(CaptionedImage(image, _image_path(folder, image), captions[image]))
    return CaptionSet(tuple(items), f"flickr8k {split}")


def _listed_images(path: Path) -> dict[str, str]:
    """`images.tsv` (`file<TAB>split` with a header) as image -> split."""
    listed: dict[str, str] = {}
    for number, line in enumerate(_read_text(path, "images.tsv (file<TAB>split)").split("\n"), 1):
        if number == 1 or not line.strip():
            continue
        image, tab, split = line.rstrip("\r").partition("\t")
        if not tab or split not in FLICKR8K_SPLITS:
            raise DataError(
                f"{path}, line {number}: expected `<image><TAB>train|dev|test`, got {line!r:.80}"
            )
        listed[image] = split
    return listed


def load_flickr8k(root: str | Path, split: Literal["train", "dev", "test"]) -> CaptionSet:
    """The images of `root/images.tsv` in one split that are on disk, with all their captions.

    On the shared subset: 420 train, 113 dev, 125 test images, 5 captions each. Listed images
    missing from `root/images` are left out with a warning.

    Raises:
        DataError: a file is missing or malformed, or images.tsv puts an image in a split
            whose official split file does not list it.
    """
    _check_split(split, FLICKR8K_SPLITS, "Flickr8k")
    root = Path(root)
    listed = _listed_images(root / "images.tsv")
    wanted = {image for image, image_split in listed.items() if image_split == split}
    found = read_flickr8k(root / "Flickr8k_text", root / "images", split, images_list=wanted)
    stray = sorted(wanted - {item.image for item in found.items})
    if stray:
        raise DataError(
            f"{root / 'images.tsv'}: {len(stray)} image(s) marked {split!r} are not in "
            f"Flickr_8k.{split}Images.txt, e.g. {stray[0]}"
        )
    on_disk = found.with_images()
    if len(on_disk) < len(found):
        logger.warning("%d %s images listed in images.tsv are not in %s; left out",
                       len(found) - len(on_disk), split, root / "images")  # fmt: skip
    return on_disk


def caption_tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks of a caption (`tokenize_sentence`).

    >>> caption_tokenize("A dog's red ball, in the T-shirt .")
    ['a', "dog's", 'red', 'ball', ',', 'in', 'the', 't-shirt', '.']
    """
    return tokenize_sentence(text, lowercase=True)


__all__ = [
    "COCO_MINI_SPLITS",
    "FLICKR8K_SPLITS",
    "CaptionSet",
    "CaptionedImage",
    "caption_tokenize",
    "load_coco_mini",
    "load_flickr8k",
    "read_coco_captions",
    "read_flickr8k",
    "read_flickr8k_tokens",
]
