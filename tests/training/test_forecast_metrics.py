"""MAE, RMSE, MASE and the naive / seasonal-naive forecasts on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import DataError, ShapeError
from rnnkit.training.forecast_metrics import (
    compare_with_baselines,
    mae,
    mase,
    mase_scale,
    naive_forecast,
    rmse,
    seasonal_naive_forecast,
)

TRAIN = [10.0, 20.0, 30.0, 12.0, 22.0, 32.0]  # season m = 3, level +2 per season


def test_mae_and_rmse_by_hand() -> None:
    forecast, truth = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 1.0, 8.0]  # errors 1, 0, 2, 4
    assert mae(forecast, truth) == pytest.approx(7 / 4)
    assert rmse(forecast, truth) == pytest.approx(np.sqrt((1 + 0 + 4 + 16) / 4))


def test_mase_scale_is_the_in_sample_seasonal_naive_mae() -> None:
    assert mase_scale(TRAIN, season=3).tolist() == [2.0]  # |12−10|, |22−20|, |32−30|
    assert mase_scale(TRAIN, season=1).tolist() == [pytest.approx((10 + 10 + 18 + 10 + 10) / 5)]


def test_mase_by_hand_and_per_feature_average() -> None:
    assert mase([14.0, 25.0], [14.0, 24.0], TRAIN, season=3) == pytest.approx(0.5 / 2.0)
    train = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 50.0]])  # scales 1 and 20
    value = mase([[4.0, 70.0]], [[6.0, 80.0]], train)  # |6−4|/1 = 2, |80−70|/20 = 0.5
    assert value == pytest.approx((2 + 0.5) / 2)


def test_naive_and_seasonal_naive_forecasts() -> None:
    assert naive_forecast(TRAIN, 2).ravel().tolist() == [32.0, 32.0]
    assert seasonal_naive_forecast(TRAIN, 5, season=3).ravel().tolist() == [12, 22, 32, 12, 22]


def test_compare_scores_the_model_and_both_baselines() -> None:
    truth = [14.0, 24.0, 34.0]
    table = compare_with_baselines([14.0, 24.0, 34.0], truth, TRAIN, season=3)
    assert table["model"].mase == 0.0
    assert table["seasonal_naive"].mae == pytest.approx(2.0)  # 12, 22, 32 vs truth
    assert table["seasonal_naive"].mase == pytest.approx(1.0)
    assert table["naive"].mae == pytest.approx((18 + 8 + 2) / 3)
    assert set(table["naive"].as_dict("naive_")) == {"naive_mae", "naive_rmse", "naive_mase"}


def test_bad_inputs_raise() -> None:
    with pytest.raises(ShapeError, match="same shape"):
        mae([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="longer than the season m = 6"):
        mase_scale(TRAIN, season=6)
    with pytest.raises(DataError, match="constant"):
        mase([1.0], [2.0], [5.0, 5.0, 5.0])
