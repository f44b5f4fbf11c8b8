"""What a `--data` path holds, told by its files: a shared data set's folder or a file format.

A folder is recognised by the marker files of each layout in `shared/data/README.md` (for
instance `rt-polarity.pos` for sentence polarity, `wnut17train.conll` for WNUT-17, the COCO
caption JSON under `annotations/`); a file by its name and extension (.csv, .jsonl, .tsv, a CoNLL
file, text). A file inside a shared data set's folder (`ner_wnut17/wnut17train.conll`) stands for
that folder. A bare name that is no path, such as `ner_wnut17`, is looked up in shared/data.
The tasks map what is found to their `--dataset`/`--corpus` value (`rnnkit.tasks.datapath`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnkit.datasets.shared import locate_shared
from rnnkit.errors import DataError


@dataclass(frozen=True)
class Layout:
    """A kind of data: its key, what it is in words, and the files that mark a folder of it."""

    key: str
    description: str
    markers: tuple[str, ...] = ()  # relative paths; any one present marks the folder


FOLDERS: tuple[Layout, ...] = (  # in the order they are tried
    Layout("rt_polarity", "the sentence-polarity folder (rt-polarity.pos, rt-polarity.neg)",
           ("rt-polarity.pos", "rt-polarity.neg")),
    Layout("movie_reviews", "the movie-review folder (movie_reviews.zip)", ("movie_reviews.zip",)),
    Layout("sms_spam", "the SMS Spam Collection folder (SMSSpamCollection)",
           ("SMSSpamCollection",)),
    Layout("wnut17", "the WNUT-17 NER folder (wnut17train.conll, emerging.dev.conll)",
           ("wnut17train.conll", "emerging.dev.conll")),
    Layout("conll2002", "the CoNLL-2002 NER folder (esp.train, ned.train)",
           ("esp.train", "ned.train")),
    Layout("coco", "a COCO captions folder (annotations/captions_train2017.json, train2017/)",
           ("annotations/captions_train2017.json", "annotations/captions_val2017.json")),
    Layout("flickr8k", "the Flickr8k folder (images.tsv, Flickr8k_text/, images/)",
           ("images.tsv", "Flickr8k_text")),
    Layout("multi30k", "the Multi30k folder (raw/train.en.gz, …)", ("raw/train.en.gz",
                                                                      "train.en.gz")),
    Layout("gutenberg", "the Gutenberg books folder (manifest.tsv, pgNNNNN.txt.gz)",
           ("manifest.tsv",)),
    Layout("word2vec_corpus", "the word2vec text folder (lee_background.cor)",
           ("lee_background.cor",)),
    Layout("word_embeddings", "the word-embedding evaluation folder (questions-words.txt)",
           ("questions-words.txt",)),
    Layout("timeseries", "the time-series folder (statsmodels/, sktime/)",
           ("statsmodels", "sktime")),
    Layout("conll_folder", "a CoNLL folder (train.conll, dev.conll)", ("train.conll",)),
    Layout("tsv_pairs", "a folder of sentence pairs (train.tsv, valid.tsv)", ("train.tsv",)),
)  # fmt: skip
FILES: dict[str, Layout] = {  # by extension, lower case
    ".csv": Layout("csv_file", "a CSV file"),
    ".jsonl": Layout("jsonl_file", "a JSONL file"),
    ".tsv": Layout("tsv_file", "a TSV file"),
    ".conll": Layout("conll_file", "a CoNLL file"),
    ".json": Layout("json_file", "a JSON file"),
    ".zip": Layout("movie_reviews", "a zip archive (read as movie_reviews.zip)"),
    ".txt": Layout("text_file", "a text file"),
    ".gz": Layout("text_file", "a gzip file"),
}
SPAM_FILE = Layout("sms_spam", "the SMS Spam Collection file (SMSSpamCollection)")
_GENERIC = {"conll_folder", "tsv_pairs"}  # layouts a user's own folder also has
_READ_AS_FOLDER = {"rt_polarity", "wnut17", "conll2002", "flickr8k", "multi30k"}  # not by file


@dataclass(frozen=True)
class Found:
    """What `identify` found: the layout and the path to hand its reader (a folder or file)."""

    layout: Layout
    path: Path

    @property
    def key(self) -> str:
        return self.layout.key

    def describe(self) -> str:
        """e.g. "/data/ner_wnut17, the WNUT-17 NER folder (…)"."""
        return f"{self.path}, {self.layout.description}"


def from_shared(path: str | Path) -> Path:
    """`path`, or shared/data/`path` when `path` does not exist and names a shared data set."""
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    return locate_shared(str(path)) or path


def resolve(path: str | Path) -> Path:
    """`path` when it exists, else shared/data/`path` for a data set's name; DataError if neither.

    >>> resolve("no/such/path")
    Traceback (most recent call last):
    ...
    rnnkit.errors.DataError: data not found: no/such/path (not a path, nor a shared/data folder)
    """
    found = from_shared(path)
    if not found.exists():
        raise DataError(f"data not found: {path} (not a path, nor a shared/data folder)")
    return found


def _folder_layout(folder: Path, *, generic: bool = True) -> Layout | None:
    for layout in FOLDERS:
        if (generic or layout.key not in _GENERIC) and any(
            (folder / marker).exists() for marker in layout.markers
        ):
            return layout
    return None


def identify(path: str | Path) -> Found | None:
    """The layout of an existing folder or file, or None when nothing is recognised."""
    path = Path(path)
    if path.is_dir():
        layout = _folder_layout(path)
        return None if layout is None else Found(layout, path)
    parent = _folder_layout(path.parent, generic=False)
    if parent is not None and parent.key in _READ_AS_FOLDER:
        return Found(parent, path.parent)  # a member file of a shared set stands for its folder
    if path.name == "SMSSpamCollection":
        return Found(SPAM_FILE, path)
    layout = FILES.get(path.suffix.lower())
    return None if layout is None else Found(layout, path)


__all__ = ["FILES", "FOLDERS", "Found", "Layout", "from_shared", "identify", "resolve"]
