"""Forecaster: streaming step by step equals the windowed forward; rollout; the scaler."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models import Forecaster, ForecasterConfig


def _model(**options: object) -> Forecaster:
    model = Forecaster(ForecasterConfig(hidden_size=6, **options)).double()
    with torch.no_grad():
        model.mean.copy_(torch.full_like(model.mean, 3.0))
        model.scale.copy_(torch.full_like(model.scale, 2.0))
    return model


@pytest.mark.parametrize(
    "options",
    [{"cell": "lstm"}, {"cell": "gru"}, {"cell": "lstm", "num_layers": 2, "num_features": 3},
     {"cell": "gru", "residual": False, "num_features": 2}],
)  # fmt: skip
def test_streaming_steps_equal_the_windowed_forward(options: dict) -> None:
    model = _model(**options)
    x = torch.randn(4, 9, model.config.num_features, dtype=torch.float64)  # (B, T, F)
    windowed, final = model(x)  # (B, T, F)
    state, streamed = None, []
    for t in range(x.shape[1]):
        prediction, state = model.step(x[:, t], state)  # (B, F)
        streamed.append(prediction)
    torch.testing.assert_close(torch.stack(streamed, 1), windowed, atol=1e-6, rtol=0)
    for carried, whole in zip(state, final, strict=True):  # h (and c) after step T
        torch.testing.assert_close(carried, whole, atol=1e-6, rtol=0)


def test_residual_prediction_is_the_input_plus_the_scaled_change() -> None:
    model = _model()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(0.5)  # ẑ_{t+1} = z_t + 0.5, so ŷ_{t+1} = x_t + 0.5 σ
    predictions, _ = model(torch.tensor([[[1.0], [7.0]]], dtype=torch.float64))
    assert predictions.ravel().tolist() == [2.0, 8.0]


def test_rollout_feeds_each_forecast_back() -> None:
    model = _model(cell="gru", num_features=2)
    history = torch.randn(5, 2, dtype=torch.float64)  # (n, F)
    forecast = model.rollout(history, 4)  # (k, F)
    predictions, state = model(history[None])
    expected = [predictions[0, -1]]
    for _ in range(3):
        step, state = model.step(expected[-1][None], state)
        expected.append(step[0])
    assert forecast.shape == (4, 2)
    torch.testing.assert_close(forecast, torch.stack(expected), atol=1e-12, rtol=0)
    batched = model.rollout(history.expand(3, 5, 2), 4)  # (B, k, F)
    torch.testing.assert_close(batched[2], forecast, atol=1e-12, rtol=0)


def test_scaler_uses_the_values_given_and_lives_in_the_state_dict() -> None:
    model = Forecaster(ForecasterConfig(num_features=2, hidden_size=3))
    model.fit_scaler(torch.tensor([[1.0, 4.0], [3.0, 4.0]]))
    assert model.mean.tolist() == [2.0, 4.0]
    assert model.scale.tolist() == [1.0, 1.0]  # constant feature: σ = 1, not 0
    state = model.state_dict()
    assert state["mean"].tolist() == [2.0, 4.0]
    fresh = Forecaster(ForecasterConfig(num_features=2, hidden_size=3))
    fresh.load_state_dict(state)
    assert fresh.mean.tolist() == [2.0, 4.0]
    z = torch.tensor([[0.5, -1.0]])
    torch.testing.assert_close(model.normalize(model.denormalize(z)), z)


def test_bad_shapes_and_configs_raise() -> None:
    model = Forecaster(ForecasterConfig(num_features=2, hidden_size=3))
    with pytest.raises(ShapeError, match=r"\(B, T, F\) with F = 2; got \(4, 7, 3\)"):
        model(torch.zeros(4, 7, 3))
    with pytest.raises(ShapeError, match=r"\(B, F\) with F = 2; got \(4, 1, 2\)"):
        model.step(torch.zeros(4, 1, 2))
    with pytest.raises(ShapeError, match=r"\(N, 2\)"):
        model.fit_scaler(torch.zeros(5))
    with pytest.raises(ConfigError, match="horizon"):
        model.rollout(torch.zeros(3, 2), 0)
    with pytest.raises(ConfigError, match="hidden_size"):
        ForecasterConfig(hidden_size=0)
