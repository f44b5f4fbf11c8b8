"""Task caption: data, batches, the objective (flips, BLEU), training from the CLI on COCO files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.datasets.captions import CaptionedImage, CaptionSet
from rnnkit.datasets.images import load_features, save_features
from rnnkit.errors import ConfigError, DataError
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.captioner import Captioner
from rnnkit.models.image_encoder import FeatureInput
from rnnkit.tasks.caption.train import (
    CaptionConfig,
    CaptionObjective,
    build,
    caption_bleu,
    caption_text,
    collate_rows,
    encode_caption,
    eval_batches,
    load_inputs,
    load_split,
    model_config,
)
from rnnkit.text.vocab import Vocab
from rnnkit.training import read_metrics
from rnnkit.training.text_metrics import bleu_up_to

pytestmark = pytest.mark.usefixtures("one_thread")

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
TINY = ["--image-size", "16", "--cnn-width", "4", "--feature-size", "16", "--embed-dim", "16",
        "--hidden-size", "32"]  # fmt: skip


def colour_captions(colour: str) -> list[str]:
    """The two captions of every image of one colour."""
    return [f"a {colour} square .", f"the square is {colour} ."]


def write_coco_corpus(root: Path, *, train: int = 4, val: int = 2) -> Path:
    """`annotations/captions_{train,val}2017.json` and solid-colour images, JPEG and PNG.

    Each colour has `train` (`val`) images of slightly different shades and sizes, named
    `red0.jpg`, `red1.png` …, each captioned "a red square ." and "the square is red .".
    """
    rng = random.Random(0)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("val", val)):
        folder = root / f"{split}2017"
        folder.mkdir(exist_ok=True)
        images, annotations = [], []
        for colour, rgb in COLOURS.items():
            for k in range(count):
                name = f"{colour}{k}.{'png' if k % 2 else 'jpg'}"
                shade = tuple(min(255, max(0, v + rng.randint(-25, 25))) for v in rgb)
                Image.new("RGB", (20 + 4 * k, 20), shade).save(folder / name)
                images.append({"id": len(images) + 1, "file_name": name})
                annotations += [{"image_id": len(images), "caption": c}
                                for c in colour_captions(colour)]  # fmt: skip
        path = root / "annotations" / f"captions_{split}2017.json"
        path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return root


def train_colours(tmp_path: Path, *extra: str, steps: int = 150) -> Path:
    """Train on the colour corpus from the CLI (tiny CNN and LSTM, one batch of all 24
    captions, so BatchNorm sees every colour in each update); the run folder."""
    run = tmp_path / "run"
    data = tmp_path / "data"
    if not data.exists():
        write_coco_corpus(data)
    argv = [
        "train", "caption", "--corpus", "coco", "--data", str(data), *TINY, "--min-freq", "1",
        "--dropout", "0.0", "--batch-size", "24", "--lr", "0.005", "--max-steps", str(steps),
        "--eval-every", "0", "--checkpoint-every", "0", "--quiet", "--device", "cpu",
        "--run-dir", str(run), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return run


def last_eval(run: Path) -> dict:
    return [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]


def _vocab() -> Vocab:
    captions = [c for colour in COLOURS for c in colour_captions(colour)]
    return Vocab.build_from_iterator((c.split() for c in captions), None)


# -- data -----------------------------------------------------------------------------------------
def test_config_refuses_non_positive_sizes() -> None:
    with pytest.raises(ConfigError, match="image_size must be a positive integer, got 0"):
        CaptionConfig(image_size=0)
    with pytest.raises(ConfigError, match="eval_beam must be a positive integer, got -1"):
        CaptionConfig(eval_beam=-1)


def test_load_split_needs_data_and_keeps_only_images_on_disk(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="corpus coco needs --data DIR"):
        load_split(CaptionConfig(corpus="coco"), None, "train")
    root = write_coco_corpus(tmp_path, train=2, val=1)
    (root / "val2017" / "green0.jpg").unlink()
    val = load_split(CaptionConfig(corpus="coco"), root, "val")
    assert [item.image for item in val.items] == ["red0.jpg", "blue0.jpg"]
    assert val.items[0].captions == tuple(colour_captions("red"))
    with_features = load_split(CaptionConfig(corpus="coco", features="f.safetensors"), root, "val")
    assert [item.image for item in with_features.items] == ["red0.jpg", "green0.jpg", "blue0.jpg"]
    assert with_features.items[1].path is None  # a features run needs no image file
    train = load_split(CaptionConfig(corpus="coco"), root, "train")  # any split but "val"
    assert len(train) == 6
    assert train.items[1].path == root / "train2017" / "red1.png"


def test_load_inputs_pixels_and_features(tmp_path: Path) -> None:
    root = write_coco_corpus(tmp_path, train=2, val=1)
    val = load_split(CaptionConfig(corpus="coco"), root, "val")
    pixels = load_inputs(CaptionConfig(corpus="coco", image_size=8), val)
    assert pixels.shape == (3, 3, 8, 8)
    assert float(pixels[0, 0].mean()) > float(pixels[0, 2].mean())  # red: R above B
    assert float(pixels[2, 2].mean()) > float(pixels[2, 0].mean())  # blue: B above R
    vectors = {"red0.jpg": torch.tensor([1.0, 0.0]), "blue0.jpg": torch.tensor([0.0, 1.0]),
               "green0.jpg": torch.tensor([0.5, 0.5]), "other.jpg": torch.zeros(2)}  # fmt: skip
    path = save_features(vectors, tmp_path / "features.safetensors")
    config = CaptionConfig(corpus="coco", features=str(path))
    features = load_inputs(config, val)
    assert features.tolist() == [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]  # in the split's order
    del vectors["green0.jpg"]
    save_features(vectors, path)
    with pytest.raises(DataError, match=r"has no vector for 1 images, e\.g\. 'green0\.jpg'"):
        load_inputs(config, val)


def test_encode_caption_lowercases_cuts_and_keeps_eos() -> None:
    vocab = _vocab()
    ids = encode_caption("A RED square, on grass.", vocab, max_tokens=3)
    assert ids.tolist() == [vocab.token_to_id("a"), vocab.token_to_id("red"),
                            vocab.token_to_id("square"), vocab.eos_id]  # fmt: skip
    whole = encode_caption("A RED square, on grass.", vocab, max_tokens=25)
    assert whole[-1].item() == vocab.eos_id
    assert whole.tolist().count(vocab.unk_id) == 3  # ",", "on", "grass"
    assert len(whole) == 8  # a red square , on grass . <eos>


def test_collate_rows_shifts_behind_bos_and_never_feeds_eos() -> None:
    vocab = _vocab()
    eos, bos, pad = vocab.eos_id, vocab.bos_id, vocab.pad_id
    inputs = torch.randn(2, 5)
    rows = [(1, torch.tensor([7, 8, eos])), (0, torch.tensor([9, eos])), (1, torch.tensor([eos]))]
    batch = collate_rows(inputs, rows, (("x",), ("y",)), vocab)
    assert batch.inputs is inputs
    assert batch.image_index.tolist() == [1, 0, 1]
    assert batch.target_out.tolist() == [[7, 8, eos], [9, eos, pad], [eos, pad, pad]]
    assert batch.target_in.tolist() == [[bos, 7, 8], [bos, 9, pad], [bos, pad, pad]]
    assert not bool((batch.target_in == eos).any())
    assert batch.references == (("x",), ("y",))


def test_eval_batches_one_row_per_caption_one_reference_list_per_image() -> None:
    vocab = _vocab()
    items = (
        CaptionedImage("a.jpg", None, ("a red square .", "the square is red .")),
        CaptionedImage("b.jpg", None, ("a blue square .",)),
        CaptionedImage("c.jpg", None, ("a green square .", "green .", "the square is green .")),
    )
    inputs = torch.arange(3.0).unsqueeze(1)  # (N, 1): the image's own row number
    batches = eval_batches(inputs, CaptionSet(items, "toy"), vocab, CaptionConfig(), size=2)
    assert len(batches) == 2
    first, second = batches
    assert first.inputs.tolist() == [[0.0], [1.0]]
    assert first.image_index.tolist() == [0, 0, 1]  # two captions of a.jpg, one of b.jpg
    assert first.references == (items[0].captions, items[1].captions)
    assert second.inputs.tolist() == [[2.0]]
    assert second.image_index.tolist() == [0, 0, 0]
    assert second.references == (items[2].captions,)
    assert second.target_out[1].tolist()[:3] == [vocab.token_to_id("green"),
                                                 vocab.token_to_id("."), vocab.eos_id]  # fmt: skip


# -- objective ------------------------------------------------------------------------------------
def test_caption_text_stops_at_eos() -> None:
    vocab = _vocab()
    ids = [vocab.token_to_id(w) for w in ("a", "red", "square")]
    assert caption_text([*ids, vocab.eos_id, ids[0]], vocab) == "a red square"
    assert caption_text(ids, vocab) == "a red square"  # unfinished: all tokens
    assert caption_text([vocab.eos_id], vocab) == ""


def test_caption_bleu_is_bleu_up_to_on_tokenised_references() -> None:
    outputs = ["a red square .", "the big square is blue"]
    references = [("A red square.", "The square is RED."), ("The square is blue.",)]
    tokenised = [["a red square .", "the square is red ."], ["the square is blue ."]]
    scores = caption_bleu(outputs, references)
    assert list(scores) == ["bleu_1", "bleu_2", "bleu_3", "bleu_4"]
    for n in (1, 2, 3, 4):
        assert scores[f"bleu_{n}"] == pytest.approx(bleu_up_to(outputs, tokenised, n))
    assert scores["bleu_1"] > bleu_up_to(outputs, [list(r) for r in references], 1)  # case
    assert scores["bleu_1"] > scores["bleu_4"] > 0


class _Recorder(nn.Module):
    """Stands in for Captioner: records the inputs it is given, returns zero logits."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.vocab_size, self.seen = vocab_size, []

    def forward(self, inputs: torch.Tensor, target_in: torch.Tensor) -> torch.Tensor:
        self.seen.append(inputs.clone())
        return torch.zeros(*target_in.shape, self.vocab_size, requires_grad=True)


def _asymmetric_batch(vocab: Vocab):
    """Two images (2, 3, 2, 2) bright on the left only; one caption row for each."""
    images = torch.zeros(2, 3, 2, 2)
    images[..., 0] = torch.tensor([1.0, 2.0]).view(2, 1, 1)  # left column
    rows = [(0, encode_caption("a red square .", vocab, 25)), (1, torch.tensor([vocab.eos_id]))]
    return images, collate_rows(images, rows, (), vocab)


def test_objective_flips_images_only_while_training(monkeypatch: pytest.MonkeyPatch) -> None:
    vocab = _vocab()
    images, batch = _asymmetric_batch(vocab)
    draws: list[int] = []

    def fake_rand(size: int, device: object = None) -> torch.Tensor:
        draws.append(size)
        return torch.tensor([0.2, 0.8])  # image 0 below ½: mirrored; image 1 kept

    monkeypatch.setattr(torch, "rand", fake_rand)
    model = _Recorder(len(vocab))
    objective = CaptionObjective(CaptionConfig(), vocab)
    objective.loss(model.train(), batch, None)
    assert draws == [2]  # one draw per image, not per caption row
    assert torch.equal(model.seen[-1][0], images[0].flip(-1))
    assert torch.equal(model.seen[-1][1], images[1])
    objective.loss(model.eval(), batch, None)
    assert torch.equal(model.seen[-1], images)
    CaptionObjective(CaptionConfig(flip=False), vocab).loss(model.train(), batch, None)
    assert torch.equal(model.seen[-1], images)
    assert draws == [2]  # neither evaluation nor flip=False draws


def test_objective_flips_about_half_the_images_with_the_real_generator() -> None:
    vocab = _vocab()
    images, batch = _asymmetric_batch(vocab)
    model = _Recorder(len(vocab)).train()
    objective = CaptionObjective(CaptionConfig(), vocab)
    for _ in range(100):
        objective.loss(model, batch, None)
    mirrored = [torch.equal(seen[0], images[0].flip(-1)) for seen in model.seen]
    kept = [torch.equal(seen[0], images[0]) for seen in model.seen]
    assert 30 <= sum(mirrored) <= 70
    assert sum(mirrored) + sum(kept) == 100
    features = batch._replace(inputs=torch.randn(2, 5))
    objective.loss(model, features, None)  # features (N, F_in) are never flipped
    assert torch.equal(model.seen[-1], features.inputs)


def _features_captioner(vocab: Vocab, input_size: int = 5) -> Captioner:
    config = make_config(
        CaptionConfig, features="f.safetensors", feature_size=6, embed_dim=4, hidden_size=7
    )
    return Captioner(model_config(config, vocab, input_size)).eval()


def test_loss_is_masked_cross_entropy_over_caption_tokens() -> None:
    vocab = _vocab()
    model = _features_captioner(vocab)
    inputs = torch.randn(2, 5)
    rows = [(1, encode_caption("a red square .", vocab, 25)),
            (0, encode_caption("red .", vocab, 25))]  # fmt: skip
    batch = collate_rows(inputs, rows, (), vocab)
    result = CaptionObjective(CaptionConfig(), vocab).loss(model, batch, None)
    logits = model(inputs[[1, 0]], batch.target_in)
    expected = sequence_cross_entropy(logits, batch.target_out, ignore_index=vocab.pad_id)
    assert float(result.loss.detach()) == pytest.approx(float(expected.detach()), abs=1e-6)
    assert result.num_tokens == 5 + 3  # tokens and <eos>, no <pad>


def test_evaluate_weights_loss_by_tokens_and_scores_decoded_captions() -> None:
    vocab = _vocab()
    model = _features_captioner(vocab)
    items = tuple(CaptionedImage(f"{c}.jpg", None, tuple(colour_captions(c))) for c in COLOURS)
    inputs = torch.randn(3, 5)
    config = CaptionConfig(max_length=6)
    batches = eval_batches(inputs, CaptionSet(items, "toy"), vocab, config, size=2)
    objective = CaptionObjective(config, vocab)
    with torch.no_grad():
        metrics = objective.evaluate(model, batches)
        results = [objective.loss(model, batch, None) for batch in batches]
        decoded = [caption_text(best[0].tokens, vocab)
                   for best in model.caption(inputs, max_length=6)]  # fmt: skip
    tokens = sum(r.num_tokens for r in results)
    mean = sum(float(r.loss) * r.num_tokens for r in results) / tokens
    assert tokens == 3 * (5 + 6)  # "a c square ." and "the square is c ." with <eos>
    assert metrics["loss"] == pytest.approx(mean, rel=1e-6)
    assert metrics["perplexity"] == pytest.approx(torch.tensor(mean).exp().item(), rel=1e-5)
    expected = caption_bleu(decoded, [item.captions for item in items])
    for n in (1, 2, 3, 4):
        assert metrics[f"bleu_{n}"] == pytest.approx(expected[f"bleu_{n}"])


def test_build_with_features_projects_them_and_needs_held_out_images(tmp_path: Path) -> None:
    root = write_coco_corpus(tmp_path / "data", train=2, val=1)
    vectors = {f"{c}{k}.{'png' if k % 2 else 'jpg'}": torch.randn(5)
               for c in COLOURS for k in range(2)}  # fmt: skip
    path = save_features(vectors, tmp_path / "features.safetensors")
    config = make_config(CaptionConfig, corpus="coco", features=str(path), feature_size=6,
                         embed_dim=4, hidden_size=7, min_freq=1, batch_size=4)  # fmt: skip
    setup = build(config, data=root, seed=0)
    assert isinstance(setup.model.encoder, FeatureInput)
    assert setup.model.encoder.config.input_size == 5
    assert setup.artifacts["split"] == {"train_images": 6, "train_captions": 12, "val": 3}
    assert setup.artifacts["captioner"]["encoder"] == "features"
    batch = setup.train_data.next_batch()
    assert batch.inputs.shape == (4, 5)  # one input row per caption of the batch
    assert batch.image_index.tolist() == [0, 1, 2, 3]
    for name in ("red0.jpg", "green0.jpg", "blue0.jpg"):
        (root / "val2017" / name).unlink()
    with pytest.raises(DataError, match="no images found for coco: train 6, val 0"):
        build(CaptionConfig(corpus="coco"), data=root, seed=0)


# -- training from the CLI ------------------------------------------------------------------------
def _solid(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (30, 30)) -> Path:
    Image.new("RGB", size, rgb).save(path)
    return path


@pytest.mark.parametrize("conditioning", ["init", "every_step"])
def test_train_from_coco_files_learns_colour_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], conditioning: str
) -> None:
    run = train_colours(tmp_path, "--conditioning", conditioning)
    out = capsys.readouterr().out
    assert "BLEU-1" in out
    assert f"rnnkit caption {run} IMAGE.jpg".replace(" ", "") in "".join(out.split())  # wrapped
    last = last_eval(run)
    assert last["val_bleu_1"] >= 90.0  # 100.0 for both (150 updates; "init" with seeds 1–6 too)
    assert last["val_bleu_4"] >= 60.0  # 100.0 for both
    config = json.loads((run / "config.json").read_text())
    assert config["split"] == {"train_images": 12, "train_captions": 24, "val": 6}
    assert config["captioner"]["decoder"]["conditioning"] == conditioning

    red = _solid(tmp_path / "new_red.png", (240, 10, 10))
    blue = _solid(tmp_path / "new_blue.jpg", (20, 30, 235), (24, 40))
    assert main(["caption", str(run), str(red), str(blue)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["new_red.png", "new_blue.jpg"]
    assert "red" in lines[0].split()
    assert "blue" in lines[1].split()
    assert not {"green", "blue"} & set(lines[0].split())


def colour_features(root: Path, path: Path) -> Path:
    """One vector (6,) per image name: its colour one-hot, then noise."""
    vectors = {}
    for split in ("train", "val"):
        data = json.loads((root / "annotations" / f"captions_{split}2017.json").read_text())
        for image in data["images"]:
            name = image["file_name"]
            colour = next(c for c in COLOURS if name.startswith(c))
            onehot = torch.zeros(3)
            onehot[list(COLOURS).index(colour)] = 2.0
            vectors[name] = torch.cat([onehot, 0.1 * torch.randn(3)])
    return save_features(vectors, path)


def test_train_on_feature_files_without_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_coco_corpus(tmp_path / "data")
    features = colour_features(root, tmp_path / "features.safetensors")
    for split in ("train2017", "val2017"):  # a features run never opens an image
        for image in (root / split).iterdir():
            image.unlink()
    run = train_colours(tmp_path, "--features", str(features))
    assert last_eval(run)["val_bleu_1"] >= 90.0  # 100.0 (150 updates; seeds 1, 2, 3 too)
    config = json.loads((run / "config.json").read_text())
    assert config["captioner"]["encoder"] == "features"
    assert config["captioner"]["features"]["input_size"] == 6

    names = json.loads((root / "annotations" / "captions_val2017.json").read_text())["images"]
    vectors = {k: v for k, v in load_features(features).items() if k != names[-1]["file_name"]}
    save_features(vectors, features)
    capsys.readouterr()
    argv = ["train", "caption", "--corpus", "coco", "--data", str(root), "--features",
            str(features), "--quiet", "--run-dir", str(tmp_path / "run2")]  # fmt: skip
    assert main(argv) == 2
    out = capsys.readouterr().out
    assert "error:" in out
    assert "has no vector for 1 images, e.g. 'blue1.png'" in out
