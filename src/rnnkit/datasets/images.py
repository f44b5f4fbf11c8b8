"""Images for captioning: a photo file or upload -> a normalised (3, S, S) tensor; feature files.

`load_image` accepts JPEG (also its multi-picture variant MPO), PNG, WebP, BMP and GIF (the
first frame); any other format, an empty, truncated or corrupt file, and a file over the byte or
pixel limits is a DataError, never a Pillow exception. Grey, grey+alpha, palette, RGBA and
16-bit grey images all become RGB (alpha is dropped, the colour under it kept).

Decoding costs memory in proportion to the output size S, not to the photo, as far as the
format allows: a JPEG is decoded at 1/2, 1/4 or 1/8 scale by its DCT (Pillow's `draft`) while
both sides stay ≥ 2S; 16-bit grey becomes 8-bit strip by strip, before anything else; and the
image is shrunk by an integer factor (`reduce`, a box average) while its shorter side stays
≥ 2S, before its RGB copy and the resize, as Pillow's `thumbnail` does (reducing_gap 2). A
7000×7000 16-bit grey PNG (99 KB) cost 936 MB at its peak (float64 arrays of the whole image);
now 164 MB, the decoded 16-bit image and its 8-bit copy (tests/reliability/test_web_limits.py).

Precomputed features (one vector (F,) per image, e.g. from a CNN) load with `load_features` from
a `.safetensors` file (one tensor per image name) or a `.npy` matrix (N, F) beside a `<stem>.txt`
of the N names; `save_features` writes the safetensors form.

References:
    Deng et al. ImageNet: A Large-Scale Hierarchical Image Database. CVPR 2009 (the channel
        mean and standard deviation used by torchvision's pretrained models).
    Pillow: image file formats and decompression-bomb protection.
        https://pillow.readthedocs.io/en/stable/handbook/image-file-formats.html
    safetensors format. https://github.com/huggingface/safetensors
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import ExifTags, Image, UnidentifiedImageError
from safetensors.torch import load_file, save_file

from rnnkit.errors import ConfigError, DataError

ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF")
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
REDUCING_GAP = 2  # decode and shrink by integer factors only while both sides stay ≥ 2S
STRIP_PIXELS = 1 << 20  # pixels of 16-bit grey turned 8-bit at a time
_TRANSPOSE = {  # EXIF orientation -> the transpose that makes the image upright
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, kw_only=True)
class ImageConfig:
    """How a photo becomes a tensor: side after resizing, channel statistics, safety limits."""

    size: int = 128  # S: the square side after resizing and centre-cropping
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # μ per channel, ImageNet (RGB)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)  # σ per channel, ImageNet (RGB)
    max_bytes: int = 20_000_000  # a larger file or upload is refused before decoding
    max_pixels: int = 50_000_000  # W·H from the header; refuses decompression bombs

    def __post_init__(self) -> None:
        for name in ("size", "max_bytes", "max_pixels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("mean", "std"):
            try:
                value = tuple(float(v) for v in getattr(self, name))
            except (TypeError, ValueError) as err:
                raise ConfigError(f"{name} needs 3 numbers (R, G, B), got {err}") from err
            if len(value) != 3:
                raise ConfigError(f"{name} needs 3 values (R, G, B), got {len(value)}: {value}")
            object.__setattr__(self, name, value)
        if min(self.std) <= 0:
            raise ConfigError(f"std must be positive for every channel, got {self.std}")


def _too_large(where: str, size: int, config: ImageConfig) -> DataError:
    return DataError(
        f"{where} has {size} bytes, over max_bytes={config.max_bytes}; "
        "shrink it or raise ImageConfig.max_bytes"
    )


def _read_source(source: str | Path | bytes, config: ImageConfig) -> tuple[bytes, str]:
    """(the encoded bytes, a name for messages); DataError for a missing, empty or large file."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw, where = bytes(source), f"uploaded image ({len(source)} bytes)"
    else:
        path, where = Path(source), f"image file {source}"
        try:
            size = path.stat().st_size
            if size > config.max_bytes:  # refused before it is read
                raise _too_large(where, size, config)
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError) as err:
            raise DataError(f"{where} not found") from err
        except IsADirectoryError as err:
            raise DataError(f"{where} is a folder; expected an image file") from err
        except OSError as err:  # permissions, I/O errors
            raise DataError(f"{where} cannot be read: {err}") from err
    if not raw:
        raise DataError(f"{where} is empty (0 bytes); expected a JPEG, PNG, WebP, BMP or GIF")
    if len(raw) > config.max_bytes:
        raise _too_large(where, len(raw), config)
    return raw, where


def _check_header(image: Image.Image, where: str, config: ImageConfig) -> None:
    """DataError for a format outside ALLOWED_FORMATS or more than max_pixels pixels."""
    if image.format not in ALLOWED_FORMATS:
        raise DataError(
            f"{where} is {image.format}; accepted formats are JPEG, PNG, WebP, BMP and GIF"
        )
    width, height = image.size
    if width * height > config.max_pixels:
        raise DataError(
            f"{where} is {width}×{height} = {width * height} pixels, over max_pixels="
            f"{config.max_pixels} (a decompression-bomb guard); shrink it or raise the limit"
        )


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit grey (modes I, I;16…) as 8-bit grey "L", round(v / 257) clipped to [0, 255]
    (Pillow's own conversion clips at 255), STRIP_PIXELS at a time; other modes as they are.

    >>> grey = Image.fromarray(np.array([[0, 128, 129, 25_700, 65_535]], dtype=np.uint16))
    >>> np.asarray(_eight_bit(grey)).tolist()
    [[0, 0, 1, 100, 255]]
    """
    if image.mode not in _SIXTEEN_BIT_MODES:
        return image
    width, height = image.size
    grey = np.empty((height, width), dtype=np.uint8)  # the only full-size copy
    rows = max(1, STRIP_PIXELS // width)
    for top in range(0, height, rows):
        strip = np.asarray(image.crop((0, top, width, min(top + rows, height))), dtype=np.int64)
        grey[top : top + rows] = (np.clip(strip, 0, 65_535) + 128) // 257  # round(v / 257)
    return Image.frombuffer("L", (width, height), grey, "raw", "L", 0, 1)  # shares `grey`


def _shrunk(image: Image.Image, size: int) -> Image.Image:
    """`image` as RGB, first box-averaged by the largest integer factor that keeps its shorter
    side ≥ REDUCING_GAP · size (grey is shrunk before its RGB copy, other modes after)."""
    factor = min(image.size) // (REDUCING_GAP * size)
    if image.mode != "L":
        image = image if image.mode == "RGB" else image.convert("RGB")
    if factor >= 2:
        image = image.reduce(factor)
    return image if image.mode == "RGB" else image.convert("RGB")


def _decode(raw: bytes, where: str, config: ImageConfig) -> Image.Image:
    """The verified, decoded first frame as RGB, turned upright by its EXIF orientation, and
    shrunk (its shorter side still ≥ 2S) as it is decoded where the format allows."""
    try:  # Image.open reads the header only; it refuses > 2 × MAX_IMAGE_PIXELS by itself
        with Image.open(io.BytesIO(raw)) as probe:
            _check_header(probe, where, config)
            probe.verify()  # checks what the format allows (PNG: chunk CRCs) without decoding
        image = Image.open(io.BytesIO(raw))  # verify() leaves the image unusable: reopen
        if image.format in ("JPEG", "MPO"):
            image.draft(None, (REDUCING_GAP * config.size,) * 2)  # DCT scaling, both sides ≥
        image.load()
        orientation = image.getexif().get(ExifTags.Base.Orientation)  # (PNG: read by load)
        image = _shrunk(_eight_bit(image), config.size)
        transpose = _TRANSPOSE.get(orientation)
        return image if transpose is None else image.transpose(transpose)
    except DataError:
        raise
    except UnidentifiedImageError as err:
        raise DataError(
            f"{where} is not an image Pillow can identify; expected JPEG, PNG, WebP, BMP or GIF"
        ) from err
    except Image.DecompressionBombError as err:
        raise DataError(f"{where}: {err} (Pillow's own limit)") from err
    except Exception as err:  # decoders raise OSError, SyntaxError, ValueError … on bad data
        raise DataError(f"{where} is truncated or corrupt: {err}") from err


def load_image(source: str | Path | bytes, config: ImageConfig | None = None) -> torch.Tensor:
    """A photo as a normalised tensor: centre square, resized, scaled to [0, 1], standardised.

        box = the central min(W, H) × min(W, H) square of the W × H image
        x = bicubic resize of box to S × S      (the same as: shorter side to S, centre crop)
        x̂_c = (x_c / 255 − μ_c) / σ_c           for each channel c ∈ {R, G, B}

    where μ, σ are `config.mean`, `config.std`. Resampling is Pillow's bicubic filter, which
    widens its support when shrinking, so a downscale is antialiased.

    Shapes:
        returns (3, S, S) float32, S = config.size.

    Args:
        source: a file path, or the encoded bytes of an upload.
        config: size, channel statistics and limits; `ImageConfig()` when None.

    Raises:
        DataError: missing or empty file, not an image, a format outside JPEG, PNG, WebP, BMP,
            GIF, a truncated or corrupt file, more than max_bytes bytes or max_pixels pixels.

    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (40, 20), (255, 0, 0)).save(buffer, "PNG")
    >>> x = load_image(buffer.getvalue(), ImageConfig(size=8))
    >>> tuple(x.shape), round(float(x[0, 0, 0]), 3)  # red: (1 − 0.485) / 0.229
    ((3, 8, 8), 2.249)
    """
    config = config or ImageConfig()
    raw, where = _read_source(source, config)
    image = _decode(raw, where, config)
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    image = image.resize(
        (config.size, config.size),
        Image.Resampling.BICUBIC,
        box=(left, top, left + side, top + side),
    )
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8))  # (S, S, 3)
    scaled = pixels.permute(2, 0, 1).to(torch.float32) / 255.0  # x / 255, (3, S, S)
    mean = torch.tensor(config.mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(config.std, dtype=torch.float32).view(3, 1, 1)
    return ((scaled - mean) / std).contiguous()  # x̂, (3, S, S)


def load_images(
    paths: Sequence[str | Path | bytes], config: ImageConfig | None = None
) -> torch.Tensor:
    """`load_image` of each path, stacked: (N, 3, S, S) float32 ((0, 3, S, S) for no path)."""
    config = config or ImageConfig()
    if not paths:
        return torch.empty(0, 3, config.size, config.size)
    return torch.stack([load_image(path, config) for path in paths])  # (N, 3, S, S)


# -- precomputed features ------------------------------------------------------------------------
FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def _check_features(features: Mapping[str, torch.Tensor], where: str) -> None:
    """DataError unless there is ≥ 1 finite floating vector (F,), all with the same F."""
    if not features:
        raise DataError(f"{where} holds no feature vector; expected one (F,) vector per image")
    size = None
    for name, vector in features.items():
        if not isinstance(vector, torch.Tensor) or not vector.is_floating_point():
            kind = vector.dtype if isinstance(vector, torch.Tensor) else type(vector).__name__
            raise DataError(f"{where}: {name!r} must be a float tensor, got {kind}")
        if vector.dim() != 1:
            raise DataError(
                f"{where}: {name!r} must be one vector (F,), got shape {tuple(vector.shape)}"
            )
        size = vector.shape[0] if size is None else size
        if vector.shape[0] != size:
            raise DataError(
                f"{where}: {name!r} has {vector.shape[0]} features, the first image has {size}"
            )
        if not bool(torch.isfinite(vector).all()):
            raise DataError(f"{where}: {name!r} holds NaN or inf")
        if bool((vector.abs() > FLOAT32_MAX).any()):  # would become inf as float32
            raise DataError(
                f"{where}: {name!r} holds values beyond the float32 range (±{FLOAT32_MAX:.4g}); "
                "scale the features"
            )


def _read_names(path: Path, count: int) -> list[str]:
    """The `count` unique image names of `<stem>.txt`, one a line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as err:
        raise DataError(f"{path} not found; a .npy feature file needs its image names there, "
                        "one a line, in row order") from err  # fmt: skip
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text (byte {err.start})") from err
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    if len(names) != count:
        raise DataError(f"{path} lists {len(names)} names but the .npy file has {count} rows")
    seen: set[str] = set()
    for number, name in enumerate(names, start=1):
        if not name or name in seen:
            problem = "is empty" if not name else f"repeats {name!r}"
            raise DataError(f"{path}, line {number} {problem}; names must be unique")
        seen.add(name)
    return names


def _read_npy(path: Path) -> dict[str, torch.Tensor]:
    try:
        matrix = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:  # object arrays, bad header, truncated data
        raise DataError(f"{path} is not a readable .npy array: {err}") from err
    if matrix.ndim != 2:
        raise DataError(f"{path} must hold a matrix (N, F), got shape {matrix.shape}")
    if matrix.dtype.kind != "f":
        raise DataError(f"{path} must hold floats, got dtype {matrix.dtype}")
    names = _read_names(path.with_suffix(".txt"), matrix.shape[0])
    return {name: torch.from_numpy(matrix[row].copy()) for row, name in enumerate(names)}


def load_features(path: str | Path) -> dict[str, torch.Tensor]:
    """Precomputed image features: image name -> float32 vector (F,).

    Args:
        path: a `.safetensors` file (one tensor (F,) per image name), or a `.npy` matrix (N, F)
            with a sibling `<stem>.txt` naming its N rows, one name a line.

    Raises:
        DataError: missing file or names file, an unknown extension, an unreadable file, a
            wrong rank, differing F, a name count unlike N, a repeated or empty name, NaN or
            inf or values beyond float32's range, a non-float dtype.
    """
    path = Path(path)
    if path.suffix not in (".safetensors", ".npy"):
        raise DataError(f"{path}: feature files must end in .safetensors or .npy")
    if not path.is_file():
        raise DataError(f"feature file not found: {path}")
    if path.suffix == ".npy":
        features = _read_npy(path)
    else:
        try:
            features = load_file(path)
        except Exception as err:  # SafetensorError, or an OSError for a bad header
            raise DataError(f"{path} is not a readable .safetensors file: {err}") from err
    _check_features(features, str(path))
    return {name: vector.to(torch.float32) for name, vector in features.items()}


def save_features(features: Mapping[str, torch.Tensor], path: str | Path) -> Path:
    """Write image name -> vector (F,) as `.safetensors` (atomically); returns the path.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = save_features({"a.jpg": torch.ones(4)}, f"{folder}/features.safetensors")
    >>> load_features(path)["a.jpg"].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise DataError(f"{path}: save_features writes .safetensors files; use that extension")
    _check_features(features, "features to save")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    save_file({name: vector.detach().cpu().clone() for name, vector in features.items()}, partial)
    os.replace(partial, path)  # a crash mid-write never leaves a half file under `path`
    return path


__all__ = [
    "ALLOWED_FORMATS",
    "ImageConfig",
    "load_features",
    "load_image",
    "load_images",
    "save_features",
]
