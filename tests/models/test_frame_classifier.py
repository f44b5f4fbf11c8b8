"""FrameClassifier: the scaler, padding ignored, pooling, gradcheck, shape errors, its config."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.models.frame_classifier import FrameClassifier, FrameClassifierConfig, pad_frames
from rnnkit.models.many_to_one import pool_states

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(**overrides: object) -> FrameClassifier:
    torch.manual_seed(0)
    values = {"num_features": 3, "num_classes": 4, "hidden_size": 5, **overrides}
    return FrameClassifier(FrameClassifierConfig(**values))  # type: ignore[arg-type]


def test_fit_scaler_takes_the_population_mean_and_sd_and_keeps_a_constant_feature() -> None:
    model = _model()
    frames = torch.tensor([[1.0, 2.0, 5.0], [3.0, 6.0, 5.0]])  # (N, F)
    model.fit_scaler(frames)
    assert model.mean.tolist() == [2.0, 4.0, 5.0]
    assert model.scale.tolist() == [1.0, 2.0, 1.0]  # σ = 0 of the constant feature stays 1
    x = frames[None]  # (1, 2, 3)
    z = model.standardize(x, torch.tensor([2]))
    assert z[0].tolist() == [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]
    with pytest.raises(ShapeError, match=r"\(N, 3\)"):
        model.fit_scaler(torch.ones(4, 2))


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_changes_nothing_and_equals_the_unpadded_sequence(
    pooling: str, bidirectional: bool
) -> None:
    model = _model(pooling=pooling, bidirectional=bidirectional).eval()
    model.fit_scaler(torch.randn(50, 3) * 2 + 1)
    short = torch.randn(1, 4, 3)
    padded = torch.cat([short, torch.full((1, 3, 3), 99.0)], dim=1)  # junk past len
    alone = model(short, torch.tensor([4]))
    torch.testing.assert_close(model(padded, torch.tensor([4])), alone)
    # the same as the recurrent stack on the standardised frames, pooled by pool_states
    outputs, _ = model.recurrent((short - model.mean) / model.scale)
    pooled = pool_states(outputs, torch.tensor([4]), pooling, bidirectional=bidirectional)
    torch.testing.assert_close(alone, model.output(pooled))


def test_gradcheck_float64() -> None:
    model = _model(bidirectional=True, cell="gru").double()
    model.fit_scaler(torch.randn(20, 3, dtype=torch.float64))
    frames = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])
    assert torch.autograd.gradcheck(lambda x: model(x, lengths), (frames,), eps=1e-6, atol=1e-6)


def test_predict_proba_rows_sum_to_one_and_training_mode_is_kept() -> None:
    model = _model(dropout=0.5).train()
    probs = model.predict_proba(torch.randn(3, 5, 3), torch.tensor([5, 1, 3]))
    assert probs.shape == (3, 4)
    torch.testing.assert_close(probs.sum(-1), torch.ones(3))
    assert model.training


def test_bad_input_is_a_clear_error() -> None:
    model = _model()
    with pytest.raises(ShapeError, match=r"frames must be \(B, T, 3\) floats"):
        model(torch.randn(2, 4, 5), torch.tensor([4, 4]))
    with pytest.raises(ShapeError, match=r"frames must be"):
        model(torch.ones(2, 4, 3, dtype=torch.int64), torch.tensor([4, 4]))
    with pytest.raises(ShapeError):
        model(torch.randn(2, 4, 3), torch.tensor([5, 1]))  # a length past T
    with pytest.raises(ShapeError, match="num_features"):
        FrameClassifier(FrameClassifierConfig(num_classes=3))  # F not yet known
    with pytest.raises(ConfigError, match="hidden_size must be a positive integer, got 0"):
        FrameClassifierConfig(num_features=3, hidden_size=0)
    with pytest.raises(ConfigError, match="num_classes"):
        FrameClassifierConfig(num_features=3, num_classes=1)


def test_pad_frames() -> None:
    frames, lengths = pad_frames([torch.ones(2, 3), torch.full((4, 3), 2.0)], 3)
    assert frames.shape == (2, 4, 3)
    assert lengths.tolist() == [2, 4]
    assert frames[0, 2:].abs().sum() == 0
    with pytest.raises(DataError, match=r"series 1 must be \(T, 3\)"):
        pad_frames([torch.ones(2, 3), torch.ones(2, 2)], 3)
    with pytest.raises(DataError, match="NaN"):
        pad_frames([torch.tensor([[float("nan"), 0.0, 0.0]])], 3)
    with pytest.raises(DataError, match="at least one"):
        pad_frames([], 3)
