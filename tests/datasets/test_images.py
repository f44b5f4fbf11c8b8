"""Image loading (formats, modes, crop, normalisation, every bad file) and feature files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from rnnkit.config import config_from_dict
from rnnkit.datasets.images import (
    ImageConfig,
    load_features,
    load_image,
    load_images,
    save_features,
)
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import ConfigError, DataError

COCO = pytest.mark.shared_data("captioning_coco_mini")  # shared/data/README.md §8 (conftest.py)
MEAN = torch.tensor([0.485, 0.456, 0.406])
STD = torch.tensor([0.229, 0.224, 0.225])
RED, BLUE = (255, 0, 0), (0, 0, 255)


def _normalised(rgb: tuple[int, int, int]) -> torch.Tensor:
    """The expected (3,) value of one pixel: (x / 255 − μ) / σ."""
    return (torch.tensor(rgb, dtype=torch.float32) / 255 - MEAN) / STD


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _halves(size: tuple[int, int], first: tuple[int, int, int], second: tuple[int, int, int]):
    """An RGB image whose left (or, when tall, top) half is `first`, the rest `second`."""
    width, height = size
    image = Image.new("RGB", size, first)
    box = (width // 2, 0, width, height) if width >= height else (0, height // 2, width, height)
    image.paste(second, box)
    return image


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims width × height RGB pixels but holds no image data."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def coco_jpegs() -> list[Path]:
    folder = find_shared("captioning_coco_mini") / "train2017"
    paths = sorted(folder.glob("*.jpg"))[:8]
    if len(paths) < 8:
        pytest.fail(f"COCO mini photos missing: expected {folder} (shared/data/README.md §8)")
    return paths


# -- real photos ---------------------------------------------------------------------------------
@COCO
def test_real_jpegs_are_roughly_standardised(coco_jpegs: list[Path]):
    batch = load_images(coco_jpegs, ImageConfig(size=48))
    assert batch.shape == (8, 3, 48, 48)
    assert batch.dtype == torch.float32
    assert abs(float(batch.mean())) < 0.6  # ImageNet statistics fit everyday photos
    assert 0.6 < float(batch.std()) < 1.6
    assert torch.equal(batch[3], load_image(coco_jpegs[3].read_bytes(), ImageConfig(size=48)))
    assert load_images([], ImageConfig(size=5)).shape == (0, 3, 5, 5)


# -- geometry, modes and formats -----------------------------------------------------------------
@pytest.mark.parametrize("size", [(64, 32), (32, 64)])
def test_centre_square_and_normalisation(size: tuple[int, int]):
    x = load_image(_encode(_halves(size, RED, BLUE), "PNG"), ImageConfig(size=8))
    assert x.shape == (3, 8, 8)
    wide = size[0] > size[1]
    first, last = (x[:, :, 0], x[:, :, -1]) if wide else (x[:, 0, :], x[:, -1, :])
    torch.testing.assert_close(first, _normalised(RED)[:, None].expand(3, 8))
    torch.testing.assert_close(last, _normalised(BLUE)[:, None].expand(3, 8))


def test_custom_statistics_and_one_pixel_png():
    config = ImageConfig(size=3, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    x = load_image(_encode(Image.new("RGB", (1, 1), (51, 102, 255)), "PNG"), config)
    torch.testing.assert_close(x, torch.tensor([0.2, 0.4, 1.0])[:, None, None].expand(3, 3, 3))


def _grey16() -> Image.Image:
    return Image.fromarray(np.full((4, 4), 257 * 100, dtype=np.uint16))


@pytest.mark.parametrize(
    ("image", "rgb"),
    [
        (Image.new("L", (6, 4), 100), (100, 100, 100)),
        (Image.new("RGBA", (5, 5), (255, 0, 0, 0)), RED),  # alpha dropped, colour kept
        (Image.new("LA", (5, 5), (100, 255)), (100, 100, 100)),
        (Image.new("1", (5, 5), 1), (255, 255, 255)),
        (_grey16(), (100, 100, 100)),  # 16-bit grey: 25,700 / 257, not clipped to 255
    ],
)
def test_modes_become_rgb(image: Image.Image, rgb: tuple[int, int, int]):
    x = load_image(_encode(image, "PNG"), ImageConfig(size=2))
    torch.testing.assert_close(x, _normalised(rgb)[:, None, None].expand(3, 2, 2))


def test_palette_with_transparency():
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, *BLUE] + [0] * 762)
    x = load_image(_encode(image, "PNG", transparency=0), ImageConfig(size=2))
    torch.testing.assert_close(x, _normalised(BLUE)[:, None, None].expand(3, 2, 2))


@pytest.mark.parametrize(
    ("fmt", "options"), [("BMP", {}), ("WEBP", {"lossless": True}), ("JPEG", {"quality": 95})]
)
def test_other_formats(fmt: str, options: dict[str, object]):
    x = load_image(
        _encode(Image.new("RGB", (8, 8), (0, 128, 255)), fmt, **options), ImageConfig(size=4)
    )
    torch.testing.assert_close(
        x, _normalised((0, 128, 255))[:, None, None].expand(3, 4, 4), atol=0.05, rtol=0
    )


def test_gif_first_frame_and_exif_orientation():
    frames = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), BLUE)]
    gif = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    torch.testing.assert_close(load_image(gif, ImageConfig(size=2))[:, 0, 0], _normalised(RED))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the left half comes out on top
    x = load_image(_encode(_halves((40, 20), RED, BLUE), "PNG", exif=exif), ImageConfig(size=4))
    torch.testing.assert_close(x[:, 0, :], _normalised(RED)[:, None].expand(3, 4))
    torch.testing.assert_close(x[:, -1, :], _normalised(BLUE)[:, None].expand(3, 4))


# -- bad input -----------------------------------------------------------------------------------
@COCO
def test_bad_files(tmp_path: Path, coco_jpegs: list[Path]):
    with pytest.raises(DataError, match=r"image file .*nowhere\.jpg not found"):
        load_image(tmp_path / "nowhere.jpg")
    with pytest.raises(DataError, match=r"is a folder; expected an image file"):
        load_image(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.jpg is empty \(0 bytes\)"):
        load_image(tmp_path / "empty.jpg")
    (tmp_path / "notes.jpg").write_text("just some text\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"notes\.jpg is not an image Pillow can identify"):
        load_image(tmp_path / "notes.jpg")
    raw = coco_jpegs[0].read_bytes()
    (tmp_path / "cut.jpg").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"cut\.jpg is truncated or corrupt: image file is trunc"):
        load_image(tmp_path / "cut.jpg")
    (tmp_path / "big.jpg").write_bytes(raw)
    with pytest.raises(DataError, match=r"big\.jpg has \d+ bytes, over max_bytes=1000"):
        load_image(tmp_path / "big.jpg", ImageConfig(max_bytes=1000))


def test_bad_bytes():
    with pytest.raises(DataError, match=r"uploaded image \(0 bytes\) is empty"):
        load_image(b"")
    png = bytearray(_encode(Image.new("RGB", (8, 8), RED), "PNG"))
    png[png.index(b"IDAT") + 6] ^= 0xFF  # the chunk's checksum no longer matches
    with pytest.raises(DataError, match=r"truncated or corrupt: broken PNG file"):
        load_image(bytes(png))
    tiff = _encode(Image.new("RGB", (8, 8), RED), "TIFF")
    with pytest.raises(DataError, match=r"is TIFF; accepted formats are JPEG, PNG, WebP, BMP"):
        load_image(tiff)
    with pytest.raises(DataError, match=r"has \d+ bytes, over max_bytes=50"):
        load_image(bytes(png), ImageConfig(max_bytes=50))


@pytest.mark.parametrize(
    ("data", "config", "message"),
    [
        (_png_header(20, 20), ImageConfig(max_pixels=399), r"20×20 = 400 pixels, over max_pixel"),
        (_png_header(8_000, 8_000), ImageConfig(), r"8000×8000 = 64000000 pixels, over max_p"),
        (_png_header(100_000, 100_000), ImageConfig(), r"10000000000 pixels\).*decompression"),
    ],
)
def test_pixel_guard_reads_only_the_header(data: bytes, config: ImageConfig, message: str):
    with pytest.raises(DataError, match=message):
        load_image(data, config)


def test_image_config_checks():
    assert config_from_dict(ImageConfig, {"mean": [0.5, 0.5, 0.5], "size": 64}).mean == (
        0.5,
        0.5,
        0.5,
    )
    with pytest.raises(ConfigError, match="size must be a positive integer, got 0"):
        ImageConfig(size=0)
    with pytest.raises(ConfigError, match=r"mean needs 3 values \(R, G, B\), got 2"):
        ImageConfig(mean=(0.5, 0.5))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"std needs 3 numbers \(R, G, B\)"):
        ImageConfig(std=("high", 0.2, 0.2))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="std must be positive for every channel"):
        ImageConfig(std=(0.2, 0.0, 0.2))
    with pytest.raises(ConfigError, match="max_pixels must be a positive integer, got True"):
        ImageConfig(max_pixels=True)


# -- feature files -------------------------------------------------------------------------------
def test_features_round_trip(tmp_path: Path):
    features = {"b.jpg": torch.arange(4, dtype=torch.float16), "a.jpg": torch.ones(4)}
    path = save_features(features, tmp_path / "deep" / "feats.safetensors")
    loaded = load_features(path)
    assert sorted(loaded) == ["a.jpg", "b.jpg"]
    assert all(vector.dtype == torch.float32 for vector in loaded.values())
    torch.testing.assert_close(loaded["b.jpg"], torch.arange(4, dtype=torch.float32))
    assert not list((tmp_path / "deep").glob("*.partial"))
    matrix = np.arange(6, dtype=np.float64).reshape(2, 3)
    np.save(tmp_path / "feats.npy", matrix)
    (tmp_path / "feats.txt").write_text("x.jpg\ny.jpg\n\n", encoding="utf-8")
    loaded = load_features(tmp_path / "feats.npy")
    assert loaded["y.jpg"].tolist() == [3.0, 4.0, 5.0]
    shared = torch.zeros(2, 3)  # rows of one matrix share memory: saving must still work
    assert list(load_features(save_features({"p": shared[0], "q": shared[1]}, path))) == ["p", "q"]


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ({"a": torch.ones(2, 3)}, r"'a' must be one vector \(F,\), got shape \(2, 3\)"),
        ({"a": torch.ones(3), "b": torch.ones(4)}, r"'b' has 4 features, the first image has 3"),
        ({"a": torch.tensor([1.0, float("nan")])}, r"'a' holds NaN or inf"),
        ({"a": torch.tensor([float("inf")])}, r"'a' holds NaN or inf"),
        ({"a": torch.tensor([1e300], dtype=torch.float64)}, r"'a' holds values beyond the float32"),
        ({"a": torch.ones(3, dtype=torch.int64)}, r"'a' must be a float tensor, got torch\.int64"),
        ({}, r"holds no feature vector"),
    ],
)
def test_bad_safetensors(tmp_path: Path, tensors: dict[str, torch.Tensor], message: str):
    path = tmp_path / "feats.safetensors"
    save_file(tensors, path)
    with pytest.raises(DataError, match=message):
        load_features(path)
    with pytest.raises(DataError, match=message.replace("holds no", "features to save holds no")):
        save_features(tensors, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


@pytest.mark.parametrize(
    ("matrix", "names", "message"),
    [
        (np.ones(3, dtype=np.float32), "a\nb\nc\n", r"must hold a matrix \(N, F\), got shape"),
        (np.ones((2, 3), dtype=np.int32), "a\nb\n", r"must hold floats, got dtype int32"),
        (np.ones((2, 3), dtype=np.float32), "a\n", r"feats\.txt lists 1 names but .* 2 rows"),
        (np.ones((2, 3), dtype=np.float32), "a\na\n", r"feats\.txt, line 2 repeats 'a'"),
        (np.ones((2, 3), dtype=np.float32), "\nb\n", r"feats\.txt, line 1 is empty"),
        (np.array([[1.0, np.inf]]), "a\n", r"'a' holds NaN or inf"),
        (np.array([[1.0, -1e300]]), "a\n", r"'a' holds values beyond the float32 range"),
        (np.array([[1, "x"]], dtype=object), "a\n", r"not a readable \.npy array: Object arr"),
        (np.ones((2, 3), dtype=np.float32), None, r"feats\.txt not found; a \.npy feature file"),
    ],
)
def test_bad_npy(tmp_path: Path, matrix: np.ndarray, names: str | None, message: str):
    np.save(tmp_path / "feats.npy", matrix, allow_pickle=True)
    if names is not None:
        (tmp_path / "feats.txt").write_text(names, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_features(tmp_path / "feats.npy")


def test_bad_feature_paths(tmp_path: Path):
    with pytest.raises(DataError, match=r"feats\.pt: feature files must end in \.safetensors"):
        load_features(tmp_path / "feats.pt")
    with pytest.raises(DataError, match=r"feature file not found: .*gone\.npy"):
        load_features(tmp_path / "gone.npy")
    (tmp_path / "junk.safetensors").write_bytes(b"\x07\x00\x00\x00\x00\x00\x00\x00garbage")
    with pytest.raises(DataError, match=r"junk\.safetensors is not a readable \.safetensors"):
        load_features(tmp_path / "junk.safetensors")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=r"junk\.npy is not a readable \.npy array"):
        load_features(tmp_path / "junk.npy")
    with pytest.raises(DataError, match=r"save_features writes \.safetensors files"):
        save_features({"a": torch.ones(2)}, tmp_path / "feats.npy")
