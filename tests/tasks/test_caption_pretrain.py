"""Caption CNN pretraining: label words, crops, learning colour words, no held-out image, flags."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from PIL import Image

from rnnkit.cli import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.image_encoder import ImageEncoder, ImageEncoderConfig
from rnnkit.tasks.caption import train as caption_train
from rnnkit.tasks.caption.pretrain import (
    PretrainConfig,
    PretrainResult,
    label_words,
    pretrain_encoder,
    random_crops,
    word_targets,
)
from rnnkit.tasks.caption.train import CaptionConfig, build
from rnnkit.training.runs import read_run_config

pytestmark = pytest.mark.usefixtures("one_thread")

COLOURS = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.8, 0.2), "blue": (0.1, 0.2, 0.9)}
RGB = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def squares(count: int, seed: int) -> tuple[torch.Tensor, list[tuple[str, ...]], list[str]]:
    """`count` 8 × 8 images per colour: a square of that colour (shade jittered) on a grey
    background at a random place; captions name the colour and the shape."""
    rng = torch.Generator().manual_seed(seed)
    images, captions, colours = [], [], []
    for colour, rgb in COLOURS.items():
        for _ in range(count):
            image = torch.full((3, 8, 8), 0.5) + 0.05 * torch.randn(3, 8, 8, generator=rng)
            top, left = (int(v) for v in torch.randint(0, 3, (2,), generator=rng))
            shade = torch.tensor(rgb) + 0.08 * torch.randn(3, generator=rng)
            image[:, top : top + 5, left : left + 5] = shade[:, None, None]
            images.append(image)
            captions.append((f"a {colour} square .", f"the square is {colour} ."))
            colours.append(colour)
    return torch.stack(images), captions, colours


# -- labels and augmentation ----------------------------------------------------------------------
def test_label_words_skip_stopwords_and_punctuation_and_rank_by_images() -> None:
    captions = [("A dog runs in the park .", "A dog ."), ("The dog and a cat .",), ("A cat .",)]
    assert label_words(captions, 10) == ("cat", "dog", "park", "runs")  # 2, 2, 1, 1 images
    assert label_words(captions, 1) == ("cat",)  # ties: alphabetical
    targets = word_targets(captions, ["dog", "park"])
    assert targets.tolist() == [[1.0, 0.5], [1.0, 0.0], [0.0, 0.0]]


def test_random_crops_at_full_scale_are_the_image_or_its_mirror() -> None:
    images = torch.rand(40, 3, 6, 6)
    views = random_crops(images, torch.Generator().manual_seed(0), min_scale=1.0)
    same = [torch.allclose(v, x, atol=1e-5) for v, x in zip(views, images, strict=True)]
    mirrored = [
        torch.allclose(v, x.flip(-1), atol=1e-5) for v, x in zip(views, images, strict=True)
    ]
    assert all(a or b for a, b in zip(same, mirrored, strict=True))
    assert 5 < sum(mirrored) < 35  # about half
    smaller = random_crops(images, torch.Generator().manual_seed(0), min_scale=0.5)
    assert smaller.shape == images.shape
    assert not torch.allclose(smaller, views)


def test_pretrain_config_refuses_bad_values() -> None:
    with pytest.raises(ConfigError, match="steps must be a positive integer"):
        PretrainConfig(steps=0)
    with pytest.raises(ConfigError, match="min_scale must be in"):
        PretrainConfig(min_scale=0.0)


# -- learning ------------------------------------------------------------------------------------
def test_pretraining_learns_the_colour_words_of_unseen_squares() -> None:
    torch.manual_seed(0)
    pixels, captions, _ = squares(12, seed=0)
    encoder = ImageEncoder(ImageEncoderConfig(channels=(8, 16), image_size=8, feature_size=16))
    config = PretrainConfig(steps=150, words=4, batch_size=36, lr=1e-2, min_scale=0.8)
    result = pretrain_encoder(encoder, pixels, captions, config)
    assert set(result.words) == {"red", "green", "blue", "square"}
    assert result.last_loss < 0.5 * result.first_loss
    test_pixels, _, test_colours = squares(5, seed=1)
    with torch.no_grad():
        scores = torch.sigmoid(result.head(encoder.eval()(test_pixels)))  # (N, K)
    colour_columns = [result.words.index(c) for c in COLOURS]
    predicted = [list(COLOURS)[k] for k in scores[:, colour_columns].argmax(-1).tolist()]
    assert predicted == test_colours
    assert bool((scores[:, result.words.index("square")] > 0.9).all())  # on every image


def test_pretrain_refuses_mismatched_inputs() -> None:
    encoder = ImageEncoder(ImageEncoderConfig(channels=(4,), image_size=4, feature_size=4))
    with pytest.raises(DataError, match="one caption list per image"):
        pretrain_encoder(encoder, torch.rand(2, 3, 4, 4), [("a red square .",)], PretrainConfig())
    with pytest.raises(DataError, match="no content word"):
        pretrain_encoder(encoder, torch.rand(1, 3, 4, 4), [("a the .",)], PretrainConfig())


def test_freeze_features_keeps_convolutions_and_batchnorm_fixed() -> None:
    encoder = ImageEncoder(ImageEncoderConfig(channels=(4,), image_size=4, feature_size=3))
    encoder.freeze_features().train()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in encoder.parameters() if p.requires_grad], lr=0.1)
    encoder(torch.rand(5, 3, 4, 4)).pow(2).sum().backward()
    optimizer.step()
    after = encoder.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"project.weight", "project.bias"}  # BN running stats untouched too


# -- the caption run -----------------------------------------------------------------------------
def write_flickr8k(root: Path) -> Path:
    """A tiny Flickr8k layout: 2 train, 1 dev, 1 test image per colour; each caption names its
    image, so a caption tells which split it came from."""
    rng = random.Random(0)
    (root / "images").mkdir(parents=True)
    (root / "Flickr8k_text").mkdir()
    tokens, listed, splits = [], ["file\tsplit"], {"train": [], "dev": [], "test": []}
    for split, count in (("train", 2), ("dev", 1), ("test", 1)):
        for colour, rgb in RGB.items():
            for k in range(count):
                name = f"{split}{colour}{k}.jpg"
                shade = tuple(min(255, max(0, v + rng.randint(-20, 20))) for v in rgb)
                Image.new("RGB", (12, 12), shade).save(root / "images" / name)
                tokens += [f"{name}#0\ta {colour} square {split}word .",
                           f"{name}#1\tthe square is {colour} ."]  # fmt: skip
                listed.append(f"{name}\t{split}")
                splits[split].append(name)
    (root / "Flickr8k_text" / "Flickr8k.token.txt").write_text("\n".join(tokens) + "\n")
    for split, names in splits.items():
        path = root / "Flickr8k_text" / f"Flickr_8k.{split}Images.txt"
        path.write_text("\n".join(names) + "\n")
    (root / "images.tsv").write_text("\n".join(listed) + "\n")
    return root


def write_coco_mini(root: Path) -> Path:
    """A tiny COCO-mini layout, one image per colour in train and in val."""
    (root / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        (root / f"{split}2017").mkdir()
        images, annotations = [], []
        for colour, rgb in RGB.items():
            name = f"coco{split}{colour}.jpg"
            Image.new("RGB", (12, 12), rgb).save(root / f"{split}2017" / name)
            images.append({"id": len(images) + 1, "file_name": name})
            annotations.append({"image_id": len(images), "caption": f"a {colour} cocoword ."})
        data = {"images": images, "annotations": annotations}
        (root / "annotations" / f"captions_{split}2017.json").write_text(json.dumps(data))
    return root


def test_pretraining_reads_train_and_coco_mini_never_dev_or_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flickr, coco = write_flickr8k(tmp_path / "flickr"), write_coco_mini(tmp_path / "coco")
    monkeypatch.setattr(caption_train, "find_shared", lambda folder, **_: coco)
    seen: list[tuple[int, list]] = []
    real = caption_train.pretrain_encoder

    def spy(encoder: ImageEncoder, pixels: torch.Tensor, captions: list,
            config: PretrainConfig) -> PretrainResult:  # fmt: skip
        seen.append((len(pixels), [c for image in captions for c in image]))
        return real(encoder, pixels, captions, config)

    monkeypatch.setattr(caption_train, "pretrain_encoder", spy)
    config = CaptionConfig(corpus="flickr8k", image_size=16, cnn_width=2, feature_size=8,
                           pretrain_steps=2, pretrain_words=5, min_freq=1,
                           batch_size=4)  # fmt: skip
    setup = build(config, data=flickr, seed=0)
    ((count, captions),) = seen
    assert count == 6 + 6  # Flickr8k train 6, COCO-mini train 3 and val 3
    words = " ".join(captions)
    assert words.count("trainword") == 6
    assert words.count("cocoword") == 6
    assert "devword" not in words
    assert "testword" not in words
    assert setup.artifacts["pretrain"]["images"] == 12
    seen.clear()
    build(CaptionConfig(**{**config.__dict__, "pretrain_extra": False}), data=flickr, seed=0)
    assert seen[0][0] == 6
    assert "cocoword" not in " ".join(seen[0][1])


def _tiny_pretrained_run(
    data: Path, run: Path, *, every: int, extra: list[str] | None = None
) -> list[str]:
    """`rnnkit train caption` on COCO-mini: 2 steps, 3 of CNN pretraining, the CNN frozen,
    evaluations and checkpoints every `every` steps (0: only at the end)."""
    return ["train", "caption", "--corpus", "coco", "--data", str(data), "--image-size", "16",
            "--cnn-width", "2", "--feature-size", "8", "--embed-dim", "8", "--hidden-size", "8",
            "--min-freq", "1", "--batch-size", "3", "--max-steps", "2", "--eval-every",
            str(every), "--checkpoint-every", str(every), "--quiet", "--device", "cpu",
            "--run-dir", str(run), "--pretrain-steps", "3", "--pretrain-words", "4",
            "--no-pretrain-extra", "--freeze-cnn", *(extra or [])]  # fmt: skip


def test_pretrain_flags_round_trip_through_the_cli(tmp_path: Path) -> None:
    data = write_coco_mini(tmp_path / "data")
    run = tmp_path / "run"
    argv = _tiny_pretrained_run(data, run, every=0, extra=["--feature-norm", "layer"])
    assert main(argv) == 0
    saved = read_run_config(run)
    task = saved["task_config"]
    assert (task["pretrain_steps"], task["pretrain_words"], task["pretrain_extra"]) == (3, 4, False)
    assert (task["freeze_cnn"], task["feature_norm"]) == (True, "layer")
    assert saved["captioner"]["image"]["feature_norm"] == "layer"
    assert saved["pretrain"]["images"] == 3
    assert saved["pretrain"]["words"] == 4
    with pytest.raises(ConfigError, match="freeze_cnn would keep a random CNN fixed"):
        CaptionConfig(freeze_cnn=True)
    with pytest.raises(ConfigError, match="a --features run"):
        CaptionConfig(features="f.npy", pretrain_steps=5)


def test_resume_and_evaluate_do_not_pretrain_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint's weights replace the CNN's, so `rnnkit resume` and `rnnkit eval` skip
    the pretraining (`rnnkit.tasks.registry.restoring`), and resuming still trains on."""
    data = write_coco_mini(tmp_path / "data")
    run = tmp_path / "run"
    argv = _tiny_pretrained_run(data, run, every=2)
    assert main(argv) == 0

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("pretrained again where a checkpoint replaces the weights")

    monkeypatch.setattr(caption_train, "pretrain_encoder", refuse)
    assert main(["resume", str(run), "--max-steps", "4", "--quiet"]) == 0
    assert (run / "checkpoints" / "step-00000004").exists()
    assert main(["eval", str(run)]) == 0
