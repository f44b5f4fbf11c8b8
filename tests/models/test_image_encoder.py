"""ImageEncoder and FeatureInput: shapes, the pooling equation, BatchNorm modes, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.image_encoder import (
    FeatureInput,
    FeatureInputConfig,
    ImageEncoder,
    ImageEncoderConfig,
)

pytestmark = pytest.mark.usefixtures("float64", "one_thread")


def _encoder(**overrides: object) -> ImageEncoder:
    sizes: dict = {"channels": (3, 4), "image_size": 8, "feature_size": 5}
    return ImageEncoder(ImageEncoderConfig(**{**sizes, **overrides}))


@pytest.mark.parametrize("convs_per_stage", [1, 2])
def test_output_shape_and_layer_count(convs_per_stage: int) -> None:
    encoder = _encoder(convs_per_stage=convs_per_stage, channels=(2, 3, 4))
    v = encoder(torch.randn(3, 3, 8, 8))
    assert v.shape == (3, 5)
    convs = [m for m in encoder.features if isinstance(m, nn.Conv2d)]
    pools = [m for m in encoder.features if isinstance(m, nn.MaxPool2d)]
    norms = [m for m in encoder.features if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == len(norms) == 3 * convs_per_stage
    assert len(pools) == 3
    assert all(conv.kernel_size == (3, 3) and conv.bias is None for conv in convs)
    assert [conv.out_channels for conv in convs][-1] == 4


def test_global_average_pooling_then_projection() -> None:
    """v = W_f g + b_f with g the mean of the last feature maps over their H'·W' positions."""
    encoder = _encoder().eval()
    images = torch.randn(2, 3, 8, 8)
    maps = encoder.features(images)  # (B, 4, 2, 2): two 2×2 pools of an 8×8 image
    assert maps.shape == (2, 4, 2, 2)
    pooled = maps.sum(dim=(2, 3)) / 4  # g = (1 / H'W') Σ z
    expected = pooled @ encoder.project.weight.T + encoder.project.bias
    torch.testing.assert_close(encoder(images), expected, rtol=0, atol=1e-12)


def test_batchnorm_in_eval_mode_is_deterministic_and_per_image() -> None:
    encoder = _encoder()
    images = torch.randn(4, 3, 8, 8)
    encoder.train()
    alone_train = encoder(images[:1])
    together_train = encoder(images)[:1]
    assert (alone_train - together_train).abs().max() > 1e-3  # batch statistics in training
    encoder.eval()
    first = encoder(images)
    torch.testing.assert_close(encoder(images), first, rtol=0, atol=0)
    torch.testing.assert_close(encoder(images[:1]), first[:1], rtol=0, atol=1e-12)


def test_training_updates_running_statistics_and_eval_does_not() -> None:
    encoder = _encoder()
    norm = encoder.features[1]
    assert isinstance(norm, nn.BatchNorm2d)
    before = norm.running_mean.clone()
    encoder.eval()(torch.randn(2, 3, 8, 8))
    torch.testing.assert_close(norm.running_mean, before, rtol=0, atol=0)
    encoder.train()(torch.randn(2, 3, 8, 8) + 3.0)
    assert (norm.running_mean - before).abs().max() > 1e-3


@pytest.mark.parametrize(
    "images",
    [
        torch.randn(3, 8, 8),  # no batch dimension
        torch.randn(2, 1, 8, 8),  # grey, not RGB
        torch.randn(2, 3, 16, 16),  # not resized to image_size
        torch.randn(2, 3, 8, 7),  # not square
        torch.ones(2, 3, 8, 8, dtype=torch.long),  # not float
    ],
)
def test_bad_images_raise_shape_error(images: torch.Tensor) -> None:
    with pytest.raises(ShapeError, match="got"):
        _encoder()(images)


def test_non_tensor_input_is_named() -> None:
    with pytest.raises(ShapeError, match="got list"):
        _encoder()([[1.0]])


@pytest.mark.parametrize(
    "overrides",
    [
        {"channels": ()},
        {"channels": (4, 0)},
        {"image_size": 2},  # two pools need at least 4 pixels
        {"feature_size": 0},
        {"convs_per_stage": 0},
        {"dropout": 1.0},
    ],
)
def test_bad_image_config_raises(overrides: dict) -> None:
    with pytest.raises(ConfigError):
        _encoder(**overrides)


def test_feature_input_is_a_linear_projection_with_dropout_in_training() -> None:
    project = FeatureInput(FeatureInputConfig(input_size=6, feature_size=4, dropout=0.5))
    features = torch.randn(3, 6)
    v = project.eval()(features)
    assert v.shape == (3, 4)
    expected = features @ project.project.weight.T + project.project.bias  # W_f u + b_f
    torch.testing.assert_close(v, expected, rtol=0, atol=1e-12)
    dropped = project.train()(torch.ones(50, 6))
    assert dropped.unique(dim=0).shape[0] > 1  # different units zeroed in different rows


@pytest.mark.parametrize(
    "features",
    [torch.randn(3, 5), torch.randn(3, 6, 1), torch.ones(3, 6, dtype=torch.long), "features"],
)
def test_feature_input_rejects_bad_features(features: object) -> None:
    project = FeatureInput(FeatureInputConfig(input_size=6, feature_size=4))
    with pytest.raises(ShapeError, match="got"):
        project(features)


@pytest.mark.parametrize("overrides", [{"input_size": 0}, {"feature_size": -1}, {"dropout": -0.1}])
def test_bad_feature_config_raises(overrides: dict) -> None:
    with pytest.raises(ConfigError):
        FeatureInputConfig(**overrides)
