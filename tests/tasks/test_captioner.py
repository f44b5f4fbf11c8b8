"""A trained caption run in use: load_captioner, caption_images and `rnnkit caption`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image
from test_caption import colour_features, train_colours, write_coco_corpus

from rnnkit.cli import main
from rnnkit.errors import CheckpointError, ConfigError, DataError, RnnkitError
from rnnkit.tasks.caption.captioner import caption_images, load_captioner
from rnnkit.tasks.caption.config import CaptionConfig

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A short colour-corpus caption run (40 updates: the API needs a run, not a good one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield train_colours(tmp_path_factory.mktemp("caption"), steps=40)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    """A red PNG and a blue JPEG, not square."""
    red, blue = tmp_path / "red.png", tmp_path / "blue.jpg"
    Image.new("RGB", (30, 20), (240, 10, 10)).save(red)
    Image.new("RGB", (20, 40), (20, 30, 235)).save(blue)
    return [red, blue]


# -- the Python API -------------------------------------------------------------------------------
def test_load_captioner_best_latest_and_a_path(run: Path) -> None:
    best = load_captioner(run)
    latest = load_captioner(run, checkpoint="latest")
    assert best.checkpoint == latest.checkpoint == run / "checkpoints" / "step-00000040"
    assert not best.model.training  # eval mode: BatchNorm uses its running statistics
    assert isinstance(best.config, CaptionConfig)
    assert (best.config.image_size, best.config.cnn_width, best.config.min_freq) == (16, 4, 1)
    assert best.model.config.encoder == "cnn"
    assert "red" in best.vocab
    by_path = load_captioner(run, checkpoint=str(best.checkpoint))
    for name, tensor in best.model.state_dict().items():
        assert torch.equal(tensor, by_path.model.state_dict()[name]), name


def test_load_captioner_errors(run: Path, tmp_path: Path) -> None:
    with pytest.raises(RnnkitError, match="not an rnnkit run directory"):
        load_captioner(tmp_path / "nowhere")
    other = tmp_path / "condlm"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"task": "condlm", "decoder": {}}))
    with pytest.raises(ConfigError, match=r"is not a caption run \(task 'condlm'\)"):
        load_captioner(other)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(run / "config.json", bare / "config.json")
    with pytest.raises(CheckpointError, match="holds no checkpoint yet"):
        load_captioner(bare)


def test_caption_images_bytes_equal_paths_in_order(run: Path, images: list[Path]) -> None:
    loaded = load_captioner(run)
    for beam in (1, 3):
        from_paths = caption_images(loaded, images, beam_size=beam)
        from_bytes = caption_images(loaded, [p.read_bytes() for p in images], beam_size=beam)
        assert from_bytes == from_paths
        assert len(from_paths) == 2
        assert all(isinstance(c, str) and c for c in from_paths)
        one_by_one = [caption_images(loaded, [p], beam_size=beam)[0] for p in images]
        assert one_by_one == from_paths  # eval mode: an image's caption ignores its batch
    mixed = caption_images(loaded, [images[1].read_bytes(), str(images[0])])
    assert mixed == caption_images(loaded, images)[::-1]


def test_caption_images_max_length(run: Path, images: list[Path]) -> None:
    loaded = load_captioner(run)
    assert all(len(c.split()) <= 2 for c in caption_images(loaded, images, max_length=2))
    full = caption_images(loaded, images)  # max_length None: the run's config (25)
    assert max(len(c.split()) for c in full) > 2
    with pytest.raises(ConfigError, match="max_length must be a positive integer, got 0"):
        caption_images(loaded, images, max_length=0)  # not read as "the default"


def test_caption_images_bad_input(run: Path, tmp_path: Path) -> None:
    loaded = load_captioner(run)
    with pytest.raises(DataError, match="at least one image"):
        caption_images(loaded, [])
    with pytest.raises(DataError, match="not an image Pillow can identify"):
        caption_images(loaded, [b"plain text, not a picture"])
    with pytest.raises(DataError, match="not found"):
        caption_images(loaded, [tmp_path / "missing.png"])


@pytest.fixture(scope="module")
def features_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("features")
    root = write_coco_corpus(folder / "data")
    features = colour_features(root, folder / "features.safetensors")
    return train_colours(folder, "--features", str(features), steps=2)


def test_a_features_run_refuses_image_files(features_run: Path, images: list[Path]) -> None:
    loaded = load_captioner(features_run)
    assert loaded.model.config.encoder == "features"
    with pytest.raises(ConfigError, match="captions precomputed features, not image files"):
        caption_images(loaded, images)


# -- the command line -----------------------------------------------------------------------------
def test_caption_cli_prints_one_line_per_image(
    run: Path, images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = load_captioner(run)
    argv = ["caption", str(run), *map(str, images), "--beam", "1", "--max-length", "4"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    expected = caption_images(loaded, images, beam_size=1, max_length=4)
    assert lines == [f"red.png: {expected[0]}", f"blue.jpg: {expected[1]}"]
    assert main(["caption", str(run), str(images[0]), "--checkpoint", "latest"]) == 0
    beam_three = caption_images(loaded, images[:1], beam_size=3)[0]  # the default beam is 3
    assert capsys.readouterr().out.strip() == f"red.png: {beam_three}"


def test_caption_cli_errors_are_one_line_and_exit_2(
    run: Path, features_run: Path, images: list[Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    text = tmp_path / "notes.txt"
    text.write_text("not an image\n")
    assert main(["caption", str(run), str(images[0]), str(text)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error: image file")
    assert "notes.txt is not an image Pillow can identify" in " ".join(out.split())
    assert "red.png:" not in out  # nothing is printed before every image has loaded
    assert main(["caption", str(features_run), str(images[0])]) == 2
    assert "captions precomputed features" in capsys.readouterr().out
    assert main(["caption", str(tmp_path), str(images[0])]) == 2
    assert "not an rnnkit run directory" in " ".join(capsys.readouterr().out.split())
    assert main(["caption", str(run), str(images[0]), "--beam", "0"]) == 2
    assert "beam_size must be a positive integer, got 0" in capsys.readouterr().out
